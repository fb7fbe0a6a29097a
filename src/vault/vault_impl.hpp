// vault_impl.hpp: the state behind Vault, shared by the vault's source files (private).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "audit/audit_trail.hpp"
#include "consentry/audit.hpp"
#include "consentry/decision.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/vault.hpp"
#include "io/writer_first_mutex.hpp"
#include "vault/key_cache.hpp"
#include "vault/reader_pool.hpp"

namespace consentry {

/// kMaxDetailBytes bounds a source, a channel or a notice reference.
inline constexpr std::size_t kMaxDetailBytes = 256;

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

/// kMetaLookupReindex is the metadata row naming the fields whose blind index a policy change
/// left to build ("email,phone"); kMetaLookupReindexAfter the customer its walk reached
/// (lookup.cpp). Absent when no index is being built.
inline constexpr std::string_view kMetaLookupReindex = "lookup.reindex";
inline constexpr std::string_view kMetaLookupReindexAfter = "lookup.reindex.after";
/// lookup_reindex_fields reads kMetaLookupReindex: the fields whose index is being built, in the
/// order they were asked for (lookup.cpp).
result<std::vector<std::string>> lookup_reindex_fields(Store& store);
/// ask_lookup_reindex adds `fields` to kMetaLookupReindex, inside the caller's transaction.
result<void> ask_lookup_reindex(Store& store, const std::vector<std::string>& fields);

/// kMetaPolicy is the metadata row of the policy in force, sealed under kPolicyKeyLabel with the
/// row's name as associated data; policy_versions.cpp keeps every version beside it.
inline constexpr std::string_view kMetaPolicy = "policy.sealed";
/// kPolicyKeyLabel is the label of the key, derived from the keyring's root, that seals policies.
inline constexpr std::string_view kPolicyKeyLabel = "policy";

/// write_first_policy_version records `policy` as version 1, made at `at` by `actor`, inside the
/// caller's transaction (a new vault's creation); fails with the store's error (policy_versions.cpp).
result<void> write_first_policy_version(Store& store, const Keyring& keyring, const Policy& policy,
                                        timestamp at, std::string_view actor);
/// stored_consent_renewal reads the ConsentRenewal recorded with policy version `version` (none
/// for version 1); errc::integrity for a damaged record (policy_versions.cpp).
result<ConsentRenewal> stored_consent_renewal(Store& store, const Keyring& keyring, std::int64_t version);
/// stored_policy_version reads the number of the policy in force: 1 for a vault written before
/// versions were kept; errc::integrity for a damaged row (policy_versions.cpp).
result<std::int64_t> stored_policy_version(Store& store);

/// kMetaPolicyVersion is the meta row that holds the number of the policy version in force.
inline constexpr std::string_view kMetaPolicyVersion = "policy.version";

/// Vault::Impl is the state behind a Vault: the store, the policy and the options it was opened
/// with, its master keys, a KeyCache and an AuditTrail. `store_mu` serialises every use of the
/// store, the keyring and the key cache: held alone by every call, except reads (decide_read,
/// Accessor::view), which hold it shared, each on a reader connection of its own (`readers`),
/// and change nothing but the key cache's data keys (which they take shared). The audit trail's own
/// mutex guards only its queue. Never wait on the audit trail (record(), flush()) while holding
/// `store_mu`; its *_in_transaction calls are made with `store_mu` held (HACKING.md).
struct Vault::Impl {
  const std::unique_ptr<Store> store;
  const VaultOptions options;
  mutable detail::WriterFirstMutex store_mu;

  /// Impl takes over `s` and the rest; `p` is the policy in force, numbered `policy_version`,
  /// whose widenings outdated the consents `renewal` names;
  /// `last_checkpoint_seq` is the seq of the last checkpoint stored (0 for none).
  Impl(std::unique_ptr<Store> s, Policy p, std::int64_t policy_version, ConsentRenewal renewal, Keyring k,
       std::shared_ptr<KeyProvider> provider, VaultOptions o, AuditSigner signer,
       std::int64_t last_checkpoint_seq);

