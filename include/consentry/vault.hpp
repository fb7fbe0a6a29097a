// vault.hpp: Vault, Accessor and View, the façade a CRM feature reads customer data through.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/private_aggregate.hpp"
#include "consentry/audit.hpp"
#include "consentry/consent.hpp"
#include "consentry/customer_record.hpp"
#include "consentry/form.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/policy.hpp"
#include "consentry/policy_diff.hpp"
#include "consentry/report.hpp"
#include "consentry/result.hpp"
#include "consentry/signals/signal_reading.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// Store keeps a vault's sealed data (store.hpp, the extension tier): only a caller that makes
/// its own store, for create_in and open_in, needs its definition.
class Store;

/// AuditMode says when audit entries become durable.
enum class AuditMode {
  /// Every audited call returns only after its entry is committed; entries of concurrent calls
  /// share one commit (group commit). The default.
  durable,
  /// Entries of reads are held back and committed in batches of kAuditBatch entries without
  /// waiting for the disk; any write, flush_audit() and close commit what is held and sync it. On
  /// SQLite and PostgreSQL the full batches are committed by a thread of the vault's own, on a
  /// second connection to the store, while reads go on (docs/audit.md, "Audit mode"). A process
  /// crash loses at most the entries held back; a power loss can also lose read entries
  /// committed since the last sync. Never a write's entry, and the chain still verifies.
  batched,
  /// No entries at all. For measuring the cost of auditing only: it breaks the rule that every
  /// access leaves a record.
  off,
};

/// kDerivedSource is the source Vault::derive records for inferred values.
inline constexpr std::string_view kDerivedSource = "inference";

/// kAuditBatch is how many held-back entries AuditMode::batched commits at once.
inline constexpr std::size_t kAuditBatch = 256;
/// kCheckpointInterval is how many entries may follow the last signed checkpoint before the
/// vault signs a new one (it also signs one when it closes).
inline constexpr std::int64_t kCheckpointInterval = 1024;

/// kLibraryActor is VaultOptions::actor when a library user names none. It is the accessor's
/// own doing then: reads do not record it as an actor.
inline constexpr std::string_view kLibraryActor = "library";

/// VaultOptions tune a vault. `kdf` matters only when creating and when changing the passphrase;
/// `clock` lets tests move time.
struct VaultOptions {
  KdfStrength kdf = KdfStrength::interactive;
  std::function<timestamp()> clock;   ///< empty = the system clock
  std::size_t key_cache_size = 4096;  ///< unwrapped data keys kept, wiped when evicted
  AuditMode audit = AuditMode::durable;
  /// actor is who the audit log names for staff actions (writes, consent), and records beside
  /// the accessor on view opens and reads (AuditEntry::actor) unless it is the accessor itself
  /// or kLibraryActor.
  std::string actor = std::string(kLibraryActor);
  /// random draws the noise of private aggregates; empty = system_random() (libsodium).
  std::shared_ptr<RandomSource> random;
  /// max_readers bounds the connections a vault opens, as threads need them, so that reads
  /// from several threads run side by side (another open of an SQLite file; another server
  /// connection on PostgreSQL). Reads from more threads at once, and every read when 0, take
  /// turns on the vault's own connection.
  std::size_t max_readers = 8;
};

/// kDefaultPrivacyBudget is a purpose's total epsilon when the policy sets no privacy_budget.
inline constexpr double kDefaultPrivacyBudget = 10.0;

/// PrivacyBudget is what a purpose has spent of its privacy budget, in epsilon.
struct PrivacyBudget {
  std::string purpose;
  double total = kDefaultPrivacyBudget;  ///< the policy's privacy_budget, or the default
  double spent = 0;                      ///< what released aggregates cost, rounded up to 1e-6
};

/// FieldValue is a field as revealed to a purpose: the value in the form the policy gives.
struct FieldValue {
  std::string field;
  std::string value;  ///< already transformed (masked, generalised, ...); "" for redact
  Form form;
};

/// ConsentDetails describe how a consent event was given.
struct ConsentDetails {
  std::string channel;          ///< "web", "phone", "store", "cli", ...
  std::string notice;           ///< the privacy notice shown
  std::optional<timestamp> at;  ///< empty = now
  /// require_known makes Vault::record_consent refuse, with errc::not_found, a customer the vault
  /// holds neither data nor consent events for (checked inside the write transaction); false
  /// records the event and so makes the customer known.
  bool require_known = false;
};

/// SignalOutcome is what Vault::record_signal did for one purpose the signal decides.
struct SignalOutcome {
  std::string purpose;
  signals::SignalVerdict verdict = signals::SignalVerdict::refused;
  std::optional<ConsentEvent> recorded;  ///< the event recorded; empty when none was
  /// kept says why none was: "unchanged" (the ledger already gives the purpose the position the
  /// signal asks for) or "older" (the purpose's latest event is later than the signal).
  std::string kept;
};

/// SignalReport is what Vault::record_signal did: the signal, and each purpose it decides.
struct SignalReport {
  ConsentSignal signal;
  std::vector<SignalOutcome> purposes;
};

