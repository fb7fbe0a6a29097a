/* misuse_test.c (ctest c_api.misuse): what a C caller can get wrong gives a status and an error,
 * never a crash: NULL handles and out-parameters, double frees, foreign pointers, handles of the
 * wrong kind, invalid UTF-8, values out of an enum's range, accessors not registered, views and
 * accessors used after their vault closed, and a vault closed while other threads read. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "check.h"

/* EXPECT_INVALID: the call fails with status 2, errc invalid_argument. */
#define EXPECT_INVALID(call) EXPECT_ERROR(call, CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT)

static void test_error_getters(void) {
  consentry_error* err = NULL;
  CHECK(consentry_error_status(NULL) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_error_code(NULL) == CONSENTRY_ERRC_INVALID_ARGUMENT);
  CHECK(consentry_error_reason(NULL) == CONSENTRY_DENY_NONE);
  CHECK(strcmp(consentry_error_reason_name(NULL), "none") == 0);
  CHECK(strcmp(consentry_error_message(NULL), "") == 0);
  CHECK(strcmp(consentry_errc_name(CONSENTRY_ERRC_ERASED), "erased") == 0);
  CHECK(strcmp(consentry_errc_name((consentry_errc)99), "internal") == 0);
  CHECK(strcmp(consentry_deny_reason_name(CONSENTRY_DENY_CONSENT_OUTDATED), "consent_outdated") == 0);
  CHECK(strcmp(consentry_deny_reason_name(CONSENTRY_DENY_LOOKUP_NOT_ALLOWED), "lookup_not_allowed") == 0);
  CHECK(strcmp(consentry_deny_reason_name((consentry_deny_reason)-1), "none") == 0);
  CHECK(strcmp(consentry_deny_reason_name((consentry_deny_reason)18), "none") == 0);

  /* An error object, freed, is dead: its getters give the defaults. */
  CHECK(consentry_policy_parse(NULL, NULL, &err) == CONSENTRY_BAD_INPUT);
  REQUIRE(err != NULL);
  CHECK(strstr(consentry_error_message(err), "json") != NULL);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  CHECK(consentry_free(err) == CONSENTRY_BAD_INPUT);
  /* No error wanted: the status alone. */
  CHECK(consentry_policy_parse("not json", NULL, NULL) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_vault_put(NULL, "C-1", "email", "a@b.example", NULL, NULL) == CONSENTRY_BAD_INPUT);
}

static void test_free(void) {
  consentry_error* err = NULL;
  consentry_policy* policy = NULL;
  char* json = NULL;
  int on_stack = 0;
  char* foreign = malloc(16);

  CHECK(consentry_free(NULL) == CONSENTRY_OK);
  /* Pointers the library never returned are refused, not freed. */
  CHECK(consentry_free(&on_stack) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(foreign) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free((void*)"a string literal") == CONSENTRY_BAD_INPUT);
  free(foreign);

  OK(consentry_policy_parse(kTestPolicy, &policy, &err));
  OK(consentry_policy_to_json(policy, &json, &err));
  /* A pointer inside a library string is not the string. */
  CHECK(consentry_free(json + 1) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(json) == CONSENTRY_OK);
  CHECK(consentry_free(json) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(policy) == CONSENTRY_OK);
  CHECK(consentry_free(policy) == CONSENTRY_BAD_INPUT);
  /* A freed policy is a dead handle. */
  EXPECT_INVALID(consentry_policy_to_json(policy, &json, &err));
  CHECK(json == NULL);
}

