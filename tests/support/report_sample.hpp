// report_sample.hpp: a hand-built SubjectReport and Inventory with hostile and non-ASCII values,
// shared by the render tests and the consentry_report_sample tool.
#pragma once

#include <initializer_list>
#include <string>
#include <utility>

#include "consentry/report.hpp"

namespace consentry::test {

/// at reads a timestamp the sample data spells out; it must parse.
inline timestamp at(const char* text) {
  return *parse_timestamp(text);
}

inline Form form(const char* text) {
  return *parse_form(text);
}

/// kHostileScript and kHostileAttribute are values that would run script if pasted unescaped.
inline constexpr const char* kHostileScript = "<script>alert(1)</script>";
inline constexpr const char* kHostileAttribute = "\"><img src=x onerror=alert(2)>";
/// kHostileCustomer is a customer id that tries to break out of an attribute and of a <title>.
inline constexpr const char* kHostileCustomer = "C-1001 '\"></title><img src=x onerror=alert(3)>";
/// kCsvValue holds every character RFC 4180 must quote.
inline constexpr const char* kCsvValue = "1 Main St, Apt \"B\"\r\nSpringfield";
/// kHostileChannel is a contact channel that would render as markup if pasted unescaped.
inline constexpr const char* kHostileChannel = "<b>sms</b>";
/// kUnicodeName is a value outside ASCII.
inline constexpr const char* kUnicodeName = "Zoë Ångström-Łukasiewicz 山田";

/// sample_report is one customer's export data at 2026-01-01T00:00:00Z: a collected e-mail, a
/// name and a birth date, a hostile note and address, a third-party credit score past its
/// retention, an inferred field, four purposes, a consent history, five accesses, two contacts
/// (one on a hostile channel) and three contact preferences (a limit, an opt-out of the hostile
/// channel and an opt-in to sms).
inline SubjectReport sample_report() {
  SubjectReport r;
  r.customer = kHostileCustomer;
  r.generated_at = at("2026-01-01T00:00:00Z");
  r.with_values = true;
  r.controller = {"Acme Retail & Söhne Ltd", "privacy@acme.example"};

  const FieldUse service{"service", form("clear"), Basis::contract, false};
  const FieldUse mail{"marketing.email", form("clear"), Basis::consent, false};
  const FieldUse analytics{"analytics", form("pseudonym"), Basis::legitimate_interest, false};

  HeldField email;
  email.field = "email";
  email.value = "ann@example.com";
  email.type = FieldType::email;
  email.category = "contact";
  email.source = "web-signup";
  email.collected_at = at("2025-05-01T10:00:00Z");
  email.retention = parse_iso_duration("P3Y");
  email.retained_until = at("2028-05-01T10:00:00Z");
  email.uses = {service, mail, analytics};

  HeldField birth;
  birth.field = "birth_date";
  birth.value = "1990-04-02";
  birth.type = FieldType::date;
  birth.category = "identity";
  birth.source = "web-signup";
  birth.collected_at = at("2025-05-01T10:00:00Z");
  birth.uses = {service, {"analytics", form("generalise:year"), Basis::legitimate_interest, false}};

  HeldField name;
  name.field = "full_name";
  name.value = kUnicodeName;
  name.category = "identity";
  name.source = "store-kiosk";
  name.collected_at = at("2025-06-15T08:30:00Z");
  name.uses = {service};

  HeldField note;
  note.field = "note";
  note.value = kHostileScript;
  note.category = "service";
  note.source = "support & <partners>";
  note.collected_at = at("2025-07-01T12:00:00Z");
  note.uses = {{"service", form("mask:last4"), Basis::contract, false}};

  HeldField comment;
  comment.field = "comment";
  comment.value = kHostileAttribute;
  comment.category = "service";
  comment.source = "web-signup";
  comment.collected_at = at("2025-07-02T12:00:00Z");
  comment.uses = {service};

  HeldField address;
  address.field = "address";
  address.value = kCsvValue;
  address.category = "contact";
  address.source = "web-signup";
  address.collected_at = at("2025-05-01T10:00:00Z");
  address.uses = {service};

  HeldField score;
  score.field = "credit_score";
  score.value = "712";
  score.type = FieldType::integer;
  score.category = "financial";
  score.source = "credit-bureau";
  score.collected_at = at("2024-11-01T09:00:00Z");
  score.retention = parse_iso_duration("P1Y");
  score.retained_until = at("2025-11-01T09:00:00Z");
  score.past_retention = true;
  score.third_party = true;
  score.uses = {service};

  HeldField child;
  child.field = "expecting_child";
  child.value = "true";
  child.type = FieldType::boolean;
  child.category = "inferred";
  child.source = "profiling-model";
  child.collected_at = at("2025-08-01T00:00:00Z");
  child.inferred = true;
  child.derived_from = {"birth_date"};
  child.uses = {mail};

  r.fields = {address, birth, comment, score, email, child, name, note};

  r.purposes = {
      {"service", "Run the account you opened", Basis::contract, false, ConsentStatus::none, {}, {}},
      {"marketing.email", "Offers by e-mail", Basis::consent, false, ConsentStatus::granted,
       at("2025-05-01T10:05:00Z"), at("2027-05-01T10:05:00Z")},
      {"analytics", "Aggregate reports", Basis::legitimate_interest, false, ConsentStatus::none, {}, {}},
      {"profiling",
       "Predictions about you (Vorhersagen über Sie)",
       Basis::consent,
       true,
       ConsentStatus::withdrawn,
       at("2025-09-01T00:00:00Z"),
       {}},
  };

  r.consent_history = {
      {1, r.customer, "marketing.email", ConsentAction::grant, at("2025-05-01T10:05:00Z"), "web",
       "privacy-2025-03", at("2027-05-01T10:05:00Z")},
      {2,
       r.customer,
       "profiling",
       ConsentAction::grant,
       at("2025-07-15T10:00:00Z"),
       "phone",
       "privacy-2025-03",
       {}},
      {3,
       r.customer,
       "profiling",
       ConsentAction::withdraw,
       at("2025-09-01T00:00:00Z"),
       "store",
       "privacy-2025-03",
       {}},
  };

  r.accesses = {
      {11,
       at("2025-05-01T10:00:00Z"),
       "crm-import",
       "",
       AuditAction::value_written,
       true,
       "",
       {"email", "birth_date"}},
      {12,
       at("2025-05-01T10:05:00Z"),
       "web-signup",
       "marketing.email",
       AuditAction::consent_recorded,
       true,
       "grant",
       {}},
      {13, at("2025-06-02T14:00:00Z"), "support-desk", "service", AuditAction::view_opened, true, "", {}},
      {14,
       at("2025-06-02T14:00:01Z"),
       "support-desk",
       "service",
       AuditAction::field_read,
       true,
       "",
       {"email:clear", "note:mask:last4"}},
      {15,
       at("2025-10-01T08:00:00Z"),
       "email-campaigns",
       "profiling",
       AuditAction::access_denied,
       false,
       "no_consent",
       {"expecting_child"}},
  };

  r.contacts = {
      {.seq = 21,
       .customer = r.customer,
       .channel = "email",
       .purpose = "marketing.email",
       .at = at("2025-11-03T09:00:00Z")},
      {.seq = 22,
       .customer = r.customer,
       .channel = kHostileChannel,
       .purpose = "service",
       .at = at("2025-12-01T12:30:00Z")},
  };

  r.contact_preferences = {
      {.seq = 31,
       .customer = r.customer,
       .kind = ContactPreferenceKind::limit,
       .purpose = "marketing.email",
       .max = 1,
       .per = *parse_iso_duration("P7D"),
       .at = at("2025-11-04T08:00:00Z")},
      {.seq = 32,
       .customer = r.customer,
       .kind = ContactPreferenceKind::opt_out,
       .channel = kHostileChannel,
       .at = at("2025-12-02T10:00:00Z")},
      {.seq = 33,
       .customer = r.customer,
       .kind = ContactPreferenceKind::opt_in,
       .channel = "sms",
       .at = at("2025-12-20T16:45:00Z")},
  };
  return r;
}

/// wording builds a Wording from an untranslated text, or from (tag, text) pairs.
inline Wording wording(std::initializer_list<std::pair<const char*, const char*>> translations) {
  Wording w;
  for (const auto& [tag, text] : translations) w.translations.emplace(tag, text);
  return w;
}

inline Wording wording(const char* text) {
  Wording w;
  w.text = text;
  return w;
}

/// labelled_report is sample_report with the policy's labels and descriptions, some in English
/// and German, one label hostile: what a vault gathers under a policy that names things for people.
inline SubjectReport labelled_report() {
  SubjectReport r = sample_report();
  Glossary& g = r.glossary;
  g.default_language = "en";
  g.fields["email"] = {wording({{"en", "Email address"}, {"de", "E-Mail-Adresse"}}),
                       wording("Where we send your receipts")};
  g.fields["birth_date"] = {wording({{"en", "Date of birth"}, {"de", "Geburtsdatum"}}), {}};
  g.fields["credit_score"] = {wording("Credit score"), {}};
  g.fields["expecting_child"] = {wording("Whether you are expecting a child"), {}};
  g.fields["full_name"] = {wording("Your name"), {}};
  g.fields["comment"] = {wording("Comment <b>from you</b>"), {}};
  g.fields["note"] = {};
  g.fields["address"] = {};
  g.purposes["service"] = {wording("Running your account"), wording("So that your account works")};
  g.purposes["marketing.email"] = {wording({{"en", "Offers by email"}, {"de", "Angebote per E-Mail"}}), {}};
  g.purposes["analytics"] = {wording("Statistics"), {}};
  g.purposes["profiling"] = {wording("Predictions about you"), {}};
  g.accessors["support-desk"] = {wording("Our support team"), {}};
  g.accessors["email-campaigns"] = {
      wording({{"en", "The newsletter tool"}, {"de", "Das Newsletter-Werkzeug"}}), {}};
  g.accessors["crm-import"] = {wording("Our data import"), {}};
  g.accessors["web-signup"] = {wording("The sign-up form"), {}};
  g.sources["web-signup"] = {wording("The sign-up form"), {}};
  g.sources["credit-bureau"] = {wording("A credit reference agency"), {}};
  // A value with no place to break a line must wrap inside its cell all the same.
  HeldField token;
  token.field = "referral_code";
  token.value = "REF-" + std::string(300, 'x');
  token.category = "service";
  token.source = "web-signup";
  token.collected_at = at("2025-05-01T10:00:00Z");
  r.fields.push_back(token);
  g.fields["referral_code"] = {wording("Referral code"), {}};
  // Staff looked at the customer's metadata.
  r.accesses.push_back(
      {16, at("2025-12-01T09:00:00Z"), "cli", "", AuditAction::staff_read, true, "subject_audit", {}});
  return r;
}

/// sample_inventory is the record of processing at 2026-01-01T00:00:00Z over a 30-day window,
/// with the minimisation hint over 90 days naming phone and expecting_child.
inline Inventory sample_inventory() {
  Inventory inv;
  inv.generated_at = at("2026-01-01T00:00:00Z");
  inv.controller = {"Acme Retail Ltd", "privacy@acme.example"};
  inv.window = *parse_iso_duration("P30D");
  inv.unused_window = parse_iso_duration("P90D");

  InventoryField email;
  email.field = "email";
  email.type = FieldType::email;
  email.category = "contact";
  email.retention = parse_iso_duration("P3Y");
  email.uses = {{"service", form("clear"), Basis::contract, false},
                {"marketing.email", form("clear"), Basis::consent, false},
                {"analytics", form("pseudonym"), Basis::legitimate_interest, false}};
  email.customers = 300;
  email.reads = {{"service", 120}, {"marketing.email", 45}, {"retired.purpose", 2}};
  email.last_read = at("2025-12-31T18:00:00Z");

  InventoryField phone;
  phone.field = "phone";
  phone.type = FieldType::phone;
  phone.category = "contact";
  phone.uses = {{"service", form("mask:last4"), Basis::contract, false}};
  phone.customers = 280;
  phone.last_read = at("2025-06-01T00:00:00Z");

  InventoryField score;
  score.field = "credit_score";
  score.type = FieldType::integer;
  score.category = "financial";
  score.retention = parse_iso_duration("P1Y");
  score.sources = {"credit-bureau"};
  score.uses = {{"service", form("clear"), Basis::contract, false}};
  score.customers = 95;
  score.reads = {{"service", 7}};
  score.last_read = at("2025-12-20T10:00:00Z");

  InventoryField child;
  child.field = "expecting_child";
  child.type = FieldType::boolean;
  child.category = "inferred";
  child.derived_from = {"birth_date"};
  child.uses = {{"marketing.email", form("clear"), Basis::consent, true}};
  child.customers = 12;

  inv.fields = {email, phone, score, child};
  inv.unused = {"phone", "expecting_child"};
  return inv;
}

}  // namespace consentry::test
