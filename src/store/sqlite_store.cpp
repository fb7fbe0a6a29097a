// sqlite_store.cpp: the embedded SQLite vault (one file, WAL, secure_delete, prepared statements).
#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "consentry/store.hpp"
#include "store/scrubbing_vfs.hpp"
#include "store/staged_file.hpp"

namespace consentry {
namespace {

constexpr int kBusyTimeoutMs = 5000;
constexpr std::string_view kSchemaVersionKey = "schema_version";
constexpr std::string_view kSchemaVersion = "1";

// The whole schema is created in one transaction, so a vault file either has all of it or none.
// consent_events and audit refuse UPDATE and DELETE: the ledger and the log are history, and
// history is not rewritten. The triggers stop mistakes and other programs, not an attacker who
// holds the file (they can drop them); the audit log's hash chain and signed checkpoints catch
// that. audit.seq is the rowid, assigned by the library so that it is part of the hashed entry.
// fields.format is the sealing format of the value (keyring.hpp); each customer's manifest is a
// row of fields too, named kManifestField (store.hpp).
constexpr const char* kCreateSchema = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE data_keys(customer TEXT PRIMARY KEY, version INTEGER NOT NULL, wrapped BLOB NOT NULL);
CREATE TABLE fields(
  customer TEXT NOT NULL,
  field TEXT NOT NULL,
  sealed BLOB NOT NULL,
  source TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  format INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(customer, field)
) WITHOUT ROWID;
CREATE TABLE consent_events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer TEXT NOT NULL,
  purpose TEXT NOT NULL,
  action TEXT NOT NULL CHECK(action IN ('grant', 'withdraw', 'object')),
  at INTEGER NOT NULL,
  channel TEXT NOT NULL,
  notice TEXT NOT NULL,
  expires_at INTEGER
);
CREATE INDEX consent_events_by_customer ON consent_events(customer, seq);
CREATE INDEX consent_events_by_purpose ON consent_events(purpose, customer, seq);
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END;
CREATE TABLE erased(tag TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE audit(
  seq INTEGER PRIMARY KEY,
  at INTEGER NOT NULL,
  customer TEXT NOT NULL,
  entry BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;
CREATE TABLE audit_checkpoints(
  seq INTEGER PRIMARY KEY,
  head BLOB NOT NULL,
  at INTEGER NOT NULL,
  signature BLOB NOT NULL
);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'audit_checkpoints is append-only'); END;
INSERT INTO meta(key, value) VALUES('schema_version', CAST('1' AS BLOB));
INSERT INTO meta(key, value) VALUES('pages_scrubbed', CAST('1' AS BLOB));
COMMIT;
)sql";

// synchronous=FULL rather than NORMAL: in WAL mode NORMAL may lose the last commits on power
// failure, and a lost commit could be a recorded consent withdrawal or an erasure the customer
// was told had happened. FULL costs one fsync of the WAL per commit; imports batch their rows
// into one transaction, so that cost is paid per batch, not per row.
// erased names customers by their audit pseudonym (never the id) and when they were erased.
// Vaults created before erasure existed lack the table; opening adds it (IF NOT EXISTS writes
// nothing when it is there), so the schema stays version 1.
constexpr const char* kCreateErased =
    "CREATE TABLE IF NOT EXISTS erased(tag TEXT PRIMARY KEY, at INTEGER NOT NULL)";

// "Who accessed my data" finds a customer's entries through audit_by_block, an index on
// (seq >> 10, customer): the log cut into blocks of 1,024 consecutive entries, and
// within each block the entries by customer pseudonym. Appends touch only the newest block's few
// index pages, where an index on the pseudonym alone would put each entry on a random page and
// write one page per entry. A lookup makes one index search per block. Entries without a
// customer (aggregates, detokenisation) are not indexed. Vaults created with the earlier index on
// (customer, seq) get the new one when they open, and lose the old one, in one transaction.
#define CONSENTRY_AUDIT_BLOCK "(seq >> 10)"
constexpr const char* kCreateAuditIndex =
    "BEGIN IMMEDIATE; "
    "CREATE INDEX IF NOT EXISTS audit_by_block ON audit(" CONSENTRY_AUDIT_BLOCK
    ", customer) WHERE customer <> ''; "
    "DROP INDEX IF EXISTS audit_by_customer; "
    "COMMIT;";
// The blocks are numbered 0 .. (newest seq >> 10); each is searched for the pseudonym.
constexpr const char* kAuditForCustomer =
    "WITH RECURSIVE blocks(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM blocks "
    "WHERE b < (SELECT coalesce(max(seq), 0) >> 10 FROM audit)) "
    "SELECT a.seq, a.at, a.customer, a.entry, a.hash FROM blocks CROSS JOIN audit AS a "
    "WHERE " CONSENTRY_AUDIT_BLOCK " = blocks.b AND a.customer = ?1 AND a.customer <> '' ORDER BY a.seq";
#undef CONSENTRY_AUDIT_BLOCK

// The contact log and the customers' contact preferences, added the same way to vaults created
// before them (IF NOT EXISTS writes nothing when they are there; the schema stays version 1).
// Erasure deletes a customer's rows from both.
constexpr const char* kCreateContacts = R"sql(
CREATE TABLE IF NOT EXISTS contacts(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer TEXT NOT NULL,
  channel TEXT NOT NULL,
  purpose TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_by_customer ON contacts(customer, seq);
CREATE TABLE IF NOT EXISTS contact_preferences(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer TEXT NOT NULL,
  kind TEXT NOT NULL CHECK(kind IN ('limit', 'opt_out', 'opt_in')),
  purpose TEXT NOT NULL,
  channel TEXT NOT NULL,
  max INTEGER NOT NULL,
  per TEXT NOT NULL,
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS contact_preferences_by_customer ON contact_preferences(customer, seq);
CREATE TABLE IF NOT EXISTS privacy_spends(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  purpose TEXT NOT NULL,
  query TEXT NOT NULL,
  micro_epsilon INTEGER NOT NULL CHECK(micro_epsilon > 0),
  at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS privacy_spends_by_purpose ON privacy_spends(purpose);
CREATE TRIGGER IF NOT EXISTS privacy_spends_no_update BEFORE UPDATE ON privacy_spends
BEGIN SELECT RAISE(ABORT, 'privacy_spends is append-only'); END;
CREATE TRIGGER IF NOT EXISTS privacy_spends_no_delete BEFORE DELETE ON privacy_spends
BEGIN SELECT RAISE(ABORT, 'privacy_spends is append-only'); END;
)sql";

// Vaults created before values had a sealing format lack fields.format; opening adds it, in a
// transaction that looks for it first, so two processes opening at once add it once. Their rows
// read as format 1 (the DEFAULT, which SQLite supplies without rewriting them), as they were
// sealed; the vault re-seals them in format 2 when it opens (src/vault/manifest.cpp). The schema
// stays version 1, like the additions above.
constexpr const char* kHasFieldFormat =
    "SELECT count(*) FROM pragma_table_info('fields') WHERE name = 'format'";
constexpr const char* kAddFieldFormat = "ALTER TABLE fields ADD COLUMN format INTEGER NOT NULL DEFAULT 1";

// Erasure is the one delete the ledger allows. The trigger that forbids it is dropped and created
// again inside erase_customer's own savepoint: SQLite DDL is transactional, so no other
// connection ever sees the ledger without it, and a failed erasure restores it with the rows.
// kRestoreNoDelete must stay the trigger of kCreateSchema, word for word.
constexpr const char* kDropNoDelete = "DROP TRIGGER consent_events_no_delete";
constexpr const char* kRestoreNoDelete =
    "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events\n"
    "BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END";

// A 32 MiB page cache (allocated as it fills) keeps the indexes a large vault's reads and audit
// appends walk in memory, instead of SQLite's default 2 MiB. The WAL is copied into the main
// file once it holds 8,192 pages (32 MiB) rather than SQLite's 1,000: each such checkpoint syncs
// both files, and a page that many commits change is copied once rather than once per 1,000.
// Erasure and compaction still empty the WAL at once (checkpoint_truncate).
constexpr const char* kPragmas =
    "PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
    "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 8192;";

enum class Sql : std::size_t {
  begin,
  commit,
  rollback,
  get_meta,
  put_meta,
  get_key,
  put_key,
  get_field,
  get_fields,
  put_field,
  append_consent,
  consent_history,
  purpose_history,
  customers,
  purpose_positions,
  position_keys,
  knows,
  savepoint,
  release,
  rollback_to,
  audit_head,
  append_audit,
  scan_audit,
  audit_for_customer,
  put_checkpoint,
  checkpoints,
  data_keys_after,
  data_key_versions,
  field_counts,
  fields_collected_before,
  delete_field,
  append_contact,
  contacts_of,
  append_contact_preference,
  contact_preferences_of,
  erase_contacts,
  erase_contact_preferences,
  append_privacy_spend,
  privacy_spent,
  delete_meta,
  erase_key,
  erase_fields,
  erase_events,
  insert_erased,
  erased_at,
  erase_savepoint,
  erase_release,
  erase_rollback_to,
  count,
};

constexpr std::array<const char*, static_cast<std::size_t>(Sql::count)> kStatements = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "SELECT value FROM meta WHERE key = ?1",
    "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    "SELECT version, wrapped FROM data_keys WHERE customer = ?1",
    "INSERT INTO data_keys(customer, version, wrapped) VALUES(?1, ?2, ?3) ON CONFLICT(customer) DO UPDATE "
    "SET version = excluded.version, wrapped = excluded.wrapped",
    "SELECT sealed, source, collected_at, format FROM fields WHERE customer = ?1 AND field = ?2",
    "SELECT field, sealed, source, collected_at, format FROM fields WHERE customer = ?1 ORDER BY field",
    "INSERT INTO fields(customer, field, sealed, source, collected_at, format) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(customer, field) DO UPDATE "
    "SET sealed = excluded.sealed, source = excluded.source, collected_at = excluded.collected_at, "
    "format = excluded.format",
    "INSERT INTO consent_events(customer, purpose, action, at, channel, notice, expires_at) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    "SELECT seq, purpose, action, at, channel, notice, expires_at FROM consent_events WHERE customer = ?1 "
    "ORDER BY seq",
    "SELECT seq, customer, action, at, channel, notice, expires_at FROM consent_events WHERE purpose = ?1 "
    "ORDER BY customer, seq",
    "SELECT customer FROM data_keys ORDER BY customer",
    "SELECT customer, action, expires_at FROM consent_events WHERE purpose = ?1 ORDER BY customer, seq",
    "SELECT customer FROM data_keys ORDER BY customer",
    "SELECT EXISTS(SELECT 1 FROM data_keys WHERE customer = ?1) "
    "OR EXISTS(SELECT 1 FROM consent_events WHERE customer = ?1)",
    "SAVEPOINT append_audit",
    "RELEASE append_audit",
    "ROLLBACK TO append_audit",
    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
    "INSERT INTO audit(seq, at, customer, entry, hash) VALUES(?1, ?2, ?3, ?4, ?5)",
    "SELECT seq, at, customer, entry, hash FROM audit WHERE seq >= ?1 ORDER BY seq",
    kAuditForCustomer,
    "INSERT INTO audit_checkpoints(seq, head, at, signature) VALUES(?1, ?2, ?3, ?4) "
    "ON CONFLICT(seq) DO NOTHING",
    "SELECT seq, head, at, signature FROM audit_checkpoints ORDER BY seq",
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
};

// is_damage tells whether an SQLite result code says the file is damaged: "database disk image is
// malformed" (SQLITE_CORRUPT) or "file is not a database" (SQLITE_NOTADB).
bool is_damage(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

// sqlite_error describes a failed SQLite call by its result code and message. A damaged vault
// file is errc::integrity, as any other corrupt data (exit 4); everything else, such as a full
// disk, a permission or a lock, is errc::io.
error sqlite_error(int rc, std::string_view operation, std::string_view message) {
  if (is_damage(rc))
    return make_error(errc::integrity,
                      std::string(operation) + ": the vault file is damaged (" + std::string(message) + ")");
  return make_error(errc::io, std::string(operation) + ": " + std::string(message));
}

// db_error describes the last failure of `db` (see sqlite_error).
error db_error(sqlite3* db, std::string_view operation) {
  return sqlite_error(sqlite3_extended_errcode(db), operation, sqlite3_errmsg(db));
}

// is_not_a_vault_code tells "this file is not ours, or is damaged" (not SQLite, SQLite without our
// tables, or a malformed file) apart from failures of the disk or the lock.
bool is_not_a_vault_code(int rc) {
  return is_damage(rc) || (rc & 0xff) == SQLITE_ERROR;
}

// schema_error describes a statement that does not prepare on an opened vault: a table or column
// it names is missing (SQLITE_ERROR), so the file is damaged or not of this schema (errc::integrity).
error schema_error(sqlite3* db, std::string_view operation) {
  if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_ERROR)
    return make_error(
        errc::integrity,
        std::string(operation) + ": the vault's tables do not match its schema (" + sqlite3_errmsg(db) + ")");
  return db_error(db, operation);
}

// Bound statement: resets the statement and clears its bindings when the call is done, so the
// cached statement is ready for the next call and holds no pointer into the caller's buffers.
class Bound {
 public:
  explicit Bound(sqlite3_stmt* s) noexcept : s_(s) {}
  Bound(const Bound&) = delete;
  Bound& operator=(const Bound&) = delete;
  ~Bound() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  // Each bind sets ok_ to false on failure; check ok() once after binding everything.
  Bound& text(int i, std::string_view v) {
    // A null pointer would bind SQL NULL; an empty string must stay an empty string.
    static constexpr char kEmpty[] = "";
    track(sqlite3_bind_text64(s_, i, v.empty() ? kEmpty : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  Bound& blob(int i, byte_view v) {
    static constexpr std::uint8_t kEmpty[1] = {0};
    track(sqlite3_bind_blob64(s_, i, v.empty() ? kEmpty : v.data(), v.size(), SQLITE_STATIC));
    return *this;
  }
  Bound& integer(int i, std::int64_t v) {
    track(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Bound& null(int i) {
    track(sqlite3_bind_null(s_, i));
    return *this;
  }
  bool ok() const noexcept { return ok_; }

  // step returns SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }

  std::string column_text(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  bytes column_blob(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    return p ? bytes(p, p + n) : bytes();
  }
  // column_text_into and column_blob_into overwrite `out`, reusing its capacity, so a loop that
  // reads many rows into one object allocates only while its buffers grow.
  void column_text_into(int i, std::string& out) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    if (p)
      out.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    else
      out.clear();
  }
  void column_blob_into(int i, bytes& out) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    if (p)
      out.assign(p, p + n);
    else
      out.clear();
  }
  // column_text_view and column_blob_view borrow the column's bytes from SQLite: valid until the
  // next step or reset of the statement.
  std::string_view column_text_view(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string_view();
  }
  byte_view column_blob_view(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    return p ? byte_view(p, static_cast<std::size_t>(n)) : byte_view();
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }
  bool column_is_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  void track(int rc) {
    if (rc != SQLITE_OK) ok_ = false;
  }
  sqlite3_stmt* s_;
  bool ok_ = true;
};

std::int64_t to_unix(timestamp t) {
  return t.time_since_epoch().count();
}
timestamp from_unix(std::int64_t s) {
  return timestamp{std::chrono::seconds{s}};
}

// read_event_tail reads the columns that consent_history and purpose_history share: action, at,
// channel, notice and expires_at, in columns 2 to 6.
result<void> read_event_tail(const Bound& q, ConsentEvent& e, std::string_view operation) {
  auto action = parse_consent_action(q.column_text(2));
  if (!action)
    return make_error(errc::integrity, std::string(operation) + ": consent_events row has an unknown action");
  e.action = *action;
  e.at = from_unix(q.column_int(3));
  e.channel = q.column_text(4);
  e.notice = q.column_text(5);
  if (!q.column_is_null(6)) e.expires_at = from_unix(q.column_int(6));
  return ok();
}

// format_of reads a sealing format from column `i`; errc::integrity for one out of range.
result<std::uint32_t> format_of(const Bound& q, int i, std::string_view operation) {
  const std::int64_t format = q.column_int(i);
  if (format < 0 || format > static_cast<std::int64_t>(UINT32_MAX))
    return make_error(errc::integrity, std::string(operation) + ": fields row has an invalid format");
  return static_cast<std::uint32_t>(format);
}

// read_audit_row reads seq, at, customer, entry and hash (columns 0 to 4) into `out`.
void read_audit_row(const Bound& q, StoredAuditEntry& out) {
  out.seq = q.column_int(0);
  out.at = from_unix(q.column_int(1));
  q.column_text_into(2, out.customer);
  q.column_blob_into(3, out.encoded);
  q.column_blob_into(4, out.hash);
}

result<void> check_schema(sqlite3* db, const std::string& name);
result<void> enable_wal(sqlite3* db, const std::string& name);

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) noexcept : db_(db) {}
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override {
    // sqlite3_close refuses to close while statements are alive, so finalize them first; closing
    // rolls back a transaction left open.
    for (sqlite3_stmt*& s : statements_) {
      sqlite3_finalize(s);
      s = nullptr;
    }
    sqlite3_finalize(read_begin_);
    sqlite3_finalize(read_end_);
    sqlite3_close(db_);
  }

  sqlite3* db() const noexcept { return db_; }

  result<void> prepare_statements() {
    for (std::size_t i = 0; i < statements_.size(); ++i) {
      if (sqlite3_prepare_v3(db_, kStatements[i], -1, SQLITE_PREPARE_PERSISTENT, &statements_[i], nullptr) !=
          SQLITE_OK)
        return schema_error(db_, "preparing statements");
    }
    return ok();
  }

  result<void> begin() override {
    if (in_transaction()) return make_error(errc::internal, "begin: a transaction is already open");
    return run(Sql::begin, "begin");
  }

  result<void> commit() override {
    if (!in_transaction()) return make_error(errc::internal, "commit: no transaction is open");
    auto committed = run(Sql::commit, "commit");
    // A failed COMMIT (e.g. SQLITE_BUSY) leaves the transaction open; discard it so that the
    // store is back in autocommit and a Transaction that gave up its ownership leaks nothing.
    if (!committed && in_transaction()) (void)run(Sql::rollback, "rollback");
    if (auto restored = restore_synchronous(); !restored && committed) return restored;
    return committed;
  }

  result<void> rollback() override {
    if (!in_transaction()) return make_error(errc::internal, "rollback: no transaction is open");
    auto rolled_back = run(Sql::rollback, "rollback");
    if (auto restored = restore_synchronous(); !restored && rolled_back) return restored;
    return rolled_back;
  }

  result<void> begin_unsynced() override {
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

  result<void> begin_read() override {
    if (in_transaction()) return make_error(errc::internal, "begin_read: a transaction is open");
    // A deferred BEGIN takes no lock; the first read takes the WAL read lock, which the reads
    // after it share until COMMIT releases it.
    if (read_begin_ == nullptr && sqlite3_prepare_v3(db_, "BEGIN DEFERRED", -1, SQLITE_PREPARE_PERSISTENT,
                                                     &read_begin_, nullptr) != SQLITE_OK)
      return db_error(db_, "begin_read");
    if (read_end_ == nullptr &&
        sqlite3_prepare_v3(db_, "COMMIT", -1, SQLITE_PREPARE_PERSISTENT, &read_end_, nullptr) != SQLITE_OK)
      return db_error(db_, "begin_read");
    Bound q(read_begin_);
    if (q.step() != SQLITE_DONE) return db_error(db_, "begin_read");
    return ok();
  }

  void end_read() noexcept override {
    if (!in_transaction() || read_end_ == nullptr) return;
    Bound q(read_end_);
    // A transaction that only read commits without writing; should it fail, end it anyway.
    if (q.step() != SQLITE_DONE && in_transaction()) (void)run(Sql::rollback, "rollback");
  }

  result<std::optional<bytes>> get_meta(std::string_view key) override {
    Bound q(stmt(Sql::get_meta));
    if (!q.text(1, key).ok()) return db_error(db_, "get_meta");
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<bytes>();
    if (rc != SQLITE_ROW) return db_error(db_, "get_meta");
    return std::optional<bytes>(q.column_blob(0));
  }

  result<void> put_meta(std::string_view key, byte_view value) override {
    Bound q(stmt(Sql::put_meta));
    if (!q.text(1, key).blob(2, value).ok() || q.step() != SQLITE_DONE) return db_error(db_, "put_meta");
    return ok();
  }

  result<std::optional<StoredKey>> get_key(std::string_view customer) override {
    Bound q(stmt(Sql::get_key));
    if (!q.text(1, customer).ok()) return db_error(db_, "get_key");
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<StoredKey>();
    if (rc != SQLITE_ROW) return db_error(db_, "get_key");
    const std::int64_t version = q.column_int(0);
    if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
      return make_error(errc::integrity, "get_key: data_keys row has an invalid version");
    return std::optional<StoredKey>(
        StoredKey{std::string(customer), static_cast<std::uint32_t>(version), q.column_blob(1)});
  }

  result<void> put_key(const StoredKey& key) override {
    Bound q(stmt(Sql::put_key));
    if (!q.text(1, key.customer).integer(2, key.version).blob(3, key.wrapped).ok() || q.step() != SQLITE_DONE)
      return db_error(db_, "put_key");
    return ok();
  }

  result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) override {
    Bound q(stmt(Sql::get_field));
    if (!q.text(1, customer).text(2, field).ok()) return db_error(db_, "get_field");
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<StoredField>();
    if (rc != SQLITE_ROW) return db_error(db_, "get_field");
    auto format = format_of(q, 3, "get_field");
    if (!format) return std::move(format).err();
    return std::optional<StoredField>(StoredField{std::string(customer), std::string(field), q.column_blob(0),
                                                  q.column_text(1), from_unix(q.column_int(2)), *format});
  }

  result<std::vector<StoredField>> get_named_fields(std::string_view customer,
                                                    std::span<const std::string_view> fields) override {
    // One range scan of the customer's rows, keeping the named ones: a customer has tens of
    // fields, and walking their rows costs less than a search per name or an IN list (which
    // SQLite builds into a temporary table).
    Bound q(stmt(Sql::get_fields));
    if (!q.text(1, customer).ok()) return db_error(db_, "get_named_fields");
    std::vector<StoredField> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::string_view field = q.column_text_view(0);
      if (std::find(fields.begin(), fields.end(), field) == fields.end()) continue;
      auto format = format_of(q, 4, "get_named_fields");
      if (!format) return std::move(format).err();
      out.push_back(StoredField{std::string(customer), std::string(field), q.column_blob(1), q.column_text(2),
                                from_unix(q.column_int(3)), *format});
    }
    if (rc != SQLITE_DONE) return db_error(db_, "get_named_fields");
    return out;
  }

  result<std::vector<StoredField>> get_fields(std::string_view customer) override {
    Bound q(stmt(Sql::get_fields));
    if (!q.text(1, customer).ok()) return db_error(db_, "get_fields");
    std::vector<StoredField> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      auto format = format_of(q, 4, "get_fields");
      if (!format) return std::move(format).err();
      out.push_back(StoredField{std::string(customer), q.column_text(0), q.column_blob(1), q.column_text(2),
                                from_unix(q.column_int(3)), *format});
    }
    if (rc != SQLITE_DONE) return db_error(db_, "get_fields");
    return out;
  }

  result<void> put_field(const StoredField& f) override {
    Bound q(stmt(Sql::put_field));
    if (!q.text(1, f.customer)
             .text(2, f.field)
             .blob(3, f.sealed)
             .text(4, f.source)
             .integer(5, to_unix(f.collected_at))
             .integer(6, f.format)
             .ok() ||
        q.step() != SQLITE_DONE)
      return db_error(db_, "put_field");
    return ok();
  }

  result<ConsentEvent> append_consent(const ConsentEvent& e) override {
    Bound q(stmt(Sql::append_consent));
    q.text(1, e.customer)
        .text(2, e.purpose)
        .text(3, to_string(e.action))
        .integer(4, to_unix(e.at))
        .text(5, e.channel)
        .text(6, e.notice);
    if (e.expires_at)
      q.integer(7, to_unix(*e.expires_at));
    else
      q.null(7);
    if (!q.ok() || q.step() != SQLITE_DONE) return db_error(db_, "append_consent");
    ConsentEvent stored = e;
    // seq is the INTEGER PRIMARY KEY, so it is the rowid of the row just inserted.
    stored.seq = sqlite3_last_insert_rowid(db_);
    return stored;
  }

  result<std::vector<ConsentEvent>> consent_history(std::string_view customer) override {
    Bound q(stmt(Sql::consent_history));
    if (!q.text(1, customer).ok()) return db_error(db_, "consent_history");
    std::vector<ConsentEvent> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      ConsentEvent e;
      e.seq = q.column_int(0);
      e.customer = std::string(customer);
      e.purpose = q.column_text(1);
      CONSENTRY_TRY(read_event_tail(q, e, "consent_history"));
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "consent_history");
    return out;
  }

  result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) override {
    Bound q(stmt(Sql::purpose_history));
    if (!q.text(1, purpose).ok()) return db_error(db_, "purpose_history");
    std::vector<ConsentEvent> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      ConsentEvent e;
      e.seq = q.column_int(0);
      e.customer = q.column_text(1);
      e.purpose = std::string(purpose);
      CONSENTRY_TRY(read_event_tail(q, e, "purpose_history"));
      out.push_back(std::move(e));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "purpose_history");
    return out;
  }

  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override {
    sqlite3_stmt* key_scan = stmt(Sql::position_keys);
    sqlite3_stmt* event_scan = stmt(Sql::purpose_positions);
    // The statements are cached: a visit that scans again would reset the outer scan under it.
    if (sqlite3_stmt_busy(key_scan) || sqlite3_stmt_busy(event_scan))
      return make_error(errc::internal, "scan_purpose_positions: called from inside a scan");
    // Two ordered scans merged by customer: the data keys' primary key index and the ledger's
    // (purpose, customer, seq) index. Each yields only narrow columns and nothing is copied; the
    // statements share the connection's read transaction, so both see one snapshot.
    Bound keys(key_scan);
    Bound events(event_scan);
    if (!events.text(1, purpose).ok()) return db_error(db_, "scan_purpose_positions");
    auto text_of = [](sqlite3_stmt* s, int column) {
      const unsigned char* p = sqlite3_column_text(s, column);
      return p ? std::string_view(reinterpret_cast<const char*>(p),
                                  static_cast<std::size_t>(sqlite3_column_bytes(s, column)))
               : std::string_view();
    };
    // event_customer is the customer of the current event row; valid until the next step.
    std::string_view event_customer;
    auto next_event = [&] {
      const int rc = events.step();
      event_customer = rc == SQLITE_ROW ? text_of(event_scan, 0) : std::string_view();
      return rc;
    };
    int event_rc = next_event();
    int key_rc = SQLITE_DONE;
    while (event_rc == SQLITE_ROW || event_rc == SQLITE_DONE) {
      if ((key_rc = keys.step()) != SQLITE_ROW) break;
      // Only customers with a data key are visited: when the events run out, so do the visits.
      if (only_with_events && event_rc != SQLITE_ROW) break;
      PurposePosition position{text_of(key_scan, 0), std::nullopt, std::nullopt};
      // Events of customers without a data key sort in between and are passed over.
      while (event_rc == SQLITE_ROW && event_customer < position.customer) event_rc = next_event();
      // The customer's events come in ledger order: the last one read decides.
      while (event_rc == SQLITE_ROW && event_customer == position.customer) {
        const auto action = parse_consent_action(text_of(event_scan, 1));
        if (!action)
          return make_error(errc::integrity,
                            "scan_purpose_positions: consent_events row has an unknown action");
        position.action = *action;
        position.expires_at = events.column_is_null(2)
                                  ? std::nullopt
                                  : std::optional<timestamp>(from_unix(events.column_int(2)));
        event_rc = next_event();
      }
      if (only_with_events && !position.action) continue;
      if (!visit(position)) return ok();
    }
    if (event_rc != SQLITE_ROW && event_rc != SQLITE_DONE) return db_error(db_, "scan_purpose_positions");
    if (key_rc != SQLITE_ROW && key_rc != SQLITE_DONE) return db_error(db_, "scan_purpose_positions");
    return ok();
  }

  result<std::vector<std::string>> customers() override {
    Bound q(stmt(Sql::customers));
    std::vector<std::string> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back(q.column_text(0));
    if (rc != SQLITE_DONE) return db_error(db_, "customers");
    return out;
  }

  result<bool> knows(std::string_view customer) override {
    Bound q(stmt(Sql::knows));
    if (!q.text(1, customer).ok() || q.step() != SQLITE_ROW) return db_error(db_, "knows");
    return q.column_int(0) != 0;
  }

  result<std::optional<AuditHead>> audit_head() override {
    Bound q(stmt(Sql::audit_head));
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<AuditHead>();
    if (rc != SQLITE_ROW) return db_error(db_, "audit_head");
    return std::optional<AuditHead>(AuditHead{q.column_int(0), q.column_blob(1)});
  }

  result<void> append_audit(const std::vector<StoredAuditEntry>& entries) override {
    if (entries.empty()) return ok();
    // Outside a transaction, BEGIN IMMEDIATE takes the write lock before the head is read, so no
    // other writer can append between the check and the inserts. Inside the caller's transaction
    // (begin() is IMMEDIATE too) a savepoint makes this batch all or nothing on its own.
    if (!in_transaction()) {
      CONSENTRY_TRY(run(Sql::begin, "append_audit"));
      auto appended = insert_audit(entries);
      if (!appended) {
        (void)run(Sql::rollback, "append_audit");
        return appended;
      }
      return commit();
    }
    CONSENTRY_TRY(run(Sql::savepoint, "append_audit"));
    auto appended = insert_audit(entries);
    // ROLLBACK TO keeps the savepoint open; RELEASE closes it either way.
    if (!appended) (void)run(Sql::rollback_to, "append_audit");
    auto released = run(Sql::release, "append_audit");
    if (!appended) return appended;
    return released;
  }

  result<void> scan_audit(std::int64_t from,
                          const std::function<bool(const StoredAuditEntry&)>& visit) override {
    // One entry object for every row: its buffers keep their capacity, so a long scan copies
    // each column once and allocates only while the buffers grow.
    StoredAuditEntry row;
    return scan_audit_views(from, [&](const StoredAuditView& v) {
      row.seq = v.seq;
      row.at = v.at;
      row.customer.assign(v.customer);
      row.encoded.assign(v.encoded.begin(), v.encoded.end());
      row.hash.assign(v.hash.begin(), v.hash.end());
      return visit(row);
    });
  }

  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override {
    sqlite3_stmt* s = stmt(Sql::scan_audit);
    // The statement is cached: a visit that scans again would reset the outer scan under it.
    if (sqlite3_stmt_busy(s)) return make_error(errc::internal, "scan_audit: called from inside a scan");
    Bound q(s);
    if (!q.integer(1, from).ok()) return db_error(db_, "scan_audit");
    // Each view borrows SQLite's copy of the row's columns, which lives until the next step: the
    // hot loop of a verification copies nothing and allocates nothing.
    StoredAuditView row;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      row.seq = q.column_int(0);
      row.at = from_unix(q.column_int(1));
      row.customer = q.column_text_view(2);
      row.encoded = q.column_blob_view(3);
      row.hash = q.column_blob_view(4);
      if (!visit(row)) return ok();
    }
    if (rc != SQLITE_DONE) return db_error(db_, "scan_audit");
    return ok();
  }

  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) override {
    Bound q(stmt(Sql::audit_for_customer));
    if (!q.text(1, pseudonym).ok()) return db_error(db_, "audit_for_customer");
    std::vector<StoredAuditEntry> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) read_audit_row(q, out.emplace_back());
    if (rc != SQLITE_DONE) return db_error(db_, "audit_for_customer");
    return out;
  }

  result<void> put_checkpoint(const AuditCheckpoint& cp) override {
    Bound q(stmt(Sql::put_checkpoint));
    if (!q.integer(1, cp.seq).blob(2, cp.head).integer(3, to_unix(cp.at)).blob(4, cp.signature).ok() ||
        q.step() != SQLITE_DONE)
      return db_error(db_, "put_checkpoint");
    return ok();
  }

  result<std::vector<AuditCheckpoint>> checkpoints() override {
    Bound q(stmt(Sql::checkpoints));
    std::vector<AuditCheckpoint> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
      out.push_back(
          AuditCheckpoint{q.column_int(0), q.column_blob(1), from_unix(q.column_int(2)), q.column_blob(3)});
    if (rc != SQLITE_DONE) return db_error(db_, "checkpoints");
    return out;
  }

  result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) override {
    Bound q(stmt(Sql::data_keys_after));
    // LIMIT takes a signed 64-bit integer; anything larger means "all of them".
    const auto capped = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
    if (!q.text(1, after).integer(2, capped).ok()) return db_error(db_, "data_keys_after");
    std::vector<StoredKey> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::int64_t version = q.column_int(1);
      if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
        return make_error(errc::integrity, "data_keys_after: data_keys row has an invalid version");
      out.push_back(StoredKey{q.column_text(0), static_cast<std::uint32_t>(version), q.column_blob(2)});
    }
    if (rc != SQLITE_DONE) return db_error(db_, "data_keys_after");
    return out;
  }

  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override {
    Bound q(stmt(Sql::data_key_versions));
    std::vector<std::pair<std::uint32_t, std::int64_t>> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      const std::int64_t version = q.column_int(0);
      if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
        return make_error(errc::integrity, "data_key_versions: data_keys row has an invalid version");
      out.emplace_back(static_cast<std::uint32_t>(version), q.column_int(1));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "data_key_versions");
    return out;
  }

  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override {
    Bound q(stmt(Sql::field_counts));
    if (!q.text(1, kManifestField).ok()) return db_error(db_, "field_counts");
    std::vector<std::pair<std::string, std::int64_t>> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.emplace_back(q.column_text(0), q.column_int(1));
    if (rc != SQLITE_DONE) return db_error(db_, "field_counts");
    return out;
  }

  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override {
    Bound q(stmt(Sql::append_privacy_spend));
    if (!q.text(1, s.purpose).text(2, s.query).integer(3, s.micro_epsilon).integer(4, to_unix(s.at)).ok() ||
        q.step() != SQLITE_DONE)
      return db_error(db_, "append_privacy_spend");
    PrivacySpend stored = s;
    stored.seq = sqlite3_last_insert_rowid(db_);
    return stored;
  }

  result<std::int64_t> privacy_spent(std::string_view purpose) override {
    Bound q(stmt(Sql::privacy_spent));
    if (!q.text(1, purpose).ok() || q.step() != SQLITE_ROW) return db_error(db_, "privacy_spent");
    return q.column_int(0);
  }

  result<ContactEvent> append_contact(const ContactEvent& e) override {
    Bound q(stmt(Sql::append_contact));
    if (!q.text(1, e.customer).text(2, e.channel).text(3, e.purpose).integer(4, to_unix(e.at)).ok() ||
        q.step() != SQLITE_DONE)
      return db_error(db_, "append_contact");
    ContactEvent stored = e;
    stored.seq = sqlite3_last_insert_rowid(db_);
    return stored;
  }

  result<std::vector<ContactEvent>> contacts(std::string_view customer) override {
    Bound q(stmt(Sql::contacts_of));
    if (!q.text(1, customer).ok()) return db_error(db_, "contacts");
    std::vector<ContactEvent> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
      out.push_back({q.column_int(0), std::string(customer), q.column_text(1), q.column_text(2),
                     from_unix(q.column_int(3))});
    if (rc != SQLITE_DONE) return db_error(db_, "contacts");
    return out;
  }

  result<ContactPreference> append_contact_preference(const ContactPreference& p) override {
    Bound q(stmt(Sql::append_contact_preference));
    if (!q.text(1, p.customer)
             .text(2, to_string(p.kind))
             .text(3, p.purpose)
             .text(4, p.channel)
             .integer(5, p.max)
             .text(6, p.per.to_string())
             .integer(7, to_unix(p.at))
             .ok() ||
        q.step() != SQLITE_DONE)
      return db_error(db_, "append_contact_preference");
    ContactPreference stored = p;
    stored.seq = sqlite3_last_insert_rowid(db_);
    return stored;
  }

  result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) override {
    Bound q(stmt(Sql::contact_preferences_of));
    if (!q.text(1, customer).ok()) return db_error(db_, "contact_preferences");
    std::vector<ContactPreference> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) {
      ContactPreference p;
      p.seq = q.column_int(0);
      p.customer = std::string(customer);
      const auto kind = parse_contact_preference_kind(q.column_text(1));
      const auto per = parse_iso_duration(q.column_text(5));
      const std::int64_t max = q.column_int(4);
      if (!kind || !per || max < 0 || max > INT32_MAX)
        return make_error(errc::integrity, "contact_preferences: a row is malformed");
      p.kind = *kind;
      p.purpose = q.column_text(2);
      p.channel = q.column_text(3);
      p.max = static_cast<int>(max);
      p.per = *per;
      p.at = from_unix(q.column_int(6));
      out.push_back(std::move(p));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "contact_preferences");
    return out;
  }

  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override {
    Bound q(stmt(Sql::fields_collected_before));
    const auto bounded = static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
    if (!q.text(1, field).integer(2, to_unix(before)).text(3, after).integer(4, bounded).ok())
      return db_error(db_, "fields_collected_before");
    std::vector<FieldTime> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.column_text(0), from_unix(q.column_int(1))});
    if (rc != SQLITE_DONE) return db_error(db_, "fields_collected_before");
    return out;
  }

  result<void> delete_field(std::string_view customer, std::string_view field) override {
    Bound q(stmt(Sql::delete_field));
    if (!q.text(1, customer).text(2, field).ok() || q.step() != SQLITE_DONE)
      return db_error(db_, "delete_field");
    return ok();
  }

  result<void> delete_meta(std::string_view key) override {
    Bound q(stmt(Sql::delete_meta));
    if (!q.text(1, key).ok() || q.step() != SQLITE_DONE) return db_error(db_, "delete_meta");
    return ok();
  }

  result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) override {
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

  result<std::optional<timestamp>> erased_at(std::string_view tag) override {
    Bound q(stmt(Sql::erased_at));
    if (!q.text(1, tag).ok()) return db_error(db_, "erased_at");
    const int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<timestamp>();
    if (rc != SQLITE_ROW) return db_error(db_, "erased_at");
    return std::optional<timestamp>(from_unix(q.column_int(0)));
  }

  result<void> compact() override {
    if (in_transaction()) return make_error(errc::internal, "compact: a transaction is open");
    // The checkpoint moves every committed page into the main file, where secure_delete has
    // zeroed the deleted cells and freed pages, and the scrubbing VFS has zeroed the unallocated
    // gap of every b-tree page it wrote, where a page rebuilt by a split or merge keeps stale
    // copies of the cells it gave away (crypto_store_test finds such copies in files written
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

  /// uses_scrubbing_vfs records that the connection writes through the scrubbing VFS.
  void uses_scrubbing_vfs(bool on) noexcept { scrub_vfs_ = on; }

  result<void> backup_to(const std::filesystem::path& file) override {
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
    detail::remove_stale_staged_files(file);
    auto staged = detail::StagedFile::create(file);
    if (!staged) return std::move(staged).err();
    CONSENTRY_TRY(copy_into(staged->path().string(), name));
    auto committed = staged->commit(/*replace=*/false);
    if (!committed && committed.err().code == errc::already_exists)
      return make_error(errc::already_exists, "backup file '" + name + "' already exists");
    return committed;
  }

 private:
  // delete_customer_rows does the work of erase_customer inside its transaction or savepoint.
  result<void> delete_customer_rows(std::string_view customer, std::string_view tag, timestamp at) {
    for (Sql which :
         {Sql::erase_key, Sql::erase_fields, Sql::erase_contacts, Sql::erase_contact_preferences}) {
      Bound q(stmt(which));
      if (!q.text(1, customer).ok() || q.step() != SQLITE_DONE) return db_error(db_, "erase_customer");
    }
    if (sqlite3_exec(db_, kDropNoDelete, nullptr, nullptr, nullptr) != SQLITE_OK)
      return db_error(db_, "erase_customer");
    {
      Bound q(stmt(Sql::erase_events));
      if (!q.text(1, customer).ok() || q.step() != SQLITE_DONE) return db_error(db_, "erase_customer");
    }
    if (sqlite3_exec(db_, kRestoreNoDelete, nullptr, nullptr, nullptr) != SQLITE_OK)
      return db_error(db_, "erase_customer");
    Bound q(stmt(Sql::insert_erased));
    if (!q.text(1, tag).integer(2, to_unix(at)).ok() || q.step() != SQLITE_DONE)
      return db_error(db_, "erase_customer");
    return ok();
  }

  // all_pages_scrubbed is true when every page of the main file was written through the
  // scrubbing VFS with its gap zeroed (see compact).
  result<bool> all_pages_scrubbed() {
    if (!scrub_vfs_) return false;
    auto marked = get_meta("pages_scrubbed");
    if (!marked) return std::move(marked).err();
    if (!*marked) return false;
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db_, "PRAGMA page_count", -1, &s, nullptr) != SQLITE_OK)
      return db_error(db_, "compact: page_count");
    const bool small =
        sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) < detail::kMaxScrubbedPages;
    sqlite3_finalize(s);
    return small;
  }

  // checkpoint_truncate copies the whole WAL into the main file and truncates the WAL to zero
  // bytes. It cannot finish while another connection reads from or writes to the WAL.
  result<void> checkpoint_truncate() {
    int wal_frames = -1;
    int copied = -1;
    const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_TRUNCATE, &wal_frames, &copied);
    if (rc == SQLITE_BUSY || (rc == SQLITE_OK && wal_frames != copied))
      return make_error(errc::io, "compact: another connection holds the WAL; close it and compact again");
    if (rc != SQLITE_OK) return db_error(db_, "compact: checkpoint");
    return ok();
  }

  // copy_into copies this database into the empty file `file` with the online backup API (one
  // read snapshot, so the copy is consistent while others keep writing), then turns the copy
  // into a vault of its own: WAL mode, schema checked. Errors name the backup `name`.
  result<void> copy_into(const std::string& file, const std::string& name) {
    sqlite3* dest = nullptr;
    int rc = sqlite3_open_v2(file.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             scrub_vfs_ ? detail::kScrubbingVfsName : nullptr);
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

  // insert_audit checks that `entries` continue the head seq by seq, then inserts them. The
  // caller holds the write lock, so the head cannot move in between.
  result<void> insert_audit(const std::vector<StoredAuditEntry>& entries) {
    auto head = audit_head();
    if (!head) return std::move(head).err();
    std::int64_t expected = *head ? (*head)->seq + 1 : 1;
    for (const auto& e : entries) {
      if (e.seq != expected)
        return make_error(errc::internal, "append_audit: entry seq " + std::to_string(e.seq) +
                                              " does not continue the log (expected " +
                                              std::to_string(expected) + ")");
      ++expected;
    }
    for (const auto& e : entries) {
      Bound q(stmt(Sql::append_audit));
      if (!q.integer(1, e.seq)
               .integer(2, to_unix(e.at))
               .text(3, e.customer)
               .blob(4, e.encoded)
               .blob(5, e.hash)
               .ok() ||
          q.step() != SQLITE_DONE)
        return db_error(db_, "append_audit");
    }
    return ok();
  }

  sqlite3_stmt* stmt(Sql which) const noexcept { return statements_[static_cast<std::size_t>(which)]; }
  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }

  // restore_synchronous puts synchronous back to FULL after a begin_unsynced transaction ended.
  result<void> restore_synchronous() {
    if (!unsynced_ || in_transaction()) return ok();
    if (sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK)
      return db_error(db_, "restoring synchronous = FULL");
    unsynced_ = false;
    return ok();
  }

  result<void> run(Sql which, std::string_view operation) {
    Bound q(stmt(which));
    if (q.step() != SQLITE_DONE) return db_error(db_, operation);
    return ok();
  }

  sqlite3* db_;
  std::array<sqlite3_stmt*, static_cast<std::size_t>(Sql::count)> statements_{};
  bool unsynced_ = false;               ///< synchronous is NORMAL for a begin_unsynced transaction
  bool scrub_vfs_ = false;              ///< writes go through the scrubbing VFS
  sqlite3_stmt* read_begin_ = nullptr;  ///< begin_read's BEGIN DEFERRED, prepared on first use
  sqlite3_stmt* read_end_ = nullptr;    ///< end_read's COMMIT
};

