// report_render_test.cpp: the customer export (JSON, HTML, CSV), the staff audit and the
// inventory rendered from hand-built reports with hostile, non-ASCII and canary values.
#include <doctest/doctest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "consentry/report.hpp"
#include "support/report_sample.hpp"

using namespace consentry;
using consentry::test::at;
using consentry::test::sample_inventory;
using consentry::test::sample_report;
using Json = nlohmann::json;

namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

const Json& field_named(const Json& fields, std::string_view name) {
  for (const auto& f : fields)
    if (f.at("name") == name) return f;
  FAIL("no field " << name);
  return fields;
}

// tags lists every markup tag of an HTML page ("<a href=...>", "</td>", "<!DOCTYPE html>"). Text
// never holds a raw '<' once escaped, so this finds all the markup there is.
std::vector<std::string> tags(const std::string& html) {
  std::vector<std::string> out;
  for (std::size_t i = html.find('<'); i != std::string::npos; i = html.find('<', i + 1)) {
    const std::size_t end = html.find('>', i);
    REQUIRE(end != std::string::npos);
    out.push_back(html.substr(i, end - i + 1));
  }
  return out;
}

// parse_csv reads RFC 4180 text (CRLF records, quoted cells with doubled quotes).
std::vector<std::vector<std::string>> parse_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        cell += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      REQUIRE(cell.empty());  // a quote only opens a cell
      quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\r') {
      REQUIRE(i + 1 < text.size());
      REQUIRE(text[i + 1] == '\n');  // records end in CRLF, never a bare CR
      ++i;
      row.push_back(std::move(cell));
      cell.clear();
      rows.push_back(std::move(row));
      row.clear();
    } else {
      REQUIRE(c != '\n');  // a bare LF outside quotes would split a record
      cell += c;
    }
  }
  REQUIRE_FALSE(quoted);
  REQUIRE(cell.empty());
  REQUIRE(row.empty());  // the last record ends in CRLF too
  return rows;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// canary_report is the sample with every value replaced by a distinct canary.
SubjectReport canary_report() {
  SubjectReport r = sample_report();
  int n = 0;
  for (auto& f : r.fields) f.value = "CANARY-VALUE-" + std::to_string(++n) + "-zq7";
  return r;
}

}  // namespace

TEST_CASE("export_json round-trips every member the importer and the customer need") {
  const SubjectReport r = sample_report();
  const Json j = Json::parse(export_json(r));

  CHECK(j.at("consentry_export") == kExportFormatVersion);
  CHECK(j.at("customer") == r.customer);
  CHECK(j.at("generated_at") == "2026-01-01T00:00:00Z");
  CHECK(j.at("controller").at("name") == "Acme Retail & Söhne Ltd");
  CHECK(j.at("controller").at("contact") == "privacy@acme.example");
  CHECK(j.at("your_rights").at("contact") == "privacy@acme.example");
  for (const char* right : {"withdraw", "object", "erasure"}) {
    const std::string sentence = j.at("your_rights").at(right);
    CHECK(contains(sentence, "Acme Retail & Söhne Ltd"));
    CHECK(contains(sentence, "privacy@acme.example"));
  }

  REQUIRE(j.at("fields").size() == r.fields.size());
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    const Json& f = j.at("fields")[i];
    CHECK(f.at("name") == r.fields[i].field);
    CHECK(f.at("value") == r.fields[i].value);  // hostile, multi-line and non-ASCII values intact
    CHECK(f.at("source") == r.fields[i].source);
    CHECK(f.at("collected_at") == format_timestamp(r.fields[i].collected_at));
  }
  const Json& email = field_named(j.at("fields"), "email");
  CHECK(email.at("type") == "email");
  CHECK(email.at("category") == "contact");
  CHECK(email.at("retention") == "P3Y");
  CHECK(email.at("retained_until") == "2028-05-01T10:00:00Z");
  CHECK(email.at("past_retention") == false);
  REQUIRE(email.at("uses").size() == 3);
  CHECK(email.at("uses")[2] == Json{{"purpose", "analytics"},
                                    {"form", "pseudonym"},
                                    {"basis", "legitimate_interest"},
                                    {"automated_decision", false},
                                    {"purpose_label", "analytics"}});  // no label: the id
  const Json& name = field_named(j.at("fields"), "full_name");
  CHECK(name.at("retention").is_null());
  CHECK(name.at("retained_until").is_null());
  CHECK(name.at("value") == test::kUnicodeName);
  const Json& score = field_named(j.at("fields"), "credit_score");
  CHECK(score.at("past_retention") == true);
  CHECK(score.at("third_party") == true);
  const Json& child = field_named(j.at("fields"), "expecting_child");
  CHECK(child.at("inferred") == true);
  CHECK(child.at("derived_from") == Json::array({"birth_date"}));
  CHECK(field_named(j.at("fields"), "note").at("uses")[0].at("form") == "mask:last4");

  REQUIRE(j.at("purposes").size() == 4);
  CHECK(j.at("purposes")[1] == Json{{"id", "marketing.email"},
                                    {"description", "Offers by e-mail"},
                                    {"basis", "consent"},
                                    {"automated_decision", false},
                                    {"status", "granted"},
                                    {"since", "2025-05-01T10:05:00Z"},
                                    {"expires_at", "2027-05-01T10:05:00Z"},
                                    {"label", "marketing.email"}});
  CHECK(j.at("purposes")[0].at("since").is_null());
  CHECK(j.at("purposes")[3].at("status") == "withdrawn");
  CHECK(j.at("automated_decisions") == Json::array({"profiling"}));

  REQUIRE(j.at("consent_history").size() == 3);
  CHECK(j.at("consent_history")[2] == Json{{"seq", 3},
                                           {"purpose", "profiling"},
                                           {"purpose_label", "profiling"},
                                           {"action", "withdraw"},
                                           {"at", "2025-09-01T00:00:00Z"},
                                           {"channel", "store"},
                                           {"notice", "privacy-2025-03"},
                                           {"policy_version", 1},
                                           {"expires_at", nullptr}});
  REQUIRE(j.at("accesses").size() == 5);
  CHECK(j.at("accesses")[4] == Json{{"seq", 15},
                                    {"at", "2025-10-01T08:00:00Z"},
                                    {"accessor", "email-campaigns"},
                                    {"purpose", "profiling"},
                                    {"action", "access_denied"},
                                    {"allowed", false},
                                    {"reason", "no_consent"},
                                    {"fields", {"expecting_child"}},
                                    {"accessor_label", "email-campaigns"},
                                    {"purpose_label", "profiling"},
                                    {"refusal", "you had not agreed to this use"}});
  CHECK(j.at("accesses")[3].at("fields") == Json::array({"email:clear", "note:mask:last4"}));
}

