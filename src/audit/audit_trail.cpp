// audit_trail.cpp: how entries reach the audit log: chained inside the caller's transaction,
// group commit for reads, batching, and signed checkpoints.
#include "audit/audit_trail.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>
#include <utility>

namespace consentry {
namespace {

// How many failed batches are remembered for callers still waiting on their tickets.
constexpr std::size_t kRememberedFailures = 64;
// The longest a group commit's leader waits for announced entries, whatever its last commit took.
constexpr std::chrono::steady_clock::duration kLongestGather = std::chrono::milliseconds(2);

// chained gives `entries` their seqs after `head` and their rows, hashed one after another from
// the head's hash, on the head's chain.
std::vector<StoredAuditEntry> chained(std::vector<AuditEntry>& entries, const AuditHead& head) {
  std::int64_t seq = head.seq;
  const bytes* previous = &head.hash;
  std::vector<StoredAuditEntry> rows;
  rows.reserve(entries.size());  // `previous` points into the last row
  for (AuditEntry& e : entries) {
    e.seq = ++seq;
    StoredAuditEntry row;
    row.seq = e.seq;
    row.at = e.at;
    row.customer = e.customer;
    row.encoded = encode_audit_entry(e);
    row.hash = audit_chain_hash(*previous, row.encoded);
    row.chain = head.chain;
    rows.push_back(std::move(row));
    previous = &rows.back().hash;
  }
  return rows;
}

}  // namespace

AuditTrail::AuditTrail(Store& store, std::mutex& store_mu, AuditSigner signer, AuditTrailOptions options)
    : store_(store),
      store_mu_(store_mu),
      signer_(std::move(signer)),
      options_(std::move(options)),
      last_checkpoint_seq_(options_.last_checkpoint_seq) {}

result<void> AuditTrail::append_in_transaction(std::vector<AuditEntry>& entries) {
  if (entries.empty()) return ok();
  return store_.keeps_writer_chains() ? append_to_own_chain(entries, false) : append_to_log(entries);
}

result<void> AuditTrail::append_to_log(std::vector<AuditEntry>& entries) {
  // The head is read inside the transaction, so another process appending to the same vault
  // file is serialised by SQLite's write lock and the chain stays linear.
  auto head = store_.audit_head();
  if (!head) return std::move(head).err();
  const std::vector<StoredAuditEntry> rows =
      chained(entries, *head ? **head : AuditHead{0, bytes(kAuditHashBytes, 0), 0});
  CONSENTRY_TRY(store_.append_audit(rows));
  if (rows.back().seq - last_checkpoint_seq_ >= options_.checkpoint_interval) {
    auto cp = checkpoint_in_transaction(false);
    if (!cp) return std::move(cp).err();
  }
  return ok();
}

result<void> AuditTrail::append_to_own_chain(std::vector<AuditEntry>& entries, bool durably) {
  if (chain_ < 0) {
    auto claimed = store_.claim_audit_chain();
    if (!claimed) return std::move(claimed).err();
    chain_ = *claimed;
    head_known_ = false;
  }
  // A second writer on the same chain (two processes that claimed it at once) moves the head
  // under this one: the append then changes nothing, and is made again after the new head.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (!head_known_) {
      auto head = store_.audit_chain_head(chain_);
      if (!head) return std::move(head).err();
      chain_head_ =
          *head ? std::move(**head) : AuditHead{0, audit_chain_genesis(signer_.public_key(), chain_), chain_};
      head_known_ = true;
    }
    const std::vector<StoredAuditEntry> rows = chained(entries, chain_head_);
    auto moved = durably ? store_.append_audit_chain_durably(chain_head_, rows)
                         : store_.append_audit_chain(chain_head_, rows);
    if (!moved) {
      head_known_ = false;
      return std::move(moved).err();
    }
    if (!*moved) {
      head_known_ = false;
      continue;
    }
    chain_head_ = AuditHead{rows.back().seq, rows.back().hash, chain_};
    since_checkpoint_ += static_cast<std::int64_t>(rows.size());
    if (since_checkpoint_ >= options_.checkpoint_interval) {
      auto cp = checkpoint_heads(false);
      if (!cp) return std::move(cp).err();
    }
    return ok();
  }
  return make_error(errc::io, "append_audit: the audit chain's head kept moving under another writer");
}

