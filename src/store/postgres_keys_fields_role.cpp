// postgres_keys_fields_role.cpp: the keys-and-fields role of the PostgreSQL store: metadata, wrapped data keys and sealed values
// (docs/postgresql.md).
#include "store/postgres_store.hpp"

namespace consentry::detail {

result<std::optional<bytes>> PostgresStore::get_meta(std::string_view key) {
  return make_error(errc::internal, "get_meta: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::put_meta(std::string_view key, byte_view value) {
  return make_error(errc::internal, "put_meta: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::delete_meta(std::string_view key) {
  return make_error(errc::internal, "delete_meta: not implemented yet on PostgreSQL");
}

result<std::optional<StoredKey>> PostgresStore::get_key(std::string_view customer) {
  return make_error(errc::internal, "get_key: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::put_key(const StoredKey& key) {
  return make_error(errc::internal, "put_key: not implemented yet on PostgreSQL");
}

result<std::optional<StoredField>> PostgresStore::get_field(std::string_view customer, std::string_view field) {
  return make_error(errc::internal, "get_field: not implemented yet on PostgreSQL");
}

result<std::vector<StoredField>> PostgresStore::get_fields(std::string_view customer) {
  return make_error(errc::internal, "get_fields: not implemented yet on PostgreSQL");
}

result<std::vector<StoredField>> PostgresStore::get_named_fields(std::string_view customer, std::span<const std::string_view> fields) {
  return make_error(errc::internal, "get_named_fields: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::put_field(const StoredField& f) {
  return make_error(errc::internal, "put_field: not implemented yet on PostgreSQL");
}

result<std::vector<std::string>> PostgresStore::customers() {
  return make_error(errc::internal, "customers: not implemented yet on PostgreSQL");
}

result<bool> PostgresStore::knows(std::string_view customer) {
  return make_error(errc::internal, "knows: not implemented yet on PostgreSQL");
}

}  // namespace consentry::detail