TEST_CASE("export_json lists contacts and contact preferences after the accesses, null where unused") {
  const SubjectReport r = sample_report();
  const Json j = Json::parse(export_json(r));

  // The two members follow "accesses", in that order.
  std::vector<std::string> members;
  const auto ordered = nlohmann::ordered_json::parse(export_json(r));  // kept: items() of a temporary dangles
  for (const auto& [key, value] : ordered.items()) members.push_back(key);
  const auto accesses = std::find(members.begin(), members.end(), "accesses");
  REQUIRE(std::distance(accesses, members.end()) >= 3);
  CHECK(*(accesses + 1) == "contacts");
  CHECK(*(accesses + 2) == "contact_preferences");

  REQUIRE(j.at("contacts").size() == 2);
  CHECK(j.at("contacts")[0] == Json{{"seq", 21},
                                    {"at", "2025-11-03T09:00:00Z"},
                                    {"channel", "email"},
                                    {"purpose", "marketing.email"}});
  CHECK(j.at("contacts")[1].at("channel") == test::kHostileChannel);  // data, not markup
  CHECK(j.at("contacts")[1].at("seq") == 22);

  REQUIRE(j.at("contact_preferences").size() == 3);
  CHECK(j.at("contact_preferences")[0] == Json{{"seq", 31},
                                               {"at", "2025-11-04T08:00:00Z"},
                                               {"kind", "limit"},
                                               {"purpose", "marketing.email"},
                                               {"channel", nullptr},
                                               {"max", 1},
                                               {"per", "P7D"}});
  CHECK(j.at("contact_preferences")[1] == Json{{"seq", 32},
                                               {"at", "2025-12-02T10:00:00Z"},
                                               {"kind", "opt_out"},
                                               {"purpose", nullptr},
                                               {"channel", test::kHostileChannel},
                                               {"max", nullptr},
                                               {"per", nullptr}});
  CHECK(j.at("contact_preferences")[2].at("kind") == "opt_in");
  CHECK(j.at("contact_preferences")[2].at("channel") == "sms");
  CHECK(j.at("contact_preferences")[2].at("max").is_null());

  // Each preference reads back into the one it was made from.
  for (std::size_t i = 0; i < r.contact_preferences.size(); ++i) {
    const Json& p = j.at("contact_preferences")[i];
    const ContactPreference& want = r.contact_preferences[i];
    CAPTURE(i);
    CHECK(p.at("seq") == want.seq);
    CHECK(parse_timestamp(p.at("at").get<std::string>()) == want.at);
    CHECK(parse_contact_preference_kind(p.at("kind").get<std::string>()) == want.kind);
    if (want.kind == ContactPreferenceKind::limit) {
      CHECK(p.at("max") == want.max);
      CHECK(parse_iso_duration(p.at("per").get<std::string>()) == want.per);
    }
  }

  // A limit of none at all is a 0, not a null.
  SubjectReport none = r;
  none.contact_preferences[0].max = 0;
  CHECK(Json::parse(export_json(none)).at("contact_preferences")[0].at("max") == 0);
}