/// RotationOptions tune Vault::rotate_master_key.
struct RotationOptions {
  std::size_t batch = 1000;     ///< data keys re-wrapped per transaction
  std::size_t max_batches = 0;  ///< stop after this many batches (0 = to the end); a later call resumes
  std::function<void(std::int64_t rewrapped)> on_batch;  ///< called after each committed batch
};

/// RotationReport says what a call to Vault::rotate_master_key did.
struct RotationReport {
  std::uint32_t version = 0;   ///< the master key version data keys are wrapped under now
  std::int64_t rewrapped = 0;  ///< data keys this call re-wrapped
  bool resumed = false;        ///< the call continued a rotation an earlier call started
  bool complete = false;       ///< false when max_batches stopped it before the end
};

/// PurgeOptions tune Vault::purge.
struct PurgeOptions {
  bool dry_run = false;         ///< count what is past retention, delete nothing
  std::size_t batch = 500;      ///< values deleted per transaction
  std::size_t max_batches = 0;  ///< stop after this many batches (0 = to the end); a later call goes on
  std::function<void(std::int64_t purged)> on_batch;  ///< called after each committed batch
};

/// PurgeReport says what a call to Vault::purge found and did.
struct PurgeReport {
  std::int64_t values = 0;     ///< values deleted (or, in a dry run, due for deletion)
  std::int64_t customers = 0;  ///< customers who had such a value
  std::vector<std::pair<std::string, std::int64_t>> fields;  ///< per field with any, in policy order
  bool complete = true;  ///< false when max_batches stopped it before the end
};

/// kBulkReadBatch is how many customers Accessor::read_each reads before it commits their audit
/// entries together and hands their answers out.
inline constexpr std::size_t kBulkReadBatch = 256;

/// BulkReadOptions tune Accessor::read_each.
struct BulkReadOptions {
  std::size_t batch = kBulkReadBatch;  ///< customers per batch: read, logged in one commit, handed out
  /// on_batch is called after each batch is handed out, with the customers handed out so far
  /// and the number asked for.
  std::function<void(std::int64_t done, std::int64_t total)> on_batch;
};

/// CustomerAnswer is what Accessor::read (and read_each, per customer) answers: the call's own
/// failure, or each field as View::read returns it.
using CustomerAnswer = result<std::vector<result<FieldValue>>>;

/// WriteOptions tune Vault::write and Vault::write_batches.
struct WriteOptions {
  bool dry_run = false;  ///< check every record as a write would, then write nothing
};

/// WriteReport says what Vault::write_batches wrote (or, in a dry run, checked).
struct WriteReport {
  std::int64_t records = 0;
  std::int64_t values = 0;
};

/// RecordBatches gives Vault::write_batches its records: each call appends the next batch to
/// `batch` (given empty) and returns false once the input is read through (the last batch may
/// come with it), or an error, which ends the write with nothing written.
using RecordBatches = std::function<result<bool>(std::vector<Record>& batch)>;

/// kMaxCustomerIdBytes bounds a customer id: at most this many bytes of UTF-8, not empty, no
/// control character.
inline constexpr std::size_t kMaxCustomerIdBytes = 128;

/// kMaxErasureReasonBytes bounds ErasureRequest::reason; kMaxErasureRequestBytes its request.
inline constexpr std::size_t kMaxErasureReasonBytes = 500;
inline constexpr std::size_t kMaxErasureRequestBytes = 128;

/// ErasureRequest says why a customer is erased, for the erasure's audit entry. Neither text may
/// hold a customer's personal data: the log keeps it after the erasure.
struct ErasureRequest {
  /// reason is why ("the customer asked by e-mail"): at most kMaxErasureReasonBytes of UTF-8, no
  /// control character; "" records none.
  std::string reason;
  /// request is the reference of the customer's request (a ticket number): at most
  /// kMaxErasureRequestBytes, no control character; "" for none.
  std::string request;
  bool dry_run = false;  ///< count what would be erased; change nothing, record nothing
};

/// ErasureReport says what Vault::erase erased (or, in a dry run, would erase); never a value.
struct ErasureReport {
  std::int64_t values = 0;          ///< stored values
  std::vector<std::string> fields;  ///< the fields they belong to, sorted
  std::int64_t consent_events = 0;  ///< consent events in the customer's ledger
  bool dry_run = false;             ///< nothing was changed
};

/// MasterKeyStatus describes a vault's master key versions (never their bytes).
struct MasterKeyStatus {
  std::string provider;                 ///< KeyProvider::kind() of what seals them
  std::uint32_t current = 0;            ///< the version new data keys are wrapped under
  std::vector<std::uint32_t> versions;  ///< every live version, ascending
  bool rotating = false;                ///< a rotation was started and not finished
  /// data_keys counts the data keys wrapped under each version.
  std::vector<std::pair<std::uint32_t, std::int64_t>> data_keys;
};

