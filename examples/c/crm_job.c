/* crm_job.c: a small CRM job in C over consentry's C API (consentry.h, libconsentry_c.so).
 *
 * It creates a vault (or opens it when it exists), writes a customer, records their consent to
 * marketing e-mails, reads the fields the mailing needs for that purpose, handles the denial a
 * withdrawal causes, and prints the customer's export as JSON.
 *
 *   crm_job [VAULT_FILE]        (default: a new vault in a temporary directory)
 *
 * Build against an installed consentry:  cc crm_job.c $(pkg-config --cflags --libs consentry_c)
 * The passphrase comes from CONSENTRY_PASSPHRASE (a fixed demo passphrase otherwise). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */

#include <consentry.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char kPolicy[] =
    "{\"consentry_policy\": 1,"
    " \"controller\": {\"name\": \"Acme Retail Ltd\", \"contact\": \"privacy@acme.example\"},"
    " \"purposes\": ["
    "   {\"id\": \"service\", \"basis\": \"contract\", \"description\": \"Run the account you opened\"},"
    "   {\"id\": \"marketing.email\", \"basis\": \"consent\", \"description\": \"Offers by email\","
    "    \"consent_valid_for\": \"P24M\"}],"
    " \"accessors\": ["
    "   {\"id\": \"support-desk\", \"purposes\": [\"service\"]},"
    "   {\"id\": \"email-campaigns\", \"purposes\": [\"marketing.email\"]}],"
    " \"fields\": ["
    "   {\"name\": \"name\", \"type\": \"string\", \"category\": \"identity\","
    "    \"access\": {\"service\": \"clear\", \"marketing.email\": \"generalise:prefix:1\"}},"
    "   {\"name\": \"email\", \"type\": \"email\", \"category\": \"contact\","
    "    \"access\": {\"service\": \"clear\", \"marketing.email\": \"clear\"}},"
    "   {\"name\": \"phone\", \"type\": \"phone\", \"category\": \"contact\","
    "    \"access\": {\"service\": \"mask:last4\"}}]}";

/* report prints a failed call's status and error (never a value: messages hold none) and frees
 * the error. Returns the status, so that `return report(...)` passes it on. */
static int report(const char* what, int status, consentry_error* err) {
  fprintf(stderr, "crm_job: %s: status %d (%s", what, status, consentry_errc_name(consentry_error_code(err)));
  if (consentry_error_reason(err) != CONSENTRY_DENY_NONE)
    fprintf(stderr, ", reason %s", consentry_error_reason_name(err));
  fprintf(stderr, "): %s\n", consentry_error_message(err));
  consentry_free(err);
  return status;
}

/* mail_merge reads what an e-mail campaign needs for one customer, as the campaign's accessor
 * for marketing: a denial is an answer ("do not mail"), not a failure. */
static int mail_merge(consentry_vault* vault, const char* customer) {
  static const char* const fields[] = {"name", "email", "phone"};
  consentry_error* err = NULL;
  consentry_accessor* campaigns = NULL;
  consentry_view* view = NULL;
  consentry_read* read = NULL;
  size_t i;
  int status = consentry_vault_accessor(vault, "email-campaigns", &campaigns, &err);
  if (status != CONSENTRY_OK) return report("accessor", status, err);
  status = consentry_accessor_view(campaigns, customer, "marketing.email", &view, &err);
  if (status == CONSENTRY_OK) status = consentry_view_read(view, fields, 3, &read, &err);
  if (status != CONSENTRY_OK) {
    report("read", status, err);
  } else {
    for (i = 0; i < consentry_read_count(read); ++i) {
      const char* value = NULL;
      const char* form = NULL;
      int field_status = consentry_read_field(read, i, &value, &form, &err);
      if (field_status == CONSENTRY_OK) {
        printf("  %s (%s): %s\n", fields[i], form, value);
      } else {
        /* Denied for this purpose (no form, no consent): the mailing goes without it. */
        printf("  %s: not for this purpose (%s)\n", fields[i], consentry_error_reason_name(err));
        consentry_free(err);
        err = NULL;
      }
    }
  }
  consentry_free(read);
  consentry_free(view);
  consentry_free(campaigns);
  return status;
}

