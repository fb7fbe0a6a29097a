// audit_trail.hpp: AuditTrail, how entries reach the audit log of a store: chained inside the
// caller's transaction, committed for many threads at once (group commit), held back in batches,
// and covered by signed checkpoints (private).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"
#include "io/writer_first_mutex.hpp"

namespace consentry {

/// AuditCommit says when an AuditTrail makes entries durable: `durable`, each record() call
/// returns once its entries are committed; `batched`, entries are held back and committed in
/// batches without waiting for the disk; `off`, nothing is recorded.
enum class AuditCommit { durable, batched, off };

/// AuditTrailOptions configures an AuditTrail.
struct AuditTrailOptions {
  AuditCommit commit = AuditCommit::durable;
  std::size_t batch = 256;                  ///< held-back entries that `batched` commits at once
  std::int64_t checkpoint_interval = 1024;  ///< entries after which a checkpoint is signed
  std::function<timestamp()> clock;         ///< empty = the system clock
  std::int64_t last_checkpoint_seq = 0;     ///< the seq of the last checkpoint stored, 0 for none
  /// The longest a durable group commit's leader waits for announced entries (see announce());
  /// empty = as long as the last synced commit took, at most 2 ms.
  std::optional<std::chrono::steady_clock::duration> gather_limit;
};

/// AuditTrail appends entries to `store`'s hash-chained audit log and signs checkpoints over its
/// head. It shares the store with its owner, who serialises every use of the store with
/// `store_mu`; the trail's own mutex guards only the queue of entries waiting to be committed and
/// the count of announced ones. A batched trail on a store that offers a second connection
/// (Store::open_companion) commits its full batches there, on a thread of its own, so that the
/// readers who filled them go on meanwhile.
/// Locking rule: the trail never waits on its own mutex while holding `store_mu`, and its callers
/// must not either: announce(), record() and flush() are called without `store_mu` held; the
/// *_in_transaction calls with it held, inside a transaction the caller started.
class AuditTrail {
 public:
  /// AuditTrail appends to `store` under `store_mu`; both must outlive it.
  AuditTrail(Store& store, detail::WriterFirstMutex& store_mu, AuditSigner signer, AuditTrailOptions options);
  AuditTrail(const AuditTrail&) = delete;
  AuditTrail& operator=(const AuditTrail&) = delete;
  /// ~AuditTrail stops its batch thread, after the commit it is making; entries still queued are
  /// not committed (the owner flushes first).
  ~AuditTrail();

  /// enabled is false for AuditCommit::off.
  bool enabled() const noexcept { return options_.commit != AuditCommit::off; }
  /// public_key verifies the trail's checkpoints.
  const bytes& public_key() const noexcept { return signer_.public_key(); }
  /// signer is the vault's signing key, which also signs consent receipts.
  const AuditSigner& signer() const noexcept { return signer_; }

  /// append_in_transaction gives `entries` their seq, chains them onto the log inside the
  /// caller's transaction, and signs a checkpoint when checkpoint_interval entries have passed
  /// since the last. The store's error when a read or write fails (the caller's transaction then
  /// must not commit). `store_mu` held.
  result<void> append_in_transaction(std::vector<AuditEntry>& entries);
  /// checkpoint_in_transaction signs the head inside the caller's transaction. With nothing
  /// appended since the last checkpoint it gives that one again when `force`, else nullopt;
  /// nullopt for an empty log; the store's error when a read or write fails. `store_mu` held.
  result<std::optional<AuditCheckpoint>> checkpoint_in_transaction(bool force);
  /// Announcement is a caller's word that it will soon record entries (see announce()); it is
  /// kept until record() takes it, or withdrawn when dropped unused.
  class Announcement {
   public:
    Announcement() = default;
    Announcement(Announcement&& other) noexcept : trail_(std::exchange(other.trail_, nullptr)) {}
    Announcement& operator=(Announcement&&) = delete;
    ~Announcement() {
      if (trail_) trail_->withdraw(*this);
    }

   private:
    friend class AuditTrail;
    explicit Announcement(AuditTrail* trail) : trail_(trail) {}
    AuditTrail* trail_ = nullptr;
  };
  /// announce tells a durable trail that the caller is about to decide something it will record
  /// (a read). A group commit's leader waits, up to the gather limit, for announced callers and
  /// for as many callers as its last commit held or saw queue while it ran, so that their
  /// entries share one sync instead of each waiting for the next. Does nothing for the other
  /// AuditCommit modes. `store_mu` NOT held.
  Announcement announce();
  /// record commits `entries` per the trail's AuditCommit: durable (group commit: returns once
  /// committed, with the error of the batch that held them if it failed), batched (queued; a full
  /// batch is committed unsynced, on the batch thread when the store offers a second connection,
  /// else by this call; an error is that of a commit this call made, or of one the batch thread
  /// made since the last record(), the entries staying queued), off (nothing). `store_mu` NOT
  /// held.
  result<void> record(std::vector<AuditEntry> entries);
  /// record, for a caller that announced these entries: the announcement is settled (also when
  /// `entries` is empty), then as record(entries).
  result<void> record(std::vector<AuditEntry> entries, Announcement announced);
  /// flush commits whatever is queued, synced, and syncs full batches committed unsynced before
  /// (waiting for a batch the batch thread is committing); the first failed commit's or sync's
  /// error, the entries of a batched trail staying queued. `store_mu` NOT held.
  result<void> flush();

 private:
  // A batch whose commit failed: callers holding tickets first..last get its error.
  struct BatchFailure {
    std::uint64_t first, last;
    error err;
  };

