/* consentry.h: the stable C API of consentry (C11), over libconsentry_c.so.
 *
 * Consent-gated, encrypted customer data for CRM backends, for programs not written in C++.
 * docs/c-api.md explains the API by task; this header is its reference.
 *
 * Conventions (they hold for every function unless its comment says otherwise):
 *
 * - Status. A function returns an int status equal to the `consentry` command's exit codes:
 *   CONSENTRY_OK (0), CONSENTRY_INTERNAL (1: a bug or an impossible state), CONSENTRY_BAD_INPUT
 *   (2: a malformed argument, file or value, a NULL or dead handle, an I/O failure),
 *   CONSENTRY_DENIED (3: refused by the policy or by consent), CONSENTRY_INTEGRITY (4: tampering,
 *   a wrong passphrase, corrupt data), CONSENTRY_NOT_FOUND (5: no such customer, field, accessor
 *   or file, or the customer was erased).
 * - Errors. The last parameter, `consentry_error** err`, may be NULL (the caller does not want
 *   the details). Otherwise *err is set to NULL on success and to a new error object on failure
 *   (free it with consentry_free). An error carries a consentry_errc, a deny reason and a message
 *   naming fields, purposes, files and parameters, never a customer's value or a secret.
 * - Strings in are NUL-terminated UTF-8. Ids, fields, purposes, values, channels and reasons that
 *   are not well-formed UTF-8 are refused with CONSENTRY_BAD_INPUT (errc
 *   CONSENTRY_ERRC_INVALID_ARGUMENT) naming the parameter. Paths and passphrases are bytes.
 * - Memory. Everything the library allocates and hands out (strings, string lists, handles,
 *   exports, read results, errors) is released by one function, consentry_free(). The library
 *   keeps a registry of what it handed out, so freeing NULL does nothing, and freeing twice, or a
 *   pointer the library never returned, returns CONSENTRY_BAD_INPUT instead of corrupting memory.
 *   Strings borrowed from an object (consentry_error_message, consentry_export_json, ...) live
 *   as long as that object.
 * - Handles. consentry_vault, consentry_accessor, consentry_view, consentry_policy,
 *   consentry_export, consentry_read and consentry_error are opaque. An accessor or view keeps
 *   its vault's state alive: once the vault is closed, calls on them return CONSENTRY_BAD_INPUT
 *   (errc CONSENTRY_ERRC_INVALID_ARGUMENT, "the vault is closed"), never a crash.
 * - Threads. Every function may be called from many threads at once, on the same handles too,
 *   unless its comment says otherwise: a vault serialises what must be serialised. Freeing or
 *   closing a handle while another thread is inside a call on it is safe: the call finishes
 *   first (closing a vault waits for the calls running on it and its accessors and views);
 *   calls that start after it fail as on a dead handle. Using a handle after freeing it is still
 *   the caller's bug (the address may have been reused by then).
 * - No C++ exception crosses this API: an unexpected failure is CONSENTRY_INTERNAL.
 */
#ifndef CONSENTRY_H
#define CONSENTRY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; consentry_version() gives the library's. The ABI is that of
 * SONAME libconsentry_c.so.0: functions are only ever added to it, never changed. */
#define CONSENTRY_C_API_VERSION_MAJOR 0
#define CONSENTRY_C_API_VERSION_MINOR 1

/* ---- status, errc, deny reasons ---------------------------------------------------------- */

/* consentry_status: what every function returns (the command's exit codes, DESIGN.md). */
typedef enum consentry_status {
  CONSENTRY_OK = 0,
  CONSENTRY_INTERNAL = 1,
  CONSENTRY_BAD_INPUT = 2,
  CONSENTRY_DENIED = 3,
  CONSENTRY_INTEGRITY = 4,
  CONSENTRY_NOT_FOUND = 5
} consentry_status;

