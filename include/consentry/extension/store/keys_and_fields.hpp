// extension/store/keys_and_fields.hpp: the keys-and-fields role of a store: the vault's metadata,
// customers' wrapped data keys and their sealed values.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// KeyFieldStore keeps metadata, wrapped data keys and sealed values; it never sees a key or a
/// plaintext value. Every call returns errc::io when the backend fails, and errc::integrity for
/// a stored row it cannot read back (a damaged file).
class KeyFieldStore {
 public:
  virtual ~KeyFieldStore() = default;

  /// get_meta returns a metadata value, nullopt when absent; put_meta inserts or replaces it.
  virtual result<std::optional<bytes>> get_meta(std::string_view key) = 0;
  virtual result<void> put_meta(std::string_view key, byte_view value) = 0;
  /// delete_meta removes a metadata row (nothing when absent).
  virtual result<void> delete_meta(std::string_view key) = 0;

  /// get_key returns a customer's wrapped data key, nullopt when they have none.
  virtual result<std::optional<StoredKey>> get_key(std::string_view customer) = 0;
  /// put_key inserts or replaces a customer's wrapped data key.
  virtual result<void> put_key(const StoredKey& key) = 0;
  /// put_new_key is put_key for a customer the caller knows has no data key: it asked the store
  /// inside the write transaction it writes in. A store may then insert without looking for a
  /// row to replace; the default is put_key. Fails as put_key, and with errc::io when the
  /// customer has a data key after all and the store refuses the duplicate.
  virtual result<void> put_new_key(const StoredKey& key) { return put_key(key); }

  /// with_data_keys returns those of `customers` that have a data key, in no particular order,
  /// each once. The default asks get_key for each; a store whose every request is a round trip
  /// to a server answers in one. Fails as get_key.
  virtual result<std::vector<std::string>> with_data_keys(std::span<const std::string_view> customers);

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
  /// put_new_field is put_field for a value the caller knows has no row: its customer got a first
  /// data key by put_new_key in the same transaction, and no value of that name was put since.
  /// The default is put_field. Fails as put_field, and with errc::io when the row exists after
  /// all and the store refuses the duplicate.
  virtual result<void> put_new_field(const StoredField& f) { return put_field(f); }

  /// put_lookup inserts or replaces the blind index entry of (customer, field).
  virtual result<void> put_lookup(const StoredLookup& entry) = 0;
  /// delete_lookup removes the blind index entry of (customer, field); nothing when there is none.
  /// delete_field and erase_customer (maintenance role) remove entries with their values too.
  virtual result<void> delete_lookup(std::string_view customer, std::string_view field) = 0;
  /// find_lookup returns, sorted and each once, the customers whose entry for `field` was made
  /// under master key version `key_version` and holds `index`.
  virtual result<std::vector<std::string>> find_lookup(std::string_view field, std::uint32_t key_version,
                                                       std::int64_t index) = 0;
  /// get_lookups returns every blind index entry of `customer`, ordered by field.
  virtual result<std::vector<StoredLookup>> get_lookups(std::string_view customer) = 0;

  /// customers lists, sorted, every customer with a data key.
  virtual result<std::vector<std::string>> customers() = 0;
  /// knows is true when the customer has a data key or any consent event (a backend that
  /// implements this role apart from the ledger must look there too).
  virtual result<bool> knows(std::string_view customer) = 0;
};

}  // namespace consentry
