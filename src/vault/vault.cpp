// vault.cpp: opening and creating vaults, the vault's state (vault_impl.hpp), reading the consent
// ledger, eligibility, and the vault's audit-log methods. Writes live in write.cpp, consent
// events in record_consent.cpp, reads in view.cpp, cached keys in key_cache.cpp, the audit queue
// in src/audit/audit_trail.cpp.
#include "consentry/vault.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "consentry/anonymise/transform.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "crypto/aead.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// Metadata rows of a vault (those of the master key versions are in keys.cpp). The policy and the
// audit signing key are sealed under keys derived from the keyring's root, so a policy edited in
// the file (to grant an accessor more) or a swapped signing key fails authentication at open.
constexpr std::string_view kMetaAuditPublicKey = "audit.public_key";
constexpr std::string_view kMetaAuditSecretKey = "audit.secret_key.sealed";
constexpr std::string_view kAuditSigningKeyLabel = "audit/signing";
constexpr std::string_view kAuditCustomerKeyLabel = "audit/customer";

result<bytes> required_meta(Store& store, std::string_view key) {
  auto v = store.get_meta(key);
  if (!v) return std::move(v).err();
  if (!*v) return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is missing");
  return std::move(**v);
}

bytes signing_key_ad(const bytes& public_key) {
  const std::string pk(public_key.begin(), public_key.end());
  return aead::associated_data({kMetaAuditSecretKey, pk});
}

}  // namespace

result<void> check_identifier(std::string_view what, std::string_view text, std::size_t max_bytes) {
  if (text.empty()) return make_error(errc::invalid_argument, std::string(what) + " is empty");
  if (text.size() > max_bytes)
    return make_error(errc::invalid_argument,
                      std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!normalise_value(FieldType::string, what, text))
    return make_error(errc::invalid_argument, std::string(what) + " is not valid UTF-8");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f)
      return make_error(errc::invalid_argument, std::string(what) + " contains a control character");
  return ok();
}

namespace {

AuditTrailOptions audit_trail_options(const VaultOptions& o, std::int64_t last_checkpoint_seq) {
  AuditTrailOptions t;
  t.commit = o.audit == AuditMode::off       ? AuditCommit::off
             : o.audit == AuditMode::batched ? AuditCommit::batched
                                             : AuditCommit::durable;
  t.batch = kAuditBatch;
  t.checkpoint_interval = kCheckpointInterval;
  t.clock = o.clock;
  t.last_checkpoint_seq = last_checkpoint_seq;
  return t;
}

}  // namespace

Vault::Impl::Impl(std::unique_ptr<Store> s, Policy p, std::int64_t policy_version, ConsentRenewal renewal,
                  Keyring k, std::shared_ptr<KeyProvider> pr, VaultOptions o, AuditSigner sg,
                  std::int64_t last_checkpoint_seq)
    : store(std::move(s)),
      options(std::move(o)),
      keyring_(std::move(k)),
      provider_(std::move(pr)),
      audit_customer_key_(keyring_.derive_key(kAuditCustomerKeyLabel)),
      keys_(keyring_, options.key_cache_size),
      audit_(*store, store_mu, std::move(sg), audit_trail_options(options, last_checkpoint_seq)),
      readers_(*store, options.max_readers) {
  install_policy(std::move(p), policy_version, std::move(renewal));
}

std::string Vault::Impl::audit_pseudonym(std::string_view customer) const {
  return pseudonym(audit_customer_key_, customer);
}

AuditEntry Vault::Impl::entry(AuditAction action, std::string_view customer, std::string_view accessor,
                              std::string_view purpose) const {
  return entry_for_pseudonym(action, customer.empty() ? std::string() : audit_pseudonym(customer), accessor,
                             purpose);
}

AuditEntry Vault::Impl::entry_for_pseudonym(AuditAction action, std::string tag, std::string_view accessor,
                                            std::string_view purpose) const {
  AuditEntry e;
  e.at = now();
  e.customer = std::move(tag);
  e.accessor = std::string(accessor);
  e.purpose = std::string(purpose);
  e.action = action;
  return e;
}

namespace {

// unwrap_stored_key opens the data key `row` holds for `customer` (the customer asked for, which
// the key is bound to, not the row's own say); errc::integrity, naming no key, when it fails.
result<SecretBytes> unwrap_stored_key(const Keyring& keyring, const std::string& customer,
                                      const StoredKey& row) {
  auto key = keyring.unwrap_data_key(customer, row.version, row.wrapped);
  if (!key) return make_error(errc::integrity, "the customer's data key failed authentication");
  return key;
}

}  // namespace

