// report_export_words_test.cpp: the customer's export speaks to a person: the policy's labels
// in the language asked for, refusals in plain words, requests for data the customer does not
// have never listed as theirs, one row per access, one date style, and a template a controller
// can replace.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "consentry/report.hpp"
#include "support/report_sample.hpp"

using namespace consentry;
using consentry::test::at;
using consentry::test::labelled_report;
using Json = nlohmann::json;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

/// section gives the HTML between the heading with `id` and the next section's end.
std::string section(const std::string& html, std::string_view id) {
  const auto start = html.find("<h2 id=\"" + std::string(id) + "\">");
  REQUIRE(start != std::string::npos);
  const auto end = html.find("</section>", start);
  REQUIRE(end != std::string::npos);
  return html.substr(start, end - start);
}

/// count counts the occurrences of `needle`.
std::size_t count(const std::string& haystack, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size()))
    ++n;
  return n;
}

/// text_of drops the tags of an HTML fragment, leaving what a reader sees (attributes dropped too).
std::string text_of(const std::string& html) {
  std::string out;
  bool in_tag = false;
  for (char c : html) {
    if (c == '<') in_tag = true;
    if (!in_tag) out += c;
    if (c == '>') in_tag = false;
  }
  return out;
}

AccessRecord entry(std::int64_t seq, const char* accessor, const char* purpose, AuditAction action,
                   bool allowed, const char* reason, std::vector<std::string> fields) {
  return AccessRecord{seq,    at("2026-01-02T00:00:00Z"), accessor, purpose, action, allowed,
                      reason, std::move(fields)};
}

}  // namespace

TEST_CASE("the HTML export names fields, purposes, accessors and sources by their labels, never by id") {
  const std::string html = export_html(labelled_report());
  const std::string text = text_of(html);
  for (const char* label :
       {"Email address", "Date of birth", "Running your account", "Offers by email", "Our support team",
        "The newsletter tool", "A credit reference agency", "The sign-up form", "Predictions about you"})
    CHECK_MESSAGE(contains(text, label), label);
  for (const char* id : {"birth_date", "marketing.email", "email-campaigns", "support-desk", "credit-bureau",
                         "web-signup", "expecting_child", "full_name", "credit_score"})
    CHECK_MESSAGE(!contains(html, id), id);
  // Descriptions go beside the label they describe.
  CHECK(contains(html, "Email address<span class=\"note\">Where we send your receipts</span>"));
  CHECK(contains(html, "<td data-label=\"What it is for\">So that your account works</td>"));
  // A field without a label reads as its id with spaces, never with underscores.
  CHECK(contains(html, "<th scope=\"row\">note</th>"));
  // A label is text from the policy: escaped like any value.
  CHECK(contains(html, "Comment &lt;b&gt;from you&lt;/b&gt;"));
  CHECK_FALSE(contains(html, "<b>from you</b>"));
}

TEST_CASE(
    "--lang picks the labels' language, falling back to the policy's default, then to the untranslated "
    "text") {
  ExportOptions german;
  german.language = "de";
  const std::string html = export_html(labelled_report(), german);
  CHECK(contains(html, "Geburtsdatum"));
  CHECK(contains(html, "E-Mail-Adresse"));
  CHECK(contains(html, "Angebote per E-Mail"));
  CHECK(contains(html, "Das Newsletter-Werkzeug"));
  CHECK_FALSE(contains(html, "Date of birth"));
  CHECK(contains(html, "Credit score"));  // no German label: the untranslated one
  // A regional tag finds its language; an unknown language falls back to the default.
  german.language = "de-AT";
  CHECK(contains(export_html(labelled_report(), german), "Geburtsdatum"));
  ExportOptions french;
  french.language = "fr";
  const std::string fallback = export_html(labelled_report(), french);
  CHECK(contains(fallback, "Date of birth"));
  CHECK(contains(fallback, "The newsletter tool"));
  // The built-in template's own words are English, and it says so.
  CHECK(html.starts_with("<!DOCTYPE html>\n"));
  CHECK(contains(html, "<html lang=\"en\">"));
}

