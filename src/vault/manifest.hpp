// manifest.hpp: a customer's manifest, the authenticated list of their stored values, and the
// one-time re-sealing of vaults written before values' metadata was bound (private to the vault).
//
// What binds what (docs/threat-model.md has the table):
// - A value sealed in format 2 binds customer, field, source and collection time in its
//   associated data (keyring.hpp): a changed source or collected_at fails to open.
// - A customer's manifest lists each of their values by field, with the value_digest of its row
//   (format, source, collected_at, sealed bytes), and is tagged under a key derived from their
//   data key. A read, export, aggregate or purge checks the rows it uses against it, so a deleted
//   row, an added one, an older one put back, or a changed collected_at is an integrity failure
//   even where nothing is decrypted (purge) and even for format-1 values.
// - Every data key wrapped since manifests exist says so in its associated data
//   (DataKeyFormat::listed), so a customer without a manifest is tampering, never mistaken for a
//   customer of an older vault.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "crypto/keyring.hpp"

namespace consentry {

/// Manifest is the list of one customer's stored values: field name and value_digest, by field.
class Manifest {
 public:
  /// kFormat is the first byte of an encoded manifest.
  static constexpr std::uint8_t kFormat = 1;

  /// open authenticates the manifest row `row` of `customer` under their data key `dek` and
  /// decodes it. errc::integrity when there is no row, the tag does not match, or the body does
  /// not decode; the message names no value.
  static result<Manifest> open(const SecretBytes& dek, std::string_view customer,
                               const std::optional<StoredField>& row);
  /// seal encodes and tags the manifest under `dek`: the row to store for `customer`.
  StoredField seal(const SecretBytes& dek, const std::string& customer) const;

  /// Digest is a value's value_digest, as the manifest lists it.
  using Digest = std::array<std::uint8_t, kValueDigestBytes>;

  /// note lists `value` as the current value of its field.
  void note(const StoredField& value);
  /// note lists the value whose value_digest is `digest` as the current value of `field`.
  void note(const std::string& field, const Digest& digest);
  /// drop removes `field` from the list; false when it was not listed.
  bool drop(std::string_view field);
  /// check is ok when `value` (nullptr for none) is what the manifest lists for `field`: both
  /// absent, or a row with the listed digest. errc::integrity naming the field otherwise.
  result<void> check(std::string_view field, const StoredField* value) const;
  /// check_all checks every row of `values` (all the customer's values, without the manifest)
  /// and that every listed field is among them. errc::integrity naming the first field that
  /// differs.
  result<void> check_all(const std::vector<StoredField>& values) const;

 private:
  struct Entry {
    std::string field;
    Digest digest;
  };
  const Entry* find(std::string_view field) const;
  std::vector<Entry> entries_;  ///< sorted by field
};

/// VouchedRows is what a customer's manifest vouched for under one data key: the manifest row's
/// sealed bytes, authenticated, what they decode to, and rows checked against it and found to be
/// what it lists. A later read that finds the same manifest bytes under the same key takes the
/// manifest from here, and a row equal to one here needs no digest computed again: the tag and
/// the digests depend only on the bytes compared. Never changed once shared.
struct VouchedRows {
  bytes manifest_row;             ///< the manifest row's sealed bytes
  Manifest manifest;              ///< what they decode to
  std::vector<StoredField> rows;  ///< rows found to be what `manifest` lists
  /// holds is true when `row` equals, in every column value_digest reads, a row here of its field.
  bool holds(const StoredField& row) const;
};

/// kMaxVouchedRows bounds VouchedRows::rows: a customer's rows read most recently.
inline constexpr std::size_t kMaxVouchedRows = 16;

/// take_manifest removes the manifest row (kManifestField) from `rows` and returns it; nullopt
/// when there is none.
std::optional<StoredField> take_manifest(std::vector<StoredField>& rows);

/// vouching_manifest opens what vouches for the rows read for `customer`: `row` is their manifest
/// row as read (nullopt when there was none), `key` their data key (nullptr when they have none),
/// `holds_values` whether any value row was read. With a key, the manifest must be there and
/// authentic (errc::integrity otherwise). Without one, nothing was ever written for the customer:
/// nullopt, nothing listed, unless a value or manifest row was read anyway (errc::integrity: stored
/// without a data key).
result<std::optional<Manifest>> vouching_manifest(const SecretBytes* key, std::string_view customer,
                                                  const std::optional<StoredField>& row, bool holds_values);

/// RowVoucher checks the rows one read of a customer found against what vouches for them: their
/// manifest, taken from `before` (what an earlier read under the same data key vouched for,
/// VouchedRows) when its manifest bytes are those read now, else authenticated here as
/// vouching_manifest does. A row `before` holds needs no digest. kept() then gives what to keep for
/// the customer's next read. Lives where it is built (it points into itself).
class RowVoucher {
 public:
  /// `key` is the customer's data key (nullptr: none), `manifest_row` their manifest row as read
  /// (take_manifest), `holds_values` whether any value row was read, `before` what an earlier
  /// read kept under this very key (nullptr: nothing). A manifest that is missing or fails
  /// authentication is not an error here: every check() returns it.
  RowVoucher(const SecretBytes* key, std::string_view customer, std::optional<StoredField> manifest_row,
             bool holds_values, std::shared_ptr<const VouchedRows> before);
  RowVoucher(const RowVoucher&) = delete;
  RowVoucher& operator=(const RowVoucher&) = delete;

