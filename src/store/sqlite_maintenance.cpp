// sqlite_maintenance.cpp: the SQLite store's maintenance role: erasure (the one delete the ledger
// allows), the walks of purges and key rotation, the inventory's counts, compaction (so deleted
// bytes leave every file) and online backups.
#include <sqlite3.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "io/staged_file.hpp"
#include "store/scrubbing_vfs.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_statement.hpp"
#include "store/sqlite_store.hpp"

namespace consentry::detail {

// ---- erasure ----

result<void> SqliteStore::erase_customer(std::string_view customer, std::string_view tag, timestamp at) {
  // Like append_audit: outside a transaction take the write lock first; inside the caller's,
  // a savepoint makes the erasure all or nothing on its own.
  const bool own = !in_transaction();
  CONSENTRY_TRY(run(own ? Sql::begin : Sql::erase_savepoint, "erase_customer"));
  auto erased = delete_customer_rows(customer, tag, at);
  if (own) {
    if (!erased) {
      (void)run(Sql::rollback, "erase_customer");
      return erased;
    }
    return commit();
  }
  if (!erased) (void)run(Sql::erase_rollback_to, "erase_customer");
  auto released = run(Sql::erase_release, "erase_customer");
  if (!erased) return erased;
  return released;
}

result<void> SqliteStore::delete_customer_rows(std::string_view customer, std::string_view tag,
                                               timestamp at) {
  // Deleting the values deletes their blind index entries too (the trigger fields_drop_lookup).
  for (Sql which : {Sql::erase_key, Sql::erase_fields, Sql::erase_contacts, Sql::erase_contact_preferences}) {
    Bound q(stmt(which));
    CONSENTRY_TRY(q.text(1, customer).exec("erase_customer"));
  }
  if (sqlite3_exec(db_, kDropNoDelete, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "erase_customer");
  {
    Bound q(stmt(Sql::erase_events));
    CONSENTRY_TRY(q.text(1, customer).exec("erase_customer"));
  }
  if (sqlite3_exec(db_, kRestoreNoDelete, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "erase_customer");
  Bound q(stmt(Sql::insert_erased));
  return q.text(1, tag).integer(2, to_unix(at)).exec("erase_customer");
}

result<std::optional<timestamp>> SqliteStore::erased_at(std::string_view tag) {
  Bound q(stmt(Sql::erased_at));
  std::optional<timestamp> out;
  CONSENTRY_TRY(for_each_row(q.text(1, tag), "erased_at", [&](const Bound& row) {
    out = from_unix(row.column_int(0));
    return false;
  }));
  return out;
}

// ---- purges, key rotation and the inventory ----

result<std::vector<SqliteStore::FieldTime>> SqliteStore::fields_collected_before(std::string_view field,
                                                                                 timestamp before,
                                                                                 std::string_view after,
                                                                                 std::size_t limit) {
  Bound q(stmt(Sql::fields_collected_before));
  const auto bounded = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
  std::vector<FieldTime> out;
  CONSENTRY_TRY(for_each_row(q.text(1, field).integer(2, to_unix(before)).text(3, after).integer(4, bounded),
                             "fields_collected_before", [&](const Bound& row) {
                               out.push_back({row.column_text(0), from_unix(row.column_int(1))});
                             }));
  return out;
}

// The value's blind index entry goes with it, in the same statement (the trigger
// fields_drop_lookup).
result<void> SqliteStore::delete_field(std::string_view customer, std::string_view field) {
  Bound q(stmt(Sql::delete_field));
  return q.text(1, customer).text(2, field).exec("delete_field");
}

result<std::vector<StoredKey>> SqliteStore::data_keys_after(std::string_view after, std::size_t limit) {
  Bound q(stmt(Sql::data_keys_after));
  // LIMIT takes a signed 64-bit integer; anything larger means "all of them".
  const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
  std::vector<StoredKey> out;
  CONSENTRY_TRY(for_each_row(
      q.text(1, after).integer(2, capped), "data_keys_after", [&](const Bound& row) -> result<void> {
        const std::int64_t version = row.column_int(1);
        if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
          return make_error(errc::integrity, "data_keys_after: data_keys row has an invalid version");
        out.push_back(StoredKey{row.column_text(0), static_cast<std::uint32_t>(version), row.column_blob(2)});
        return ok();
      }));
  return out;
}

result<std::vector<std::pair<std::uint32_t, std::int64_t>>> SqliteStore::data_key_versions() {
  Bound q(stmt(Sql::data_key_versions));
  std::vector<std::pair<std::uint32_t, std::int64_t>> out;
  CONSENTRY_TRY(for_each_row(q, "data_key_versions", [&](const Bound& row) -> result<void> {
    const std::int64_t version = row.column_int(0);
    if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
      return make_error(errc::integrity, "data_key_versions: data_keys row has an invalid version");
    out.emplace_back(static_cast<std::uint32_t>(version), row.column_int(1));
    return ok();
  }));
  return out;
}

result<std::vector<std::pair<std::string, std::int64_t>>> SqliteStore::field_counts() {
  Bound q(stmt(Sql::field_counts));
  std::vector<std::pair<std::string, std::int64_t>> out;
  CONSENTRY_TRY(for_each_row(q.text(1, kManifestField), "field_counts", [&](const Bound& row) {
    out.emplace_back(row.column_text(0), row.column_int(1));
  }));
  return out;
}

// ---- compaction ----

result<void> SqliteStore::compact() {
  if (in_transaction()) return make_error(errc::internal, "compact: a transaction is open");
  // The checkpoint moves every committed page into the main file, where secure_delete has
  // zeroed the deleted cells and freed pages, and the scrubbing VFS has zeroed the unallocated
  // gap of every b-tree page it wrote, where a page rebuilt by a split or merge keeps stale
  // copies of the cells it gave away (store_test finds such copies in files written
  // without it). Then the WAL is truncated. That suffices for a file whose every page was
  // written through the VFS, which meta pages_scrubbed marks (set when this store creates a
  // vault, or rewrites one below), while it stays under the VFS's size limit. Any other file is
  // rewritten from its live rows by VACUUM (through the VFS, about 1 s per 50,000 customers).
  CONSENTRY_TRY(checkpoint_truncate());
  auto scrubbed = all_pages_scrubbed();
  if (!scrubbed) return std::move(scrubbed).err();
  if (*scrubbed) return ok();
  if (sqlite3_exec(db_, "VACUUM", nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "compact: vacuum");
  if (scrub_vfs_ && sqlite3_exec(db_,
                                 "INSERT OR REPLACE INTO meta(key, value) "
                                 "VALUES('pages_scrubbed', CAST('1' AS BLOB))",
                                 nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "compact: marking the file scrubbed");
  return checkpoint_truncate();
}

result<bool> SqliteStore::all_pages_scrubbed() {
  if (!scrub_vfs_) return false;
  auto marked = get_meta("pages_scrubbed");
  if (!marked) return std::move(marked).err();
  if (!*marked) return false;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA page_count", -1, &s, nullptr) != SQLITE_OK)
    return db_error(db_, "compact: page_count");
  const bool small = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) < kMaxScrubbedPages;
  sqlite3_finalize(s);
  return small;
}

result<void> SqliteStore::checkpoint_truncate() {
  int wal_frames = -1;
  int copied = -1;
  const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, &wal_frames, &copied);
  if (rc == SQLITE_BUSY || (rc == SQLITE_OK && wal_frames != copied))
    return make_error(errc::io, "compact: another connection holds the WAL; close it and compact again");
  if (rc != SQLITE_OK) return db_error(db_, "compact: checkpoint");
  return ok();
}

// ---- backups ----

result<void> SqliteStore::backup_to(const std::filesystem::path& file) {
  const std::string name = file.string();
  // Inside a transaction the copy would take this connection's uncommitted writes.
  if (in_transaction()) return make_error(errc::internal, "backup: a transaction is open");
  // Refused early here; the rename into place refuses an existing file again, atomically.
  std::error_code ec;
  if (std::filesystem::symlink_status(file, ec).type() != std::filesystem::file_type::not_found && !ec)
    return make_error(errc::already_exists, "backup file '" + name + "' already exists");
  // The copy is made in a unique temporary beside the file (mode 0600, locked while it is
  // written) and renamed into place once complete, so a run killed half-way leaves no file
  // under the name; the next run removes what a killed one left.
  remove_stale_staged_files(file);
  auto staged = StagedFile::create(file);
  if (!staged) return std::move(staged).err();
  CONSENTRY_TRY(copy_into(staged->path().string(), name));
  auto committed = staged->commit(/*replace=*/false);
  if (!committed && committed.err().code == errc::already_exists)
    return make_error(errc::already_exists, "backup file '" + name + "' already exists");
  return committed;
}

result<void> SqliteStore::copy_into(const std::string& file, const std::string& name) {
  sqlite3* dest = nullptr;
  int rc = sqlite3_open_v2(file.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                           scrub_vfs_ ? kScrubbingVfsName : nullptr);
  // The handle must be closed on every path, even when opening failed.
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close(db); }
  } closer{dest};
  if (rc != SQLITE_OK) {
    if (dest == nullptr) return make_error(errc::io, "backup to " + name + ": out of memory");
    return db_error(dest, "backup to " + name);
  }
  sqlite3_busy_timeout(dest, kBusyTimeoutMs);
  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", db_, "main");
  if (backup == nullptr) return db_error(dest, "backup to " + name);
  rc = sqlite3_backup_step(backup, -1);
  const int finished = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return sqlite_error(rc, "backup to " + name, sqlite3_errstr(rc));
  if (finished != SQLITE_OK) return db_error(dest, "backup to " + name);
  CONSENTRY_TRY(check_schema(dest, name));
  CONSENTRY_TRY(enable_wal(dest, name));
  return ok();
}

}  // namespace consentry::detail
