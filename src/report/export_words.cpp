// export_words.cpp: the customer's export in plain words: labels in the language asked for,
// refusals as sentences, one row per access, dates in one readable style.
#include "report/export_words.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <set>

namespace consentry::export_words {
namespace {

using report_json::Json;

constexpr const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                   "July",    "August",   "September", "October", "November", "December"};

// who names the controller in a sentence; "us" when the policy names nobody.
std::string who(const Controller& c) {
  return c.name.empty() ? std::string("us") : c.name;
}

// reach_out ends a rights sentence with whom to write to.
std::string reach_out(const Controller& c) {
  if (c.contact.empty()) return " To do so, contact " + who(c) + ".";
  return " To do so, contact " + who(c) + " at " + c.contact + ".";
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

// signal_words says in plain words where a consent signal came from; "" for none.
std::string signal_words(const ConsentSignal& signal) {
  if (signal.kind == "gpc") return "from your browser's Global Privacy Control setting";
  return "from your choices in a consent banner (" + std::string(signal.kind == "tcf" ? "TCF" : "GPP") + ")";
}

std::string plain_consent_action(ConsentAction a) {
  switch (a) {
    case ConsentAction::grant: return "You agreed";
    case ConsentAction::withdraw: return "You withdrew";
    case ConsentAction::object: return "You objected";
  }
  return "You agreed";
}

// plain_action says what an allowed entry did, in words.
std::string plain_action(const AccessRecord& a) {
  switch (a.action) {
    case AuditAction::view_opened: return "Opened your record but read nothing";
    case AuditAction::field_read: return "Read your data";
    case AuditAction::access_denied: return "Was refused";
    case AuditAction::value_written: return "Stored or updated your data";
    case AuditAction::consent_recorded:
      if (const auto choice = parse_consent_action(a.reason))
        return "Recorded your choice: " + plain_consent_action(*choice);
      if (parse_contact_preference_kind(a.reason)) return "Recorded how you want to be contacted";
      return "Recorded your choice";
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
    case AuditAction::lookup: return "Found your record by a detail you gave us";
  }
  return "Used your data";
}

// per_text writes a limit's period for "at most N times per ...": "7 days", "week" for P1W.
std::string per_text(const IsoDuration& d) {
  const std::string text = plain_duration(d);
  if (text.starts_with("1 ") && text.find(' ', 2) == std::string::npos) return text.substr(2);
  return text;
}

std::string plain_preference(const ContactPreference& p, const Labels& labels) {
  switch (p.kind) {
    case ContactPreferenceKind::limit:
      if (p.max <= 0) return "You asked us not to contact you at all about " + labels.purpose(p.purpose);
      return "You asked us to contact you at most " + std::to_string(p.max) +
             (p.max == 1 ? " time" : " times") + " per " + per_text(p.per) + " about " +
             labels.purpose(p.purpose);
    case ContactPreferenceKind::opt_out: return "You asked us not to contact you by " + p.channel;
    case ContactPreferenceKind::opt_in: return "You allowed contact by " + p.channel + " again";
  }
  return "You told us how to contact you";
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

// when is an instant as the template shows it: readable text and the exact instant.
Json when(timestamp t) {
  return {{"text", readable_time(t)}, {"iso", format_timestamp(t)}};
}

Json when_or_null(const std::optional<timestamp>& t) {
  return t ? when(*t) : Json(nullptr);
}

// joined lists items as "a, b and c".
std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += i + 1 == items.size() ? " and " : ", ";
    out += items[i];
  }
  return out;
}

// shown_value is a value as a person reads it: a date in words, a yes/no for a boolean.
std::string shown_value(const HeldField& f) {
  switch (f.type) {
    case FieldType::date: return readable_date(f.value);
    case FieldType::boolean: return f.value == "true" ? "yes" : f.value == "false" ? "no" : f.value;
    default: return f.value;
  }
}

// AccessFields sorts the fields an entry names: those the customer has (with how much of each was
// shown), those the policy knows but the customer has no value for, and names the policy does
// not know at all (never listed: they are not the customer's data).
struct AccessFields {
  std::vector<std::string> held;
  std::vector<std::string> not_held;
  bool unknown = false;
};

// names_fields is true for the actions whose entries name fields (audit.hpp's vocabulary): others
// name a channel (contact_made), erasure counts, policy changes, or nothing.
bool names_fields(AuditAction action) {
  switch (action) {
    case AuditAction::view_opened:
    case AuditAction::field_read:
    case AuditAction::access_denied:
    case AuditAction::value_written:
    case AuditAction::purge:
    case AuditAction::staff_read:
    case AuditAction::lookup: return true;
    default: return false;
  }
}

// sort_fields sorts what `a` names; `have` holds the names of the customer's fields.
AccessFields sort_fields(const AccessRecord& a, const SubjectReport& r, const Labels& labels,
                         const std::set<std::string_view>& have) {
  AccessFields out;
  if (!names_fields(a.action)) return out;
  // A contact refused for its limit names the channel, not a field.
  if (a.reason == to_string(deny_reason::contact_limit)) return out;
  for (const std::string& entry : a.fields) {
    std::string_view name = entry;
    std::optional<Form> form;
    bool absent = false;
    if (a.action == AuditAction::field_read) {
      if (const auto read = parse_read_field(entry)) {
        name = read->field;
        absent = read->absent();
        if (!absent) form = parse_form(read->form);
      }
    }
    const bool known = r.glossary.fields.count(name) != 0 || have.count(name) != 0;
    if (!known) {
      out.unknown = true;
    } else if (absent || !have.count(name)) {
      out.not_held.push_back(labels.field(name));
    } else {
      out.held.push_back(labels.field(name) + (form ? " (" + plain_form(*form) + ")" : std::string()));
    }
  }
  return out;
}

// opened_then_read is true when a view opened by entry `i` was then read from: the next entry of
// the same accessor and purpose reads or is refused a field. Such a pair is one row.
bool opened_then_read(const std::vector<AccessRecord>& all, std::size_t i) {
  const AccessRecord& open = all[i];
  for (std::size_t j = i + 1; j < all.size(); ++j) {
    const AccessRecord& next = all[j];
    if (next.accessor != open.accessor || next.purpose != open.purpose) continue;
    return next.action == AuditAction::field_read || (!next.allowed && !next.fields.empty());
  }
  return false;
}

Json access_rows(const SubjectReport& r, const Labels& labels) {
  // who_acted names a policy accessor by its label; anyone else (staff, the tools they run) acts
  // for the controller, and the customer is told so rather than shown a login name. A report
  // without the policy's accessors (built by hand) names everyone by id.
  const bool know_accessors = !r.glossary.accessors.empty();
  const auto who_acted = [&](const AccessRecord& a) {
    if (know_accessors && !r.glossary.accessors.count(a.accessor)) return who(r.controller);
    return a.accessor.empty() ? std::string("-") : labels.accessor(a.accessor);
  };
  std::set<std::string_view> have;
  for (const HeldField& f : r.fields) have.insert(f.field);
  Json rows = Json::array();
  for (std::size_t i = 0; i < r.accesses.size(); ++i) {
    const AccessRecord& a = r.accesses[i];
    if (a.action == AuditAction::view_opened && a.allowed && opened_then_read(r.accesses, i)) continue;
    const AccessFields fields = sort_fields(a, r, labels, have);
    std::string what;
    if (!a.allowed) {
      what = "Refused, because " + refusal_words(a.reason) + ".";
    } else if (a.action == AuditAction::field_read && fields.held.empty()) {
      what = "Looked for data we do not hold about you";
    } else {
      what = plain_action(a);
    }
    std::string also;
    if (!fields.not_held.empty())
      also = "Also asked for " + joined(fields.not_held) + ", which we do not hold about you.";
    if (fields.unknown)
      also += std::string(also.empty() ? "" : " ") + "Asked for information we do not keep about anyone.";
    // Members are moved in: an initializer list would copy each of them.
    Json row = Json::object();
    row["when"] = when(a.at);
    row["who"] = who_acted(a);
    row["why"] = a.purpose.empty() ? std::string() : labels.purpose(a.purpose);
    row["what"] = std::move(what);
    row["refused"] = !a.allowed;
    row["data"] = joined(fields.held);
    row["also"] = std::move(also);
    rows.push_back(std::move(row));
  }
  return rows;
}

Json held_rows(const SubjectReport& r, const Labels& labels) {
  Json rows = Json::array();
  for (const HeldField& f : r.fields) {
    std::vector<std::string> from;
    for (const std::string& d : f.derived_from) from.push_back(labels.field(d));
    std::string retention;
    if (f.retention) retention = "we keep it for " + plain_duration(*f.retention);
    rows.push_back({{"label", labels.field(f.field)},
                    {"description", labels.field_description(f.field)},
                    {"value", r.with_values ? shown_value(f) : std::string()},
                    {"kind", f.category},
                    {"source", f.source.empty() ? std::string() : labels.source(f.source)},
                    {"inferred", f.inferred},
                    {"derived_from", from.empty() ? std::string("other data") : joined(from)},
                    {"third_party", f.third_party && !f.inferred},
                    {"collected", when(f.collected_at)},
                    {"kept_until", when_or_null(f.retained_until)},
                    {"retention", retention},
                    {"past_retention", f.past_retention}});
  }
  return rows;
}

Json purpose_rows(const SubjectReport& r, const Labels& labels, bool& any_automated) {
  // Every purpose of the policy, then any purpose a field names that the policy list lacks.
  std::vector<PurposeStanding> purposes = r.purposes;
  for (const auto& f : r.fields)
    for (const auto& u : f.uses) {
      const bool known = std::any_of(purposes.begin(), purposes.end(),
                                     [&](const PurposeStanding& p) { return p.purpose == u.purpose; });
      if (!known) purposes.push_back({u.purpose, "", u.basis, u.automated_decision, {}, {}, {}});
    }
  Json rows = Json::array();
  for (const PurposeStanding& p : purposes) {
    Json uses = Json::array();
    for (const HeldField& f : r.fields)
      for (const FieldUse& u : f.uses)
        if (u.purpose == p.purpose)
          uses.push_back({{"field", labels.field(f.field)}, {"form", plain_form(u.form)}});
    any_automated = any_automated || p.automated_decision;
    std::string description = labels.purpose_description(p.purpose);
    if (description.empty()) description = p.description;
    rows.push_back({{"label", labels.purpose(p.purpose)},
                    {"description", description},
                    {"basis", plain_basis(p.basis)},
                    {"automated", p.automated_decision},
                    {"has_uses", !uses.empty()},
                    {"uses", std::move(uses)}});
  }
  return rows;
}

}  // namespace