  // Writer is a connection entries are appended through, with what the trail knows of the log
  // there; used only by the holder of its `mu`.
  struct Writer {
    Writer(Store* s, detail::WriterFirstMutex* m, std::int64_t last)
        : store(s), mu(m), last_checkpoint_seq(last) {}
    Store* store;
    detail::WriterFirstMutex* mu;
    std::int64_t last_checkpoint_seq;  // the last checkpoint's seq, as this writer last saw it
    // A store with a chain per writer: this writer's chain (-1 until claimed), its head as last
    // appended (trusted only while head_known: a transaction rolled back after an append leaves
    // it ahead of the store, which the next append finds), and entries since its last checkpoint.
    std::int64_t chain = -1;
    AuditHead chain_head;
    bool head_known = false;
    std::int64_t since_checkpoint = 0;
  };
  // The state of a batched trail's second connection.
  enum class Companion { untried, opening, running, none };

  // Drops an announcement that was never recorded; mu_ NOT held.
  void withdraw(Announcement& a);
  // Takes an announcement back with mu_ held, waking a leader that gathers once it has enough.
  void settle(Announcement& a);
  // Whether a gathering leader has what it waits for: no caller announced and not recorded, and
  // as many record() calls queued as the last synced commit served, or saw queued while it ran
  // (mu_ held).
  bool gathered() const noexcept { return announced_ == 0 && pending_records_ >= last_batch_records_; }
  // Wakes a leader waiting in gather() once gathered(), and not before: each wakeup short of
  // that would cost it a trip through the scheduler for nothing (mu_ held).
  void wake_gatherer();
  // A leader's wait for announced callers (mu_ held through `lk`), bounded by the last commit.
  void gather(std::unique_lock<std::mutex>& lk);
  timestamp now() const { return options_.clock ? options_.clock() : consentry::now(); }
  // Commits the whole queue as leader through `w`; `lk` holds mu_ on entry and exit but not
  // meanwhile. synced = false commits through Store::begin_unsynced (full batches in batched
  // mode); gathering waits for announced entries first (a durable record's group commit).
  result<void> lead_flush(std::unique_lock<std::mutex>& lk, Writer& w, bool synced, bool gathering);
  // Commits `entries` through `w` in one transaction; `committed` says whether they reached the
  // log, which they may have even on failure (a sync made apart from the commit failed).
  result<void> commit_entries(Writer& w, std::vector<AuditEntry>& entries, bool synced, bool& committed);
  // Appends `entries` through `w` inside the transaction it holds, the way its store keeps the log.
  result<void> append(Writer& w, std::vector<AuditEntry>& entries);
  // The two ways entries join the log: after the one chain's head, which the store's write lock
  // keeps linear; or after the writer's own chain's head (docs/audit.md, "Many writers").
  result<void> append_to_log(Writer& w, std::vector<AuditEntry>& entries);
  // durably: in a transaction of the store's own (Store::append_audit_chain_durably), outside
  // any; else inside the caller's.
  result<void> append_to_own_chain(Writer& w, std::vector<AuditEntry>& entries, bool durably);
  result<std::optional<AuditCheckpoint>> checkpoint_heads(Writer& w, bool force);
  result<std::optional<AuditCheckpoint>> checkpoint(Writer& w, bool force);
  // The writer a flush commits through: the companion's once it runs (mu_ held).
  Writer& flush_writer() { return companion_state_ == Companion::running ? companion_ : main_; }
  // Hands a full batch to the batch thread, opening the second connection and starting the
  // thread the first time; false when the store offers none, and the caller commits it.
  // `lk` holds mu_ on entry and exit, not while the connection opens.
  bool hand_over(std::unique_lock<std::mutex>& lk);
  // The batch thread: commits full batches through companion_ until the trail is destroyed.
  void commit_batches();
  // The error of a batch the batch thread failed to commit, once (mu_ held).
  result<void> take_batch_error();

  Store& store_;
  detail::WriterFirstMutex& store_mu_;
  const AuditSigner signer_;
  const AuditTrailOptions options_;
  Writer main_;  // store_ under store_mu_

  // Batched commits on a second connection: the connection and its writer (used by whoever
  // leads a flush), the batch thread, what wakes it, and the error it last met.
  Companion companion_state_ = Companion::untried;  // mu_ held
  std::unique_ptr<Store> companion_store_;          // set once before the thread starts
  detail::WriterFirstMutex companion_mu_;
  Writer companion_;
  std::thread batch_thread_;
  pid_t batch_thread_pid_ = 0;  // the process that started it
  std::condition_variable batch_ready_;
  bool stopping_ = false;             // mu_ held
  std::size_t next_batch_at_ = 0;     // pending entries that wake the thread; mu_ held
  std::optional<error> batch_error_;  // mu_ held

  // Group commit: callers enqueue entries and take tickets; one of them (the leader) commits
  // everything queued in one transaction while the others wait for their ticket.
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<AuditEntry> pending_;
  std::uint64_t enqueued_ = 0;
  std::uint64_t processed_ = 0;
  std::uint64_t synced_ = 0;  // tickets up to here are committed and synced
  bool flushing_ = false;
  std::deque<BatchFailure> failures_;
  // Gathering: callers that announced entries not recorded yet, the condition a leader waits on
  // for them, the record() calls whose entries are queued, and the last synced commit's: how
  // long it took (the bound of that wait) and how many record() calls it served.
  std::size_t announced_ = 0;
  std::condition_variable gathered_;
  std::size_t pending_records_ = 0;
  std::chrono::steady_clock::duration last_commit_{};
  std::size_t last_batch_records_ = 0;
};

}  // namespace consentry