TEST_CASE("a refusal is told in plain words for every reason, never as a reason code") {
  for (int r = static_cast<int>(deny_reason::no_consent);
       r <= static_cast<int>(deny_reason::consent_outdated); ++r) {
    const auto reason = static_cast<deny_reason>(r);
    const std::string code(to_string(reason));
    CAPTURE(code);
    SubjectReport report = labelled_report();
    report.accesses = {entry(1, "email-campaigns", "marketing.email", AuditAction::access_denied, false,
                             code.c_str(), {"email"})};
    const std::string html = export_html(report);
    const std::string accesses = section(html, "accesses");
    CHECK(contains(accesses, "class=\"refused\">Refused, because "));
    // Codes of one plain word ("withdrawn") may be part of a sentence, never on their own.
    CHECK_FALSE(contains(accesses, "(" + code + ")"));
    if (code.find('_') != std::string::npos) CHECK_FALSE(contains(accesses, code));
    CHECK(contains(accesses, "The newsletter tool"));
    CHECK(contains(accesses, "Offers by email"));
  }
  SubjectReport report = labelled_report();
  report.accesses = {entry(1, "email-campaigns", "marketing.email", AuditAction::access_denied, false,
                           "no_consent", {"email"})};
  CHECK(contains(export_html(report), "Refused, because you had not agreed to this use."));
  report.accesses[0].reason = "consent_outdated";
  CHECK(contains(export_html(report), "now covers more than when you agreed"));
  report.accesses[0].reason = "integrity";
  CHECK(contains(export_html(report), "failed our check against tampering"));
}

TEST_CASE("data the customer does not have is never listed as theirs") {
  SubjectReport report = labelled_report();
  report.accesses = {
      // A field the policy does not know at all.
      entry(1, "support-desk", "service", AuditAction::access_denied, false, "unknown_field", {"shoe_size"}),
      // A field the policy knows, but the customer has no value for.
      entry(2, "support-desk", "service", AuditAction::field_read, true, "", {"phone:absent"}),
  };
  report.glossary.fields["phone"] = {test::wording("Phone number"), {}};
  const std::string accesses = section(export_html(report), "accesses");
  CHECK_FALSE(contains(accesses, "shoe"));
  CHECK(contains(accesses, "Refused, because we do not keep such data."));
  CHECK(contains(accesses, "Asked for information we do not keep about anyone."));
  CHECK(contains(accesses, "Looked for data we do not hold about you"));
  CHECK(contains(accesses, "Also asked for Phone number, which we do not hold about you."));
  CHECK_FALSE(contains(accesses, "Read your data"));
}

TEST_CASE("entries that name a channel or erasure counts rather than fields list no data") {
  SubjectReport report = labelled_report();
  report.accesses = {
      entry(1, "email-campaigns", "marketing.email", AuditAction::contact_made, true, "", {"sms"}),
      entry(2, "jane.doe", "", AuditAction::erasure, true, "", {"values=3", "fields=3"}),
      entry(3, "email-campaigns", "marketing.email", AuditAction::access_denied, false, "contact_limit",
            {"sms"})};
  const std::string accesses = section(export_html(report), "accesses");
  CHECK(contains(accesses, "Contacted you"));
  CHECK(contains(accesses, "Refused, because it would have contacted you more often than allowed."));
  CHECK_FALSE(contains(accesses, "Asked for information"));
  CHECK_FALSE(contains(accesses, "values=3"));
  CHECK_FALSE(contains(accesses, "Also asked for"));
}

TEST_CASE("a view opened and then read is one row, and a view opened and never read says so") {
  SubjectReport report = labelled_report();
  report.accesses = {
      entry(1, "support-desk", "service", AuditAction::view_opened, true, "", {}),
      entry(2, "crm-import", "", AuditAction::value_written, true, "", {"email"}),  // between them
      entry(3, "support-desk", "service", AuditAction::field_read, true, "", {"email:clear"}),
      entry(4, "support-desk", "service", AuditAction::view_opened, true, "", {}),
      entry(5, "email-campaigns", "marketing.email", AuditAction::view_opened, true, "", {}),
      entry(6, "email-campaigns", "marketing.email", AuditAction::access_denied, false, "withdrawn",
            {"email"}),
  };
  const std::string accesses = section(export_html(report), "accesses");
  CHECK(count(accesses, "<tr><td data-label=\"When\">") ==
        4);  // 6 entries: two opened-then-used views merged
  CHECK(count(accesses, "Read your data") == 1);
  CHECK(count(accesses, "Opened your record but read nothing") == 1);
  CHECK(contains(accesses, "Refused, because you had withdrawn your consent to this use."));
  CHECK(contains(accesses, "Email address (as it is)"));
  // Someone who is not one of the policy's accessors (staff at the command line) acts for the
  // controller: the customer is not shown a login name.
  report.accesses = {entry(1, "jane.doe", "", AuditAction::staff_read, true, "consent", {})};
  const std::string staff = section(export_html(report), "accesses");
  CHECK(contains(staff, "<td data-label=\"Who\">Acme Retail &amp; Söhne Ltd</td>"));
  CHECK_FALSE(contains(staff, "jane.doe"));
}

