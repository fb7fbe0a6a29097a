// sqlite_store.hpp: the SQLite store's class (private to src/store/). Its calls are defined one
// role to a file: sqlite_store.cpp (opening, statements, transactions, keys and fields),
// sqlite_ledger.cpp, sqlite_audit_log.cpp and sqlite_maintenance.cpp; the schema is in
// sqlite_schema.cpp and the statement helper in sqlite_statement.hpp.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "store/sqlite_statement.hpp"

namespace consentry::detail {

/// Sql names the store's prepared statements (their text is kStatements in sqlite_store.cpp).
/// kAuditRowsPerInsert is how many audit entries Sql::append_audit_rows inserts in one statement:
/// a batch goes in a few statements instead of one per entry.
inline constexpr std::size_t kAuditRowsPerInsert = 32;

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
  append_audit_rows,  // kAuditRowsPerInsert entries in one statement
  scan_audit,
  audit_for_customer,
  put_checkpoint,
  checkpoints,
  last_checkpoint,
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
  put_lookup,
  delete_lookup,
  find_lookup,
  get_lookups,
  read_customer,
  count,
};

/// format_of reads a sealing format from column `i` of a fields row; errc::integrity, naming
/// `operation`, for one out of range.
result<std::uint32_t> format_of(const Bound& q, int i, std::string_view operation);

/// read_event_tail reads the consent event columns after seq and purpose (action, at, channel,
/// notice, expires_at, policy_version) from column `first` on; errc::integrity, naming
/// `operation`, for an unknown action.
result<void> read_event_tail(const Bound& q, int first, ConsentEvent& e, std::string_view operation);

/// SqliteStore is a Store over one SQLite connection, with every statement prepared once.
class SqliteStore final : public Store {
 public:
  /// SqliteStore owns `db` from here on, even a handle whose opening failed, and closes it.
  explicit SqliteStore(sqlite3* db) noexcept : db_(db) {}
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;
  ~SqliteStore() override;

  /// prepare_statements prepares kStatements; errc::integrity when the file's tables do not
  /// match them (schema_error).
  result<void> prepare_statements();
  /// uses_scrubbing_vfs records that the connection writes through the scrubbing VFS.
  void uses_scrubbing_vfs(bool on) noexcept { scrub_vfs_ = on; }

  // StoreTransactions (sqlite_store.cpp)
  result<void> begin() override;
  result<void> commit() override;
  result<void> rollback() override;
  result<void> begin_unsynced() override;
  result<void> begin_read() override;
  void end_read() noexcept override;
  /// read_customer (Store) is one statement, so one implicit read transaction
  /// (sqlite_customer_read.cpp).
  result<CustomerRead> read_customer(const CustomerReadRequest& request) override;
  /// read_customers (Store) reads each request with the roles' own statements
  /// (read_customer_parts) in the caller's snapshot.
  result<std::vector<CustomerRead>> read_customers(std::span<const CustomerReadRequest> requests) override;
  /// data_version is PRAGMA data_version: it changes when another connection commits.
  result<std::optional<std::uint64_t>> data_version() override;
  /// syncs_apart: the WAL can be synced apart from a commit (sync_committed).
  bool syncs_apart() const noexcept override { return !wal_file_.empty(); }
  /// sync_committed is fdatasync of the WAL file, through a descriptor of its own (opened at the
  /// first sync, kept while the store is open): a commit made with synchronous = NORMAL has
  /// written its frames to the WAL, and this makes them durable as synchronous = FULL would have
  /// at the commit. Touches no connection state; errc::io when the WAL cannot be opened or synced.
  result<void> sync_committed() override;
  /// open_companion (Store) opens the vault file again, on a connection of its own.
  result<std::unique_ptr<Store>> open_companion() override;
  /// open_reader (Store) opens the vault file again, as open_companion does; it touches only
  /// the file's path, set once at open.
  result<std::unique_ptr<Store>> open_reader() override { return open_companion(); }
  /// set_file records the vault file's path, which open_companion opens and whose "-wal"
  /// sync_committed syncs (set at open).
  void set_file(std::string file) {
    wal_file_ = file + "-wal";
    file_ = std::move(file);
  }