TEST_CASE("export_json of a report gathered without values gives null values, never a stale one") {
  SubjectReport r = sample_report();
  r.with_values = false;
  const Json j = Json::parse(export_json(r));
  for (const auto& f : j.at("fields")) CHECK(f.at("value").is_null());
}

TEST_CASE("export_json of an empty report has every member, as empty arrays") {
  SubjectReport r;
  r.customer = "C-0";
  r.with_values = true;
  const Json j = Json::parse(export_json(r));
  for (const char* member : {"fields", "purposes", "automated_decisions", "consent_history", "accesses",
                             "contacts", "contact_preferences"}) {
    CHECK(j.at(member).is_array());
    CHECK(j.at(member).empty());
  }
  CHECK(j.at("generated_at") == "1970-01-01T00:00:00Z");
}

TEST_CASE("export_html escapes hostile values and ids instead of rendering them as markup") {
  const std::string html = export_html(sample_report());

  CHECK_FALSE(contains(html, test::kHostileScript));
  CHECK_FALSE(contains(html, test::kHostileAttribute));
  CHECK_FALSE(contains(html, "<img"));
  CHECK_FALSE(contains(html, "<script"));
  CHECK_FALSE(contains(html, "</title><img"));
  CHECK(contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(contains(html, "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"));
  CHECK(contains(html, "C-1001 &#39;&quot;&gt;&lt;/title&gt;&lt;img src=x onerror=alert(3)&gt;"));
  CHECK(contains(html, "support &amp; &lt;partners&gt;"));
  CHECK(contains(html, "Acme Retail &amp; Söhne Ltd"));
  CHECK(contains(html, test::kUnicodeName));
  // The customer id appears only escaped, wherever the page names it.
  CHECK_FALSE(contains(html, test::kHostileCustomer));
}

TEST_CASE("export_html is one self-contained page: no script, no external resource, no style attribute") {
  const std::string html = export_html(sample_report());
  REQUIRE(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  CHECK(contains(html, "<meta charset=\"utf-8\">"));
  CHECK(contains(html, "<title>Your data held by Acme Retail &amp; Söhne Ltd</title>"));
  CHECK(contains(html, "<style>"));

  const std::regex event_handler(R"(\son[a-z]+\s*=)");
  int style_blocks = 0;
  int links = 0;
  for (const std::string& tag : tags(html)) {
    CAPTURE(tag);
    std::string lower = tag;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    CHECK_FALSE(lower.starts_with("<script"));
    CHECK_FALSE(lower.starts_with("<link"));
    CHECK_FALSE(lower.starts_with("<img"));
    CHECK_FALSE(lower.starts_with("<iframe"));
    CHECK_FALSE(contains(lower, " src="));
    CHECK_FALSE(contains(lower, " style="));
    CHECK_FALSE(std::regex_search(lower, event_handler));  // no onclick=, onerror=, ...
    if (lower.starts_with("<style")) ++style_blocks;
    if (const auto href = lower.find(" href="); href != std::string::npos) {
      ++links;
      CHECK(lower.substr(href).starts_with(" href=\"mailto:"));
    }
  }
  CHECK(style_blocks == 1);
  CHECK(links == 1);
  // The stylesheet loads nothing either.
  CHECK_FALSE(contains(html, "url("));
  CHECK_FALSE(contains(html, "@import"));
  CHECK_FALSE(contains(html, "http://"));
  CHECK_FALSE(contains(html, "https://"));
}

TEST_CASE("export_html speaks plainly: headings, tables, readable dates, inferred and third-party data") {
  const std::string html = export_html(sample_report());
  CHECK(contains(html, "<h1>Your data held by Acme Retail &amp; Söhne Ltd</h1>"));
  for (const char* heading :
       {"What we hold about you", "Why we use it", "Your consents", "Who looked at your data", "Your rights"})
    CHECK(contains(html, std::string(">") + heading + "</h2>"));
  CHECK(contains(html, "<table>"));
  CHECK(contains(html, "<th scope=\"col\">Information</th>"));
  CHECK(contains(html, "<th scope=\"row\">email</th>"));
  CHECK(contains(html, "ann@example.com"));

  CHECK(contains(html, "inferred (we guessed this from: birth date)"));
  CHECK(contains(html, "from a third party: credit-bureau"));
  CHECK(contains(html, "past its retention period"));
  CHECK(contains(html, "until you ask us to erase it"));
  CHECK(contains(html, "we keep it for 3 years"));
  CHECK(contains(html, "<time datetime=\"2025-05-01T10:00:00Z\">1 May 2025, 10:00 UTC</time>"));
  CHECK(contains(html, "1 January 2026, 00:00 UTC"));
  CHECK_FALSE(contains(html, ">2025-05-01T10:00:00Z<"));  // machine dates only in attributes

  CHECK(contains(html, "partly hidden: only the last 4 characters"));  // note:mask:last4
  CHECK(contains(html, "our legitimate interests"));
  CHECK(contains(html, "makes automated decisions about you"));
  CHECK(contains(html, "You withdrew your consent"));
  CHECK(contains(html, "Refused, because you had not agreed to this use."));
  CHECK_FALSE(contains(html, "no_consent"));  // never a reason code
  CHECK(contains(html, "Recorded your choice: You agreed"));
  CHECK(contains(html, "Withdraw a consent."));
  CHECK(contains(html, "Object."));
  CHECK(contains(html, "Ask us to erase your data."));
  CHECK(contains(html, "<a href=\"mailto:privacy@acme.example\">privacy@acme.example</a>"));
}

TEST_CASE("export_html says in words why data was deleted and what a contact preference was") {
  SubjectReport r = sample_report();
  auto entry = [&](AuditAction action, std::string reason) {
    r.accesses.push_back(AccessRecord{static_cast<std::int64_t>(100 + r.accesses.size()),
                                      at("2026-01-02T00:00:00Z"),
                                      "cli",
                                      "",
                                      action,
                                      true,
                                      std::move(reason),
                                      {"expecting_child"}});
  };
  entry(AuditAction::purge, "profiling_withdrawn");
  entry(AuditAction::purge, "profiling_lapsed");
  entry(AuditAction::consent_recorded, "opt_out");
  entry(AuditAction::contact_made, "");
  const std::string html = export_html(r);
  CHECK(contains(html, "Deleted our guesses about you: you withdrew consent to profiling"));
  CHECK(contains(html, "Deleted our guesses about you: your consent to profiling ended"));
  CHECK(contains(html, "Recorded how you want to be contacted"));
  CHECK(contains(html, "Contacted you"));
}

TEST_CASE("export_html says in words that a read found no value, apart from the data it read") {
  SubjectReport r = sample_report();
  r.accesses.push_back(AccessRecord{99,
                                    at("2026-01-02T00:00:00Z"),
                                    "support-desk",
                                    "service",
                                    AuditAction::field_read,
                                    true,
                                    "",
                                    {"credit_score:absent", "email:clear"}});
  const std::string html = export_html(r);
  // The score is asked for but not held: said so, and not listed among the data that was read.
  CHECK(contains(
      html,
      "<td data-label=\"Which data\">email (as it is)<span class=\"note\">Also asked for credit score, "
      "which we do not hold about you.</span></td>"));
  CHECK_FALSE(contains(html, "credit_score:absent"));
}

TEST_CASE("export_html says how we contacted the customer and what they asked, between accesses and rights") {
  const std::string html = export_html(sample_report());
  const auto accesses = html.find(">Who looked at your data</h2>");
  const auto contacts = html.find(">How we contacted you</h2>");
  const auto rights = html.find(">Your rights</h2>");
  REQUIRE(accesses != std::string::npos);
  REQUIRE(contacts != std::string::npos);
  REQUIRE(rights != std::string::npos);
  CHECK(accesses < contacts);
  CHECK(contacts < rights);

  const std::string section = html.substr(contacts, rights - contacts);
  CHECK(contains(section, "<th scope=\"col\">When</th><th scope=\"col\">How</th><th scope=\"col\">Why</th>"));
  CHECK(contains(
      section,
      "<tr><td data-label=\"When\"><time datetime=\"2025-11-03T09:00:00Z\">3 November 2025, 09:00 "
      "UTC</time></td><td data-label=\"How\">email</td><td data-label=\"Why\">marketing.email</td></tr>"));
  CHECK(contains(section,
                 "<td data-label=\"How\">&lt;b&gt;sms&lt;/b&gt;</td><td data-label=\"Why\">service</td>"));
  CHECK_FALSE(contains(section, "We have not contacted you."));

  CHECK(contains(section, "You asked us to contact you at most 1 time per 7 days about marketing.email"));
  CHECK(contains(section, "You asked us not to contact you by &lt;b&gt;sms&lt;/b&gt;"));
  CHECK(contains(section, "You allowed contact by sms again"));
  CHECK(contains(section, "<time datetime=\"2025-12-20T16:45:00Z\">20 December 2025, 16:45 UTC</time>"));

  // The hostile channel is never markup, anywhere on the page.
  CHECK_FALSE(contains(html, test::kHostileChannel));
  CHECK_FALSE(contains(html, "<b>"));

  // The rights section says contact can be limited or stopped.
  const std::string rights_section = html.substr(rights);
  CHECK(contains(rights_section, "Limit or stop contact."));
  CHECK(contains(rights_section, "You can limit how often we contact you"));
  CHECK(contains(rights_section, "stop us contacting you by a channel"));
}

TEST_CASE("export_html words a contact limit in plain language") {
  SubjectReport r = sample_report();
  ContactPreference& limit = r.contact_preferences[0];
  limit.max = 3;
  limit.per = *parse_iso_duration("P1W");
  CHECK(
      contains(export_html(r), "You asked us to contact you at most 3 times per week about marketing.email"));
  limit.per = *parse_iso_duration("P1M");
  limit.max = 0;
  CHECK(contains(export_html(r), "You asked us not to contact you at all about marketing.email"));
  limit.max = 2;
  limit.per = *parse_iso_duration("P1Y6M");
  limit.purpose = "<i>x</i>";
  const std::string html = export_html(r);
  CHECK(contains(html, "at most 2 times per 1 year 6 months about &lt;i&gt;x&lt;/i&gt;"));
}

TEST_CASE("export_html says when the customer was never contacted") {
  SubjectReport r = sample_report();
  r.contacts.clear();
  r.contact_preferences.clear();
  const std::string html = export_html(r);
  CHECK(contains(html, ">How we contacted you</h2>\n<p>We have not contacted you.</p>"));
  CHECK(contains(html, "You have not asked us to limit or stop contacting you."));
  CHECK_FALSE(contains(html, "You asked us"));
  CHECK(contains(html, "Limit or stop contact."));  // the right holds all the same
}

TEST_CASE("export_html links only a plain e-mail contact, any other contact stays text") {
  SubjectReport r = sample_report();
  for (const char* contact :
       {"https://acme.example/privacy", "javascript:alert(1)", "a@b.example?subject=x", "x\"@y.example"}) {
    CAPTURE(contact);
    r.controller.contact = contact;
    const std::string html = export_html(r);
    CHECK_FALSE(contains(html, "href="));
  }
  r.controller.contact = "";
  const std::string html = export_html(r);
  CHECK_FALSE(contains(html, "href="));
  CHECK(contains(html, "Your rights"));
}

TEST_CASE("export_html of an empty report says there is nothing, in words") {
  SubjectReport r;
  r.customer = "C-0";
  r.controller = {"Acme", ""};
  const std::string html = export_html(r);
  CHECK(contains(html, "We hold no data about you."));
  CHECK(contains(html, "Nobody has looked at your data."));
  CHECK(contains(html, "We have not contacted you."));
  CHECK_FALSE(contains(html, "<table>"));
}

TEST_CASE("export_csv has a header and one RFC 4180 row per field, quoting commas, quotes and newlines") {
  const SubjectReport r = sample_report();
  const std::string csv = export_csv(r);
  const auto rows = parse_csv(csv);
  REQUIRE(rows.size() == r.fields.size() + 1);
  const std::vector<std::string> header = {"field",          "value",        "type",         "category",
                                           "source",         "collected_at", "retention",    "retained_until",
                                           "past_retention", "inferred",     "derived_from", "third_party",
                                           "uses",           "label"};
  CHECK(rows[0] == header);
  for (std::size_t i = 0; i < r.fields.size(); ++i) {
    CAPTURE(r.fields[i].field);
    REQUIRE(rows[i + 1].size() == header.size());
    CHECK(rows[i + 1][0] == r.fields[i].field);
    CHECK(rows[i + 1][1] == r.fields[i].value);
    CHECK(rows[i + 1][4] == r.fields[i].source);
    CHECK(rows[i + 1][5] == format_timestamp(r.fields[i].collected_at));
  }
  // The address holds a comma, quotes and CRLF: quoted once, its quotes doubled.
  CHECK(contains(csv, "\"1 Main St, Apt \"\"B\"\"\r\nSpringfield\""));
  CHECK(contains(
      csv,
      "\r\nbirth_date,1990-04-02,date,identity,web-signup,2025-05-01T10:00:00Z,,,false,false,,"
      "false,service=clear(contract);analytics=generalise:year(legitimate_interest),birth date\r\n"));
  const auto& score = rows[4];
  CHECK(score[0] == "credit_score");
  CHECK(score[6] == "P1Y");
  CHECK(score[7] == "2025-11-01T09:00:00Z");
  CHECK(score[8] == "true");
  CHECK(score[11] == "true");
  const auto& child = rows[6];
  CHECK(child[0] == "expecting_child");
  CHECK(child[9] == "true");
  CHECK(child[10] == "birth_date");
}

TEST_CASE("staff audit never shows a value, even when the report holds values") {
  const SubjectReport r = canary_report();
  REQUIRE(r.with_values);
  const std::string text = staff_audit_text(r);
  const std::string json = staff_audit_json(r);
  CHECK_FALSE(contains(text, "CANARY-VALUE"));
  CHECK_FALSE(contains(json, "CANARY-VALUE"));
  CHECK_FALSE(contains(text, "zq7"));
  CHECK_FALSE(contains(json, "zq7"));
  const Json parsed = Json::parse(json);  // kept: a range-for over a member of a temporary dangles
  for (const auto& f : parsed.at("fields")) CHECK_FALSE(f.contains("value"));
  // The sample's real values are absent too.
  const SubjectReport plain = sample_report();
  for (const auto& f : plain.fields) {
    if (f.value == "true" || f.value == "712") continue;  // too short to be a meaningful probe
    CAPTURE(f.field);
    CHECK_FALSE(contains(staff_audit_text(plain), f.value));
    CHECK_FALSE(contains(staff_audit_json(plain), f.value));
  }
}

TEST_CASE("staff_audit_text shows metadata, retention left, consents and flags in aligned columns") {
  const SubjectReport r = sample_report();
  const std::string text = staff_audit_text(r);
  for (const char* heading :
       {"Fields (8)", "Uses allowed by the policy", "Consents", "Last accesses (5 of 5)"})
    CHECK(contains(text, heading));
  CHECK(contains(text, "851 days"));  // 2026-01-01 to 2028-05-01T10:00
  CHECK(contains(text, "past retention"));
  CHECK(contains(text, "until erased"));
  CHECK(contains(text, "past_retention, third_party"));
  CHECK(contains(text, "inferred from birth_date"));
  CHECK(contains(text, "2025-05-01T10:00:00Z"));
  CHECK(contains(text, "no_consent"));
  CHECK(contains(text, "note:mask:last4"));

  // Every row of the fields table starts its CATEGORY and FLAGS cells where the heading does.
  const auto lines = lines_of(text);
  const auto heading = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.starts_with("  FIELD ") && contains(l, "RETENTION LEFT");
  });
  REQUIRE(heading != lines.end());
  const std::size_t category = heading->find("CATEGORY");
  const std::size_t flags = heading->find("FLAGS");
  REQUIRE(heading + 2 + 8 <= lines.end());
  CHECK((heading + 1)->find_first_not_of(" -") == std::string::npos);
  for (auto row = heading + 2; row != heading + 2 + 8; ++row) {
    CAPTURE(*row);
    REQUIRE(row->size() > flags);
    CHECK(row->at(category - 1) == ' ');
    CHECK(row->at(category) != ' ');
    CHECK(row->at(flags - 1) == ' ');
    CHECK(row->at(flags) != ' ');
  }
}

