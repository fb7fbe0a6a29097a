/* integrity_test.c (ctest c_api.integrity): a value changed in the vault file behind the
 * library's back (an administrator with SQL access flips one byte of a sealed value) fails to
 * authenticate: a read returns CONSENTRY_INTEGRITY (4), as in C++, and so does the export; an
 * audit log entry changed the same way makes consentry_vault_verify_audit return 4. */
#include <sqlite3.h>

#include "check.h"

/* tamper flips one byte in the middle of the blob `column` of the one row of `table` that
 * `where` selects. */
static void tamper(const char* path, const char* table, const char* where, const char* column) {
  sqlite3* db = NULL;
  sqlite3_stmt* select = NULL;
  sqlite3_stmt* update = NULL;
  char sql[512];
  int size;
  unsigned char* blob;
  REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
  REQUIRE(snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", column, table, where) < (int)sizeof sql);
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &select, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_step(select) == SQLITE_ROW);
  size = sqlite3_column_bytes(select, 0);
  REQUIRE(size > 0);
  blob = malloc((size_t)size);
  REQUIRE(blob != NULL);
  memcpy(blob, sqlite3_column_blob(select, 0), (size_t)size);
  REQUIRE(sqlite3_step(select) == SQLITE_DONE); /* exactly one row */
  sqlite3_finalize(select);
  blob[size / 2] ^= 0x01;
  REQUIRE(snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE %s", table, column, where) <
          (int)sizeof sql);
  REQUIRE(sqlite3_prepare_v2(db, sql, -1, &update, NULL) == SQLITE_OK);
  sqlite3_bind_blob(update, 1, blob, size, SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(update) == SQLITE_DONE);
  REQUIRE(sqlite3_changes(db) == 1);
  sqlite3_finalize(update);
  free(blob);
  REQUIRE(sqlite3_close(db) == SQLITE_OK);
}

/* run_sql runs statements on the vault file. */
static void run_sql(const char* path, const char* sql) {
  sqlite3* db = NULL;
  REQUIRE(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_close(db) == SQLITE_OK);
}

int main(void) {
  char dir[4096];
  char path[4096];
  consentry_error* err = NULL;
  consentry_vault* vault;
  consentry_accessor* support = NULL;
  consentry_view* view = NULL;
  consentry_read* read = NULL;
  consentry_export* export_ = NULL;
  char* value = NULL;
  const char* fields[] = {"email"};

  scratch_dir(dir, sizeof dir);
  vault = new_vault(dir, path, sizeof path);
  OK(consentry_vault_put(vault, "C-1", "email", "ada@example.com", NULL, &err));
  OK(consentry_vault_close(vault, &err));

  /* Only the sealed value changes: the vault opens, the read fails to authenticate. */
  tamper(path, "fields", "field = 'email'", "sealed");
  OK(consentry_vault_open(path, "test passphrase", NULL, &vault, &err));
  OK(consentry_vault_accessor(vault, "support", &support, &err));
  OK(consentry_accessor_view(support, "C-1", "service", &view, &err));
  EXPECT_ERROR(consentry_view_get(view, "email", &value, NULL, &err), CONSENTRY_INTEGRITY,
               CONSENTRY_ERRC_INTEGRITY);
  CHECK(value == NULL);
  {
    int status = consentry_view_read(view, fields, 1, &read, &err);
    if (status == CONSENTRY_OK) {
      EXPECT_ERROR(consentry_read_field(read, 0, NULL, NULL, &err), CONSENTRY_INTEGRITY,
                   CONSENTRY_ERRC_INTEGRITY);
      consentry_free(read);
    } else {
      CHECK(status == CONSENTRY_INTEGRITY);
      consentry_free(err);
      err = NULL;
    }
  }
  EXPECT_ERROR(consentry_vault_export(vault, "C-1", NULL, &export_, &err), CONSENTRY_INTEGRITY,
               CONSENTRY_ERRC_INTEGRITY);
  OK(consentry_vault_verify_audit(vault, NULL, &err));
  consentry_free(view);
  consentry_free(support);
  OK(consentry_vault_close(vault, &err));

  /* An audit entry changed (its append-only trigger dropped first): the log no longer verifies. */
  run_sql(path, "DROP TRIGGER audit_no_update;");
  tamper(path, "audit", "seq = 1", "entry");
  OK(consentry_vault_open(path, "test passphrase", NULL, &vault, &err));
  CHECK(consentry_vault_verify_audit(vault, NULL, &err) == CONSENTRY_INTEGRITY);
  CHECK(consentry_error_code(err) == CONSENTRY_ERRC_INTEGRITY);
  CHECK(strstr(consentry_error_message(err), "does not verify") != NULL);
  consentry_free(err);
  err = NULL;
  consentry_free(vault);

  remove_scratch(dir);
  return finish("c_api.integrity");
}
