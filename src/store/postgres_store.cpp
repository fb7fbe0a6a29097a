// postgres_store.cpp: the PostgreSQL store (docs/postgresql.md): connecting, prepared
// statements, and the transactions role.
#include "store/postgres_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <charconv>
#include <cstring>
#include <utility>
#include <vector>

#include "io/fork_generation.hpp"

namespace consentry::detail {
namespace {

// The write lock and the data version in one statement (docs/postgresql.md).
constexpr std::string_view kBumpDataVersion =
    "UPDATE @S.state SET data_version = data_version + 1 WHERE id = 1";
constexpr std::string_view kDataVersion = "SELECT data_version FROM @S.state WHERE id = 1";
// A read snapshot starts with its first statement; most snapshots ask for data_version first
// (to follow the policy in force), so it is read in the round trip that begins the transaction.
constexpr std::string_view kBeginRead =
    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SELECT data_version FROM @S.state WHERE id = 1";

// Every store's round trips in this process (PostgresStore::round_trips_in_process).
std::atomic<std::uint64_t> process_round_trips{0};

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

PostgresStore::PostgresStore(PGconn* conn, std::string schema) : conn_(conn), schema_(std::move(schema)) {
  (void)watch_forks();
  connected_in_ = fork_generation();
}

PostgresStore::~PostgresStore() {
  // In a forked child, PQfinish's goodbye would end the parent's session: it goes to /dev/null.
  if (forked()) sever();
  PQfinish(conn_);
}  // the server rolls back what is open

bool PostgresStore::forked() const noexcept {
  return fork_generation() != connected_in_;
}

void PostgresStore::sever() noexcept {
  if (severed_ || conn_ == nullptr) return;
  severed_ = true;
  const int socket = PQsocket(conn_);
  if (socket < 0) return;
  const int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) return;
  (void)::dup2(null, socket);
  ::close(null);
}

result<void> PostgresStore::owned(std::string_view operation) {
  if (!forked()) return ok();
  sever();
  return used_after_fork(operation);
}

result<std::unique_ptr<PostgresStore>> PostgresStore::connect(const std::string& url, StoreMode mode,
                                                              std::string schema,
                                                              std::int64_t create_version) {
  if (create_version < 1 || create_version > kPostgresSchemaVersion)
    return make_error(errc::invalid_argument,
                      "no PostgreSQL schema version " + std::to_string(create_version));
  if (schema.empty()) return make_error(errc::invalid_argument, "the PostgreSQL schema name is empty");
  // UTF8 asked for in the start-up message, after the URL's own options, costs no request of its
  // own; companions connect with the same options.
  const char* const keywords[] = {"dbname", "client_encoding", nullptr};
  const char* const values[] = {url.c_str(), "UTF8", nullptr};
  auto store = connected(PQconnectdbParams(keywords, values, 1), std::move(schema));
  if (!store) return store;
  CONSENTRY_TRY((*store)->set_up_schema(mode, create_version));
  return store;
}

void PostgresStore::count_round_trip() noexcept {
  ++round_trips_;
  process_round_trips.fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t PostgresStore::round_trips_in_process() noexcept {
  return process_round_trips.load(std::memory_order_relaxed);
}

result<std::unique_ptr<Store>> PostgresStore::open_companion() {
  // A connection made in a forked child would serve the child as its parent's vault.
  if (forked()) return used_after_fork("connecting to the PostgreSQL vault again");
  // The options kept when this store connected, as "keyword\0value\0" pairs: this touches
  // no connection state.
  std::vector<const char*> keywords;
  std::vector<const char*> values;
  const std::string_view kept = connection_options_.reveal_string();
  for (std::size_t at = 0; at < kept.size();) {
    const char* keyword = kept.data() + at;
    at = kept.find('\0', at) + 1;
    values.push_back(kept.data() + at);
    at = kept.find('\0', at) + 1;
    keywords.push_back(keyword);
  }
  keywords.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* conn = PQconnectdbParams(keywords.data(), values.data(), 0);
  auto store = connected(conn, schema_);
  if (!store) return std::move(store).err();
  CONSENTRY_TRY((*store)->check_companion_schema(schema_version_));
  return std::unique_ptr<Store>(std::move(*store));
}

result<std::unique_ptr<PostgresStore>> PostgresStore::connected(PGconn* connection, std::string schema) {
  // The store owns the connection from here on, even a failed one, so that it is closed.
  std::unique_ptr<PostgresStore> store(new PostgresStore(connection, std::move(schema)));
  PGconn* conn = store->conn_;
  if (conn == nullptr) return make_error(errc::io, "connecting to the PostgreSQL vault: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's message names the server and the user, not the password.
    std::string why = PQerrorMessage(conn);
    while (!why.empty() && (why.back() == '\n' || why.back() == ' ')) why.pop_back();
    return make_error(errc::io, "cannot connect to the PostgreSQL vault: " + why);
  }
  PQsetNoticeProcessor(conn, ignore_notice, nullptr);
  CONSENTRY_TRY(store->keep_connection_options());
  if (!store->use_utf8()) return make_error(errc::io, "connecting to the PostgreSQL vault: cannot use UTF8");
  char* quoted = PQescapeIdentifier(conn, store->schema_.data(), store->schema_.size());
  if (quoted == nullptr) return make_error(errc::invalid_argument, "the PostgreSQL schema name is not valid");
  store->quoted_schema_ = quoted;
  PQfreemem(quoted);
  return store;
}

bool PostgresStore::use_utf8() {
  // The server reports the client encoding it started the session in.
  const char* now = PQparameterStatus(conn_, "client_encoding");
  if (now != nullptr && std::string_view(now) == "UTF8") return true;
  count_round_trip();
  return PQsetClientEncoding(conn_, "UTF8") == 0;
}

result<void> PostgresStore::keep_connection_options() {
  // libpq gives back the options this connection was made with, the password among them, so that
  // open_companion connects as this store did without the store keeping its URL.
  const std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> held(PQconninfo(conn_), PQconninfoFree);
  const PQconninfoOption* options = held.get();
  if (options == nullptr) return make_error(errc::io, "connecting to the PostgreSQL vault: out of memory");
  std::size_t size = 0;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o)
    if (o->val != nullptr && *o->val != '\0') size += std::strlen(o->keyword) + std::strlen(o->val) + 2;
  connection_options_ = SecretBytes(size);
  std::span<std::uint8_t> out = connection_options_.reveal();
  std::size_t at = 0;
  for (const PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || *o->val == '\0') continue;
    for (const char* text : {o->keyword, o->val}) {
      const std::size_t n = std::strlen(text) + 1;  // with its NUL
      std::memcpy(out.data() + at, text, n);
      at += n;
    }
  }
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

// ---- array parameters ----

PgArray::PgArray(std::uint32_t element_type, std::size_t count) {
  put32(1);  // dimensions
  put32(0);  // no NULLs
  put32(element_type);
  put32(static_cast<std::uint32_t>(count));
  put32(1);  // lower bound
}

void PgArray::add(std::string_view v) {
  put32(static_cast<std::uint32_t>(v.size()));
  const auto* p = reinterpret_cast<const std::uint8_t*>(v.data());
  out_.insert(out_.end(), p, p + v.size());
}

void PgArray::add_int8(std::int64_t v) {
  put32(8);
  const auto u = static_cast<std::uint64_t>(v);
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(u >> shift));
}

