// report.hpp: three views of what is held about customers. The customer's own export ("show my
// data": JSON, HTML, CSV), the staff audit of one customer (metadata only, never a value), and
// the record of processing over all customers (GDPR Art. 30, with a minimisation hint). The
// vault gathers a SubjectReport or an Inventory; the functions here only render them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/consent.hpp"
#include "consentry/contact.hpp"
#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/policy.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"
#include "consentry/wording.hpp"

namespace consentry {

/// kExportFormatVersion is the value of "consentry_export" in a JSON export.
inline constexpr int kExportFormatVersion = 1;

/// FieldUse is one purpose the policy lets use a field, in which form and on which basis.
struct FieldUse {
  std::string purpose;
  Form form;
  Basis basis = Basis::consent;
  bool automated_decision = false;  ///< the purpose makes automated decisions (GDPR Art. 22)
};

/// HeldField is one value held about a customer, with everything the customer may know about
/// it. `value` is filled only in an export made for the customer; a staff audit leaves it empty.
struct HeldField {
  std::string field;
  std::string value;  ///< the stored value in clear (exports only)
  FieldType type = FieldType::string;
  std::string category;
  std::string source;
  timestamp collected_at{};
  std::optional<IsoDuration> retention;     ///< from the policy; nullopt = kept until erased
  std::optional<timestamp> retained_until;  ///< collected_at + retention
  bool past_retention = false;              ///< retained_until has passed at generated_at
  bool inferred = false;                    ///< category "inferred": derived, not disclosed
  std::vector<std::string> derived_from;    ///< the fields an inferred value was derived from
  bool third_party = false;                 ///< from a source the policy names for the field
  std::vector<FieldUse> uses;               ///< the purposes that may use it
};

/// PurposeStanding is where the customer stands on one purpose of the policy.
struct PurposeStanding {
  std::string purpose;
  std::string description;
  Basis basis = Basis::consent;
  bool automated_decision = false;
  ConsentStatus status = ConsentStatus::none;  ///< from the consent ledger at generated_at
  std::optional<timestamp> since;              ///< the time of the last event on the purpose
  std::optional<timestamp> expires_at;         ///< when a grant lapses
};

/// AccessRecord is one audit log entry about the customer, without the log's pseudonym.
struct AccessRecord {
  std::int64_t seq = 0;
  timestamp at{};
  std::string accessor;
  std::string purpose;
  AuditAction action = AuditAction::field_read;
  bool allowed = true;
  std::string reason;
  std::vector<std::string> fields;
  std::string actor;  ///< who acted through the accessor (AuditEntry::actor); "" when not recorded
};

/// Term is how the policy names one id to a person: a label and a longer description.
struct Term {
  Wording label;
  Wording description;
};

/// Glossary is the policy's wording for every id a report can name (fields, purposes,
/// accessors, sources), so that a renderer can speak to a person in their language.
struct Glossary {
  std::string default_language = "en";
  std::map<std::string, Term, std::less<>> fields;
  std::map<std::string, Term, std::less<>> purposes;
  std::map<std::string, Term, std::less<>> accessors;
  std::map<std::string, Term, std::less<>> sources;
};

/// glossary_of collects the labels and descriptions `policy` gives.
Glossary glossary_of(const Policy& policy);

/// SubjectReport is everything held about one customer: the data behind an export (with
/// values) and behind a staff audit (without).
struct SubjectReport {
  std::string customer;
  timestamp generated_at{};
  bool with_values = false;  ///< true for the customer's export
  Controller controller;
  std::vector<HeldField> fields;          ///< by field name
  std::vector<PurposeStanding> purposes;  ///< every purpose of the policy, in policy order
  std::vector<ConsentEvent> consent_history;
  /// consent_receipts holds, for the customer's export, the signed receipt (consentry/receipt.hpp)
  /// of each event of consent_history, in the same order; empty in the staff audit.
  std::vector<std::string> consent_receipts;
  std::vector<AccessRecord> accesses;                  ///< in log order
  std::vector<ContactEvent> contacts;                  ///< contacts made with the customer, in log order
  std::vector<ContactPreference> contact_preferences;  ///< their own limits and opt-outs, in log order
  Glossary glossary;                                   ///< the policy's wording for the ids above
};

/// ExportTemplate is a checked Mustache template for the HTML export (docs/export.md lists the
/// names it can use). Values are HTML-escaped by the template engine unless the template asks
/// for them raw with triple braces, which a template for customers should never do.
class ExportTemplate {
 public:
  /// parse checks the template's syntax. errc::bad_input naming `origin` and the engine's
  /// message when it is malformed (an unclosed section, a bad delimiter).
  static result<ExportTemplate> parse(std::string_view text, std::string_view origin = "template");
  /// builtin is the template the library ships (templates/export.html.mustache): English words,
  /// the policy's labels in the language asked for.
  static const ExportTemplate& builtin();
  /// text is the template's source.
  const std::string& text() const noexcept { return text_; }