Labels::Labels(const Glossary& glossary, std::string_view language)
    : glossary_(glossary), language_(language.empty() ? glossary.default_language : std::string(language)) {}

std::string Labels::in(const std::map<std::string, Term, std::less<>>& terms, std::string_view id,
                       bool description) const {
  const auto it = terms.find(id);
  if (it == terms.end()) return "";
  const Wording& w = description ? it->second.description : it->second.label;
  return std::string(w.in(language_, glossary_.default_language));
}

std::string Labels::field(std::string_view id) const {
  std::string label = in(glossary_.fields, id, false);
  if (!label.empty()) return label;
  std::string spaced(id);
  std::replace(spaced.begin(), spaced.end(), '_', ' ');
  return spaced;
}

std::string Labels::purpose(std::string_view id) const {
  std::string label = in(glossary_.purposes, id, false);
  return label.empty() ? std::string(id) : label;
}

std::string Labels::accessor(std::string_view id) const {
  std::string label = in(glossary_.accessors, id, false);
  return label.empty() ? std::string(id) : label;
}

std::string Labels::source(std::string_view id) const {
  std::string label = in(glossary_.sources, id, false);
  return label.empty() ? std::string(id) : label;
}

std::string Labels::field_description(std::string_view id) const {
  return in(glossary_.fields, id, true);
}

