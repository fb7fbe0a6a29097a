// scrubbing_vfs.cpp: the scrubbing VFS. SQLite rebuilds a b-tree page when it splits or merges
// it, and the rebuilt page keeps, in the unallocated gap between its cell pointers and its cells,
// the bytes of cells it gave away; secure_delete zeroes freed cells and pages but never that gap.
// This VFS forwards everything to the default VFS, except that each b-tree page written to a main
// database file goes out with that gap zeroed. In WAL mode main-file pages are written only by
// checkpoints, so once a checkpoint has run, no page of the file holds a cell it no longer has.
// The WAL itself is left as it is (its frames are checksummed); erasure truncates it. It also
// keeps SQLite's memory map of a file while other connections commit, as long as the file's size
// is unchanged (x_unfetch). Tests can make it fail chosen file operations
// (store/fault_injection.hpp).
#include "store/scrubbing_vfs.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <vector>

#include "io/fork_generation.hpp"
#include "store/fault_injection.hpp"

namespace consentry::detail {
namespace {

// fault_plan is the installed FaultPlan; nullptr (injection off) unless a test installs one.
std::atomic<FaultPlan*> fault_plan{nullptr};

// injected is 0 unless a test installed a FaultPlan that fails this operation (see
// fault_injection.hpp); with none installed it costs one load.
int injected(FileOp op) noexcept {
  FaultPlan* plan = fault_plan.load(std::memory_order_acquire);
  return plan == nullptr ? SQLITE_OK : plan->on(op);
}

std::size_t be16(const std::uint8_t* p) noexcept {
  return (std::size_t{p[0]} << 8) | p[1];
}
std::uint32_t be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// ScrubFile is the file this VFS hands SQLite; the default VFS's own file follows it in memory.
struct ScrubFile {
  sqlite3_file base;
  sqlite3_file* real;
  bool scrub;                // a main database file, neither auto-vacuumed nor too large
  sqlite3_int64 pages_seen;  // the largest page number written or found at open
  std::uint64_t opened_in;   // fork_generation() when the file was opened
  // The size of SQLite's memory map of the file, the file's size when SQLite last mapped it; -1
  // when not known, until the next fetch (x_unfetch).
  sqlite3_int64 mapped_size;
};

sqlite3_vfs* root_vfs = nullptr;
sqlite3_vfs scrubbing_vfs{};
sqlite3_io_methods scrubbing_methods{};

ScrubFile* as_scrub(sqlite3_file* f) noexcept {
  return reinterpret_cast<ScrubFile*>(f);
}
sqlite3_file* real_of(sqlite3_file* f) noexcept {
  return as_scrub(f)->real;
}

// forked is true in a process forked from the one that opened `f`. The child holds none of the
// POSIX locks its parent holds on the file, so SQLite there would believe in locks it does not
// have and could write over the parent's commits: such a file is neither locked, written, synced
// nor truncated (SQLite's "carrying an open database connection across a fork()").
bool forked(sqlite3_file* f) noexcept {
  return as_scrub(f)->opened_in != fork_generation();
}

// auto_vacuumed reads the "largest root b-tree page" field of the file header, which is non-zero
// in auto-vacuum files: their pointer-map pages hold type bytes that could read as b-tree types.
bool auto_vacuumed(const std::uint8_t* header) noexcept {
  return be32(header + 52) != 0;
}

bool is_page_write(int amount, sqlite3_int64 offset) noexcept {
  return amount >= 512 && amount <= 65536 && (amount & (amount - 1)) == 0 && offset % amount == 0;
}

int x_close(sqlite3_file* f) {
  sqlite3_file* real = real_of(f);
  return real->pMethods ? real->pMethods->xClose(real) : SQLITE_OK;
}
int x_read(sqlite3_file* f, void* buf, int amount, sqlite3_int64 offset) {
  if (const int rc = injected(file_read)) return rc;
  return real_of(f)->pMethods->xRead(real_of(f), buf, amount, offset);
}
int x_write(sqlite3_file* f, const void* buf, int amount, sqlite3_int64 offset) {
  if (forked(f)) return SQLITE_IOERR_WRITE;
  if (const int rc = injected(file_write)) return rc;
  ScrubFile* file = as_scrub(f);
  sqlite3_file* real = file->real;
  if (!file->scrub || !is_page_write(amount, offset))
    return real->pMethods->xWrite(real, buf, amount, offset);
  const sqlite3_int64 page = offset / amount + 1;
  file->pages_seen = std::max(file->pages_seen, page);
  const auto* bytes = static_cast<const std::uint8_t*>(buf);
  if (page == 1 && auto_vacuumed(bytes)) file->scrub = false;
  if (!file->scrub || file->pages_seen >= kMaxScrubbedPages) {
    file->scrub = false;
    return real->pMethods->xWrite(real, buf, amount, offset);
  }
  thread_local std::vector<std::uint8_t> copy;
  copy.assign(bytes, bytes + amount);
  scrub_btree_page(copy.data(), copy.size(), page == 1);
  return real->pMethods->xWrite(real, copy.data(), amount, offset);
}
int x_truncate(sqlite3_file* f, sqlite3_int64 size) {
  if (forked(f)) return SQLITE_IOERR_TRUNCATE;
  if (const int rc = injected(file_truncate)) return rc;
  as_scrub(f)->mapped_size = -1;  // SQLite shortens its map with the file (see x_unfetch)
  return real_of(f)->pMethods->xTruncate(real_of(f), size);
}
int x_sync(sqlite3_file* f, int flags) {
  if (forked(f)) return SQLITE_IOERR_FSYNC;
  if (const int rc = injected(file_sync)) return rc;
  return real_of(f)->pMethods->xSync(real_of(f), flags);
}
int x_file_size(sqlite3_file* f, sqlite3_int64* size) {
  return real_of(f)->pMethods->xFileSize(real_of(f), size);
}
int x_lock(sqlite3_file* f, int level) {
  if (forked(f)) return SQLITE_IOERR_LOCK;
  return real_of(f)->pMethods->xLock(real_of(f), level);
}
int x_unlock(sqlite3_file* f, int level) {
  return real_of(f)->pMethods->xUnlock(real_of(f), level);
}
int x_check_reserved_lock(sqlite3_file* f, int* out) {
  return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}
int x_file_control(sqlite3_file* f, int op, void* arg) {
  // SQLite maps the file anew when it grows the file itself or is given a new map size.
  if (op == SQLITE_FCNTL_SIZE_HINT || op == SQLITE_FCNTL_MMAP_SIZE) as_scrub(f)->mapped_size = -1;
  return real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}
int x_sector_size(sqlite3_file* f) {
  return real_of(f)->pMethods->xSectorSize(real_of(f));
}
int x_device_characteristics(sqlite3_file* f) {
  return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}
int x_shm_map(sqlite3_file* f, int region, int size, int extend, void volatile** out) {
  if (forked(f)) return SQLITE_IOERR_SHMMAP;
  return real_of(f)->pMethods->xShmMap(real_of(f), region, size, extend, out);
}
int x_shm_lock(sqlite3_file* f, int offset, int n, int flags) {
  // Unlocking releases nothing in a forked child, and lets SQLite there end what it began.
  if ((flags & SQLITE_SHM_LOCK) != 0 && forked(f)) return SQLITE_IOERR_SHMLOCK;
  return real_of(f)->pMethods->xShmLock(real_of(f), offset, n, flags);
}
void x_shm_barrier(sqlite3_file* f) {
  real_of(f)->pMethods->xShmBarrier(real_of(f));
}
int x_shm_unmap(sqlite3_file* f, int remove) {
  // A forked child never deletes the shared-memory file its parent still uses.
  return real_of(f)->pMethods->xShmUnmap(real_of(f), forked(f) ? 0 : remove);
}
// The real file's size, or -1 when it cannot be had.
sqlite3_int64 real_size(sqlite3_file* f) {
  sqlite3_int64 size = -1;
  return real_of(f)->pMethods->xFileSize(real_of(f), &size) == SQLITE_OK ? size : -1;
}
int x_fetch(sqlite3_file* f, sqlite3_int64 offset, int amount, void** out) {
  // The first fetch since SQLite last changed its map finds the map as large as the file (see
  // x_unfetch).
  if (ScrubFile* file = as_scrub(f); file->mapped_size < 0) file->mapped_size = real_size(f);
  return real_of(f)->pMethods->xFetch(real_of(f), offset, amount, out);
}
int x_unfetch(sqlite3_file* f, sqlite3_int64 offset, void* page) {
  // SQLite drops its whole map of the file (page == nullptr) whenever a read transaction starts
  // after another connection committed, in case the file was truncated and grown again meanwhile.
  // Its next read maps the file again, and every page it then touches costs a page fault: with
  // the audit committed on a second connection, that was once per batch, for every page of the
  // reads after it. On Linux a shared map follows the file through truncation and growth, so the
  // map is kept while the file's size is what it was when SQLite mapped it; a file that grew or
  // shrank since is mapped again, to its new size (beyond its map, SQLite reads with read():
  // see unixFetch).
  ScrubFile* file = as_scrub(f);
  if (page == nullptr && !forked(f)) {
    if (const sqlite3_int64 size = real_size(f); size >= 0 && size == file->mapped_size) return SQLITE_OK;
    file->mapped_size = -1;
  }
  return real_of(f)->pMethods->xUnfetch(real_of(f), offset, page);
}

int x_open(sqlite3_vfs*, const char* name, sqlite3_file* f, int flags, int* out_flags) {
  ScrubFile* file = as_scrub(f);
  file->real = reinterpret_cast<sqlite3_file*>(file + 1);
  file->scrub = false;
  file->pages_seen = 0;
  file->mapped_size = -1;
  (void)watch_forks();
  file->opened_in = fork_generation();
  f->pMethods = nullptr;
  const int rc = root_vfs->xOpen(root_vfs, name, file->real, flags, out_flags);
  if (file->real->pMethods == nullptr) return rc;
  f->pMethods = &scrubbing_methods;
  if (rc != SQLITE_OK || (flags & SQLITE_OPEN_MAIN_DB) == 0) return rc;
  // An existing file: its size bounds its page numbers, and its header says whether it is
  // auto-vacuumed. A new file gets its header with the first write of page 1.
  sqlite3_int64 size = 0;
  if (file->real->pMethods->xFileSize(file->real, &size) != SQLITE_OK) return rc;
  std::uint8_t header[100];
  if (size >= 100) {
    if (file->real->pMethods->xRead(file->real, header, sizeof header, 0) != SQLITE_OK) return rc;
    if (auto_vacuumed(header)) return rc;
    const std::size_t page_size = be16(header + 16) == 1 ? 65536 : be16(header + 16);
    if (page_size >= 512) file->pages_seen = size / static_cast<sqlite3_int64>(page_size);
  }
  file->scrub = file->pages_seen < kMaxScrubbedPages;
  return rc;
}

int x_delete(sqlite3_vfs*, const char* name, int sync) {
  return root_vfs->xDelete(root_vfs, name, sync);
}
int x_access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return root_vfs->xAccess(root_vfs, name, flags, out);
}
int x_full_pathname(sqlite3_vfs*, const char* name, int n, char* out) {
  return root_vfs->xFullPathname(root_vfs, name, n, out);
}
void* x_dl_open(sqlite3_vfs*, const char* name) {
  return root_vfs->xDlOpen(root_vfs, name);
}
void x_dl_error(sqlite3_vfs*, int n, char* out) {
  root_vfs->xDlError(root_vfs, n, out);
}
void (*x_dl_sym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return root_vfs->xDlSym(root_vfs, handle, symbol);
}
void x_dl_close(sqlite3_vfs*, void* handle) {
  root_vfs->xDlClose(root_vfs, handle);
}
int x_randomness(sqlite3_vfs*, int n, char* out) {
  return root_vfs->xRandomness(root_vfs, n, out);
}
int x_sleep(sqlite3_vfs*, int microseconds) {
  return root_vfs->xSleep(root_vfs, microseconds);
}
int x_current_time(sqlite3_vfs*, double* out) {
  return root_vfs->xCurrentTime(root_vfs, out);
}
int x_get_last_error(sqlite3_vfs*, int n, char* out) {
  return root_vfs->xGetLastError ? root_vfs->xGetLastError(root_vfs, n, out) : 0;
}
int x_current_time_int64(sqlite3_vfs*, sqlite3_int64* out) {
  return root_vfs->xCurrentTimeInt64(root_vfs, out);
}

bool install() noexcept {
  // SQLite's memory statistics take one process-wide mutex in every allocation, which every
  // connection (the reads of several threads, the audit's batch thread) would contend for. They
  // are turned off when this is the first use of SQLite in the process; once SQLite is
  // initialised the call changes nothing (SQLITE_MISUSE), so a program that wants them opens
  // or initialises SQLite first (README, "Using it from another project").
  (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  root_vfs = sqlite3_vfs_find(nullptr);
  // Version 2 is the first with xCurrentTimeInt64; the system-call hooks of version 3 are not
  // offered.
  if (root_vfs == nullptr || root_vfs->iVersion < 2) return false;
  scrubbing_methods.iVersion = 3;
  scrubbing_methods.xClose = x_close;
  scrubbing_methods.xRead = x_read;
  scrubbing_methods.xWrite = x_write;
  scrubbing_methods.xTruncate = x_truncate;
  scrubbing_methods.xSync = x_sync;
  scrubbing_methods.xFileSize = x_file_size;
  scrubbing_methods.xLock = x_lock;
  scrubbing_methods.xUnlock = x_unlock;
  scrubbing_methods.xCheckReservedLock = x_check_reserved_lock;
  scrubbing_methods.xFileControl = x_file_control;
  scrubbing_methods.xSectorSize = x_sector_size;
  scrubbing_methods.xDeviceCharacteristics = x_device_characteristics;
  scrubbing_methods.xShmMap = x_shm_map;
  scrubbing_methods.xShmLock = x_shm_lock;
  scrubbing_methods.xShmBarrier = x_shm_barrier;
  scrubbing_methods.xShmUnmap = x_shm_unmap;
  scrubbing_methods.xFetch = x_fetch;
  scrubbing_methods.xUnfetch = x_unfetch;

  scrubbing_vfs.iVersion = 2;
  scrubbing_vfs.szOsFile = static_cast<int>(sizeof(ScrubFile)) + root_vfs->szOsFile;
  scrubbing_vfs.mxPathname = root_vfs->mxPathname;
  scrubbing_vfs.zName = kScrubbingVfsName;
  scrubbing_vfs.xOpen = x_open;
  scrubbing_vfs.xDelete = x_delete;
  scrubbing_vfs.xAccess = x_access;
  scrubbing_vfs.xFullPathname = x_full_pathname;
  scrubbing_vfs.xDlOpen = x_dl_open;
  scrubbing_vfs.xDlError = x_dl_error;
  scrubbing_vfs.xDlSym = x_dl_sym;
  scrubbing_vfs.xDlClose = x_dl_close;
  scrubbing_vfs.xRandomness = x_randomness;
  scrubbing_vfs.xSleep = x_sleep;
  scrubbing_vfs.xCurrentTime = x_current_time;
  scrubbing_vfs.xGetLastError = x_get_last_error;
  scrubbing_vfs.xCurrentTimeInt64 = x_current_time_int64;
  return sqlite3_vfs_register(&scrubbing_vfs, 0) == SQLITE_OK;
}

}  // namespace

std::size_t scrub_btree_page(std::uint8_t* page, std::size_t size, bool first) noexcept {
  const std::size_t header = first ? 100 : 0;
  if (size < 512 || header + 12 > size) return 0;
  const std::uint8_t type = page[header];
  const bool interior = type == 2 || type == 5;
  if (!interior && type != 10 && type != 13) return 0;
  const std::size_t header_size = interior ? 12 : 8;
  const std::size_t cells = be16(page + header + 3);
  std::size_t content = be16(page + header + 5);
  if (content == 0) content = 65536;
  const std::size_t first_freeblock = be16(page + header + 1);
  const std::size_t pointers_end = header + header_size + 2 * cells;
  // Anything that does not hold together is not a b-tree page as SQLite wrote it: leave it.
  if (pointers_end > content || content > size || page[header + 7] > 60) return 0;
  if (first_freeblock != 0 && (first_freeblock < content || first_freeblock + 4 > size)) return 0;
  if (interior && be32(page + header + 8) == 0) return 0;
  for (std::size_t i = 0; i < cells; ++i) {
    const std::size_t cell = be16(page + header + header_size + 2 * i);
    if (cell < content || cell >= size) return 0;
  }
  std::memset(page + pointers_end, 0, content - pointers_end);
  return content - pointers_end;
}

int FaultPlan::on(FileOp op) noexcept {
  if ((ops & op) == 0) return SQLITE_OK;
  const std::int64_t n = seen.fetch_add(1) + 1;
  if (fail_at == 0 || n < fail_at || (n > fail_at && !persistent)) return SQLITE_OK;
  failed.fetch_add(1);
  if (code != 0) return code;
  switch (op) {
    case file_read: return SQLITE_IOERR_READ;
    case file_write: return SQLITE_IOERR_WRITE;
    case file_sync: return SQLITE_IOERR_FSYNC;
    case file_truncate: return SQLITE_IOERR_TRUNCATE;
    default: return SQLITE_IOERR;
  }
}

FaultPlan* install_fault_plan(FaultPlan* plan) noexcept {
  return fault_plan.exchange(plan, std::memory_order_acq_rel);
}

int sync_file_data(int fd) noexcept {
  if (injected(file_sync) != SQLITE_OK) return EIO;
  return ::fdatasync(fd) == 0 ? 0 : errno;
}

bool opened_before_fork(sqlite3* db) noexcept {
  sqlite3_file* f = nullptr;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK || f == nullptr ||
      f->pMethods != &scrubbing_methods)
    return false;
  return forked(f);
}

bool register_scrubbing_vfs() noexcept {
  static std::once_flag once;
  static bool registered = false;
  std::call_once(once, [] { registered = install(); });
  return registered;
}

}  // namespace consentry::detail
