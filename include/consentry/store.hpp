// store.hpp: the Store interface (sealed records, key rows, the consent ledger, metadata) and
// its implementations: SQLite (the embedded default) and memory (tests).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/bytes.hpp"
#include "consentry/consent.hpp"
#include "consentry/contact.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// StoredField is one sealed value and its metadata (the metadata is not secret).
struct StoredField {
  std::string customer;
  std::string field;
  bytes sealed;        ///< nonce | ciphertext | tag
  std::string source;  ///< where the value came from ("web-signup", "credit-bureau")
  timestamp collected_at{};
  /// format is the sealing format (keyring.hpp): 1 binds customer and field (rows written before
  /// format 2 have it), 2 binds the source and collection time too.
  std::uint32_t format = 1;
};

/// kManifestField is the field name of the row that holds a customer's manifest among their
/// values: the list of their values, authenticated under a key from their data key, that lets a
/// read tell a deleted, added or older row from a genuine one (src/vault/manifest.hpp). No policy
/// field can have the name ('#' is not allowed in one), and it sorts before every field, so the
/// range scan that reads a customer's values meets it first. To a store it is a row like any
/// other: erase_customer deletes it with the rest.
inline constexpr std::string_view kManifestField = "#manifest";

/// StoredKey is a customer's data key wrapped under master key `version`.
struct StoredKey {
  std::string customer;
  std::uint32_t version = 1;
  bytes wrapped;
};

/// PrivacySpend is one private aggregate charged against its purpose's privacy budget.
struct PrivacySpend {
  std::int64_t seq = 0;            ///< 1, 2, 3, ... assigned when appended
  std::string purpose;             ///< the purpose whose budget pays
  std::string query;               ///< what was asked: the aggregate and the field ("sum income")
  std::int64_t micro_epsilon = 0;  ///< epsilon spent, in millionths (rounded up)
  timestamp at{};
};

/// Store keeps sealed data; it never sees a key or a plaintext value. Implementations are not
/// thread-safe: one Store per thread, or external locking. Every call returns errc::io when the
/// backend fails.
class Store {
 public:
  virtual ~Store() = default;

  /// begin starts a write transaction; commit makes it durable; rollback discards it.
  /// Transactions do not nest: begin inside a transaction is errc::internal.
  virtual result<void> begin() = 0;
  virtual result<void> commit() = 0;
  virtual result<void> rollback() = 0;
  /// begin_unsynced starts a write transaction whose commit does not wait for the disk: it
  /// survives the process crashing, but a power loss can take it until the next transaction
  /// begun with begin() commits (or a checkpoint runs) and makes it durable together with
  /// everything committed before. Fails as begin().
  virtual result<void> begin_unsynced() = 0;
  /// begin_read opens a read snapshot: the calls until end_read see one committed state and
  /// share one lock, instead of one each. Only outside a transaction (errc::internal inside
  /// one); errc::io when the backend fails. end_read closes it, and does nothing without one.
  virtual result<void> begin_read() = 0;
  virtual void end_read() noexcept = 0;

  /// get_meta returns a metadata value, nullopt when absent; put_meta inserts or replaces it.
  virtual result<std::optional<bytes>> get_meta(std::string_view key) = 0;
  virtual result<void> put_meta(std::string_view key, byte_view value) = 0;

  /// get_key returns a customer's wrapped data key, nullopt when they have none.
  virtual result<std::optional<StoredKey>> get_key(std::string_view customer) = 0;
  /// put_key inserts or replaces a customer's wrapped data key.
  virtual result<void> put_key(const StoredKey& key) = 0;

