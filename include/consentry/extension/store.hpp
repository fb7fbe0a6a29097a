// extension/store.hpp: the Store interface, the union of a store's roles (extension/store/*.hpp:
// transactions, keys and fields, the ledger, the audit log, maintenance), and its
// implementations: SQLite (the embedded default), PostgreSQL (one vault for many processes on many
// hosts) and memory (tests). The records the roles pass
// are in records.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/extension/store/audit_log.hpp"
#include "consentry/extension/store/keys_and_fields.hpp"
#include "consentry/extension/store/ledger.hpp"
#include "consentry/extension/store/maintenance.hpp"
#include "consentry/extension/store/transactions.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// CustomerReadRequest names what one read of a customer needs (Store::read_customer).
struct CustomerReadRequest {
  std::string_view customer;
  std::string_view tag;                      ///< the audit pseudonym whose erasure mark is read; "": none
  bool key = false;                          ///< read the customer's wrapped data key
  bool history = false;                      ///< read the customer's consent history
  std::span<const std::string_view> fields;  ///< the sealed values to read, by name
  std::string_view meta;                     ///< a meta row (KeyFieldStore::get_meta) to read too; "": none
  bool in_snapshot = false;  ///< the caller holds a read snapshot (begin_read), which the read shares
};

/// CustomerRead is what Store::read_customer read, all of it from one committed state.
struct CustomerRead {
  std::optional<bytes> meta;           ///< the meta row asked for, when asked and held
  std::optional<timestamp> erased_at;  ///< as MaintenanceStore::erased_at(tag); nullopt for no tag
  std::optional<StoredKey> key;        ///< when asked and held
  std::vector<ConsentEvent> history;   ///< when asked, in ledger order
  std::vector<StoredField> fields;     ///< those named and held, in no particular order
};

/// Store keeps sealed data; it never sees a key or a plaintext value. It is every role at once,
/// which is what a vault needs: a backend implements the roles one by one (each header says what
/// its calls do and how they fail) and derives from Store to be opened as a vault.
/// Implementations are not thread-safe: one Store per thread, or external locking. Every call
/// returns errc::io when the backend fails.
class Store : public StoreTransactions,
              public KeyFieldStore,
              public LedgerStore,
              public AuditLogStore,
              public MaintenanceStore {
 public:
  ~Store() override = default;

  /// scan_purpose_positions (LedgerStore): the default merges customers() with
  /// purpose_history(), which are sorted alike.
  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override;
  /// field_counts (MaintenanceStore): the default reads every customer's fields.
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override;
  /// append_audit_chain_durably is append_audit_chain (AuditLogStore) in a transaction of its
  /// own, committed durably before it returns; outside any transaction (errc::internal inside
  /// one). The default is begin_append(true), append_audit_chain and commit; a store may do it
  /// in fewer round trips. Fails as those; errc::io when the commit's outcome is unknown.
  virtual result<bool> append_audit_chain_durably(const AuditHead& previous,
                                                  const std::vector<StoredAuditEntry>& entries);
  /// read_customer reads what `request` names in one committed state: outside any transaction
  /// or read snapshot (errc::internal inside one), or, with request.in_snapshot, inside the
  /// caller's read snapshot. The default is read_customer_parts, in a begin_read snapshot of its
  /// own unless in_snapshot; a store may answer in one statement (SQLite: one implicit read
  /// transaction; PostgreSQL: one round trip). Fails as those calls.
  virtual result<CustomerRead> read_customer(const CustomerReadRequest& request);
  /// read_customer_parts reads what `request` names with the roles' own calls (erased_at,
  /// get_key, consent_history, get_named_fields, get_meta), for a caller that holds a read
  /// snapshot or transaction, which makes them one committed state. Fails as those calls.
  result<CustomerRead> read_customer_parts(const CustomerReadRequest& request);
  /// read_customers reads what each of `requests` names, the answers in the order asked, all
  /// inside the caller's read snapshot (begin_read): every request has in_snapshot set
  /// (errc::internal otherwise, before anything is read). The default is one read_customer
  /// each; a store may answer many in one statement (PostgreSQL: one round trip for requests
  /// that differ only in customer, tag and key). Fails as read_customer; one failure fails all.
  virtual result<std::vector<CustomerRead>> read_customers(std::span<const CustomerReadRequest> requests);
  /// open_companion opens a second connection to the same vault, for another thread to use
  /// beside this store (each of the two still used by one thread at a time): what one commits,
  /// the other's next transaction sees. nullptr when the store has no second connection to offer
  /// (the default, and the memory store); otherwise fails as opening the store does.
  virtual result<std::unique_ptr<Store>> open_companion();
  /// open_reader opens a connection to the same vault that only reads customers
  /// (read_customer) and the policy version (get_meta), so that reads from several threads run
  /// side by side, each on a reader of its own, while this store writes: each read sees what was
  /// committed when it began. Called without any lock of this store's user, so it must not touch
  /// this store's connection. nullptr when the store offers none (the default: reads then share
  /// this store's connection); otherwise fails as opening the store does.
  virtual result<std::unique_ptr<Store>> open_reader();
};

/// StoreMode says whether opening a store may create it.
enum class StoreMode { create, open };

/// open_sqlite_store opens an SQLite vault file (WAL, secure_delete=ON, foreign keys, prepared
/// statements). StoreMode::create refuses an existing file (errc::already_exists);
/// StoreMode::open refuses a missing one (errc::not_found) and a file that is not a vault
/// (errc::bad_input).
result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, StoreMode mode);

/// is_postgres_url is true when a vault location is a PostgreSQL connection URI (it starts with
/// `postgresql://` or `postgres://`): Vault::create and Vault::open then use the PostgreSQL
/// store, and any other location names an SQLite file.
bool is_postgres_url(std::string_view location) noexcept;

/// redacted_location returns a vault location fit for a message or a log: a PostgreSQL URI with
/// its password (in the user information or a `password` parameter) replaced by `***`; a file
/// path unchanged.
std::string redacted_location(std::string_view location);

/// open_postgres_store connects to the PostgreSQL vault that `url` names (docs/postgresql.md): a
/// libpq connection URI, whose optional parameter `consentry_schema` names the schema namespace
/// the vault lives in (default `consentry`; letters, digits and `_`, at most 63 bytes, not
/// starting with a digit). StoreMode::create creates the schema and its tables
/// (errc::already_exists when it holds a vault); StoreMode::open refuses a schema without one
/// (errc::not_found) and one of another schema version (errc::integrity). errc::io when the
/// server cannot be reached or fails; errc::invalid_argument for a location that is not a
/// PostgreSQL URI or a bad schema name, and in a build without the PostgreSQL store
/// (CONSENTRY_BUILD_POSTGRESQL off). Messages never hold the password.
result<std::unique_ptr<Store>> open_postgres_store(std::string_view url, StoreMode mode);

/// drop_postgres_vault removes the schema namespace `url` names and everything in it: the whole
/// vault, at once and for good. Vault::create calls it when a vault it began to create on
/// PostgreSQL could not be finished. Fails as open_postgres_store.
result<void> drop_postgres_vault(std::string_view url);

/// make_memory_store makes an empty in-memory store (for tests); transactions roll back for real.
std::unique_ptr<Store> make_memory_store();

}  // namespace consentry
