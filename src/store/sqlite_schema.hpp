// sqlite_schema.hpp: the SQLite vault's schema (private to src/store/): creating it, checking a
// file holds it, bringing files made by earlier versions up to it, and the connection settings.
#pragma once

#include <sqlite3.h>

#include <string>

#include "consentry/extension/store.hpp"
#include "consentry/result.hpp"

namespace consentry::detail {

/// kBusyTimeoutMs is how long a connection waits for another's lock before failing.
inline constexpr int kBusyTimeoutMs = 5000;

// "Who accessed my data" finds a customer's entries through audit_by_block, an index on
// (seq >> 10, customer): the log cut into blocks of 1,024 consecutive entries, and
// within each block the entries by customer pseudonym. Appends touch only the newest block's few
// index pages, where an index on the pseudonym alone would put each entry on a random page and
// write one page per entry. A lookup makes one index search per block. Entries without a
// customer (aggregates, detokenisation) are not indexed. Vaults created with the earlier index on
// (customer, seq) get the new one when they open, and lose the old one, in one transaction.
#define CONSENTRY_AUDIT_BLOCK "(seq >> 10)"
inline constexpr const char* kCreateAuditIndex =
    "BEGIN IMMEDIATE; "
    "CREATE INDEX IF NOT EXISTS audit_by_block ON audit(" CONSENTRY_AUDIT_BLOCK
    ", customer) WHERE customer <> ''; "
    "DROP INDEX IF EXISTS audit_by_customer; "
    "COMMIT;";
// The blocks are numbered 0 .. (newest seq >> 10); each is searched for the pseudonym.
inline constexpr const char* kAuditForCustomer =
    "WITH RECURSIVE blocks(b) AS (SELECT 0 UNION ALL SELECT b + 1 FROM blocks "
    "WHERE b < (SELECT coalesce(max(seq), 0) >> 10 FROM audit)) "
    "SELECT a.seq, a.at, a.customer, a.entry, a.hash FROM blocks CROSS JOIN audit AS a "
    "WHERE " CONSENTRY_AUDIT_BLOCK " = blocks.b AND a.customer = ?1 AND a.customer <> '' ORDER BY a.seq";
#undef CONSENTRY_AUDIT_BLOCK

/// kReadCustomer is SqliteStore::read_customer's one statement: ?1 customer, ?2 the meta row's key,
/// ?3 the erasure tag, ?4 whether to read the data key, ?5 the history, ?6 the fields. The first
/// column tells the kind of row: 0 the meta value and erasure time (always one row), 1 the data
/// key, 2 a consent event (seq, purpose, then read_event_tail's columns), 3 a field (field,
/// sealed, source, collected_at, format). Every table is searched by its key.
inline constexpr const char* kReadCustomer =
    "SELECT 0, (SELECT value FROM meta WHERE key = ?2), (SELECT at FROM erased WHERE tag = ?3), "
    "NULL, NULL, NULL, NULL, NULL, NULL "
    "UNION ALL SELECT 1, version, wrapped, NULL, NULL, NULL, NULL, NULL, NULL "
    "FROM data_keys INDEXED BY data_keys_by_customer WHERE ?4 AND customer = ?1 "
    "UNION ALL SELECT 2, seq, purpose, action, at, channel, notice, expires_at, policy_version "
    "FROM consent_events WHERE ?5 AND customer = ?1 "
    "UNION ALL SELECT 3, field, sealed, source, collected_at, format, NULL, NULL, NULL "
    "FROM fields WHERE ?6 AND customer = ?1";

/// kDropNoDelete drops the trigger that keeps consent_events append-only, and kRestoreNoDelete
/// creates it again, word for word as the schema does. Erasure runs both inside its own
/// savepoint (sqlite_maintenance.cpp).
extern const char* const kDropNoDelete;
extern const char* const kRestoreNoDelete;

/// check_schema checks that `db` (named `name` in messages) is a vault of this schema version:
/// errc::integrity when it is not a vault or is damaged, db_error for a disk or lock failure.
result<void> check_schema(sqlite3* db, const std::string& name);

/// enable_wal puts `db` in WAL mode; errc::io when the file system does not support it.
result<void> enable_wal(sqlite3* db, const std::string& name);

/// set_up_vault makes the freshly opened connection `db` to the file `name` ready for the store:
/// busy timeout; for StoreMode::open the schema check (before anything writes to a file that
/// may not be ours); WAL and the pragmas; for StoreMode::create the whole schema; then the
/// additions that vaults made by earlier versions lack. Fails as check_schema, or with the
/// failing statement's db_error.
result<void> set_up_vault(sqlite3* db, const std::string& name, StoreMode mode);

}  // namespace consentry::detail
