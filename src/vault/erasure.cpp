// erasure.cpp: the right to erasure (the data key destroyed, the rows deleted, the files
// compacted, the audit log told) and online backups.
#include <algorithm>

#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

error erased_error(std::string_view where) {
  return make_error(errc::erased, std::string(where) + "customer was erased", deny_reason::erased);
}

result<bool> Vault::Impl::is_erased(std::string_view tag) const {
  auto at = store->erased_at(tag);
  if (!at) return std::move(at).err();
  return at->has_value();
}

namespace {

/// check_erasure_text refuses an over-long or control-character reason or reference; "" is
/// allowed (none given).
result<void> check_erasure_text(std::string_view what, std::string_view text, std::size_t max_bytes) {
  if (text.empty()) return ok();
  return check_identifier(what, text, max_bytes);
}

/// count_held counts what erasing the customer deletes: values (not the manifest row), their
/// fields, and consent events. Inside the caller's transaction or snapshot.
result<ErasureReport> count_held(Store& store, std::string_view customer) {
  ErasureReport report;
  auto stored = store.get_fields(customer);
  if (!stored) return std::move(stored).err();
  for (const StoredField& s : *stored) {
    if (s.field == kManifestField) continue;
    ++report.values;
    report.fields.push_back(s.field);
  }
  std::sort(report.fields.begin(), report.fields.end());
  report.fields.erase(std::unique(report.fields.begin(), report.fields.end()), report.fields.end());
  auto history = store.consent_history(customer);
  if (!history) return std::move(history).err();
  report.consent_events = static_cast<std::int64_t>(history->size());
  return report;
}

}  // namespace

result<void> Vault::erase(std::string_view customer) {
  auto erased = erase(customer, ErasureRequest{});
  if (!erased) return std::move(erased).err();
  return ok();
}

result<ErasureReport> Vault::erase(std::string_view customer, const ErasureRequest& request) {
  Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_erasure_text("erasure reason", request.reason, kMaxErasureReasonBytes); !c)
    return std::move(c).err();
  if (auto c = check_erasure_text("erasure request reference", request.request, kMaxErasureRequestBytes); !c)
    return std::move(c).err();
  if (request.dry_run) {
    // Counted in one snapshot; nothing is written, so nothing is audited.
    std::lock_guard lock(impl.store_mu);
    auto snapshot = ReadSnapshot::open(*impl.store);
    if (!snapshot) return std::move(snapshot).err();
    CONSENTRY_TRY(impl.known_customer(customer));
    auto report = count_held(*impl.store, customer);
    if (!report) return report;
    report->dry_run = true;
    return report;
  }
  // Entries held back from reads go first, so the erasure entry is the customer's last.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  Store& store = *impl.store;
  // The erased table names customers by their audit pseudonym: keeping the id would keep
  // personal data about someone who asked for it to go.
  const std::string tag = audit_pseudonym(customer);
  bool already_erased = false;
  ErasureReport report;
  {
    // Decided inside the write transaction: of two erasures of one customer at once (in two
    // processes) one erases and the other answers erased, and a write committed meanwhile is
    // erased with the rest.
    auto txn = Transaction::start(store);
    if (!txn) return std::move(txn).err();
    auto gone = impl.is_erased(tag);
    if (!gone) return std::move(gone).err();
    already_erased = *gone;
    if (!already_erased) {
      auto known = store.knows(customer);
      if (!known) return std::move(known).err();
      if (!*known) return make_error(errc::not_found, "unknown customer " + std::string(customer));
      // Counted in the transaction, so the entry says what this erasure deleted.
      auto counted = count_held(store, customer);
      if (!counted) return std::move(counted).err();
      report = std::move(*counted);
      // The cached key goes first (SecretBytes wipes it): from here on nothing in this process
      // can decrypt the customer's values, even if the deletion below fails.
      impl.keys().forget_data_key(std::string(customer));
      // The customer's manifest is a row among their values (kManifestField): it goes with them.
      CONSENTRY_TRY(store.erase_customer(customer, tag, impl.now()));
      if (impl.audit().enabled()) {
        AuditEntry e = impl.entry(AuditAction::erasure, customer, impl.options.actor, "");
        // How much went and why, never a value (audit.hpp, ErasureDetails).
        e.reason = request.reason;
        ErasureDetails details;
        details.values = report.values;
        details.fields = static_cast<std::int64_t>(report.fields.size());
        details.consent_events = report.consent_events;
        details.request = request.request;
        e.fields = format_erasure_details(details);
        std::vector<AuditEntry> entries{std::move(e)};
        CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
      }
      // The deletion and its audit entry commit together or not at all.
      CONSENTRY_TRY(txn->commit());
    }
  }
  if (already_erased) {
    // Erasing again finishes a compaction that failed the first time (another connection held
    // the WAL), then reports the earlier erasure.
    CONSENTRY_TRY(store.compact());
    return erased_error("");
  }
  // secure_delete has zeroed the rows in the pages; compaction takes the older copies out of the
  // WAL and the free pages.
  // A damaged file stays errc::integrity; anything else that stops the compaction is errc::io.
  if (auto compacted = store.compact(); !compacted)
    return make_error(compacted.err().code == errc::integrity ? errc::integrity : errc::io,
                      "the erasure is committed, but the vault files may still hold the deleted bytes (" +
                          compacted.err().message + "); erase the customer again to compact them");
  return report;
}

result<std::optional<timestamp>> Vault::erased_at(std::string_view customer) const {
  const std::string tag = audit_pseudonym(customer);
  std::lock_guard lock(impl_->store_mu);
  return impl_->store->erased_at(tag);
}

result<void> Vault::backup(const std::filesystem::path& file) const {
  // Held-back entries are committed first, so the copy's log covers every access made so far.
  CONSENTRY_TRY(impl_->audit().flush());
  std::lock_guard lock(impl_->store_mu);
  return impl_->store->backup_to(file);
}

}  // namespace consentry
