// parallel_for.cpp: parallel_for's threads share the loop through one atomic counter, taking a
// few iterations at a time, so that a thread given slower records takes fewer of them.
#include "vault/parallel_for.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace consentry::detail {
namespace {

// kGrain is how many iterations a thread takes at a time: enough that the shared counter is not
// what the threads wait on, few enough that they finish together.
constexpr std::size_t kGrain = 8;

}  // namespace

void parallel_for(std::size_t n, std::size_t min_per_thread, std::size_t max_threads,
                  const std::function<void(std::size_t)>& body) {
  const std::size_t by_size = std::max<std::size_t>(1, n / std::max<std::size_t>(1, min_per_thread));
  std::size_t threads = std::min(by_size, std::max<std::size_t>(1, max_threads));
  if (threads > 1) {
    // Asked once: glibc counts the cores by reading /sys, which a short loop should not pay for.
    static const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
    threads = std::min(threads, cores);
  }
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) body(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr failure;
  std::mutex failure_mu;
  auto work = [&] {
    try {
      for (;;) {
        if (stop.load(std::memory_order_relaxed)) return;
        const std::size_t first = next.fetch_add(kGrain, std::memory_order_relaxed);
        if (first >= n) return;
        const std::size_t last = std::min(n, first + kGrain);
        for (std::size_t i = first; i < last; ++i) body(i);
      }
    } catch (...) {
      std::lock_guard lock(failure_mu);
      if (!failure) failure = std::current_exception();
      stop.store(true, std::memory_order_relaxed);
    }
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) {
    try {
      helpers.emplace_back(work);
    } catch (const std::system_error&) {
      break;  // no thread to be had: the threads already started, and this one, do its share
    }
  }
  work();
  for (std::thread& h : helpers) h.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace consentry::detail
