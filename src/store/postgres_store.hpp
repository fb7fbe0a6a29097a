// postgres_store.hpp: the PostgreSQL store over libpq (private to src/store/; docs/postgresql.md):
// the connection by URL, the schema's creation and check under an advisory lock, prepared
// statements with their parameters, and every store role. Each role's calls are in a file of
// their own (postgres_*_role.cpp), as the SQLite store's are.
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/time.hpp"
#include "text/utf8.hpp"

namespace consentry::detail {

/// PgResultFree frees a PGresult; PgResult owns one.
struct PgResultFree {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

/// PgFormat is libpq's format code of a parameter or of a statement's result columns.
enum class PgFormat : int { text = 0, binary = 1 };

/// PgParams holds one statement's parameters, in order ($1, $2, ...). Text and integers are
/// copied; binary values are borrowed and must outlive the call that runs the statement.
class PgParams {
 public:
  PgParams() = default;
  // Not copied: text parameters point into the strings this object owns. Moved, they stay where
  // they are (a deque's elements do not move with it).
  PgParams(const PgParams&) = delete;
  PgParams& operator=(const PgParams&) = delete;
  PgParams(PgParams&&) = default;
  PgParams& operator=(PgParams&&) = default;
  /// text adds a text parameter. PostgreSQL's text holds no NUL byte: a value with one makes
  /// the statement fail with errc::invalid_argument before it is sent.
  PgParams& text(std::string_view v);
  /// binary adds a bytea parameter, sent in binary format (borrowed, not copied).
  PgParams& binary(byte_view v);
  /// integer adds an integer parameter (sent as its decimal text; the server casts it).
  PgParams& integer(std::int64_t v);
  /// null adds an SQL NULL.
  PgParams& null();

  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }
  /// has_nul is true when a text parameter holds a NUL byte (it cannot be sent).
  bool has_nul() const noexcept { return has_nul_; }

 private:
  std::deque<std::string> owned_;  // a deque: adding a string moves none of the others
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  bool has_nul_ = false;
};

/// The element types of array parameters (pg_type OIDs, fixed since PostgreSQL's first days).
inline constexpr std::uint32_t kPgBytea = 17;
inline constexpr std::uint32_t kPgInt8 = 20;
inline constexpr std::uint32_t kPgText = 25;

/// PgArray builds a one-dimensional array parameter without NULLs in PostgreSQL's binary format
/// (array_send): dimensions, flags, element type, then each element as its length and bytes. A
/// statement turns such arrays back into rows with unnest, so a batch is one statement and one
/// round trip. The element count is fixed when the array is made.
class PgArray {
 public:
  /// PgArray starts an array of `count` elements of `element_type` (kPgBytea, kPgInt8, kPgText).
  PgArray(std::uint32_t element_type, std::size_t count);
  /// add appends a text or bytea element.
  void add(std::string_view v);
  void add(byte_view v) { add(as_text(v)); }
  /// add_int8 appends a bigint element.
  void add_int8(std::int64_t v);
  /// view is the array's encoding, to pass with PgParams::binary.
  byte_view view() const noexcept { return out_; }

 private:
  static std::string_view as_text(byte_view v) { return {reinterpret_cast<const char*>(v.data()), v.size()}; }
  void put32(std::uint32_t v);
  bytes out_;
};

/// pg_is_text is true for a value PostgreSQL's text takes: valid UTF-8 without a NUL byte.
inline bool pg_is_text(std::string_view v) {
  return v.find('\0') == std::string_view::npos && utf8_valid(v);
}

/// pg_text_array is the text[] parameter of `items` (PgArray); errc::invalid_argument naming
/// `operation` when one of them is not text (pg_is_text).
result<PgArray> pg_text_array(std::span<const std::string_view> items, std::string_view operation);

/// pg_text views a text or bytea column of a binary-format result: its raw bytes, valid as long
/// as the result; pg_bytes is the same view as bytes.
inline std::string_view pg_text(const PGresult* r, int row, int column) {
  return {PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column))};
}
inline byte_view pg_bytes(const PGresult* r, int row, int column) {
  return as_bytes(pg_text(r, row, column));
}
/// pg_bytes_copy copies such a column's bytes.
inline bytes pg_bytes_copy(const PGresult* r, int row, int column) {
  const byte_view v = pg_bytes(r, row, column);
  return bytes(v.begin(), v.end());
}
/// pg_seconds and pg_time turn a time into the Unix seconds the schema stores, and back.
inline std::int64_t pg_seconds(timestamp t) {
  return t.time_since_epoch().count();
}
inline timestamp pg_time(std::int64_t seconds) {
  return timestamp{std::chrono::seconds{seconds}};
}