int main(int argc, char** argv) {
  static const char* const fields[] = {"name", "email", "phone"};
  static const char* const values[] = {"Ada Lovelace", "ada@example.com", "+44 20 7946 0958"};
  const char* passphrase = getenv("CONSENTRY_PASSPHRASE");
  char dir[] = "/tmp/crm_job-XXXXXX";
  char path[4096];
  int made_dir = 0;
  consentry_error* err = NULL;
  consentry_policy* policy = NULL;
  consentry_vault* vault = NULL;
  consentry_export* export_ = NULL;
  char** eligible = NULL;
  size_t count = 0;
  int status;

  if (passphrase == NULL || passphrase[0] == '\0') passphrase = "demo passphrase, not for production";
  printf("consentry %s\n", consentry_version());
  if (argc > 1) {
    snprintf(path, sizeof path, "%s", argv[1]);
  } else {
    if (mkdtemp(dir) == NULL) return 2;
    made_dir = 1;
    snprintf(path, sizeof path, "%s/crm.vault", dir);
  }

  /* Open the vault, or create it with the policy. */
  status = consentry_vault_open(path, passphrase, NULL, &vault, &err);
  if (status == CONSENTRY_NOT_FOUND) {
    consentry_vault_options options;
    consentry_free(err);
    err = NULL;
    consentry_vault_options_init(&options);
    options.actor = "crm-job";
    status = consentry_policy_parse(kPolicy, &policy, &err);
    if (status != CONSENTRY_OK) return report("policy", status, err);
    status = consentry_vault_create(path, policy, passphrase, &options, &vault, &err);
    consentry_free(policy);
  }
  if (status != CONSENTRY_OK) return report("open", status, err);

  /* A new customer signs up on the web and ticks the offers box. */
  status = consentry_vault_write(vault, "C-1001", fields, values, 3, NULL, &err);
  if (status != CONSENTRY_OK) return report("write", status, err);
  status = consentry_vault_record_consent(vault, "C-1001", "marketing.email", CONSENTRY_CONSENT_GRANT, "web",
                                          "privacy notice v3", &err);
  if (status != CONSENTRY_OK) return report("consent", status, err);

  /* The campaign: who may be mailed, and what it may see of them. */
  status = consentry_vault_eligible_customers(vault, "marketing.email", &eligible, &count, &err);
  if (status != CONSENTRY_OK) return report("eligible", status, err);
  printf("eligible for marketing.email: %zu\n", count);
  printf("mail merge for C-1001:\n");
  mail_merge(vault, "C-1001");
  consentry_free(eligible);

  /* The customer unsubscribes: the next read is denied, as the policy requires. */
  status = consentry_vault_record_consent(vault, "C-1001", "marketing.email", CONSENTRY_CONSENT_WITHDRAW,
                                          "email-link", NULL, &err);
  if (status != CONSENTRY_OK) return report("withdraw", status, err);
  printf("after the withdrawal:\n");
  mail_merge(vault, "C-1001");

  /* They ask what the shop holds about them (Art. 15): the export, as JSON. */
  status = consentry_vault_export(vault, "C-1001", "en", &export_, &err);
  if (status != CONSENTRY_OK) return report("export", status, err);
  printf("%s\n", consentry_export_json(export_, NULL));
  consentry_free(export_);

  status = consentry_vault_verify_audit(vault, NULL, &err);
  if (status != CONSENTRY_OK) return report("verify", status, err);
  status = consentry_vault_close(vault, &err);
  if (status != CONSENTRY_OK) return report("close", status, err);
  if (made_dir) {
    unlink(path);
    rmdir(dir);
  }
  return 0;
}