/* consentry_errc classifies a failure more finely than its status (C++ consentry::errc). */
typedef enum consentry_errc {
  CONSENTRY_ERRC_NONE = 0,             /* no error */
  CONSENTRY_ERRC_INVALID_ARGUMENT = 1, /* status 2: a malformed argument, NULL or dead handle */
  CONSENTRY_ERRC_BAD_INPUT = 2,        /* status 2: a malformed file, policy or value */
  CONSENTRY_ERRC_DENIED = 3,           /* status 3: see the deny reason */
  CONSENTRY_ERRC_INTEGRITY = 4,        /* status 4 */
  CONSENTRY_ERRC_NOT_FOUND = 5,        /* status 5 */
  CONSENTRY_ERRC_ERASED = 6,           /* status 5: the customer was erased */
  CONSENTRY_ERRC_ALREADY_EXISTS = 7,   /* status 2: refusing to overwrite */
  CONSENTRY_ERRC_IO = 8,               /* status 2: the operating system or the database failed */
  CONSENTRY_ERRC_INTERNAL = 9          /* status 1 */
} consentry_errc;

/* consentry_deny_reason says why a denial (CONSENTRY_DENIED) was made; NONE on other errors.
 * consentry_deny_reason_name() spells them as the JSON output does ("no_consent"). */
typedef enum consentry_deny_reason {
  CONSENTRY_DENY_NONE = 0,
  CONSENTRY_DENY_NO_CONSENT = 1,                    /* consent basis, no grant ever recorded */
  CONSENTRY_DENY_WITHDRAWN = 2,                     /* consent basis, the last event withdrew */
  CONSENTRY_DENY_EXPIRED = 3,                       /* the grant is past consent_valid_for */
  CONSENTRY_DENY_OBJECTED = 4,                      /* the customer objected (Art. 21) */
  CONSENTRY_DENY_PURPOSE_NOT_ALLOWED_FOR_FIELD = 5, /* the policy gives the purpose no form */
  CONSENTRY_DENY_ACCESSOR_NOT_REGISTERED = 6,       /* the accessor is not declared for it */
  CONSENTRY_DENY_UNKNOWN_PURPOSE = 7,
  CONSENTRY_DENY_UNKNOWN_FIELD = 8,
  CONSENTRY_DENY_RETENTION_EXPIRED = 9,
  CONSENTRY_DENY_ERASED = 10,
  CONSENTRY_DENY_CONTACT_LIMIT = 11,
  CONSENTRY_DENY_INFERENCE_NEEDS_PROFILING = 12,
  CONSENTRY_DENY_SOURCE_NOT_PERMITTED = 13,
  CONSENTRY_DENY_FORM_UNAVAILABLE = 14,
  CONSENTRY_DENY_PRIVACY_BUDGET_SPENT = 15,
  CONSENTRY_DENY_CONSENT_OUTDATED = 16,
  CONSENTRY_DENY_LOOKUP_NOT_ALLOWED = 17 /* the policy does not let the purpose search by it */
} consentry_deny_reason;

/* Opaque handles. */
typedef struct consentry_error consentry_error;
typedef struct consentry_policy consentry_policy;
typedef struct consentry_vault consentry_vault;
typedef struct consentry_accessor consentry_accessor;
typedef struct consentry_view consentry_view;
typedef struct consentry_read consentry_read;
typedef struct consentry_export consentry_export;

/* ---- library --------------------------------------------------------------------------- */

/* consentry_version gives the library's version ("0.1.0"), a static string never freed. */
const char* consentry_version(void);

/* consentry_free releases anything the library handed out: a string, a string list, an error, a
 * policy, an export, a read result, a view, an accessor, or a vault (which closes it, as
 * consentry_vault_close does). NULL does nothing and returns CONSENTRY_OK. A pointer that is
 * not live (freed already, or never returned by the library) is left alone and
 * CONSENTRY_BAD_INPUT returned. Thread-safe; see "Threads" above for freeing a handle in use. */
int consentry_free(void* p);

