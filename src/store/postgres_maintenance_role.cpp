// postgres_maintenance_role.cpp: the maintenance role of the PostgreSQL store: erasure, purges, key rotation walks, counts, compaction, backups
// (docs/postgresql.md).
#include "store/postgres_store.hpp"

namespace consentry::detail {

result<void> PostgresStore::erase_customer(std::string_view customer, std::string_view tag, timestamp at) {
  return make_error(errc::internal, "erase_customer: not implemented yet on PostgreSQL");
}

result<std::optional<timestamp>> PostgresStore::erased_at(std::string_view tag) {
  return make_error(errc::internal, "erased_at: not implemented yet on PostgreSQL");
}

result<std::vector<MaintenanceStore::FieldTime>> PostgresStore::fields_collected_before(std::string_view field, timestamp before, std::string_view after, std::size_t limit) {
  return make_error(errc::internal, "fields_collected_before: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::delete_field(std::string_view customer, std::string_view field) {
  return make_error(errc::internal, "delete_field: not implemented yet on PostgreSQL");
}

result<std::vector<StoredKey>> PostgresStore::data_keys_after(std::string_view after, std::size_t limit) {
  return make_error(errc::internal, "data_keys_after: not implemented yet on PostgreSQL");
}

result<std::vector<std::pair<std::uint32_t, std::int64_t>>> PostgresStore::data_key_versions() {
  return make_error(errc::internal, "data_key_versions: not implemented yet on PostgreSQL");
}

result<std::vector<std::pair<std::string, std::int64_t>>> PostgresStore::field_counts() {
  return make_error(errc::internal, "field_counts: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::compact() {
  return make_error(errc::internal, "compact: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::backup_to(const std::filesystem::path& file) {
  return make_error(errc::internal, "backup_to: not implemented yet on PostgreSQL");
}

}  // namespace consentry::detail