TEST_CASE("staff audit shows only the last N accesses, in log order") {
  const SubjectReport r = sample_report();
  const std::string text = staff_audit_text(r, 2);
  CHECK(contains(text, "Last accesses (2 of 5)"));
  CHECK(contains(text, "2025-10-01T08:00:00Z"));
  CHECK_FALSE(contains(text, "crm-import"));  // seq 11, not among the last two

  const Json j = Json::parse(staff_audit_json(r, 2));
  CHECK(j.at("accesses_total") == 5);
  REQUIRE(j.at("accesses").size() == 2);
  CHECK(j.at("accesses")[0].at("seq") == 14);
  CHECK(j.at("accesses")[1].at("seq") == 15);
  CHECK(Json::parse(staff_audit_json(r, 0)).at("accesses").empty());
  CHECK(Json::parse(staff_audit_json(r, 100)).at("accesses").size() == 5);
}

TEST_CASE("staff_audit_json carries the metadata, retention left and flags") {
  const Json j = Json::parse(staff_audit_json(sample_report()));
  CHECK(j.at("customer") == test::kHostileCustomer);
  const Json& email = field_named(j.at("fields"), "email");
  CHECK(email.at("retention") == "P3Y");
  CHECK(email.at("retention_left_days") == 851);
  CHECK(email.at("past_retention") == false);
  CHECK(email.at("uses").size() == 3);
  const Json& score = field_named(j.at("fields"), "credit_score");
  CHECK(score.at("past_retention") == true);
  CHECK(score.at("retention_left_days") == -61);  // 2025-11-01T09:00 is 60 days and 15 hours before
  CHECK(score.at("third_party") == true);
  CHECK(field_named(j.at("fields"), "full_name").at("retention_left_days").is_null());
  CHECK(field_named(j.at("fields"), "expecting_child").at("derived_from") == Json::array({"birth_date"}));
  REQUIRE(j.at("purposes").size() == 4);
  CHECK(j.at("purposes")[3].at("status") == "withdrawn");
  CHECK(j.at("purposes")[3].at("automated_decision") == true);
}

