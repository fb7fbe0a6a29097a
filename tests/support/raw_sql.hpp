// raw_sql.hpp: reading a vault file with the raw SQLite C API, as someone with the file would.
#pragma once

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <string>

namespace consentry::test {

/// wrapped_key returns a customer's wrapped data key read straight from the vault file ("" if none).
inline std::string wrapped_key(const std::filesystem::path& file, const std::string& customer) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT wrapped FROM data_keys WHERE customer = ?1", -1, &st, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_text(st, 1, customer.c_str(), -1, SQLITE_TRANSIENT);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW)
    out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
               static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

/// execute_sql runs `sql` on the vault file with the raw SQLite C API, as an administrator with
/// SQL access would, and returns the number of rows the last statement changed.
inline int execute_sql(const std::filesystem::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string why = message ? message : "";
  sqlite3_free(message);
  const int changed = sqlite3_changes(db);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, why);
  return changed;
}

}  // namespace consentry::test
