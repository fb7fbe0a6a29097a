// records.hpp: the records a store keeps and the layers above it pass in and out: sealed values
// and wrapped keys, the consent ledger's events, contacts and contact preferences, privacy budget
// charges, and the audit log as stored (entries, head, checkpoints). They sit below both the
// store (store.hpp, store/*.hpp) and the audit layer (audit.hpp), so neither includes the other;
// consent.hpp and contact.hpp build the policy's view on the rows defined here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

// ---- sealed values and wrapped keys ----

/// StoredField is one sealed value and its metadata (the metadata is not secret).
struct StoredField {
  std::string customer;
  std::string field;
  bytes sealed;        ///< nonce | ciphertext | tag
  std::string source;  ///< where the value came from ("web-signup", "credit-bureau")
  timestamp collected_at{};
  /// format is the sealing format (keyring.hpp): 1 binds customer and field (rows written before
  /// format 2 have it), 2 binds the source and collection time too.
  std::uint32_t format = 1;
};

/// kManifestField is the field name of the row that holds a customer's manifest among their
/// values: the list of their values, authenticated under a key from their data key, that lets a
/// read tell a deleted, added or older row from a genuine one (src/vault/manifest.hpp). No policy
/// field can have the name ('#' is not allowed in one), and it sorts before every field, so the
/// range scan that reads a customer's values meets it first. To a store it is a row like any
/// other: erase_customer deletes it with the rest.
inline constexpr std::string_view kManifestField = "#manifest";

/// StoredKey is a customer's data key wrapped under master key `version`.
struct StoredKey {
  std::string customer;
  std::uint32_t version = 1;
  bytes wrapped;
};

/// StoredLookup is one entry of a blind index (docs/lookup.md): a keyed hash of the normalised
/// value of `field` for `customer`, truncated to the field's lookup_bits. It holds no value, and
/// lives exactly as long as the value it was made from: deleting the value deletes it.
struct StoredLookup {
  std::string customer;
  std::string field;              ///< the indexed field
  std::uint32_t key_version = 1;  ///< the master key version whose derived key made `index`
  std::int64_t index = 0;         ///< the truncated hash, 0 <= index < 2^lookup_bits
};

// ---- the consent ledger ----

/// ConsentAction is what a ledger event records.
enum class ConsentAction { grant, withdraw, object };

/// parse_consent_action reads "grant", "withdraw" or "object"; nullopt for anything else.
inline std::optional<ConsentAction> parse_consent_action(std::string_view text) {
  if (text == "grant") return ConsentAction::grant;
  if (text == "withdraw") return ConsentAction::withdraw;
  if (text == "object") return ConsentAction::object;
  return std::nullopt;
}

/// to_string gives the spelling of a ConsentAction (the one stores keep).
inline std::string_view to_string(ConsentAction a) noexcept {
  switch (a) {
    case ConsentAction::grant: return "grant";
    case ConsentAction::withdraw: return "withdraw";
    case ConsentAction::object: return "object";
  }
  return "grant";
}

/// ConsentSignal names the signal a ledger event was taken from (Vault::record_signal): a TCF TC
/// string, a GPP string or the Global Privacy Control header.
struct ConsentSignal {
  std::string kind;  ///< "tcf", "gpp" or "gpc"
  int cmp_id = 0;    ///< the consent management platform that made the string; 0 for GPC
  /// created is when the string was made (its Created field, to the second); for GPC, when the
  /// signal was seen.
  timestamp created{};

  friend bool operator==(const ConsentSignal&, const ConsentSignal&) = default;
};

/// ConsentEvent is one append-only ledger entry for a (customer, purpose).
struct ConsentEvent {
  std::int64_t seq = 0;  ///< ledger order, assigned by the store
  std::string customer;
  std::string purpose;
  ConsentAction action = ConsentAction::grant;
  timestamp at{};
  std::string channel;                  ///< "web", "phone", "store", ...
  std::string notice;                   ///< reference of the notice shown, e.g. "privacy-2025-03"
  std::optional<timestamp> expires_at;  ///< grants only: from the purpose's consent_valid_for
  /// policy_version is the version of the vault's policy in force when the event was recorded
  /// (Vault::policy_versions); 0 for an event recorded before versions were kept, read as 1.
  std::int64_t policy_version = 0;
  /// signal is the signal the event was taken from; empty for an event recorded directly. The
  /// ledger's history carries it; a customer read (Store::read_customer) need not.
  std::optional<ConsentSignal> signal;
};

// ---- contacts and contact preferences ----

/// ContactEvent is one contact made with a customer, appended to the vault's contact log.
struct ContactEvent {
  std::int64_t seq = 0;  ///< log order, assigned by the store
  std::string customer;
  std::string channel;  ///< "email", "sms", "phone", "post", ...
  std::string purpose;
  timestamp at{};
};

/// ContactPreferenceKind is what a customer asked about being contacted.
enum class ContactPreferenceKind {
  limit,    ///< at most `max` contacts per `per` for `purpose` (on top of the policy's limit)
  opt_out,  ///< no contact at all on `channel`
  opt_in,   ///< contacts on `channel` allowed again after an opt-out
};