// add_field_format gives the fields table its format column when it lacks it (see
// kAddFieldFormat). A vault that has it is not written to.
result<void> add_field_format(sqlite3* db, const std::string& name) {
  auto has_column = [&]() -> result<bool> {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, kHasFieldFormat, -1, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      return db_error(db, "open " + name + ": reading the schema");
    }
    const int rc = sqlite3_step(s);
    const bool has = rc == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) return db_error(db, "open " + name + ": reading the schema");
    return has;
  };
  auto has = has_column();
  if (!has) return std::move(has).err();
  if (*has) return ok();
  if (sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name + ": adding the values' format");
  // Another process may have added it while this one waited for the lock.
  has = has_column();
  result<void> out = ok();
  if (!has)
    out = std::move(has).err();
  else if (!*has && sqlite3_exec(db, kAddFieldFormat, nullptr, nullptr, nullptr) != SQLITE_OK)
    out = db_error(db, "open " + name + ": adding the values' format");
  if (out && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    out = db_error(db, "open " + name + ": adding the values' format");
  if (!out) (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  return out;
}

// index_audit_log gives the audit log the audit_by_block index (see kCreateAuditIndex) when it
// lacks it or still has the earlier one. A vault that has it is not written to.
result<void> index_audit_log(sqlite3* db, const std::string& name) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT count(*) = 1 AND max(name) = 'audit_by_block' FROM sqlite_master "
                         "WHERE type = 'index' AND name IN ('audit_by_block', 'audit_by_customer')",
                         -1, &s, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name + ": reading the schema");
  const bool indexed = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
  sqlite3_finalize(s);
  if (indexed) return ok();
  if (sqlite3_exec(db, kCreateAuditIndex, nullptr, nullptr, nullptr) != SQLITE_OK) {
    auto failed = db_error(db, "open " + name + ": indexing the audit log");
    (void)sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return failed;
  }
  return ok();
}