void PgArray::put32(std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<std::uint8_t>(v >> shift));
}

result<PgArray> pg_text_array(std::span<const std::string_view> items, std::string_view operation) {
  PgArray out(kPgText, items.size());
  for (std::string_view item : items) {
    if (!pg_is_text(item))
      return make_error(errc::invalid_argument, std::string(operation) + ": a value that is not text");
    out.add(item);
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

result<PgResult> PostgresStore::exec(std::string_view sql, const PgParams& params, std::string_view operation,
                                     PgFormat format) {
  if (params.has_nul())
    return make_error(errc::invalid_argument, std::string(operation) + ": a text value holds a NUL byte");
  auto run = [&]() -> result<PgResult> { return exec_once(sql, params, operation, format); };
  if (in_transaction()) return run();
  // Outside a transaction a statement only reads (writes run in one: `write`), so one that met
  // a lost connection is safe to run again, once, on a new one.
  CONSENTRY_TRY(reconnect_if_lost(operation));
  auto r = run();
  if (r || PQstatus(conn_) != CONNECTION_BAD) return r;
  CONSENTRY_TRY(reconnect_if_lost(operation));
  return run();
}

result<PgResult> PostgresStore::exec_once(std::string_view sql, const PgParams& params,
                                          std::string_view operation, PgFormat format) {
  if (params.has_nul())
    return make_error(errc::invalid_argument, std::string(operation) + ": a text value holds a NUL byte");
  CONSENTRY_TRY(owned(operation));
  settle();
  // Queued writes go first, so this statement sees them.
  if (!pending_.empty()) CONSENTRY_TRY(send_pending());
  CONSENTRY_TRY(await_writes());
  auto name = prepared(sql, operation);
  if (!name) return std::move(name).err();
  count_round_trip();
  return check(PQexecPrepared(conn_, (*name)->c_str(), params.count(), params.values(), params.lengths(),
                              params.formats(), static_cast<int>(format)),
               operation);
}

result<const std::string*> PostgresStore::prepared(std::string_view sql, std::string_view operation) {
  auto found = prepared_.find(sql);
  if (found == prepared_.end()) {
    std::string name = "consentry_" + std::to_string(prepared_.size());
    count_round_trip();
    CONSENTRY_TRY(check(PQprepare(conn_, name.c_str(), with_schema(sql).c_str(), 0, nullptr), operation));
    found = prepared_.emplace(sql, std::move(name)).first;
  }
  return &found->second;
}

result<void> PostgresStore::exec_each_row(std::string_view sql, const PgParams& params,
                                          std::string_view operation,
                                          const std::function<result<bool>(const PGresult*)>& row) {
  if (params.has_nul())
    return make_error(errc::invalid_argument, std::string(operation) + ": a text value holds a NUL byte");
  CONSENTRY_TRY(owned(operation));
  settle();
  if (!pending_.empty()) CONSENTRY_TRY(send_pending());
  CONSENTRY_TRY(await_writes());
  bool delivered = false;  // a row reached `row`: the statement may not run again
  auto run = [&]() -> result<void> {
    auto name = prepared(sql, operation);
    if (!name) return std::move(name).err();
    if (PQsendQueryPrepared(conn_, (*name)->c_str(), params.count(), params.values(), params.lengths(),
                            params.formats(), static_cast<int>(PgFormat::binary)) != 1)
      return make_error(errc::io,
                        std::string(operation) + ": the connection to the PostgreSQL vault was lost");
    count_round_trip();
    PQsetSingleRowMode(conn_);
    result<void> outcome = ok();
    bool stopped = false;
    // Every result is read, also after a stop, so that the connection is ready for the next
    // statement; rows after a stop are dropped as they arrive.
    while (PGresult* raw = PQgetResult(conn_)) {
      PgResult r(raw);
      if (stopped) continue;
      const ExecStatusType status = PQresultStatus(raw);
      if (status == PGRES_SINGLE_TUPLE) {
        delivered = true;
        auto more = row(raw);
        if (!more) outcome = std::move(more).err();
        stopped = !more || !*more;
      } else if (status != PGRES_TUPLES_OK) {
        auto failed = check(r.release(), operation);
        if (!failed) outcome = std::move(failed).err();
        stopped = true;
      }
    }
    return outcome;
  };
  if (in_transaction()) return run();
  // As exec: outside a transaction a read that met a lost connection runs once more, unless
  // rows of it were already handed out.
  CONSENTRY_TRY(reconnect_if_lost(operation));
  auto r = run();
  if (r || delivered || PQstatus(conn_) != CONNECTION_BAD) return r;
  CONSENTRY_TRY(reconnect_if_lost(operation));
  return run();
}

result<std::vector<std::string>> PostgresStore::texts_among(std::string_view sql,
                                                            std::span<const std::string_view> items,
                                                            std::string_view operation) {
  std::vector<std::string> out;
  if (items.empty()) return out;
  auto wanted = pg_text_array(items, operation);
  if (!wanted) return std::move(wanted).err();
  auto r = exec(sql, PgParams{}.binary(wanted->view()), operation);
  if (!r) return std::move(r).err();
  const int rows = PQntuples(r->get());
  out.reserve(static_cast<std::size_t>(rows));
  for (int i = 0; i < rows; ++i) out.emplace_back(pg_text(r->get(), i, 0));
  return out;
}

result<PgResult> PostgresStore::exec_sql(std::string_view sql, std::string_view operation) {
  CONSENTRY_TRY(owned(operation));
  settle();
  if (!pending_.empty()) CONSENTRY_TRY(send_pending());
  CONSENTRY_TRY(await_writes());
  count_round_trip();
  return check(PQexec(conn_, with_schema(sql).c_str()), operation);
}

result<void> PostgresStore::send_pipelined(std::vector<PipelinedStatement>& statements) {
  if (statements.empty()) return ok();
  if (open_ != Open::write)
    return make_error(errc::internal,
                      std::string(statements.front().operation) + ": not in a write transaction");
  CONSENTRY_TRY(owned(statements.front().operation));
  // Prepared before pipeline mode, where a statement cannot be waited for.
  std::vector<const std::string*> names;
  for (const PipelinedStatement& st : statements) {
    if (st.params.has_nul())
      return make_error(errc::invalid_argument,
                        std::string(st.operation) + ": a text value holds a NUL byte");
    auto name = prepared(st.sql, st.operation);
    if (!name) return std::move(name).err();
    names.push_back(*name);
  }
  const auto lost = [&] {
    return make_error(errc::io, std::string(statements.front().operation) +
                                    ": the connection to the PostgreSQL vault was lost");
  };
  if (PQenterPipelineMode(conn_) != 1) return lost();
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const PgParams& p = statements[i].params;
    if (PQsendQueryPrepared(conn_, names[i]->c_str(), p.count(), p.values(), p.lengths(), p.formats(),
                            static_cast<int>(PgFormat::text)) != 1)
      break;
    writes_in_flight_.push_back(statements[i].operation);
  }
  // A statement that could not be queued means a lost connection: the answers of those that were
  // are read before the error is returned, and the transaction commits none of them.
  const bool all_sent = writes_in_flight_.size() == statements.size();
  if (PQpipelineSync(conn_) != 1 || !all_sent) {
    (void)await_writes();
    return lost();
  }
  // One request, answered once for all the statements.
  count_round_trip();
  return ok();
}

result<void> PostgresStore::await_writes() {
  if (writes_in_flight_.empty() && PQpipelineStatus(conn_) == PQ_PIPELINE_OFF) return ok();
  if (forked()) {
    writes_in_flight_.clear();
    return owned("write");
  }
  const std::vector<std::string_view> operations = std::move(writes_in_flight_);
  writes_in_flight_.clear();
  result<void> outcome = ok();
  // Each statement's answer is its results, then a null; after an error the server skips the
  // rest (PGRES_PIPELINE_ABORTED) up to the sync.
  for (std::string_view operation : operations) {
    while (PGresult* raw = PQgetResult(conn_)) {
      PgResult r(raw);
      const ExecStatusType status = PQresultStatus(raw);
      if (!outcome || status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK ||
          status == PGRES_PIPELINE_ABORTED)
        continue;
      auto failed = check(r.release(), operation);
      if (!failed) outcome = std::move(failed).err();
    }
    if (PQstatus(conn_) == CONNECTION_BAD) break;
  }
  if (PQstatus(conn_) != CONNECTION_BAD) {
    while (PGresult* raw = PQgetResult(conn_)) {
      const bool synced = PQresultStatus(raw) == PGRES_PIPELINE_SYNC;
      PQclear(raw);
      if (synced) break;
    }
  }
  const bool left = PQexitPipelineMode(conn_) == 1;
  if (outcome && (!left || PQstatus(conn_) == CONNECTION_BAD))
    return make_error(errc::io, std::string(operations.empty() ? "write" : operations.front()) +
                                    ": the connection to the PostgreSQL vault was lost");
  return outcome;
}

// ---- transactions ----

// reconnect_if_lost opens the connection again when it was lost (a server restart, a network
// cut, an administrator's pg_terminate_backend), outside a transaction only
// (nothing was in flight). Statements are prepared again on first use.
result<void> PostgresStore::reconnect_if_lost(std::string_view operation) {
  CONSENTRY_TRY(owned(operation));
  settle();
  if (PQstatus(conn_) == CONNECTION_OK) return ok();
  PQreset(conn_);
  prepared_.clear();
  if (PQstatus(conn_) != CONNECTION_OK)
    return make_error(errc::io, std::string(operation) + ": cannot reconnect to the PostgreSQL vault");
  PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
  if (!use_utf8())
    return make_error(errc::io,
                      std::string(operation) + ": reconnecting to the PostgreSQL vault: cannot use UTF8");
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
    auto bumped = exec(kBumpDataVersion, PgParams{}, "begin");
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

result<void> PostgresStore::begin_append(bool synced) {
  if (in_transaction()) return make_error(errc::internal, "begin: a transaction is already open");
  CONSENTRY_TRY(reconnect_if_lost("begin"));
  // No write lock: appends to a writer's own chain and checkpoints conflict with no other write
  // (docs/audit.md, "Many writers"). One round trip.
  auto begun = exec_sql(
      synced ? std::string_view("BEGIN ISOLATION LEVEL READ COMMITTED")
             : std::string_view("BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = off"),
      "begin");
  if (!begun) {
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE)
      PQclear(PQexec(conn_, "ROLLBACK"));
    return std::move(begun).err();
  }
  open_ = Open::append;
  return ok();
}

result<void> PostgresStore::begin_unsynced() {
  return start_write(false);
}

result<void> PostgresStore::commit() {
  if (!in_transaction()) return make_error(errc::internal, "commit: no transaction is open");
  if (forked()) {
    open_ = Open::none;
    pending_ = PendingWrites{};
    writes_in_flight_.clear();
    return owned("commit");
  }
  if (!pending_.empty()) {
    if (auto sent = send_pending(); !sent) {
      (void)rollback();
      return sent;
    }
  }
  if (auto answered = await_writes(); !answered) {
    (void)rollback();
    return answered;
  }
  open_ = Open::none;
  count_round_trip();
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
  pending_ = PendingWrites{};
  if (forked()) {
    writes_in_flight_.clear();
    return owned("rollback");
  }
  // What was sent is answered and dropped: the rollback undoes it.
  (void)await_writes();
  // A lost connection has rolled back already, on the server.
  if (PQstatus(conn_) == CONNECTION_BAD) return ok();
  auto r = exec_sql("ROLLBACK", "rollback");
  if (!r) return std::move(r).err();
  return ok();
}

result<void> PostgresStore::write(std::string_view operation, const std::function<result<void>()>& body) {
  if (open_ == Open::read)
    return make_error(errc::internal, std::string(operation) + ": a write inside a read snapshot");
  if (open_ == Open::append)
    return make_error(errc::internal, std::string(operation) + ": a write inside an audit append");
  if (open_ == Open::write) return body();
  CONSENTRY_TRY(begin());
  if (auto done = body(); !done) {
    (void)rollback();
    return done;
  }
  return commit();
}

result<void> PostgresStore::append_write(std::string_view operation,
                                         const std::function<result<void>()>& body) {
  if (open_ == Open::read)
    return make_error(errc::internal, std::string(operation) + ": a write inside a read snapshot");
  if (open_ == Open::write || open_ == Open::append) return body();
  CONSENTRY_TRY(begin_append(true));
  if (auto done = body(); !done) {
    (void)rollback();
    return done;
  }
  return commit();
}

result<void> PostgresStore::begin_read() {
  if (in_transaction()) return make_error(errc::internal, "begin_read: a transaction is open");
  CONSENTRY_TRY(reconnect_if_lost("begin_read"));
  // One snapshot, taken at its first statement (which reads data_version), for every read until
  // end_read.
  auto begun = exec_sql(kBeginRead, "begin_read");
  if (!begun) {
    if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE)
      PQclear(PQexec(conn_, "ROLLBACK"));
    return std::move(begun).err();
  }
  open_ = Open::read;
  // Text format (a simple query); a state row that is missing or odd is left for data_version()
  // to report.
  snapshot_data_version_.reset();
  if (PQntuples(begun->get()) == 1 && !PQgetisnull(begun->get(), 0, 0)) {
    const std::string text(pg_text(begun->get(), 0, 0));
    std::uint64_t v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec == std::errc{} && end == text.data() + text.size()) snapshot_data_version_ = v;
  }
  return ok();
}