  /// get_field returns one sealed value, nullopt when absent.
  virtual result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) = 0;
  /// get_fields returns all sealed values of a customer, ordered by field name.
  virtual result<std::vector<StoredField>> get_fields(std::string_view customer) = 0;
  /// get_named_fields returns the sealed values of `customer` among `fields`, in no particular
  /// order; a field without a value is left out. The default asks get_field for each name.
  virtual result<std::vector<StoredField>> get_named_fields(std::string_view customer,
                                                            std::span<const std::string_view> fields);
  /// put_field inserts or replaces one sealed value.
  virtual result<void> put_field(const StoredField& f) = 0;

  /// append_consent adds an event to the ledger and returns it with its seq assigned. The
  /// ledger is append-only: no call changes or removes an event.
  virtual result<ConsentEvent> append_consent(const ConsentEvent& e) = 0;
  /// consent_history returns a customer's events in ledger order.
  virtual result<std::vector<ConsentEvent>> consent_history(std::string_view customer) = 0;

  /// purpose_history returns every customer's events for `purpose`, ordered by customer, then
  /// by ledger order.
  virtual result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) = 0;

  /// append_contact adds a contact to the contact log and returns it with its seq assigned;
  /// contacts returns a customer's contacts in log order.
  virtual result<ContactEvent> append_contact(const ContactEvent& e) = 0;
  virtual result<std::vector<ContactEvent>> contacts(std::string_view customer) = 0;
  /// append_contact_preference adds a customer's contact preference and returns it with its seq
  /// assigned; contact_preferences returns a customer's preferences in log order.
  virtual result<ContactPreference> append_contact_preference(const ContactPreference& p) = 0;
  virtual result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) = 0;

  /// append_privacy_spend charges a private aggregate against its purpose's privacy budget and
  /// returns the charge with its seq assigned; privacy_spent sums the charges to `purpose` (in
  /// millionths of epsilon). The charges are append-only.
  virtual result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) = 0;
  virtual result<std::int64_t> privacy_spent(std::string_view purpose) = 0;

  /// PurposePosition is where one customer stands on one purpose, reduced to what decides it:
  /// the action and expiry of their last event on the purpose (no action when they have none).
  struct PurposePosition {
    std::string_view customer;  ///< valid only during the visit
    std::optional<ConsentAction> action;
    std::optional<timestamp> expires_at;
  };
  /// scan_purpose_positions calls `visit`, in customer order, with the position on `purpose` of
  /// every customer with a data key, until `visit` returns false; customers without a data key
  /// are never visited, whatever their events. With `only_with_events` it visits only those
  /// with at least one event on the purpose. Returns errc::integrity for a stored event with an
  /// unknown action (visits may have been made before it). The default implementation builds
  /// on customers() and purpose_history(); the library's stores read only the columns needed.
  virtual result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                              const std::function<bool(const PurposePosition&)>& visit);

  /// FieldTime is one stored value's customer and collection time (no value).
  struct FieldTime {
    std::string customer;
    timestamp collected_at{};
  };
  /// fields_collected_before returns up to `limit` values of `field` collected at or before
  /// `before`, of customers sorted after `after` ("" = from the first), by customer. Purging
  /// walks the expired values in such batches.
  virtual result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                                 std::string_view after,
                                                                 std::size_t limit) = 0;
  /// delete_field removes one stored value; nothing when there is none.
  virtual result<void> delete_field(std::string_view customer, std::string_view field) = 0;

  /// field_counts returns, for every field name with at least one stored value, how many
  /// customers hold a value for it, by field name; manifests (kManifestField) are not values.
  /// The default implementation reads every customer's fields; the SQLite store counts in one
  /// query.
  virtual result<std::vector<std::pair<std::string, std::int64_t>>> field_counts();

  /// data_keys_after returns up to `limit` wrapped data keys of customers sorted after `after`
  /// ("" = from the first), by customer. Key rotation walks the keys in such batches.
  virtual result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) = 0;
  /// data_key_versions counts the wrapped data keys under each master key version.
  virtual result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() = 0;
  /// delete_meta removes a metadata row (nothing when absent).
  virtual result<void> delete_meta(std::string_view key) = 0;

  /// erase_customer deletes the customer's data key, every value, every consent event, contact
  /// and contact preference, and
  /// records `tag` (a keyed pseudonym of the id, never the id) as erased. The ledger's
  /// append-only rule yields here and only here: erasure is the customer's right.
  virtual result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) = 0;
  /// erased_at returns when the customer with pseudonym `tag` was erased, nullopt if never.
  virtual result<std::optional<timestamp>> erased_at(std::string_view tag) = 0;
  /// compact moves committed pages into the main file and empties the WAL and the free pages,
  /// so deleted bytes leave every file of the store. Outside a transaction only.
  virtual result<void> compact() = 0;
  /// backup_to writes a consistent copy of the whole store, taken online, to a new file;
  /// errc::already_exists if it exists. The memory store answers errc::invalid_argument.
  virtual result<void> backup_to(const std::filesystem::path& file) = 0;

  /// customers lists, sorted, every customer with a data key.
  virtual result<std::vector<std::string>> customers() = 0;
  /// knows is true when the customer has a data key or any consent event.
  virtual result<bool> knows(std::string_view customer) = 0;

  /// AuditHead is the last entry of the audit log.
  struct AuditHead {
    std::int64_t seq = 0;
    bytes hash;
  };
  /// audit_head returns the last audit entry's seq and hash; nullopt for an empty log.
  virtual result<std::optional<AuditHead>> audit_head() = 0;
  /// append_audit adds entries whose seq continue the log. Like the ledger, the log is
  /// append-only: no call changes or removes an entry.
  virtual result<void> append_audit(const std::vector<StoredAuditEntry>& entries) = 0;
  /// scan_audit calls `visit` for every entry with seq >= `from`, in seq order, until `visit`
  /// returns false.
  virtual result<void> scan_audit(std::int64_t from,
                                  const std::function<bool(const StoredAuditEntry&)>& visit) = 0;
  /// scan_audit_views is scan_audit without copying the entries: each view borrows the store's
  /// own memory and is valid only until `visit` returns, or until `visit` changes the store.
  /// Fails as scan_audit. The default views the entries scan_audit passes, which copies nothing
  /// where scan_audit hands out the store's own entries (the memory store); the SQLite store
  /// views the columns of each row in place.
  virtual result<void> scan_audit_views(std::int64_t from,
                                        const std::function<bool(const StoredAuditView&)>& visit) {
    return scan_audit(from, [&](const StoredAuditEntry& e) {
      return visit(StoredAuditView{e.seq, e.at, e.customer, e.encoded, e.hash});
    });
  }
  /// audit_for_customer returns the entries naming the customer pseudonym, in seq order; none
  /// for an empty pseudonym (entries that name no customer belong to no one).
  virtual result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) = 0;
  /// put_checkpoint stores a checkpoint; one already stored for the same seq is kept.
  virtual result<void> put_checkpoint(const AuditCheckpoint& cp) = 0;
  /// checkpoints returns every stored checkpoint, by seq.
  virtual result<std::vector<AuditCheckpoint>> checkpoints() = 0;
};

