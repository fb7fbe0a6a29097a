/* check.h: the C API tests' tiny harness: CHECK, a status check that prints the error, a
 * scratch directory and a test policy. Header-only; each test program includes it once. */
#ifndef CONSENTRY_C_TEST_CHECK_H
#define CONSENTRY_C_TEST_CHECK_H

/* The build defines _POSIX_C_SOURCE=200809L, for mkdtemp. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "consentry.h"

static int check_failures = 0;

/* CHECK(cond) reports a failed condition with its line and counts it; the test goes on. */
#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++check_failures;                                                        \
    }                                                                          \
  } while (0)

/* REQUIRE(cond) is CHECK that stops the program: what follows depends on it. */
#define REQUIRE(cond)                                                            \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
      exit(1);                                                                   \
    }                                                                            \
  } while (0)

/* OK(call) requires a call taking `&err` last to return CONSENTRY_OK, printing the error's
 * message when it does not. `err` must be a consentry_error* in scope. */
#define OK(call)                                                                            \
  do {                                                                                      \
    int ok_status_ = (call);                                                                \
    if (ok_status_ != CONSENTRY_OK) {                                                       \
      fprintf(stderr, "%s:%d: %s returned %d: %s\n", __FILE__, __LINE__, #call, ok_status_, \
              consentry_error_message(err));                                                \
      exit(1);                                                                              \
    }                                                                                       \
    CHECK(err == NULL);                                                                     \
  } while (0)

/* EXPECT_ERROR(call, status, errc) checks that a call fails with that status and errc, and frees
 * the error. `err` must be a consentry_error* in scope, passed as &err to the call. */
#define EXPECT_ERROR(call, want_status, want_errc)                                                       \
  do {                                                                                                   \
    int got_status_ = (call);                                                                            \
    if (got_status_ != (want_status) || consentry_error_code(err) != (want_errc)) {                      \
      fprintf(stderr, "%s:%d: %s returned %d (%s: %s), expected %d (%s)\n", __FILE__, __LINE__, #call,   \
              got_status_, consentry_errc_name(consentry_error_code(err)), consentry_error_message(err), \
              (want_status), consentry_errc_name(want_errc));                                            \
      ++check_failures;                                                                                  \
    }                                                                                                    \
    CHECK(err == NULL || consentry_error_status(err) == got_status_);                                    \
    CHECK(consentry_free(err) == CONSENTRY_OK);                                                          \
    err = NULL;                                                                                          \
  } while (0)

/* finish reports the count of failed checks and gives the program's exit code. */
static inline int finish(const char* name) {
  if (check_failures != 0) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

/* scratch_dir makes a new directory under $TMPDIR (or /tmp); `out` gets its path. */
static inline void scratch_dir(char* out, size_t size) {
  const char* base = getenv("TMPDIR");
  if (base == NULL || base[0] == '\0') base = "/tmp";
  REQUIRE((size_t)snprintf(out, size, "%s/consentry-c-XXXXXX", base) < size);
  REQUIRE(mkdtemp(out) != NULL);
}

/* join_path writes dir/name into `out`; the test stops should it not fit. */
static inline void join_path(char* out, size_t size, const char* dir, const char* name) {
  int n = snprintf(out, size, "%s/%s", dir, name);
  REQUIRE(n > 0 && (size_t)n < size);
}

/* remove_scratch removes the files the tests make in a scratch directory, then the directory. */
static inline void remove_scratch(const char* dir) {
  static const char* const names[] = {"crm.vault", "crm.vault-wal", "crm.vault-shm", "crm.vault-journal",
                                      "policy.json"};
  char path[4096];
  size_t i;
  for (i = 0; i < sizeof names / sizeof names[0]; ++i) {
    join_path(path, sizeof path, dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
}

/* kTestPolicy: a contract purpose, a consent purpose and an objectable one, three accessors; the
 * contract purpose may search by email; Global Privacy Control takes back the other two. */
static const char kTestPolicy[] =
    "{\n"
    "  \"consentry_policy\": 1,\n"
    "  \"controller\": {\"name\": \"Test Shop Ltd\", \"contact\": \"privacy@shop.example\"},\n"
    "  \"purposes\": [\n"
    "    {\"id\": \"service\", \"basis\": \"contract\", \"description\": \"Run the account\"},\n"
    "    {\"id\": \"marketing\", \"basis\": \"consent\", \"description\": \"Offers by email\"},\n"
    "    {\"id\": \"analytics\", \"basis\": \"legitimate_interest\", \"description\": \"Reports\"}\n"
    "  ],\n"
    "  \"accessors\": [\n"
    "    {\"id\": \"support\", \"purposes\": [\"service\"]},\n"
    "    {\"id\": \"mailer\", \"purposes\": [\"marketing\"]},\n"
    "    {\"id\": \"dashboard\", \"purposes\": [\"analytics\"]}\n"
    "  ],\n"
    "  \"fields\": [\n"
    "    {\"name\": \"email\", \"type\": \"email\", \"category\": \"contact\", \"lookup\": [\"service\"],\n"
    "     \"access\": {\"service\": \"clear\", \"marketing\": \"clear\", \"analytics\": \"pseudonym\"}},\n"
    "    {\"name\": \"city\", \"type\": \"string\", \"category\": \"contact\",\n"
    "     \"access\": {\"service\": \"clear\", \"marketing\": \"generalise:prefix:2\"}},\n"
    "    {\"name\": \"phone\", \"type\": \"phone\", \"category\": \"contact\",\n"
    "     \"access\": {\"service\": \"mask:last4\"}}\n"
    "  ],\n"
    "  \"signals\": {\"gpc\": [\"marketing\", \"analytics\"]}\n"
    "}\n";

/* new_vault creates crm.vault in `dir` with kTestPolicy and the fast KDF; `path` gets its path. */
static inline consentry_vault* new_vault(const char* dir, char* path, size_t size) {
  consentry_error* err = NULL;
  consentry_policy* policy = NULL;
  consentry_vault* vault = NULL;
  consentry_vault_options options;
  consentry_vault_options_init(&options);
  options.kdf = CONSENTRY_KDF_MINIMUM;
  join_path(path, size, dir, "crm.vault");
  OK(consentry_policy_parse(kTestPolicy, &policy, &err));
  OK(consentry_vault_create(path, policy, "test passphrase", &options, &vault, &err));
  CHECK(consentry_free(policy) == CONSENTRY_OK);
  return vault;
}

#endif /* CONSENTRY_C_TEST_CHECK_H */