/// to_string spells a ContactPreferenceKind ("limit", "opt_out", "opt_in").
constexpr std::string_view to_string(ContactPreferenceKind k) noexcept {
  switch (k) {
    case ContactPreferenceKind::limit: return "limit";
    case ContactPreferenceKind::opt_out: return "opt_out";
    case ContactPreferenceKind::opt_in: return "opt_in";
  }
  return "limit";
}

/// parse_contact_preference_kind reads that spelling back; nullopt for anything else.
inline std::optional<ContactPreferenceKind> parse_contact_preference_kind(std::string_view text) {
  if (text == "limit") return ContactPreferenceKind::limit;
  if (text == "opt_out") return ContactPreferenceKind::opt_out;
  if (text == "opt_in") return ContactPreferenceKind::opt_in;
  return std::nullopt;
}

/// ContactPreference is one append-only event of a customer's contact preferences. The last
/// limit of a purpose and the last opt-out or opt-in of a channel are the ones in force.
struct ContactPreference {
  std::int64_t seq = 0;  ///< log order, assigned by the store
  std::string customer;
  ContactPreferenceKind kind = ContactPreferenceKind::limit;
  std::string purpose;  ///< limit only
  std::string channel;  ///< opt_out and opt_in only
  int max = 0;          ///< limit only: contacts allowed per `per` (0 = none at all)
  IsoDuration per;      ///< limit only
  timestamp at{};
};

// ---- the privacy budget ----

/// PrivacySpend is one private aggregate charged against its purpose's privacy budget.
struct PrivacySpend {
  std::int64_t seq = 0;            ///< 1, 2, 3, ... assigned when appended
  std::string purpose;             ///< the purpose whose budget pays
  std::string query;               ///< what was asked: the aggregate and the field ("sum income")
  std::int64_t micro_epsilon = 0;  ///< epsilon spent, in millionths (rounded up)
  timestamp at{};
};

// ---- the audit log as stored ----

/// StoredAuditEntry is an audit entry as the store keeps it: its canonical bytes
/// (encode_audit_entry, audit.hpp), the chain hash, and copies of seq, time and customer for
/// lookups (verify_audit_log checks they match the bytes). `chain` names the hash chain the
/// entry belongs to: 0, the vault's one chain, except in a log with a chain per writer
/// (docs/audit.md, "Many writers"), where `seq` counts within the chain.
struct StoredAuditEntry {
  std::int64_t seq = 0;
  timestamp at{};
  std::string customer;
  bytes encoded;
  bytes hash;
  std::int64_t chain = 0;
};

/// StoredAuditView is a StoredAuditEntry seen where the store keeps it
/// (AuditLogReader::scan_audit_views): the same members, borrowed rather than copied.
struct StoredAuditView {
  std::int64_t seq = 0;
  timestamp at{};
  std::string_view customer;
  byte_view encoded;
  byte_view hash;
  std::int64_t chain = 0;
};

/// AuditHead is the last entry of an audit chain: its seq and chain hash, and the chain's id
/// (0 for the vault's one chain).
struct AuditHead {
  std::int64_t seq = 0;
  bytes hash;
  std::int64_t chain = 0;
};

/// AuditCheckpoint is a signed statement about the log. A checkpoint of a log with one chain
/// says "the chain had head `head` at entry `seq`" and has no `heads`. A checkpoint of a log
/// with a chain per writer (docs/audit.md, "Many writers") has `heads`: "each chain listed had
/// that head at that seq"; its `seq` is its own number in the sequence of checkpoints, `head` is
/// empty, and `previous` is the checkpoint_hash (audit.hpp) of the checkpoint stored before it
/// (kAuditHashBytes zero bytes for the first).
struct AuditCheckpoint {
  std::int64_t seq = 0;
  bytes head;  ///< the chain hash of entry seq; empty when `heads` is given
  timestamp at{};
  bytes signature;               ///< Ed25519 over checkpoint_message(*this) (audit.hpp)
  std::vector<AuditHead> heads;  ///< by chain, ascending; empty for a one-chain checkpoint
  bytes previous;                ///< the checkpoint before it, hashed; only with `heads`
};

/// AuditLogReader is the read side of a stored audit log: what verify_audit_log (audit.hpp)
/// reads. Every store's audit log role (store/audit_log.hpp) is one, so a Store is passed as it
/// is; it is declared here, below both layers, so that the audit layer reads a log without
/// knowing the store.
class AuditLogReader {
 public:
  virtual ~AuditLogReader() = default;

  /// scan_audit_views calls `visit` for every entry with seq >= `from`, in (chain, seq) order,
  /// until `visit` returns false, without copying the entries: each view is valid only until `visit`
  /// returns, or until `visit` changes the log. errc::io when the backend fails.
  virtual result<void> scan_audit_views(std::int64_t from,
                                        const std::function<bool(const StoredAuditView&)>& visit) = 0;
  /// checkpoints returns every stored checkpoint, by seq; errc::io when the backend fails.
  virtual result<std::vector<AuditCheckpoint>> checkpoints() = 0;
};

}  // namespace consentry
