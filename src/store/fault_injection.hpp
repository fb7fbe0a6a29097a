// fault_injection.hpp: failing the file operations of the scrubbing VFS on purpose, for tests
// (private: not part of the installed API). Off unless a test installs a plan; then the VFS
// counts the reads, writes, syncs and truncations of every file it opens (vault, WAL, journals,
// backup copies) and fails the chosen one with an SQLite I/O error code, as a failing disk would.
#pragma once

#include <atomic>
#include <cstdint>

namespace consentry::detail {

/// FileOp is a kind of file operation the VFS can fail; the values combine as a mask.
enum FileOp : unsigned {
  file_read = 1u << 0,
  file_write = 1u << 1,
  file_sync = 1u << 2,
  file_truncate = 1u << 3,
  file_any = file_read | file_write | file_sync | file_truncate,
};

/// FaultPlan says which operation to fail and counts the operations seen. `ops` selects the
/// kinds counted; the `fail_at`-th counted one (1-based; 0 = none, only count) fails, and with
/// `persistent` every counted one after it too (a disk that stays full). `code` is the SQLite
/// result code returned (0 = SQLITE_IOERR_READ, _WRITE, _FSYNC or _TRUNCATE after the kind).
/// The counters may be read while the plan is installed; it must outlive its installation.
struct FaultPlan {
  unsigned ops = file_any;
  std::int64_t fail_at = 0;
  bool persistent = false;
  int code = 0;
  std::atomic<std::int64_t> seen{0};    ///< counted operations so far
  std::atomic<std::int64_t> failed{0};  ///< operations failed so far

  /// on counts an operation of kind `op` and returns the code to fail it with, or 0 (SQLITE_OK)
  /// to let it through.
  int on(FileOp op) noexcept;
};

/// install_fault_plan makes the scrubbing VFS follow `plan` (nullptr: stop injecting); returns
/// the plan it replaces. Connections already open are affected too.
FaultPlan* install_fault_plan(FaultPlan* plan) noexcept;

}  // namespace consentry::detail