/// Transaction begins on Transaction::start and rolls back on destruction unless committed.
class Transaction {
 public:
  /// start begins a transaction on `store`; the store must outlive the Transaction.
  static result<Transaction> start(Store& store);
  /// start_unsynced begins one whose commit does not wait for the disk (Store::begin_unsynced).
  static result<Transaction> start_unsynced(Store& store) {
    CONSENTRY_TRY(store.begin_unsynced());
    return Transaction(store);
  }
  Transaction(Transaction&& o) noexcept : store_(o.store_) { o.store_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  ~Transaction() {
    if (store_) (void)store_->rollback();
  }
  /// commit makes the transaction durable; after it the destructor does nothing.
  result<void> commit() {
    Store* s = store_;
    store_ = nullptr;
    return s ? s->commit() : make_error(errc::internal, "transaction already finished");
  }

 private:
  explicit Transaction(Store& s) : store_(&s) {}
  Store* store_;
};

/// ReadSnapshot holds a Store::begin_read snapshot until it is destroyed.
class ReadSnapshot {
 public:
  /// open begins a read snapshot on `store`, which must outlive the ReadSnapshot.
  static result<ReadSnapshot> open(Store& store) {
    CONSENTRY_TRY(store.begin_read());
    return ReadSnapshot(store);
  }
  ReadSnapshot(ReadSnapshot&& o) noexcept : store_(o.store_) { o.store_ = nullptr; }
  ReadSnapshot& operator=(ReadSnapshot&&) = delete;
  ReadSnapshot(const ReadSnapshot&) = delete;
  ~ReadSnapshot() {
    if (store_) store_->end_read();
  }

 private:
  explicit ReadSnapshot(Store& s) : store_(&s) {}
  Store* store_;
};

inline result<Transaction> Transaction::start(Store& store) {
  CONSENTRY_TRY(store.begin());
  return Transaction(store);
}

/// StoreMode says whether opening a store may create it.
enum class StoreMode { create, open };

/// open_sqlite_store opens an SQLite vault file (WAL, secure_delete=ON, foreign keys, prepared
/// statements). StoreMode::create refuses an existing file (errc::already_exists);
/// StoreMode::open refuses a missing one (errc::not_found) and a file that is not a vault
/// (errc::bad_input).
result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, StoreMode mode);

/// make_memory_store makes an empty in-memory store (for tests); transactions roll back for real.
std::unique_ptr<Store> make_memory_store();

}  // namespace consentry
