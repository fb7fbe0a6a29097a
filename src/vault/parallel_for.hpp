// parallel_for.hpp: a loop whose iterations are independent, run on several cores (private to
// the vault). Bulk writes validate and seal their records with it.
#pragma once

#include <cstddef>
#include <functional>

namespace consentry::detail {

/// parallel_for calls `body(i)` once for every i in [0, n), on the calling thread and on up to
/// `max_threads - 1` threads it starts for the call (fewer when the machine has fewer cores, or
/// when n is below `min_per_thread` for each of them), and returns once every call has
/// returned. The calls may run in any order and at once, so `body` must touch only what its own
/// i owns. An exception thrown by `body` stops the loop early and is rethrown here; a thread
/// that cannot be started leaves its share to the others.
void parallel_for(std::size_t n, std::size_t min_per_thread, std::size_t max_threads,
                  const std::function<void(std::size_t)>& body);

}  // namespace consentry::detail