std::string Labels::purpose_description(std::string_view id) const {
  return in(glossary_.purposes, id, true);
}

std::string readable_time(timestamp t) {
  const auto day_start = std::chrono::floor<std::chrono::days>(t);
  const std::chrono::year_month_day ymd{day_start};
  const std::chrono::hh_mm_ss hms{t - day_start};
  char buf[96];
  std::snprintf(buf, sizeof buf, "%u %s %d, %02d:%02d UTC", static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()));
  return buf;
}

std::string readable_date(std::string_view iso_date) {
  int y = 0;
  unsigned m = 0, d = 0;
  char tail = 0;
  const std::string text(iso_date);
  if (text.size() != 10 || std::sscanf(text.c_str(), "%4d-%2u-%2u%c", &y, &m, &d, &tail) != 3) return text;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!ymd.ok()) return text;
  return std::to_string(d) + " " + kMonths[m - 1] + " " + std::to_string(y);
}

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
    case FormKind::mask_first: return "partly hidden: only the first " + n + " characters";
    case FormKind::mask_email: return "partly hidden: only the part after the @";
    case FormKind::replace: return "hidden: replaced by a fixed text";
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

std::string refusal_words(std::string_view reason) {
  if (reason == kIntegrityReason)
    return "the stored data failed our check against tampering, so nothing was shown";
  const auto r = parse_deny_reason(reason);
  if (!r) return "our policy did not allow it";
  switch (*r) {
    case deny_reason::none: return "our policy did not allow it";
    case deny_reason::no_consent: return "you had not agreed to this use";
    case deny_reason::withdrawn: return "you had withdrawn your consent to this use";
    case deny_reason::expired: return "your consent to this use had expired";
    case deny_reason::objected: return "you had objected to this use";
    case deny_reason::purpose_not_allowed_for_field: return "our policy does not let this use see that data";
    case deny_reason::accessor_not_registered:
      return "our policy does not let this part of our system do that";
    case deny_reason::unknown_purpose: return "our policy has no such use";
    case deny_reason::unknown_field: return "we do not keep such data";
    case deny_reason::retention_expired: return "we had kept that data for as long as our policy allows";
    case deny_reason::erased: return "you had asked us to erase your data";
    case deny_reason::contact_limit: return "it would have contacted you more often than allowed";
    case deny_reason::inference_needs_profiling:
      return "it was a guess about you, and you had not agreed to profiling";
    case deny_reason::source_not_permitted: return "the data came from a source our policy does not accept";
    case deny_reason::form_unavailable: return "the data could not be shown in the limited form allowed";
    case deny_reason::privacy_budget_spent: return "the limit on statistics about you had been reached";
    case deny_reason::lookup_not_allowed: return "our policy does not let this use search by that data";
    case deny_reason::consent_outdated:
      return "this use now covers more than when you agreed, and you had not agreed again";
  }
  return "our policy did not allow it";
}

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