/// PolicyVersion is one version of a vault's policy (never its text: see Vault::policy_at).
struct PolicyVersion {
  std::int64_t number = 1;      ///< 1 for the policy the vault was created with, then 2, 3, ...
  std::string hash;             ///< BLAKE2b-256 of the policy's canonical JSON (to_json), in hex
  std::optional<timestamp> at;  ///< when it took effect; none for version 1 of an older vault
  std::string actor;            ///< who made it (VaultOptions::actor); "" when not recorded
};

/// PolicyUpdateOptions tune Vault::update_policy.
struct PolicyUpdateOptions {
  /// purge_removed allows a change that stored values no longer fit (a field removed, or its type
  /// changed): those values are deleted first, in audited batches. Without it such a change is
  /// refused while any value remains.
  bool purge_removed = false;
  std::size_t batch = 500;  ///< values deleted, or customers indexed, per transaction
};

/// PolicyUpdate says what Vault::update_policy did.
struct PolicyUpdate {
  PolicyVersion version;           ///< the version in force after the call
  PolicyDiff diff;                 ///< what changed from the version before
  bool changed = false;            ///< false when the policy was the same: nothing was written
  std::int64_t values_purged = 0;  ///< values deleted because their field went or changed type
  /// customers_reindexed counts the customers whose blind index entries were built again because
  /// a field gained or lost "lookup" or changed "lookup_bits" (Vault::reindex_lookups).
  std::int64_t customers_reindexed = 0;
};

class Accessor;
class View;

/// Vault is an open vault: policy, keyring, store and audit log. Movable, not copyable. Its
/// methods, and those of its accessors and views, may be called from many threads at once. It
/// serves the process that opened it: in a child fork()ed from that process, every call that
/// reaches the store fails with errc::io naming the fork, and writes nothing (open the vault
/// again in the child). Accessors and views borrow it and must not outlive it. Closing
/// (destroying) a vault commits held-back audit entries and signs a checkpoint of the log.
class Vault {
 public:
  /// create makes a new vault at `file` with `policy` and a master key sealed under
  /// `passphrase`: an SQLite file, or, for a `postgresql://` URI, a schema on that PostgreSQL
  /// server (open_postgres_store in extension/store.hpp). errc::already_exists if the file
  /// exists or the schema holds a vault; on any failure nothing is left behind.
  static result<Vault> create(const std::filesystem::path& file, const Policy& policy,
                              std::string_view passphrase, VaultOptions options = {});
  /// open opens an existing vault, an SQLite file or a `postgresql://` URI. errc::not_found
  /// without the file or the schema, errc::integrity for a wrong passphrase (nothing is written
  /// either way), errc::io when the PostgreSQL server cannot be reached.
  static result<Vault> open(const std::filesystem::path& file, std::string_view passphrase,
                            VaultOptions options = {});
  /// create_in and open_in do the same on a store the caller made (e.g. make_memory_store()).
  static result<Vault> create_in(std::unique_ptr<Store> store, const Policy& policy,
                                 std::string_view passphrase, VaultOptions options = {});
  static result<Vault> open_in(std::unique_ptr<Store> store, std::string_view passphrase,
                               VaultOptions options = {});

  Vault(Vault&&) noexcept;
  Vault& operator=(Vault&&) noexcept;
  ~Vault();

  /// policy is the policy in force: the one the vault was created with, or the last that
  /// update_policy installed, by this vault or another on the same store (another process).
  /// Should the store fail, the version this vault last saw. The reference stays valid as long
  /// as the vault.
  const Policy& policy() const;

  /// update_policy makes `to` the vault's policy, as a new version recorded with its hash, the
  /// time and VaultOptions::actor, and audited as a policy_change entry. It applies at once, to
  /// views already open too, in this vault and in every other vault open on the same store:
  /// each decision takes the version committed last. errc::io when another vault changed the
  /// policy since this one last looked (the diff would compare with an older version). A field removed, or
  /// whose type changed, while values of it are stored is refused with errc::invalid_argument naming the
  /// field, unless `options.purge_removed`: then those values are deleted first in audited batches (purge
  /// entries, reason PurgeReason::policy_field_removed). A policy equal to the one in force
  /// writes nothing (changed == false). Widening what a consent-based purpose uses is allowed;
  /// the diff names the purposes whose earlier consents it outdates. Fails with the store's
  /// error; what committed before (purged batches) stays.
  result<PolicyUpdate> update_policy(const Policy& to, PolicyUpdateOptions options = {});
  /// reindex_lookups builds the blind indexes (docs/lookup.md) that a policy change left to
  /// build: a field given "lookup" or a new "lookup_bits" is indexed, one that lost "lookup" has
  /// its entries deleted. It walks the field's values `batch` customers per transaction;
  /// update_policy calls it, and a call after an interrupted one resumes where that stopped.
  /// Until a field's walk ends, Accessor::find by it fails with errc::io. Returns how many
  /// customers' entries were written (0 when nothing was left to do). errc::invalid_argument for
  /// a batch of 0; errc::integrity for a value or data key that fails authentication; the
  /// store's error. What committed before a failure stays.
  result<std::int64_t> reindex_lookups(std::size_t batch = 1000);
  /// policy_version is the number of the policy in force (1 for a vault never updated),
  /// following a version another vault on the store put in force, as policy() does.
  std::int64_t policy_version() const;
  /// policy_versions lists every version, oldest first; errc::integrity for a damaged record.
  result<std::vector<PolicyVersion>> policy_versions() const;
  /// policy_at gives version `number` of the policy; errc::not_found for a version the vault does
  /// not have, errc::integrity for one that fails authentication.
  result<Policy> policy_at(std::int64_t number) const;