TEST_CASE("staff audit lists the contacts and the contact preferences") {
  const SubjectReport r = sample_report();
  const std::string text = staff_audit_text(r);
  const auto contacts = text.find("\nContacts (2)\n");
  const auto preferences = text.find("\nContact preferences (3)\n");
  REQUIRE(contacts != std::string::npos);
  REQUIRE(preferences != std::string::npos);
  CHECK(text.find("Last accesses") < contacts);
  CHECK(contacts < preferences);
  const auto lines = lines_of(text);
  auto line_with = [&](std::string_view a, std::string_view b) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return contains(l, a) && contains(l, b); });
  };
  CHECK(line_with("SEQ", "CHANNEL"));
  CHECK(line_with("2025-11-03T09:00:00Z", "marketing.email"));
  CHECK(line_with("2025-12-01T12:30:00Z", test::kHostileChannel));  // plain text, no markup here
  CHECK(line_with("2025-11-04T08:00:00Z", "marketing.email"));
  CHECK(line_with(" limit ", " P7D"));
  CHECK(line_with("2025-12-02T10:00:00Z", "opt_out"));
  CHECK(line_with("2025-12-20T16:45:00Z", "opt_in"));

  const Json j = Json::parse(staff_audit_json(r));
  const Json e = Json::parse(export_json(r));
  CHECK(j.at("contacts") == e.at("contacts"));
  CHECK(j.at("contact_preferences") == e.at("contact_preferences"));
  CHECK(j.at("contacts").size() == 2);
  CHECK(j.at("contact_preferences").size() == 3);

  SubjectReport empty = r;
  empty.contacts.clear();
  empty.contact_preferences.clear();
  const std::string none = staff_audit_text(empty);
  CHECK(contains(none, "\nContacts (0)\n  (none)\n"));
  CHECK(contains(none, "\nContact preferences (0)\n  (none)\n"));
  CHECK(Json::parse(staff_audit_json(empty)).at("contacts") == Json::array());
}

