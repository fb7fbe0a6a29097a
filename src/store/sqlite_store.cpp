// sqlite_store.cpp: the embedded SQLite vault (one file, WAL, secure_delete, prepared statements):
// opening it, its prepared statements, transactions, and the keys-and-fields role. The other
// roles are in sqlite_ledger.cpp, sqlite_audit_log.cpp and sqlite_maintenance.cpp, the schema in
// sqlite_schema.cpp.
#include "store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "store/scrubbing_vfs.hpp"
#include "store/sqlite_schema.hpp"
#include "store/sqlite_statement.hpp"

namespace consentry {
namespace detail {
namespace {

// Sql::append_audit_rows: kAuditRowsPerInsert rows of five parameters, numbered in order.
#define CONSENTRY_AUDIT_ROW "(?, ?, ?, ?, ?)"
#define CONSENTRY_AUDIT_ROWS_4 \
  CONSENTRY_AUDIT_ROW ", " CONSENTRY_AUDIT_ROW ", " CONSENTRY_AUDIT_ROW ", " CONSENTRY_AUDIT_ROW
#define CONSENTRY_AUDIT_ROWS_16 \
  CONSENTRY_AUDIT_ROWS_4 ", " CONSENTRY_AUDIT_ROWS_4 ", " CONSENTRY_AUDIT_ROWS_4 ", " CONSENTRY_AUDIT_ROWS_4
constexpr const char* kAppendAuditRows =
    "INSERT INTO audit(seq, at, customer, entry, hash) VALUES " CONSENTRY_AUDIT_ROWS_16
    ", " CONSENTRY_AUDIT_ROWS_16;
static_assert(kAuditRowsPerInsert == 32, "kAppendAuditRows holds 32 rows");
#undef CONSENTRY_AUDIT_ROWS_16
#undef CONSENTRY_AUDIT_ROWS_4
#undef CONSENTRY_AUDIT_ROW

constexpr std::array<const char*, static_cast<std::size_t>(Sql::count)> kStatements = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT value FROM meta WHERE key = ?1",
    "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    "SELECT version, wrapped FROM data_keys INDEXED BY data_keys_by_customer WHERE customer = ?1",
    "INSERT INTO data_keys(customer, version, wrapped) VALUES(?1, ?2, ?3) ON CONFLICT(customer) DO UPDATE "
    "SET version = excluded.version, wrapped = excluded.wrapped",
    "SELECT sealed, source, collected_at, format FROM fields WHERE customer = ?1 AND field = ?2",
    "SELECT field, sealed, source, collected_at, format FROM fields WHERE customer = ?1 ORDER BY field",
    "INSERT INTO fields(customer, field, sealed, source, collected_at, format) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(customer, field) DO UPDATE "
    "SET sealed = excluded.sealed, source = excluded.source, collected_at = excluded.collected_at, "
    "format = excluded.format",
    "INSERT INTO consent_events(customer, purpose, action, at, channel, notice, expires_at, policy_version, "
    "signal) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    "SELECT seq, purpose, action, at, channel, notice, expires_at, policy_version, signal FROM "
    "consent_events "
    "WHERE customer = ?1 ORDER BY seq",
    "SELECT seq, customer, action, at, channel, notice, expires_at, policy_version, signal FROM "
    "consent_events "
    "WHERE purpose = ?1 ORDER BY customer, seq",
    "SELECT customer FROM data_keys ORDER BY customer",
    "SELECT customer, action, expires_at, policy_version FROM consent_events WHERE purpose = ?1 "
    "ORDER BY customer, seq",
    "SELECT customer FROM data_keys ORDER BY customer",
    "SELECT EXISTS(SELECT 1 FROM data_keys WHERE customer = ?1) "
    "OR EXISTS(SELECT 1 FROM consent_events WHERE customer = ?1)",
    "SAVEPOINT append_audit",
    "RELEASE append_audit",
    "ROLLBACK TO append_audit",
    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "INSERT INTO audit(seq, at, customer, entry, hash) VALUES(?1, ?2, ?3, ?4, ?5)",
    kAppendAuditRows,
    "SELECT seq, at, customer, entry, hash FROM audit WHERE seq >= ?1 ORDER BY seq",
    kAuditForCustomer,
    "INSERT INTO audit_checkpoints(seq, head, at, signature) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(seq) DO NOTHING",
    "SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq",
    "SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
    "SELECT customer, version, wrapped FROM data_keys WHERE customer > ?1 ORDER BY customer LIMIT ?2",
    "SELECT version, COUNT(*) FROM data_keys GROUP BY version ORDER BY version",
    // Manifests are rows of fields too, but not values.
    "SELECT field, COUNT(*) FROM fields WHERE field <> ?1 GROUP BY field ORDER BY field",
    "SELECT customer, collected_at FROM fields WHERE field = ?1 AND collected_at <= ?2 AND customer > ?3 "
    "ORDER BY customer LIMIT ?4",
    "DELETE FROM fields WHERE customer = ?1 AND field = ?2",
    "INSERT INTO contacts(customer, channel, purpose, at) VALUES(?1, ?2, ?3, ?4)",
    "SELECT seq, channel, purpose, at FROM contacts WHERE customer = ?1 ORDER BY seq",
    "INSERT INTO contact_preferences(customer, kind, purpose, channel, max, per, at) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "SELECT seq, kind, purpose, channel, max, per, at FROM contact_preferences WHERE customer = ?1 ORDER BY "
    "seq",
    "DELETE FROM contacts WHERE customer = ?1",
    "DELETE FROM contact_preferences WHERE customer = ?1",
    "INSERT INTO privacy_spends(purpose, query, micro_epsilon, at) VALUES(?1, ?2, ?3, ?4)",
    "SELECT COALESCE(SUM(micro_epsilon), 0) FROM privacy_spends WHERE purpose = ?1",
    "DELETE FROM meta WHERE key = ?1",
    "DELETE FROM data_keys WHERE customer = ?1",
    "DELETE FROM fields WHERE customer = ?1",
    "DELETE FROM consent_events WHERE customer = ?1",
    // A second erasure of the same tag keeps the first time: that is when the data went.
    "INSERT INTO erased(tag, at) VALUES(?1, ?2) ON CONFLICT(tag) DO NOTHING",
    "SELECT at FROM erased WHERE tag = ?1",
    "SAVEPOINT erase_customer",
    "RELEASE erase_customer",
    "ROLLBACK TO erase_customer",
    "INSERT INTO lookups(customer, field, key_version, value) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(customer, field) DO UPDATE SET key_version = excluded.key_version, value = excluded.value",
    "DELETE FROM lookups WHERE customer = ?1 AND field = ?2",
    "SELECT customer FROM lookups WHERE field = ?1 AND value = ?2 AND key_version = ?3 ORDER BY customer",
    "SELECT field, key_version, value FROM lookups WHERE customer = ?1 ORDER BY field",
    kReadCustomer,
};

}  // namespace

result<std::uint32_t> format_of(const Bound& q, int i, std::string_view operation) {
  const std::int64_t format = q.column_int(i);
  if (format < 0 || format > static_cast<std::int64_t>(UINT32_MAX))
    return make_error(errc::integrity, std::string(operation) + ": fields row has an invalid format");
  return static_cast<std::uint32_t>(format);
}

SqliteStore::~SqliteStore() {
  // sqlite3_close refuses to close while statements are alive, so finalize them first; closing
  // rolls back a transaction left open.
  for (sqlite3_stmt*& s : statements_) {
    sqlite3_finalize(s);
    s = nullptr;
  }
  sqlite3_finalize(read_begin_);
  sqlite3_finalize(read_end_);
  sqlite3_finalize(data_version_);
  sqlite3_close(db_);
  if (wal_fd_ >= 0) ::close(wal_fd_);
}

result<void> SqliteStore::prepare_statements() {
  for (std::size_t i = 0; i < statements_.size(); ++i) {
    if (sqlite3_prepare_v3(db_, kStatements[i], -1, SQLITE_PREPARE_PERSISTENT, &statements_[i], nullptr) !=
        SQLITE_OK)
      return schema_error(db_, "preparing statements");
  }
  return ok();
}

// ---- transactions ----

result<void> SqliteStore::begin() {
  if (in_transaction()) return make_error(errc::internal, "begin: a transaction is already open");
  return run(Sql::begin, "begin");
}

result<void> SqliteStore::commit() {
  if (!in_transaction()) return make_error(errc::internal, "commit: no transaction is open");
  auto committed = run(Sql::commit, "commit");
  // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; discard it so that the
  // store is back in autocommit and a Transaction that gave up its ownership leaks nothing.
  if (!committed && in_transaction()) (void)run(Sql::rollback, "rollback");
  if (auto restored = restore_synchronous(); !restored && committed) return restored;
  return committed;
}

result<void> SqliteStore::rollback() {
  if (!in_transaction()) return make_error(errc::internal, "rollback: no transaction is open");
  auto rolled_back = run(Sql::rollback, "rollback");
  if (auto restored = restore_synchronous(); !restored && rolled_back) return restored;
  return rolled_back;
}

result<void> SqliteStore::begin_unsynced() {
  if (in_transaction()) return make_error(errc::internal, "begin: a transaction is already open");
  // In WAL mode, synchronous = NORMAL commits without an fsync; the WAL is synced at the next
  // FULL commit or checkpoint, which makes this transaction durable along with its own. The
  // level can change only outside a transaction: commit and rollback restore FULL.
  if (sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "begin");
  unsynced_ = true;
  auto begun = begin();
  if (!begun) (void)restore_synchronous();
  return begun;
}

result<void> SqliteStore::restore_synchronous() {
  if (!unsynced_ || in_transaction()) return ok();
  if (sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db_, "restoring synchronous = FULL");
  unsynced_ = false;
  return ok();
}

result<void> SqliteStore::sync_committed() {
  // The WAL is there while a connection is open (journal_mode = WAL keeps it), so failing to
  // open it means the vault's files were changed behind the store.
  int fd = -1;
  {
    // Opened once; the syncs themselves run side by side.
    std::lock_guard lock(wal_fd_mu_);
    if (wal_fd_ < 0) wal_fd_ = ::open(wal_file_.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0)
      return make_error(
          errc::io, "opening the vault's write-ahead log to sync it: " + std::string(std::strerror(errno)));
    fd = wal_fd_;
  }
  if (const int err = sync_file_data(fd); err != 0)
    return make_error(errc::io, "syncing the vault's write-ahead log: " + std::string(std::strerror(err)));
  return ok();
}

result<void> SqliteStore::begin_read() {
  if (in_transaction()) return make_error(errc::internal, "begin_read: a transaction is open");
  // A deferred BEGIN takes no lock; the first read takes the WAL read lock, which the reads
  // after it share until COMMIT releases it.
  if (read_begin_ == nullptr && sqlite3_prepare_v3(db_, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT,
                                                   &read_begin_, nullptr) != SQLITE_OK)
    return db_error(db_, "begin_read");
  if (read_end_ == nullptr &&
      sqlite3_prepare_v3(db_, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &read_end_, nullptr) != SQLITE_OK)
    return db_error(db_, "begin_read");
  return Bound(read_begin_).exec("begin_read");
}

void SqliteStore::end_read() noexcept {
  if (!in_transaction() || read_end_ == nullptr) return;
  Bound q(read_end_);
  // A transaction that only read commits without writing; should it fail, end it anyway.
  if (q.step() != SQLITE_DONE && in_transaction()) (void)run(Sql::rollback, "rollback");
}

result<std::optional<std::uint64_t>> SqliteStore::data_version() {
  // Inside a read snapshot that has read nothing yet, this is its first read: it takes the WAL
  // read lock, so the number describes the state the rest of the snapshot sees.
  if (data_version_ == nullptr &&
      sqlite3_prepare_v3(db_, "PRAGMA data_version", -1, SQLITE_PREPARE_PERSISTENT, &data_version_,
                         nullptr) != SQLITE_OK)
    return db_error(db_, "data_version");
  Bound q(data_version_);
  CONSENTRY_TRY(q.expect_row("data_version"));
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(q.column_int(0)));
}