  /// check is ok when `row` (nullptr: absent) is what the manifest lists for `field`, or when
  /// nothing was ever stored for the customer; errc::integrity when it is not, or the manifest's
  /// own failure. A row found listed is noted for kept(), by address: it must outlive this object.
  result<void> check(std::string_view field, const StoredField* row);
  /// kept returns what this read vouched for, to keep for the next: the manifest and the rows
  /// found listed here, then those of `before`, at most kMaxVouchedRows. nullptr when nothing is
  /// listed, or `before` already holds it all. Called once, after the last check(): a check()
  /// after it returns errc::internal.
  std::shared_ptr<const VouchedRows> kept();

 private:
  std::optional<error> unvouched_;             // why no row can be vouched for
  const Manifest* listed_ = nullptr;           // without an error, nullptr: nothing was ever stored
  std::optional<Manifest> opened_;             // authenticated and decoded here
  std::optional<StoredField> manifest_row_;    // as read
  std::shared_ptr<const VouchedRows> before_;  // when its manifest bytes are manifest_row_'s
  std::vector<const StoredField*> newly_vouched_;
};

/// manifest_failed is the errc::integrity error of a customer's manifest that is missing or
/// fails authentication; it names no customer and no value.
error manifest_failed();

/// ManifestEdits holds the manifests one write transaction changes, one per customer, so that a
/// customer written several times in it is read and authenticated once. Keys are passed on each
/// call, never kept: a data key reference lasts only until the next key is cached.
class ManifestEdits {
 public:
  explicit ManifestEdits(Store& store) : store_(store) {}
  /// open returns the manifest of `customer` to change: empty for a customer whose data key this
  /// transaction made (`new_key`), else read from the store and authenticated under `dek`.
  /// errc::integrity when it is missing or fails authentication: writing over it would vouch for
  /// whatever was done to the rows. The pointer lasts as long as this object.
  result<Manifest*> open(const std::string& customer, const SecretBytes& dek, bool new_key);
  /// store seals `customer`'s manifest (opened before) under `dek` and writes its row, by
  /// put_new_field when `first_write` (the customer's first record in a transaction that gave them
  /// their data key: the row does not exist), else by put_field. Fails as the store.
  result<void> store(const std::string& customer, const SecretBytes& dek, bool first_write);

 private:
  Store& store_;
  std::unordered_map<std::string, Manifest> open_;
};

/// unlist_values takes `fields`, whose rows the caller has just deleted inside its transaction,
/// off `customer`'s manifest; `dek` is what Vault::Impl::data_key gave for the customer. A
/// customer without a data key has nothing listed. When the data key does not open
/// (errc::integrity) or the manifest is missing or fails authentication, the manifest is left as
/// it is: the deletion stands (it only removes data the customer no longer agrees to be held),
/// and reads keep failing on the tampering instead of having it vouched for. Fails with the
/// store's error, or `dek`'s when it is not errc::integrity.
result<void> unlist_values(Store& store, const result<const SecretBytes*>& dek, const std::string& customer,
                           const std::vector<std::string>& fields);

/// kMetaValuesListed is the meta row that says every customer's values are sealed in format 2 and
/// listed in a manifest. It only spares later opens the walk over every customer: a customer
/// whose data key is DataKeyFormat::listed is never re-sealed, whatever the row says.
inline constexpr std::string_view kMetaValuesListed = "values.listed";

/// mark_values_listed writes kMetaValuesListed, for a new vault (inside its creation transaction).
result<void> mark_values_listed(Store& store);

/// list_values brings a vault written before format 2 up to date, once, when it opens: for every
/// customer whose data key is DataKeyFormat::unlisted, in transactions of a few hundred
/// customers, it re-seals each format-1 value in format 2 under the source and collection time
/// the row holds then, writes a manifest of the values, and wraps the data key again as
/// DataKeyFormat::listed under the same master key version. A customer is left as is when their
/// data key does not open (a retired version: they cannot be read anyway), or when a manifest or
/// a format-2 value sits beside an unlisted key (an older key put back, not an older vault: reads
/// keep failing). Then it writes kMetaValuesListed. Does nothing when that row is there. Fails
/// with the store's error; what committed before stays.
result<void> list_values(Store& store, const Keyring& keyring);

}  // namespace consentry
