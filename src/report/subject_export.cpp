// subject_export.cpp: the customer's own export ("show my data") as JSON and CSV, and the glossary
// of labels every rendering speaks with. The HTML page is export_html.cpp.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/report.hpp"
#include "report/export_words.hpp"
#include "report/report_json.hpp"

namespace consentry {
namespace {

using export_words::Labels;
using report_json::Json;

Term term(const Wording& label, const Wording& description) {
  return Term{label, description};
}

// ---- CSV ----

// kFormulaStarts are the first characters that make a spreadsheet read a cell as a formula
// (OWASP, "CSV Injection"): =, +, -, @, tab and carriage return.
constexpr std::string_view kFormulaStarts = "=+-@\t\r";

// csv_cell quotes a cell that holds a comma, a quote, CR or LF (RFC 4180), doubling its quotes. A
// cell that starts as a formula would (=HYPERLINK(...), +cmd, @SUM, -1+1) is neutralised as OWASP
// recommends: a single quote goes in front, so spreadsheets show it as text, and it is quoted.
std::string csv_cell(std::string_view text) {
  const bool formula = !text.empty() && kFormulaStarts.find(text.front()) != std::string_view::npos;
  if (!formula && text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = formula ? "\"'" : "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

}  // namespace

Glossary glossary_of(const Policy& policy) {
  Glossary g;
  g.default_language = policy.default_language();
  for (const FieldSpec& f : policy.fields()) g.fields.emplace(f.name, term(f.label, f.description));
  for (const Purpose& p : policy.purposes()) g.purposes.emplace(p.id, term(p.label, p.description));
  for (const AccessorSpec& a : policy.accessors()) g.accessors.emplace(a.id, term(a.label, a.description));
  for (const SourceSpec& s : policy.sources()) g.sources.emplace(s.id, term(s.label, s.description));
  return g;
}

std::string export_json(const SubjectReport& r, const ExportOptions& options) {
  const Labels labels(r.glossary, options.language);
  Json j;
  j["consentry_export"] = kExportFormatVersion;
  j["language"] = labels.language();
  j["customer"] = r.customer;
  j["generated_at"] = format_timestamp(r.generated_at);
  j["controller"] = {{"name", r.controller.name}, {"contact", r.controller.contact}};
  j["your_rights"] = {{"withdraw", export_words::withdraw_sentence(r.controller)},
                      {"object", export_words::object_sentence(r.controller)},
                      {"erasure", export_words::erasure_sentence(r.controller)},
                      {"contact", r.controller.contact}};
  Json fields = Json::array();
  for (const auto& f : r.fields) {
    Json uses = report_json::uses(f.uses);
    for (Json& u : uses) u["purpose_label"] = labels.purpose(u["purpose"].get<std::string>());
    fields.push_back({{"name", f.field},
                      {"label", labels.field(f.field)},
                      {"value", r.with_values ? Json(f.value) : Json(nullptr)},
                      {"type", to_string(f.type)},
                      {"category", f.category},
                      {"source", f.source},
                      {"source_label", f.source.empty() ? std::string() : labels.source(f.source)},
                      {"collected_at", format_timestamp(f.collected_at)},
                      {"retention", f.retention ? Json(f.retention->to_string()) : Json(nullptr)},
                      {"retained_until", report_json::time_or_null(f.retained_until)},
                      {"past_retention", f.past_retention},
                      {"inferred", f.inferred},
                      {"derived_from", f.derived_from},
                      {"third_party", f.third_party},
                      {"uses", std::move(uses)}});
  }
  j["fields"] = std::move(fields);
  Json purposes = Json::array();
  Json automated = Json::array();
  for (const auto& p : r.purposes) {
    Json standing = report_json::standing(p);
    standing["label"] = labels.purpose(p.purpose);
    if (const std::string d = labels.purpose_description(p.purpose); !d.empty()) standing["description"] = d;
    purposes.push_back(std::move(standing));
    if (p.automated_decision) automated.push_back(p.purpose);
  }
  j["purposes"] = std::move(purposes);
  j["automated_decisions"] = std::move(automated);
  Json history = Json::array();
  for (const auto& e : r.consent_history) {
    Json event = {{"seq", e.seq},
                  {"purpose", e.purpose},
                  {"purpose_label", labels.purpose(e.purpose)},
                  {"action", to_string(e.action)},
                  {"at", format_timestamp(e.at)},
                  {"channel", e.channel},
                  {"notice", e.notice},
                  {"policy_version", std::max<std::int64_t>(e.policy_version, 1)},
                  {"expires_at", report_json::time_or_null(e.expires_at)}};
    if (e.signal)
      event["signal"] = {{"kind", e.signal->kind},
                         {"cmp_id", e.signal->cmp_id},
                         {"created", format_timestamp(e.signal->created)}};
    history.push_back(std::move(event));
  }
  j["consent_history"] = std::move(history);
  if (!r.consent_receipts.empty()) {
    Json receipts = Json::array();
    // Each receipt is kept as it was signed: its members, not re-labelled for the export.
    for (const std::string& receipt : r.consent_receipts) receipts.push_back(Json::parse(receipt));
    j["consent_receipts"] = std::move(receipts);
  }
  Json accesses = Json::array();
  for (const auto& a : r.accesses) {
    Json access = report_json::access(a);
    access["accessor_label"] = labels.accessor(a.accessor);
    access["purpose_label"] = a.purpose.empty() ? std::string() : labels.purpose(a.purpose);
    if (!a.allowed) access["refusal"] = export_words::refusal_words(a.reason);
    accesses.push_back(std::move(access));
  }
  j["accesses"] = std::move(accesses);
  j["contacts"] = report_json::contacts(r.contacts);
  j["contact_preferences"] = report_json::contact_preferences(r.contact_preferences);
  // Invalid UTF-8 (which normalise_value never stores) becomes U+FFFD rather than an exception.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string export_csv(const SubjectReport& r, const ExportOptions& options) {
  const Labels labels(r.glossary, options.language);
  std::string out =
      "field,value,type,category,source,collected_at,retention,retained_until,past_retention,inferred,"
      "derived_from,third_party,uses,label\r\n";
  for (const auto& f : r.fields) {
    std::string derived;
    for (const auto& d : f.derived_from) derived += (derived.empty() ? "" : ";") + d;
    // A use is "purpose=form(basis)"; forms contain ':' but never '=', '(' or ';'.
    std::string uses;
    for (const auto& u : f.uses)
      uses += (uses.empty() ? "" : ";") + u.purpose + "=" + u.form.to_string() + "(" +
              std::string(to_string(u.basis)) + ")";
    const std::vector<std::string> cells = {
        f.field,
        r.with_values ? f.value : std::string(),
        std::string(to_string(f.type)),
        f.category,
        f.source,
        format_timestamp(f.collected_at),
        f.retention ? f.retention->to_string() : std::string(),
        f.retained_until ? format_timestamp(*f.retained_until) : std::string(),
        f.past_retention ? "true" : "false",
        f.inferred ? "true" : "false",
        derived,
        f.third_party ? "true" : "false",
        uses,
        labels.field(f.field)};
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csv_cell(cells[i]);
    out += "\r\n";
  }
  return out;
}

}  // namespace consentry