TEST_CASE("every date reads in one style: dates of birth and instants in words, booleans as yes or no") {
  const std::string html = export_html(labelled_report());
  const std::string text = text_of(html);
  CHECK(contains(html, "<td class=\"value\" data-label=\"What we hold\">2 April 1990</td>"));
  CHECK_FALSE(contains(text, "1990-04-02"));
  CHECK(
      contains(html, "<td class=\"value\" data-label=\"What we hold\">yes</td>"));  // expecting_child: "true"
  // No machine-readable time is shown as text; each sits in a <time> element's attribute.
  for (const char* iso : {"2025-05-01", "2026-01-01", "T10:00", "Z<"})
    CHECK_MESSAGE(!contains(text, iso), iso);
  CHECK(contains(html, "<time datetime=\"2025-05-01T10:00:00Z\">1 May 2025, 10:00 UTC</time>"));
}

TEST_CASE("a controller's template renders the same view, its values escaped by the engine") {
  const auto tmpl = ExportTemplate::parse(
      "<p lang=\"{{language}}\">{{#fields}}[{{label}}={{value}}]{{/fields}}</p>{{#accesses}}({{who}}: "
      "{{what}}){{/accesses}}",
      "mine.mustache");
  REQUIRE(tmpl);
  ExportOptions options;
  options.html = &*tmpl;
  options.language = "de";
  const std::string html = export_html(labelled_report(), options);
  CHECK(html.starts_with("<p lang=\"de\">"));
  CHECK(contains(html, "[Geburtsdatum=2 April 1990]"));
  CHECK(contains(html, "[note=&lt;script&gt;alert(1)&lt;/script&gt;]"));
  CHECK_FALSE(contains(html, "<script>"));
  CHECK(contains(html, "(Das Newsletter-Werkzeug: Refused, because you had not agreed to this use.)"));
}

TEST_CASE("a malformed template is refused naming its origin, before anything is rendered") {
  for (const char* bad : {"{{#fields}}no end", "{{/fields}}", "{{=<% %>=}}<%#x%>{{/x}}", "{{#a}}{{/b}}"}) {
    CAPTURE(bad);
    const auto tmpl = ExportTemplate::parse(bad, "mine.mustache");
    REQUIRE_FALSE(tmpl);
    CHECK(tmpl.err().code == errc::bad_input);
    CHECK(tmpl.err().message.starts_with("mine.mustache: not a valid template"));
  }
  CHECK(ExportTemplate::parse(ExportTemplate::builtin().text()));
}

TEST_CASE("the JSON export keeps ids and adds labels, the language and refusals in words") {
  ExportOptions german;
  german.language = "de";
  const Json j = Json::parse(export_json(labelled_report(), german));
  CHECK(j.at("language") == "de");
  bool found = false;
  for (const Json& f : j.at("fields")) {
    if (f.at("name") != "birth_date") continue;
    found = true;
    CHECK(f.at("label") == "Geburtsdatum");
    CHECK(f.at("value") == "1990-04-02");  // the value as stored, for machines
    CHECK(f.at("source") == "web-signup");
    CHECK(f.at("source_label") == "The sign-up form");
  }
  CHECK(found);
  const Json& purposes = j.at("purposes");
  CHECK(purposes[1].at("id") == "marketing.email");
  CHECK(purposes[1].at("label") == "Angebote per E-Mail");
  const Json& refused = j.at("accesses")[4];
  CHECK(refused.at("accessor") == "email-campaigns");
  CHECK(refused.at("accessor_label") == "Das Newsletter-Werkzeug");
  CHECK(refused.at("reason") == "no_consent");
  CHECK(refused.at("refusal") == "you had not agreed to this use");
  CHECK(j.at("consent_history")[0].at("purpose_label") == "Angebote per E-Mail");
}

TEST_CASE("the CSV export ends each row with the field's label") {
  ExportOptions german;
  german.language = "de";
  const std::string csv = export_csv(labelled_report(), german);
  CHECK(contains(csv, ",uses,label\r\n"));
  CHECK(contains(csv,
                 "service=clear(contract);analytics=generalise:year(legitimate_interest),Geburtsdatum\r\n"));
}