Json view(const SubjectReport& r, const Labels& labels) {
  Json v;
  v["language"] = labels.language();
  v["customer"] = r.customer;
  v["generated"] = when(r.generated_at);
  v["controller"] = {{"name", who(r.controller)},
                     {"contact", r.controller.contact},
                     {"has_contact", !r.controller.contact.empty()},
                     {"mailto", mailto_safe(r.controller.contact)}};
  v["with_values"] = r.with_values;
  v["fields"] = held_rows(r, labels);
  v["has_fields"] = !r.fields.empty();
  bool any_automated = false;
  v["purposes"] = purpose_rows(r, labels, any_automated);
  v["has_purposes"] = !v["purposes"].empty();
  v["any_automated"] = any_automated;
  Json consents = Json::array();
  for (const PurposeStanding& p : r.purposes)
    consents.push_back({{"label", labels.purpose(p.purpose)},
                        {"choice", plain_status(p.status, p.basis)},
                        {"since", when_or_null(p.since)},
                        {"until", when_or_null(p.expires_at)}});
  v["has_consents"] = !consents.empty();
  v["consents"] = std::move(consents);
  Json history = Json::array();
  for (const ConsentEvent& e : r.consent_history)
    history.push_back({{"when", when(e.at)},
                       {"purpose", labels.purpose(e.purpose)},
                       {"action", plain_consent_action(e.action)},
                       {"channel", e.channel},
                       {"signal", e.signal ? signal_words(*e.signal) : std::string()},
                       {"notice", e.notice},
                       {"policy_version", std::to_string(std::max<std::int64_t>(e.policy_version, 1))},
                       {"until", when_or_null(e.expires_at)}});
  v["has_history"] = !history.empty();
  v["history"] = std::move(history);
  v["accesses"] = access_rows(r, labels);
  v["has_accesses"] = !v["accesses"].empty();
  Json contacts = Json::array();
  for (const ContactEvent& c : r.contacts)
    contacts.push_back({{"when", when(c.at)},
                        {"channel", c.channel},
                        {"why", c.purpose.empty() ? std::string() : labels.purpose(c.purpose)}});
  v["has_contacts"] = !contacts.empty();
  v["contacts"] = std::move(contacts);
  Json preferences = Json::array();
  for (const ContactPreference& p : r.contact_preferences)
    preferences.push_back({{"text", plain_preference(p, labels)}, {"when", when(p.at)}});
  v["has_preferences"] = !preferences.empty();
  v["preferences"] = std::move(preferences);
  v["rights"] = {{"withdraw", withdraw_sentence(r.controller)},
                 {"object", object_sentence(r.controller)},
                 {"contact", contact_sentence(r.controller)},
                 {"erasure", erasure_sentence(r.controller)}};
  return v;
}

}  // namespace consentry::export_words
