/* read_each_test.c (ctest c_api.read_each): consentry_accessor_read_each reads many customers as
 * consentry_accessor_read reads each: the same outcomes, in the order given, one audit entry per
 * customer; a withdrawal made mid-walk decides the batches after it; the callback can stop the
 * walk; what it is lent is dead once it returns; bad arguments are refused before any read. */
#include <stdint.h>

#include "check.h"

/* Walk records what the callback was handed. */
typedef struct Walk {
  int calls;
  int stop_after;                 /* stop the walk after this many calls; 0: never */
  consentry_vault* withdraw_from; /* when set, the first call withdraws C-3's marketing consent */
  char customers[8][16];
  int status[8];                   /* CONSENTRY_OK when read, else the refusal's status */
  consentry_errc code[8];          /* the refusal's errc */
  int field_status[8];             /* the first field's status */
  char value[8][64];               /* the first field's value when read */
  const consentry_read* lent_read; /* a lent read, kept to check it is dead afterwards */
} Walk;

static int record(void* context, const char* customer, const consentry_read* read,
                  const consentry_error* error) {
  Walk* w = (Walk*)context;
  int i = w->calls++;
  REQUIRE(i < 8);
  snprintf(w->customers[i], sizeof w->customers[i], "%s", customer);
  w->value[i][0] = '\0';
  if (read != NULL) {
    const char* value = NULL;
    consentry_error* err = NULL;
    CHECK(error == NULL);
    w->status[i] = CONSENTRY_OK;
    w->code[i] = CONSENTRY_ERRC_NONE;
    w->field_status[i] = consentry_read_field(read, 0, &value, NULL, &err);
    if (w->field_status[i] == CONSENTRY_OK) snprintf(w->value[i], sizeof w->value[i], "%s", value);
    consentry_free(err);
    w->lent_read = read;
  } else {
    CHECK(error != NULL);
    w->status[i] = consentry_error_status(error);
    w->code[i] = consentry_error_code(error);
    w->field_status[i] = -1;
    CHECK(strstr(consentry_error_message(error), "@example.com") == NULL); /* no value in a message */
  }
  if (w->withdraw_from != NULL && i == 0) {
    consentry_error* err = NULL;
    OK(consentry_vault_record_consent(w->withdraw_from, "C-3", "marketing", CONSENTRY_CONSENT_WITHDRAW, "web",
                                      NULL, &err));
  }
  return w->stop_after != 0 && w->calls >= w->stop_after;
}

static int64_t audit_entries(consentry_vault* vault) {
  consentry_error* err = NULL;
  int64_t entries = 0;
  OK(consentry_vault_verify_audit(vault, &entries, &err));
  return entries;
}