// ---- keys and fields ----

result<std::optional<bytes>> SqliteStore::get_meta(std::string_view key) {
  Bound q(stmt(Sql::get_meta));
  std::optional<bytes> out;
  CONSENTRY_TRY(for_each_row(q.text(1, key), "get_meta", [&](const Bound& row) {
    out = row.column_blob(0);
    return false;
  }));
  return out;
}

result<void> SqliteStore::put_meta(std::string_view key, byte_view value) {
  Bound q(stmt(Sql::put_meta));
  return q.text(1, key).blob(2, value).exec("put_meta");
}

result<void> SqliteStore::delete_meta(std::string_view key) {
  Bound q(stmt(Sql::delete_meta));
  return q.text(1, key).exec("delete_meta");
}

result<std::optional<StoredKey>> SqliteStore::get_key(std::string_view customer) {
  Bound q(stmt(Sql::get_key));
  std::optional<StoredKey> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "get_key", [&](const Bound& row) -> result<bool> {
    const std::int64_t version = row.column_int(0);
    if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
      return make_error(errc::integrity, "get_key: data_keys row has an invalid version");
    out = StoredKey{std::string(customer), static_cast<std::uint32_t>(version), row.column_blob(1)};
    return false;
  }));
  return out;
}

result<void> SqliteStore::put_key(const StoredKey& key) {
  Bound q(stmt(Sql::put_key));
  return q.text(1, key.customer).integer(2, key.version).blob(3, key.wrapped).exec("put_key");
}

