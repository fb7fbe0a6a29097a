// postgres_schema.cpp: the PostgreSQL store's schema (docs/postgresql.md): version 1, the
// migrations that bring it to the current version, and its creation, check or migration when a
// store connects, under an advisory lock.
#include <charconv>
#include <iterator>
#include <string>

#include "store/postgres_store.hpp"

namespace consentry::detail {
namespace {

// The schema of docs/postgresql.md, version 1, `@S` standing for the quoted schema name. Created
// in one transaction (PostgreSQL DDL is transactional), so a schema holds all of it or none.
// The ledger tables' seqs are global and never reused, as SQLite's AUTOINCREMENT: the last one
// given out is a counter of the one `state` row, which the write lock already holds.
// Append-only tables lose UPDATE (and DELETE, but for erasure's tables) for the role that creates
// them: that stops mistakes, not the owner or a superuser (docs/postgresql.md).
constexpr std::string_view kCreateSchema = R"sql(
CREATE SCHEMA @S;
CREATE TABLE @S.state(
  id integer PRIMARY KEY CHECK (id = 1),
  schema_version integer NOT NULL,
  data_version bigint NOT NULL,
  consent_seq bigint NOT NULL DEFAULT 0,
  contact_seq bigint NOT NULL DEFAULT 0,
  preference_seq bigint NOT NULL DEFAULT 0,
  spend_seq bigint NOT NULL DEFAULT 0
);
CREATE TABLE @S.meta(key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE @S.data_keys(
  customer text COLLATE "C" PRIMARY KEY,
  version bigint NOT NULL CHECK (version >= 0 AND version <= 4294967295),
  wrapped bytea NOT NULL
);
CREATE TABLE @S.fields(
  customer text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  sealed bytea NOT NULL,
  source text NOT NULL,
  collected_at bigint NOT NULL,
  format bigint NOT NULL,
  PRIMARY KEY (customer, field)
);
CREATE INDEX fields_by_field ON @S.fields(field, customer);
CREATE TABLE @S.consent_events(
  customer text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  purpose text COLLATE "C" NOT NULL,
  action text NOT NULL CHECK (action IN ('grant', 'withdraw', 'object')),
  at bigint NOT NULL,
  channel text NOT NULL,
  notice text NOT NULL,
  expires_at bigint,
  policy_version bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (customer, seq)
);
CREATE INDEX consent_events_by_purpose ON @S.consent_events(purpose, customer, seq);
CREATE TABLE @S.contacts(
  customer text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  channel text NOT NULL,
  purpose text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (customer, seq)
);
CREATE TABLE @S.contact_preferences(
  customer text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  kind text NOT NULL CHECK (kind IN ('limit', 'opt_out', 'opt_in')),
  purpose text NOT NULL,
  channel text NOT NULL,
  max bigint NOT NULL,
  per text NOT NULL,
  at bigint NOT NULL,
  PRIMARY KEY (customer, seq)
);
CREATE TABLE @S.privacy_spends(
  purpose text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  query text NOT NULL,
  micro_epsilon bigint NOT NULL CHECK (micro_epsilon > 0),
  at bigint NOT NULL,
  PRIMARY KEY (purpose, seq)
);
CREATE TABLE @S.erased(tag text COLLATE "C" PRIMARY KEY, at bigint NOT NULL);
CREATE TABLE @S.audit(
  seq bigint PRIMARY KEY,
  at bigint NOT NULL,
  customer text COLLATE "C" NOT NULL,
  entry bytea NOT NULL,
  hash bytea NOT NULL
);
CREATE INDEX audit_by_customer ON @S.audit(customer, seq) WHERE customer <> '';
CREATE TABLE @S.audit_checkpoints(
  seq bigint PRIMARY KEY,
  head bytea NOT NULL,
  at bigint NOT NULL,
  signature bytea NOT NULL
);
REVOKE UPDATE, DELETE, TRUNCATE ON @S.audit, @S.audit_checkpoints, @S.privacy_spends FROM CURRENT_USER;
REVOKE UPDATE, TRUNCATE ON @S.consent_events, @S.contacts, @S.contact_preferences FROM CURRENT_USER;
INSERT INTO @S.state(id, schema_version, data_version) VALUES (1, 1, 0);
)sql";

// kMigrations[v - 1] brings a schema of version v to version v + 1, in the transaction that
// opens the vault, under the advisory lock. A new vault is created at version 1 and brought up
// the same way, so every vault, old or new, holds the same tables.
//
// Version 2, a hash chain per writer (docs/audit.md, "Many writers"): entries are keyed by
// (chain, seq); the entries of version 1 stay chain 0, which keeps its all-zero genesis, so they
// verify unchanged. audit_chains holds each chain's head, moved by compare-and-set. Checkpoints
// over many chains keep their heads and the hash of the checkpoint before them.
//
// Version 3 adds the blind indexes' table, version 4 the consent events' signal, version 5 a
// narrower audit_by_customer.
constexpr std::string_view kMigrations[] = {
    R"sql(
ALTER TABLE @S.audit ADD COLUMN chain bigint NOT NULL DEFAULT 0 CHECK (chain >= 0);
ALTER TABLE @S.audit DROP CONSTRAINT audit_pkey;
ALTER TABLE @S.audit ADD PRIMARY KEY (chain, seq);
DROP INDEX @S.audit_by_customer;
CREATE INDEX audit_by_customer ON @S.audit(customer, at, chain, seq) WHERE customer <> '';
CREATE TABLE @S.audit_chains(
  chain bigint PRIMARY KEY CHECK (chain >= 0),
  head_seq bigint NOT NULL CHECK (head_seq >= 1),
  head_hash bytea NOT NULL
);
INSERT INTO @S.audit_chains(chain, head_seq, head_hash)
  SELECT 0, seq, hash FROM @S.audit ORDER BY seq DESC LIMIT 1;
ALTER TABLE @S.audit_checkpoints ADD COLUMN heads bytea, ADD COLUMN previous bytea;
REVOKE DELETE, TRUNCATE ON @S.audit_chains FROM CURRENT_USER;
UPDATE @S.state SET schema_version = 2 WHERE id = 1;
)sql",
    // Version 3, blind indexes (docs/lookup.md): one entry per indexed value, keyed by customer
    // first like every table that grows with customers; a truncated keyed hash, never a value.
    R"sql(
CREATE TABLE @S.lookups(
  customer text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  key_version bigint NOT NULL CHECK (key_version >= 0 AND key_version <= 4294967295),
  value bigint NOT NULL,
  PRIMARY KEY (customer, field)
);
CREATE INDEX lookups_by_value ON @S.lookups(field, value, key_version);
UPDATE @S.state SET schema_version = 3 WHERE id = 1;
)sql",
    // Version 4, consent signals (docs/consent-signals.md): the signal an event was taken from,
    // NULL for an event recorded directly (src/store/signal_column.hpp).
    R"sql(
ALTER TABLE @S.consent_events ADD COLUMN signal text;
UPDATE @S.state SET schema_version = 4 WHERE id = 1;
)sql",
    // Version 5: "who accessed my data" is indexed by the customer's pseudonym alone. Every
    // entry of a customer shares the key, which the server stores once for many entries (b-tree
    // deduplication), where (customer, at, chain, seq) made every key unique: an index a
    // seventeenth of the size, whose appends write fewer pages. A customer's entries are sorted
    // by time after the lookup.
    R"sql(