  /// accessor returns the accessor `id` declared in the policy; errc::not_found otherwise.
  result<Accessor> accessor(std::string_view id) const;

  /// put writes one value. errc::bad_input for a field the policy does not declare or a value
  /// that does not fit its type; errc::denied (source_not_permitted, inference_needs_profiling)
  /// for a source the field does not accept or an inferred field without profiling consent;
  /// errc::erased for an erased customer.
  result<void> put(std::string_view customer, std::string_view field, std::string_view value,
                   std::string_view source = "", std::optional<timestamp> collected_at = {});
  /// derive writes an inferred value (a field of category "inferred": a guess about the customer,
  /// not something they disclosed), with source kDerivedSource, only while the customer consents
  /// to profiling. errc::denied (inference_needs_profiling) without that consent; errc::bad_input
  /// for a field that is not inferred or a malformed value; errc::not_found for an unknown
  /// customer; errc::erased for an erased one.
  result<void> derive(std::string_view customer, std::string_view field, std::string_view value);
  /// write validates every record, then writes all of them in one transaction, or none.
  /// Messages name `origin` and the record's line ("customers.jsonl:12: field 'email': ..."):
  /// every bad record is reported, one per message line, up to kMaxReportedBadLines, then how
  /// many there were; the error's code and reason are the first's. With options.dry_run every
  /// check is made, those inside the transaction too, and nothing is written or logged.
  /// Erasure and consent to profiling are checked inside that transaction, against the ledger as
  /// committed. New data keys are wrapped under the master key version current as it commits;
  /// errc::io when another process rotated and re-sealed the master key so that this vault's key
  /// provider cannot open it (open the vault again and retry). A write (or a batch) of 128 records
  /// or more checks and seals them on up to three threads it starts for the call (no more than
  /// the machine's cores less one) and joins before it returns, 128 records at a time, while the
  /// calling thread writes those before; the store is written from the calling thread alone.
  result<void> write(const std::vector<Record>& records, std::string_view origin = "",
                     const WriteOptions& options = {});
  /// write_batches is write() for an input too large to hold at once (an import): it takes the
  /// records a batch at a time from `next` (called on the calling thread) and writes them all in
  /// one transaction, or none, so memory follows the batch, not the input: each batch is taken
  /// before the one before it is written, so that it is checked meanwhile (two batches are held
  /// at once). Each batch is checked and written as write() does;
  /// after a bad record the rest are only checked, and every bad record is reported (as write()
  /// reports them) once the input is read through. An error from `next` ends it with nothing
  /// written; when it is errc::bad_input (the input's own bad lines) its message comes first and
  /// the bad records found so far follow it. Holds the vault's store for the whole write: other
  /// threads of this vault wait for it. Returns the records and values written (checked, with
  /// options.dry_run).
  result<WriteReport> write_batches(const RecordBatches& next, std::string_view origin = "",
                                    const WriteOptions& options = {});

  /// record_consent appends a grant, withdraw or object event. Grants get an expiry from the
  /// purpose's consent_valid_for. Withdrawing consent to profiling deletes the customer's
  /// inferred values in the same transaction (audited as a purge, reason profiling_withdrawn).
  /// errc::bad_input for an unknown purpose, for grant or withdraw on a purpose that does not rest on
  /// consent, and for object on one that cannot be objected to (only legitimate interest and public task
  /// can); errc::erased for an erased customer; errc::not_found for a customer the vault does not
  /// hold when `details.require_known` is set.
  result<ConsentEvent> record_consent(std::string_view customer, std::string_view purpose,
                                      ConsentAction action, const ConsentDetails& details = {});
  /// record_signal records what a consent signal from a website or app says: a TCF v2.2 TC string,
  /// a GPP string, or Global Privacy Control (`text` empty or "1"), read through the policy's
  /// "signals" mapping (docs/consent-signals.md). Each purpose's verdict becomes an ordinary ledger
  /// event naming the signal (ConsentEvent::signal): a grant where the string grants and the
  /// purpose is not granted; a withdrawal where it refuses or opts out of a granted consent; an
  /// objection where it opts out of legitimate interest or public task not yet objected to. A
  /// signal older than a purpose's latest event (that event's signal time, else its time) leaves
  /// the purpose alone. All the events are recorded in one transaction, audited like
  /// record_consent's, or none. errc::bad_input for a malformed string (naming the field that is
  /// wrong) or one the policy maps no purpose for; errc::erased for an erased customer;
  /// errc::not_found for an unknown customer with `details.require_known`.
  result<SignalReport> record_signal(std::string_view customer, signals::SignalKind kind,
                                     std::string_view text, const ConsentDetails& details = {});
  /// consent_receipt issues the signed receipt of the customer's ledger event `seq`
  /// (consentry/receipt.hpp), which anyone holding audit_public_key() can check offline with
  /// verify_consent_receipt. Recorded in the audit log as a staff_read entry (StaffView::consent).
  /// errc::not_found for an unknown customer or an event the customer's ledger does not hold;
  /// errc::erased for an erased customer.
  result<std::string> consent_receipt(std::string_view customer, std::int64_t seq) const;
  /// consent_history returns the customer's ledger, oldest first; errc::erased after erase().
  result<std::vector<ConsentEvent>> consent_history(std::string_view customer) const;
  /// consent_state derives the customer's current position from the ledger; errc::erased after
  /// erase().
  result<ConsentState> consent_state(std::string_view customer) const;
  /// review_consent returns the customer's ledger, oldest first, for staff to look at, and
  /// records the look in the audit log as a staff_read entry (StaffView::consent) naming no
  /// value. errc::not_found for an unknown customer, errc::erased for an erased one.
  result<std::vector<ConsentEvent>> review_consent(std::string_view customer) const;