int main(void) {
  char dir[4096];
  char path[4096];
  consentry_error* err = NULL;
  consentry_vault* vault = NULL;
  consentry_accessor* mailer = NULL;
  const char* email[] = {"email"};
  const char* ids[] = {"C-1", "C-2", "C-3", "C-4", "C\x01"};
  char address[32];
  size_t done = 99;
  int64_t before = 0;
  int i;
  Walk w;

  scratch_dir(dir, sizeof dir);
  vault = new_vault(dir, path, sizeof path);
  for (i = 1; i <= 4; ++i) {
    char id[8];
    snprintf(id, sizeof id, "C-%d", i);
    snprintf(address, sizeof address, "c%d@example.com", i);
    OK(consentry_vault_put(vault, id, "email", address, NULL, &err));
    if (i != 2)
      OK(consentry_vault_record_consent(vault, id, "marketing", CONSENTRY_CONSENT_GRANT, "web", NULL, &err));
  }
  OK(consentry_vault_erase(vault, "C-4", "the customer asked", NULL, &err));
  OK(consentry_vault_accessor(vault, "mailer", &mailer, &err));

  /* Every customer in the order given: read, denied field by field, erased, an invalid id. One
   * audit entry each. */
  memset(&w, 0, sizeof w);
  before = audit_entries(vault);
  OK(consentry_accessor_read_each(mailer, ids, 5, "marketing", email, 1, 0, record, &w, &done, &err));
  CHECK(done == 5 && w.calls == 5);
  CHECK(strcmp(w.customers[0], "C-1") == 0 && strcmp(w.customers[3], "C-4") == 0);
  CHECK(w.status[0] == CONSENTRY_OK && w.field_status[0] == CONSENTRY_OK);
  CHECK(strcmp(w.value[0], "c1@example.com") == 0);
  CHECK(w.status[1] == CONSENTRY_OK && w.field_status[1] == CONSENTRY_DENIED); /* no consent */
  CHECK(w.status[2] == CONSENTRY_OK && strcmp(w.value[2], "c3@example.com") == 0);
  CHECK(w.status[3] == CONSENTRY_NOT_FOUND && w.code[3] == CONSENTRY_ERRC_ERASED);
  CHECK(w.status[4] == CONSENTRY_BAD_INPUT && w.code[4] == CONSENTRY_ERRC_INVALID_ARGUMENT);
  /* C-1, C-2 and C-3 logged one entry each, C-4's refusal one; the invalid id none. */
  CHECK(audit_entries(vault) == before + 4);
  /* What the callback was lent is dead once it returned. */
  CHECK(consentry_read_count(w.lent_read) == 0);
  CHECK(consentry_read_field(w.lent_read, 0, NULL, NULL, &err) == CONSENTRY_BAD_INPUT);
  consentry_free(err);
  err = NULL;

  /* A withdrawal committed while the walk is handed out decides the batches read after it. */
  memset(&w, 0, sizeof w);
  w.withdraw_from = vault;
  OK(consentry_accessor_read_each(mailer, ids, 3, "marketing", email, 1, 1, record, &w, &done, &err));
  CHECK(done == 3);
  CHECK(w.field_status[0] == CONSENTRY_OK && w.field_status[2] == CONSENTRY_DENIED);

  /* The callback stops the walk: no error, and the count says how far it went. */
  memset(&w, 0, sizeof w);
  w.stop_after = 2;
  OK(consentry_accessor_read_each(mailer, ids, 5, "marketing", email, 1, 1, record, &w, &done, &err));
  CHECK(done == 2 && w.calls == 2);

  /* Bad arguments are refused before anything is read or logged. */
  memset(&w, 0, sizeof w);
  before = audit_entries(vault);
  EXPECT_ERROR(
      consentry_accessor_read_each(mailer, ids, 3, "marketing", email, 0, 0, record, &w, &done, &err),
      CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_ERROR(
      consentry_accessor_read_each(mailer, NULL, 3, "marketing", email, 1, 0, record, &w, &done, &err),
      CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT);
  EXPECT_ERROR(consentry_accessor_read_each(mailer, ids, 3, "marketing", email, 1, 0, NULL, &w, &done, &err),
               CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT);
  {
    const char* with_null[] = {"C-1", NULL};
    EXPECT_ERROR(
        consentry_accessor_read_each(mailer, with_null, 2, "marketing", email, 1, 0, record, &w, &done, &err),
        CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT);
  }
  CHECK(w.calls == 0 && done == 0);
  CHECK(audit_entries(vault) == before);
  /* No customer is no error. */
  OK(consentry_accessor_read_each(mailer, NULL, 0, "marketing", email, 1, 0, record, &w, &done, &err));
  CHECK(done == 0 && w.calls == 0);

  /* A closed vault. */
  OK(consentry_vault_close(vault, &err));
  EXPECT_ERROR(
      consentry_accessor_read_each(mailer, ids, 1, "marketing", email, 1, 0, record, &w, &done, &err),
      CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT);
  CHECK(consentry_free(mailer) == CONSENTRY_OK);
  remove_scratch(dir);
  return finish("c_api.read_each");
}
