// scrubbing_vfs.hpp: an SQLite VFS over the default one that writes every b-tree page of a main
// database file with its unallocated space zeroed, so that the file holds no stale copy of a cell,
// and keeps SQLite's memory map of the file while other connections commit.
#pragma once

#include <cstddef>
#include <cstdint>

struct sqlite3;

namespace consentry::detail {

/// kScrubbingVfsName is the name the VFS is registered under (not as the default VFS).
inline constexpr const char* kScrubbingVfsName = "consentry-scrubbing";

/// kMaxScrubbedPages: an overflow or freelist page starts with a page number, whose first byte
/// could read as a b-tree page type only in a file of 2^25 pages or more. The VFS writes the pages
/// of a file that has reached 2^24 pages (64 GiB at 4 KiB) as they are, and the store rewrites
/// such a file in full to remove stale copies.
inline constexpr std::int64_t kMaxScrubbedPages = std::int64_t{1} << 24;

/// register_scrubbing_vfs registers the VFS once per process, over the default VFS. Returns
/// false when SQLite has no default VFS or refuses the registration.
bool register_scrubbing_vfs() noexcept;

/// opened_before_fork is true when `db`'s main file was opened through this VFS by a process
/// that the running one was forked from. The VFS neither locks, writes, syncs nor truncates such
/// a file (SQLite would corrupt it), so every statement of the connection fails.
bool opened_before_fork(sqlite3* db) noexcept;

/// sync_file_data is fdatasync of the open descriptor `fd`, counted and failed by an installed
/// fault plan (fault_injection.hpp) as the VFS's own syncs are: for a sync made apart from a
/// commit (SqliteStore::sync_committed). Returns 0 or an errno value (EIO for an injected
/// failure).
int sync_file_data(int fd) noexcept;

/// scrub_btree_page zeroes the gap between the cell pointer array and the cell content area of
/// `page` (`size` bytes; `first` for page 1, whose b-tree header follows the 100-byte file
/// header), which SQLite leaves holding whatever cells were there before the page was rebuilt.
/// Pages that are not b-tree pages, or whose header does not hold together, are left alone.
/// Returns how many bytes it zeroed.
std::size_t scrub_btree_page(std::uint8_t* page, std::size_t size, bool first) noexcept;

}  // namespace consentry::detail