  /// PolicyInForce is one installed version of the policy: its number, and the consents its
  /// widenings outdated.
  struct PolicyInForce {
    Policy policy;
    std::int64_t version = 1;
    ConsentRenewal renewal;
  };
  /// in_force gives the version in force. Every version a vault installs is kept as long as the
  /// vault, so the reference stays valid after update_policy; a caller that decides several
  /// things together takes it once.
  const PolicyInForce& in_force() const noexcept { return *in_force_.load(std::memory_order_acquire); }
  /// policy gives the policy in force (in_force().policy).
  const Policy& policy() const noexcept { return in_force().policy; }
  /// policy_version gives the number of the policy in force.
  std::int64_t policy_version() const noexcept { return in_force().version; }
  /// install_policy makes `p`, numbered `version`, the policy in force for every read and write
  /// that starts after it, views already open included (policy_versions.cpp).
  void install_policy(Policy p, std::int64_t version, ConsentRenewal renewal) const;
  /// follow_policy makes the policy in force the latest version committed to the store and gives
  /// it: when another vault on the store (another process) updated the policy since this vault
  /// last looked, that version is read, authenticated and parsed as open reads it, and installed
  /// for this call and every later one. The version row is read only when the store's
  /// data_version says another connection committed since the last call. Call it inside a
  /// transaction or read snapshot (the one the caller decides in), store_mu held. errc::integrity
  /// for a version that fails authentication or does not parse; the store's error (policy_versions.cpp).
  result<const PolicyInForce*> follow_policy() const;
  /// CustomerInForce is what one read of a customer decides with: the policy in force and what
  /// the store holds (read_customer).
  struct CustomerInForce {
    const PolicyInForce* policy = nullptr;
    CustomerRead read;
  };
  /// read_customer reads what `request` names together with the policy in force, both from one
  /// committed state: in one Store::read_customer, which also reads the stored policy version,
  /// when that is the version in force here and every key read is wrapped under a loaded master
  /// key version; otherwise again in a read snapshot that follows the policy first (and the
  /// master keys, when the key read is wrapped under a version not loaded). store_mu held;
  /// outside any transaction or snapshot. Fails as follow_policy, follow_master_keys and the
  /// store (policy_versions.cpp).
  result<CustomerInForce> read_customer(CustomerReadRequest request) const;
  /// read_customer_following is read_customer's second step, inside a read snapshot the caller
  /// holds (read_customer's own, or a bulk read's): follow the policy, read what `request` names
  /// with the roles' own calls, and follow the master keys when the key read is wrapped under a
  /// version not loaded. Fails as read_customer.
  result<CustomerInForce> read_customer_following(CustomerReadRequest request) const;
  /// read_customer_on is read_customer's first step on `reader` (this store or a reader of it):
  /// one Store::read_customer; nullopt when the stored policy version is not the one in force or
  /// the key read is wrapped under a master key version not loaded, which only read_customer
  /// follows. store_mu held, shared at least; outside any transaction, or inside the caller's
  /// read snapshot when `request.in_snapshot` (on this store only). Fails as the store.
  result<std::optional<CustomerInForce>> read_customer_on(Store& reader, CustomerReadRequest request) const;
  /// in_force_for is `read` (made with the policy version's meta row, kMetaPolicyVersion) with
  /// the policy in force, as read_customer_on answers; nullopt where it does. errc::integrity
  /// for a stored policy version that does not parse.
  result<std::optional<CustomerInForce>> in_force_for(CustomerRead read) const;
  /// read_fields is View::read of `fields` by `accessor` for `purpose` on `customer` (audit
  /// pseudonym `tag`); `opening` adds view()'s checks first, in the same committed state
  /// (Accessor::read): a refusal then returns that error, logged as one access_denied entry.
  /// store_mu NOT held (view.cpp).
  result<std::vector<result<FieldValue>>> read_fields(const std::string& accessor,
                                                      const std::string& customer, const std::string& purpose,
                                                      const std::string& tag,
                                                      std::span<const std::string_view> fields,
                                                      bool opening) const;
  /// BatchWriter is one write transaction fed a batch of records at a time (write.cpp).
  class BatchWriter;
  /// DecidedRead is one read decided and done, not yet logged: the answer read_fields returns,
  /// and the entries the audit log must hold before that answer may be handed out.
  struct DecidedRead {
    result<std::vector<result<FieldValue>>> answer;
    std::vector<AuditEntry> entries;
  };
  /// decide_read is read_fields without the logging: it decides, reads and opens in one committed
  /// state and gives the answer with its entries (none for a failure before any decision: a bad
  /// request, the store's error). store_mu NOT held (view.cpp).
  DecidedRead decide_read(const std::string& accessor, const std::string& customer,
                          const std::string& purpose, const std::string& tag,
                          std::span<const std::string_view> fields, bool opening) const;
  /// decide_read_locked is decide_read with store_mu held.
  DecidedRead decide_read_locked(const std::string& accessor, const std::string& customer,
                                 const std::string& purpose, const std::string& tag,
                                 std::span<const std::string_view> fields, bool opening) const;
  /// decide_reads_locked is decide_read_locked, view()'s checks first (as Accessor::read), inside
  /// the caller's read snapshot for each of `customers` (`tags` their audit pseudonyms, one
  /// each), their rows read in one Store::read_customers (one round trip to a server): the
  /// decisions in the order of `customers`. The store's error fails them all, and no answer of
  /// theirs is handed out.
  result<std::vector<DecidedRead>> decide_reads_locked(const std::string& accessor,
                                                       std::span<const std::string> customers,
                                                       std::span<const std::string> tags,
                                                       const std::string& purpose,
                                                       std::span<const std::string_view> fields) const;
  /// decide_fields decides and opens `fields` from `read` (what the store held when the read
  /// began; `e` the read's entry, started then, and `now` its time), with the customer's cached
  /// data key `cached` (nullptr when none was cached: the key row read is unwrapped and cached).
  /// store_mu held, shared at least (view.cpp).
  DecidedRead decide_fields(const std::string& accessor, const std::string& customer,
                            const std::string& purpose, std::span<const std::string_view> fields,
                            bool opening, AuditEntry e, timestamp now, CustomerInForce read,
                            std::shared_ptr<const SecretBytes> cached) const;
  /// latest_policy is the policy in force, for a caller that checks the policy before it takes
  /// the store: the version stored, read on a reader with store_mu shared, when this vault has
  /// it in force; else follow_policy in a read snapshot of its own, store_mu held alone. The
  /// store's error. store_mu NOT held (policy_versions.cpp).
  result<const PolicyInForce*> latest_policy() const;

