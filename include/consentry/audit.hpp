// audit.hpp: the tamper-evident audit log: entries in a BLAKE2b hash chain, Ed25519-signed
// checkpoints over the chain head, and verification of both. The log as stored (StoredAuditEntry,
// AuditCheckpoint, AuditLogReader) is in records.hpp, below this header and the store.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// AuditAction is what an entry records.
enum class AuditAction {
  view_opened,       ///< an accessor opened a view of a customer for a purpose
  field_read,        ///< a field was revealed (fields name "field:form")
  access_denied,     ///< a view or a field was refused; reason says why
  value_written,     ///< values were written or imported (fields name them)
  consent_recorded,  ///< a grant, withdraw or object event (reason holds the action)
  export_made,       ///< the customer's data was exported
  erasure,           ///< the customer was erased
  key_rotation,      ///< the master key was rotated
  policy_change,     ///< the policy was replaced
  purge,             ///< values were deleted: past retention, or inferences without profiling consent
  contact_made,      ///< the customer was contacted (fields name the channel)
  aggregate_made,    ///< a differentially private aggregate was released (no customer)
  detokenised,       ///< an FF1 token was turned back into its value (no customer: a token names none)
  staff_read,        ///< staff looked at metadata about the customer (reason says which view)
  lookup,            ///< customers were searched for by a field's value (Accessor::find); never the value
};

/// to_string gives the spelling of an AuditAction ("field_read").
std::string_view to_string(AuditAction a) noexcept;
/// parse_audit_action reads that spelling back; nullopt for anything else.
std::optional<AuditAction> parse_audit_action(std::string_view text);

// The vocabulary of an entry's `reason` and `fields`. Each spelling below is part of the bytes
// the chain hashes: a spelling, once written, never changes. By action, `reason` holds:
//   access_denied, and any entry with allowed == false: a deny_reason's spelling (result.hpp),
//     or kIntegrityReason for a stored value that failed authentication;
//   consent_recorded: a ConsentAction's spelling (consent.hpp) or, for a contact preference, a
//     ContactPreferenceKind's spelling (contact.hpp);
//   purge: a PurgeReason's spelling;
//   value_written: the source the values came from ("" for none);
//   aggregate_made: epsilon_reason(the epsilon spent);
//   key_rotation: a sentence for staff saying what changed (no key byte);
//   erasure: the reason staff gave (ErasureRequest::reason), "" in entries written without one;
//   staff_read: a StaffView's spelling;
//   lookup: lookup_reason(candidates, matches), and `fields` the field searched by; an entry per
//     customer found, or one naming no customer when none was;
//   policy_change: policy_version_reason(the version put in force), and `fields` the changes
//     (PolicyChange::describe, policy_diff.hpp: ids and policy spellings, never a value);
//   every other action: "".
// `fields` holds field names; a field_read entry's fields are read fields (format_read_field); an
// erasure entry's fields are erasure details (format_erasure_details), none in older entries.

/// kIntegrityReason is the reason of a refusal to reveal a stored value that failed
/// authentication (tampered, swapped or missing from its customer's manifest).
inline constexpr std::string_view kIntegrityReason = "integrity";

/// PurgeReason is why a purge entry deleted values.
enum class PurgeReason {
  retention_expired,     ///< the values were past their field's retention (deny_reason's spelling)
  profiling_withdrawn,   ///< inferred values, deleted as the customer withdrew consent to profiling
  profiling_lapsed,      ///< inferred values, deleted by a purge: consent to profiling is not live
  policy_field_removed,  ///< values whose field a policy update removed or retyped (purge_removed)
};

/// to_string gives the spelling of a PurgeReason ("profiling_withdrawn").
std::string_view to_string(PurgeReason r) noexcept;
/// parse_purge_reason reads that spelling back; nullopt for anything else.
std::optional<PurgeReason> parse_purge_reason(std::string_view text);

/// policy_version_reason gives the reason of a policy_change entry: "version=" and the number
/// of the version it put in force.
inline std::string policy_version_reason(std::int64_t version) {
  return "version=" + std::to_string(version);
}

/// kAbsentForm is the form a read field names when the read found no value to reveal.
inline constexpr std::string_view kAbsentForm = "absent";

/// ReadField is one member of a field_read entry's fields, parsed: the field and the spelling of
/// the form it was revealed in, or kAbsentForm. Both views point into the parsed text.
struct ReadField {
  std::string_view field;
  std::string_view form;
  /// absent is true when the read found no value and revealed nothing.
  bool absent() const noexcept { return form == kAbsentForm; }
};

/// format_read_field gives the spelling "field:form" of a field revealed in the form spelt
/// `form` (Form::to_string), or "field:absent" when `form` is kAbsentForm.
std::string format_read_field(std::string_view field, std::string_view form);
/// parse_read_field splits a read field at its first ':' (field names hold none, forms may);
/// nullopt when there is no ':' (entries of other actions name bare fields).
std::optional<ReadField> parse_read_field(std::string_view text) noexcept;

/// epsilon_reason gives the reason of an aggregate_made entry: "epsilon=" and the epsilon spent,
/// as `epsilon_text` spells it.
std::string epsilon_reason(std::string_view epsilon_text);

