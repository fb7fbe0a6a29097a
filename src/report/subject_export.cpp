// subject_export.cpp: the customer's own export ("show my data") as JSON, HTML and CSV.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/report.hpp"
#include "report/report_json.hpp"

namespace consentry {
namespace {

using report_json::Json;

// who names the controller in a sentence; "us" when the policy names nobody.
std::string who(const Controller& c) {
  return c.name.empty() ? std::string("us") : c.name;
}

// reach_out ends a rights sentence with whom to write to.
std::string reach_out(const Controller& c) {
  if (c.contact.empty()) return " To do so, contact " + who(c) + ".";
  return " To do so, contact " + who(c) + " at " + c.contact + ".";
}

// The three rights sentences are shared by the JSON and the HTML export so they cannot drift.
std::string withdraw_sentence(const Controller& c) {
  return "You can withdraw any consent you gave at any time, as easily as you gave it. Withdrawing "
         "stops that use from then on; it does not undo what was done lawfully before." +
         reach_out(c);
}

std::string object_sentence(const Controller& c) {
  return "You can object at any time to uses based on our legitimate interests, and to direct "
         "marketing. We then stop, unless we have compelling legitimate grounds (never for direct "
         "marketing)." +
         reach_out(c);
}

std::string contact_sentence(const Controller& c) {
  return "You can limit how often we contact you about each purpose, or stop us contacting you by "
         "a channel such as e-mail, SMS, phone or post, and allow it again later." +
         reach_out(c);
}

std::string erasure_sentence(const Controller& c) {
  return "You can ask us to erase your data. We then erase it without undue delay, unless the law "
         "requires us to keep it." +
         reach_out(c);
}

// ---- HTML ----

// escape makes text safe in HTML element content and in double- or single-quoted attributes.
// NUL, which HTML parsers drop or replace inconsistently, becomes U+FFFD.
std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '\0': out += "\xEF\xBF\xBD"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// readable_time writes "1 May 2025, 10:00 UTC" inside a <time> element carrying the exact instant.
std::string readable_time(timestamp t) {
  const auto day_start = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day_start};
  const std::chrono::hh_mm_ss hms{t - day_start};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%u %s %d, %02d:%02d UTC", static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return "<time datetime=\"" + format_timestamp(t) + "\">" + buf + "</time>";
}

std::string plain_basis(Basis b) {
  switch (b) {
    case Basis::consent: return "your consent";
    case Basis::contract: return "our contract with you";
    case Basis::legal_obligation: return "a legal obligation we have";
    case Basis::legitimate_interest: return "our legitimate interests";
    case Basis::vital_interest: return "protecting life or health";
    case Basis::public_task: return "a task in the public interest";
  }
  return "your consent";
}

// plain_duration writes P1Y6M as "1 year 6 months".
std::string plain_duration(const IsoDuration& d) {
  std::string out;
  auto part = [&](std::int64_t n, const char* unit) {
    if (n == 0) return;
    out += (out.empty() ? "" : " ") + std::to_string(n) + " " + unit + (n == 1 ? "" : "s");
  };
  part(d.years, "year");
  part(d.months, "month");
  part(d.weeks, "week");
  part(d.days, "day");
  part(d.hours, "hour");
  part(d.minutes, "minute");
  part(d.seconds, "second");
  return out.empty() ? std::string("no time") : out;
}

std::string plain_form(const Form& f) {
  const std::string n = std::to_string(f.n);
  switch (f.kind) {
    case FormKind::clear: return "as it is";
    case FormKind::mask_last: return "partly hidden: only the last " + n + " characters";
    case FormKind::redact: return "hidden: only that it exists";
    case FormKind::generalise_year: return "the year only";
    case FormKind::generalise_month: return "the year and month only";
    case FormKind::generalise_decade: return "the decade only";
    case FormKind::generalise_prefix: return "the first " + n + " characters only";
    case FormKind::generalise_bucket: return "a range of " + n + " only";
    case FormKind::pseudonym:
    case FormKind::pseudonym_hmac: return "replaced by a code that does not name you";
    case FormKind::token: return "replaced by a stand-in value";
  }
  return "hidden";
}

std::string plain_status(ConsentStatus s, Basis basis) {
  switch (s) {
    case ConsentStatus::granted: return "You agreed";
    case ConsentStatus::withdrawn: return "You withdrew your consent";
    case ConsentStatus::expired: return "Your consent has expired";
    case ConsentStatus::objected: return "You objected";
    case ConsentStatus::none:
      return basis == Basis::consent ? "Not given: we do not use your data for this"
                                     : "No consent needed: based on " + plain_basis(basis);
  }
  return "Not given";
}

std::string plain_consent_action(ConsentAction a) {
  switch (a) {
    case ConsentAction::grant: return "You agreed";
    case ConsentAction::withdraw: return "You withdrew";
    case ConsentAction::object: return "You objected";
  }
  return "You agreed";
}

std::string plain_audit_action(const AccessRecord& a) {
  if (!a.allowed) {
    std::string text = "Was refused access";
    if (!a.reason.empty()) text += " (" + escape(a.reason) + ")";
    return text;
  }
  switch (a.action) {
    case AuditAction::view_opened: return "Opened your record";
    case AuditAction::field_read: return "Read your data";
    case AuditAction::access_denied: return "Was refused access";
    case AuditAction::value_written: return "Stored or updated your data";
    case AuditAction::consent_recorded:
      if (const auto choice = parse_consent_action(a.reason))
        return "Recorded your choice: " + plain_consent_action(*choice);
      if (parse_contact_preference_kind(a.reason)) return "Recorded how you want to be contacted";
      return a.reason.empty() ? "Recorded your choice" : "Recorded your choice: " + escape(a.reason);
    case AuditAction::export_made: return "Made an export of your data";
    case AuditAction::erasure: return "Erased your data";
    case AuditAction::key_rotation: return "Renewed the encryption keys";
    case AuditAction::policy_change: return "Changed the data policy";
    case AuditAction::purge:
      switch (parse_purge_reason(a.reason).value_or(PurgeReason::retention_expired)) {
        case PurgeReason::profiling_withdrawn:
          return "Deleted our guesses about you: you withdrew consent to profiling";
        case PurgeReason::profiling_lapsed:
          return "Deleted our guesses about you: your consent to profiling ended";
        case PurgeReason::retention_expired: return "Deleted data past its retention period";
        case PurgeReason::policy_field_removed: return "Deleted data our policy no longer keeps";
      }
      return "Deleted data past its retention period";
    case AuditAction::contact_made: return "Contacted you";
    case AuditAction::aggregate_made: return "Counted you in a statistic with added noise";
    case AuditAction::detokenised: return "Turned a stand-in value back into your data";
    case AuditAction::staff_read: return "Looked at what we hold about you (no values shown)";
  }
  return escape(to_string(a.action));
}

// plain_access_field turns an audit log field "email:mask:last4" into "email (partly hidden: ...)".
std::string plain_access_field(std::string_view entry) {
  const auto read = parse_read_field(entry);
  if (!read) return escape(entry);
  if (read->absent()) return escape(read->field) + " (we held none)";
  const auto form = parse_form(read->form);
  if (!form) return escape(entry);
  return escape(read->field) + " (" + plain_form(*form) + ")";
}

// mailto_safe is true for a plain e-mail address, the only contact that becomes a link.
bool mailto_safe(std::string_view contact) {
  const auto at = contact.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 >= contact.size()) return false;
  if (contact.find('@', at + 1) != std::string_view::npos) return false;
  for (std::size_t i = 0; i < contact.size(); ++i) {
    const char c = contact[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    const bool local_extra = i < at && (c == '.' || c == '_' || c == '-' || c == '+' || c == '%');
    const bool domain_extra = i > at && (c == '.' || c == '-');
    if (!(alnum || local_extra || domain_extra || i == at)) return false;
  }
  return true;
}

std::string contact_html(const Controller& c) {
  if (c.contact.empty()) return "";
  if (mailto_safe(c.contact))
    return "<a href=\"mailto:" + escape(c.contact) + "\">" + escape(c.contact) + "</a>";
  return escape(c.contact);
}

constexpr std::string_view kStyle = R"(
  body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; font-size: 1rem;
         line-height: 1.5; color: #1a1a1a; background: #fff; margin: 0; }
  main { max-width: 60rem; margin: 0 auto; padding: 1.5rem; }
  h1 { font-size: 1.8rem; margin-top: 0; }
  h2 { font-size: 1.35rem; margin-top: 2.2rem; border-bottom: 2px solid #2f5d8a; padding-bottom: .2rem; }
  h3 { font-size: 1.1rem; margin-top: 1.5rem; }
  table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
  caption { text-align: left; font-weight: 600; padding-bottom: .3rem; }
  th, td { border: 1px solid #b8c2cc; padding: .4rem .6rem; text-align: left; vertical-align: top;
           overflow-wrap: break-word; }
  td.value { white-space: pre-line; overflow-wrap: anywhere; }
  thead th { background: #e8eef4; }
  tbody th { font-weight: 600; }
  .note { display: block; font-size: .9rem; color: #4a4a4a; }
  .flag { display: block; font-weight: 600; color: #8a2f2f; }
  .refused { color: #8a2f2f; }
  .intro { font-size: 1.05rem; }
  footer { margin-top: 2.5rem; font-size: .85rem; color: #555; }
  a { color: #1f4e79; }
  @media print { main { max-width: none; } h2 { break-after: avoid; } }
)";

void html_held(std::string& out, const SubjectReport& r) {
  out += "<section aria-labelledby=\"held\">\n<h2 id=\"held\">What we hold about you</h2>\n";
  if (r.fields.empty()) {
    out += "<p>We hold no data about you.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<thead><tr><th scope=\"col\">Information</th><th scope=\"col\">What we hold</th>"
      "<th scope=\"col\">Kind of data</th><th scope=\"col\">Where it came from</th>"
      "<th scope=\"col\">Collected on</th><th scope=\"col\">Kept until</th></tr></thead>\n<tbody>\n";
  for (const auto& f : r.fields) {
    out += "<tr><th scope=\"row\">" + escape(f.field) + "</th><td class=\"value\">";
    out += r.with_values ? escape(f.value) : std::string("<span class=\"note\">not included</span>");
    out += "</td><td>" + escape(f.category) + "</td><td>";
    if (f.inferred) {
      std::string from;
      for (const auto& d : f.derived_from) from += (from.empty() ? "" : ", ") + escape(d);
      out += "<span class=\"flag\">inferred (we guessed this from: " + (from.empty() ? "other data" : from) +
             ")</span>";
      if (!f.source.empty()) out += "<span class=\"note\">by: " + escape(f.source) + "</span>";
    } else if (f.third_party) {
      out += "<span class=\"flag\">from a third party: " + escape(f.source) + "</span>";
    } else {
      out += f.source.empty() ? std::string("not recorded") : escape(f.source);
    }
    out += "</td><td>" + readable_time(f.collected_at) + "</td><td>";
    if (f.retained_until) {
      out += readable_time(*f.retained_until);
      if (f.retention)
        out += "<span class=\"note\">we keep it for " + plain_duration(*f.retention) + "</span>";
    } else {
      out += "until you ask us to erase it";
    }
    if (f.past_retention) out += "<span class=\"flag\">past its retention period: due to be deleted</span>";
    out += "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void html_uses(std::string& out, const SubjectReport& r) {
  out += "<section aria-labelledby=\"uses\">\n<h2 id=\"uses\">Why we use it</h2>\n";
  // Every purpose of the policy, then any purpose a field names that the policy list lacks.
  std::vector<PurposeStanding> purposes = r.purposes;
  for (const auto& f : r.fields)
    for (const auto& u : f.uses) {
      bool known = false;
      for (const auto& p : purposes) known = known || p.purpose == u.purpose;
      if (!known) purposes.push_back({u.purpose, "", u.basis, u.automated_decision, {}, {}, {}});
    }
  if (purposes.empty()) {
    out += "<p>We do not use your data for any purpose.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<thead><tr><th scope=\"col\">Purpose</th><th scope=\"col\">What it is for</th>"
      "<th scope=\"col\">Why we may</th><th scope=\"col\">What it uses, and how much of "
      "it</th></tr></thead>\n"
      "<tbody>\n";
  bool any_automated = false;
  for (const auto& p : purposes) {
    out += "<tr><th scope=\"row\">" + escape(p.purpose) + "</th><td>" + escape(p.description);
    if (p.automated_decision) {
      any_automated = true;
      out += "<span class=\"flag\">makes automated decisions about you</span>";
    }
    out += "</td><td>" + plain_basis(p.basis) + "</td><td>";
    std::string used;
    for (const auto& f : r.fields)
      for (const auto& u : f.uses)
        if (u.purpose == p.purpose) used += "<li>" + escape(f.field) + " (" + plain_form(u.form) + ")</li>";
    out += used.empty() ? std::string("nothing we hold about you") : "<ul>" + used + "</ul>";
    out += "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n";
  if (any_automated)
    out +=
        "<p>Where a purpose makes automated decisions about you, you can ask for a person to review "
        "the decision, give your point of view and contest it.</p>\n";
  out += "</section>\n";
}

void html_consents(std::string& out, const SubjectReport& r) {
  out += "<section aria-labelledby=\"consents\">\n<h2 id=\"consents\">Your consents</h2>\n";
  if (r.purposes.empty()) {
    out += "<p>There is nothing to consent to.</p>\n";
  } else {
    out +=
        "<table>\n<thead><tr><th scope=\"col\">Purpose</th><th scope=\"col\">Your choice</th>"
        "<th scope=\"col\">Since</th><th scope=\"col\">Until</th></tr></thead>\n<tbody>\n";
    for (const auto& p : r.purposes) {
      out += "<tr><th scope=\"row\">" + escape(p.purpose) + "</th><td>" + plain_status(p.status, p.basis) +
             "</td><td>" + (p.since ? readable_time(*p.since) : std::string("-")) + "</td><td>" +
             (p.expires_at ? readable_time(*p.expires_at) : std::string("-")) + "</td></tr>\n";
    }
    out += "</tbody>\n</table>\n";
  }
  out += "<h3 id=\"history\">Your choices over time</h3>\n";
  if (r.consent_history.empty()) {
    out += "<p>You have not given or withdrawn any consent.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Purpose</th>"
      "<th scope=\"col\">What you did</th><th scope=\"col\">How</th><th scope=\"col\">Notice you were "
      "shown</th>"
      "<th scope=\"col\">Valid until</th></tr></thead>\n<tbody>\n";
  for (const auto& e : r.consent_history) {
    out += "<tr><td>" + readable_time(e.at) + "</td><td>" + escape(e.purpose) + "</td><td>" +
           plain_consent_action(e.action) + "</td><td>" + escape(e.channel) + "</td><td>" + escape(e.notice) +
           (e.notice.empty() ? "" : ", ") + "policy version " +
           std::to_string(std::max<std::int64_t>(e.policy_version, 1)) + "</td><td>" +
           (e.expires_at ? readable_time(*e.expires_at) : std::string("-")) + "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

void html_accesses(std::string& out, const SubjectReport& r) {
  out += "<section aria-labelledby=\"accesses\">\n<h2 id=\"accesses\">Who looked at your data</h2>\n";
  if (r.accesses.empty()) {
    out += "<p>Nobody has looked at your data.</p>\n</section>\n";
    return;
  }
  out +=
      "<table>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">Who</th><th scope=\"col\">Why</th>"
      "<th scope=\"col\">What happened</th><th scope=\"col\">Which data</th></tr></thead>\n<tbody>\n";
  for (const auto& a : r.accesses) {
    std::string fields;
    for (const auto& f : a.fields) fields += (fields.empty() ? "" : ", ") + plain_access_field(f);
    out += "<tr><td>" + readable_time(a.at) + "</td><td>" + escape(a.accessor) + "</td><td>" +
           (a.purpose.empty() ? std::string("-") : escape(a.purpose)) + "</td><td" +
           (a.allowed ? "" : " class=\"refused\"") + ">" + plain_audit_action(a) + "</td><td>" +
           (fields.empty() ? std::string("-") : fields) + "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n</section>\n";
}

// per_text writes a limit's period for "at most N times per ...": "7 days", "week" for P1W.
std::string per_text(const IsoDuration& d) {
  const std::string text = plain_duration(d);
  if (text.starts_with("1 ") && text.find(' ', 2) == std::string::npos) return text.substr(2);
  return text;
}

// plain_preference is one contact preference as a sentence, its values escaped.
std::string plain_preference(const ContactPreference& p) {
  switch (p.kind) {
    case ContactPreferenceKind::limit:
      if (p.max <= 0) return "You asked us not to contact you at all about " + escape(p.purpose);
      return "You asked us to contact you at most " + std::to_string(p.max) +
             (p.max == 1 ? " time" : " times") + " per " + per_text(p.per) + " about " + escape(p.purpose);
    case ContactPreferenceKind::opt_out: return "You asked us not to contact you by " + escape(p.channel);
    case ContactPreferenceKind::opt_in: return "You allowed contact by " + escape(p.channel) + " again";
  }
  return escape(to_string(p.kind));
}

void html_contacts(std::string& out, const SubjectReport& r) {
  out += "<section aria-labelledby=\"contacts\">\n<h2 id=\"contacts\">How we contacted you</h2>\n";
  if (r.contacts.empty()) {
    out += "<p>We have not contacted you.</p>\n";
  } else {
    out +=
        "<table>\n<thead><tr><th scope=\"col\">When</th><th scope=\"col\">How</th>"
        "<th scope=\"col\">Why</th></tr></thead>\n<tbody>\n";
    for (const auto& c : r.contacts)
      out += "<tr><td>" + readable_time(c.at) + "</td><td>" + escape(c.channel) + "</td><td>" +
             (c.purpose.empty() ? std::string("-") : escape(c.purpose)) + "</td></tr>\n";
    out += "</tbody>\n</table>\n";
  }
  out += "<h3 id=\"contact-preferences\">Your contact preferences</h3>\n";
  if (r.contact_preferences.empty()) {
    out += "<p>You have not asked us to limit or stop contacting you.</p>\n</section>\n";
    return;
  }
  out += "<ul>\n";
  for (const auto& p : r.contact_preferences)
    out += "<li>" + plain_preference(p) + " (" + readable_time(p.at) + ").</li>\n";
  out += "</ul>\n</section>\n";
}

void html_rights(std::string& out, const SubjectReport& r) {
  const Controller& c = r.controller;
  out += "<section aria-labelledby=\"rights\">\n<h2 id=\"rights\">Your rights</h2>\n<ul>\n";
  out += "<li><strong>Withdraw a consent.</strong> " + escape(withdraw_sentence(c)) + "</li>\n";
  out += "<li><strong>Object.</strong> " + escape(object_sentence(c)) + "</li>\n";
  out += "<li><strong>Limit or stop contact.</strong> " + escape(contact_sentence(c)) + "</li>\n";
  out += "<li><strong>Ask us to erase your data.</strong> " + escape(erasure_sentence(c)) + "</li>\n";
  out +=
      "<li><strong>Ask for a correction or a copy.</strong> You can ask us to correct anything wrong "
      "here, and to send you this data again at any time.</li>\n";
  out += "</ul>\n<p>Responsible for your data: <strong>" + escape(who(c)) + "</strong>";
  if (!c.contact.empty()) out += ", contact: " + contact_html(c);
  out +=
      ".</p>\n<p>If you think we handle your data wrongly, you can also complain to your data "
      "protection authority.</p>\n</section>\n";
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

std::string export_json(const SubjectReport& r) {
  Json j;
  j["consentry_export"] = kExportFormatVersion;
  j["customer"] = r.customer;
  j["generated_at"] = format_timestamp(r.generated_at);
  j["controller"] = {{"name", r.controller.name}, {"contact", r.controller.contact}};
  j["your_rights"] = {{"withdraw", withdraw_sentence(r.controller)},
                      {"object", object_sentence(r.controller)},
                      {"erasure", erasure_sentence(r.controller)},
                      {"contact", r.controller.contact}};
  Json fields = Json::array();
  for (const auto& f : r.fields) {
    Json uses = report_json::uses(f.uses);
    fields.push_back({{"name", f.field},
                      {"value", r.with_values ? Json(f.value) : Json(nullptr)},
                      {"type", to_string(f.type)},
                      {"category", f.category},
                      {"source", f.source},
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
    purposes.push_back(report_json::standing(p));
    if (p.automated_decision) automated.push_back(p.purpose);
  }
  j["purposes"] = std::move(purposes);
  j["automated_decisions"] = std::move(automated);
  Json history = Json::array();
  for (const auto& e : r.consent_history)
    history.push_back({{"seq", e.seq},
                       {"purpose", e.purpose},
                       {"action", to_string(e.action)},
                       {"at", format_timestamp(e.at)},
                       {"channel", e.channel},
                       {"notice", e.notice},
                       {"policy_version", std::max<std::int64_t>(e.policy_version, 1)},
                       {"expires_at", report_json::time_or_null(e.expires_at)}});
  j["consent_history"] = std::move(history);
  Json accesses = Json::array();
  for (const auto& a : r.accesses) accesses.push_back(report_json::access(a));
  j["accesses"] = std::move(accesses);
  j["contacts"] = report_json::contacts(r.contacts);
  j["contact_preferences"] = report_json::contact_preferences(r.contact_preferences);
  // Invalid UTF-8 (which normalise_value never stores) becomes U+FFFD rather than an exception.
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string export_html(const SubjectReport& r) {
  const std::string name = escape(who(r.controller));
  std::string out;
  out.reserve(8192 + r.fields.size() * 512 + r.accesses.size() * 256 + r.contacts.size() * 160);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>Your data held by " + name + "</title>\n<style>" + std::string(kStyle) + "</style>\n";
  out += "</head>\n<body>\n<main>\n<h1>Your data held by " + name + "</h1>\n";
  out += "<p class=\"intro\">This page shows everything " + name +
         " holds about you under your customer reference <strong>" + escape(r.customer) +
         "</strong>, what we use it for, the choices you made, who looked at it and how we contacted you. "
         "It was made on " +
         readable_time(r.generated_at) + ".</p>\n";
  html_held(out, r);
  html_uses(out, r);
  html_consents(out, r);
  html_accesses(out, r);
  html_contacts(out, r);
  html_rights(out, r);
  out += "<footer><p>Made for customer reference " + escape(r.customer) + " on " +
         readable_time(r.generated_at) + ".</p></footer>\n</main>\n</body>\n</html>\n";
  return out;
}

std::string export_csv(const SubjectReport& r) {
  std::string out =
      "field,value,type,category,source,collected_at,retention,retained_until,past_retention,inferred,"
      "derived_from,third_party,uses\r\n";
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
        uses};
    for (std::size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csv_cell(cells[i]);
    out += "\r\n";
  }
  return out;
}

}  // namespace consentry
