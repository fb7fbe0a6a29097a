// subject_report.cpp: gathering what is held about one customer (their export, the staff audit)
// and about every field (the record of processing). The renderers are in src/report/.
#include <algorithm>
#include <map>
#include <set>

#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/report.hpp"
#include "consentry/vault.hpp"
#include "crypto/aead.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

/// uses_of lists the purposes the policy lets use `spec`, in policy order.
std::vector<FieldUse> uses_of(const Policy& policy, const FieldSpec& spec) {
  std::vector<FieldUse> out;
  for (const Purpose& p : policy.purposes()) {
    if (const Form* form = spec.form_for(p.id))
      out.push_back(FieldUse{p.id, *form, p.basis, p.automated_decision});
  }
  return out;
}

/// access_record turns a decoded log entry into what the customer is shown: the same entry
/// without the pseudonym the log names them by.
AccessRecord access_record(AuditEntry e) {
  return AccessRecord{e.seq,
                      e.at,
                      std::move(e.accessor),
                      std::move(e.purpose),
                      e.action,
                      e.allowed,
                      std::move(e.reason),
                      std::move(e.fields),
                      std::move(e.actor)};
}

}  // namespace

result<SubjectReport> Vault::Impl::gather_subject(std::string_view customer, bool with_values) const {
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  SubjectReport report;
  report.customer = std::string(customer);
  report.generated_at = now();
  report.with_values = with_values;
  const std::string name(customer);

  std::lock_guard lock(store_mu);
  // One snapshot: the policy, the values, the ledger and the log as committed at one instant.
  auto snapshot = ReadSnapshot::open(*store);
  if (!snapshot) return std::move(snapshot).err();
  auto latest = follow_policy();
  if (!latest) return std::move(latest).err();
  const Policy& in_force = (*latest)->policy;  // one version for the whole report
  report.controller = in_force.controller();
  report.glossary = glossary_of(in_force);
  CONSENTRY_TRY(known_customer(customer));
  const std::string tag = audit_pseudonym(customer);

  auto stored = store->get_fields(customer);
  if (!stored) return std::move(stored).err();
  // Every row, and the absence of any other, is checked against the customer's manifest, values
  // or not: the staff view shows sources and retention dates, which a changed row would forge.
  const std::optional<StoredField> manifest = take_manifest(*stored);
  auto key = data_key(name);
  if (!key) return std::move(key).err();
  auto listed = vouching_manifest(*key, name, manifest, !stored->empty());
  if (!listed) return std::move(listed).err();
  if (*listed) CONSENTRY_TRY((*listed)->check_all(*stored));
  for (StoredField& s : *stored) {
    HeldField held;
    held.field = s.field;
    held.source = std::move(s.source);
    held.collected_at = s.collected_at;
    // A value whose field a later policy dropped is still held, and still shown: with no
    // category, no retention and no purpose that may use it.
    if (const FieldSpec* spec = in_force.field(s.field)) {
      held.type = spec->type;
      held.category = spec->category;
      held.retention = spec->retention;
      if (spec->retention) {
        held.retained_until = spec->retention->after(s.collected_at);
        held.past_retention = *held.retained_until <= report.generated_at;
      }
      held.inferred = spec->is_inferred();
      held.derived_from = spec->derived_from;
      held.third_party = !spec->sources.empty();
      held.uses = uses_of(in_force, *spec);
    }
    if (with_values) {
      // A row vouched for has a data key: without one, vouching_manifest refused it.
      auto plain =
          open_field(**key, name, s.field, s.sealed, s.format, FieldMetadata{held.source, s.collected_at});
      if (!plain) return make_error(errc::integrity, "field '" + s.field + "' failed authentication");
      held.value = plain->reveal_string();
    }
    report.fields.push_back(std::move(held));
  }

  auto history = store->consent_history(customer);
  if (!history) return std::move(history).err();
  const ConsentState state = ConsentState::from_history(*history);
  for (const Purpose& p : in_force.purposes()) {
    PurposeStanding standing{p.id,
                             std::string(p.description.in(in_force.default_language())),
                             p.basis,
                             p.automated_decision,
                             state.status(p.id, report.generated_at),
                             std::nullopt,
                             std::nullopt};
    if (const ConsentEvent* last = state.last(p.id)) {
      standing.since = last->at;
      if (last->action == ConsentAction::grant) standing.expires_at = last->expires_at;
    }
    report.purposes.push_back(std::move(standing));
  }
  // The customer's own export carries a signed receipt of every event; the staff audit does not.
  if (with_values) {
    auto receipts = issue_receipts(*history);
    if (!receipts) return std::move(receipts).err();
    report.consent_receipts = std::move(*receipts);
  }
  report.consent_history = std::move(*history);
  auto contacts = store->contacts(customer);
  if (!contacts) return std::move(contacts).err();
  report.contacts = std::move(*contacts);
  auto preferences = store->contact_preferences(customer);
  if (!preferences) return std::move(preferences).err();
  report.contact_preferences = std::move(*preferences);

  auto rows = store->audit_for_customer(tag);
  if (!rows) return std::move(rows).err();
  report.accesses.reserve(rows->size());
  for (const StoredAuditEntry& row : *rows) {
    auto e = decode_audit_entry(row.encoded);
    if (!e)
      return make_error(errc::integrity, "audit entry " + std::to_string(row.seq) + " cannot be decoded");
    report.accesses.push_back(access_record(std::move(*e)));
  }
  return report;
}

