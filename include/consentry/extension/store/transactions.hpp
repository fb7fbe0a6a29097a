// extension/store/transactions.hpp: the transactions role of a store (write transactions, unsynced ones,
// read snapshots), and the Transaction and ReadSnapshot guards over it.
#pragma once

#include <cstdint>
#include <optional>

#include "consentry/result.hpp"

namespace consentry {

/// StoreTransactions is a store's transactions. The other roles' calls made between begin and
/// commit are one atomic, durable change; those between begin_read and end_read see one
/// committed state. Implementations are not thread-safe.
class StoreTransactions {
 public:
  virtual ~StoreTransactions() = default;

  /// begin starts a write transaction; commit makes it durable; rollback discards it.
  /// Transactions do not nest: begin inside a transaction is errc::internal, and so are commit
  /// and rollback outside one. errc::io when the backend fails.
  virtual result<void> begin() = 0;
  virtual result<void> commit() = 0;
  virtual result<void> rollback() = 0;
  /// begin_unsynced starts a write transaction whose commit does not wait for the disk: it
  /// survives the process crashing, but a power loss can take it until the next transaction
  /// begun with begin() commits (or a checkpoint runs) and makes it durable together with
  /// everything committed before. Fails as begin().
  virtual result<void> begin_unsynced() = 0;
  /// begin_append starts a write transaction in which only audit entries are appended to the
  /// caller's own chain (AuditLogStore::append_audit_chain) and checkpoints stored: a store with
  /// a chain per writer lets it run beside other writers' transactions. The default is begin()
  /// (synced) or begin_unsynced(). Fails as begin().
  virtual result<void> begin_append(bool synced) { return synced ? begin() : begin_unsynced(); }
  /// begin_read opens a read snapshot: the calls until end_read see one committed state and
  /// share one lock, instead of one each. Only outside a transaction (errc::internal inside
  /// one); errc::io when the backend fails. end_read closes it, and does nothing without one.
  virtual result<void> begin_read() = 0;
  virtual void end_read() noexcept = 0;
  /// data_version gives a number that differs from the one the previous call gave whenever
  /// another connection to the same data (another Store object, another process) committed
  /// between the two calls; it may differ for other reasons too (a store that cannot tell its own
  /// commits from others' may count every commit). Called inside a read snapshot or transaction,
  /// it describes the state that snapshot sees. nullopt when the store cannot tell (the default):
  /// callers then assume that anything may have changed. errc::io when the backend fails.
  virtual result<std::optional<std::uint64_t>> data_version() { return std::optional<std::uint64_t>(); }
  /// syncs_apart is true when the store can make transactions durable after they committed
  /// unsynced (sync_committed). False by default.
  virtual bool syncs_apart() const noexcept { return false; }
  /// sync_committed makes every transaction committed so far through this store durable, as a
  /// synced commit would have. Unlike the other calls it may run on any thread while another
  /// uses the store, so that a commit's wait for the disk need not hold the store's lock.
  /// errc::io when the disk fails; errc::internal on a store that cannot (syncs_apart false).
  virtual result<void> sync_committed() { return make_error(errc::internal, "sync_committed: not offered"); }
};

/// Transaction begins on Transaction::start and rolls back on destruction unless committed.
class Transaction {
 public:
  /// start begins a transaction on `store` (StoreTransactions::begin, failing as it does); the
  /// store must outlive the Transaction.
  static result<Transaction> start(StoreTransactions& store) {
    CONSENTRY_TRY(store.begin());
    return Transaction(store);
  }
  /// start_unsynced begins one whose commit does not wait for the disk
  /// (StoreTransactions::begin_unsynced).
  static result<Transaction> start_unsynced(StoreTransactions& store) {
    CONSENTRY_TRY(store.begin_unsynced());
    return Transaction(store);
  }
  /// start_append begins a transaction that only appends audit entries
  /// (StoreTransactions::begin_append).
  static result<Transaction> start_append(StoreTransactions& store, bool synced) {
    CONSENTRY_TRY(store.begin_append(synced));
    return Transaction(store);
  }
  Transaction(Transaction&& o) noexcept : store_(o.store_) { o.store_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction() {
    if (store_) (void)store_->rollback();
  }
  /// commit makes the transaction durable; after it the destructor does nothing. Fails as
  /// StoreTransactions::commit; errc::internal when already committed.
  result<void> commit() {
    StoreTransactions* s = store_;
    store_ = nullptr;
    return s ? s->commit() : make_error(errc::internal, "transaction already finished");
  }

 private:
  explicit Transaction(StoreTransactions& s) : store_(&s) {}
  StoreTransactions* store_;
};

/// ReadSnapshot holds a StoreTransactions::begin_read snapshot until it is destroyed.
class ReadSnapshot {
 public:
  /// open begins a read snapshot on `store`, which must outlive the ReadSnapshot; fails as
  /// begin_read.
  static result<ReadSnapshot> open(StoreTransactions& store) {
    CONSENTRY_TRY(store.begin_read());
    return ReadSnapshot(store);
  }
  ReadSnapshot(ReadSnapshot&& o) noexcept : store_(o.store_) { o.store_ = nullptr; }
  ReadSnapshot& operator=(ReadSnapshot&&) = delete;
  ReadSnapshot(const ReadSnapshot&) = delete;
  ~ReadSnapshot() {
    if (store_) store_->end_read();
  }

 private:
  explicit ReadSnapshot(StoreTransactions& s) : store_(&s) {}
  StoreTransactions* store_;
};

}  // namespace consentry