TEST_CASE("staff_audit_text flags a value past retention that the report did not flag") {
  SubjectReport r = sample_report();
  for (auto& f : r.fields) f.past_retention = false;
  const std::string text = staff_audit_text(r);
  CHECK(contains(text, "past retention"));
  const Json j = Json::parse(staff_audit_json(r));
  CHECK(field_named(j.at("fields"), "credit_score").at("past_retention") == true);
}

TEST_CASE("staff_audit_text neutralises terminal control characters from stored metadata") {
  SubjectReport r = sample_report();
  r.fields[0].source = "import\x1b[2J\x1b]0;owned\x07\nFAKE ROW";
  r.accesses[0].reason = "x\ry";
  const std::string text = staff_audit_text(r);
  CHECK_FALSE(contains(text, "\x1b"));
  CHECK_FALSE(contains(text, "\x07"));
  CHECK_FALSE(contains(text, "\r"));
  CHECK(contains(text, "import\\x1b[2J\\x1b]0;owned\\x07\\x0aFAKE ROW"));
  for (const auto& line : lines_of(text)) CHECK_FALSE(line.starts_with("FAKE ROW"));
}

TEST_CASE("staff_audit_text escapes C1 controls, DEL and bytes that are not UTF-8, and keeps other scripts") {
  SubjectReport r = sample_report();
  r.fields[0].source =
      "a\xc2\x9b"
      "2Jb\xc2\x85"
      "c\x7f"
      "d\x9b"
      "e\xff Zo\u00eb \u5c71\u7530 \u00a0x";
  const std::string text = staff_audit_text(r);
  CHECK(contains(text, "a\\xc2\\x9b2Jb\\xc2\\x85c\\x7fd\\x9be\\xff Zo\u00eb \u5c71\u7530 \u00a0x"));
  CHECK_FALSE(contains(text, "\xc2\x9b"));
  CHECK_FALSE(contains(text, "\x7f"));
}

