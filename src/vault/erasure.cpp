// erasure.cpp: the right to erasure (the data key destroyed, the rows deleted, the files
// compacted, the audit log told) and online backups.
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

result<void> Vault::erase(std::string_view customer) {
  Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  // Entries held back from reads go first, so the erasure entry is the customer's last.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  Store& store = *impl.store;
  // The erased table names customers by their audit pseudonym: keeping the id would keep
  // personal data about someone who asked for it to go.
  const std::string tag = audit_pseudonym(customer);
  bool already_erased = false;
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
      // The cached key goes first (SecretBytes wipes it): from here on nothing in this process
      // can decrypt the customer's values, even if the deletion below fails.
      impl.keys().forget_data_key(std::string(customer));
      // The customer's manifest is a row among their values (kManifestField): it goes with them.
      CONSENTRY_TRY(store.erase_customer(customer, tag, impl.now()));
      if (impl.audit().enabled()) {
        std::vector<AuditEntry> entries{impl.entry(AuditAction::erasure, customer, impl.options.actor, "")};
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
  return ok();
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
