/* vault_test.c (ctest c_api.vault): every C API call on its successful path, and the behaviours
 * that must match C++: a withdrawal between two reads, a denial with its reason, an erased
 * customer, the export, eligibility, the audit log. */
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "check.h"

static void test_version_and_policies(const char* dir) {
  consentry_error* err = NULL;
  consentry_policy* policy = NULL;
  consentry_policy* loaded = NULL;
  char* json = NULL;
  char path[4096];
  FILE* f;

  CHECK(strcmp(consentry_version(), "") != 0);
  OK(consentry_policy_parse(kTestPolicy, &policy, &err));
  OK(consentry_policy_to_json(policy, &json, &err));
  CHECK(strstr(json, "\"marketing\"") != NULL);

  /* The canonical JSON, written to a file, loads back. */
  join_path(path, sizeof path, dir, "policy.json");
  f = fopen(path, "w");
  REQUIRE(f != NULL);
  fputs(json, f);
  fclose(f);
  OK(consentry_policy_load(path, &loaded, &err));
  CHECK(consentry_free(loaded) == CONSENTRY_OK);
  CHECK(consentry_free(json) == CONSENTRY_OK);
  CHECK(consentry_free(policy) == CONSENTRY_OK);

  /* A malformed policy and a missing file. */
  EXPECT_ERROR(consentry_policy_parse("{\"consentry_policy\": 1}", &policy, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  CHECK(policy == NULL);
  join_path(path, sizeof path, dir, "no-such-policy.json");
  EXPECT_ERROR(consentry_policy_load(path, &policy, &err), CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_IO);
}

/* read_one opens a view and reads one field; returns the status, the value in `value`. */
static int read_one(consentry_vault* vault, const char* accessor_id, const char* purpose, const char* field,
                    char** value, char** form, consentry_error** err) {
  consentry_accessor* accessor = NULL;
  consentry_view* view = NULL;
  int status = consentry_vault_accessor(vault, accessor_id, &accessor, err);
  if (status != CONSENTRY_OK) return status;
  status = consentry_accessor_view(accessor, "C-1", purpose, &view, err);
  if (status == CONSENTRY_OK) status = consentry_view_get(view, field, value, form, err);
  consentry_free(view);
  consentry_free(accessor);
  return status;
}

static void test_crm_flow(const char* dir) {
  consentry_error* err = NULL;
  char path[4096];
  consentry_vault* vault = new_vault(dir, path, sizeof path);
  consentry_accessor* mailer = NULL;
  consentry_accessor* support = NULL;
  consentry_view* view = NULL;
  consentry_read* read = NULL;
  consentry_export* export_ = NULL;
  char* value = NULL;
  char* form = NULL;
  char** list = NULL;
  size_t count = 99;
  int contains = -1;
  int64_t entries = 0;
  const char* fields[] = {"email", "city"};
  const char* values[] = {"ada@example.com", "Lyon"};
  const char* three[] = {"email", "city", "phone"};
  const char* text = NULL;
  const char* text_form = NULL;
  size_t size = 0;

  /* Writes: one value, then a record of two fields in one transaction. */
  OK(consentry_vault_put(vault, "C-1", "phone", "+33 6 12 34 56 78", NULL, &err));
  OK(consentry_vault_write(vault, "C-1", fields, values, 2, "web-signup", &err));
  OK(consentry_vault_put(vault, "C-2", "email", "bob@example.com", "", &err));
  OK(consentry_vault_contains(vault, "C-1", &contains, &err));
  CHECK(contains == 1);
  OK(consentry_vault_contains(vault, "C-9", &contains, &err));
  CHECK(contains == 0);
  OK(consentry_vault_customers(vault, &list, &count, &err));
  CHECK(count == 2 && strcmp(list[0], "C-1") == 0 && strcmp(list[1], "C-2") == 0 && list[2] == NULL);
  CHECK(consentry_free(list) == CONSENTRY_OK);

  /* No grant yet: nobody is eligible for marketing, and a read is denied with no_consent. */
  OK(consentry_vault_eligible_customers(vault, "marketing", &list, &count, &err));
  CHECK(count == 0 && list != NULL && list[0] == NULL);
  CHECK(consentry_free(list) == CONSENTRY_OK);
  OK(consentry_vault_accessor(vault, "mailer", &mailer, &err));
  OK(consentry_accessor_view(mailer, "C-1", "marketing", &view, &err));
  CHECK(consentry_view_get(view, "email", &value, NULL, &err) == CONSENTRY_DENIED);
  CHECK(value == NULL);
  CHECK(consentry_error_code(err) == CONSENTRY_ERRC_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_NO_CONSENT);
  CHECK(strcmp(consentry_error_reason_name(err), "no_consent") == 0);
  CHECK(consentry_error_status(err) == CONSENTRY_DENIED);
  CHECK(strstr(consentry_error_message(err), "ada@") == NULL); /* no value in a message */
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;

  /* Grant: the same view now reads, in the purpose's forms; C-1 becomes eligible. */
  OK(consentry_vault_record_consent(vault, "C-1", "marketing", CONSENTRY_CONSENT_GRANT, "web", "notice v1",
                                    &err));
  OK(consentry_view_get(view, "email", &value, &form, &err));
  CHECK(strcmp(value, "ada@example.com") == 0);
  CHECK(strcmp(form, "clear") == 0);
  CHECK(consentry_free(value) == CONSENTRY_OK);
  CHECK(consentry_free(form) == CONSENTRY_OK);
  OK(consentry_vault_eligible_customers(vault, "marketing", &list, NULL, &err));
  CHECK(list[0] != NULL && strcmp(list[0], "C-1") == 0 && list[1] == NULL);
  CHECK(consentry_free(list) == CONSENTRY_OK);

  /* A read of several fields: city generalised, phone has no form for marketing. */
  OK(consentry_view_read(view, three, 3, &read, &err));
  CHECK(consentry_read_count(read) == 3);
  OK(consentry_read_field(read, 0, &text, &text_form, &err));
  CHECK(strcmp(text, "ada@example.com") == 0 && strcmp(text_form, "clear") == 0);
  OK(consentry_read_field(read, 1, &text, &text_form, &err));
  CHECK(strcmp(text, "Ly") == 0 && strcmp(text_form, "generalise:prefix:2") == 0);
  CHECK(consentry_read_field(read, 2, &text, &text_form, &err) == CONSENTRY_DENIED);
  CHECK(text == NULL);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_PURPOSE_NOT_ALLOWED_FOR_FIELD);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;
  CHECK(consentry_read_field(read, 2, NULL, NULL, NULL) == CONSENTRY_DENIED); /* no error wanted */
  EXPECT_ERROR(consentry_read_field(read, 3, &text, NULL, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_INVALID_ARGUMENT);
  CHECK(consentry_free(read) == CONSENTRY_OK);

  /* A withdrawal between two reads: the first read succeeds, the second is denied. */
  OK(consentry_view_get(view, "email", &value, NULL, &err));
  CHECK(consentry_free(value) == CONSENTRY_OK);
  OK(consentry_vault_record_consent(vault, "C-1", "marketing", CONSENTRY_CONSENT_WITHDRAW, "phone", NULL,
                                    &err));
  CHECK(consentry_view_get(view, "email", &value, NULL, &err) == CONSENTRY_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_WITHDRAWN);
  CHECK(strcmp(consentry_error_reason_name(err), "withdrawn") == 0);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;
  /* ... and the multi-field read is denied field by field, the call itself succeeding. */
  OK(consentry_view_read(view, three, 2, &read, &err));
  CHECK(consentry_read_field(read, 0, NULL, NULL, &err) == CONSENTRY_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_WITHDRAWN);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;
  CHECK(consentry_free(read) == CONSENTRY_OK);
  /* A view and a read in one call: denied field by field as the view's read is ... */
  OK(consentry_accessor_read(mailer, "C-1", "marketing", three, 2, &read, &err));
  CHECK(consentry_read_count(read) == 2);
  CHECK(consentry_read_field(read, 0, NULL, NULL, &err) == CONSENTRY_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_WITHDRAWN);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;
  CHECK(consentry_free(read) == CONSENTRY_OK);
  /* ... allowed fields read in their forms, and refused whole as the view would be. */
  {
    consentry_accessor* desk = NULL;
    OK(consentry_vault_accessor(vault, "support", &desk, &err));
    OK(consentry_accessor_read(desk, "C-1", "service", three, 3, &read, &err));
    OK(consentry_read_field(read, 0, &text, &text_form, &err));
    CHECK(strcmp(text, "ada@example.com") == 0 && strcmp(text_form, "clear") == 0);
    CHECK(consentry_free(read) == CONSENTRY_OK);
    read = NULL;
    EXPECT_ERROR(consentry_accessor_read(desk, "C-1", "marketing", three, 1, &read, &err), CONSENTRY_DENIED,
                 CONSENTRY_ERRC_DENIED);
    CHECK(read == NULL);
    CHECK(consentry_free(desk) == CONSENTRY_OK);
  }

  /* A search by email: the customers found, sorted; none found is no error; a purpose the
   * field's lookup does not list is refused. */
  OK(consentry_vault_accessor(vault, "support", &support, &err));
  OK(consentry_accessor_find(support, "service", "email", "ADA@example.com", &list, &count, &err));
  CHECK(count == 1 && strcmp(list[0], "C-1") == 0 && list[1] == NULL);
  CHECK(consentry_free(list) == CONSENTRY_OK);
  OK(consentry_accessor_find(support, "service", "email", "nobody@example.com", &list, &count, &err));
  CHECK(count == 0 && list != NULL && list[0] == NULL);
  CHECK(consentry_free(list) == CONSENTRY_OK);
  list = NULL;
  EXPECT_ERROR(consentry_accessor_find(mailer, "marketing", "email", "ada@example.com", &list, &count, &err),
               CONSENTRY_DENIED, CONSENTRY_ERRC_DENIED);
  CHECK(list == NULL);
  EXPECT_ERROR(consentry_accessor_find(support, "service", "email", "not an address", &list, &count, &err),
               CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
  CHECK(consentry_free(support) == CONSENTRY_OK);
  support = NULL;

  /* An objection to a legitimate-interest purpose. */
  OK(consentry_vault_record_consent(vault, "C-1", "analytics", CONSENTRY_CONSENT_OBJECT, "web", NULL, &err));
  CHECK(read_one(vault, "dashboard", "analytics", "email", &value, NULL, &err) == CONSENTRY_DENIED);
  CHECK(consentry_error_reason(err) == CONSENTRY_DENY_OBJECTED);
  CHECK(consentry_free(err) == CONSENTRY_OK);
  err = NULL;
  /* Granting a purpose that does not rest on consent is bad input. */
  EXPECT_ERROR(
      consentry_vault_record_consent(vault, "C-1", "service", CONSENTRY_CONSENT_GRANT, NULL, NULL, &err),
      CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);

  /* The contract purpose reads the phone masked; a missing value is not found. */
  OK(read_one(vault, "support", "service", "phone", &value, &form, &err));
  CHECK(strcmp(form, "mask:last4") == 0);
  CHECK(strstr(value, "5678") != NULL && strstr(value, "12") == NULL);
  CHECK(consentry_free(value) == CONSENTRY_OK);
  CHECK(consentry_free(form) == CONSENTRY_OK);
  OK(consentry_vault_accessor(vault, "support", &support, &err));
  {
    consentry_view* bob = NULL;
    OK(consentry_accessor_view(support, "C-2", "service", &bob, &err));
    EXPECT_ERROR(consentry_view_get(bob, "city", &value, NULL, &err), CONSENTRY_NOT_FOUND,
                 CONSENTRY_ERRC_NOT_FOUND);
    CHECK(consentry_free(bob) == CONSENTRY_OK);
  }

  /* Writes the policy refuses: an undeclared field, a value that does not fit its type, and a
   * record with one bad field writes nothing. */
  EXPECT_ERROR(consentry_vault_put(vault, "C-3", "shoe_size", "42", NULL, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_ERROR(consentry_vault_put(vault, "C-3", "email", "not an address", NULL, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  {
    const char* bad_fields[] = {"city", "email"};
    const char* bad_values[] = {"Paris", "not an address"};
    EXPECT_ERROR(consentry_vault_write(vault, "C-3", bad_fields, bad_values, 2, NULL, &err),
                 CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
    OK(consentry_vault_contains(vault, "C-3", &contains, &err));
    CHECK(contains == 0);
  }

  /* The export: JSON and HTML, naming the customer's values for them. */
  OK(consentry_vault_export(vault, "C-1", NULL, &export_, &err));
  text = consentry_export_json(export_, &size);
  CHECK(text != NULL && size == strlen(text));
  CHECK(strstr(text, "ada@example.com") != NULL);
  CHECK(strstr(text, "\"marketing\"") != NULL);
  text = consentry_export_html(export_, &size);
  CHECK(text != NULL && size == strlen(text) && strstr(text, "<html") != NULL);
  CHECK(consentry_export_json(export_, NULL) != NULL);
  CHECK(consentry_free(export_) == CONSENTRY_OK);
  EXPECT_ERROR(consentry_vault_export(vault, "C-9", "en", &export_, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_NOT_FOUND);

  /* Erasure: the open view and new views answer erased; erasing again is not found. */
  OK(consentry_vault_erase(vault, "C-1", "the customer asked by e-mail", "TICKET-1", &err));
  EXPECT_ERROR(consentry_view_get(view, "email", &value, NULL, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_ERASED);
  EXPECT_ERROR(consentry_view_read(view, three, 3, &read, &err), CONSENTRY_NOT_FOUND, CONSENTRY_ERRC_ERASED);
  CHECK(read == NULL);
  EXPECT_ERROR(consentry_accessor_read(support, "C-1", "service", three, 3, &read, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_ERASED);
  CHECK(read == NULL);
  EXPECT_ERROR(consentry_accessor_view(support, "C-1", "service", &view, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_ERASED);
  CHECK(view == NULL);
  EXPECT_ERROR(consentry_vault_put(vault, "C-1", "city", "Paris", NULL, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_ERASED);
  EXPECT_ERROR(consentry_vault_export(vault, "C-1", NULL, &export_, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_ERASED);
  {
    consentry_errc again = CONSENTRY_ERRC_NONE;
    CHECK(consentry_vault_erase(vault, "C-1", NULL, NULL, &err) == CONSENTRY_NOT_FOUND);
    again = consentry_error_code(err);
    CHECK(again == CONSENTRY_ERRC_ERASED || again == CONSENTRY_ERRC_NOT_FOUND);
    consentry_free(err);
    err = NULL;
  }
  EXPECT_ERROR(consentry_vault_erase(vault, "C-9", NULL, NULL, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_NOT_FOUND);

  /* The audit log verifies and counts what happened. */
  OK(consentry_vault_flush_audit(vault, &err));
  OK(consentry_vault_verify_audit(vault, &entries, &err));
  CHECK(entries > 5);
  OK(consentry_vault_verify_audit(vault, NULL, &err));

  CHECK(consentry_free(support) == CONSENTRY_OK);
  CHECK(consentry_free(mailer) == CONSENTRY_OK);
  OK(consentry_vault_close(vault, &err));

  /* Reopen: a wrong passphrase is an integrity failure; the right one sees C-2 still. */
  {
    consentry_vault_options options;
    consentry_vault_options_init(&options);
    options.audit = CONSENTRY_AUDIT_BATCHED;
    options.actor = "staff:alice";
    EXPECT_ERROR(consentry_vault_open(path, "wrong passphrase", NULL, &vault, &err), CONSENTRY_INTEGRITY,
                 CONSENTRY_ERRC_INTEGRITY);
    CHECK(vault == NULL);
    OK(consentry_vault_open(path, "test passphrase", &options, &vault, &err));
    OK(consentry_vault_customers(vault, &list, &count, &err));
    CHECK(count == 1 && strcmp(list[0], "C-2") == 0);
    CHECK(consentry_free(list) == CONSENTRY_OK);
    OK(consentry_vault_flush_audit(vault, &err));
    OK(consentry_vault_verify_audit(vault, &entries, &err));
    /* Creating over an existing file is refused. */
    {
      consentry_policy* policy = NULL;
      consentry_vault* again = NULL;
      OK(consentry_policy_parse(kTestPolicy, &policy, &err));
      EXPECT_ERROR(consentry_vault_create(path, policy, "x", NULL, &again, &err), CONSENTRY_BAD_INPUT,
                   CONSENTRY_ERRC_ALREADY_EXISTS);
      consentry_free(policy);
    }
    CHECK(consentry_free(vault) == CONSENTRY_OK); /* consentry_free closes a vault too */
  }
  /* Options of the layout before max_readers are read as far as they reach; max_readers = 0
   * reads on the vault's own connection. Either way the vault opens and reads. */
  {
    consentry_vault_options options;
    consentry_vault_options_init(&options);
    CHECK(options.max_readers == 8);
    options.size = offsetof(consentry_vault_options, max_readers);
    options.audit = CONSENTRY_AUDIT_OFF;
    options.max_readers = 12345; /* beyond the size given: not read */
    OK(consentry_vault_open(path, "test passphrase", &options, &vault, &err));
    OK(consentry_vault_customers(vault, &list, &count, &err));
    CHECK(count == 1 && strcmp(list[0], "C-2") == 0);
    CHECK(consentry_free(list) == CONSENTRY_OK);
    OK(consentry_vault_close(vault, &err));
    consentry_vault_options_init(&options);
    options.max_readers = 0;
    OK(consentry_vault_open(path, "test passphrase", &options, &vault, &err));
    OK(consentry_vault_customers(vault, &list, &count, &err));
    CHECK(count == 1);
    CHECK(consentry_free(list) == CONSENTRY_OK);
    OK(consentry_vault_close(vault, &err));
  }
  {
    char missing[4096];
    join_path(missing, sizeof missing, dir, "none.vault");
    EXPECT_ERROR(consentry_vault_open(missing, "test passphrase", NULL, &vault, &err), CONSENTRY_NOT_FOUND,
                 CONSENTRY_ERRC_NOT_FOUND);
  }
}

/* Consent signals and receipts: GPC withdraws a grant and objects; a receipt verifies with the
 * vault's public key alone, and a changed one does not. */
static void test_signals_and_receipts(const char* dir) {
  consentry_error* err = NULL;
  char path[4096];
  char sub[4096];
  consentry_vault* vault = NULL;
  char* receipt = NULL;
  char* key = NULL;
  char* forged = NULL;
  char* none = NULL;
  char* at = NULL;
  size_t recorded = 99;
  join_path(sub, sizeof sub, dir, "signals");
  REQUIRE(mkdir(sub, 0700) == 0);
  vault = new_vault(sub, path, sizeof path);

  OK(consentry_vault_record_consent(vault, "C-1", "marketing", CONSENTRY_CONSENT_GRANT, "web", NULL, &err));
  OK(consentry_vault_record_signal(vault, "C-1", CONSENTRY_SIGNAL_GPC, "1", "web", &recorded, &err));
  CHECK(recorded == 2); /* the grant withdrawn, analytics objected to */
  OK(consentry_vault_record_signal(vault, "C-1", CONSENTRY_SIGNAL_GPC, NULL, NULL, &recorded, &err));
  CHECK(recorded == 0); /* nothing left to change */
  EXPECT_ERROR(
      consentry_vault_record_signal(vault, "C-1", CONSENTRY_SIGNAL_TCF, "not a tc string", NULL, NULL, &err),
      CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_ERROR(consentry_vault_record_signal(vault, "C-1", (consentry_signal_kind)7, NULL, NULL, NULL, &err),
               CONSENTRY_BAD_INPUT, CONSENTRY_ERRC_INVALID_ARGUMENT);

  OK(consentry_vault_consent_receipt(vault, "C-1", 1, &receipt, &err));
  CHECK(strstr(receipt, "\"action\":\"grant\"") != NULL);
  OK(consentry_vault_public_key(vault, &key, &err));
  CHECK(strlen(key) == 64);
  OK(consentry_verify_consent_receipt(receipt, key, &err));
  /* The grant changed into a withdrawal: the signature no longer holds. */
  forged = strdup(receipt);
  REQUIRE(forged != NULL);
  at = strstr(forged, "\"action\":\"grant\"");
  REQUIRE(at != NULL);
  memcpy(at + 10, "GRANT", 5);
  EXPECT_ERROR(consentry_verify_consent_receipt(forged, key, &err), CONSENTRY_INTEGRITY,
               CONSENTRY_ERRC_INTEGRITY);
  EXPECT_ERROR(consentry_verify_consent_receipt("{", key, &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_BAD_INPUT);
  EXPECT_ERROR(consentry_verify_consent_receipt(receipt, "abc", &err), CONSENTRY_BAD_INPUT,
               CONSENTRY_ERRC_INVALID_ARGUMENT);
  EXPECT_ERROR(consentry_vault_consent_receipt(vault, "C-1", 99, &none, &err), CONSENTRY_NOT_FOUND,
               CONSENTRY_ERRC_NOT_FOUND);
  CHECK(none == NULL);
  free(forged);
  CHECK(consentry_free(receipt) == CONSENTRY_OK);
  CHECK(consentry_free(key) == CONSENTRY_OK);
  CHECK(consentry_free(vault) == CONSENTRY_OK);
  remove_scratch(sub);
}

int main(void) {
  char dir[4096];
  scratch_dir(dir, sizeof dir);
  test_version_and_policies(dir);
  test_crm_flow(dir);
  test_signals_and_receipts(dir);
  remove_scratch(dir);
  return finish("c_api.vault");
}
