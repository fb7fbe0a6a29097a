// postgres_maintenance_role.cpp: the maintenance role of the PostgreSQL store: erasure, purges, key
// rotation walks, counts, compaction (VACUUM, so deleted rows leave the tables' dead tuples) and
// backups, which are the database's own (docs/postgresql.md).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <utility>

#include "store/postgres_store.hpp"

namespace consentry::detail {
namespace {

// Erasure: every row of the customer, then the tag (a second erasure of the same tag keeps the
// first time: that is when the data went).
constexpr std::string_view kEraseKey = "DELETE FROM @S.data_keys WHERE customer = $1";
constexpr std::string_view kEraseFields = "DELETE FROM @S.fields WHERE customer = $1";
constexpr std::string_view kEraseLookups = "DELETE FROM @S.lookups WHERE customer = $1";
constexpr std::string_view kEraseContacts = "DELETE FROM @S.contacts WHERE customer = $1";
constexpr std::string_view kErasePreferences = "DELETE FROM @S.contact_preferences WHERE customer = $1";
constexpr std::string_view kEraseEvents = "DELETE FROM @S.consent_events WHERE customer = $1";
constexpr std::string_view kInsertErased =
    "INSERT INTO @S.erased(tag, at) VALUES ($1, $2::bigint) ON CONFLICT (tag) DO NOTHING";
constexpr std::string_view kErasedAt = "SELECT at FROM @S.erased WHERE tag = $1";
constexpr std::string_view kErasedAmong = "SELECT tag FROM @S.erased WHERE tag = ANY($1::text[])";

constexpr std::string_view kFieldsCollectedBefore =
    "SELECT customer, collected_at FROM @S.fields WHERE field = $1 AND collected_at <= $2::bigint "
    "AND customer > $3 ORDER BY customer LIMIT $4::bigint";
constexpr std::string_view kDeleteField = "DELETE FROM @S.fields WHERE customer = $1 AND field = $2";
constexpr std::string_view kDeleteFieldLookup = "DELETE FROM @S.lookups WHERE customer = $1 AND field = $2";
constexpr std::string_view kDataKeysAfter =
    "SELECT customer, version, wrapped FROM @S.data_keys WHERE customer > $1 ORDER BY customer "
    "LIMIT $2::bigint";
constexpr std::string_view kDataKeyVersions =
    "SELECT version, count(*) FROM @S.data_keys GROUP BY version ORDER BY version";
// Manifests are rows of fields too, but not values.
constexpr std::string_view kFieldCounts =
    "SELECT field, count(*) FROM @S.fields WHERE field <> $1 GROUP BY field ORDER BY field";

// Compaction. First the horizon: every transaction id below it had ended when the compaction
// began, so every deletion committed before it is below; as an xid (its low 32 bits). And how
// many of the vacuumed tables this role may not vacuum (VACUUM skips those with a warning only).
constexpr std::string_view kCompactStart =
    "SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint % 4294967296)::text, "
    "(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "  WHERE n.nspname = $1 AND c.relname IN ('meta', 'data_keys', 'fields', 'lookups', 'consent_events', "
    "  'contacts', 'contact_preferences') "
    "  AND NOT pg_has_role(c.relowner, 'USAGE') "
    "  AND NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) "
    "  AND NOT pg_has_role((SELECT datdba FROM pg_database WHERE datname = current_database()), 'USAGE'))";
// The tables whose rows hold customers' data or sealed keys (meta: the master key versions' sealed
// copies that key rotation replaces). INDEX_CLEANUP ON: the indexes' entries of the deleted rows
// (which hold customer ids) go too, even when VACUUM would skip the index pass for a few rows.
constexpr std::string_view kVacuum =
    "VACUUM (INDEX_CLEANUP ON) @S.data_keys, @S.fields, @S.lookups, @S.consent_events, @S.contacts, "
    "@S.contact_preferences, @S.meta";
// What would keep rows deleted before the horizon as dead tuples that VACUUM may not remove:
// another session of this database (or a standby's feedback, through a walsender, database NULL)
// whose snapshot or transaction id is older than the horizon; a prepared transaction; a
// replication slot. Sessions with no role (usesysid NULL) are autovacuum and the server's own
// processes, which do not hold VACUUM back; backend_xmin and backend_xid are shown for every
// role's sessions. Once none is left, none can come: a new snapshot's xmin is at least the
// oldest running transaction id, and none below the horizon runs any more. A concurrent manual
// VACUUM counts too (it cannot be told apart without reading other roles' queries).
constexpr std::string_view kHeldBack =
    "SELECT (SELECT count(*) FROM pg_stat_activity a "
    "   WHERE a.pid <> pg_backend_pid() AND a.usesysid IS NOT NULL "
    "   AND (a.datid IS NULL OR a.datid = (SELECT oid FROM pg_database WHERE datname = current_database())) "
    "   AND (age(a.backend_xmin) > age($1::xid) OR age(a.backend_xid) > age($1::xid))) "
    " + (SELECT count(*) FROM pg_prepared_xacts p "
    "   WHERE p.database = current_database() AND age(p.transaction) > age($1::xid)) "
    " + (SELECT count(*) FROM pg_replication_slots s WHERE age(s.xmin) > age($1::xid))";

// How long compact waits for the sessions that would hold deleted rows back to end before it
// vacuums (other processes' short transactions end well within it).
constexpr auto kHeldBackWait = std::chrono::seconds(2);
constexpr auto kHeldBackPoll = std::chrono::milliseconds(50);

// capped is a LIMIT: bigint holds at most INT64_MAX, which means "all of them".
std::int64_t capped(std::size_t limit) {
  return static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX));
}

// version_of reads a data key version; errc::integrity for one out of range.
result<std::uint32_t> version_of(const PGresult* r, int row, int column, std::string_view operation) {
  auto v = pg_int(r, row, column);
  if (!v) return std::move(v).err();
  if (PQgetisnull(r, row, column) || *v < 0 || *v > static_cast<std::int64_t>(UINT32_MAX))
    return make_error(errc::integrity, std::string(operation) + ": data_keys row has an invalid version");
  return static_cast<std::uint32_t>(*v);
}

}  // namespace

