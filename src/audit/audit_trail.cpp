// audit_trail.cpp: how entries reach the audit log: chained inside the caller's transaction,
// group commit for reads, batching, and signed checkpoints.
#include "audit/audit_trail.hpp"

#include <unistd.h>

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

AuditTrail::AuditTrail(Store& store, detail::WriterFirstMutex& store_mu, AuditSigner signer,
                       AuditTrailOptions options)
    : store_(store),
      store_mu_(store_mu),
      signer_(std::move(signer)),
      options_(std::move(options)),
      main_(&store, &store_mu, options_.last_checkpoint_seq),
      companion_(nullptr, &companion_mu_, options_.last_checkpoint_seq),
      next_batch_at_(options_.batch) {}

AuditTrail::~AuditTrail() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  batch_ready_.notify_all();
  if (!batch_thread_.joinable()) return;
  // In a child forked since the thread started, the thread does not exist: there is none to join.
  if (batch_thread_pid_ == ::getpid()) {
    batch_thread_.join();
  } else {
    batch_thread_.detach();
  }
}

result<void> AuditTrail::append_in_transaction(std::vector<AuditEntry>& entries) {
  return append(main_, entries);
}

result<void> AuditTrail::append(Writer& w, std::vector<AuditEntry>& entries) {
  if (entries.empty()) return ok();
  return w.store->keeps_writer_chains() ? append_to_own_chain(w, entries, false) : append_to_log(w, entries);
}

result<void> AuditTrail::append_to_log(Writer& w, std::vector<AuditEntry>& entries) {
  // The head is read inside the transaction, so another connection appending to the same vault
  // file is serialised by SQLite's write lock and the chain stays linear.
  auto head = w.store->audit_head();
  if (!head) return std::move(head).err();
  const std::vector<StoredAuditEntry> rows =
      chained(entries, *head ? **head : AuditHead{0, bytes(kAuditHashBytes, 0), 0});
  CONSENTRY_TRY(w.store->append_audit(rows));
  if (rows.back().seq - w.last_checkpoint_seq >= options_.checkpoint_interval) {
    // Another connection (the trail's second one, another process) may have signed one since.
    auto last = w.store->last_checkpoint();
    if (!last) return std::move(last).err();
    if (*last) w.last_checkpoint_seq = std::max(w.last_checkpoint_seq, (*last)->seq);
    if (rows.back().seq - w.last_checkpoint_seq >= options_.checkpoint_interval) {
      auto cp = checkpoint(w, false);
      if (!cp) return std::move(cp).err();
    }
  }
  return ok();
}

result<void> AuditTrail::append_to_own_chain(Writer& w, std::vector<AuditEntry>& entries, bool durably) {
  if (w.chain < 0) {
    auto claimed = w.store->claim_audit_chain();
    if (!claimed) return std::move(claimed).err();
    w.chain = *claimed;
    w.head_known = false;
  }
  // A second writer on the same chain (two processes that claimed it at once) moves the head
  // under this one: the append then changes nothing, and is made again after the new head.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (!w.head_known) {
      auto head = w.store->audit_chain_head(w.chain);
      if (!head) return std::move(head).err();
      w.chain_head = *head ? std::move(**head)
                           : AuditHead{0, audit_chain_genesis(signer_.public_key(), w.chain), w.chain};
      w.head_known = true;
    }
    const std::vector<StoredAuditEntry> rows = chained(entries, w.chain_head);
    auto moved = durably ? w.store->append_audit_chain_durably(w.chain_head, rows)
                         : w.store->append_audit_chain(w.chain_head, rows);
    if (!moved) {
      w.head_known = false;
      return std::move(moved).err();
    }
    if (!*moved) {
      w.head_known = false;
      continue;
    }
    w.chain_head = AuditHead{rows.back().seq, rows.back().hash, w.chain};
    w.since_checkpoint += static_cast<std::int64_t>(rows.size());
    if (w.since_checkpoint >= options_.checkpoint_interval) {
      auto cp = checkpoint_heads(w, false);
      if (!cp) return std::move(cp).err();
    }
    return ok();
  }
  return make_error(errc::io, "append_audit: the audit chain's head kept moving under another writer");
}

