// vault_impl.hpp: the state behind Vault, shared by the vault's source files (private).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/vault.hpp"

namespace consentry {

/// kMaxCustomerIdBytes bounds a customer id.
inline constexpr std::size_t kMaxCustomerIdBytes = 128;

/// check_identifier refuses an empty, over-long, non-UTF-8 or control-character identifier;
/// the message names `what`, never the text.
result<void> check_identifier(std::string_view what, std::string_view text, std::size_t max_bytes);

/// erased_error is errc::erased, "customer was erased", prefixed with `where` ("file:12: ").
error erased_error(std::string_view where);

/// store_keyring seals every version of `keyring` with `provider` and writes them, the provider's
/// kind and the sealed derivation root to the store's metadata, inside the caller's transaction
/// (keys.cpp).
result<void> store_keyring(Store& store, KeyProvider& provider, const Keyring& keyring);
/// load_keyring opens the master key versions recorded in the store with `provider`, the current
/// version first, so a wrong secret is refused after one try. Writes nothing. errc::integrity
/// for a wrong secret, another kind of provider, or damaged metadata (keys.cpp).
result<Keyring> load_keyring(Store& store, KeyProvider& provider);
/// master_key_changed_error is errc::io: another process rotated the vault's master key, or sealed
/// it under a new passphrase or key file, since this vault opened, and the provider it opened
/// with cannot open the version now current. The call changed nothing; opening the vault again
/// (running the command again) with the vault's present secret succeeds (keys.cpp).
error master_key_changed_error();

/// Vault::Impl owns the store, policy, keyring and audit state. `store_mu` serialises every use
/// of the store and of the key caches; `audit_mu` guards the queue of entries waiting to be
/// committed. Never wait for `audit_mu` while holding `store_mu` except in commit paths that
/// take it only briefly (see audit_trail.cpp).
struct Vault::Impl {
  std::unique_ptr<Store> store;
  Policy policy;
  /// The master key versions as this vault last saw them; follow_master_keys() catches up with
  /// a rotation or retirement committed by another vault on the store (store_mu held).
  mutable Keyring keyring;
  std::shared_ptr<KeyProvider> provider;  ///< seals master key versions (keys.cpp); store_mu held
  VaultOptions options;
  AuditSigner signer;
  SecretBytes audit_customer_key;  ///< keys the pseudonyms the log names customers by
  SecretBytes no_key;

  mutable std::mutex store_mu;
  // Unwrapped data keys; bounded, and wiped (SecretBytes) when dropped.
  mutable std::unordered_map<std::string, SecretBytes> data_keys;
  mutable std::unordered_map<std::string, SecretBytes> purpose_keys;  ///< derived keys, by label
  mutable std::unique_ptr<Tokeniser> tokeniser;                       ///< made at the first token
  mutable std::int64_t last_checkpoint_seq = 0;

  // Group commit: callers enqueue entries and take tickets; one of them (the leader) commits
  // everything queued in one transaction while the others wait for their ticket.
  struct BatchFailure {
    std::uint64_t first, last;
    error err;
  };
  mutable std::mutex audit_mu;
  mutable std::condition_variable audit_cv;
  mutable std::vector<AuditEntry> audit_pending;
  mutable std::uint64_t audit_enqueued = 0;
  mutable std::uint64_t audit_processed = 0;
  mutable bool audit_flushing = false;
  mutable std::deque<BatchFailure> audit_failures;

  Impl(std::unique_ptr<Store> s, Policy p, Keyring k, VaultOptions o, AuditSigner signer);

  timestamp now() const { return options.clock ? options.clock() : consentry::now(); }