// ---- erasure ----

result<void> PostgresStore::erase_customer(std::string_view customer, std::string_view tag, timestamp at) {
  const auto delete_rows = [&]() -> result<void> {
    for (const std::string_view sql :
         {kEraseKey, kEraseFields, kEraseLookups, kEraseContacts, kErasePreferences, kEraseEvents}) {
      auto r = exec(sql, PgParams{}.text(customer), "erase_customer");
      if (!r) return std::move(r).err();
    }
    auto r = exec(kInsertErased, PgParams{}.text(tag).integer(pg_seconds(at)), "erase_customer");
    if (!r) return std::move(r).err();
    return ok();
  };
  // Outside a transaction write() gives the erasure one of its own. Inside the caller's, a
  // savepoint makes it all or nothing on its own: a failed statement would otherwise abort the
  // caller's whole transaction (PostgreSQL), and the caller's rollback still undoes it all.
  const bool inside = in_write_transaction();
  return write("erase_customer", [&]() -> result<void> {
    if (!inside) return delete_rows();
    CONSENTRY_TRY(exec_sql("SAVEPOINT erase_customer", "erase_customer"));
    auto erased = delete_rows();
    if (!erased) {
      (void)exec_sql("ROLLBACK TO SAVEPOINT erase_customer", "erase_customer");
      (void)exec_sql("RELEASE SAVEPOINT erase_customer", "erase_customer");
      return erased;
    }
    auto released = exec_sql("RELEASE SAVEPOINT erase_customer", "erase_customer");
    if (!released) return std::move(released).err();
    return ok();
  });
}

result<std::vector<std::string>> PostgresStore::erased_among(std::span<const std::string_view> tags) {
  return texts_among(kErasedAmong, tags, "erased_among");
}

result<std::optional<timestamp>> PostgresStore::erased_at(std::string_view tag) {
  auto r = exec(kErasedAt, PgParams{}.text(tag), "erased_at");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<timestamp>();
  auto s = pg_int(r->get(), 0, 0);
  if (!s) return std::move(s).err();
  return std::optional<timestamp>(pg_time(*s));
}

// ---- purges, key rotation and the inventory ----

result<std::vector<MaintenanceStore::FieldTime>> PostgresStore::fields_collected_before(
    std::string_view field, timestamp before, std::string_view after, std::size_t limit) {
  auto r = exec(kFieldsCollectedBefore,
                PgParams{}.text(field).integer(pg_seconds(before)).text(after).integer(capped(limit)),
                "fields_collected_before");
  if (!r) return std::move(r).err();
  std::vector<FieldTime> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto s = pg_int(r->get(), i, 1);
    if (!s) return std::move(s).err();
    out.push_back({std::string(pg_text(r->get(), i, 0)), pg_time(*s)});
  }
  return out;
}

