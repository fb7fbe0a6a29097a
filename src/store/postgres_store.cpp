// postgres_store.cpp: the PostgreSQL store (docs/postgresql.md): connecting, the schema version 1
// and its check under an advisory lock, prepared statements, and the transactions role.
#include "store/postgres_store.hpp"

#include <array>
#include <cstring>
#include <utility>

namespace consentry::detail {
namespace {

// The schema of docs/postgresql.md, version 1, `@S` standing for the quoted schema name. Created
// in one transaction (PostgreSQL DDL is transactional), so a schema holds all of it or none.
// Append-only tables lose UPDATE (and DELETE, but for erasure's tables) for the role that creates
// them: that stops mistakes, not the owner or a superuser (docs/postgresql.md).
constexpr std::string_view kCreateSchema = R"sql(
CREATE SCHEMA @S;
CREATE TABLE @S.state(
  id integer PRIMARY KEY CHECK (id = 1),
  schema_version integer NOT NULL,
  data_version bigint NOT NULL
);
CREATE TABLE @S.meta(key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE @S.data_keys(
  customer text COLLATE "C" PRIMARY KEY,
  version integer NOT NULL CHECK (version >= 0),
  wrapped bytea NOT NULL
);
CREATE TABLE @S.fields(
  customer text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  sealed bytea NOT NULL,
  source text NOT NULL,
  collected_at bigint NOT NULL,
  format integer NOT NULL,
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

// The advisory lock of schema creation and migration is (kLockSpace, a hash of the schema name):
// two processes opening the same vault take the same lock, vaults in other schemas others.
constexpr std::int32_t kLockSpace = 0x636f6e73;  // "cons"

// fnv1a32 hashes the schema name into the lock's second key.
std::int32_t fnv1a32(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return static_cast<std::int32_t>(h);
}

constexpr std::array<const char*, static_cast<std::size_t>(PgSql::count)> kPgStatements = {
    // The write lock and the data version in one statement (docs/postgresql.md).
    "UPDATE @S.state SET data_version = data_version + 1 WHERE id = 1",
    "SELECT data_version FROM @S.state WHERE id = 1",
};

// ignore_notice keeps the server's notices and warnings off stderr: the library prints nothing.
void ignore_notice(void*, const char*) {}

// sqlstate of a failed result ("?????" when there is none, e.g. a lost connection).
std::string sqlstate(const PGresult* r) {
  const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  return s ? s : "?????";
}

}  // namespace

// ---- parameters and results ----

PgParams& PgParams::text(std::string_view v) {
  has_nul_ = has_nul_ || v.find('\0') != std::string_view::npos;
  const std::string& s = owned_.emplace_back(v);
  values_.push_back(s.c_str());
  lengths_.push_back(static_cast<int>(s.size()));
  formats_.push_back(static_cast<int>(PgFormat::text));
  return *this;
}

PgParams& PgParams::binary(byte_view v) {
  // A non-null pointer even for an empty value: a null one would be SQL NULL.
  static const unsigned char empty = 0;
  values_.push_back(reinterpret_cast<const char*>(v.empty() ? &empty : v.data()));
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(static_cast<int>(PgFormat::binary));
  return *this;
}

PgParams& PgParams::integer(std::int64_t v) {
  return text(std::to_string(v));
}

PgParams& PgParams::null() {
  values_.push_back(nullptr);
  lengths_.push_back(0);
  formats_.push_back(static_cast<int>(PgFormat::text));
  return *this;
}

result<std::int64_t> pg_int(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return std::int64_t{0};
  const auto* p = reinterpret_cast<const unsigned char*>(PQgetvalue(r, row, column));
  const int n = PQgetlength(r, row, column);
  if (n != 2 && n != 4 && n != 8)
    return make_error(errc::integrity, "an integer column has an unexpected width");
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  // Sign-extend from the column's width (network order, two's complement).
  const int shift = 64 - 8 * n;
  return static_cast<std::int64_t>(v << shift) >> shift;
}

// ---- connecting ----

PostgresStore::PostgresStore(PGconn* conn, std::string schema) : conn_(conn), schema_(std::move(schema)) {}

PostgresStore::~PostgresStore() {
  PQfinish(conn_);
}  // the server rolls back what is open

result<std::unique_ptr<PostgresStore>> PostgresStore::connect(const std::string& url, StoreMode mode,
                                                              std::string schema) {
  if (schema.empty()) return make_error(errc::invalid_argument, "the PostgreSQL schema name is empty");
  // The store owns the connection from here on, even a failed one, so that it is closed.
  std::unique_ptr<PostgresStore> store(new PostgresStore(PQconnectdb(url.c_str()), std::move(schema)));
  PGconn* conn = store->conn_;
  if (conn == nullptr) return make_error(errc::io, "connecting to the PostgreSQL vault: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the server and the user, not the password.
    std::string why = PQerrorMessage(conn);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return make_error(errc::io, "cannot connect to the PostgreSQL vault: " + why);
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  if (PQsetClientEncoding(conn, "UTF8") != 0)
    return make_error(errc::io, "connecting to the PostgreSQL vault: cannot use UTF8");
  char* quoted = PQescapeIdentifier(conn, store->schema_.data(), store->schema_.size());
  if (quoted == nullptr) return make_error(errc::invalid_argument, "the PostgreSQL schema name is not valid");
  store->quoted_schema_ = quoted;
  PQfreemem(quoted);
  CONSENTRY_TRY(store->set_up_schema(mode));
  return store;
}

result<void> PostgresStore::set_up_schema(StoreMode mode) {
  CONSENTRY_TRY(exec_sql("BEGIN ISOLATION LEVEL READ COMMITTED", "opening the vault"));
  auto run = [&]() -> result<void> {
    const std::string lock = "SELECT pg_advisory_xact_lock(" + std::to_string(kLockSpace) + ", " +
                             std::to_string(fnv1a32(schema_)) + ")";
    CONSENTRY_TRY(exec_sql(lock, "opening the vault: the schema lock"));
    PgParams p;
    p.text(schema_);
    PgResult found(PQexecParams(conn_,
                                "SELECT count(*) FROM information_schema.tables "
                                "WHERE table_schema = $1 AND table_name = 'state'",
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
      return ok();
    }
    if (!exists) return make_error(errc::not_found, "no consentry vault in schema '" + schema_ + "'");
    auto version = exec_sql("SELECT schema_version FROM @S.state WHERE id = 1", "opening the vault");
    if (!version) return std::move(version).err();
    // exec_sql returns text columns.
    if (PQntuples(version->get()) != 1)
      return make_error(errc::integrity, "schema '" + schema_ + "' is damaged: no state row");
    const std::string v = PQgetvalue(version->get(), 0, 0);
    if (v != std::to_string(kPostgresSchemaVersion))
      return make_error(errc::integrity, "schema '" + schema_ + "' holds a vault of schema version " + v +
                                             ", not " + std::to_string(kPostgresSchemaVersion));
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

std::string PostgresStore::with_schema(std::string_view sql) const {
  std::string out;
  out.reserve(sql.size() + 64);
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '@' && i + 1 < sql.size() && sql[i + 1] == 'S') {
      out += quoted_schema_;
      ++i;
    } else {
      out += sql[i];
    }
  }
  return out;
}

// ---- statements ----

result<PgResult> PostgresStore::check(PGresult* raw, std::string_view operation) const {
  PgResult r(raw);
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  if (PQstatus(conn_) == CONNECTION_BAD)
    return make_error(errc::io, std::string(operation) + ": the connection to the PostgreSQL vault was lost");
  return make_error(errc::io,
                    std::string(operation) + ": PostgreSQL refused it (SQLSTATE " + sqlstate(r.get()) + ")");
}

result<PgResult> PostgresStore::exec(PgSql which, const PgParams& params, std::string_view operation,
                                     PgFormat format) {
  if (params.has_nul())
    return make_error(errc::invalid_argument, std::string(operation) + ": a text value holds a NUL byte");
  const auto i = static_cast<std::size_t>(which);
  const std::string name = "consentry_" + std::to_string(i);
  if (!prepared_.test(i)) {
    CONSENTRY_TRY(
        check(PQprepare(conn_, name.c_str(), with_schema(kPgStatements[i]).c_str(), 0, nullptr), operation));
    prepared_.set(i);
  }
  return check(PQexecPrepared(conn_, name.c_str(), params.count(), params.values(), params.lengths(),
                              params.formats(), static_cast<int>(format)),
               operation);
}

result<PgResult> PostgresStore::exec_sql(std::string_view sql, std::string_view operation) {
  return check(PQexec(conn_, with_schema(sql).c_str()), operation);
}

// ---- transactions ----

// reconnect_if_lost opens the connection again when it was lost, outside a transaction only
// (nothing was in flight). Statements are prepared again on first use.
result<void> PostgresStore::reconnect_if_lost(std::string_view operation) {
  if (PQstatus(conn_) == CONNECTION_OK) return ok();
  PQreset(conn_);
  prepared_.reset();
  if (PQstatus(conn_) != CONNECTION_OK)
    return make_error(errc::io, std::string(operation) + ": cannot reconnect to the PostgreSQL vault");
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  return ok();
}

result<void> PostgresStore::start_write(bool synced) {
  if (in_transaction()) return make_error(errc::internal, "begin: a transaction is already open");
  CONSENTRY_TRY(reconnect_if_lost("begin"));
  CONSENTRY_TRY(exec_sql("BEGIN ISOLATION LEVEL READ COMMITTED", "begin"));
  open_ = Open::write;
  auto locked = [&]() -> result<void> {
    if (!synced) CONSENTRY_TRY(exec_sql("SET LOCAL synchronous_commit = off", "begin"));
    // The write lock: a second writer waits here until the first commits, then sees its changes.
    auto bumped = exec(PgSql::bump_data_version, PgParams{}, "begin");
    if (!bumped) return std::move(bumped).err();
    if (std::strcmp(PQcmdTuples(bumped->get()), "1") != 0)
      return make_error(errc::integrity, "begin: schema '" + schema_ + "' is damaged: no state row");
    return ok();
  }();
  if (!locked) (void)rollback();
  return locked;
}

result<void> PostgresStore::begin() {
  return start_write(true);
}

result<void> PostgresStore::begin_unsynced() {
  return start_write(false);
}

result<void> PostgresStore::commit() {
  if (!in_transaction()) return make_error(errc::internal, "commit: no transaction is open");
  open_ = Open::none;
  PgResult r(PQexec(conn_, "COMMIT"));
  if (PQstatus(conn_) == CONNECTION_BAD)
    return make_error(errc::io,
                      "commit: the connection to the PostgreSQL vault was lost; whether the "
                      "transaction committed is unknown");
  auto checked = check(r.release(), "commit");
  if (!checked) {
    // A COMMIT that fails (e.g. a deferred constraint) ends the transaction; make sure.
    if (PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)exec_sql("ROLLBACK", "commit");
    return std::move(checked).err();
  }
  // PostgreSQL answers COMMIT of a transaction a failed statement aborted with ROLLBACK.
  if (std::strcmp(PQcmdStatus(checked->get()), "COMMIT") != 0)
    return make_error(errc::io, "commit: a statement of the transaction had failed; it was rolled back");
  return ok();
}

result<void> PostgresStore::rollback() {
  if (!in_transaction()) return make_error(errc::internal, "rollback: no transaction is open");
  open_ = Open::none;
  // A lost connection has rolled back already, on the server.
  if (PQstatus(conn_) == CONNECTION_BAD) return ok();
  auto r = exec_sql("ROLLBACK", "rollback");
  if (!r) return std::move(r).err();
  return ok();
}

result<void> PostgresStore::begin_read() {
  if (in_transaction()) return make_error(errc::internal, "begin_read: a transaction is open");
  CONSENTRY_TRY(reconnect_if_lost("begin_read"));
  // One snapshot, taken at the first statement, for every read until end_read.
  CONSENTRY_TRY(exec_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "begin_read"));
  open_ = Open::read;
  return ok();
}

void PostgresStore::end_read() noexcept {
  if (open_ != Open::read) return;
  open_ = Open::none;
  if (PQstatus(conn_) == CONNECTION_BAD) return;
  // A read-only transaction commits without writing; should that fail, end it anyway.
  PgResult r(PQexec(conn_, "COMMIT"));
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
}

result<std::optional<std::uint64_t>> PostgresStore::data_version() {
  if (!in_transaction()) CONSENTRY_TRY(reconnect_if_lost("data_version"));
  auto r = exec(PgSql::data_version, PgParams{}, "data_version");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) != 1)
    return make_error(errc::integrity, "data_version: schema '" + schema_ + "' is damaged: no state row");
  auto v = pg_int(r->get(), 0, 0);
  if (!v) return std::move(v).err();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*v));
}

}  // namespace consentry::detail