void PostgresStore::end_read() noexcept {
  if (open_ != Open::read) return;
  open_ = Open::none;
  snapshot_data_version_.reset();
  if (forked()) {
    sever();
    return;
  }
  if (PQstatus(conn_) == CONNECTION_BAD) return;
  // The server ends the snapshot as soon as the COMMIT arrives; only its answer is read later,
  // by settle() before the connection's next use, so the caller does not wait a round trip for
  // a transaction that changed nothing.
  if (PQsendQuery(conn_, "COMMIT") == 1) {
    commit_in_flight_ = true;
    return;
  }
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
}

void PostgresStore::settle() noexcept {
  if (!commit_in_flight_) return;
  commit_in_flight_ = false;
  // The answer belongs to the parent: a child reading it would take it from the parent's stream.
  if (forked()) {
    sever();
    return;
  }
  while (PGresult* r = PQgetResult(conn_)) PQclear(r);
  // A read-only COMMIT that failed changed nothing; the transaction must still end.
  if (PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) != PQTRANS_IDLE)
    PQclear(PQexec(conn_, "ROLLBACK"));
}

result<std::optional<std::uint64_t>> PostgresStore::data_version() {
  // Read with the snapshot's first statement (begin_read), so it is the snapshot's.
  if (open_ == Open::read && snapshot_data_version_)
    return std::optional<std::uint64_t>(*snapshot_data_version_);
  if (!in_transaction()) CONSENTRY_TRY(reconnect_if_lost("data_version"));
  auto r = exec(kDataVersion, PgParams{}, "data_version");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) != 1)
    return make_error(errc::integrity, "data_version: schema '" + schema_ + "' is damaged: no state row");
  auto v = pg_int(r->get(), 0, 0);
  if (!v) return std::move(v).err();
  return std::optional<std::uint64_t>(static_cast<std::uint64_t>(*v));
}