  timestamp now() const { return options.clock ? options.clock() : consentry::now(); }
  /// read_actor gives the actor a view open or read records beside `accessor` (AuditEntry::actor):
  /// VaultOptions::actor, or "" when that is the accessor itself or kLibraryActor (a library
  /// user who named no actor: the accessor is all there is to say).
  std::string_view read_actor(std::string_view accessor) const noexcept {
    if (options.actor == accessor || options.actor == kLibraryActor) return {};
    return options.actor;
  }

  /// keys gives the vault's cached keys (store_mu held).
  KeyCache& keys() const { return keys_; }
  /// audit gives the vault's audit trail (see the locking rule above).
  AuditTrail& audit() const { return audit_; }
  /// readers lends the reader connections that reads run on with store_mu held shared.
  ReaderPool& readers() const { return readers_; }
  /// keyring gives the master key versions as this vault last saw them; follow_master_keys()
  /// catches up with a rotation or retirement committed by another vault on the store
  /// (store_mu held).
  Keyring& keyring() const { return keyring_; }
  /// provider seals master key versions (keys.cpp); store_mu held.
  const std::shared_ptr<KeyProvider>& provider() const { return provider_; }
  /// use_provider makes `p` the provider that seals master key versions from now on (store_mu
  /// held).
  void use_provider(std::shared_ptr<KeyProvider> p) { provider_ = std::move(p); }
  /// audit_pseudonym gives the keyed pseudonym the audit log names `customer` by.
  std::string audit_pseudonym(std::string_view customer) const;