 private:
  explicit ExportTemplate(std::string text) : text_(std::move(text)) {}
  std::string text_;
};

/// ExportOptions says how an export speaks: in which language, with which template.
struct ExportOptions {
  std::string language;                  ///< a language tag; "" = the policy's default language
  const ExportTemplate* html = nullptr;  ///< the HTML template; nullptr = ExportTemplate::builtin()
};

/// export_json renders the customer's export as JSON text (docs/export.schema.json), which
/// `consentry import --format export` reads back. Ids stay as they are; each gains a "label" in
/// `options.language` (falling back to the policy's default language, then to the id).
std::string export_json(const SubjectReport& report, const ExportOptions& options = {});
/// export_html renders it as one self-contained, accessible HTML page: no script, no external
/// resource, every value escaped, rendered from `options.html` (the built-in template when null).
/// It names everything by its label, tells refusals in plain words, shows one row per access
/// and every date in one readable style.
std::string export_html(const SubjectReport& report, const ExportOptions& options = {});
/// export_csv renders one row per field (RFC 4180, header first). A cell that a spreadsheet would
/// run as a formula (it starts with =, +, -, @, a tab or CR) gets a leading single quote and is
/// quoted, as OWASP recommends against CSV injection. The last column is the field's label.
std::string export_csv(const SubjectReport& report, const ExportOptions& options = {});

/// staff_audit_text renders the staff view of one customer as readable tables: metadata,
/// consents, last accesses and flags, never a value. `last_accesses` bounds the accesses shown.
std::string staff_audit_text(const SubjectReport& report, std::size_t last_accesses = 20);
/// staff_audit_json renders the same as JSON.
std::string staff_audit_json(const SubjectReport& report, std::size_t last_accesses = 20);

/// InventoryField is one field in the record of processing.
struct InventoryField {
  std::string field;
  FieldType type = FieldType::string;
  std::string category;
  std::optional<IsoDuration> retention;
  std::vector<std::string> sources;       ///< declared sources; empty = any
  std::vector<std::string> derived_from;  ///< for inferred fields
  std::vector<FieldUse> uses;
  std::int64_t customers = 0;                              ///< customers holding a value
  std::map<std::string, std::int64_t, std::less<>> reads;  ///< purpose -> reads in the window
  std::optional<timestamp> last_read;                      ///< the last read by any purpose, if any
};

/// Inventory is the record of processing at `generated_at`.
struct Inventory {
  timestamp generated_at{};
  Controller controller;
  IsoDuration window;                        ///< `reads` count reads in (generated_at - window, generated_at]
  std::optional<IsoDuration> unused_window;  ///< the minimisation hint's window, when asked
  std::vector<InventoryField> fields;        ///< in policy order
  std::vector<std::string> unused;  ///< fields no purpose read within unused_window (empty when not asked)
};

/// inventory_text renders the record of processing as a readable table.
std::string inventory_text(const Inventory& inventory);
/// inventory_json renders it as JSON.
std::string inventory_json(const Inventory& inventory);

}  // namespace consentry
