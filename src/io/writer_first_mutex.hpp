// writer_first_mutex.hpp: WriterFirstMutex, a readers-writer lock whose waiting writers go
// before readers that come after them, so that a stream of readers cannot hold a writer off.
#pragma once

#include <pthread.h>

namespace consentry::detail {

/// WriterFirstMutex is a shared mutex (usable with std::lock_guard, std::unique_lock and
/// std::shared_lock) on which a thread waiting to lock exclusively keeps new shared lockers
/// out until it has had its turn. Not recursive: a thread that holds it shared must not lock it
/// shared again (a writer waiting between the two would deadlock it).
class WriterFirstMutex {
 public:
  WriterFirstMutex() noexcept {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  WriterFirstMutex(const WriterFirstMutex&) = delete;
  WriterFirstMutex& operator=(const WriterFirstMutex&) = delete;
  ~WriterFirstMutex() { pthread_rwlock_destroy(&lock_); }

  /// lock waits for the mutex alone.
  void lock() noexcept { pthread_rwlock_wrlock(&lock_); }
  /// try_lock takes the mutex alone if no one holds it; false otherwise.
  bool try_lock() noexcept { return pthread_rwlock_trywrlock(&lock_) == 0; }
  /// unlock releases what lock or try_lock took.
  void unlock() noexcept { pthread_rwlock_unlock(&lock_); }
  /// lock_shared waits until no one holds the mutex alone or waits to.
  void lock_shared() noexcept { pthread_rwlock_rdlock(&lock_); }
  /// try_lock_shared takes the mutex shared if it can now; false otherwise.
  bool try_lock_shared() noexcept { return pthread_rwlock_tryrdlock(&lock_) == 0; }
  /// unlock_shared releases what lock_shared or try_lock_shared took.
  void unlock_shared() noexcept { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace consentry::detail