result<std::optional<StoredField>> SqliteStore::get_field(std::string_view customer, std::string_view field) {
  Bound q(stmt(Sql::get_field));
  std::optional<StoredField> out;
  CONSENTRY_TRY(
      for_each_row(q.text(1, customer).text(2, field), "get_field", [&](const Bound& row) -> result<bool> {
        auto format = format_of(row, 3, "get_field");
        if (!format) return std::move(format).err();
        out = StoredField{std::string(customer), std::string(field),           row.column_blob(0),
                          row.column_text(1),    from_unix(row.column_int(2)), *format};
        return false;
      }));
  return out;
}

result<std::vector<StoredField>> SqliteStore::get_named_fields(std::string_view customer,
                                                               std::span<const std::string_view> fields) {
  // One range scan of the customer's rows, keeping the named ones: a customer has tens of
  // fields, and walking their rows costs less than a search per name or an IN list (which
  // SQLite builds into a temporary table), except for one or two names (a value and its
  // manifest), where a search each reads fewer rows than the walk (bench W9).
  if (fields.size() <= 2) return KeyFieldStore::get_named_fields(customer, fields);
  Bound q(stmt(Sql::get_fields));
  std::vector<StoredField> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "get_named_fields", [&](const Bound& row) -> result<void> {
    const std::string_view field = row.column_text_view(0);
    if (std::find(fields.begin(), fields.end(), field) == fields.end()) return ok();
    auto format = format_of(row, 4, "get_named_fields");
    if (!format) return std::move(format).err();
    out.push_back(StoredField{std::string(customer), std::string(field), row.column_blob(1),
                              row.column_text(2), from_unix(row.column_int(3)), *format});
    return ok();
  }));
  return out;
}