  /// contains is true when the vault holds data or consent events for the customer.
  result<bool> contains(std::string_view customer) const;
  /// customers lists, sorted, the customers with data in the vault.
  result<std::vector<std::string>> customers() const;

  /// eligible_customers lists, sorted, the customers with data whose position on `purpose`
  /// lets the purpose's basis use their data now (a live grant for consent; no objection for
  /// legitimate interest and public task; everyone for the other bases). errc::bad_input for an
  /// undeclared purpose.
  result<std::vector<std::string>> eligible_customers(std::string_view purpose) const;

  /// private_aggregate releases `query` (count, sum, mean, histogram) over `field` of the
  /// customers `purpose` may use now (as decide() would allow them, without an accessor), with
  /// noise from options.random. count counts the customers holding the field and decrypts
  /// nothing; the others need an integer field the purpose sees in clear, and clamp each value
  /// to [lo, hi]. The query's epsilon is charged to the purpose's privacy budget in the
  /// transaction that records the aggregate_made audit entry, before the answer is returned.
  /// errc::bad_input for an undeclared purpose or field; errc::invalid_argument for bad query
  /// parameters (nothing is charged); errc::denied with purpose_not_allowed_for_field when the
  /// purpose has no form for the field, form_unavailable when the form or type cannot give the
  /// values, privacy_budget_spent when the budget cannot pay (audited, nothing charged);
  /// errc::integrity when a value fails to authenticate (nothing released or charged).
  /// `on_progress`, when given, is called with the customers decided so far and the number
  /// eligible, every 1,024 customers and once all are decided; it must not call the vault.
  result<PrivateAnswer> private_aggregate(
      std::string_view purpose, std::string_view field, const AggregateQuery& query,
      const std::function<void(std::int64_t done, std::int64_t total)>& on_progress = {});

  /// privacy_budget says what `purpose` has spent of its privacy budget. errc::bad_input for an
  /// undeclared purpose.
  result<PrivacyBudget> privacy_budget(std::string_view purpose) const;

  /// export_subject gathers everything held about `customer`, for the customer: every value in
  /// clear with its source, collection time, retention and the purposes that may use it; their
  /// standing on every purpose and their consent history; every access the audit log records.
  /// The export is itself audited (export_made, naming the fields) before it is returned.
  /// errc::erased for an erased customer (the refusal is audited), errc::not_found for an
  /// unknown one, errc::integrity when a value fails to authenticate.
  result<SubjectReport> export_subject(std::string_view customer) const;
  /// describe_subject gathers the same as metadata for staff: no value is decrypted or returned.
  /// The look is audited as a staff_read entry (StaffView::subject_audit) naming the fields
  /// described. Fails as export_subject.
  result<SubjectReport> describe_subject(std::string_view customer) const;
  /// inventory gathers the record of processing: per field its declaration, how many customers
  /// hold it, and the reads per purpose within `window` before now; with `unused_window`, also
  /// the fields no purpose read within it. errc::integrity when a log entry cannot be decoded.
  result<Inventory> inventory(const IsoDuration& window,
                              std::optional<IsoDuration> unused_window = std::nullopt) const;

  /// record_contact records a contact with the customer on `channel` ("email", "sms", ...) for
  /// `purpose`, or refuses it: errc::denied with reason no_consent when the purpose rests on
  /// consent that is not live, the customer objected to it, or they opted out of the channel;
  /// with reason contact_limit when the policy's contact_limit for the purpose, or the
  /// customer's own limit, is reached in its sliding window. The contact or the refusal is
  /// audited. errc::bad_input for an undeclared purpose; errc::not_found, errc::erased for an
  /// unknown or erased customer.
  result<ContactEvent> record_contact(std::string_view customer, std::string_view channel,
                                      std::string_view purpose);
  /// limit_contacts records the customer's own limit for `purpose`: at most `max` contacts per
  /// `per` (0 = none). It applies on top of the policy's limit, so the stricter one decides; a
  /// later limit replaces an earlier one. Audited. errc::bad_input for an undeclared purpose, a
  /// negative max or an empty period; errc::not_found, errc::erased as record_contact.
  result<ContactPreference> limit_contacts(std::string_view customer, std::string_view purpose, int max,
                                           const IsoDuration& per);
  /// opt_out_of_channel records that the customer wants no contact on `channel` (or, with
  /// `opted_out` false, allows it again). Audited. Fails as limit_contacts.
  result<ContactPreference> opt_out_of_channel(std::string_view customer, std::string_view channel,
                                               bool opted_out = true);