/* ---- errors ------------------------------------------------------------------------------ */

/* consentry_error_status gives the error's status (2 to 5, or 1); 2 for NULL or a dead error. */
int consentry_error_status(const consentry_error* e);
/* consentry_error_code gives the error's errc; CONSENTRY_ERRC_INVALID_ARGUMENT for NULL or a
 * dead error. */
consentry_errc consentry_error_code(const consentry_error* e);
/* consentry_error_reason gives the deny reason (CONSENTRY_DENY_NONE unless a denial). */
consentry_deny_reason consentry_error_reason(const consentry_error* e);
/* consentry_error_reason_name spells the deny reason ("no_consent", "none"); borrowed, static. */
const char* consentry_error_reason_name(const consentry_error* e);
/* consentry_error_message gives the message; borrowed from `e` (valid until it is freed); ""
 * for NULL or a dead error. Never holds a customer's value or a secret. */
const char* consentry_error_message(const consentry_error* e);
/* consentry_errc_name spells an errc ("integrity"); static; "internal" for an unknown one. */
const char* consentry_errc_name(consentry_errc code);
/* consentry_deny_reason_name spells a deny reason ("withdrawn"); static; "none" for an unknown. */
const char* consentry_deny_reason_name(consentry_deny_reason reason);

/* ---- policies ---------------------------------------------------------------------------- */

/* consentry_policy_load reads and validates a policy file (docs/policy.md) into *out.
 * CONSENTRY_BAD_INPUT (errc io) when it cannot be read, (errc bad_input) naming the JSON path of
 * what is malformed. Thread-safe. */
int consentry_policy_load(const char* path, consentry_policy** out, consentry_error** err);
/* consentry_policy_parse validates policy JSON text into *out; fails as consentry_policy_load.
 * Thread-safe. */
int consentry_policy_parse(const char* json, consentry_policy** out, consentry_error** err);
/* consentry_policy_to_json gives the policy's canonical JSON in *out (free it). Thread-safe. */
int consentry_policy_to_json(const consentry_policy* policy, char** out, consentry_error** err);

/* ---- vaults ------------------------------------------------------------------------------ */

/* consentry_kdf picks the Argon2id cost of a passphrase when a vault is created. MINIMUM is for
 * tests only. */
typedef enum consentry_kdf {
  CONSENTRY_KDF_INTERACTIVE = 0, /* the default */
  CONSENTRY_KDF_MINIMUM = 1,
  CONSENTRY_KDF_MODERATE = 2,
  CONSENTRY_KDF_SENSITIVE = 3
} consentry_kdf;

/* consentry_audit_mode says when audit entries become durable (C++ AuditMode). */
typedef enum consentry_audit_mode {
  CONSENTRY_AUDIT_DURABLE = 0, /* every audited call returns after its entry is committed */
  CONSENTRY_AUDIT_BATCHED = 1, /* read entries committed in batches; flush with
                                  consentry_vault_flush_audit */
  CONSENTRY_AUDIT_OFF = 2      /* no entries: for measuring only */
} consentry_audit_mode;

/* consentry_vault_options tune a vault. Initialise with consentry_vault_options_init (which sets
 * `size` for this header's layout, so a newer library can read an older caller's struct) and
 * change what you need; pass NULL for the defaults. */
typedef struct consentry_vault_options {
  size_t size;                /* sizeof(consentry_vault_options), set by _init */
  consentry_kdf kdf;          /* CONSENTRY_KDF_INTERACTIVE */
  consentry_audit_mode audit; /* CONSENTRY_AUDIT_DURABLE */
  const char* actor;          /* who the audit log names for staff actions; NULL = "library" */
  size_t max_readers;         /* connections opened for reads from several threads at once (8);
                                 0 = every read on the vault's own connection, taking turns */
} consentry_vault_options;

/* consentry_vault_options_init sets the defaults. Does nothing for NULL. */
void consentry_vault_options_init(consentry_vault_options* options);