// ---- opening by URL (extension/store.hpp) ----

namespace {

/// PgLocation is a vault URL split into what libpq reads and the schema the store uses.
struct PgLocation {
  std::string conninfo;
  std::string schema = "consentry";
};

// valid_schema_name: letters, digits and `_`, not starting with a digit, at most 63 bytes (the
// longest identifier PostgreSQL keeps whole).
bool valid_schema_name(std::string_view s) {
  if (s.empty() || s.size() > 63 || (s[0] >= '0' && s[0] <= '9')) return false;
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// split_location takes the parameter consentry_schema out of the URI's query (libpq refuses
// parameters it does not know) and checks it.
result<PgLocation> split_location(std::string_view url) {
  if (!is_postgres_url(url))
    return make_error(errc::invalid_argument,
                      "not a PostgreSQL URI (postgresql://...): " + redacted_location(url));
  PgLocation out;
  const std::size_t query = url.find('?');
  if (query == std::string_view::npos) {
    out.conninfo = std::string(url);
    return out;
  }
  out.conninfo = std::string(url.substr(0, query));
  std::string kept;
  for (std::size_t p = query + 1; p <= url.size();) {
    std::size_t end = url.find('&', p);
    if (end == std::string_view::npos) end = url.size();
    const std::string_view param = url.substr(p, end - p);
    if (param.starts_with("consentry_schema=")) {
      out.schema = std::string(param.substr(17));
      if (!valid_schema_name(out.schema))
        return make_error(
            errc::invalid_argument,
            "consentry_schema in the PostgreSQL URI must be letters, digits and '_', at most 63 "
            "bytes, not starting with a digit");
    } else if (!param.empty()) {
      kept += kept.empty() ? "?" : "&";
      kept += param;
    }
    p = end + 1;
  }
  out.conninfo += kept;
  return out;
}

}  // namespace

}  // namespace consentry::detail

namespace consentry {

result<std::unique_ptr<Store>> open_postgres_store(std::string_view url, StoreMode mode) {
  auto location = detail::split_location(url);
  if (!location) return std::move(location).err();
  auto store = detail::PostgresStore::connect(location->conninfo, mode, location->schema);
  if (!store) return std::move(store).err();
  return std::unique_ptr<Store>(std::move(*store));
}

result<void> drop_postgres_vault(std::string_view url) {
  auto location = detail::split_location(url);
  if (!location) return std::move(location).err();
  auto store = detail::PostgresStore::connect(location->conninfo, StoreMode::open, location->schema);
  if (!store) return std::move(store).err();
  auto dropped = (*store)->exec_sql("DROP SCHEMA @S CASCADE", "dropping the vault");
  if (!dropped) return std::move(dropped).err();
  return ok();
}

}  // namespace consentry
