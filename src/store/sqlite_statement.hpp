// sqlite_statement.hpp: the SQLite store's statement helper (private to src/store/): Bound, a
// prepared statement bound by position and reset when the call is done; for_each_row, the one
// step loop every query goes through; and the mapping of SQLite result codes to errors.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry::detail {

/// is_damage tells whether an SQLite result code says the file is damaged: "database disk image
/// is malformed" (SQLITE_CORRUPT) or "file is not a database" (SQLITE_NOTADB).
bool is_damage(int rc) noexcept;

/// sqlite_error describes a failed SQLite call by its result code and message. A damaged vault
/// file is errc::integrity, as any other corrupt data (exit 4); everything else, such as a full
/// disk, a permission or a lock, is errc::io.
error sqlite_error(int rc, std::string_view operation, std::string_view message);

/// db_error describes the last failure of `db` (see sqlite_error); errc::io naming the fork when
/// the vault was opened in a process this one was forked from (opened_before_fork).
error db_error(sqlite3* db, std::string_view operation);

/// is_not_a_vault_code tells "this file is not ours, or is damaged" (not SQLite, SQLite without
/// our tables, or a malformed file) apart from failures of the disk or the lock.
bool is_not_a_vault_code(int rc) noexcept;

/// schema_error describes a statement that does not prepare on an opened vault: a table or
/// column it names is missing (SQLITE_ERROR), so the file is damaged or not of this schema
/// (errc::integrity); any other failure as db_error.
error schema_error(sqlite3* db, std::string_view operation);

/// to_unix and from_unix convert between a timestamp and the seconds stored in a column.
inline std::int64_t to_unix(timestamp t) {
  return t.time_since_epoch().count();
}
inline timestamp from_unix(std::int64_t s) {
  return timestamp{std::chrono::seconds{s}};
}

/// Bound is a prepared statement during one call: parameters are bound by position, and when the
/// Bound goes out of scope the statement is reset and its bindings cleared, so the cached
/// statement is ready for the next call and holds no pointer into the caller's buffers.
class Bound {
 public:
  explicit Bound(sqlite3_stmt* s) noexcept : s_(s) {}
  Bound(const Bound&) = delete;
  Bound& operator=(const Bound&) = delete;
  ~Bound() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }

  /// text, blob, integer and null bind parameter `i` (1-based). Each sets ok() to false on
  /// failure; check ok() once after binding everything (for_each_row, exec and expect_row do).
  /// Text and blobs are bound without a copy: they must outlive the Bound.
  Bound& text(int i, std::string_view v) {
    // A null pointer would bind SQL NULL; an empty string must stay an empty string.
    static constexpr char kEmpty[] = "";
    track(sqlite3_bind_text64(s_, i, v.empty() ? kEmpty : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8));
    return *this;
  }
  Bound& blob(int i, byte_view v) {
    static constexpr std::uint8_t kEmpty[1] = {0};
    track(sqlite3_bind_blob64(s_, i, v.empty() ? kEmpty : v.data(), v.size(), SQLITE_STATIC));
    return *this;
  }
  Bound& integer(int i, std::int64_t v) {
    track(sqlite3_bind_int64(s_, i, v));
    return *this;
  }
  Bound& null(int i) {
    track(sqlite3_bind_null(s_, i));
    return *this;
  }
  /// ok is false when a bind failed.
  bool ok() const noexcept { return ok_; }

  /// step returns SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  /// db is the connection the statement belongs to.
  sqlite3* db() const noexcept { return sqlite3_db_handle(s_); }

  /// exec runs a statement that returns no row (INSERT, DELETE, BEGIN, ...): db_error naming
  /// `operation` when a bind failed or the step does not finish with SQLITE_DONE.
  result<void> exec(std::string_view operation) {
    if (!ok_ || step() != SQLITE_DONE) return db_error(db(), operation);
    return consentry::ok();
  }
  /// expect_row steps to the one row a statement always returns (an aggregate, EXISTS): db_error
  /// naming `operation` when a bind failed or there is no row. The row's columns follow.
  result<void> expect_row(std::string_view operation) {
    if (!ok_ || step() != SQLITE_ROW) return db_error(db(), operation);
    return consentry::ok();
  }

  /// column_* read column `i` (0-based) of the current row.
  std::string column_text(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }
  bytes column_blob(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    return p ? bytes(p, p + n) : bytes();
  }
  /// column_text_into and column_blob_into overwrite `out`, reusing its capacity, so a loop that
  /// reads many rows into one object allocates only while its buffers grow.
  void column_text_into(int i, std::string& out) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    if (p)
      out.assign(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n));
    else
      out.clear();
  }
  void column_blob_into(int i, bytes& out) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    if (p)
      out.assign(p, p + n);
    else
      out.clear();
  }
  /// column_text_view and column_blob_view borrow the column's bytes from SQLite: valid until
  /// the next step or reset of the statement.
  std::string_view column_text_view(int i) const {
    const unsigned char* p = sqlite3_column_text(s_, i);
    const int n = sqlite3_column_bytes(s_, i);
    return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n))
             : std::string_view();
  }
  byte_view column_blob_view(int i) const {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(s_, i));
    const int n = sqlite3_column_bytes(s_, i);
    return p ? byte_view(p, static_cast<std::size_t>(n)) : byte_view();
  }
  std::int64_t column_int(int i) const { return sqlite3_column_int64(s_, i); }
  bool column_is_null(int i) const { return sqlite3_column_type(s_, i) == SQLITE_NULL; }

 private:
  void track(int rc) {
    if (rc != SQLITE_OK) ok_ = false;
  }
  sqlite3_stmt* s_;
  bool ok_ = true;
};

/// for_each_row steps `q` and calls `visit(q)` (as const Bound&) with each row, in order.
/// `visit` returns void to go on, bool (false stops, as ok), result<void> (an error stops and is
/// returned) or result<bool> (both). A failed bind or step is db_error naming `operation`; a
/// query whose rows run out returns ok.
template <class Visit>
result<void> for_each_row(Bound& q, std::string_view operation, Visit&& visit) {
  using Returned = std::invoke_result_t<Visit&, const Bound&>;
  if (!q.ok()) return db_error(q.db(), operation);
  const Bound& row = q;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    if constexpr (std::is_void_v<Returned>) {
      visit(row);
    } else if constexpr (std::is_same_v<Returned, bool>) {
      if (!visit(row)) return ok();
    } else if constexpr (std::is_same_v<Returned, result<void>>) {
      CONSENTRY_TRY(visit(row));
    } else {
      static_assert(std::is_same_v<Returned, result<bool>>, "visit returns void, bool or a result of them");
      auto go_on = visit(row);
      if (!go_on) return std::move(go_on).err();
      if (!*go_on) return ok();
    }
  }
  if (rc != SQLITE_DONE) return db_error(q.db(), operation);
  return ok();
}

}  // namespace consentry::detail