result<std::vector<StoredField>> SqliteStore::get_fields(std::string_view customer) {
  Bound q(stmt(Sql::get_fields));
  std::vector<StoredField> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "get_fields", [&](const Bound& row) -> result<void> {
    auto format = format_of(row, 4, "get_fields");
    if (!format) return std::move(format).err();
    out.push_back(StoredField{std::string(customer), row.column_text(0), row.column_blob(1),
                              row.column_text(2), from_unix(row.column_int(3)), *format});
    return ok();
  }));
  return out;
}

result<void> SqliteStore::put_field(const StoredField& f) {
  Bound q(stmt(Sql::put_field));
  return q.text(1, f.customer)
      .text(2, f.field)
      .blob(3, f.sealed)
      .text(4, f.source)
      .integer(5, to_unix(f.collected_at))
      .integer(6, f.format)
      .exec("put_field");
}

result<void> SqliteStore::put_lookup(const StoredLookup& entry) {
  Bound q(stmt(Sql::put_lookup));
  return q.text(1, entry.customer)
      .text(2, entry.field)
      .integer(3, entry.key_version)
      .integer(4, entry.index)
      .exec("put_lookup");
}

result<void> SqliteStore::delete_lookup(std::string_view customer, std::string_view field) {
  Bound q(stmt(Sql::delete_lookup));
  return q.text(1, customer).text(2, field).exec("delete_lookup");
}