  /// purge deletes every value past its field's retention (counted from its collection time;
  /// reason retention_expired), and every inferred value of a customer whose consent to
  /// profiling is no longer live (reason profiling_lapsed). It works in batches of
  /// options.batch values, each committed with one `purge` audit entry per value deleted (naming
  /// the customer's pseudonym, the field and the reason), then compacts the files as erase()
  /// does. Killed at any moment it leaves a consistent vault, and a later call deletes what is
  /// left. A dry run only counts. errc::io when the store fails (batches committed before stay
  /// committed).
  result<PurgeReport> purge(const PurgeOptions& options = {});

  /// erase carries out the customer's right to erasure: destroys their data key (so any copy of
  /// their sealed values is unreadable), deletes their values and consent events, compacts the
  /// files so none of those bytes remain, and records the erasure in the audit log (whose
  /// entries name the customer only by pseudonym and are kept). Afterwards views, reads and
  /// writes for the customer answer errc::erased. errc::not_found for an unknown customer,
  /// errc::erased when already erased.
  result<void> erase(std::string_view customer);
  /// erase with a request: erases as erase(customer) does, and the erasure's audit entry records
  /// `request.reason` and `request.request` with the numbers of values, fields and consent events
  /// erased (ErasureDetails, audit.hpp). With `request.dry_run` it only counts what would go,
  /// changing and recording nothing. errc::invalid_argument for a malformed reason or reference;
  /// otherwise fails as erase(customer).
  result<ErasureReport> erase(std::string_view customer, const ErasureRequest& request);
  /// erased_at says when the customer was erased; nullopt when they were not.
  result<std::optional<timestamp>> erased_at(std::string_view customer) const;
  /// backup writes a consistent copy of the vault, taken while it stays open, to a new file
  /// (errc::already_exists when it exists). The copy is sealed like the vault: it opens with the
  /// same passphrase, and master key versions retired later cannot be retired in it. A vault on
  /// PostgreSQL answers errc::invalid_argument: the database's own tools back it up
  /// (docs/postgresql.md).
  result<void> backup(const std::filesystem::path& file) const;

  // ---- master key versions (docs/keys.md; src/vault/keys.cpp) ----
  /// create, open, create_in and open_in with a KeyProvider instead of a passphrase: the master
  /// key versions are sealed by `provider`, which the vault keeps for rotating and retiring.
  /// Opening fails with errc::integrity, before anything is written, when the provider cannot
  /// open the current version (wrong key file) or the vault was sealed by another kind of
  /// provider; errc::invalid_argument without a provider.
  static result<Vault> create(const std::filesystem::path& file, const Policy& policy,
                              std::shared_ptr<KeyProvider> provider, VaultOptions options = {});
  static result<Vault> open(const std::filesystem::path& file, std::shared_ptr<KeyProvider> provider,
                            VaultOptions options = {});
  static result<Vault> create_in(std::unique_ptr<Store> store, const Policy& policy,
                                 std::shared_ptr<KeyProvider> provider, VaultOptions options = {});
  static result<Vault> open_in(std::unique_ptr<Store> store, std::shared_ptr<KeyProvider> provider,
                               VaultOptions options = {});

  /// master_key_status lists the live master key versions and how many data keys each wraps.
  result<MasterKeyStatus> master_key_status() const;
  /// change_passphrase re-seals every live master key version under `new_passphrase` (a new
  /// salt, Argon2id at VaultOptions::kdf) in one transaction; data keys are not touched. Also
  /// moves a vault sealed by another provider to a passphrase. errc::invalid_argument for an
  /// empty passphrase.
  result<void> change_passphrase(std::string_view new_passphrase);
  /// reseal_master_keys re-seals every live version under `provider` in one transaction, and
  /// the vault uses it from then on. Data keys are not touched. Fails with the provider's error,
  /// changing nothing.
  result<void> reseal_master_keys(std::shared_ptr<KeyProvider> provider);
  /// rotate_master_key adds master key version current+1 and re-wraps every data key under it
  /// in batches, one transaction each, recording its progress in the vault; then records the
  /// rotation in the audit log. If a rotation was interrupted (killed, or stopped by
  /// max_batches), it resumes that one instead of starting another. At every moment each data
  /// key opens under exactly the one live version its row names. Other vaults open on the same
  /// store follow the new version at their next write or read of a re-wrapped key (or fail with
  /// errc::io if their provider cannot open it). errc::integrity when a data key fails
  /// authentication (the rotation stays resumable); errc::invalid_argument for batch 0.
  result<RotationReport> rotate_master_key(const RotationOptions& options = {});
  /// retire_master_keys destroys every master key version but the current one after a complete
  /// rotation: their sealed copies leave the vault and the provider's retire() destroys what
  /// could open them (a key file drops their key material), so backups taken earlier can no
  /// longer be read by anyone, for any customer in them. A provider that cannot destroy keys (a
  /// passphrase) needs `successor` (e.g. a new passphrase), which seals the current version in
  /// the same transaction and replaces the provider. Returns the versions retired. Fails with
  /// errc::invalid_argument while a rotation is unfinished, while data keys are still wrapped
  /// under an old version, or without a needed successor.
  result<std::vector<std::uint32_t>> retire_master_keys(std::shared_ptr<KeyProvider> successor = nullptr);

