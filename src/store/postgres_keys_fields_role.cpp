// postgres_keys_fields_role.cpp: the keys-and-fields role of the PostgreSQL store: metadata,
// wrapped data keys and sealed values (docs/postgresql.md). The columns mean what the SQLite
// store's do (sqlite_store.cpp): times are Unix seconds, `format` is the sealing format.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>

#include "store/postgres_store.hpp"

namespace consentry::detail {
namespace {

constexpr std::string_view kGetMeta = "SELECT value FROM @S.meta WHERE key = $1";
constexpr std::string_view kPutMeta =
    "INSERT INTO @S.meta(key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value";
constexpr std::string_view kDeleteMeta = "DELETE FROM @S.meta WHERE key = $1";
constexpr std::string_view kGetKey = "SELECT version, wrapped FROM @S.data_keys WHERE customer = $1";
// put_key, put_field and put_lookup are queued inside a write transaction and sent in batches (PendingWrites,
// postgres_store.hpp): each column is an array parameter, unnest turns them back into rows.
// put_new_key and put_new_field rows go in by the same INSERT without its ON CONFLICT clause.
constexpr std::string_view kInsertKeys =
    "INSERT INTO @S.data_keys(customer, version, wrapped) "
    "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])";
constexpr std::string_view kPutKeys =
    "INSERT INTO @S.data_keys(customer, version, wrapped) "
    "SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[]) "
    "ON CONFLICT (customer) DO UPDATE SET version = excluded.version, wrapped = excluded.wrapped";
// One round trip for many customers; `= ANY` matches a row once however often it is listed.
constexpr std::string_view kWithDataKeys =
    "SELECT customer FROM @S.data_keys WHERE customer = ANY($1::text[])";
constexpr std::string_view kGetField =
    "SELECT sealed, source, collected_at, format FROM @S.fields WHERE customer = $1 AND field = $2";
constexpr std::string_view kGetFields =
    "SELECT field, sealed, source, collected_at, format FROM @S.fields WHERE customer = $1 ORDER BY field";
// One round trip for any number of names; `= ANY` matches a row once however often its name is
// listed.
constexpr std::string_view kGetNamedFields =
    "SELECT field, sealed, source, collected_at, format FROM @S.fields "
    "WHERE customer = $1 AND field = ANY($2::text[])";
constexpr std::string_view kInsertFields =
    "INSERT INTO @S.fields(customer, field, sealed, source, collected_at, format) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[], $6::bigint[])";
constexpr std::string_view kPutFields =
    "INSERT INTO @S.fields(customer, field, sealed, source, collected_at, format) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::text[], $5::bigint[], $6::bigint[]) "
    "ON CONFLICT (customer, field) DO UPDATE SET sealed = excluded.sealed, source = excluded.source, "
    "collected_at = excluded.collected_at, format = excluded.format";
constexpr std::string_view kPutLookups =
    "INSERT INTO @S.lookups(customer, field, key_version, value) "
    "SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) "
    "ON CONFLICT (customer, field) DO UPDATE SET key_version = excluded.key_version, value = excluded.value";
constexpr std::string_view kDeleteLookup = "DELETE FROM @S.lookups WHERE customer = $1 AND field = $2";
constexpr std::string_view kFindLookup =
    "SELECT customer FROM @S.lookups WHERE field = $1 AND value = $2::bigint AND key_version = $3::bigint "
    "ORDER BY customer";
constexpr std::string_view kGetLookups =
    "SELECT field, key_version, value FROM @S.lookups WHERE customer = $1 ORDER BY field";
constexpr std::string_view kCustomers = "SELECT customer FROM @S.data_keys ORDER BY customer COLLATE \"C\"";
constexpr std::string_view kKnows =
    "SELECT EXISTS (SELECT 1 FROM @S.data_keys WHERE customer = $1) "
    "OR EXISTS (SELECT 1 FROM @S.consent_events WHERE customer = $1)";

// text_array is the text[] literal of `items` ({"a","b"}): every element double-quoted, with `"`
// and `\` escaped, so that no name (commas, braces, spaces, "NULL") is read as anything else.
std::string text_array(std::span<const std::string_view> items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += ',';
    out += '"';
    for (const char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

result<std::uint32_t> pg_unsigned(const PGresult* r, int row, int column, std::string_view operation,
                                  std::string_view what) {
  auto v = pg_int(r, row, column);
  if (!v) return std::move(v).err();
  if (PQgetisnull(r, row, column) || *v < 0 || *v > static_cast<std::int64_t>(UINT32_MAX))
    return make_error(errc::integrity, std::string(operation) + ": " + std::string(what));
  return static_cast<std::uint32_t>(*v);
}

result<StoredField> pg_field(const PGresult* r, int row, int first, std::string customer, std::string field,
                             std::string_view operation) {
  auto format = pg_unsigned(r, row, first + 3, operation, "fields row has an invalid format");
  if (!format) return std::move(format).err();
  auto collected = pg_int(r, row, first + 2);
  if (!collected) return std::move(collected).err();
  return StoredField{std::move(customer),          std::move(field),
                     pg_bytes_copy(r, row, first), std::string(pg_text(r, row, first + 1)),
                     pg_time(*collected),          *format};
}

result<std::optional<bytes>> PostgresStore::get_meta(std::string_view key) {
  auto r = exec(kGetMeta, PgParams{}.text(key), "get_meta");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<bytes>();
  return std::optional<bytes>(pg_bytes_copy(r->get(), 0, 0));
}

result<void> PostgresStore::put_meta(std::string_view key, byte_view value) {
  return write("put_meta", [&]() -> result<void> {
    auto r = exec(kPutMeta, PgParams{}.text(key).binary(value), "put_meta");
    if (!r) return std::move(r).err();
    return ok();
  });
}

result<void> PostgresStore::delete_meta(std::string_view key) {
  return write("delete_meta", [&]() -> result<void> {
    auto r = exec(kDeleteMeta, PgParams{}.text(key), "delete_meta");
    if (!r) return std::move(r).err();
    return ok();
  });
}

result<std::optional<StoredKey>> PostgresStore::get_key(std::string_view customer) {
  auto r = exec(kGetKey, PgParams{}.text(customer), "get_key");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<StoredKey>();
  auto version = pg_unsigned(r->get(), 0, 0, "get_key", "data_keys row has an invalid version");
  if (!version) return std::move(version).err();
  return std::optional<StoredKey>(StoredKey{std::string(customer), *version, pg_bytes_copy(r->get(), 0, 1)});
}

result<void> PostgresStore::put_key(const StoredKey& key) {
  // Refused here, before anything is queued: sent, it would abort the caller's transaction.
  if (!pg_is_text(key.customer))
    return make_error(errc::invalid_argument, "put_key: the customer id is not text");
  return queue("put_key", [&]() -> result<void> {
    if (pending_.key_customers.count(key.customer) != 0) CONSENTRY_TRY(send_pending());
    pending_.keys.push_back(key);
    pending_.key_customers.insert(key.customer);
    return ok();
  });
}

result<void> PostgresStore::put_new_key(const StoredKey& key) {
  if (!pg_is_text(key.customer))
    return make_error(errc::invalid_argument, "put_key: the customer id is not text");
  // Not looked for among the queued puts: by contract there is none of this customer before it.
  return queue("put_key", [&]() -> result<void> {
    pending_.new_keys.push_back(key);
    return ok();
  });
}

result<void> PostgresStore::queue(std::string_view operation, const std::function<result<void>()>& enqueue) {
  return write(operation, [&]() -> result<void> {
    CONSENTRY_TRY(enqueue());
    // Outside the caller's transaction, write() commits it (and commit sends the queue) now.
    if (pending_.size() >= kMaxPendingWrites) return send_pending();
    return ok();
  });
}

result<std::vector<std::string>> PostgresStore::with_data_keys(std::span<const std::string_view> customers) {
  return texts_among(kWithDataKeys, customers, "with_data_keys");
}

result<std::optional<StoredField>> PostgresStore::get_field(std::string_view customer,
                                                            std::string_view field) {
  auto r = exec(kGetField, PgParams{}.text(customer).text(field), "get_field");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<StoredField>();
  auto f = pg_field(r->get(), 0, 0, std::string(customer), std::string(field), "get_field");
  if (!f) return std::move(f).err();
  return std::optional<StoredField>(std::move(*f));
}

result<std::vector<StoredField>> PostgresStore::get_fields(std::string_view customer) {
  auto r = exec(kGetFields, PgParams{}.text(customer), "get_fields");
  if (!r) return std::move(r).err();
  std::vector<StoredField> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto f =
        pg_field(r->get(), i, 1, std::string(customer), std::string(pg_text(r->get(), i, 0)), "get_fields");
    if (!f) return std::move(f).err();
    out.push_back(std::move(*f));
  }
  return out;
}

result<std::vector<StoredField>> PostgresStore::get_named_fields(std::string_view customer,
                                                                 std::span<const std::string_view> fields) {
  if (fields.empty()) return std::vector<StoredField>{};
  auto r = exec(kGetNamedFields, PgParams{}.text(customer).text(text_array(fields)), "get_named_fields");
  if (!r) return std::move(r).err();
  std::vector<StoredField> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto f = pg_field(r->get(), i, 1, std::string(customer), std::string(pg_text(r->get(), i, 0)),
                      "get_named_fields");
    if (!f) return std::move(f).err();
    out.push_back(std::move(*f));
  }
  return out;
}

result<void> PostgresStore::put_field(const StoredField& f) {
  if (!pg_is_text(f.customer) || !pg_is_text(f.field) || !pg_is_text(f.source))
    return make_error(errc::invalid_argument, "put_field: a customer id, field name or source is not text");
  return queue("put_field", [&]() -> result<void> {
    std::string name = f.customer + '\0' + f.field;
    if (pending_.field_names.count(name) != 0) CONSENTRY_TRY(send_pending());
    pending_.fields.push_back(f);
    pending_.field_names.insert(std::move(name));
    return ok();
  });
}

result<void> PostgresStore::put_new_field(const StoredField& f) {
  if (!pg_is_text(f.customer) || !pg_is_text(f.field) || !pg_is_text(f.source))
    return make_error(errc::invalid_argument, "put_field: a customer id, field name or source is not text");
  // Not looked for among the queued puts: by contract there is none of this row before it. A put
  // of the same row after it is an upsert, which send_pending sends after the INSERT.
  return queue("put_field", [&]() -> result<void> {
    pending_.new_fields.push_back(f);
    return ok();
  });
}

namespace {

// key_params and field_params are `rows` as the array parameters of kInsertKeys or kPutKeys,
// kInsertFields or kPutFields; lookup_params those of kPutLookups. `arrays` holds what the
// parameters borrow.
PgParams key_params(const std::vector<StoredKey>& rows, std::deque<PgArray>& arrays) {
  PgArray& customers = arrays.emplace_back(kPgText, rows.size());
  PgArray& versions = arrays.emplace_back(kPgInt8, rows.size());
  PgArray& wrapped = arrays.emplace_back(kPgBytea, rows.size());
  for (const StoredKey& k : rows) {
    customers.add(k.customer);
    versions.add_int8(k.version);
    wrapped.add(k.wrapped);
  }
  return std::move(PgParams{}.binary(customers.view()).binary(versions.view()).binary(wrapped.view()));
}

PgParams field_params(const std::vector<StoredField>& rows, std::deque<PgArray>& arrays) {
  const std::size_t n = rows.size();
  PgArray& customers = arrays.emplace_back(kPgText, n);
  PgArray& fields = arrays.emplace_back(kPgText, n);
  PgArray& sealed = arrays.emplace_back(kPgBytea, n);
  PgArray& sources = arrays.emplace_back(kPgText, n);
  PgArray& collected = arrays.emplace_back(kPgInt8, n);
  PgArray& formats = arrays.emplace_back(kPgInt8, n);
  for (const StoredField& f : rows) {
    customers.add(f.customer);
    fields.add(f.field);
    sealed.add(f.sealed);
    sources.add(f.source);
    collected.add_int8(pg_seconds(f.collected_at));
    formats.add_int8(f.format);
  }
  return std::move(PgParams{}
                       .binary(customers.view())
                       .binary(fields.view())
                       .binary(sealed.view())
                       .binary(sources.view())
                       .binary(collected.view())
                       .binary(formats.view()));
}

PgParams lookup_params(const std::vector<StoredLookup>& rows, std::deque<PgArray>& arrays) {
  const std::size_t n = rows.size();
  PgArray& customers = arrays.emplace_back(kPgText, n);
  PgArray& fields = arrays.emplace_back(kPgText, n);
  PgArray& versions = arrays.emplace_back(kPgInt8, n);
  PgArray& values = arrays.emplace_back(kPgInt8, n);
  for (const StoredLookup& e : rows) {
    customers.add(e.customer);
    fields.add(e.field);
    versions.add_int8(e.key_version);
    values.add_int8(e.index);
  }
  return std::move(PgParams{}
                       .binary(customers.view())
                       .binary(fields.view())
                       .binary(versions.view())
                       .binary(values.view()));
}

}  // namespace

result<void> PostgresStore::send_pending() {
  // One batch in flight at a time: the one before is answered first.
  CONSENTRY_TRY(await_writes());
  PendingWrites batch = std::move(pending_);
  pending_ = PendingWrites{};
  std::deque<PgArray> arrays;
  std::vector<PipelinedStatement> statements;
  statements.reserve(5);
  if (!batch.new_keys.empty())
    statements.push_back({kInsertKeys, "put_key", key_params(batch.new_keys, arrays)});
  if (!batch.keys.empty()) statements.push_back({kPutKeys, "put_key", key_params(batch.keys, arrays)});
  if (!batch.new_fields.empty())
    statements.push_back({kInsertFields, "put_field", field_params(batch.new_fields, arrays)});
  if (!batch.fields.empty())
    statements.push_back({kPutFields, "put_field", field_params(batch.fields, arrays)});
  if (!batch.lookups.empty())
    statements.push_back({kPutLookups, "put_lookup", lookup_params(batch.lookups, arrays)});
  return send_pipelined(statements);
}

result<void> PostgresStore::put_lookup(const StoredLookup& entry) {
  if (!pg_is_text(entry.customer) || !pg_is_text(entry.field))
    return make_error(errc::invalid_argument, "put_lookup: a customer id or field name is not text");
  return queue("put_lookup", [&]() -> result<void> {
    std::string name = entry.customer + '\0' + entry.field;
    if (pending_.lookup_names.count(name) != 0) CONSENTRY_TRY(send_pending());
    pending_.lookups.push_back(entry);
    pending_.lookup_names.insert(std::move(name));
    return ok();
  });
}

result<void> PostgresStore::delete_lookup(std::string_view customer, std::string_view field) {
  return write("delete_lookup", [&]() -> result<void> {
    auto r = exec(kDeleteLookup, PgParams{}.text(customer).text(field), "delete_lookup");
    if (!r) return std::move(r).err();
    return ok();
  });
}

result<std::vector<std::string>> PostgresStore::find_lookup(std::string_view field, std::uint32_t key_version,
                                                            std::int64_t index) {
  auto r = exec(kFindLookup, PgParams{}.text(field).integer(index).integer(key_version), "find_lookup");
  if (!r) return std::move(r).err();
  std::vector<std::string> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) out.emplace_back(pg_text(r->get(), i, 0));
  return out;
}

result<std::vector<StoredLookup>> PostgresStore::get_lookups(std::string_view customer) {
  auto r = exec(kGetLookups, PgParams{}.text(customer), "get_lookups");
  if (!r) return std::move(r).err();
  std::vector<StoredLookup> out;
  const int rows = PQntuples(r->get());
  for (int i = 0; i < rows; ++i) {
    auto version = pg_unsigned(r->get(), i, 1, "get_lookups", "lookups row has an invalid key version");
    if (!version) return std::move(version).err();
    auto index = pg_int(r->get(), i, 2);
    if (!index) return std::move(index).err();
    out.push_back(
        StoredLookup{std::string(customer), std::string(pg_text(r->get(), i, 0)), *version, *index});
  }
  return out;
}

result<std::vector<std::string>> PostgresStore::customers() {
  auto r = exec(kCustomers, PgParams{}, "customers");
  if (!r) return std::move(r).err();
  std::vector<std::string> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) out.push_back(std::string(pg_text(r->get(), i, 0)));
  return out;
}

result<bool> PostgresStore::knows(std::string_view customer) {
  auto r = exec(kKnows, PgParams{}.text(customer), "knows");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) != 1 || PQgetlength(r->get(), 0, 0) != 1)
    return make_error(errc::integrity, "knows: an unexpected answer");
  return PQgetvalue(r->get(), 0, 0)[0] != 0;
}

}  // namespace consentry::detail