  // ---- keys (store_mu held) ----
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
  /// data_key gives `customer`'s data key, unwrapped (and cached) at first use; nullptr when the
  /// customer has none; errc::integrity when it fails to unwrap.
  result<const SecretBytes*> data_key(const std::string& customer) const;
  /// load_data_key reads and unwraps `customer`'s data key from the store without caching it, so
  /// that pointers the key cache gave out stay valid; nullopt when the customer has none;
  /// errc::integrity when it fails to unwrap.
  result<std::optional<SecretBytes>> load_data_key(const std::string& customer) const;
  /// data_key_of is data_key for a caller that took the cached key (`cached`, from
  /// KeyCache::share_data_key) before it read the key row itself (`row`, nullopt when the
  /// customer has none or it was not read): `cached` when set, else `row` unwrapped and cached,
  /// else nullptr. The key stays valid while the caller holds it, whatever the cache drops
  /// meanwhile. The caller has followed the master keys when `row`'s version was not loaded
  /// (read_customer does). errc::integrity when `row` fails to unwrap.
  result<std::shared_ptr<const SecretBytes>> data_key_of(const std::string& customer,
                                                         const std::optional<StoredKey>& row,
                                                         std::shared_ptr<const SecretBytes> cached) const;
  result<ConsentState> consent_state(std::string_view customer) const;
  /// policy_version reads and parses version `number` of the policy; errc::not_found beyond the
  /// current version, errc::integrity for a damaged record (policy_versions.cpp). store_mu held.
  result<Policy> policy_version(std::int64_t number) const;
  /// issue_receipts signs the receipt of each of `events` under the policy version it names,
  /// issued now (consent_receipts.cpp). store_mu held. Fails as policy_version does.
  result<std::vector<std::string>> issue_receipts(const std::vector<ConsentEvent>& events) const;
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
  /// lookup_entry makes the blind index entry of `spec`'s value `normalised` for `customer`, under
  /// master key version `version` (lookup.cpp); store_mu held. errc::not_found for a version
  /// not held.
  result<StoredLookup> lookup_entry(const FieldSpec& spec, std::string_view customer,
                                    std::string_view normalised, std::uint32_t version) const;
  /// reindex_customer brings `customer`'s blind index entries in line with `policy` under master
  /// key version `version`: an entry of a field no longer indexed, or without a value, is
  /// deleted; an indexed value gets a new entry when it has none or one made under another
  /// version, and with `rebuild` always (a changed lookup_bits). Values are opened with
  /// `dek`, the customer's data key. Inside the caller's transaction, store_mu held (lookup.cpp).
  /// errc::integrity for a value that fails authentication.
  result<void> reindex_customer(const Policy& policy, const std::string& customer, const SecretBytes& dek,
                                std::uint32_t version, bool rebuild) const;
  /// is_erased is true when the customer with audit pseudonym `tag` was erased (erasure.cpp).
  result<bool> is_erased(std::string_view tag) const;

  /// append_consent_event appends one ledger event for `p` inside the caller's transaction, with
  /// `signal` when a signal decided it, and adds its audit entries to `entries`; withdrawing
  /// consent to profiling deletes the customer's inferred values with it. The caller holds
  /// store_mu and has checked the action against the basis (record_consent.cpp). Fails as the
  /// store does.
  result<ConsentEvent> append_consent_event(const PolicyInForce& in_force, std::string_view customer,
                                            const Purpose& p, ConsentAction action,
                                            const ConsentDetails& details,
                                            const std::optional<ConsentSignal>& signal,
                                            std::vector<AuditEntry>& entries);
  /// check_consent_writable refuses, inside the caller's transaction, a customer erased meanwhile
  /// (errc::erased) and, with `require_known`, one the vault does not hold (errc::not_found).
  result<void> check_consent_writable(std::string_view customer, const std::string& tag, bool require_known);

  // ---- audit entries ----
  /// entry starts an entry at now() for `customer` (pseudonymised here).
  AuditEntry entry(AuditAction action, std::string_view customer, std::string_view accessor,
                   std::string_view purpose) const;
  /// entry_for_pseudonym is entry() for a customer whose audit pseudonym `tag` is already known.
  AuditEntry entry_for_pseudonym(AuditAction action, std::string tag, std::string_view accessor,
                                 std::string_view purpose) const;

 private:
  mutable Keyring keyring_;
  std::shared_ptr<KeyProvider> provider_;
  SecretBytes audit_customer_key_;  // keys the pseudonyms the log names customers by
  mutable KeyCache keys_;
  mutable AuditTrail audit_;
  mutable ReaderPool readers_;      // decide_read's connections; closed before the store
  mutable std::mutex policies_mu_;  // guards policies_
  mutable std::vector<std::unique_ptr<const PolicyInForce>> policies_;  // every version installed, kept alive
  mutable std::atomic<const PolicyInForce*> in_force_{nullptr};
  // The store's data_version when follow_policy last read the version row (store_mu held);
  // nullopt before the first look, or when the store cannot tell.
  mutable std::optional<std::uint64_t> seen_data_version_;
};

}  // namespace consentry