result<std::optional<AuditCheckpoint>> AuditTrail::checkpoint_heads(bool force) {
  // Two writers may sign the same number at once; one stores it, the other signs the next.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto heads = store_.audit_chain_heads();
    if (!heads) return std::move(heads).err();
    if (heads->empty()) return std::optional<AuditCheckpoint>{};
    auto last = store_.last_checkpoint();
    if (!last) return std::move(last).err();
    const auto same_head = [](const AuditHead& a, const AuditHead& b) {
      return a.chain == b.chain && a.seq == b.seq && a.hash == b.hash;
    };
    if (*last &&
        std::equal((*last)->heads.begin(), (*last)->heads.end(), heads->begin(), heads->end(), same_head)) {
      // Nothing was appended since the last checkpoint: hand that one out again.
      since_checkpoint_ = 0;
      return force ? std::move(*last) : std::optional<AuditCheckpoint>{};
    }
    AuditCheckpoint cp =
        signer_.sign_heads(*last ? (*last)->seq + 1 : 1, std::move(*heads),
                           *last ? checkpoint_hash(**last) : bytes(kAuditHashBytes, 0), now());
    auto stored = store_.put_chain_checkpoint(cp);
    if (!stored) return std::move(stored).err();
    if (*stored) {
      since_checkpoint_ = 0;
      return std::optional<AuditCheckpoint>{std::move(cp)};
    }
    // Another writer stored this number first: its checkpoint covers what this one would have
    // unless heads moved since, which the next round signs.
    if (!force) return std::optional<AuditCheckpoint>{};
  }
  return make_error(errc::io, "checkpoint: other writers kept signing checkpoints first");
}

result<std::optional<AuditCheckpoint>> AuditTrail::checkpoint_in_transaction(bool force) {
  if (store_.keeps_writer_chains()) return checkpoint_heads(force);
  auto head = store_.audit_head();
  if (!head) return std::move(head).err();
  if (!*head) return std::optional<AuditCheckpoint>{};
  if ((*head)->seq == last_checkpoint_seq_) {
    // Nothing was appended since the last checkpoint: hand that one out again. Only if it is
    // stored: the transaction that signed it may have failed after last_checkpoint_seq_ moved.
    auto all = store_.checkpoints();
    if (!all) return std::move(all).err();
    if (!all->empty() && all->back().seq == last_checkpoint_seq_)
      return force ? std::optional<AuditCheckpoint>{all->back()} : std::optional<AuditCheckpoint>{};
  }
  AuditCheckpoint cp = signer_.sign((*head)->seq, (*head)->hash, now());
  CONSENTRY_TRY(store_.put_checkpoint(cp));
  last_checkpoint_seq_ = cp.seq;
  return std::optional<AuditCheckpoint>{std::move(cp)};
}

result<void> AuditTrail::commit_entries(std::vector<AuditEntry>& entries, bool synced, bool& committed) {
  committed = false;
  // On a store with a chain per writer, entries that sign no checkpoint commit on their own,
  // which the store may do in one round trip.
  if (synced && store_.keeps_writer_chains()) {
    std::lock_guard lock(store_mu_);
    if (since_checkpoint_ + static_cast<std::int64_t>(entries.size()) < options_.checkpoint_interval) {
      auto r = append_to_own_chain(entries, true);
      committed = r.ok();
      return r;
    }
  }
  // A store that syncs apart commits unsynced here and syncs after store_mu is released, so
  // that readers go on while the disk works, and the entries they queue meanwhile share the
  // next commit (group commit). The callers still return only once their entries are durable.
  const bool sync_apart = synced && store_.syncs_apart();
  {
    std::lock_guard lock(store_mu_);
    auto txn = Transaction::start_append(store_, synced && !sync_apart);
    if (!txn) return std::move(txn).err();
    CONSENTRY_TRY(append_in_transaction(entries));
    CONSENTRY_TRY(txn->commit());
  }
  // From here the entries are in the log: should the sync fail, they must not be appended again.
  committed = true;
  if (sync_apart) return store_.sync_committed();
  return ok();
}

AuditTrail::Announcement AuditTrail::announce() {
  if (options_.commit != AuditCommit::durable) return {};
  std::lock_guard lk(mu_);
  ++announced_;
  return Announcement(this);
}

void AuditTrail::settle(Announcement& a) {
  a.trail_ = nullptr;
  if (--announced_ == 0) gathered_.notify_one();
}