  /// now is the vault's clock (VaultOptions::clock, or the system clock).
  timestamp now() const;

  /// audit_pseudonym gives the keyed pseudonym the audit log names `customer` by.
  std::string audit_pseudonym(std::string_view customer) const;
  /// audit_entries returns the log's entries, oldest first: all of them, or those naming
  /// `customer` (an id; it is pseudonymised here), from `since` on. Commits held-back entries
  /// first. errc::integrity when a stored entry cannot be decoded.
  result<std::vector<AuditEntry>> audit_entries(std::optional<std::string_view> customer = std::nullopt,
                                                std::optional<timestamp> since = std::nullopt) const;
  /// flush_audit commits entries held back by AuditMode::batched and syncs the full batches
  /// committed without waiting for the disk, so that all are durable on return. When the commit
  /// fails (errc::io) the entries stay held back for the next flush, write or close; when only the
  /// sync fails (errc::io) they are in the log, and the next flush syncs again.
  result<void> flush_audit() const;
  /// checkpoint_audit commits held-back entries and signs a checkpoint of the chain head (the
  /// last one again when nothing was appended since). errc::not_found for an empty log.
  result<AuditCheckpoint> checkpoint_audit();
  /// verify_audit checks the log and its checkpoints (verify_audit_log) under the vault's
  /// checkpoint key, and against an external checkpoint when given one. `on_progress`, when
  /// given, is called every kAuditProgressEvery entries with the entries checked and the number
  /// the log holds.
  result<AuditVerification> verify_audit(
      const std::optional<AuditCheckpoint>& against = std::nullopt,
      const std::function<void(std::int64_t checked, std::int64_t total)>& on_progress = {}) const;
  /// audit_public_key is the Ed25519 key that verifies this vault's checkpoints.
  const bytes& audit_public_key() const;

  /// purpose_dataset is the table `purpose` may see: one row per customer eligible for it
  /// (eligible_customers, in that order), one column per name in `fields`, each cell read as
  /// `accessor` by Accessor::read_each (batches of options.batch, one audit entry per customer),
  /// so in the form the policy gives the purpose, decided and audited like any read. A field the
  /// customer has no value for is an empty cell. A customer whose position changed after the
  /// listing (a withdrawal, objection or expiry, an erasure) is left out. Nothing is returned
  /// unless every other cell could be given: errc::denied, with the reason, naming the first
  /// field denied for a customer ("field F is denied for purpose P (reason); nothing was
  /// released"); errc::not_found for an unknown accessor; errc::bad_input for an undeclared
  /// purpose or an empty `fields`; the error of a read otherwise (errc::integrity, errc::io).
  /// The dataset's source is "vault (purpose P)" and each row's line its 1-based index.
  result<Dataset> purpose_dataset(std::string_view accessor, std::string_view purpose,
                                  std::span<const std::string> fields,
                                  const BulkReadOptions& options = {}) const;

 private:
  friend class Accessor;
  friend class View;
  struct Impl;
  explicit Vault(std::unique_ptr<Impl> impl);
  /// close commits queued audit entries and signs a checkpoint; the vault is empty after it.
  void close() noexcept;
  std::unique_ptr<Impl> impl_;
};

/// Accessor is a CRM feature acting under its policy registration.
class Accessor {
 public:
  /// id is the accessor's policy id.
  const std::string& id() const noexcept { return id_; }
  /// view opens `customer` for `purpose`. errc::denied (accessor_not_registered) when the policy
  /// does not register this accessor for the purpose, (unknown_purpose) for an undeclared one;
  /// errc::erased for an erased customer.
  result<View> view(std::string_view customer, std::string_view purpose) const;
  /// read is view() and View::read in one call, deciding and reading in one committed state of
  /// the store (one request; one round trip to a PostgreSQL server, where view() and read() take
  /// one each). Refused whole as view() refuses (errc::denied, errc::erased; logged as one
  /// access_denied entry naming the fields); otherwise each field as View::read returns it, logged
  /// as View::read logs, with no view_opened entry. errc::invalid_argument for a bad customer id
  /// (as view()), errc::bad_input for an empty list; errc::io when the store or the audit log
  /// fails.
  result<std::vector<result<FieldValue>>> read(std::string_view customer, std::string_view purpose,
                                               std::span<const std::string_view> fields) const;
  /// read of a braced list: accessor.read("C-1", "support", {"email", "city"}).
  result<std::vector<result<FieldValue>>> read(std::string_view customer, std::string_view purpose,
                                               std::initializer_list<std::string_view> fields) const;