result<const SecretBytes*> Vault::Impl::data_key(const std::string& customer) const {
  if (const SecretBytes* cached = keys_.find_data_key(customer)) return cached;
  auto key = load_data_key(customer);
  if (!key) return std::move(key).err();
  if (!*key) return static_cast<const SecretBytes*>(nullptr);
  return &keys_.keep_data_key(customer, std::move(**key));
}

result<std::optional<SecretBytes>> Vault::Impl::load_data_key(const std::string& customer) const {
  auto row = store->get_key(customer);
  if (!row) return std::move(row).err();
  if (!*row) return std::optional<SecretBytes>();
  // Wrapped under a version this vault has not loaded: another process rotated since it opened.
  if (keyring_.master_key((*row)->version) == nullptr) CONSENTRY_TRY(follow_master_keys());
  auto key = unwrap_stored_key(keyring_, customer, **row);
  if (!key) return std::move(key).err();
  return std::optional<SecretBytes>(std::move(*key));
}

result<std::shared_ptr<const SecretBytes>> Vault::Impl::data_key_of(
    const std::string& customer, const std::optional<StoredKey>& row,
    std::shared_ptr<const SecretBytes> cached) const {
  if (cached) return cached;
  if (!row) return std::shared_ptr<const SecretBytes>();
  auto key = unwrap_stored_key(keyring_, customer, *row);
  if (!key) return std::move(key).err();
  return keys_.keep_shared_data_key(customer, std::move(*key));
}

result<ConsentState> Vault::Impl::consent_state(std::string_view customer) const {
  auto history = store->consent_history(customer);
  if (!history) return std::move(history).err();
  return ConsentState::from_history(*history);
}

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::Vault(Vault&&) noexcept = default;
Vault& Vault::operator=(Vault&& other) noexcept {
  if (this != &other) {
    close();
    impl_ = std::move(other.impl_);
  }
  return *this;
}
Vault::~Vault() {
  close();
}

void Vault::close() noexcept {
  if (!impl_ || !impl_->audit().enabled()) {
    impl_.reset();
    return;
  }
  // Closing commits what is queued and signs the head, so the tail is covered by a checkpoint.
  // Failures cannot be reported from a destructor; verify_audit shows what they left.
  (void)impl_->audit().flush();
  {
    // Released before the Impl (and the mutex with it) is destroyed.
    std::lock_guard lock(impl_->store_mu);
    if (auto txn = Transaction::start_append(*impl_->store, true)) {
      if (impl_->audit().checkpoint_in_transaction(false)) (void)txn->commit();
    }
  }
  impl_.reset();
}

const Policy& Vault::policy() const {
  // A version another process put in force since is followed; should the store fail, the
  // policy this vault last saw is the answer.
  auto latest = impl_->latest_policy();
  return latest ? (*latest)->policy : impl_->policy();
}
timestamp Vault::now() const {
  return impl_->now();
}
const bytes& Vault::audit_public_key() const {
  return impl_->audit().public_key();
}

std::string Vault::audit_pseudonym(std::string_view customer) const {
  return impl_->audit_pseudonym(customer);
}

result<Vault> Vault::create_in(std::unique_ptr<Store> store, const Policy& policy,
                               std::string_view passphrase, VaultOptions options) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  auto provider = std::make_shared<PassphraseKeyProvider>(passphrase, options.kdf);
  return create_in(std::move(store), policy, std::move(provider), std::move(options));
}