result<SubjectReport> Vault::export_subject(std::string_view customer) const {
  const Impl& impl = *impl_;
  // Entries held back from reads are committed first, so the export lists every access so far.
  CONSENTRY_TRY(impl.audit().flush());
  auto report = impl.gather_subject(customer, true);
  if (!report) {
    // A refused export of an erased customer is recorded beside their erasure.
    if (report.err().code == errc::erased) {
      AuditEntry e = impl.entry(AuditAction::access_denied, customer, impl.options.actor, "");
      e.allowed = false;
      e.reason = std::string(to_string(deny_reason::erased));
      e.fields = {"export"};
      CONSENTRY_TRY(impl.audit().record({std::move(e)}));
    }
    return report;
  }
  AuditEntry e = impl.entry(AuditAction::export_made, customer, impl.options.actor, "");
  for (const HeldField& f : report->fields) e.fields.push_back(f.field);
  // The export leaves the library only once its entry is committed.
  CONSENTRY_TRY(impl.audit().record({std::move(e)}));
  return report;
}

result<SubjectReport> Vault::describe_subject(std::string_view customer) const {
  const Impl& impl = *impl_;
  CONSENTRY_TRY(impl.audit().flush());
  auto report = impl.gather_subject(customer, false);
  if (!report) return report;
  // A staff read of metadata: the entry names the fields described, never a value.
  AuditEntry e = impl.entry(AuditAction::staff_read, customer, impl.options.actor, "");
  e.reason = std::string(to_string(StaffView::subject_audit));
  for (const HeldField& f : report->fields) e.fields.push_back(f.field);
  CONSENTRY_TRY(impl.audit().record({std::move(e)}));
  return report;
}

result<Inventory> Vault::inventory(const IsoDuration& window,
                                   std::optional<IsoDuration> unused_window) const {
  const Impl& impl = *impl_;
  CONSENTRY_TRY(impl.audit().flush());
  Inventory out;
  out.generated_at = impl.now();
  auto latest = impl.latest_policy();
  if (!latest) return std::move(latest).err();
  const Policy& policy = (*latest)->policy;  // one version for the whole inventory
  out.controller = policy.controller();
  out.window = window;
  out.unused_window = unused_window;
  const timestamp reads_since = window.before(out.generated_at);
  const timestamp unused_since = unused_window ? unused_window->before(out.generated_at) : out.generated_at;

  std::map<std::string, std::int64_t, std::less<>> holders;
  // field -> purpose -> reads in the window; field -> last read; fields read since unused_since.
  std::map<std::string, std::map<std::string, std::int64_t, std::less<>>, std::less<>> reads;
  std::map<std::string, timestamp, std::less<>> last_read;
  std::set<std::string, std::less<>> read_recently;
  {
    std::lock_guard lock(impl.store_mu);
    auto snapshot = ReadSnapshot::open(*impl.store);
    if (!snapshot) return std::move(snapshot).err();
    auto counts = impl.store->field_counts();
    if (!counts) return std::move(counts).err();
    holders.insert(counts->begin(), counts->end());
    result<void> failed;
    CONSENTRY_TRY(impl.store->scan_audit_views(1, [&](const StoredAuditView& row) {
      auto e = decode_audit_entry(row.encoded);
      if (!e) {
        failed = make_error(errc::integrity, "audit entry " + std::to_string(row.seq) + " cannot be decoded");
        return false;
      }
      if (e->action != AuditAction::field_read || !e->allowed) return true;
      for (const std::string& revealed : e->fields) {
        // Reads name "field:form"; "field:absent" found no value and read nothing.
        const auto read = parse_read_field(revealed);
        if (read && read->absent()) continue;
        const std::string_view field = read ? read->field : std::string_view(revealed);
        auto [it, fresh] = last_read.emplace(std::string(field), e->at);
        if (!fresh && it->second < e->at) it->second = e->at;
        if (e->at > reads_since) ++reads[std::string(field)][e->purpose];
        if (e->at > unused_since) read_recently.emplace(field);
      }
      return true;
    }));
    CONSENTRY_TRY(failed);
  }

  for (const FieldSpec& spec : policy.fields()) {
    InventoryField f;
    f.field = spec.name;
    f.type = spec.type;
    f.category = spec.category;
    f.retention = spec.retention;
    f.sources = spec.sources;
    f.derived_from = spec.derived_from;
    f.uses = uses_of(policy, spec);
    if (auto it = holders.find(spec.name); it != holders.end()) f.customers = it->second;
    if (auto it = reads.find(spec.name); it != reads.end()) f.reads = std::move(it->second);
    if (auto it = last_read.find(spec.name); it != last_read.end()) f.last_read = it->second;
    if (unused_window && !read_recently.count(spec.name)) out.unused.push_back(spec.name);
    out.fields.push_back(std::move(f));
  }
  return out;
}

}  // namespace consentry