/* consentry_vault_create makes a new SQLite vault file at `path` with `policy` and a master key
 * sealed under `passphrase` (non-empty), and opens it into *out. CONSENTRY_BAD_INPUT (errc
 * already_exists) when the file exists. Thread-safe. */
int consentry_vault_create(const char* path, const consentry_policy* policy, const char* passphrase,
                           const consentry_vault_options* options, consentry_vault** out,
                           consentry_error** err);
/* consentry_vault_open opens an existing vault file. CONSENTRY_NOT_FOUND without the file,
 * CONSENTRY_INTEGRITY for a wrong passphrase. Thread-safe. */
int consentry_vault_open(const char* path, const char* passphrase, const consentry_vault_options* options,
                         consentry_vault** out, consentry_error** err);
/* consentry_vault_close commits held-back audit entries, signs a checkpoint of the audit log,
 * closes the vault and frees the handle (consentry_free(vault) does the same). It waits for the
 * calls running on the vault, its accessors and views; those made later on the accessors and
 * views return CONSENTRY_BAD_INPUT ("the vault is closed"). NULL does nothing; a dead handle is
 * CONSENTRY_BAD_INPUT. */
int consentry_vault_close(consentry_vault* vault, consentry_error** err);

/* consentry_vault_put writes one value of `field` for `customer`; `source` may be NULL (none).
 * CONSENTRY_BAD_INPUT for a field the policy does not declare or a value that does not fit its
 * type; CONSENTRY_DENIED (source_not_permitted, inference_needs_profiling); CONSENTRY_NOT_FOUND
 * (errc erased) for an erased customer. Thread-safe. */
int consentry_vault_put(consentry_vault* vault, const char* customer, const char* field, const char* value,
                        const char* source, consentry_error** err);
/* consentry_vault_write writes `count` fields of one customer (fields[i] = values[i]) in one
 * transaction: all of them or, on any failure, none. `source` may be NULL. Fails as
 * consentry_vault_put; CONSENTRY_BAD_INPUT for count 0. Thread-safe. */
int consentry_vault_write(consentry_vault* vault, const char* customer, const char* const* fields,
                          const char* const* values, size_t count, const char* source, consentry_error** err);

/* consentry_consent_action: what a consent event records. */
typedef enum consentry_consent_action {
  CONSENTRY_CONSENT_GRANT = 0,
  CONSENTRY_CONSENT_WITHDRAW = 1,
  CONSENTRY_CONSENT_OBJECT = 2 /* an objection (legitimate interest, public task) */
} consentry_consent_action;

/* consentry_vault_record_consent appends a grant, withdrawal or objection of `customer` for
 * `purpose`, given on `channel` ("web", "phone", ...; NULL = none) after being shown `notice`
 * (NULL = none). It applies at once, to views already open too. CONSENTRY_BAD_INPUT for an
 * unknown purpose or an action the purpose's basis does not take; CONSENTRY_NOT_FOUND (errc
 * erased) for an erased customer. Thread-safe. */
int consentry_vault_record_consent(consentry_vault* vault, const char* customer, const char* purpose,
                                   consentry_consent_action action, const char* channel, const char* notice,
                                   consentry_error** err);

/* consentry_signal_kind: the kind of consent signal a website or app sent. */
typedef enum consentry_signal_kind {
  CONSENTRY_SIGNAL_TCF = 0, /* a TCF v2.2 TC string */
  CONSENTRY_SIGNAL_GPP = 1, /* a GPP string (its TCF EU and US national sections are read) */
  CONSENTRY_SIGNAL_GPC = 2  /* Global Privacy Control (Sec-GPC: 1); text NULL, "" or "1" */
} consentry_signal_kind;