result<Vault> Vault::create_in(std::unique_ptr<Store> store, const Policy& policy,
                               std::shared_ptr<KeyProvider> provider, VaultOptions options) {
  if (!store) return make_error(errc::invalid_argument, "no store");
  if (!provider) return make_error(errc::invalid_argument, "no key provider");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
  Keyring keyring = Keyring::generate();
  const std::string policy_text = policy.to_json();
  auto sealed_policy = aead::seal(keyring.derive_key(kPolicyKeyLabel), as_bytes(policy_text),
                                  aead::associated_data({kMetaPolicy}));
  if (!sealed_policy) return std::move(sealed_policy).err();
  AuditSigner signer = AuditSigner::generate();
  auto sealed_signer = aead::seal(keyring.derive_key(kAuditSigningKeyLabel), signer.secret_key().reveal(),
                                  signing_key_ad(signer.public_key()));
  if (!sealed_signer) return std::move(sealed_signer).err();

  auto txn = Transaction::start(*store);
  if (!txn) return std::move(txn).err();
  CONSENTRY_TRY(store_keyring(*store, *provider, keyring));
  CONSENTRY_TRY(store->put_meta(kMetaPolicy, *sealed_policy));
  CONSENTRY_TRY(write_first_policy_version(
      *store, keyring, policy, options.clock ? options.clock() : consentry::now(), options.actor));
  CONSENTRY_TRY(store->put_meta(kMetaAuditPublicKey, signer.public_key()));
  CONSENTRY_TRY(store->put_meta(kMetaAuditSecretKey, *sealed_signer));
  // A new vault writes every value in format 2 and lists it: there is nothing older to re-seal.
  CONSENTRY_TRY(mark_values_listed(*store));
  CONSENTRY_TRY(txn->commit());
  auto impl = std::make_unique<Impl>(std::move(store), policy, 1, ConsentRenewal{}, std::move(keyring),
                                     std::move(provider), std::move(options), std::move(signer), 0);
  return Vault(std::move(impl));
}

result<Vault> Vault::open_in(std::unique_ptr<Store> store, std::string_view passphrase,
                             VaultOptions options) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  auto provider = std::make_shared<PassphraseKeyProvider>(passphrase, options.kdf);
  return open_in(std::move(store), std::move(provider), std::move(options));
}

result<Vault> Vault::open_in(std::unique_ptr<Store> store, std::shared_ptr<KeyProvider> provider,
                             VaultOptions options) {
  if (!store) return make_error(errc::invalid_argument, "no store");
  if (!provider) return make_error(errc::invalid_argument, "no key provider");
  // Nothing is written until the master key has opened: a wrong secret leaves the file as it was.
  // One read snapshot: a rotation, retirement or passphrase change committed by another process
  // meanwhile cannot leave this reading part of the old key metadata and part of the new.
  auto snapshot = ReadSnapshot::open(*store);
  if (!snapshot) return std::move(snapshot).err();
  auto keyring = load_keyring(*store, *provider);
  if (!keyring) return std::move(keyring).err();

  auto sealed_policy = required_meta(*store, kMetaPolicy);
  if (!sealed_policy) return std::move(sealed_policy).err();
  auto policy_text =
      aead::open(keyring->derive_key(kPolicyKeyLabel), *sealed_policy, aead::associated_data({kMetaPolicy}));
  if (!policy_text) return make_error(errc::integrity, "the vault's policy failed authentication");
  auto policy = Policy::parse(policy_text->reveal_string(), "vault policy");
  if (!policy) return make_error(errc::integrity, policy.err().message);
  auto policy_version = stored_policy_version(*store);
  if (!policy_version) return std::move(policy_version).err();
  auto renewal = stored_consent_renewal(*store, *keyring, *policy_version);
  if (!renewal) return std::move(renewal).err();

  auto public_key = required_meta(*store, kMetaAuditPublicKey);
  if (!public_key) return std::move(public_key).err();
  auto sealed_signer = required_meta(*store, kMetaAuditSecretKey);
  if (!sealed_signer) return std::move(sealed_signer).err();
  auto secret_key =
      aead::open(keyring->derive_key(kAuditSigningKeyLabel), *sealed_signer, signing_key_ad(*public_key));
  if (!secret_key) return make_error(errc::integrity, "the audit signing key failed authentication");
  auto signer = AuditSigner::from_secret_key(std::move(*secret_key));
  if (!signer || signer->public_key() != *public_key)
    return make_error(errc::integrity, "the audit signing key does not match its public key");

  auto last_checkpoint = store->last_checkpoint();
  if (!last_checkpoint) return std::move(last_checkpoint).err();
  { ReadSnapshot ended = std::move(*snapshot); }  // the snapshot ends here
  auto impl =
      std::make_unique<Impl>(std::move(store), std::move(*policy), *policy_version, std::move(*renewal),
                             std::move(*keyring), std::move(provider), std::move(options), std::move(*signer),
                             *last_checkpoint ? (*last_checkpoint)->seq : 0);
  // A vault written before values' source and collection time were bound is brought up to date
  // once, before anything reads it (manifest.hpp).
  CONSENTRY_TRY(list_values(*impl->store, impl->keyring()));
  return Vault(std::move(impl));
}

result<Vault> Vault::create(const std::filesystem::path& file, const Policy& policy,
                            std::string_view passphrase, VaultOptions options) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  auto provider = std::make_shared<PassphraseKeyProvider>(passphrase, options.kdf);
  return create(file, policy, std::move(provider), std::move(options));
}