/// lookup_reason gives the reason of a lookup entry: "candidates=" and how many customers the
/// blind index named, then " matches=" and how many of them held the value searched for.
std::string lookup_reason(std::size_t candidates, std::size_t matches);

/// StaffView is what a staff_read entry says staff looked at: metadata only, never a value.
enum class StaffView {
  subject_audit,  ///< the staff audit of the customer (Vault::describe_subject); fields name the fields shown
  consent,        ///< the customer's consent and its history (Vault::review_consent)
};

/// to_string gives the spelling of a StaffView ("subject_audit").
std::string_view to_string(StaffView v) noexcept;
/// parse_staff_view reads that spelling back; nullopt for anything else.
std::optional<StaffView> parse_staff_view(std::string_view text);

/// ErasureDetails are what an erasure entry's fields record besides its reason: how much was
/// erased (never a value) and the reference of the customer's request. Entries written before
/// erasures carried details have none: every member is empty.
struct ErasureDetails {
  std::optional<std::int64_t> values;          ///< stored values erased
  std::optional<std::int64_t> fields;          ///< distinct fields they belonged to
  std::optional<std::int64_t> consent_events;  ///< consent events erased
  std::string request;                         ///< the request's reference; "" for none
};

/// format_erasure_details gives an erasure entry's fields: "values=N", "fields=N",
/// "consent_events=N" and, when there is a reference, "request=REF".
std::vector<std::string> format_erasure_details(const ErasureDetails& details);
/// parse_erasure_details reads an erasure entry's fields back; an entry without fields gives
/// empty details. nullopt when a member is not one of those spellings (or a count is malformed).
std::optional<ErasureDetails> parse_erasure_details(const std::vector<std::string>& fields);

/// kAuditHashBytes is the size of a chain hash (BLAKE2b-256).
inline constexpr std::size_t kAuditHashBytes = 32;
/// kAuditPublicKeyBytes and kAuditSignatureBytes are Ed25519 sizes.
inline constexpr std::size_t kAuditPublicKeyBytes = 32;
inline constexpr std::size_t kAuditSignatureBytes = 64;
inline constexpr std::size_t kAuditSecretKeyBytes = 64;

/// AuditEntry is one access. It names the customer only by a keyed pseudonym, so the log holds
/// no personal value and survives the customer's erasure.
struct AuditEntry {
  std::int64_t seq = 0;  ///< 1, 2, 3, ... assigned when appended
  timestamp at{};
  std::string customer;  ///< keyed pseudonym of the customer id (hex); "" for none
  std::string accessor;  ///< the accessor, or the staff tool ("cli")
  std::string purpose;   ///< "" when the action has none
  AuditAction action = AuditAction::field_read;
  bool allowed = true;              ///< the decision
  std::string reason;               ///< by action, as the vocabulary above says
  std::vector<std::string> fields;  ///< field names; read fields ("email:clear") for reads
  /// actor is the person or system acting through `accessor` (VaultOptions::actor), recorded on
  /// view opens, reads and refused reads when it differs from the accessor; "" when not
  /// recorded (every entry of other actions, whose accessor already names the actor, and every
  /// entry written before actors were recorded).
  std::string actor;
  /// chain is the hash chain the entry was appended to: 0, the vault's one chain, except in a
  /// log with a chain per writer (docs/audit.md, "Many writers"), where `seq` counts within it.
  /// Not part of the encoding: the chain's own hashes bind the entry to it.
  std::int64_t chain = 0;
};

/// encode_audit_entry gives the canonical bytes of `e` that the chain hashes: a version byte,
/// then every member in a fixed order, each length-prefixed. An entry without an actor is
/// version 1, byte for byte as entries were before actors were recorded; one with an actor is
/// version 2: the same members, then the actor. Two entries encode alike only if they are equal.
bytes encode_audit_entry(const AuditEntry& e);
/// decode_audit_entry reverses encode_audit_entry; errc::integrity for malformed bytes (among
/// them a version 2 entry whose actor is empty, which would be a second spelling of version 1).
result<AuditEntry> decode_audit_entry(byte_view encoded);

/// AuditEntryLookup holds the members of an encoded entry that a stored entry copies into its
/// lookup columns. `customer` points into the encoded bytes it was read from.
struct AuditEntryLookup {
  std::int64_t seq = 0;
  timestamp at{};
  std::string_view customer;
};

/// check_audit_entry checks every rule decode_audit_entry checks, refusing exactly the bytes it
/// refuses with the same errc::integrity error, and gives the entry's seq, time and customer
/// without copying any member. The result is valid while `encoded` is.
result<AuditEntryLookup> check_audit_entry(byte_view encoded);

/// audit_chain_hash is BLAKE2b-256(previous || encoded). The first entry's previous is
/// kAuditHashBytes zero bytes.
bytes audit_chain_hash(byte_view previous, byte_view encoded);