TEST_CASE("export_csv quotes a cell that starts like a formula behind a single quote, as OWASP recommends") {
  SubjectReport r = sample_report();
  const std::vector<std::string> formulas = {"=HYPERLINK(\"http://evil.example\",\"x\")",
                                             "+cmd|' /C calc'!A0",
                                             "-2+3",
                                             "@SUM(A1:A9)",
                                             "\t=1+1",
                                             "\r=1+1",
                                             "=",
                                             "-"};
  for (const std::string& formula : formulas) {
    CAPTURE(formula);
    r.fields[0].value = formula;
    r.fields[0].source = formula;
    const std::string csv = export_csv(r);
    const auto rows = parse_csv(csv);
    REQUIRE(rows.size() == r.fields.size() + 1);
    // A reader of the file gets the value behind one quote; a spreadsheet shows it as text.
    CHECK(rows[1][1] == "'" + formula);
    CHECK(rows[1][4] == "'" + formula);
    std::string quoted;
    for (char c : formula) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    CHECK(contains(csv, ",\"'" + quoted + "\","));
  }
  // Cells that only hold such a character later, or that start otherwise, are as they were.
  r.fields[0].value = "a=1+1";
  r.fields[0].source = " =1";
  const auto rows = parse_csv(export_csv(r));
  CHECK(rows[1][1] == "a=1+1");
  CHECK(rows[1][4] == " =1");
}

