// reader_pool.cpp: ReaderPool, lending reader connections and opening them as needed.
#include "vault/reader_pool.hpp"

#include <utility>

namespace consentry {

ReaderPool::Lease ReaderPool::lease() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Store> reader = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(reader));
    }
    if (unavailable_ || opened_ >= capacity_) return {};
    ++opened_;  // counted before it opens, so that no more than the capacity open at once
  }
  // Opened outside the lock: other threads take and give back readers meanwhile.
  auto opened = store_.open_reader();
  if (!opened || !*opened) {
    std::lock_guard lock(mu_);
    --opened_;
    unavailable_ = true;
    return {};
  }
  return Lease(this, std::move(*opened));
}

void ReaderPool::give_back(std::unique_ptr<Store> reader) {
  std::lock_guard lock(mu_);
  idle_.push_back(std::move(reader));
}

}  // namespace consentry
