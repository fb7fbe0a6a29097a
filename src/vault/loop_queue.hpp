// loop_queue.hpp: loops whose iterations are independent, queued to threads that run them while
// the caller goes on (private to the vault). Bulk writes check and seal their records on it
// while they write the records before.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace consentry::detail {

/// LoopQueue runs queued loops on helper threads of its own, the oldest loop first, the helpers
/// sharing its iterations a few at a time, so that a helper given slower iterations takes fewer.
/// A caller waiting for a loop makes the calls no helper has taken yet itself: with no helper
/// (one core, or none asked for) every loop runs in wait(). Its methods are for one thread, the
/// one that made it; only the loops' bodies run elsewhere.
class LoopQueue {
 public:
  /// LoopQueue starts up to `helpers` threads, never more than the machine's cores less one (the
  /// caller's own); a thread that cannot be started is done without.
  explicit LoopQueue(std::size_t helpers);
  LoopQueue(const LoopQueue&) = delete;
  LoopQueue& operator=(const LoopQueue&) = delete;
  /// ~LoopQueue waits for every loop queued (as wait does, an exception of one dropped) and stops
  /// its threads, so nothing a body touches is used after it.
  ~LoopQueue();

  /// push queues the loop body(i) for every i in [0, n) and returns its number for wait(). The
  /// calls may run in any order and at once, so `body` must touch only what its own i owns.
  std::size_t push(std::size_t n, std::function<void(std::size_t)> body);
  /// wait returns once every call of loop `loop` has returned, making the calls not yet taken
  /// itself. An exception thrown by a call stops the loop (its calls not yet started are not
  /// made) and is rethrown here.
  void wait(std::size_t loop);
  /// done says whether every call of loop `loop` has returned (wait() would not block).
  bool done(std::size_t loop);
  /// helpers is how many threads were started.
  std::size_t helpers() const noexcept { return threads_.size(); }

 private:
  struct Loop;
  /// take makes the next few calls of `loop`; false when none was left to take.
  bool take(Loop& loop);
  /// next_loop is the oldest loop with calls not yet taken, or nullptr (mu_ held).
  Loop* next_loop();
  void help();

  std::mutex mu_;
  std::condition_variable work_;              // a loop was queued, or the queue is stopping
  std::condition_variable done_;              // a loop's last call returned
  std::vector<std::unique_ptr<Loop>> loops_;  // every loop queued, by number
  std::size_t head_ = 0;                      // loops before it have no call left to take
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace consentry::detail