result<void> check_schema(sqlite3* db, const std::string& name) {
  const std::string not_a_vault = "'" + name + "' is not a consentry vault, or it is damaged";
  sqlite3_stmt* s = nullptr;
  const std::string sql = "SELECT value FROM meta WHERE key = '" + std::string(kSchemaVersionKey) + "'";
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(s);
    return is_not_a_vault_code(rc) ? make_error(errc::integrity, not_a_vault) : db_error(db, "open " + name);
  }
  rc = sqlite3_step(s);
  bool matches = false;
  if (rc == SQLITE_ROW) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(s, 0));
    const int n = sqlite3_column_bytes(s, 0);
    matches = p != nullptr && std::string_view(p, static_cast<std::size_t>(n)) == kSchemaVersion;
  }
  result<void> out = ok();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    out = is_not_a_vault_code(rc) ? make_error(errc::integrity, not_a_vault) : db_error(db, "open " + name);
  else if (!matches)
    out = make_error(errc::integrity, "'" + name + "' is not a consentry vault: no schema_version " +
                                          std::string(kSchemaVersion) +
                                          " (damaged, or made by another version)");
  sqlite3_finalize(s);
  return out;
}

result<void> enable_wal(sqlite3* db, const std::string& name) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &s, nullptr) != SQLITE_OK) {
    sqlite3_finalize(s);
    return db_error(db, "journal_mode on " + name);
  }
  result<void> out = ok();
  if (sqlite3_step(s) != SQLITE_ROW) {
    out = db_error(db, "journal_mode on " + name);
  } else {
    const auto* mode = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    if (mode == nullptr || std::string_view(mode) != "wal")
      out = make_error(errc::io, "journal_mode on " + name + ": the file system does not support WAL");
  }
  sqlite3_finalize(s);
  return out;
}