result<std::vector<std::string>> SqliteStore::find_lookup(std::string_view field, std::uint32_t key_version,
                                                          std::int64_t index) {
  Bound q(stmt(Sql::find_lookup));
  std::vector<std::string> out;
  CONSENTRY_TRY(for_each_row(q.text(1, field).integer(2, index).integer(3, key_version), "find_lookup",
                             [&](const Bound& row) { out.push_back(row.column_text(0)); }));
  return out;
}

result<std::vector<StoredLookup>> SqliteStore::get_lookups(std::string_view customer) {
  Bound q(stmt(Sql::get_lookups));
  std::vector<StoredLookup> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "get_lookups", [&](const Bound& row) -> result<void> {
    const std::int64_t version = row.column_int(1);
    if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
      return make_error(errc::integrity, "get_lookups: lookups row has an invalid key version");
    out.push_back(StoredLookup{std::string(customer), row.column_text(0), static_cast<std::uint32_t>(version),
                               row.column_int(2)});
    return ok();
  }));
  return out;
}

result<std::vector<std::string>> SqliteStore::customers() {
  Bound q(stmt(Sql::customers));
  std::vector<std::string> out;
  CONSENTRY_TRY(for_each_row(q, "customers", [&](const Bound& row) { out.push_back(row.column_text(0)); }));
  return out;
}

result<bool> SqliteStore::knows(std::string_view customer) {
  Bound q(stmt(Sql::knows));
  CONSENTRY_TRY(q.text(1, customer).expect_row("knows"));
  return q.column_int(0) != 0;
}

// ---- opening ----

namespace {

result<std::unique_ptr<SqliteStore>> open_db(const std::string& name, StoreMode mode) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  const bool scrubbing = register_scrubbing_vfs();
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, scrubbing ? kScrubbingVfsName : nullptr);
  // The store owns the handle from here on, even when opening failed, so that it is closed.
  auto store = std::make_unique<SqliteStore>(db);
  store->uses_scrubbing_vfs(scrubbing);
  if (rc != SQLITE_OK) {
    if (db == nullptr) return make_error(errc::io, "open " + name + ": out of memory");
    return db_error(db, "open " + name);
  }
  CONSENTRY_TRY(set_up_vault(db, name, mode));
  CONSENTRY_TRY(store->prepare_statements());
  store->set_file(name);
  return store;
}

void remove_vault_files(const std::filesystem::path& file) {
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  std::filesystem::remove(file.string() + "-wal", ignored);
  std::filesystem::remove(file.string() + "-shm", ignored);
}

}  // namespace
}  // namespace detail

result<std::unique_ptr<Store>> detail::SqliteStore::open_companion() {
  if (file_.empty()) return std::unique_ptr<Store>();
  auto opened = detail::open_db(file_, StoreMode::open);
  if (!opened) return std::move(opened).err();
  return std::unique_ptr<Store>(std::move(opened).value());
}

result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, StoreMode mode) {
  const std::string name = file.string();
  if (mode == StoreMode::create) {
    // O_EXCL makes "refuse an existing file" atomic; 0600 keeps the vault private to its owner.
    // SQLite then writes the file in place: it is not staged and renamed (detail::StagedFile),
    // because the name must be taken before the schema is written, so that two processes
    // creating the same vault cannot both succeed.
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      if (errno == EEXIST)
        return make_error(errc::already_exists, "vault file '" + name + "' already exists");
      return make_error(errc::io, "cannot create vault file '" + name + "': " + std::strerror(errno));
    }
    ::close(fd);
  } else {
    std::error_code ec;
    const auto status = std::filesystem::status(file, ec);
    if (status.type() == std::filesystem::file_type::not_found)
      return make_error(errc::not_found, "vault file '" + name + "' not found");
    if (ec) return make_error(errc::io, "cannot access vault file '" + name + "': " + ec.message());
    if (!std::filesystem::is_regular_file(status))
      return make_error(errc::bad_input, "'" + name + "' is not a consentry vault");
  }

  auto opened = detail::open_db(name, mode);
  if (!opened) {
    error e = std::move(opened).err();
    // The handle is already closed; a half-made vault would only make the next create fail.
    if (mode == StoreMode::create) detail::remove_vault_files(file);
    return e;
  }
  return std::unique_ptr<Store>(std::move(opened).value());
}

}  // namespace consentry