result<std::optional<AuditCheckpoint>> AuditTrail::checkpoint_heads(Writer& w, bool force) {
  // Two writers may sign the same number at once; one stores it, the other signs the next.
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    auto heads = w.store->audit_chain_heads();
    if (!heads) return std::move(heads).err();
    if (heads->empty()) return std::optional<AuditCheckpoint>{};
    auto last = w.store->last_checkpoint();
    if (!last) return std::move(last).err();
    const auto same_head = [](const AuditHead& a, const AuditHead& b) {
      return a.chain == b.chain && a.seq == b.seq && a.hash == b.hash;
    };
    if (*last &&
        std::equal((*last)->heads.begin(), (*last)->heads.end(), heads->begin(), heads->end(), same_head)) {
      // Nothing was appended since the last checkpoint: hand that one out again.
      w.since_checkpoint = 0;
      return force ? std::move(*last) : std::optional<AuditCheckpoint>{};
    }
    AuditCheckpoint cp =
        signer_.sign_heads(*last ? (*last)->seq + 1 : 1, std::move(*heads),
                           *last ? checkpoint_hash(**last) : bytes(kAuditHashBytes, 0), now());
    auto stored = w.store->put_chain_checkpoint(cp);
    if (!stored) return std::move(stored).err();
    if (*stored) {
      w.since_checkpoint = 0;
      return std::optional<AuditCheckpoint>{std::move(cp)};
    }
    // Another writer stored this number first: its checkpoint covers what this one would have
    // unless heads moved since, which the next round signs.
    if (!force) return std::optional<AuditCheckpoint>{};
  }
  return make_error(errc::io, "checkpoint: other writers kept signing checkpoints first");
}

result<std::optional<AuditCheckpoint>> AuditTrail::checkpoint_in_transaction(bool force) {
  return checkpoint(main_, force);
}

result<std::optional<AuditCheckpoint>> AuditTrail::checkpoint(Writer& w, bool force) {
  if (w.store->keeps_writer_chains()) return checkpoint_heads(w, force);
  auto head = w.store->audit_head();
  if (!head) return std::move(head).err();
  if (!*head) return std::optional<AuditCheckpoint>{};
  // Nothing appended since the last checkpoint stored (by this writer or another connection):
  // hand that one out again.
  auto last = w.store->last_checkpoint();
  if (!last) return std::move(last).err();
  if (*last && (*last)->seq == (*head)->seq) {
    w.last_checkpoint_seq = (*last)->seq;
    return force ? std::move(*last) : std::optional<AuditCheckpoint>{};
  }
  AuditCheckpoint cp = signer_.sign((*head)->seq, (*head)->hash, now());
  CONSENTRY_TRY(w.store->put_checkpoint(cp));
  w.last_checkpoint_seq = cp.seq;
  return std::optional<AuditCheckpoint>{std::move(cp)};
}

result<void> AuditTrail::commit_entries(Writer& w, std::vector<AuditEntry>& entries, bool synced,
                                        bool& committed) {
  committed = false;
  Store& store = *w.store;
  // On a store with a chain per writer, entries that sign no checkpoint commit on their own,
  // which the store may do in one round trip.
  if (synced && store.keeps_writer_chains()) {
    std::lock_guard lock(*w.mu);
    if (w.since_checkpoint + static_cast<std::int64_t>(entries.size()) < options_.checkpoint_interval) {
      auto r = append_to_own_chain(w, entries, true);
      committed = r.ok();
      return r;
    }
  }
  // A store that syncs apart commits unsynced here and syncs after the writer's lock is
  // released, so that readers go on while the disk works, and the entries they queue meanwhile
  // share the next commit (group commit). The callers still return only once their entries are
  // durable.
  const bool sync_apart = synced && store.syncs_apart();
  {
    std::lock_guard lock(*w.mu);
    auto txn = Transaction::start_append(store, synced && !sync_apart);
    if (!txn) return std::move(txn).err();
    CONSENTRY_TRY(append(w, entries));
    CONSENTRY_TRY(txn->commit());
  }
  // From here the entries are in the log: should the sync fail, they must not be appended again.
  committed = true;
  if (sync_apart) return store.sync_committed();
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
  --announced_;
  wake_gatherer();
}

void AuditTrail::wake_gatherer() {
  // Only a flushing leader gathers (lead_flush sets flushing_ first).
  if (flushing_ && gathered()) gathered_.notify_one();
}

void AuditTrail::withdraw(Announcement& a) {
  std::lock_guard lk(mu_);
  settle(a);
}

void AuditTrail::gather(std::unique_lock<std::mutex>& lk) {
  // Callers whose entries shared the last commit, and those that queued while it ran, are
  // likely to come back with more: wait for as many callers, and for every announced one (else
  // two halves of the callers take turns, each commit holding half of them). By default not
  // longer than the last commit took: waiting longer would cost more than the commit it saves.
  if (gathered()) return;
  const auto limit = options_.gather_limit.value_or(std::min(last_commit_, kLongestGather));
  if (limit <= std::chrono::steady_clock::duration::zero()) return;
  gathered_.wait_until(lk, std::chrono::steady_clock::now() + limit, [&] { return gathered(); });
}

