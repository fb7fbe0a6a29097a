// sqlite_schema.cpp: the SQLite vault's schema: the tables created with a vault, the additions
// made since (applied when an older vault opens, without changing the schema version), the
// connection's pragmas, and the checks that a file is a vault.
#include "store/sqlite_schema.hpp"

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "store/sqlite_statement.hpp"

namespace consentry::detail {
namespace {

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
  expires_at INTEGER,
  policy_version INTEGER NOT NULL DEFAULT 0,
  signal TEXT
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

// Blind indexes (docs/lookup.md): one entry per indexed value, a truncated keyed hash and the
// master key version whose derived key made it; never a value. The trigger deletes a value's
// entry with the value (delete_field, erasure), in the same statement. Added to vaults created
// before them the same way as the tables above (the schema stays version 1).
// data_keys_by_customer holds each customer's key row in the index itself, so that a read of a
// data key is one B-tree search (the primary key's own index holds only the rowid, and the row is
// a second search). At a million customers the second search is a page no recent read touched
// (bench W9). Built on the first open of a vault made before it (a few seconds at a million
// customers); SqliteStore::get_key names it.
constexpr const char* kCreateKeyIndex =
    "CREATE INDEX IF NOT EXISTS data_keys_by_customer ON data_keys(customer, version, wrapped);";

constexpr const char* kCreateLookups = R"sql(
CREATE TABLE IF NOT EXISTS lookups(
  customer TEXT NOT NULL,
  field TEXT NOT NULL,
  key_version INTEGER NOT NULL,
  value INTEGER NOT NULL,
  PRIMARY KEY(customer, field)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS lookups_by_value ON lookups(field, value, key_version);
CREATE TRIGGER IF NOT EXISTS fields_drop_lookup AFTER DELETE ON fields
BEGIN DELETE FROM lookups WHERE customer = old.customer AND field = old.field; END;
)sql";

// Vaults created before values had a sealing format lack fields.format; opening adds it, in a
// transaction that looks for it first, so two processes opening at once add it once. Their rows
// read as format 1 (the DEFAULT, which SQLite supplies without rewriting them), as they were
// sealed; the vault re-seals them in format 2 when it opens (src/vault/manifest.cpp). The schema
// stays version 1, like the additions above.
constexpr const char* kHasFieldFormat =
    "SELECT count(*) FROM pragma_table_info('fields') WHERE name = 'format'";
constexpr const char* kAddFieldFormat = "ALTER TABLE fields ADD COLUMN format INTEGER NOT NULL DEFAULT 1";

// Vaults created before policy versions lack consent_events.policy_version; opening adds it the
// same way. Their events read as 0: recorded before versions were kept, under version 1. A vault
// missing the table is left for the schema check to refuse (it counts as having the column).
constexpr const char* kHasConsentPolicyVersion =
    "SELECT (SELECT count(*) FROM pragma_table_info('consent_events') WHERE name = 'policy_version') + "
    "(SELECT count(*) = 0 FROM pragma_table_info('consent_events'))";
constexpr const char* kAddConsentPolicyVersion =
    "ALTER TABLE consent_events ADD COLUMN policy_version INTEGER NOT NULL DEFAULT 0";

// Vaults created before consent signals lack consent_events.signal; opening adds it the same way.
// Their events read as recorded directly (NULL).
constexpr const char* kHasConsentSignal =
    "SELECT (SELECT count(*) FROM pragma_table_info('consent_events') WHERE name = 'signal') + "
    "(SELECT count(*) = 0 FROM pragma_table_info('consent_events'))";
constexpr const char* kAddConsentSignal = "ALTER TABLE consent_events ADD COLUMN signal TEXT";

// Erasure is the one delete the ledger allows. The trigger that forbids it is dropped and created
// again inside erase_customer's own savepoint: SQLite DDL is transactional, so no other
// connection ever sees the ledger without it, and a failed erasure restores it with the rows.
// kRestoreNoDelete must stay the trigger of kCreateSchema, word for word.
}  // namespace
const char* const kDropNoDelete = "DROP TRIGGER consent_events_no_delete";
const char* const kRestoreNoDelete =
    "CREATE TRIGGER consent_events_no_delete BEFORE DELETE ON consent_events\n"
    "BEGIN SELECT RAISE(ABORT, 'consent_events is append-only'); END";
namespace {

// A 32 MiB page cache (allocated as it fills) keeps the indexes a large vault's reads and audit
// appends walk in memory, instead of SQLite's default 2 MiB. The WAL is copied into the main
// file once it holds 8,192 pages (32 MiB) rather than SQLite's 1,000: each such checkpoint syncs
// both files, and a page that many commits change is copied once rather than once per 1,000.
// Erasure and compaction still empty the WAL at once (checkpoint_truncate). Reads go through a
// memory map of up to 2 GiB of the file (0x7fff0000, the most SQLite allows by default), so
// that a page outside the page cache costs no read() and no copy: at a million customers, where
// each read or search lands on pages no recent call touched, that is most of the difference from
// ten thousand (bench W7, W9). Writes still go through the VFS. A disk error under a mapped page
// raises SIGBUS (the threat model tells users to keep vaults on local disks).
constexpr const char* kPragmas =
    "PRAGMA secure_delete = ON; PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
    "PRAGMA cache_size = -32768; PRAGMA wal_autocheckpoint = 8192; PRAGMA mmap_size = 2147418112;";

// add_column adds a column with `add_sql` when `has_sql` counts none (see kAddFieldFormat), in a
// transaction that looks again first; `what` names the change in errors. A vault that has the
// column is not written to.
result<void> add_column(sqlite3* db, const std::string& name, const char* has_sql, const char* add_sql,
                        const std::string& what) {
  auto has_column = [&]() -> result<bool> {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, has_sql, -1, &s, nullptr) != SQLITE_OK) {
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
    return db_error(db, "open " + name + ": " + what);
  // Another process may have added it while this one waited for the lock.
  has = has_column();
  result<void> out = ok();
  if (!has)
    out = std::move(has).err();
  else if (!*has && sqlite3_exec(db, add_sql, nullptr, nullptr, nullptr) != SQLITE_OK)
    out = db_error(db, "open " + name + ": " + what);
  if (out && sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
    out = db_error(db, "open " + name + ": " + what);
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

}  // namespace

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

result<void> set_up_vault(sqlite3* db, const std::string& name, StoreMode mode) {
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
  if (sqlite3_exec(db, kCreateLookups, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name);
  if (sqlite3_exec(db, kCreateKeyIndex, nullptr, nullptr, nullptr) != SQLITE_OK)
    return db_error(db, "open " + name + ": indexing the data keys");
  CONSENTRY_TRY(index_audit_log(db, name));
  if (mode == StoreMode::open) {
    CONSENTRY_TRY(add_column(db, name, kHasFieldFormat, kAddFieldFormat, "adding the values' format"));
    CONSENTRY_TRY(add_column(db, name, kHasConsentPolicyVersion, kAddConsentPolicyVersion,
                             "adding the consent events' policy version"));
    CONSENTRY_TRY(
        add_column(db, name, kHasConsentSignal, kAddConsentSignal, "adding the consent events' signal"));
  }
  return ok();
}

}  // namespace consentry::detail