result<Vault> Vault::create(const std::filesystem::path& file, const Policy& policy,
                            std::shared_ptr<KeyProvider> provider, VaultOptions options) {
  if (!provider) return make_error(errc::invalid_argument, "no key provider");
  if (is_postgres_url(file.native())) {
    auto store = open_postgres_store(file.native(), StoreMode::create);
    if (!store) return std::move(store).err();
    auto vault = create_in(std::move(*store), policy, std::move(provider), std::move(options));
    // Leave nothing half-made behind: the schema did not hold a vault before this call.
    if (!vault) (void)drop_postgres_vault(file.native());
    return vault;
  }
  auto store = open_sqlite_store(file, StoreMode::create);
  if (!store) return std::move(store).err();
  auto vault = create_in(std::move(*store), policy, std::move(provider), std::move(options));
  if (!vault) {
    // Leave nothing half-made behind: the file did not exist before this call.
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(file.string() + suffix, ec);
  }
  return vault;
}

result<Vault> Vault::open(const std::filesystem::path& file, std::string_view passphrase,
                          VaultOptions options) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  auto provider = std::make_shared<PassphraseKeyProvider>(passphrase, options.kdf);
  return open(file, std::move(provider), std::move(options));
}

result<Vault> Vault::open(const std::filesystem::path& file, std::shared_ptr<KeyProvider> provider,
                          VaultOptions options) {
  if (!provider) return make_error(errc::invalid_argument, "no key provider");
  auto store = is_postgres_url(file.native()) ? open_postgres_store(file.native(), StoreMode::open)
                                              : open_sqlite_store(file, StoreMode::open);
  if (!store) return std::move(store).err();
  return open_in(std::move(*store), std::move(provider), std::move(options));
}

result<Accessor> Vault::accessor(std::string_view id) const {
  // An accessor another process's policy update declared is found too.
  auto in_force = impl_->latest_policy();
  if (!in_force) return std::move(in_force).err();
  if (!(*in_force)->policy.accessor(id))
    return make_error(errc::not_found, "accessor '" + std::string(id) + "' is not declared in the policy");
  return Accessor(impl_.get(), std::string(id));
}

result<void> Vault::put(std::string_view customer, std::string_view field, std::string_view value,
                        std::string_view source, std::optional<timestamp> collected_at) {
  Record r;
  r.customer = std::string(customer);
  r.source = std::string(source);
  r.collected_at = collected_at;
  r.fields.emplace_back(std::string(field), std::string(value));
  return write({r});
}

result<void> Vault::derive(std::string_view customer, std::string_view field, std::string_view value) {
  auto in_force = impl_->latest_policy();
  if (!in_force) return std::move(in_force).err();
  const FieldSpec* spec = (*in_force)->policy.field(field);
  if (!spec)
    return make_error(errc::bad_input, "field '" + std::string(field) + "' is not declared in the policy");
  if (!spec->is_inferred())
    return make_error(errc::bad_input,
                      "field '" + spec->name + "' is not of category inferred: write it with put");
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  {
    std::lock_guard lock(impl_->store_mu);
    CONSENTRY_TRY(impl_->known_customer(customer));
  }
  // write() refuses it without the customer's consent to profiling, as for any inferred field.
  return put(customer, field, value, kDerivedSource);
}

result<std::vector<ConsentEvent>> Vault::consent_history(std::string_view customer) const {
  const std::string tag = audit_pseudonym(customer);
  std::lock_guard lock(impl_->store_mu);
  auto gone = impl_->is_erased(tag);
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  return impl_->store->consent_history(customer);
}

result<ConsentState> Vault::consent_state(std::string_view customer) const {
  const std::string tag = audit_pseudonym(customer);
  std::lock_guard lock(impl_->store_mu);
  auto gone = impl_->is_erased(tag);
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  return impl_->consent_state(customer);
}

result<bool> Vault::contains(std::string_view customer) const {
  std::lock_guard lock(impl_->store_mu);
  return impl_->store->knows(customer);
}

result<std::vector<std::string>> Vault::customers() const {
  std::lock_guard lock(impl_->store_mu);
  return impl_->store->customers();
}