/// pg_int reads an integer column (int2, int4 or int8, in binary format) of `row`; 0 for NULL;
/// errc::integrity for a value of another width.
result<std::int64_t> pg_int(const PGresult* r, int row, int column);

/// pg_unsigned reads an integer column that must hold an unsigned 32-bit number (a key version or
/// a sealing format); errc::integrity naming `operation` and `what` for anything else.
result<std::uint32_t> pg_unsigned(const PGresult* r, int row, int column, std::string_view operation,
                                  std::string_view what);
/// pg_field reads a fields row whose columns from `first` on are sealed, source, collected_at and
/// format; errc::integrity for an invalid format.
result<StoredField> pg_field(const PGresult* r, int row, int first, std::string customer, std::string field,
                             std::string_view operation);
/// pg_event_tail reads the consent_events columns from `first` on: action, at, channel, notice,
/// expires_at and policy_version; errc::integrity for an unknown action.
result<void> pg_event_tail(const PGresult* r, int row, int first, ConsentEvent& e,
                           std::string_view operation);

/// kPostgresSchemaVersion is the schema version this library creates and reads; a vault of an
/// earlier version is migrated to it when opened.
inline constexpr std::int64_t kPostgresSchemaVersion = 5;

/// pg_name_hash hashes a name (FNV-1a, 32 bits) into a key of an advisory lock.
std::int32_t pg_name_hash(std::string_view s);

/// PostgresStore is the PostgreSQL store over one libpq connection (docs/postgresql.md). A write
/// transaction is READ COMMITTED and takes the vault's write lock, the one row of `state`, by
/// bumping its data_version, which is how another connection's commit is seen. Not thread-safe,
/// like every store.
class PostgresStore final : public Store {
 public:
  /// connect opens a connection to the server `url` names (a libpq connection URI or
  /// key=value string) and then, in one transaction under an advisory lock for `schema`:
  /// StoreMode::create creates the schema namespace `schema` and its tables (errc::already_exists
  /// when it holds a vault); StoreMode::open checks it holds a vault of this schema version
  /// (errc::not_found when it holds none, errc::integrity for another version). errc::io when the
  /// connection or the server fails; errc::invalid_argument for an empty schema name. Messages
  /// never hold the URL (it may carry a password). A vault of an earlier schema version is
  /// migrated to this one when opened. `create_version` is for tests of that migration: the
  /// schema version StoreMode::create leaves (errc::invalid_argument for one this library does
  /// not know).
  static result<std::unique_ptr<PostgresStore>> connect(const std::string& url, StoreMode mode,
                                                        std::string schema = "consentry",
                                                        std::int64_t create_version = kPostgresSchemaVersion);

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  /// open_companion (Store) connects again with the options this connection was made with;
  /// touches no connection state, so may be called beside another thread's use of this store.
  /// The schema, checked by this connection, is not checked again under the schema lock: one
  /// statement checks that it is still at the version this store opened it at (errc::integrity
  /// when another process has migrated it since). errc::io naming the fork in a forked child.
  result<std::unique_ptr<Store>> open_companion() override;
  /// open_reader (Store) connects again, as open_companion does: each reader is a server
  /// connection of its own.
  result<std::unique_ptr<Store>> open_reader() override { return open_companion(); }
  PostgresStore& operator=(const PostgresStore&) = delete;

  // StoreTransactions (postgres_store.cpp)
  result<void> begin() override;
  result<void> commit() override;
  result<void> rollback() override;
  result<void> begin_unsynced() override;
  /// begin_append starts a transaction that takes no write lock: audit appends to the caller's
  /// own chain and checkpoints only (append_write); any other write in it is errc::internal.
  result<void> begin_append(bool synced) override;
  result<void> begin_read() override;
  void end_read() noexcept override;
  result<std::optional<std::uint64_t>> data_version() override;