/// audit_chain_genesis is the `previous` of the first entry of chain `chain` in the vault whose
/// checkpoints `public_key` verifies: kAuditHashBytes zero bytes for chain 0 (the vault's one
/// chain), else BLAKE2b-256("consentry audit chain" || public_key || chain), so that a writer's
/// chain cannot be renamed or moved into another vault (docs/audit.md, "Many writers").
bytes audit_chain_genesis(byte_view public_key, std::int64_t chain);

/// checkpoint_message gives the bytes a one-chain checkpoint signs.
bytes checkpoint_message(std::int64_t seq, byte_view head, timestamp at);
/// checkpoint_message gives the bytes `cp` signs: those above for a one-chain checkpoint; for one
/// over many chains' heads, its number, time, previous checkpoint's hash and every head.
bytes checkpoint_message(const AuditCheckpoint& cp);
/// checkpoint_hash is BLAKE2b-256(checkpoint_message(cp) || cp.signature): what the next
/// checkpoint over many chains names as its `previous`.
bytes checkpoint_hash(const AuditCheckpoint& cp);

/// AuditSigner holds the Ed25519 key that signs checkpoints.
class AuditSigner {
 public:
  /// generate makes a new key pair.
  static AuditSigner generate();
  /// from_secret_key rebuilds a signer from its secret key; errc::integrity if it is malformed.
  static result<AuditSigner> from_secret_key(SecretBytes secret_key);

  /// sign makes the checkpoint of entry `seq` whose chain hash is `head`.
  AuditCheckpoint sign(std::int64_t seq, byte_view head, timestamp at) const;
  /// sign_heads makes checkpoint number `number` over the chain heads `heads` (sorted by chain
  /// here), following the checkpoint whose checkpoint_hash is `previous`.
  AuditCheckpoint sign_heads(std::int64_t number, std::vector<AuditHead> heads, bytes previous,
                             timestamp at) const;
  /// sign_receipt signs the canonical body of a consent receipt (consentry/receipt.hpp) under a
  /// domain of its own, so that no receipt signature is ever a valid checkpoint signature, nor the
  /// reverse. Returns the Ed25519 signature.
  bytes sign_receipt(std::string_view body) const;
  /// public_key is the key that verifies this signer's checkpoints.
  const bytes& public_key() const noexcept { return public_key_; }
  /// secret_key is the key to wrap for storage.
  const SecretBytes& secret_key() const noexcept { return secret_key_; }

 private:
  AuditSigner(SecretBytes sk, bytes pk) : secret_key_(std::move(sk)), public_key_(std::move(pk)) {}
  SecretBytes secret_key_;
  bytes public_key_;
};

/// verify_receipt_signature checks a consent receipt's signature over its canonical `body` under
/// `public_key`; false for a wrong signature or a key or signature of the wrong size.
bool verify_receipt_signature(std::string_view body, byte_view signature, byte_view public_key);

/// verify_checkpoint checks a checkpoint's signature under `public_key`.
bool verify_checkpoint(const AuditCheckpoint& cp, byte_view public_key);

/// AuditVerification is what verify_audit_log found.
struct AuditVerification {
  bool ok = true;
  std::int64_t entries = 0;          ///< entries read
  std::int64_t checkpoints = 0;      ///< checkpoints checked
  std::int64_t first_bad_seq = 0;    ///< the first sequence number found bad; 0 when ok
  std::int64_t first_bad_chain = 0;  ///< the chain of first_bad_seq (0 in a one-chain log)
  std::string problem;               ///< what is wrong there, without any value
};

/// verify_audit_log checks the whole log that `log` reads (a Store, or any other AuditLogReader,
/// records.hpp): sequence numbers run 1, 2, 3 without gap; every stored hash equals the
/// recomputed chain; every entry's lookup copies match its bytes; every checkpoint is signed by
/// `public_key` and matches the chain at its seq; the log reaches the last checkpoint (no
/// truncated tail); and, when given, the external checkpoint `against` verifies too (no
/// rollback). It reads the checkpoints once, then scans the entries once from seq 1, calling
/// `on_progress` (when given) with the entries scanned so far every kAuditProgressEvery entries;
/// in a long log the hashes are checked on a second thread beside the scan, a chunk behind it.
/// Returns the reader's error (errc::io) when the log cannot be read; a damaged log is not an
/// error but a report with ok == false.
result<AuditVerification> verify_audit_log(AuditLogReader& log, byte_view public_key,
                                           const std::optional<AuditCheckpoint>& against = std::nullopt,
                                           const std::function<void(std::int64_t checked)>& on_progress = {});

/// kAuditProgressEvery is how many entries verify_audit_log checks between calls of its progress
/// callback.
inline constexpr std::int64_t kAuditProgressEvery = 4096;

/// checkpoint_to_json and checkpoint_from_json carry a checkpoint outside the vault, as
/// {"seq": 41, "head": "<hex>", "at": "2026-01-01T00:00:00Z", "signature": "<hex>",
/// "public_key": "<hex>"}. from_json returns errc::bad_input naming the JSON path on malformed
/// text, and gives the public key it names in `public_key_out`.
std::string checkpoint_to_json(const AuditCheckpoint& cp, byte_view public_key);
result<AuditCheckpoint> checkpoint_from_json(std::string_view text, bytes& public_key_out);

}  // namespace consentry
