// postgres_store.hpp: the PostgreSQL store over libpq (private to src/store/), a first step of
// docs/postgresql.md: the connection by URL, the schema's creation and check under an advisory
// lock, prepared statements with their parameters, and the transactions role. The other roles
// follow; docs/postgresql.md maps each of their calls to SQL.
#pragma once

#include <libpq-fe.h>

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/result.hpp"

namespace consentry::detail {

/// PgResultFree frees a PGresult; PgResult owns one.
struct PgResultFree {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultFree>;

/// PgFormat is libpq's format code of a parameter or of a statement's result columns.
enum class PgFormat : int { text = 0, binary = 1 };

/// PgParams holds one statement's parameters, in order ($1, $2, ...). Text and integers are
/// copied; binary values are borrowed and must outlive the call that runs the statement.
class PgParams {
 public:
  /// text adds a text parameter. PostgreSQL's text holds no NUL byte: a value with one makes
  /// the statement fail with errc::invalid_argument before it is sent.
  PgParams& text(std::string_view v);
  /// binary adds a bytea parameter, sent in binary format (borrowed, not copied).
  PgParams& binary(byte_view v);
  /// integer adds an integer parameter (sent as its decimal text; the server casts it).
  PgParams& integer(std::int64_t v);
  /// null adds an SQL NULL.
  PgParams& null();

  int count() const noexcept { return static_cast<int>(values_.size()); }
  const char* const* values() const noexcept { return values_.data(); }
  const int* lengths() const noexcept { return lengths_.data(); }
  const int* formats() const noexcept { return formats_.data(); }
  /// has_nul is true when a text parameter holds a NUL byte (it cannot be sent).
  bool has_nul() const noexcept { return has_nul_; }

 private:
  std::deque<std::string> owned_;  // a deque: adding a string moves none of the others
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  bool has_nul_ = false;
};

/// pg_int reads an integer column (int2, int4 or int8, in binary format) of `row`; 0 for NULL;
/// errc::integrity for a value of another width.
result<std::int64_t> pg_int(const PGresult* r, int row, int column);

/// PgSql names the store's prepared statements (their text is kPgStatements in
/// postgres_store.cpp; `@S` there stands for the quoted schema name).
enum class PgSql : std::size_t {
  bump_data_version,
  data_version,
  count,
};

/// kPostgresSchemaVersion is the schema version this library creates and reads.
inline constexpr std::int64_t kPostgresSchemaVersion = 1;

/// PostgresStore is the PostgreSQL store over one libpq connection. So far it implements the
/// transactions role only (docs/postgresql.md, "Transactions and data_version"): a write
/// transaction is READ COMMITTED and takes the vault's write lock, the one row of `state`, by
/// bumping its data_version, which is how another connection's commit is seen. Not thread-safe,
/// like every store.
class PostgresStore final : public StoreTransactions {
 public:
  /// connect opens a connection to the server `url` names (a libpq connection URI or
  /// key=value string) and then, in one transaction under an advisory lock for `schema`:
  /// StoreMode::create creates the schema namespace `schema` and its tables (errc::already_exists
  /// when it holds a vault); StoreMode::open checks it holds a vault of this schema version
  /// (errc::not_found when it holds none, errc::integrity for another version). errc::io when the
  /// connection or the server fails; errc::invalid_argument for an empty schema name. Messages
  /// never hold the URL (it may carry a password).
  static result<std::unique_ptr<PostgresStore>> connect(const std::string& url, StoreMode mode,
                                                        std::string schema = "consentry");

  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  // ---- the transactions role (extension/store/transactions.hpp) ----
  result<void> begin() override;
  result<void> commit() override;
  result<void> rollback() override;
  result<void> begin_unsynced() override;
  result<void> begin_read() override;
  void end_read() noexcept override;
  result<std::optional<std::uint64_t>> data_version() override;

  /// in_transaction is true between begin (or begin_read) and the commit or rollback that ends it.
  bool in_transaction() const noexcept { return open_ != Open::none; }
  /// schema is the schema namespace the vault lives in (unquoted).
  const std::string& schema() const noexcept { return schema_; }

  /// exec runs a prepared statement (preparing it on this connection first if needed) and returns
  /// its result, columns in `format`; errc::io naming `operation` and the SQLSTATE when the
  /// server refuses it or the connection fails (never the server's message, which may quote a
  /// value), errc::invalid_argument for a text parameter with a NUL byte.
  result<PgResult> exec(PgSql which, const PgParams& params, std::string_view operation,
                        PgFormat format = PgFormat::binary);
  /// exec_sql runs SQL without parameters (several statements allowed), `@S` standing for the
  /// quoted schema; fails as exec.
  result<PgResult> exec_sql(std::string_view sql, std::string_view operation);

 private:
  enum class Open { none, write, read };
  explicit PostgresStore(PGconn* conn, std::string schema);
  result<void> set_up_schema(StoreMode mode);
  result<void> reconnect_if_lost(std::string_view operation);
  result<void> start_write(bool synced);
  /// with_schema replaces every `@S` in `sql` by the quoted schema name.
  std::string with_schema(std::string_view sql) const;
  /// check turns a result that is not `expected` into errc::io naming `operation`.
  result<PgResult> check(PGresult* r, std::string_view operation) const;

  PGconn* conn_;
  std::string schema_;
  std::string quoted_schema_;
  std::bitset<static_cast<std::size_t>(PgSql::count)> prepared_;
  Open open_ = Open::none;
};

}  // namespace consentry::detail