  /// read_each is read() for many customers, for work over many of them (a dataset, an export):
  /// each customer is decided and read as read() decides and reads them, and logged as read()
  /// logs them (one field_read entry per customer when every field is answered); a run of up to
  /// 32 customers is read in one committed state (one read snapshot of the store). Customers go
  /// in batches of options.batch: a batch's entries are committed together, in one commit (with
  /// AuditMode::durable, one sync), and only then are its answers handed to `each`, one customer
  /// at a time, in the order given. A withdrawal or erasure committed before a customer's run is
  /// read decides that customer. `each` gets the customer's
  /// answer as read() would return it (errc::denied, errc::erased and errc::invalid_argument for
  /// that customer only); an error it returns stops the walk and is returned. Returns how many
  /// customers were handed out. errc::bad_input for an empty `fields`; errc::invalid_argument for
  /// a batch of 0; errc::io when the store or the audit log fails, in which case the batch being
  /// read is neither handed out nor logged, and the batches before it stay handed out and logged.
  result<std::int64_t> read_each(
      std::span<const std::string> customers, std::string_view purpose,
      std::span<const std::string_view> fields,
      const std::function<result<void>(const std::string& customer, CustomerAnswer& answer)>& each,
      const BulkReadOptions& options = {}) const;

  /// find returns the customers whose value of `field` equals `value` once both are normalised
  /// by the field's type (an email's domain case, a phone number's formatting), sorted. The
  /// field's blind index (docs/lookup.md) names candidates; each is decided like a read of the
  /// field for `purpose` (consent, retention) and only the allowed ones are decrypted and
  /// compared, so a customer who does not consent is never found and a false positive is never
  /// returned. Audited as lookup entries, one per customer found (one naming no customer when
  /// none is), with the numbers of candidates and matches, never the value. errc::denied
  /// (unknown_purpose, accessor_not_registered, unknown_field, lookup_not_allowed: the policy's
  /// "lookup" does not list the purpose) when refused, logged as an access_denied entry;
  /// errc::bad_input for a value that does not fit the field's type (nothing is logged);
  /// errc::integrity when a candidate's stored value or key fails authentication; errc::io
  /// when the store or the audit log fails. An empty list is no error.
  result<std::vector<std::string>> find(std::string_view purpose, std::string_view field,
                                        std::string_view value) const;

  /// detokenise turns `token`, an FF1 token of `field` (the form token), back into the value.
  /// Only for a purpose this accessor is registered for and that sees the field in clear; a
  /// token names no customer, so no customer's consent is consulted and the audit entry
  /// (detokenised, or access_denied) names none. errc::denied (unknown_purpose,
  /// accessor_not_registered, unknown_field, purpose_not_allowed_for_field) when refused;
  /// errc::bad_input when `token` cannot be a token of the field's type.
  result<std::string> detokenise(std::string_view purpose, std::string_view field,
                                 std::string_view token) const;

 private:
  friend class Vault;
  Accessor(const Vault::Impl* vault, std::string id) : vault_(vault), id_(std::move(id)) {}
  const Vault::Impl* vault_;
  std::string id_;
};

/// View reads one customer's fields for one purpose as one accessor. Every get() decides
/// again with the ledger as it is now, so a withdrawal committed before a read denies that read.
class View {
 public:
  /// get returns the field in the form the policy gives this purpose. errc::denied with the
  /// reason when refused (nothing is decrypted then); errc::not_found when the customer has no
  /// value for the field; errc::integrity when the stored value or key fails authentication;
  /// errc::erased once the customer was erased, even on a view opened before.
  result<FieldValue> get(std::string_view field) const;
  /// read returns several fields, in the order named, each as get() would return it, deciding
  /// every field against one reading of the ledger and reading the values in one snapshot of the
  /// store; the log gets one entry for the fields revealed and one per reason for those refused.
  /// The call itself fails, returning no field, with errc::erased once the customer was erased,
  /// errc::bad_input for an empty list, and errc::io when the store or the audit log fails.
  result<std::vector<result<FieldValue>>> read(std::span<const std::string_view> fields) const;
  /// read of a braced list: view.read({"email", "city"}).
  result<std::vector<result<FieldValue>>> read(std::initializer_list<std::string_view> fields) const;

  const std::string& customer() const noexcept { return customer_; }
  const std::string& purpose() const noexcept { return purpose_; }
  const std::string& accessor() const noexcept { return accessor_; }

 private:
  friend class Accessor;
  View(const Vault::Impl* vault, std::string accessor, std::string customer, std::string purpose,
       std::string tag)
      : vault_(vault),
        accessor_(std::move(accessor)),
        customer_(std::move(customer)),
        purpose_(std::move(purpose)),
        tag_(std::move(tag)) {}
  const Vault::Impl* vault_;
  std::string accessor_, customer_, purpose_;
  std::string tag_;  // the customer's audit pseudonym, computed once when the view opens
};

}  // namespace consentry
