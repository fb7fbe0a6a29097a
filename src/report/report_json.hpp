// report_json.hpp: the JSON encodings the export, the staff audit and the inventory share, so
// that one member is spelled the same in all three (private to src/report/).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "consentry/report.hpp"

namespace consentry::report_json {

using Json = nlohmann::ordered_json;

/// time_or_null writes a time as "2025-05-01T10:00:00Z", or null when there is none.
inline Json time_or_null(const std::optional<timestamp>& t) {
  return t ? Json(format_timestamp(*t)) : Json(nullptr);
}

/// uses lists the purposes that may use a field, with form, basis and automated decisions.
inline Json uses(const std::vector<FieldUse>& all) {
  Json out = Json::array();
  for (const FieldUse& u : all)
    out.push_back({{"purpose", u.purpose},
                   {"form", u.form.to_string()},
                   {"basis", to_string(u.basis)},
                   {"automated_decision", u.automated_decision}});
  return out;
}

/// standing is where the customer stands on one purpose.
inline Json standing(const PurposeStanding& p) {
  return {{"id", p.purpose},
          {"description", p.description},
          {"basis", to_string(p.basis)},
          {"automated_decision", p.automated_decision},
          {"status", to_string(p.status)},
          {"since", time_or_null(p.since)},
          {"expires_at", time_or_null(p.expires_at)}};
}

/// access is one audit log entry about the customer.
inline Json access(const AccessRecord& a) {
  return {{"seq", a.seq},
          {"at", format_timestamp(a.at)},
          {"accessor", a.accessor},
          {"purpose", a.purpose},
          {"action", to_string(a.action)},
          {"allowed", a.allowed},
          {"reason", a.reason},
          {"fields", a.fields}};
}

/// contact is one contact made with the customer.
inline Json contact(const ContactEvent& c) {
  return {{"seq", c.seq}, {"at", format_timestamp(c.at)}, {"channel", c.channel}, {"purpose", c.purpose}};
}

/// contact_preference is one of the customer's contact preferences; a member the kind does not
/// use (purpose, max and per for an opt-out or opt-in, channel for a limit) is null.
inline Json contact_preference(const ContactPreference& p) {
  const bool limit = p.kind == ContactPreferenceKind::limit;
  return {{"seq", p.seq},
          {"at", format_timestamp(p.at)},
          {"kind", to_string(p.kind)},
          {"purpose", limit ? Json(p.purpose) : Json(nullptr)},
          {"channel", limit ? Json(nullptr) : Json(p.channel)},
          {"max", limit ? Json(p.max) : Json(nullptr)},
          {"per", limit ? Json(p.per.to_string()) : Json(nullptr)}};
}

/// contacts and contact_preferences list them all, in log order.
inline Json contacts(const std::vector<ContactEvent>& all) {
  Json out = Json::array();
  for (const ContactEvent& c : all) out.push_back(contact(c));
  return out;
}

inline Json contact_preferences(const std::vector<ContactPreference>& all) {
  Json out = Json::array();
  for (const ContactPreference& p : all) out.push_back(contact_preference(p));
  return out;
}

}  // namespace consentry::report_json