  // KeyFieldStore (sqlite_store.cpp)
  result<std::optional<bytes>> get_meta(std::string_view key) override;
  result<void> put_meta(std::string_view key, byte_view value) override;
  result<void> delete_meta(std::string_view key) override;
  result<std::optional<StoredKey>> get_key(std::string_view customer) override;
  result<void> put_key(const StoredKey& key) override;
  result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) override;
  result<std::vector<StoredField>> get_fields(std::string_view customer) override;
  result<std::vector<StoredField>> get_named_fields(std::string_view customer,
                                                    std::span<const std::string_view> fields) override;
  result<void> put_field(const StoredField& f) override;
  result<void> put_lookup(const StoredLookup& entry) override;
  result<void> delete_lookup(std::string_view customer, std::string_view field) override;
  result<std::vector<std::string>> find_lookup(std::string_view field, std::uint32_t key_version,
                                               std::int64_t index) override;
  result<std::vector<StoredLookup>> get_lookups(std::string_view customer) override;
  result<std::vector<std::string>> customers() override;
  result<bool> knows(std::string_view customer) override;

  // LedgerStore (sqlite_ledger.cpp)
  result<ConsentEvent> append_consent(const ConsentEvent& e) override;
  result<std::vector<ConsentEvent>> consent_history(std::string_view customer) override;
  result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) override;
  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override;
  result<ContactEvent> append_contact(const ContactEvent& e) override;
  result<std::vector<ContactEvent>> contacts(std::string_view customer) override;
  result<ContactPreference> append_contact_preference(const ContactPreference& p) override;
  result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) override;
  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override;
  result<std::int64_t> privacy_spent(std::string_view purpose) override;

  // AuditLogStore (sqlite_audit_log.cpp)
  result<std::optional<AuditHead>> audit_head() override;
  result<void> append_audit(const std::vector<StoredAuditEntry>& entries) override;
  result<void> scan_audit(std::int64_t from,
                          const std::function<bool(const StoredAuditEntry&)>& visit) override;
  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override;
  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) override;
  result<void> put_checkpoint(const AuditCheckpoint& cp) override;
  result<std::vector<AuditCheckpoint>> checkpoints() override;
  /// last_checkpoint (AuditLogStore) reads the one row of the highest seq.
  result<std::optional<AuditCheckpoint>> last_checkpoint() override;

  // MaintenanceStore (sqlite_maintenance.cpp)
  result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) override;
  result<std::optional<timestamp>> erased_at(std::string_view tag) override;
  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override;
  result<void> delete_field(std::string_view customer, std::string_view field) override;
  result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) override;
  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override;
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override;
  result<void> compact() override;
  result<void> backup_to(const std::filesystem::path& file) override;

 private:
  // insert_audit checks that `entries` continue the head seq by seq, then inserts them. The
  // caller holds the write lock, so the head cannot move in between.
  result<void> insert_audit(const std::vector<StoredAuditEntry>& entries);
  // delete_customer_rows does the work of erase_customer inside its transaction or savepoint.
  result<void> delete_customer_rows(std::string_view customer, std::string_view tag, timestamp at);
  // all_pages_scrubbed is true when every page of the main file was written through the
  // scrubbing VFS with its gap zeroed (see compact).
  result<bool> all_pages_scrubbed();
  // checkpoint_truncate copies the whole WAL into the main file and truncates the WAL to zero
  // bytes. It cannot finish while another connection reads from or writes to the WAL.
  result<void> checkpoint_truncate();
  // copy_into copies this database into the empty file `file` with the online backup API (one
  // read snapshot, so the copy is consistent while others keep writing), then turns the copy
  // into a vault of its own: WAL mode, schema checked. Errors name the backup `name`.
  result<void> copy_into(const std::string& file, const std::string& name);
  // restore_synchronous puts synchronous back to FULL after a begin_unsynced transaction ended.
  result<void> restore_synchronous();

  sqlite3_stmt* stmt(Sql which) const noexcept { return statements_[static_cast<std::size_t>(which)]; }
  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_) == 0; }
  // run executes a statement without parameters or rows (BEGIN, COMMIT, SAVEPOINT, ...).
  result<void> run(Sql which, std::string_view operation) { return Bound(stmt(which)).exec(operation); }

  sqlite3* db_;
  std::array<sqlite3_stmt*, static_cast<std::size_t>(Sql::count)> statements_{};
  std::string file_;                      ///< the vault file's path (open_companion); set once at open
  std::string wal_file_;                  ///< the WAL's path (sync_committed); set once at open
  std::mutex wal_fd_mu_;                  ///< guards wal_fd_, which sync_committed opens once
  int wal_fd_ = -1;                       ///< a descriptor of the WAL of sync_committed's own
  bool unsynced_ = false;                 ///< synchronous is NORMAL for a begin_unsynced transaction
  bool scrub_vfs_ = false;                ///< writes go through the scrubbing VFS
  sqlite3_stmt* read_begin_ = nullptr;    ///< begin_read's BEGIN DEFERRED, prepared on first use
  sqlite3_stmt* read_end_ = nullptr;      ///< end_read's COMMIT
  sqlite3_stmt* data_version_ = nullptr;  ///< PRAGMA data_version, prepared on first use
};

}  // namespace consentry::detail
