// fork_generation.hpp: how many fork()s led to the running process, so that what was made before
// a fork (a database connection, a buffer of random bytes) is not used on both sides of it.
#pragma once

#include <cstdint>
#include <string_view>

#include "consentry/result.hpp"

namespace consentry::detail {

/// watch_forks registers, once per process, the pthread_atfork child handler that counts forks.
/// Returns false when it could not be registered; fork_generation then never changes.
bool watch_forks() noexcept;

/// fork_generation is how many forks the running process came through since watch_forks()
/// first succeeded in it or in a process it was forked from: 0 in that process, one more in each
/// child forked after it. Compared with the value kept beside a resource, it tells whether the
/// resource was made in another process.
std::uint64_t fork_generation() noexcept;

/// used_after_fork is the error of `operation` on a connection opened in a process the running
/// one was forked from (errc::io).
error used_after_fork(std::string_view operation);

}  // namespace consentry::detail