  // ---- keys (store_mu held) ----
  const SecretBytes& cache_data_key(const std::string& customer, SecretBytes key) const;
  /// follow_current_version makes the keyring's current version the store's, with one metadata
  /// read; when another vault on the store rotated since, the keyring is loaded again through
  /// `provider`. Called inside the write transaction that wraps a data key, it guarantees that
  /// the key is wrapped under a version still live when the transaction commits (a retirement
  /// commits before or after the whole transaction). Fails with master_key_changed_error() when
  /// the provider cannot open the new versions (keys.cpp).
  result<void> follow_current_version() const;
  /// follow_master_keys makes the keyring hold exactly the store's live versions: versions
  /// retired elsewhere are dropped, new ones loaded through `provider`. Call it inside a
  /// transaction or read snapshot. Fails like follow_current_version (keys.cpp).
  result<void> follow_master_keys() const;
  result<const SecretBytes*> data_key(const std::string& customer) const;
  const SecretBytes& purpose_key(const std::string& purpose) const;
  /// derived_key derives (once) and caches the key for `label` (store_mu held).
  const SecretBytes& derived_key(const std::string& label) const;
  /// token_tweak is the FF1 tweak of `field`: one value gives different tokens in two fields.
  static std::string token_tweak(std::string_view field);
  /// token_cipher gives the vault's Tokeniser, keyed at first use (store_mu held).
  result<const Tokeniser*> token_cipher() const;
  /// form_keys gives what `form` needs for `field` under `purpose`; `tweak` holds the tweak the
  /// keys point into and must outlive them (store_mu held).
  result<FormKeys> form_keys(const Form& form, const std::string& purpose, std::string_view field,
                             std::string& tweak) const;
  result<ConsentState> consent_state(std::string_view customer) const;
  /// gather_subject collects what is held about `customer` in one read snapshot, values in clear
  /// only `with_values`; errc::erased, errc::not_found, errc::integrity for a value or log entry
  /// that fails to authenticate or decode (subject_report.cpp). store_mu NOT held.
  result<SubjectReport> gather_subject(std::string_view customer, bool with_values) const;
  /// known_customer is ok for a customer with a data key or consent events; errc::erased or
  /// errc::not_found otherwise (contacts.cpp). store_mu held.
  result<void> known_customer(std::string_view customer) const;
  /// add_contact_preference records a customer's contact preference at now(), audited as a
  /// consent_recorded entry whose reason is the preference's kind (contacts.cpp). store_mu NOT held.
  result<ContactPreference> add_contact_preference(ContactPreference p);
  /// is_erased is true when the customer with audit pseudonym `tag` was erased (erasure.cpp).
  result<bool> is_erased(std::string_view tag) const;

  // ---- audit (audit_trail.cpp) ----
  /// entry starts an entry at now() for `customer` (pseudonymised here).
  AuditEntry entry(AuditAction action, std::string_view customer, std::string_view accessor,
                   std::string_view purpose) const;
  /// entry_for_tag is entry() for a customer whose audit pseudonym `tag` is already known.
  AuditEntry entry_for_tag(AuditAction action, std::string tag, std::string_view accessor,
                           std::string_view purpose) const;
  /// append_in_transaction chains `entries` onto the log inside the caller's transaction, and
  /// signs a checkpoint when kCheckpointInterval entries have passed. store_mu held.
  result<void> append_in_transaction(std::vector<AuditEntry>& entries) const;
  /// record commits `entries` per options.audit: durable (group commit; returns once
  /// committed), batched (queued), off. store_mu NOT held.
  result<void> record(std::vector<AuditEntry> entries) const;
  /// flush commits whatever is queued. store_mu NOT held.
  result<void> flush() const;
  /// checkpoint_in_transaction signs the head (store_mu held, inside a transaction).
  result<std::optional<AuditCheckpoint>> checkpoint_in_transaction(bool force) const;

 private:
  // synced = false commits through Store::begin_unsynced (full batches in batched mode).
  result<void> lead_flush(std::unique_lock<std::mutex>& lk, bool synced) const;
  result<void> commit_entries(std::vector<AuditEntry>& entries, bool synced) const;
};

}  // namespace consentry
