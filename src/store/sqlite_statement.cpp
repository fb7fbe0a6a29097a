// sqlite_statement.cpp: the mapping of SQLite result codes to the library's errors.
#include "store/sqlite_statement.hpp"

#include <string>

#include "io/fork_generation.hpp"
#include "store/scrubbing_vfs.hpp"

namespace consentry::detail {

bool is_damage(int rc) noexcept {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

error sqlite_error(int rc, std::string_view operation, std::string_view message) {
  if (is_damage(rc))
    return make_error(errc::integrity,
                      std::string(operation) + ": the vault file is damaged (" + std::string(message) + ")");
  return make_error(errc::io, std::string(operation) + ": " + std::string(message));
}

error db_error(sqlite3* db, std::string_view operation) {
  if (opened_before_fork(db)) return used_after_fork(operation);
  return sqlite_error(sqlite3_extended_errcode(db), operation, sqlite3_errmsg(db));
}

bool is_not_a_vault_code(int rc) noexcept {
  return is_damage(rc) || (rc & 0xff) == SQLITE_ERROR;
}

error schema_error(sqlite3* db, std::string_view operation) {
  if ((sqlite3_extended_errcode(db) & 0xff) == SQLITE_ERROR)
    return make_error(
        errc::integrity,
        std::string(operation) + ": the vault's tables do not match its schema (" + sqlite3_errmsg(db) + ")");
  return db_error(db, operation);
}

}  // namespace consentry::detail
