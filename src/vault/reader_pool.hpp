// reader_pool.hpp: ReaderPool, the connections a vault's reads run on beside one another
// (Store::open_reader), opened as threads need them and lent one thread at a time (private).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"

namespace consentry {

/// ReaderPool lends reader connections of one store: at most `capacity` are opened, each at
/// the first time no idle one is left, and kept until the pool is destroyed. Safe to use from
/// any thread.
class ReaderPool {
 public:
  /// ReaderPool opens readers of `store` (which must outlive it), at most `capacity` of them.
  ReaderPool(Store& store, std::size_t capacity) : store_(store), capacity_(capacity) {}
  ReaderPool(const ReaderPool&) = delete;
  ReaderPool& operator=(const ReaderPool&) = delete;

  /// Lease is one reader lent to the holder, given back when the lease is dropped; empty (no
  /// reader) when the pool had none to lend.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), reader_(std::move(other.reader_)) {}
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (pool_) pool_->give_back(std::move(reader_));
    }
    /// store is the reader lent, or nullptr for an empty lease.
    Store* store() const noexcept { return reader_.get(); }
    explicit operator bool() const noexcept { return reader_ != nullptr; }

   private:
    friend class ReaderPool;
    Lease(ReaderPool* pool, std::unique_ptr<Store> reader) : pool_(pool), reader_(std::move(reader)) {}
    ReaderPool* pool_ = nullptr;
    std::unique_ptr<Store> reader_;
  };

  /// lease lends an idle reader, or opens one while fewer than the capacity are open. Empty when
  /// every reader is lent and no more may be opened, or when the store offers none or failed to
  /// open one (the pool then stops trying): the caller reads through the store itself.
  Lease lease();

 private:
  void give_back(std::unique_ptr<Store> reader);

  Store& store_;
  const std::size_t capacity_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Store>> idle_;  // mu_ held
  std::size_t opened_ = 0;                    // readers open, lent or idle; mu_ held
  bool unavailable_ = false;                  // the store offers none, or one failed to open; mu_ held
};

}  // namespace consentry
