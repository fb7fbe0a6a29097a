// fork_generation.cpp: forks counted by a pthread_atfork child handler.
#include "io/fork_generation.hpp"

#include <pthread.h>

#include <atomic>
#include <string>

namespace consentry::detail {
namespace {

std::atomic<std::uint64_t> forks{0};

void count_fork() noexcept {
  forks.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

bool watch_forks() noexcept {
  static const bool watched = ::pthread_atfork(nullptr, nullptr, count_fork) == 0;
  return watched;
}

std::uint64_t fork_generation() noexcept {
  return forks.load(std::memory_order_relaxed);
}

error used_after_fork(std::string_view operation) {
  return make_error(errc::io, std::string(operation) +
                                  ": the vault was opened in the process this one was forked from; a vault "
                                  "serves the process that opened it, so open it again in this one");
}

}  // namespace consentry::detail