  // KeyFieldStore (postgres_keys_fields_role.cpp)
  result<std::optional<bytes>> get_meta(std::string_view key) override;
  result<void> put_meta(std::string_view key, byte_view value) override;
  result<void> delete_meta(std::string_view key) override;
  result<std::optional<StoredKey>> get_key(std::string_view customer) override;
  result<void> put_key(const StoredKey& key) override;
  result<void> put_new_key(const StoredKey& key) override;
  result<std::vector<std::string>> with_data_keys(std::span<const std::string_view> customers) override;
  result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) override;
  result<std::vector<StoredField>> get_fields(std::string_view customer) override;
  result<std::vector<StoredField>> get_named_fields(std::string_view customer,
                                                    std::span<const std::string_view> fields) override;
  result<void> put_field(const StoredField& f) override;
  result<void> put_new_field(const StoredField& f) override;
  result<void> put_lookup(const StoredLookup& entry) override;
  result<void> delete_lookup(std::string_view customer, std::string_view field) override;
  result<std::vector<std::string>> find_lookup(std::string_view field, std::uint32_t key_version,
                                               std::int64_t index) override;
  result<std::vector<StoredLookup>> get_lookups(std::string_view customer) override;
  result<std::vector<std::string>> customers() override;
  result<bool> knows(std::string_view customer) override;

  // LedgerStore (postgres_ledger_role.cpp)
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

  // AuditLogStore (postgres_audit_log_role.cpp)
  result<std::optional<AuditHead>> audit_head() override;
  result<void> append_audit(const std::vector<StoredAuditEntry>& entries) override;
  result<void> scan_audit(std::int64_t from,
                          const std::function<bool(const StoredAuditEntry&)>& visit) override;
  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override;
  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) override;
  result<void> put_checkpoint(const AuditCheckpoint& cp) override;
  result<std::vector<AuditCheckpoint>> checkpoints() override;
  bool keeps_writer_chains() const noexcept override { return true; }
  result<std::int64_t> claim_audit_chain() override;
  result<std::optional<AuditHead>> audit_chain_head(std::int64_t chain) override;
  result<bool> append_audit_chain(const AuditHead& previous,
                                  const std::vector<StoredAuditEntry>& entries) override;
  result<std::vector<AuditHead>> audit_chain_heads() override;
  result<std::optional<AuditCheckpoint>> last_checkpoint() override;
  result<bool> put_chain_checkpoint(const AuditCheckpoint& cp) override;
  /// append_audit_chain_durably sends the append as one statement outside a transaction (its own
  /// implicit one, committed with the session's synchronous_commit, on): one round trip instead
  /// of three. It is not run again after a lost connection: errc::io then says that whether the
  /// entries were committed is unknown.
  result<bool> append_audit_chain_durably(const AuditHead& previous,
                                          const std::vector<StoredAuditEntry>& entries) override;

  // MaintenanceStore (postgres_maintenance_role.cpp)
  result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) override;
  result<std::optional<timestamp>> erased_at(std::string_view tag) override;
  result<std::vector<std::string>> erased_among(std::span<const std::string_view> tags) override;
  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override;
  result<void> delete_field(std::string_view customer, std::string_view field) override;
  result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) override;
  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override;
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override;
  result<void> compact() override;
  result<void> backup_to(const std::filesystem::path& file) override;

  /// read_customer is one statement (postgres_customer_read.cpp), which PostgreSQL runs in one
  /// snapshot: one round trip.
  result<CustomerRead> read_customer(const CustomerReadRequest& request) override;
  /// read_customers reads requests that differ only in customer, tag and key in one statement
  /// (one round trip, postgres_customer_read.cpp); others as the default does.
  result<std::vector<CustomerRead>> read_customers(std::span<const CustomerReadRequest> requests) override;

  /// in_transaction is true between begin (or begin_read) and the commit or rollback that ends it.
  bool in_transaction() const noexcept { return open_ != Open::none; }
  /// schema is the schema namespace the vault lives in (unquoted).
  const std::string& schema() const noexcept { return schema_; }
  /// round_trips counts the requests this store has sent and waited for the server to answer
  /// (statements, preparations, commits): what a call costs in round trips, for tests and
  /// diagnostics. A read snapshot's COMMIT, not waited for, is not counted.
  std::uint64_t round_trips() const noexcept { return round_trips_; }
  /// round_trips_in_process is round_trips summed over every PostgreSQL store this process has
  /// opened: a vault's own connection, its readers and its batch connection together.
  static std::uint64_t round_trips_in_process() noexcept;

  /// exec runs `sql` as a prepared statement (prepared on this connection the first time it is
  /// run; `@S` stands for the quoted schema) and returns its result, columns in `format`.
  /// errc::io naming `operation` and the SQLSTATE when the server refuses it or the connection
  /// fails (never the server's message, which may quote a value), errc::invalid_argument for a
  /// text parameter with a NUL byte. `sql` is a constant of the store: it is the key of the
  /// prepared statement.
  result<PgResult> exec(std::string_view sql, const PgParams& params, std::string_view operation,
                        PgFormat format = PgFormat::binary);
  /// exec_once is exec without running the statement again after a lost connection: for a
  /// statement outside a transaction that writes (its own implicit transaction), whose first run
  /// may have committed. Fails as exec.
  result<PgResult> exec_once(std::string_view sql, const PgParams& params, std::string_view operation,
                             PgFormat format = PgFormat::binary);
  /// exec_each_row runs `sql` as exec does, binary columns, and hands each row to `row` as it
  /// arrives (libpq's single-row mode: memory holds one row, whatever the result's size) until
  /// `row` returns false or an error, which is then returned. Fails as exec; outside a
  /// transaction, a connection lost before the first row runs the statement once more.
  result<void> exec_each_row(std::string_view sql, const PgParams& params, std::string_view operation,
                             const std::function<result<bool>(const PGresult*)>& row);
  /// texts_among runs `sql`, whose one parameter is a text[] of `items` (pg_text_array) and whose
  /// first column is text, and returns that column; nothing for no items. Fails as exec, and as
  /// pg_text_array for an item that is not text.
  result<std::vector<std::string>> texts_among(std::string_view sql, std::span<const std::string_view> items,
                                               std::string_view operation);
  /// write runs `body`, the statements of one role call that writes, inside the caller's write
  /// transaction, or, outside one, inside a transaction of its own (begin ... commit, rolled back
  /// when `body` fails). Every write goes through it: only a write transaction takes the write
  /// lock and bumps data_version, which is how other connections learn of the change.
  /// errc::internal inside a read snapshot; otherwise fails as `body`, begin and commit.
  result<void> write(std::string_view operation, const std::function<result<void>()>& body);
  /// append_write runs `body`, statements that append to the caller's audit chain or store a
  /// checkpoint, inside the caller's write or append transaction, or, outside one, inside an
  /// append transaction of its own. errc::internal inside a read snapshot; otherwise fails as
  /// `body`, begin_append and commit.
  result<void> append_write(std::string_view operation, const std::function<result<void>()>& body);
  /// in_write_transaction is true between begin (or begin_unsynced) and its commit or rollback.
  bool in_write_transaction() const noexcept { return open_ == Open::write; }
  /// exec_sql runs SQL without parameters (several statements allowed), `@S` standing for the
  /// quoted schema; fails as exec.
  result<PgResult> exec_sql(std::string_view sql, std::string_view operation);

 private:
  enum class Open { none, write, append, read };
  explicit PostgresStore(PGconn* conn, std::string schema);
  // connected makes a store of `connection` (owning it even when it failed), in UTF8, on
  // `schema`, which the caller then sets up (set_up_schema) or checks (check_companion_schema).
  // errc::io when the connection failed; errc::invalid_argument for a schema name it cannot quote.
  static result<std::unique_ptr<PostgresStore>> connected(PGconn* connection, std::string schema);
  result<void> set_up_schema(StoreMode mode, std::int64_t create_version);
  // check_companion_schema checks, in one statement and without the schema lock, that the schema
  // is at `version`, the one the store this connection accompanies opened it at; errc::integrity
  // when it is not, or when its state row is gone.
  result<void> check_companion_schema(std::int64_t version);
  // stored_schema_version reads the schema's state row's schema_version, as text (`op` names the
  // request in errors); errc::integrity when the row is gone.
  result<std::string> stored_schema_version(std::string_view op);
  // use_utf8 makes the connection's client encoding UTF8, sending a request only when the
  // server did not start it in UTF8; false when the server refuses.
  bool use_utf8();
  // keep_connection_options copies the options this connection was made with (the password
  // among them) into connection_options_, for open_companion.
  result<void> keep_connection_options();
  // count_round_trip counts one request sent and waited for (round_trips, round_trips_in_process).
  void count_round_trip() noexcept;
  result<void> reconnect_if_lost(std::string_view operation);
  result<void> start_write(bool synced);
  /// send_chain_append runs append_audit_chain's one statement (exec_once when `once`) and says
  /// whether the chain's head moved; fails as exec.
  result<bool> send_chain_append(const AuditHead& previous, const std::vector<StoredAuditEntry>& entries,
                                 bool once);
  /// settle reads the answer to a read snapshot's COMMIT that end_read sent without waiting, so
  /// that the connection is ready for its next use; every use of the connection settles first.
  /// A COMMIT that failed is followed by a ROLLBACK (the snapshot only read).
  void settle() noexcept;
  /// prepared returns the name of `sql`'s prepared statement on this connection, preparing it
  /// the first time; fails as exec.
  result<const std::string*> prepared(std::string_view sql, std::string_view operation);
  /// send_pending sends the queued calls, one statement each, in this order: put_new_key, put_key,
  /// put_new_field, put_field, put_lookup (postgres_keys_fields_role.cpp). A new row is never
  /// queued after a put of the same row, so its INSERT goes before the upserts. Fails as exec,
  /// the transaction then being aborted.
  result<void> send_pending();
  /// PipelinedStatement is one statement send_pipelined sends: its text (a constant of the store),
  /// the operation its errors name, and its parameters.
  struct PipelinedStatement {
    std::string_view sql;
    std::string_view operation;
    PgParams params;
  };
  /// send_pipelined sends `statements` in pipeline mode and returns without waiting for their
  /// answers (await_writes reads them), so that the caller goes on while the server works. Only
  /// inside a write transaction: an error aborts it and is reported by await_writes. Fails with
  /// errc::io when the statements cannot be sent, errc::invalid_argument for a text parameter with
  /// a NUL byte.
  result<void> send_pipelined(std::vector<PipelinedStatement>& statements);
  /// await_writes reads the answers to what send_pipelined sent and leaves pipeline mode; every
  /// use of the connection awaits first. Returns the first refused statement's error (errc::io
  /// naming its operation), the transaction then being aborted; ok when nothing is in flight.
  result<void> await_writes();
  /// queue runs `enqueue` inside the open write transaction (or one of its own), then sends the
  /// queue when it holds kMaxPendingWrites calls; fails as write.
  result<void> queue(std::string_view operation, const std::function<result<void>()>& enqueue);
  /// with_schema replaces every `@S` in `sql` by the quoted schema name.
  std::string with_schema(std::string_view sql) const;
  /// check turns a result that is not `expected` into errc::io naming `operation`.
  result<PgResult> check(PGresult* r, std::string_view operation) const;
  /// owned fails, with errc::io naming `operation` and the fork, in a process forked from the
  /// one that connected. The child shares its parent's socket, so a statement sent from it
  /// would land in the parent's session (a COMMIT of the parent's half-written transaction);
  /// every use of the connection asks first, and the first refusal severs the child's copy.
  result<void> owned(std::string_view operation);
  /// forked is true in a process forked from the one that connected.
  bool forked() const noexcept;
  /// sever points this process's copy of the connection's socket at /dev/null (once), so that
  /// nothing sent from here reaches the server and nothing the server sends is read here.
  void sever() noexcept;

  PGconn* conn_;
  SecretBytes connection_options_;  ///< "keyword\0value\0" pairs, set once in connected()
  std::string schema_;
  std::string quoted_schema_;
  std::int64_t schema_version_ = 0;  ///< the schema version this connection found or left
  std::unordered_map<std::string_view, std::string> prepared_;  ///< statement text → its name
  Open open_ = Open::none;
  std::uint64_t round_trips_ = 0;                       ///< round_trips()
  bool commit_in_flight_ = false;                       ///< end_read's COMMIT, not yet answered
  std::uint64_t connected_in_ = 0;                      ///< fork_generation() when connected
  bool severed_ = false;                                ///< sever() has run
  std::vector<std::string_view> writes_in_flight_;      ///< operations send_pipelined sent, unanswered
  std::optional<std::uint64_t> snapshot_data_version_;  ///< read by begin_read, for data_version

  /// PendingWrites are the put_key, put_field and put_lookup calls (and their put_new_ forms) of
  /// the open write transaction not sent yet. They are sent in batches of kMaxPendingWrites,
  /// before any other statement (so every statement sees them, in call order) and before COMMIT;
  /// a rollback drops them. A second put of a row already queued sends the queue first (one
  /// statement may not change a row twice). New rows are inserted without ON CONFLICT, which
  /// costs the server about a third less; a duplicate among them fails the transaction.
  struct PendingWrites {
    std::vector<StoredKey> new_keys;
    std::vector<StoredKey> keys;
    std::vector<StoredField> new_fields;
    std::vector<StoredField> fields;
    std::unordered_set<std::string> key_customers;  ///< the customers of `keys`
    std::unordered_set<std::string> field_names;    ///< customer, NUL, field of each of `fields`
    std::vector<StoredLookup> lookups;
    std::unordered_set<std::string> lookup_names;  ///< customer, NUL, field of each of `lookups`
    bool empty() const noexcept { return size() == 0; }
    std::size_t size() const noexcept {
      return new_keys.size() + keys.size() + new_fields.size() + fields.size() + lookups.size();
    }
  };
  static constexpr std::size_t kMaxPendingWrites = 1000;
  PendingWrites pending_;
};

}  // namespace consentry::detail