/* consentry_vault_record_signal records what a consent signal says of `customer`, read through
 * the policy's "signals" mapping (docs/consent-signals.md): a grant, withdrawal or objection for
 * each purpose whose position it changes, each naming the signal, received on `channel` (NULL =
 * none). A signal older than a purpose's latest event leaves that purpose alone. *recorded (may
 * be NULL) gets the number of ledger events recorded. CONSENTRY_BAD_INPUT for a malformed string
 * (the message names the field) or a signal the policy does not map; CONSENTRY_NOT_FOUND (errc
 * erased) for an erased customer. Nothing is recorded on failure. Thread-safe. */
int consentry_vault_record_signal(consentry_vault* vault, const char* customer, consentry_signal_kind kind,
                                  const char* text, const char* channel, size_t* recorded,
                                  consentry_error** err);

/* consentry_vault_consent_receipt sets *out (freed with consentry_free) to the signed receipt,
 * one line of JSON, of the customer's ledger event `seq`; audited as a staff look at the
 * customer's consent. CONSENTRY_NOT_FOUND for an unknown customer or event. Thread-safe. */
int consentry_vault_consent_receipt(consentry_vault* vault, const char* customer, int64_t seq, char** out,
                                    consentry_error** err);

/* consentry_vault_public_key sets *out (freed with consentry_free) to the vault's public key in
 * hex: the key that checks its consent receipts and audit checkpoints. Thread-safe. */
int consentry_vault_public_key(consentry_vault* vault, char** out, consentry_error** err);

/* consentry_verify_consent_receipt checks a receipt offline, with only the vault's public key in
 * hex (64 digits); no vault is needed. CONSENTRY_OK when its signature holds; CONSENTRY_INTEGRITY
 * when any member was changed, added or removed or it names another key; CONSENTRY_BAD_INPUT for
 * text that is not a receipt or a key that is not 64 hex digits. */
int consentry_verify_consent_receipt(const char* receipt, const char* public_key_hex, consentry_error** err);

/* consentry_vault_contains sets *out to 1 when the vault holds data or consent events for the
 * customer, 0 otherwise. Thread-safe. */
int consentry_vault_contains(consentry_vault* vault, const char* customer, int* out, consentry_error** err);

/* consentry_vault_customers and consentry_vault_eligible_customers give a sorted list of
 * customer ids in *out: a NULL-terminated array of strings, freed whole by one consentry_free
 * (its strings must not be freed on their own); *count (may be NULL) gets its length.
 * _customers lists every customer with data; _eligible_customers those whose position on
 * `purpose` lets its basis use their data now (a live grant for consent). CONSENTRY_BAD_INPUT
 * for an undeclared purpose. Thread-safe. */
int consentry_vault_customers(consentry_vault* vault, char*** out, size_t* count, consentry_error** err);
int consentry_vault_eligible_customers(consentry_vault* vault, const char* purpose, char*** out,
                                       size_t* count, consentry_error** err);

/* consentry_vault_erase carries out the customer's right to erasure: their data key is
 * destroyed, their values and consent events deleted, the files compacted, and the erasure
 * audited with `reason` and `request` (a ticket reference), either NULL. Neither may hold
 * personal data: the log keeps them. Afterwards views, reads and writes for the customer return
 * CONSENTRY_NOT_FOUND (errc erased). CONSENTRY_NOT_FOUND for an unknown customer or one already
 * erased; CONSENTRY_BAD_INPUT for a reason over 500 bytes or with control characters.
 * Thread-safe. */
int consentry_vault_erase(consentry_vault* vault, const char* customer, const char* reason,
                          const char* request, consentry_error** err);

/* consentry_vault_export gathers everything held about `customer`, for the customer (Art. 15):
 * values in clear, their standing on every purpose, consent history and every access, rendered
 * as JSON (docs/export.schema.json) and as one HTML page in `language` (a language tag; NULL or
 * "" = the policy's default). The export is audited. CONSENTRY_NOT_FOUND for an unknown or
 * erased customer, CONSENTRY_INTEGRITY when a value fails to authenticate. Thread-safe. */