result<std::unique_ptr<SqliteStore>> open_db(const std::string& name, StoreMode mode) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  const bool scrubbing = detail::register_scrubbing_vfs();
  const int rc = sqlite3_open_v2(name.c_str(), &db, flags, scrubbing ? detail::kScrubbingVfsName : nullptr);
  // The store owns the handle from here on, even when opening failed, so that it is closed.
  auto store = std::make_unique<SqliteStore>(db);
  store->uses_scrubbing_vfs(scrubbing);
  if (rc != SQLITE_OK) {
    if (db == nullptr) return make_error(errc::io, "open " + name + ": out of memory");
    return db_error(db, "open " + name);
  }
  sqlite3_busy_timeout(db, kBusyTimeoutMs);
  // Verify before any PRAGMA: switching the journal mode would write to a file that is not ours.
  if (mode == StoreMode::open) CONSENTRY_TRY(check_schema(db, name));
  CONSENTRY_TRY(enable_wal(db, name));
  if (sqlite3_exec(db, kPragmas, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "pragmas on " + name);
  if (mode == StoreMode::create && sqlite3_exec(db, kCreateSchema, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "creating the schema of " + name);
  if (mode == StoreMode::open && sqlite3_exec(db, kCreateErased, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name);
  if (sqlite3_exec(db, kCreateContacts, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name);
  CONSENTRY_TRY(index_audit_log(db, name));
  if (mode == StoreMode::open) CONSENTRY_TRY(add_field_format(db, name));
  CONSENTRY_TRY(store->prepare_statements());
  return store;
}

void remove_vault_files(const std::filesystem::path& file) {
  std::error_code ignored;
  std::filesystem::remove(file, ignored);
  std::filesystem::remove(file.string() + "-wal", ignored);
  std::filesystem::remove(file.string() + "-shm", ignored);
}

}  // namespace

result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, StoreMode mode) {
  const std::string name = file.string();
  if (mode == StoreMode::create) {
    // O_EXCL makes "refuse an existing file" atomic; 0600 keeps the vault private to its owner.
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

  auto opened = open_db(name, mode);
  if (!opened) {
    error e = std::move(opened).err();
    // The handle is already closed; a half-made vault would only make the next create fail.
    if (mode == StoreMode::create) remove_vault_files(file);
    return e;
  }
  return std::unique_ptr<Store>(std::move(opened).value());
}

}  // namespace consentry
