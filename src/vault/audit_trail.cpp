// audit_trail.cpp: how the vault appends to its audit log: entries chained inside the caller's
// transaction, group commit for reads, batching, and signed checkpoints.
#include <iterator>

#include "consentry/anonymise/transform.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// How many failed batches are remembered for callers still waiting on their tickets.
constexpr std::size_t kRememberedFailures = 64;

}  // namespace

AuditEntry Vault::Impl::entry(AuditAction action, std::string_view customer, std::string_view accessor,
                              std::string_view purpose) const {
  return entry_for_tag(action, customer.empty() ? std::string() : pseudonym(audit_customer_key, customer),
                       accessor, purpose);
}

AuditEntry Vault::Impl::entry_for_tag(AuditAction action, std::string tag, std::string_view accessor,
                                      std::string_view purpose) const {
  AuditEntry e;
  e.at = now();
  e.customer = std::move(tag);
  e.accessor = std::string(accessor);
  e.purpose = std::string(purpose);
  e.action = action;
  return e;
}

result<void> Vault::Impl::append_in_transaction(std::vector<AuditEntry>& entries) const {
  if (entries.empty()) return ok();
  // The head is read inside the transaction, so another process appending to the same vault
  // file is serialised by SQLite's write lock and the chain stays linear.
  auto head = store->audit_head();
  if (!head) return std::move(head).err();
  std::int64_t seq = *head ? (*head)->seq : 0;
  bytes previous = *head ? std::move((*head)->hash) : bytes(kAuditHashBytes, 0);
  std::vector<StoredAuditEntry> rows;
  rows.reserve(entries.size());
  for (AuditEntry& e : entries) {
    e.seq = ++seq;
    StoredAuditEntry row;
    row.seq = e.seq;
    row.at = e.at;
    row.customer = e.customer;
    row.encoded = encode_audit_entry(e);
    row.hash = audit_chain_hash(previous, row.encoded);
    previous = row.hash;
    rows.push_back(std::move(row));
  }
  CONSENTRY_TRY(store->append_audit(rows));
  if (seq - last_checkpoint_seq >= kCheckpointInterval) {
    auto cp = checkpoint_in_transaction(false);
    if (!cp) return std::move(cp).err();
  }
  return ok();
}

result<std::optional<AuditCheckpoint>> Vault::Impl::checkpoint_in_transaction(bool force) const {
  auto head = store->audit_head();
  if (!head) return std::move(head).err();
  if (!*head) return std::optional<AuditCheckpoint>{};
  if ((*head)->seq == last_checkpoint_seq) {
    // Nothing was appended since the last checkpoint: hand that one out again. Only if it is
    // stored: the transaction that signed it may have failed after last_checkpoint_seq moved.
    auto all = store->checkpoints();
    if (!all) return std::move(all).err();
    if (!all->empty() && all->back().seq == last_checkpoint_seq)
      return force ? std::optional<AuditCheckpoint>{all->back()} : std::optional<AuditCheckpoint>{};
  }
  AuditCheckpoint cp = signer.sign((*head)->seq, (*head)->hash, now());
  CONSENTRY_TRY(store->put_checkpoint(cp));
  last_checkpoint_seq = cp.seq;
  return std::optional<AuditCheckpoint>{std::move(cp)};
}

result<void> Vault::Impl::commit_entries(std::vector<AuditEntry>& entries, bool synced) const {
  std::lock_guard lock(store_mu);
  auto txn = synced ? Transaction::start(*store) : Transaction::start_unsynced(*store);
  if (!txn) return std::move(txn).err();
  CONSENTRY_TRY(append_in_transaction(entries));
  return txn->commit();
}

result<void> Vault::Impl::lead_flush(std::unique_lock<std::mutex>& lk, bool synced) const {
  audit_flushing = true;
  std::vector<AuditEntry> batch;
  batch.swap(audit_pending);
  const std::uint64_t last = audit_enqueued;
  const std::uint64_t first = last - batch.size() + 1;
  lk.unlock();
  // Others keep queueing while this batch commits; the next leader takes what they queued.
  result<void> r = batch.empty() ? ok() : commit_entries(batch, synced);
  lk.lock();
  if (!r && options.audit == AuditMode::batched) {
    // Held-back entries record reads already served: they stay queued, ahead of those queued
    // since, for the next flush, write or close to commit.
    batch.insert(batch.end(), std::make_move_iterator(audit_pending.begin()),
                 std::make_move_iterator(audit_pending.end()));
    audit_pending.swap(batch);
  } else {
    audit_processed = last;
    if (!r) {
      audit_failures.push_back({first, last, r.err()});
      if (audit_failures.size() > kRememberedFailures) audit_failures.pop_front();
    }
  }
  audit_flushing = false;
  audit_cv.notify_all();
  return r;
}

result<void> Vault::Impl::record(std::vector<AuditEntry> entries) const {
  if (options.audit == AuditMode::off || entries.empty()) return ok();
  std::unique_lock lk(audit_mu);
  for (AuditEntry& e : entries) audit_pending.push_back(std::move(e));
  audit_enqueued += entries.size();
  const std::uint64_t ticket = audit_enqueued;
  if (options.audit == AuditMode::batched) {
    if (audit_pending.size() < kAuditBatch || audit_flushing) return ok();
    // A full batch is committed without waiting for the disk; the next write, flush or close
    // syncs it (see AuditMode::batched).
    return lead_flush(lk, false);
  }
  while (audit_processed < ticket) {
    if (!audit_flushing) {
      (void)lead_flush(lk, true);
    } else {
      audit_cv.wait(lk);
    }
  }
  for (const BatchFailure& f : audit_failures)
    if (ticket >= f.first && ticket <= f.last) return f.err;
  return ok();
}

result<void> Vault::Impl::flush() const {
  if (options.audit == AuditMode::off) return ok();
  std::unique_lock lk(audit_mu);
  const std::uint64_t target = audit_enqueued;
  result<void> r;
  while (audit_processed < target) {
    if (!audit_flushing) {
      r = lead_flush(lk, true);
      if (!r) return r;
    } else {
      audit_cv.wait(lk);
    }
  }
  return r;
}

}  // namespace consentry