static void test_null_arguments(consentry_vault* vault) {
  consentry_error* err = NULL;
  consentry_policy* policy = NULL;
  consentry_vault* other = NULL;
  consentry_accessor* accessor = NULL;
  consentry_view* view = NULL;
  consentry_read* read = NULL;
  consentry_export* export_ = NULL;
  char* value = NULL;
  char** list = NULL;
  int flag = 0;
  int64_t entries = 0;
  const char* fields[] = {"email", NULL};
  const char* values[] = {"a@b.example", NULL};
  const char* text = NULL;

  /* Policies. */
  EXPECT_INVALID(consentry_policy_load(NULL, &policy, &err));
  EXPECT_INVALID(consentry_policy_load("policy.json", NULL, &err));
  EXPECT_INVALID(consentry_policy_parse(NULL, &policy, &err));
  EXPECT_INVALID(consentry_policy_parse(kTestPolicy, NULL, &err));
  EXPECT_INVALID(consentry_policy_to_json(NULL, &value, &err));
  OK(consentry_policy_parse(kTestPolicy, &policy, &err));
  EXPECT_INVALID(consentry_policy_to_json(policy, NULL, &err));

  /* Vaults: NULL path, policy, passphrase, out. */
  EXPECT_INVALID(consentry_vault_create(NULL, policy, "p", NULL, &other, &err));
  EXPECT_INVALID(consentry_vault_create("x.vault", NULL, "p", NULL, &other, &err));
  EXPECT_INVALID(consentry_vault_create("x.vault", policy, NULL, NULL, &other, &err));
  EXPECT_INVALID(consentry_vault_create("x.vault", policy, "p", NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_open(NULL, "p", NULL, &other, &err));
  EXPECT_INVALID(consentry_vault_open("x.vault", NULL, NULL, &other, &err));
  EXPECT_INVALID(consentry_vault_open("x.vault", "p", NULL, NULL, &err));
  CHECK(other == NULL);
  CHECK(consentry_vault_close(NULL, &err) == CONSENTRY_OK);
  consentry_vault_options_init(NULL);

  /* Every vault call on a NULL vault. */
  EXPECT_INVALID(consentry_vault_put(NULL, "C-1", "email", "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_write(NULL, "C-1", fields, values, 1, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(NULL, "C-1", "marketing", CONSENTRY_CONSENT_GRANT, NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_contains(NULL, "C-1", &flag, &err));
  EXPECT_INVALID(consentry_vault_customers(NULL, &list, NULL, &err));
  EXPECT_INVALID(consentry_vault_eligible_customers(NULL, "marketing", &list, NULL, &err));
  EXPECT_INVALID(consentry_vault_erase(NULL, "C-1", NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_export(NULL, "C-1", NULL, &export_, &err));
  EXPECT_INVALID(consentry_vault_flush_audit(NULL, &err));
  EXPECT_INVALID(consentry_vault_verify_audit(NULL, &entries, &err));
  EXPECT_INVALID(consentry_vault_accessor(NULL, "support", &accessor, &err));

  /* NULL strings and out-parameters on a live vault. */
  EXPECT_INVALID(consentry_vault_put(vault, NULL, "email", "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_put(vault, "C-1", NULL, "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_put(vault, "C-1", "email", NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_write(vault, "C-1", NULL, values, 1, NULL, &err));
  EXPECT_INVALID(consentry_vault_write(vault, "C-1", fields, NULL, 1, NULL, &err));
  EXPECT_INVALID(consentry_vault_write(vault, "C-1", fields, values, 2, NULL, &err)); /* fields[1] NULL */
  EXPECT_ERROR(consentry_vault_write(vault, "C-1", fields, values, 0, NULL, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, NULL, "marketing", CONSENTRY_CONSENT_GRANT, NULL, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, "C-1", NULL, CONSENTRY_CONSENT_GRANT, NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_contains(vault, "C-1", NULL, &err));
  EXPECT_INVALID(consentry_vault_contains(vault, NULL, &flag, &err));
  EXPECT_INVALID(consentry_vault_customers(vault, NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_eligible_customers(vault, NULL, &list, NULL, &err));
  EXPECT_INVALID(consentry_vault_eligible_customers(vault, "marketing", NULL, NULL, &err));
  EXPECT_ERROR(consentry_vault_eligible_customers(vault, "no-such-purpose", &list, NULL, &err),
               CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_INVALID(consentry_vault_erase(vault, NULL, NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_export(vault, NULL, NULL, &export_, &err));
  EXPECT_INVALID(consentry_vault_export(vault, "C-1", NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_accessor(vault, NULL, &accessor, &err));
  EXPECT_INVALID(consentry_vault_accessor(vault, "support", NULL, &err));
  EXPECT_ERROR(consentry_vault_accessor(vault, "no-such-accessor", &accessor, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_NOT_FOUND);
  CHECK(accessor == NULL);

  /* Accessors, views, reads and exports. */
  OK(consentry_vault_put(vault, "C-1", "email", "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_accessor_view(NULL, "C-1", "service", &view, &err));
  OK(consentry_vault_accessor(vault, "support", &accessor, &err));
  EXPECT_INVALID(consentry_accessor_view(accessor, NULL, "service", &view, &err));
  EXPECT_INVALID(consentry_accessor_view(accessor, "C-1", NULL, &view, &err));
  EXPECT_INVALID(consentry_accessor_view(accessor, "C-1", "service", NULL, &err));
  OK(consentry_accessor_view(accessor, "C-1", "service", &view, &err));
  EXPECT_INVALID(consentry_view_get(NULL, "email", &value, NULL, &err));
  EXPECT_INVALID(consentry_view_get(view, NULL, &value, NULL, &err));
  EXPECT_INVALID(consentry_view_get(view, "email", NULL, NULL, &err));
  EXPECT_INVALID(consentry_view_read(NULL, fields, 1, &read, &err));
  EXPECT_INVALID(consentry_view_read(view, NULL, 1, &read, &err));
  EXPECT_INVALID(consentry_view_read(view, fields, 2, &read, &err)); /* fields[1] NULL */
  EXPECT_ERROR(consentry_view_read(view, fields, 0, &read, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_INVALID(consentry_view_read(view, fields, 1, NULL, &err));
  EXPECT_INVALID(consentry_accessor_read(NULL, "C-1", "service", fields, 1, &read, &err));
  EXPECT_INVALID(consentry_accessor_read(accessor, NULL, "service", fields, 1, &read, &err));
  EXPECT_INVALID(consentry_accessor_read(accessor, "C-1", NULL, fields, 1, &read, &err));
  EXPECT_INVALID(consentry_accessor_read(accessor, "C-1", "service", NULL, 1, &read, &err));
  EXPECT_INVALID(consentry_accessor_read(accessor, "C-1", "service", fields, 2, &read, &err));
  EXPECT_ERROR(consentry_accessor_read(accessor, "C-1", "service", fields, 0, &read, &err),
               CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_INVALID(consentry_accessor_read(accessor, "C-1", "service", fields, 1, NULL, &err));
  EXPECT_INVALID(
      consentry_accessor_read((consentry_accessor*)view, "C-1", "service", fields, 1, &read, &err));
  CHECK(consentry_read_count(NULL) == 0);
  EXPECT_INVALID(consentry_read_field(NULL, 0, &text, NULL, &err));
  CHECK(consentry_export_json(NULL, NULL) == NULL);
  CHECK(consentry_export_html(NULL, NULL) == NULL);

  /* A handle of one kind passed as another is refused (the registry knows each kind). */
  EXPECT_INVALID(consentry_view_get((consentry_view*)accessor, "email", &value, NULL, &err));
  EXPECT_INVALID(consentry_vault_put((consentry_vault*)policy, "C-1", "email", "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_create("x.vault", (consentry_policy*)vault, "p", NULL, &other, &err));
  CHECK(consentry_export_json((consentry_export*)view, NULL) == NULL);
  CHECK(consentry_read_count((consentry_read*)view) == 0);

  /* Enums out of range and bad options. */
  EXPECT_INVALID(consentry_vault_record_consent(vault, "C-1", "marketing", (consentry_consent_action)7, NULL,
                                                NULL, &err));
  {
    consentry_vault_options options;
    char path[4096];
    join_path(path, sizeof path, "/nonexistent-dir-for-consentry", "x.vault");
    consentry_vault_options_init(&options);
    options.kdf = (consentry_kdf)42;
    EXPECT_INVALID(consentry_vault_create(path, policy, "p", &options, &other, &err));
    consentry_vault_options_init(&options);
    options.audit = (consentry_audit_mode)42;
    EXPECT_INVALID(consentry_vault_open(path, "p", &options, &other, &err));
    consentry_vault_options_init(&options);
    options.size = 0;
    EXPECT_INVALID(consentry_vault_open(path, "p", &options, &other, &err));
    consentry_vault_options_init(&options);
    options.actor = "";
    EXPECT_INVALID(consentry_vault_open(path, "p", &options, &other, &err));
  }

  /* Double frees of every kind. */
  OK(consentry_view_get(view, "email", &value, NULL, &err));
  CHECK(consentry_free(value) == CONSENTRY_OK);
  CHECK(consentry_free(value) == CONSENTRY_BAD_INPUT);
  OK(consentry_view_read(view, fields, 1, &read, &err));
  CHECK(consentry_free(read) == CONSENTRY_OK);
  CHECK(consentry_free(read) == CONSENTRY_BAD_INPUT);
  OK(consentry_vault_export(vault, "C-1", "en", &export_, &err));
  CHECK(consentry_free(export_) == CONSENTRY_OK);
  CHECK(consentry_free(export_) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_export_html(export_, NULL) == NULL);
  OK(consentry_vault_customers(vault, &list, NULL, &err));
  CHECK(consentry_free(list[0]) == CONSENTRY_BAD_INPUT); /* the list is freed whole */
  CHECK(consentry_free(list) == CONSENTRY_OK);
  CHECK(consentry_free(list) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(view) == CONSENTRY_OK);
  CHECK(consentry_free(view) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(accessor) == CONSENTRY_OK);
  CHECK(consentry_free(accessor) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_free(policy) == CONSENTRY_OK);
}

static void test_invalid_utf8(consentry_vault* vault) {
  static const char bad[] = "C-\xff\xfe";         /* not UTF-8 at all */
  static const char overlong[] = "\xc0\xaf";      /* an overlong '/' */
  static const char surrogate[] = "\xed\xa0\x80"; /* U+D800 */
  static const char cut[] = "caf\xc3";            /* a sequence cut short */
  consentry_error* err = NULL;
  consentry_accessor* accessor = NULL;
  consentry_view* view = NULL;
  consentry_policy* policy = NULL;
  consentry_export* export_ = NULL;
  char* value = NULL;
  char** list = NULL;
  int flag = 0;
  const char* fields[] = {"email", cut};
  const char* values[] = {"a@b.example", "x"};

  EXPECT_INVALID(consentry_vault_put(vault, bad, "email", "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_put(vault, "C-1", overlong, "a@b.example", NULL, &err));
  EXPECT_INVALID(consentry_vault_put(vault, "C-1", "city", surrogate, NULL, &err));
  EXPECT_INVALID(consentry_vault_put(vault, "C-1", "city", "Lyon", cut, &err));
  EXPECT_INVALID(consentry_vault_write(vault, "C-1", fields, values, 2, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, bad, "marketing", CONSENTRY_CONSENT_GRANT, NULL, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, "C-1", bad, CONSENTRY_CONSENT_GRANT, NULL, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, "C-1", "marketing", CONSENTRY_CONSENT_GRANT, cut, NULL, &err));
  EXPECT_INVALID(
      consentry_vault_record_consent(vault, "C-1", "marketing", CONSENTRY_CONSENT_GRANT, "web", cut, &err));
  EXPECT_INVALID(consentry_vault_contains(vault, bad, &flag, &err));
  EXPECT_INVALID(consentry_vault_eligible_customers(vault, bad, &list, NULL, &err));
  EXPECT_INVALID(consentry_vault_erase(vault, bad, NULL, NULL, &err));
  EXPECT_INVALID(consentry_vault_erase(vault, "C-1", cut, NULL, &err));
  EXPECT_INVALID(consentry_vault_erase(vault, "C-1", NULL, cut, &err));
  EXPECT_INVALID(consentry_vault_export(vault, bad, NULL, &export_, &err));
  EXPECT_INVALID(consentry_vault_export(vault, "C-1", cut, &export_, &err));
  EXPECT_INVALID(consentry_vault_accessor(vault, bad, &accessor, &err));
  EXPECT_INVALID(consentry_policy_parse("{\"consentry_policy\": 1, \"x\": \"\xff\"}", &policy, &err));

  OK(consentry_vault_accessor(vault, "support", &accessor, &err));
  EXPECT_INVALID(consentry_accessor_view(accessor, bad, "service", &view, &err));
  EXPECT_INVALID(consentry_accessor_view(accessor, "C-1", bad, &view, &err));
  OK(consentry_accessor_view(accessor, "C-1", "service", &view, &err));
  EXPECT_INVALID(consentry_view_get(view, bad, &value, NULL, &err));
  {
    consentry_read* read = NULL;
    consentry_error* e = NULL;
    /* The message names the parameter, not the bytes. */
    CHECK(consentry_view_read(view, fields, 2, &read, &e) == CONSENTRY_BAD_INPUT);
    CHECK(strstr(consentry_error_message(e), "fields[1]") != NULL);
    CHECK(strstr(consentry_error_message(e), "UTF-8") != NULL);
    consentry_free(e);
    CHECK(read == NULL);
  }
  {
    consentry_vault_options options;
    consentry_vault* other = NULL;
    consentry_vault_options_init(&options);
    options.actor = bad;
    EXPECT_INVALID(consentry_vault_open("x.vault", "p", &options, &other, &err));
  }
  consentry_free(view);
  consentry_free(accessor);
}

static void test_denials(consentry_vault* vault) {
  consentry_error* err = NULL;
  consentry_accessor* mailer = NULL;
  consentry_view* view = NULL;
  OK(consentry_vault_accessor(vault, "mailer", &mailer, &err));
  /* An accessor not registered for the purpose. */
  CHECK(consentry_accessor_view(mailer, "C-1", "service", &view, &err) == CONSENTRY_DENIED);
  CHECK(view == NULL);
  CHECK(consentry_error_code(err) == CONSENTRY_ERRC_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_ACCESSOR_NOT_REGISTERED);
  CHECK(strcmp(consentry_error_reason_name(err), "accessor_not_registered") == 0);
  consentry_free(err);
  err = NULL;
  /* A purpose the policy does not declare. */
  CHECK(consentry_accessor_view(mailer, "C-1", "no-such-purpose", &view, &err) == CONSENTRY_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_UNKNOWN_PURPOSE);
  consentry_free(err);
  err = NULL;
  /* A field the policy does not declare, on a registered view. */
  OK(consentry_accessor_view(mailer, "C-1", "marketing", &view, &err));
  {
    char* value = NULL;
    CHECK(consentry_view_get(view, "shoe_size", &value, NULL, &err) == CONSENTRY_DENIED);
    CHECK(consentry_error_reason(err) == CONSENTRY_DENY_UNKNOWN_FIELD);
    consentry_free(err);
    err = NULL;
  }
  consentry_free(view);
  consentry_free(mailer);
}

static void test_use_after_close(const char* dir) {
  consentry_error* err = NULL;
  char path[4096];
  consentry_vault* vault = new_vault(dir, path, sizeof path);
  consentry_accessor* accessor = NULL;
  consentry_view* view = NULL;
  consentry_read* read = NULL;
  char* value = NULL;
  const char* fields[] = {"email"};

  /* An empty passphrase is refused, for a new vault and an existing one. */
  {
    consentry_policy* policy = NULL;
    consentry_vault* other = NULL;
    char empty_path[4096];
    join_path(empty_path, sizeof empty_path, dir, "empty.vault");
    OK(consentry_policy_parse(kTestPolicy, &policy, &err));
    EXPECT_INVALID(consentry_vault_create(empty_path, policy, "", NULL, &other, &err));
    EXPECT_INVALID(consentry_vault_open(path, "", NULL, &other, &err));
    CHECK(other == NULL);
    CHECK(access(empty_path, F_OK) != 0);
    consentry_free(policy);
  }
  OK(consentry_vault_put(vault, "C-1", "email", "a@b.example", NULL, &err));
  OK(consentry_vault_accessor(vault, "support", &accessor, &err));
  OK(consentry_accessor_view(accessor, "C-1", "service", &view, &err));
  OK(consentry_view_get(view, "email", &value, NULL, &err));
  consentry_free(value);
  OK(consentry_vault_close(vault, &err));

  /* The vault handle is gone; its accessor and view say the vault is closed. */
  EXPECT_INVALID(consentry_vault_close(vault, &err));
  CHECK(consentry_free(vault) == CONSENTRY_BAD_INPUT);
  CHECK(consentry_view_get(view, "email", &value, NULL, &err) == CONSENTRY_BAD_INPUT);
  CHECK(value == NULL);
  CHECK(consentry_error_code(err) == CONSENTRY_ERRC_INVALID_ARGUMENT);
  CHECK(strcmp(consentry_error_message(err), "the vault is closed") == 0);
  consentry_free(err);
  err = NULL;
  EXPECT_INVALID(consentry_view_read(view, fields, 1, &read, &err));
  {
    consentry_view* another = NULL;
    EXPECT_INVALID(consentry_accessor_view(accessor, "C-1", "service", &another, &err));
    CHECK(another == NULL);
  }
  /* The accessor and view are still freed as usual. */
  CHECK(consentry_free(view) == CONSENTRY_OK);
  CHECK(consentry_free(accessor) == CONSENTRY_OK);
  remove_scratch(dir);
}

static void test_view_outlives_vault(const char* dir) {
  consentry_error* err = NULL;
  char path[4096];
  consentry_vault* vault = new_vault(dir, path, sizeof path);
  consentry_accessor* accessor = NULL;
  consentry_view* view = NULL;
  char* value = NULL;
  OK(consentry_vault_put(vault, "C-1", "email", "a@b.example", NULL, &err));
  OK(consentry_vault_accessor(vault, "support", &accessor, &err));
  OK(consentry_accessor_view(accessor, "C-1", "service", &view, &err));
  /* The accessor is freed first, then the vault: the view alone keeps the state. */
  CHECK(consentry_free(accessor) == CONSENTRY_OK);
  CHECK(consentry_free(vault) == CONSENTRY_OK);
  EXPECT_INVALID(consentry_view_get(view, "email", &value, NULL, &err));
  CHECK(consentry_free(view) == CONSENTRY_OK);
  remove_scratch(dir);
}

/* ---- a vault closed while threads read through its views ---- */

enum { kReaders = 4 };

struct reader {
  consentry_view* view;
  int ok, closed, other;
};

static void* read_until_closed(void* arg) {
  struct reader* r = arg;
  for (;;) {
    consentry_error* err = NULL;
    char* value = NULL;
    int status = consentry_view_get(r->view, "email", &value, NULL, &err);
    if (status == CONSENTRY_OK) {
      ++r->ok;
      consentry_free(value);
    } else if (status == CONSENTRY_BAD_INPUT &&
               strcmp(consentry_error_message(err), "the vault is closed") == 0) {
      ++r->closed;
      consentry_free(err);
      return NULL;
    } else {
      ++r->other;
      consentry_free(err);
      return NULL;
    }
  }
}

static void test_close_while_reading(const char* dir) {
  consentry_error* err = NULL;
  char path[4096];
  consentry_vault* vault = new_vault(dir, path, sizeof path);
  consentry_accessor* accessor = NULL;
  struct reader readers[kReaders];
  pthread_t threads[kReaders];
  int i;
  OK(consentry_vault_put(vault, "C-1", "email", "a@b.example", NULL, &err));
  OK(consentry_vault_accessor(vault, "support", &accessor, &err));
  for (i = 0; i < kReaders; ++i) {
    readers[i].ok = readers[i].closed = readers[i].other = 0;
    OK(consentry_accessor_view(accessor, "C-1", "service", &readers[i].view, &err));
    REQUIRE(pthread_create(&threads[i], NULL, read_until_closed, &readers[i]) == 0);
  }
  /* Let them read a little, then close under them. */
  while (readers[0].ok < 3) {
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  OK(consentry_vault_close(vault, &err));
  for (i = 0; i < kReaders; ++i) {
    REQUIRE(pthread_join(threads[i], NULL) == 0);
    CHECK(readers[i].closed == 1);
    CHECK(readers[i].other == 0);
    CHECK(consentry_free(readers[i].view) == CONSENTRY_OK);
  }
  CHECK(consentry_free(accessor) == CONSENTRY_OK);
  remove_scratch(dir);
}

int main(void) {
  char dir[4096];
  char path[4096];
  consentry_error* err = NULL;
  consentry_vault* vault;

  test_error_getters();
  test_free();

  scratch_dir(dir, sizeof dir);
  vault = new_vault(dir, path, sizeof path);
  test_null_arguments(vault);
  test_invalid_utf8(vault);
  test_denials(vault);
  OK(consentry_vault_close(vault, &err));
  remove_scratch(dir);

  scratch_dir(dir, sizeof dir);
  test_use_after_close(dir);
  scratch_dir(dir, sizeof dir);
  test_view_outlives_vault(dir);
  scratch_dir(dir, sizeof dir);
  test_close_while_reading(dir);
  return finish("c_api.misuse");
}