result<std::vector<std::string>> Vault::eligible_customers(std::string_view purpose) const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.store_mu);
  // One snapshot: the policy in force (a version another process put in force is followed) and
  // the ledger as committed at one instant.
  auto snapshot = ReadSnapshot::open(*impl.store);
  if (!snapshot) return std::move(snapshot).err();
  auto in_force = impl.follow_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const Form any_form{};
  auto allows = [&](ConsentStatus status) { return basis_allows(p->basis, status, any_form).allowed; };
  // Contract, legal obligation, vital interest: the ledger cannot change the answer.
  if (allows(ConsentStatus::none) && allows(ConsentStatus::objected)) return impl.store->customers();
  // A customer without an event on the purpose stands at `none`. When the basis refuses that
  // (consent), only customers with an event can be eligible, and the store lists no others.
  const bool only_with_events = !allows(ConsentStatus::none);
  const timestamp now = impl.now();
  std::vector<std::string> out;
  // A grant under a version that since widened the purpose is not eligible until renewed.
  const ConsentRenewal& renewal = (*in_force)->renewal;
  auto keep = [&](const Store::PurposePosition& position) {
    const ConsentStatus status = consent_status(position.action, position.expires_at, now);
    if (p->basis == Basis::consent && status == ConsentStatus::granted &&
        renewal.outdated_position(purpose, position.policy_version))
      return true;
    if (allows(status)) out.emplace_back(position.customer);
    return true;
  };
  CONSENTRY_TRY(impl.store->scan_purpose_positions(purpose, only_with_events, keep));
  return out;
}

result<std::vector<AuditEntry>> Vault::audit_entries(std::optional<std::string_view> customer,
                                                     std::optional<timestamp> since) const {
  const Impl& impl = *impl_;
  CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  std::vector<AuditEntry> out;
  auto keep = [&](const StoredAuditEntry& s) -> result<void> {
    if (since && s.at < *since) return ok();
    auto e = decode_audit_entry(s.encoded);
    if (!e) return make_error(errc::integrity, "audit entry " + std::to_string(s.seq) + " cannot be decoded");
    e->chain = s.chain;
    out.push_back(std::move(*e));
    return ok();
  };
  // A log with a chain per writer is read chain by chain; its entries are listed by time.
  const auto by_time = [&out] {
    if (std::all_of(out.begin(), out.end(), [](const AuditEntry& e) { return e.chain == 0; })) return;
    std::stable_sort(out.begin(), out.end(),
                     [](const AuditEntry& a, const AuditEntry& b) { return a.at < b.at; });
  };
  if (customer) {
    auto rows = impl.store->audit_for_customer(audit_pseudonym(*customer));
    if (!rows) return std::move(rows).err();
    for (const StoredAuditEntry& s : *rows) CONSENTRY_TRY(keep(s));
    by_time();
    return out;
  }
  result<void> failed;
  CONSENTRY_TRY(impl.store->scan_audit(1, [&](const StoredAuditEntry& s) {
    failed = keep(s);
    return failed.ok();
  }));
  CONSENTRY_TRY(failed);
  by_time();
  return out;
}

result<void> Vault::flush_audit() const {
  return impl_->audit().flush();
}

result<AuditCheckpoint> Vault::checkpoint_audit() {
  Impl& impl = *impl_;
  CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  auto txn = Transaction::start_append(*impl.store, true);
  if (!txn) return std::move(txn).err();
  auto cp = impl.audit().checkpoint_in_transaction(true);
  if (!cp) return std::move(cp).err();
  if (!*cp) return make_error(errc::not_found, "the audit log is empty");
  CONSENTRY_TRY(txn->commit());
  return std::move(**cp);
}

result<AuditVerification> Vault::verify_audit(
    const std::optional<AuditCheckpoint>& against,
    const std::function<void(std::int64_t checked, std::int64_t total)>& on_progress) const {
  CONSENTRY_TRY(impl_->audit().flush());
  std::lock_guard lock(impl_->store_mu);
  Store& store = *impl_->store;
  std::function<void(std::int64_t)> checked;
  if (on_progress) {
    // The entries the log holds: the head's seq, or the sum of every writer chain's.
    std::int64_t total = 0;
    if (store.keeps_writer_chains()) {
      auto heads = store.audit_chain_heads();
      if (!heads) return std::move(heads).err();
      for (const AuditHead& h : *heads) total += h.seq;
    } else {
      auto head = store.audit_head();
      if (!head) return std::move(head).err();
      total = *head ? (*head)->seq : 0;
    }
    checked = [&on_progress, total](std::int64_t n) { on_progress(n, total); };
  }
  return verify_audit_log(store, impl_->audit().public_key(), against, checked);
}

}  // namespace consentry