TEST_CASE("inventory_text lists each field's processing and the unused fields") {
  const Inventory inv = sample_inventory();
  const std::string text = inventory_text(inv);
  CHECK(contains(text, "Record of processing (GDPR Art. 30) at 2026-01-01T00:00:00Z"));
  CHECK(contains(text, "Acme Retail Ltd <privacy@acme.example>"));
  CHECK(contains(text, "Fields (4)"));
  CHECK(contains(text, "READS P30D"));
  CHECK(contains(text, "credit-bureau"));
  CHECK(contains(text, "derived from birth_date"));
  CHECK(contains(text, "2025-12-31T18:00:00Z"));
  CHECK(contains(text, "never"));  // expecting_child was never read
  CHECK(contains(text, "mask:last4"));
  CHECK(contains(text, "legitimate_interest"));
  CHECK(contains(text, "(not allowed now)"));  // reads by a purpose the policy dropped still show
  CHECK(contains(text, "fields no purpose read in the last P90D: phone, expecting_child\n"));

  const auto lines = lines_of(text);
  const auto email = std::find_if(lines.begin(), lines.end(),
                                  [](const std::string& l) { return l.starts_with("  email "); });
  REQUIRE(email != lines.end());
  CHECK(contains(*email, " 300 "));
  CHECK(contains(*email, " 167 "));  // 120 + 45 + 2 reads in the window
  const auto mail_use = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.starts_with("  email ") && contains(l, "marketing.email");
  });
  REQUIRE(mail_use != lines.end());
  CHECK(mail_use->ends_with(" 45"));
}

TEST_CASE("inventory omits the minimisation hint when it was not asked for, and says none when none") {
  Inventory inv = sample_inventory();
  inv.unused_window.reset();
  inv.unused.clear();
  CHECK_FALSE(contains(inventory_text(inv), "fields no purpose read"));
  CHECK(Json::parse(inventory_json(inv)).at("unused").is_null());

  inv.unused_window = parse_iso_duration("P90D");
  CHECK(contains(inventory_text(inv), "fields no purpose read in the last P90D: none"));
  CHECK(Json::parse(inventory_json(inv)).at("unused") == Json::array());
}

TEST_CASE("inventory_json carries every field's processing and the unused fields") {
  const Json j = Json::parse(inventory_json(sample_inventory()));
  CHECK(j.at("generated_at") == "2026-01-01T00:00:00Z");
  CHECK(j.at("window") == "P30D");
  CHECK(j.at("unused_window") == "P90D");
  CHECK(j.at("unused") == Json::array({"phone", "expecting_child"}));
  CHECK(j.at("hint") == "fields no purpose read in the last P90D: phone, expecting_child");
  REQUIRE(j.at("fields").size() == 4);
  const Json& email = j.at("fields")[0];
  CHECK(email.at("name") == "email");
  CHECK(email.at("customers") == 300);
  CHECK(email.at("reads") == Json{{"marketing.email", 45}, {"retired.purpose", 2}, {"service", 120}});
  CHECK(email.at("last_read") == "2025-12-31T18:00:00Z");
  CHECK(email.at("retention") == "P3Y");
  CHECK(email.at("uses")[1].at("basis") == "consent");
  const Json& child = j.at("fields")[3];
  CHECK(child.at("last_read").is_null());
  CHECK(child.at("reads") == Json::object());
  CHECK(child.at("derived_from") == Json::array({"birth_date"}));
  CHECK(child.at("uses")[0].at("automated_decision") == true);
  CHECK(j.at("fields")[2].at("sources") == Json::array({"credit-bureau"}));
  CHECK(j.at("fields")[1].at("retention").is_null());
}