result<void> PostgresStore::delete_field(std::string_view customer, std::string_view field) {
  return write("delete_field", [&]() -> result<void> {
    // The value's blind index entry goes with it, in the same transaction.
    for (const std::string_view sql : {kDeleteField, kDeleteFieldLookup}) {
      auto r = exec(sql, PgParams{}.text(customer).text(field), "delete_field");
      if (!r) return std::move(r).err();
    }
    return ok();
  });
}

result<std::vector<StoredKey>> PostgresStore::data_keys_after(std::string_view after, std::size_t limit) {
  auto r = exec(kDataKeysAfter, PgParams{}.text(after).integer(capped(limit)), "data_keys_after");
  if (!r) return std::move(r).err();
  std::vector<StoredKey> out;
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto version = version_of(r->get(), i, 1, "data_keys_after");
    if (!version) return std::move(version).err();
    out.push_back(StoredKey{std::string(pg_text(r->get(), i, 0)), *version, pg_bytes_copy(r->get(), i, 2)});
  }
  return out;
}

result<std::vector<std::pair<std::uint32_t, std::int64_t>>> PostgresStore::data_key_versions() {
  auto r = exec(kDataKeyVersions, PgParams{}, "data_key_versions");
  if (!r) return std::move(r).err();
  std::vector<std::pair<std::uint32_t, std::int64_t>> out;
  const int rows = PQntuples(r->get());
  for (int i = 0; i < rows; ++i) {
    auto version = version_of(r->get(), i, 0, "data_key_versions");
    if (!version) return std::move(version).err();
    auto n = pg_int(r->get(), i, 1);
    if (!n) return std::move(n).err();
    out.emplace_back(*version, *n);
  }
  return out;
}

result<std::vector<std::pair<std::string, std::int64_t>>> PostgresStore::field_counts() {
  auto r = exec(kFieldCounts, PgParams{}.text(kManifestField), "field_counts");
  if (!r) return std::move(r).err();
  std::vector<std::pair<std::string, std::int64_t>> out;
  const int rows = PQntuples(r->get());
  for (int i = 0; i < rows; ++i) {
    auto n = pg_int(r->get(), i, 1);
    if (!n) return std::move(n).err();
    out.emplace_back(std::string(pg_text(r->get(), i, 0)), *n);
  }
  return out;
}

// ---- compaction ----

result<void> PostgresStore::compact() {
  // VACUUM cannot run inside a transaction block.
  if (in_transaction()) return make_error(errc::internal, "compact: a transaction is open");
  auto started = exec(kCompactStart, PgParams{}.text(schema_), "compact", PgFormat::text);
  if (!started) return std::move(started).err();
  const std::string horizon = PQgetvalue(started->get(), 0, 0);
  if (std::string_view(PQgetvalue(started->get(), 0, 1)) != "0")
    return make_error(
        errc::io,
        "compact: this PostgreSQL role may not VACUUM the vault's tables (only their owner, the "
        "database's owner or a superuser may), so deleted rows would stay as dead tuples");
  const auto held_back = [&]() -> result<bool> {
    auto r = exec(kHeldBack, PgParams{}.text(horizon), "compact", PgFormat::text);
    if (!r) return std::move(r).err();
    return std::string_view(PQgetvalue(r->get(), 0, 0)) != "0";
  };
  // Checked before the VACUUM, not after: a session that ends during the VACUUM has held rows
  // back all the same.
  auto held = held_back();
  if (!held) return std::move(held).err();
  const auto deadline = std::chrono::steady_clock::now() + kHeldBackWait;
  while (*held && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kHeldBackPoll);
    held = held_back();
    if (!held) return std::move(held).err();
  }
  // Held back or not, the VACUUM removes every dead tuple it may.
  CONSENTRY_TRY(exec_sql(kVacuum, "compact: vacuum"));
  if (!*held) return ok();
  return make_error(
      errc::io,
      "compact: another PostgreSQL session's transaction or snapshot (or a prepared transaction "
      "or a replication slot) older than the compaction keeps deleted rows as dead tuples; end it "
      "and compact again");
}

// ---- backups ----

result<void> PostgresStore::backup_to(const std::filesystem::path&) {
  return make_error(errc::invalid_argument,
                    "backup: a PostgreSQL vault is backed up by PostgreSQL's own tools (pg_dump, or base "
                    "backups with WAL archiving; docs/postgresql.md), not by consentry");
}

}  // namespace consentry::detail