int consentry_vault_export(consentry_vault* vault, const char* customer, const char* language,
                           consentry_export** out, consentry_error** err);
/* consentry_export_json and consentry_export_html give the export's text, borrowed from it (valid
 * until it is freed); NULL for NULL or a dead export. *size (may be NULL) gets the length in
 * bytes. Thread-safe. */
const char* consentry_export_json(const consentry_export* e, size_t* size);
const char* consentry_export_html(const consentry_export* e, size_t* size);

/* consentry_vault_flush_audit commits audit entries held back by CONSENTRY_AUDIT_BATCHED and
 * syncs the batches committed without waiting for the disk. CONSENTRY_BAD_INPUT (errc io) when
 * that fails; they stay held back, or in the log unsynced for the next flush. Thread-safe. */
int consentry_vault_flush_audit(consentry_vault* vault, consentry_error** err);
/* consentry_vault_verify_audit checks the audit log's hash chain and signed checkpoints.
 * CONSENTRY_OK when it verifies; CONSENTRY_INTEGRITY, with a message saying at which entry and
 * what is wrong, when it does not. *entries (may be NULL) gets the number of entries read.
 * Thread-safe. */
int consentry_vault_verify_audit(consentry_vault* vault, int64_t* entries, consentry_error** err);

/* ---- accessors, views, reads ------------------------------------------------------------- */

/* consentry_vault_accessor gives the accessor `id` declared in the policy (a CRM feature acting
 * under its registration). CONSENTRY_NOT_FOUND when the policy declares none. The accessor
 * keeps the vault's state alive but not open. Thread-safe. */
int consentry_vault_accessor(consentry_vault* vault, const char* id, consentry_accessor** out,
                             consentry_error** err);

/* consentry_accessor_view opens `customer` for `purpose`. CONSENTRY_DENIED
 * (accessor_not_registered) when the policy does not register the accessor for the purpose,
 * (unknown_purpose) for an undeclared one; CONSENTRY_NOT_FOUND (errc erased) for an erased
 * customer. Consent is decided at each read, not here. Thread-safe. */
int consentry_accessor_view(consentry_accessor* accessor, const char* customer, const char* purpose,
                            consentry_view** out, consentry_error** err);

/* consentry_view_get reads one field in the form the policy gives the view's purpose: the value
 * in *value and the form's spelling ("clear", "mask:last4") in *form (may be NULL); free both.
 * Every read decides again against the consent ledger as it is now, and is audited.
 * CONSENTRY_DENIED with the reason (nothing is decrypted then); CONSENTRY_NOT_FOUND when the
 * customer has no value for the field, or (errc erased) once they were erased;
 * CONSENTRY_INTEGRITY when the stored value fails authentication. Thread-safe. */
int consentry_view_get(consentry_view* view, const char* field, char** value, char** form,
                       consentry_error** err);

/* consentry_view_read reads `count` fields at once, each decided as consentry_view_get would,
 * against one reading of the ledger and one snapshot of the store, into *out: each field's
 * outcome is taken with consentry_read_field. The call itself fails, returning nothing, with
 * CONSENTRY_NOT_FOUND (errc erased) once the customer was erased, CONSENTRY_BAD_INPUT for count
 * 0 or an invalid field name, and (errc io) when the store or the audit log fails.
 * Thread-safe. */
int consentry_view_read(consentry_view* view, const char* const* fields, size_t count, consentry_read** out,
                        consentry_error** err);
/* consentry_accessor_read is consentry_accessor_view and consentry_view_read in one call,
 * deciding and reading in one committed state of the store (one round trip to a PostgreSQL
 * server, where the two calls take one each), into *out as consentry_view_read does. Refused
 * whole as consentry_accessor_view is: CONSENTRY_DENIED (accessor_not_registered,
 * unknown_purpose), CONSENTRY_NOT_FOUND (errc erased); CONSENTRY_BAD_INPUT for count 0 or an
 * invalid customer, purpose or field name; (errc io) when the store or the audit log fails.
 * Thread-safe. */