void AuditTrail::withdraw(Announcement& a) {
  std::lock_guard lk(mu_);
  settle(a);
}

void AuditTrail::gather(std::unique_lock<std::mutex>& lk) {
  // Callers whose entries shared the last commit are likely to come back with more: wait for
  // as many callers as it held, and for every announced one. By default not longer than the last
  // commit took: waiting longer would cost more than the commit it saves.
  const auto enough = [&] { return announced_ == 0 && pending_records_ >= last_batch_records_; };
  if (enough()) return;
  const auto limit = options_.gather_limit.value_or(std::min(last_commit_, kLongestGather));
  if (limit <= std::chrono::steady_clock::duration::zero()) return;
  gathered_.wait_until(lk, std::chrono::steady_clock::now() + limit, enough);
}

result<void> AuditTrail::lead_flush(std::unique_lock<std::mutex>& lk, bool synced, bool gathering) {
  flushing_ = true;
  if (gathering) gather(lk);
  std::vector<AuditEntry> batch;
  batch.swap(pending_);
  const std::size_t records = std::exchange(pending_records_, 0);
  const std::uint64_t last = enqueued_;
  const std::uint64_t first = last - batch.size() + 1;
  lk.unlock();
  // Others keep queueing while this batch commits; the next leader takes what they queued.
  bool committed = false;
  const auto started = std::chrono::steady_clock::now();
  result<void> r = batch.empty() ? ok() : commit_entries(batch, synced, committed);
  const auto took = std::chrono::steady_clock::now() - started;
  lk.lock();
  if (synced && !batch.empty()) {
    last_commit_ = took;
    last_batch_records_ = records;
  }
  if (!r && !committed && options_.commit == AuditCommit::batched) {
    // Held-back entries record reads already served: they stay queued, ahead of those queued
    // since, for the next flush, write or close to commit.
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.end()));
    pending_.swap(batch);
  } else {
    processed_ = last;
    // A synced commit makes every earlier commit durable too.
    if (r && synced) synced_ = last;
    if (!r) {
      failures_.push_back({first, last, r.err()});
      if (failures_.size() > kRememberedFailures) failures_.pop_front();
    }
  }
  flushing_ = false;
  cv_.notify_all();
  return r;
}

result<void> AuditTrail::record(std::vector<AuditEntry> entries) {
  return record(std::move(entries), {});
}

result<void> AuditTrail::record(std::vector<AuditEntry> entries, Announcement announced) {
  if (options_.commit == AuditCommit::off || (entries.empty() && !announced.trail_)) return ok();
  std::unique_lock lk(mu_);
  if (announced.trail_) settle(announced);
  if (entries.empty()) return ok();
  for (AuditEntry& e : entries) pending_.push_back(std::move(e));
  enqueued_ += entries.size();
  ++pending_records_;
  const std::uint64_t ticket = enqueued_;
  if (flushing_) gathered_.notify_one();
  if (options_.commit == AuditCommit::batched) {
    if (pending_.size() < options_.batch || flushing_) return ok();
    // A full batch is committed without waiting for the disk; the next write, flush or close
    // syncs it (see AuditCommit::batched).
    return lead_flush(lk, false, false);
  }
  while (processed_ < ticket) {
    if (!flushing_) {
      (void)lead_flush(lk, true, true);
    } else {
      cv_.wait(lk);
    }
  }
  for (const BatchFailure& f : failures_)
    if (ticket >= f.first && ticket <= f.last) return f.err;
  return ok();
}

result<void> AuditTrail::flush() {
  if (options_.commit == AuditCommit::off) return ok();
  std::unique_lock lk(mu_);
  const std::uint64_t target = enqueued_;
  result<void> r;
  while (processed_ < target) {
    if (!flushing_) {
      r = lead_flush(lk, true, false);
      if (!r) return r;
    } else {
      cv_.wait(lk);
    }
  }
  // Everything is committed, but full batches of a batched trail were committed unsynced: sync
  // them, unless a synced commit since has. Not while a commit runs, which the sync would slow.
  while (synced_ < target && flushing_) cv_.wait(lk);
  if (synced_ >= target || !store_.syncs_apart()) return r;
  flushing_ = true;
  const std::uint64_t covered = processed_;
  lk.unlock();
  r = store_.sync_committed();
  lk.lock();
  if (r) synced_ = std::max(synced_, covered);
  flushing_ = false;
  cv_.notify_all();
  return r;
}

}  // namespace consentry