result<void> AuditTrail::lead_flush(std::unique_lock<std::mutex>& lk, Writer& w, bool synced,
                                    bool gathering) {
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
  result<void> r = batch.empty() ? ok() : commit_entries(w, batch, synced, committed);
  const auto took = std::chrono::steady_clock::now() - started;
  lk.lock();
  if (synced && !batch.empty()) {
    last_commit_ = took;
    // The callers this commit served come back soon, as do those that queued while it ran.
    last_batch_records_ = records + pending_records_;
  }
  if (!r && !committed && options_.commit == AuditCommit::batched) {
    // Held-back entries record reads already served: they stay queued, ahead of those queued
    // since, for the next flush, write or close to commit.
    batch.insert(batch.end(), std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.end()));
    pending_.swap(batch);
  } else {
    processed_ = last;
    next_batch_at_ = options_.batch;
    // A synced commit makes every earlier commit durable too.
    if (r && synced) synced_ = last;
    if (!r) {
      failures_.push_back({first, last, r.err()});
      if (failures_.size() > kRememberedFailures) failures_.pop_front();
    }
  }
  flushing_ = false;
  cv_.notify_all();
  batch_ready_.notify_all();
  return r;
}

bool AuditTrail::hand_over(std::unique_lock<std::mutex>& lk) {
  if (companion_state_ == Companion::untried) {
    companion_state_ = Companion::opening;
    lk.unlock();
    result<std::unique_ptr<Store>> opened = std::unique_ptr<Store>();
    {
      std::lock_guard lock(store_mu_);
      opened = store_.open_companion();
    }
    lk.lock();
    // A store that cannot open a second connection now (a server at its connection limit) is
    // used as one without: the batches are committed by their readers, as before.
    if (!opened || !*opened) {
      companion_state_ = Companion::none;
    } else {
      companion_store_ = std::move(*opened);
      companion_.store = companion_store_.get();
      companion_state_ = Companion::running;
      batch_thread_ = std::thread([this] { commit_batches(); });
      batch_thread_pid_ = ::getpid();
    }
  }
  switch (companion_state_) {
    case Companion::running: batch_ready_.notify_all(); return true;
    case Companion::opening: return true;  // the thread opening it commits the batch once it runs
    default: return false;
  }
}

void AuditTrail::commit_batches() {
  std::unique_lock lk(mu_);
  for (;;) {
    batch_ready_.wait(lk, [&] { return stopping_ || (!flushing_ && pending_.size() >= next_batch_at_); });
    if (stopping_) return;
    auto r = lead_flush(lk, companion_, false, false);
    if (!r) {
      // The entries stay queued; the next try waits for another batch, or a flush.
      batch_error_ = r.err();
      next_batch_at_ = pending_.size() + options_.batch;
    }
  }
}

result<void> AuditTrail::take_batch_error() {
  if (!batch_error_) return ok();
  error e = std::move(*batch_error_);
  batch_error_.reset();
  return e;
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
  wake_gatherer();
  if (options_.commit == AuditCommit::batched) {
    if (pending_.size() < options_.batch || flushing_) return take_batch_error();
    // A full batch is committed without waiting for the disk; the next write, flush or close
    // syncs it (see AuditCommit::batched).
    if (hand_over(lk)) return take_batch_error();
    return lead_flush(lk, main_, false, false);
  }
  while (processed_ < ticket) {
    if (!flushing_) {
      (void)lead_flush(lk, main_, true, true);
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
      r = lead_flush(lk, flush_writer(), true, false);
      if (!r) return r;
    } else {
      cv_.wait(lk);
    }
  }
  // Everything is committed, but full batches of a batched trail were committed unsynced: sync
  // them, unless a synced commit since has. Not while a commit runs, which the sync would slow.
  while (synced_ < target && flushing_) cv_.wait(lk);
  Store& store = *flush_writer().store;
  if (synced_ >= target || !store.syncs_apart()) return r;
  flushing_ = true;
  const std::uint64_t covered = processed_;
  lk.unlock();
  r = store.sync_committed();
  lk.lock();
  if (r) synced_ = std::max(synced_, covered);
  flushing_ = false;
  cv_.notify_all();
  return r;
}

}  // namespace consentry