int consentry_accessor_read(consentry_accessor* accessor, const char* customer, const char* purpose,
                            const char* const* fields, size_t count, consentry_read** out,
                            consentry_error** err);
/* consentry_read_each_fn receives one customer's outcome from consentry_accessor_read_each, in
 * the order the customers were given. When the customer was read, `read` holds each field's
 * outcome (consentry_read_count, consentry_read_field) and `error` is NULL; when the read was
 * refused whole (CONSENTRY_DENIED, CONSENTRY_NOT_FOUND with errc erased, CONSENTRY_BAD_INPUT for
 * an invalid id), `read` is NULL and `error` says why. Both are borrowed for the call only: do
 * not free them, nor keep them or the strings taken from them after it returns. Return 0 to go
 * on, anything else to stop the walk. The callback must not close the vault. */
typedef int (*consentry_read_each_fn)(void* context, const char* customer, const consentry_read* read,
                                      const consentry_error* error);
/* consentry_accessor_read_each is consentry_accessor_read for many customers, for work over many
 * of them (an export of the customers eligible for a purpose, a dataset): each of the `ncustomers`
 * customers is decided and read as consentry_accessor_read decides and reads one, and audited as
 * it audits one. Customers go in batches of `batch` (0: the library's default, 256): a batch's
 * audit entries are committed together (one sync in durable mode), and only then are its
 * outcomes handed to `each`, one customer at a time. A withdrawal or erasure committed before a
 * batch is read decides its customers. *done (may be NULL) gets the number of customers handed
 * to `each`, fewer than `ncustomers` when it stopped the walk (which is no error).
 * CONSENTRY_BAD_INPUT for fields count 0, an invalid purpose or field name, a NULL customer id, or
 * (errc io) when the store or the audit log fails: the batch being read is then neither handed
 * out nor logged, and those before it stay handed out and logged. Thread-safe. */
int consentry_accessor_read_each(consentry_accessor* accessor, const char* const* customers,
                                 size_t ncustomers, const char* purpose, const char* const* fields,
                                 size_t count, size_t batch, consentry_read_each_fn each, void* context,
                                 size_t* done, consentry_error** err);
/* consentry_accessor_find searches customers by the value of `field`, a field whose policy
 * "lookup" lists `purpose` (docs/lookup.md): *out gets the ids of those whose value equals
 * `value` once both are normalised by the field's type, sorted, as a NULL-terminated array freed
 * whole by one consentry_free; *count (may be NULL) its length, 0 when no one is found (no
 * error). Each candidate is decided like a read for the purpose (consent, retention) before it is
 * decrypted; the search is audited as lookup entries, never the value. CONSENTRY_DENIED
 * (unknown_purpose, accessor_not_registered, unknown_field, lookup_not_allowed) when refused;
 * CONSENTRY_BAD_INPUT for a value that does not fit the field's type or invalid text;
 * CONSENTRY_INTEGRITY for a stored value that fails authentication. Thread-safe. */
int consentry_accessor_find(consentry_accessor* accessor, const char* purpose, const char* field,
                            const char* value, char*** out, size_t* count, consentry_error** err);
/* consentry_read_count gives the number of fields in a read result; 0 for NULL or a dead one. */
size_t consentry_read_count(const consentry_read* r);
/* consentry_read_field gives the outcome of field `index` (in the order asked): its status as
 * consentry_view_get would return it; on CONSENTRY_OK *value and *form (either may be NULL) are
 * borrowed from `r` (valid until it is freed); otherwise *err (may be NULL) gets that field's
 * error. CONSENTRY_BAD_INPUT for an index out of range or a NULL or dead result. Thread-safe. */
int consentry_read_field(const consentry_read* r, size_t index, const char** value, const char** form,
                         consentry_error** err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* CONSENTRY_H */
