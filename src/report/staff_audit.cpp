// staff_audit.cpp: the staff view of one customer: metadata, consents, accesses, contacts,
// contact preferences and flags. It reads no HeldField::value, so a report gathered with values
// still renders without them.
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/report.hpp"
#include "report/report_json.hpp"
#include "text/text_table.hpp"

namespace consentry {
namespace {

using detail::TextTable;
using report_json::Json;

std::string optional_text(const std::optional<timestamp>& t) {
  return t ? format_timestamp(*t) : std::string("-");
}

// past_retention is the report's flag, or what retained_until says at generated_at.
bool past_retention(const HeldField& f, timestamp generated_at) {
  return f.past_retention || (f.retained_until && *f.retained_until <= generated_at);
}

// days_left counts whole days from generated_at until retained_until (negative once past).
std::optional<std::int64_t> days_left(const HeldField& f, timestamp generated_at) {
  if (!f.retained_until) return std::nullopt;
  return std::chrono::floor<std::chrono::days>(*f.retained_until - generated_at).count();
}

std::string retention_left_text(const HeldField& f, timestamp generated_at) {
  if (past_retention(f, generated_at)) return "past retention";
  const auto days = days_left(f, generated_at);
  if (!days) return "until erased";
  if (*days == 0) return "less than a day";
  return std::to_string(*days) + (*days == 1 ? " day" : " days");
}

std::string flags_text(const HeldField& f, timestamp generated_at) {
  std::string flags;
  auto add = [&](const std::string& flag) { flags += (flags.empty() ? "" : ", ") + flag; };
  if (past_retention(f, generated_at)) add("past_retention");
  if (f.third_party) add("third_party");
  if (f.inferred) {
    std::string from;
    for (const auto& d : f.derived_from) from += (from.empty() ? "" : "+") + d;
    add(from.empty() ? std::string("inferred") : "inferred from " + from);
  }
  return flags.empty() ? std::string("-") : flags;
}

// first_shown is the index of the first of the last `n` accesses.
std::size_t first_shown(const SubjectReport& r, std::size_t n) {
  return r.accesses.size() > n ? r.accesses.size() - n : 0;
}

}  // namespace

std::string staff_audit_text(const SubjectReport& r, std::size_t last_accesses) {
  std::string out = detail::terminal_safe("Staff audit of customer " + r.customer) + "\n";
  out += "Generated " + format_timestamp(r.generated_at) + "; controller " +
         detail::terminal_safe(r.controller.name.empty() ? "-" : r.controller.name);
  if (!r.controller.contact.empty()) out += " <" + detail::terminal_safe(r.controller.contact) + ">";
  out += "\nMetadata only: this report never shows a stored value.\n";

  out += "\nFields (" + std::to_string(r.fields.size()) + ")\n";
  TextTable fields({"FIELD", "TYPE", "CATEGORY", "SOURCE", "COLLECTED", "RETENTION", "RETAINED UNTIL",
                    "RETENTION LEFT", "FLAGS"});
  for (const auto& f : r.fields)
    fields.add({f.field, std::string(to_string(f.type)), f.category, f.source.empty() ? "-" : f.source,
                format_timestamp(f.collected_at), f.retention ? f.retention->to_string() : "-",
                optional_text(f.retained_until), retention_left_text(f, r.generated_at),
                flags_text(f, r.generated_at)});
  out += fields.empty() ? "  (none)\n" : fields.render();

  out += "\nUses allowed by the policy\n";
  TextTable uses({"FIELD", "PURPOSE", "FORM", "BASIS", "AUTOMATED DECISION"});
  for (const auto& f : r.fields)
    for (const auto& u : f.uses)
      uses.add({f.field, u.purpose, u.form.to_string(), std::string(to_string(u.basis)),
                u.automated_decision ? "yes" : "no"});
  out += uses.empty() ? "  (none)\n" : uses.render();

  out += "\nConsents\n";
  TextTable consents({"PURPOSE", "BASIS", "STATUS", "SINCE", "EXPIRES", "AUTOMATED DECISION"});
  for (const auto& p : r.purposes)
    consents.add({p.purpose, std::string(to_string(p.basis)), std::string(to_string(p.status)),
                  optional_text(p.since), optional_text(p.expires_at), p.automated_decision ? "yes" : "no"});
  out += consents.empty() ? "  (none)\n" : consents.render();

  const std::size_t first = first_shown(r, last_accesses);
  out += "\nLast accesses (" + std::to_string(r.accesses.size() - first) + " of " +
         std::to_string(r.accesses.size()) + ")\n";
  TextTable accesses({"SEQ", "AT", "ACCESSOR", "PURPOSE", "ACTION", "DECISION", "REASON", "FIELDS"});
  for (std::size_t i = first; i < r.accesses.size(); ++i) {
    const auto& a = r.accesses[i];
    std::string names;
    for (const auto& f : a.fields) names += (names.empty() ? "" : ", ") + f;
    // The person or system behind an accessor's read, when the log names one.
    const std::string by = a.actor.empty() ? a.accessor : a.accessor + " (by " + a.actor + ")";
    accesses.add({std::to_string(a.seq), format_timestamp(a.at), by, a.purpose.empty() ? "-" : a.purpose,
                  std::string(to_string(a.action)), a.allowed ? "allowed" : "denied",
                  a.reason.empty() ? "-" : a.reason, names.empty() ? "-" : names});
  }
  out += accesses.empty() ? "  (none)\n" : accesses.render();

  out += "\nContacts (" + std::to_string(r.contacts.size()) + ")\n";
  TextTable contacts({"SEQ", "AT", "CHANNEL", "PURPOSE"});
  for (const auto& c : r.contacts)
    contacts.add(
        {std::to_string(c.seq), format_timestamp(c.at), c.channel, c.purpose.empty() ? "-" : c.purpose});
  out += contacts.empty() ? "  (none)\n" : contacts.render();

  out += "\nContact preferences (" + std::to_string(r.contact_preferences.size()) + ")\n";
  TextTable preferences({"SEQ", "AT", "KIND", "PURPOSE", "CHANNEL", "MAX", "PER"});
  for (const auto& p : r.contact_preferences) {
    const bool limit = p.kind == ContactPreferenceKind::limit;
    preferences.add({std::to_string(p.seq), format_timestamp(p.at), std::string(to_string(p.kind)),
                     limit ? p.purpose : "-", limit ? "-" : p.channel, limit ? std::to_string(p.max) : "-",
                     limit ? p.per.to_string() : "-"});
  }
  out += preferences.empty() ? "  (none)\n" : preferences.render();
  return out;
}

std::string staff_audit_json(const SubjectReport& r, std::size_t last_accesses) {
  Json j;
  j["consentry_staff_audit"] = 1;
  j["customer"] = r.customer;
  j["generated_at"] = format_timestamp(r.generated_at);
  j["controller"] = {{"name", r.controller.name}, {"contact", r.controller.contact}};
  Json fields = Json::array();
  for (const auto& f : r.fields) {
    Json uses = report_json::uses(f.uses);
    const auto left = days_left(f, r.generated_at);
    fields.push_back({{"name", f.field},
                      {"type", to_string(f.type)},
                      {"category", f.category},
                      {"source", f.source},
                      {"collected_at", format_timestamp(f.collected_at)},
                      {"retention", f.retention ? Json(f.retention->to_string()) : Json(nullptr)},
                      {"retained_until", report_json::time_or_null(f.retained_until)},
                      {"retention_left_days", left ? Json(*left) : Json(nullptr)},
                      {"past_retention", past_retention(f, r.generated_at)},
                      {"third_party", f.third_party},
                      {"inferred", f.inferred},
                      {"derived_from", f.derived_from},
                      {"uses", std::move(uses)}});
  }
  j["fields"] = std::move(fields);
  Json purposes = Json::array();
  for (const auto& p : r.purposes) purposes.push_back(report_json::standing(p));
  j["purposes"] = std::move(purposes);
  const std::size_t first = first_shown(r, last_accesses);
  j["accesses_total"] = r.accesses.size();
  Json accesses = Json::array();
  for (std::size_t i = first; i < r.accesses.size(); ++i) {
    const auto& a = r.accesses[i];
    Json access = report_json::access(a);
    if (!a.actor.empty()) access["actor"] = a.actor;
    accesses.push_back(std::move(access));
  }
  j["accesses"] = std::move(accesses);
  j["contacts"] = report_json::contacts(r.contacts);
  j["contact_preferences"] = report_json::contact_preferences(r.contact_preferences);
  return j.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace consentry
