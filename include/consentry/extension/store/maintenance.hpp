// extension/store/maintenance.hpp: the maintenance role of a store: erasure, retention purges, master key
// rotation's walk over the data keys, the inventory's counts, compaction and backups.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// MaintenanceStore holds the calls that walk or rewrite the whole store rather than serve one
/// read or write. Every call returns errc::io when the backend fails.
class MaintenanceStore {
 public:
  virtual ~MaintenanceStore() = default;

  /// erase_customer deletes the customer's data key, every value and blind index entry, every
  /// consent event, contact and contact preference, and records `tag` (a keyed pseudonym of the id, never the
  /// id) as erased, all or nothing. The ledger's append-only rule yields here and only here: erasure is the
  /// customer's right.
  virtual result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) = 0;
  /// erased_at returns when the customer with pseudonym `tag` was erased, nullopt if never.
  virtual result<std::optional<timestamp>> erased_at(std::string_view tag) = 0;
  /// erased_among returns those of `tags` that were erased, in no particular order, each once.
  /// The default asks erased_at for each; a store whose every request is a round trip to a
  /// server answers in one. Fails as erased_at.
  virtual result<std::vector<std::string>> erased_among(std::span<const std::string_view> tags);

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
  /// delete_field removes one stored value and its blind index entry; nothing when there is none.
  /// Purges use it.
  virtual result<void> delete_field(std::string_view customer, std::string_view field) = 0;

  /// data_keys_after returns up to `limit` wrapped data keys of customers sorted after `after`
  /// ("" = from the first), by customer. Key rotation walks the keys in such batches.
  /// errc::integrity for a row with an invalid version.
  virtual result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) = 0;
  /// data_key_versions counts the wrapped data keys under each master key version.
  virtual result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() = 0;
  /// field_counts returns, for every field name with at least one stored value, how many
  /// customers hold a value for it, by field name; manifests (kManifestField) are not values.
  /// Store gives a default that reads every customer's fields; the SQLite store counts in one
  /// query.
  virtual result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() = 0;

  /// compact makes deleted rows unreadable: SQLite moves committed pages into the main file and
  /// empties the WAL and the free pages, so deleted bytes leave every file of the store;
  /// PostgreSQL vacuums the customer tables, so deleted rows leave them as dead tuples
  /// (errc::io when another session's snapshot keeps them; docs/postgresql.md). Outside a
  /// transaction only (errc::internal).
  virtual result<void> compact() = 0;
  /// backup_to writes a consistent copy of the whole store, taken online, to a new file;
  /// errc::already_exists if it exists. The memory store answers errc::invalid_argument.
  virtual result<void> backup_to(const std::filesystem::path& file) = 0;
};

}  // namespace consentry