DROP INDEX @S.audit_by_customer;
CREATE INDEX audit_by_customer ON @S.audit(customer) WHERE customer <> '';
UPDATE @S.state SET schema_version = 5 WHERE id = 1;
)sql",
};
static_assert(std::size(kMigrations) + 1 == kPostgresSchemaVersion, "one migration per version after 1");

// The advisory lock of schema creation and migration is (kLockSpace, a hash of the schema name):
// two processes opening the same vault take the same lock, vaults in other schemas others.
constexpr std::int32_t kLockSpace = 0x636f6e73;  // "cons"

}  // namespace

std::int32_t pg_name_hash(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<std::int32_t>(h);
}

namespace {

// migrate brings the schema from `version` to kPostgresSchemaVersion; inside set_up_schema's
// transaction.
result<void> migrate(PostgresStore& store, std::int64_t version, std::int64_t target) {
  for (std::int64_t v = version; v < target; ++v) {
    auto done = store.exec_sql(kMigrations[v - 1], "opening the vault: migrating the schema from version " +
                                                       std::to_string(v) + " to " + std::to_string(v + 1));
    if (!done) return std::move(done).err();
  }
  return ok();
}

}  // namespace

result<void> PostgresStore::set_up_schema(StoreMode mode, std::int64_t create_version) {
  CONSENTRY_TRY(exec_sql("BEGIN ISOLATION LEVEL READ COMMITTED", "opening the vault"));
  auto run = [&]() -> result<void> {
    const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kLockSpace) + ", " +
                             std::to_string(pg_name_hash(schema_)) + ")";
    CONSENTRY_TRY(exec_sql(lock, "opening the vault: the schema lock"));
    PgParams p;
    p.text(schema_);
    PgResult found(PQexecParams(conn_,
                                // pg_catalog, not information_schema: the latter hides the
                                // tables a role holds no privilege on, and a role without its
                                // grants must hear that it lacks them, not that no vault is there.
                                "SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                                "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = 'state'",
                                p.count(), nullptr, p.values(), p.lengths(), p.formats(),
                                static_cast<int>(PgFormat::binary)));
    auto checked = check(found.release(), "opening the vault: reading the schema");
    if (!checked) return std::move(checked).err();
    auto n = pg_int(checked->get(), 0, 0);
    if (!n) return std::move(n).err();
    const bool exists = *n != 0;
    if (mode == StoreMode::create) {
      if (exists)
        return make_error(errc::already_exists, "schema '" + schema_ + "' already holds a consentry vault");
      CONSENTRY_TRY(exec_sql(kCreateSchema, "creating the vault's schema"));
      CONSENTRY_TRY(migrate(*this, 1, create_version));
      schema_version_ = create_version;
      return ok();
    }
    if (!exists) return make_error(errc::not_found, "no consentry vault in schema '" + schema_ + "'");
    auto stored = stored_schema_version("opening the vault");
    if (!stored) return std::move(stored).err();
    const std::string& v = *stored;
    std::int64_t found_version = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), found_version);
    if (ec != std::errc{} || end != v.data() + v.size() || found_version < 1 ||
        found_version > kPostgresSchemaVersion)
      return make_error(errc::integrity, "schema '" + schema_ + "' holds a vault of schema version " + v +
                                             ", which this library does not know (it knows 1 to " +
                                             std::to_string(kPostgresSchemaVersion) + ")");
    CONSENTRY_TRY(migrate(*this, found_version, kPostgresSchemaVersion));
    schema_version_ = kPostgresSchemaVersion;
    return ok();
  };
  auto done = run();
  if (!done) {
    (void)exec_sql("ROLLBACK", "opening the vault");
    return done;
  }
  auto committed = exec_sql("COMMIT", "opening the vault");
  if (!committed) return std::move(committed).err();
  return ok();
}

result<std::string> PostgresStore::stored_schema_version(std::string_view op) {
  auto found = exec_sql("SELECT schema_version FROM @S.state WHERE id = 1", op);
  if (!found) return std::move(found).err();
  if (PQntuples(found->get()) != 1)
    return make_error(errc::integrity, "schema '" + schema_ + "' is damaged: no state row");
  // exec_sql returns text columns.
  return std::string(PQgetvalue(found->get(), 0, 0));
}

result<void> PostgresStore::check_companion_schema(std::int64_t version) {
  // The store this connection accompanies created, migrated or checked the schema under the
  // schema lock; what can have happened since is another process migrating it further.
  auto stored = stored_schema_version("connecting to the PostgreSQL vault again");
  if (!stored) return std::move(stored).err();
  const std::string& v = *stored;
  if (v != std::to_string(version))
    return make_error(errc::integrity, "schema '" + schema_ + "' now holds a vault of schema version " + v +
                                           ", not version " + std::to_string(version) +
                                           " as when this vault opened it; open the vault again");
  schema_version_ = version;
  return ok();
}

}  // namespace consentry::detail
