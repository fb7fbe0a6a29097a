// loop_queue.cpp: LoopQueue's threads and the caller share a loop through one atomic counter,
// taking kGrain iterations at a time; a loop's finished count, under the queue's mutex, tells a
// waiting caller when the last call has returned.
#include "vault/loop_queue.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <system_error>
#include <utility>

namespace consentry::detail {
namespace {

// kGrain is how many iterations a thread takes at a time: enough that the shared counter is not
// what the threads wait on, few enough that they finish together.
constexpr std::size_t kGrain = 8;

}  // namespace

struct LoopQueue::Loop {
  Loop(std::size_t count, std::function<void(std::size_t)> fn) : n(count), body(std::move(fn)) {}
  const std::size_t n;
  const std::function<void(std::size_t)> body;
  std::atomic<std::size_t> next{0};  // the first iteration not yet taken
  std::atomic<bool> stopped{false};  // a call threw: the calls not started are skipped
  std::size_t finished = 0;          // iterations returned or skipped (mu_)
  std::exception_ptr failure;        // the first exception thrown (mu_)
};

LoopQueue::LoopQueue(std::size_t helpers) {
  // Asked once: glibc counts the cores by reading /sys, which a short write should not pay for.
  static const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  helpers = std::min(helpers, cores - 1);
  threads_.reserve(helpers);
  for (std::size_t t = 0; t < helpers; ++t) {
    try {
      threads_.emplace_back([this] { help(); });
    } catch (const std::system_error&) {
      break;  // no thread to be had: those started, and the caller, do the work
    }
  }
}

LoopQueue::~LoopQueue() {
  for (std::size_t loop = 0; loop < loops_.size(); ++loop) {
    try {
      wait(loop);
    } catch (...) {  // NOLINT(bugprone-empty-catch): its caller has returned already
    }
  }
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::size_t LoopQueue::push(std::size_t n, std::function<void(std::size_t)> body) {
  std::size_t number = 0;
  {
    std::lock_guard lock(mu_);
    loops_.push_back(std::make_unique<Loop>(n, std::move(body)));
    number = loops_.size() - 1;
  }
  work_.notify_all();
  return number;
}

bool LoopQueue::take(Loop& loop) {
  const std::size_t first = loop.next.fetch_add(kGrain, std::memory_order_relaxed);
  if (first >= loop.n) return false;
  const std::size_t last = std::min(loop.n, first + kGrain);
  std::exception_ptr thrown;
  if (!loop.stopped.load(std::memory_order_relaxed)) {
    try {
      for (std::size_t i = first; i < last; ++i) loop.body(i);
    } catch (...) {
      thrown = std::current_exception();
      loop.stopped.store(true, std::memory_order_relaxed);
    }
  }
  bool all_done = false;
  {
    std::lock_guard lock(mu_);
    if (thrown && !loop.failure) loop.failure = thrown;
    loop.finished += last - first;
    all_done = loop.finished == loop.n;
  }
  if (all_done) done_.notify_all();
  return true;
}

LoopQueue::Loop* LoopQueue::next_loop() {
  while (head_ < loops_.size() && loops_[head_]->next.load(std::memory_order_relaxed) >= loops_[head_]->n)
    ++head_;
  return head_ < loops_.size() ? loops_[head_].get() : nullptr;
}

void LoopQueue::help() {
  std::unique_lock lock(mu_);
  for (;;) {
    Loop* loop = next_loop();
    if (!loop) {
      if (stopping_) return;
      work_.wait(lock);
      continue;
    }
    lock.unlock();
    take(*loop);
    lock.lock();
  }
}

void LoopQueue::wait(std::size_t number) {
  Loop* loop = nullptr;
  {
    std::lock_guard lock(mu_);
    loop = loops_.at(number).get();
  }
  while (take(*loop)) {
  }
  std::unique_lock lock(mu_);
  done_.wait(lock, [&] { return loop->finished == loop->n; });
  if (loop->failure) std::rethrow_exception(std::exchange(loop->failure, nullptr));
}

bool LoopQueue::done(std::size_t number) {
  std::lock_guard lock(mu_);
  const Loop& loop = *loops_.at(number);
  return loop.finished == loop.n;
}

}  // namespace consentry::detail
