// vault.cpp: opening and creating vaults, writes, the consent ledger, eligibility, and the
// vault's audit-log methods. Reads live in view.cpp, the audit queue in audit_trail.cpp.
#include "consentry/vault.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "consentry/aead.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// Metadata rows of a vault (those of the master key versions are in keys.cpp). The policy and the
// audit signing key are sealed under keys derived from the keyring's root, so a policy edited in
// the file (to grant an accessor more) or a swapped signing key fails authentication at open.
constexpr std::string_view kMetaPolicy = "policy.sealed";
constexpr std::string_view kMetaAuditPublicKey = "audit.public_key";
constexpr std::string_view kMetaAuditSecretKey = "audit.secret_key.sealed";
constexpr std::string_view kPolicyKeyLabel = "policy";
constexpr std::string_view kAuditSigningKeyLabel = "audit/signing";
constexpr std::string_view kAuditCustomerKeyLabel = "audit/customer";
constexpr std::string_view kPseudonymKeyPrefix = "pseudonym/";
constexpr std::string_view kHmacPseudonymKeyPrefix = "pseudonym/hmac-sha256/";
constexpr std::string_view kTokenKeyLabel = "token/ff1";
constexpr std::string_view kTokenTweakPrefix = "consentry/token/";

constexpr std::size_t kMaxDetailBytes = 256;
constexpr std::string_view kDefaultSource = "import";

result<bytes> required_meta(Store& store, std::string_view key) {
  auto v = store.get_meta(key);
  if (!v) return std::move(v).err();
  if (!*v) return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is missing");
  return std::move(**v);
}

result<void> check_detail(std::string_view what, std::string_view text) {
  if (text.empty()) return ok();
  return check_identifier(what, text, kMaxDetailBytes);
}

std::string located(std::string_view origin, std::size_t line) {
  std::string s;
  if (!origin.empty()) s.append(origin).append(":");
  if (line > 0) s.append(std::to_string(line)).append(":");
  if (!s.empty()) s.append(" ");
  return s;
}

bytes signing_key_ad(const bytes& public_key) {
  const std::string pk(public_key.begin(), public_key.end());
  return aead::associated_data({kMetaAuditSecretKey, pk});
}

// status_of gives the status a customer's last event on a purpose leaves at `now`, by the rules
// of ConsentState::status: a grant past its expiry (at the expiry second itself) has expired.
ConsentStatus status_of(const Store::PurposePosition& position, timestamp now) {
  if (!position.action) return ConsentStatus::none;
  switch (*position.action) {
    case ConsentAction::grant:
      return (position.expires_at && *position.expires_at <= now) ? ConsentStatus::expired
                                                                  : ConsentStatus::granted;
    case ConsentAction::withdraw: return ConsentStatus::withdrawn;
    case ConsentAction::object: return ConsentStatus::objected;
  }
  return ConsentStatus::none;
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

Vault::Impl::Impl(std::unique_ptr<Store> s, Policy p, Keyring k, VaultOptions o, AuditSigner sg)
    : store(std::move(s)),
      policy(std::move(p)),
      keyring(std::move(k)),
      options(std::move(o)),
      signer(std::move(sg)),
      audit_customer_key(keyring.derive_key(kAuditCustomerKeyLabel)) {}

const SecretBytes& Vault::Impl::cache_data_key(const std::string& customer, SecretBytes key) const {
  // When full, every cached key is dropped (and so wiped); the reference stays valid until the
  // next call that caches a key.
  if (data_keys.size() >= std::max<std::size_t>(options.key_cache_size, 1)) data_keys.clear();
  return data_keys.insert_or_assign(customer, std::move(key)).first->second;
}

result<const SecretBytes*> Vault::Impl::data_key(const std::string& customer) const {
  if (auto it = data_keys.find(customer); it != data_keys.end()) return &it->second;
  auto row = store->get_key(customer);
  if (!row) return std::move(row).err();
  if (!*row) return static_cast<const SecretBytes*>(nullptr);
  auto key = keyring.unwrap_data_key(customer, (*row)->version, (*row)->wrapped);
  if (!key && keyring.master_key((*row)->version) == nullptr) {
    // Wrapped under a version this vault has not loaded: another process rotated since it opened.
    CONSENTRY_TRY(follow_master_keys());
    key = keyring.unwrap_data_key(customer, (*row)->version, (*row)->wrapped);
  }
  if (!key) return make_error(errc::integrity, "the customer's data key failed authentication");
  return &cache_data_key(customer, std::move(*key));
}

const SecretBytes& Vault::Impl::derived_key(const std::string& label) const {
  auto it = purpose_keys.find(label);
  if (it == purpose_keys.end()) it = purpose_keys.emplace(label, keyring.derive_key(label)).first;
  return it->second;
}

const SecretBytes& Vault::Impl::purpose_key(const std::string& purpose) const {
  return derived_key(std::string(kPseudonymKeyPrefix) + purpose);
}

std::string Vault::Impl::token_tweak(std::string_view field) {
  return std::string(kTokenTweakPrefix) + std::string(field);
}

result<const Tokeniser*> Vault::Impl::token_cipher() const {
  if (!tokeniser) {
    // A 32-byte derived key: AES-256. One key for the vault; the tweak separates the fields.
    auto made = Tokeniser::create(derived_key(std::string(kTokenKeyLabel)));
    if (!made) return std::move(made).err();
    tokeniser = std::make_unique<Tokeniser>(std::move(*made));
  }
  return tokeniser.get();
}

result<FormKeys> Vault::Impl::form_keys(const Form& form, const std::string& purpose, std::string_view field,
                                        std::string& tweak) const {
  FormKeys keys;
  switch (form.kind) {
    case FormKind::pseudonym: keys.purpose_key = &purpose_key(purpose); break;
    // A key of its own: the two kinds of pseudonym of one value cannot be told to be the same.
    case FormKind::pseudonym_hmac:
      keys.purpose_key = &derived_key(std::string(kHmacPseudonymKeyPrefix) + purpose);
      break;
    case FormKind::token: {
      auto cipher = token_cipher();
      if (!cipher) return std::move(cipher).err();
      keys.token_cipher = *cipher;
      tweak = token_tweak(field);
      keys.token_tweak = {reinterpret_cast<const std::uint8_t*>(tweak.data()), tweak.size()};
      break;
    }
    default: break;
  }
  return keys;
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
  if (!impl_ || impl_->options.audit == AuditMode::off) {
    impl_.reset();
    return;
  }
  // Closing commits what is queued and signs the head, so the tail is covered by a checkpoint.
  // Failures cannot be reported from a destructor; verify_audit shows what they left.
  (void)impl_->flush();
  {
    // Released before the Impl (and the mutex with it) is destroyed.
    std::lock_guard lock(impl_->store_mu);
    if (auto txn = Transaction::start(*impl_->store)) {
      if (impl_->checkpoint_in_transaction(false)) (void)txn->commit();
    }
  }
  impl_.reset();
}

const Policy& Vault::policy() const {
  return impl_->policy;
}
timestamp Vault::now() const {
  return impl_->now();
}
const bytes& Vault::audit_public_key() const {
  return impl_->signer.public_key();
}

std::string Vault::audit_pseudonym(std::string_view customer) const {
  return pseudonym(impl_->audit_customer_key, customer);
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
  CONSENTRY_TRY(store->put_meta(kMetaAuditPublicKey, signer.public_key()));
  CONSENTRY_TRY(store->put_meta(kMetaAuditSecretKey, *sealed_signer));
  // A new vault writes every value in format 2 and lists it: there is nothing older to re-seal.
  CONSENTRY_TRY(mark_values_listed(*store));
  CONSENTRY_TRY(txn->commit());
  auto impl = std::make_unique<Impl>(std::move(store), policy, std::move(keyring), std::move(options),
                                     std::move(signer));
  impl->provider = std::move(provider);
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

  auto checkpoints = store->checkpoints();
  if (!checkpoints) return std::move(checkpoints).err();
  { ReadSnapshot ended = std::move(*snapshot); }  // the snapshot ends here
  auto impl = std::make_unique<Impl>(std::move(store), std::move(*policy), std::move(*keyring),
                                     std::move(options), std::move(*signer));
  impl->provider = std::move(provider);
  impl->last_checkpoint_seq = checkpoints->empty() ? 0 : checkpoints->back().seq;
  // A vault written before values' source and collection time were bound is brought up to date
  // once, before anything reads it (manifest.hpp).
  CONSENTRY_TRY(list_values(*impl->store, impl->keyring));
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
  auto store = open_sqlite_store(file, StoreMode::open);
  if (!store) return std::move(store).err();
  return open_in(std::move(*store), std::move(provider), std::move(options));
}

result<Accessor> Vault::accessor(std::string_view id) const {
  if (!impl_->policy.accessor(id))
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
  const FieldSpec* spec = impl_->policy.field(field);
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

result<void> Vault::write(const std::vector<Record>& records, std::string_view origin) {
  Impl& impl = *impl_;
  // Entries held back from reads go first, so they keep their place before this write's.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.flush());
  std::lock_guard lock(impl.store_mu);
  const timestamp now = impl.now();
  // Validate everything before writing anything, so a bad record changes nothing.
  struct Pending {
    const Record* record;
    std::vector<std::pair<const FieldSpec*, std::string>> values;  // normalised
    bool needs_profiling = false;                                  // an inferred field is among them
  };
  std::vector<Pending> pending;
  pending.reserve(records.size());
  for (const Record& r : records) {
    const std::string at = located(origin, r.line);
    if (auto c = check_identifier("customer id", r.customer, kMaxCustomerIdBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    const std::string_view source = r.source.empty() ? kDefaultSource : std::string_view(r.source);
    if (auto c = check_identifier("source", source, kMaxDetailBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    if (r.collected_at && *r.collected_at > now + std::chrono::days(1))
      return make_error(errc::bad_input, at + "collected_at is in the future");
    Pending p{&r, {}};
    for (const auto& [name, value] : r.fields) {
      const FieldSpec* f = impl.policy.field(name);
      if (!f) return make_error(errc::bad_input, at + "field '" + name + "' is not declared in the policy");
      auto v = normalise_value(f->type, name, value);
      if (!v) return make_error(errc::bad_input, at + v.err().message);
      if (!f->sources.empty() && std::find(f->sources.begin(), f->sources.end(), source) == f->sources.end())
        return make_error(
            errc::denied,
            at + "field '" + name + "' does not accept values from source '" + std::string(source) + "'",
            deny_reason::source_not_permitted);
      p.needs_profiling = p.needs_profiling || f->is_inferred();
      p.values.emplace_back(f, std::move(*v));
    }
    pending.push_back(std::move(p));
  }

  Store& store = *impl.store;
  auto txn = Transaction::start(store);
  if (!txn) return std::move(txn).err();
  // What the ledger decides is decided inside the write transaction, against the ledger as
  // committed: an erasure or a withdrawal of consent to profiling committed by another process
  // is either seen here, or commits after this write and takes what it wrote with it.
  for (const Pending& p : pending) {
    const Record& r = *p.record;
    // An erased customer stays erased: new data would bring back what they asked to be rid of.
    auto gone = impl.is_erased(pseudonym(impl.audit_customer_key, r.customer));
    if (!gone) return std::move(gone).err();
    if (*gone) return erased_error(located(origin, r.line));
    if (p.needs_profiling) {
      auto state = impl.consent_state(r.customer);
      if (!state) return std::move(state).err();
      if (state->status(Policy::kProfilingPurpose, now) != ConsentStatus::granted)
        return make_error(
            errc::denied,
            located(origin, r.line) + "inferred fields need the customer's consent to profiling",
            deny_reason::inference_needs_profiling);
    }
  }
  bool version_checked = false;  // follow_current_version() once, at the first new data key
  // Data keys made in this transaction are cached only after it commits.
  std::unordered_map<std::string, SecretBytes> new_keys;
  std::vector<AuditEntry> entries;
  if (impl.options.audit != AuditMode::off) entries.reserve(pending.size());
  ManifestEdits manifests(store);
  for (const Pending& p : pending) {
    const Record& r = *p.record;
    const SecretBytes* dek = nullptr;
    if (auto it = new_keys.find(r.customer); it != new_keys.end()) {
      dek = &it->second;
    } else {
      auto existing = impl.data_key(r.customer);
      if (!existing) return std::move(existing).err();
      dek = *existing;
      if (!dek) {
        // Under the version current as this transaction commits: another process may have
        // rotated, and retired the version this vault opened with, since it opened.
        if (!version_checked) CONSENTRY_TRY(impl.follow_current_version());
        version_checked = true;
        SecretBytes key = Keyring::new_data_key();
        auto wrapped = impl.keyring.wrap_data_key(r.customer, key);
        if (!wrapped) return std::move(wrapped).err();
        CONSENTRY_TRY(store.put_key(StoredKey{r.customer, impl.keyring.version(), std::move(*wrapped)}));
        dek = &new_keys.emplace(r.customer, std::move(key)).first->second;
      }
    }
    StoredField sf;
    sf.customer = r.customer;
    sf.source = r.source.empty() ? std::string(kDefaultSource) : r.source;
    sf.collected_at = r.collected_at.value_or(now);
    // Format 2 binds the source and collection time; the manifest lists the new rows.
    sf.format = kFieldSealMetadataVersion;
    auto listed = manifests.open(r.customer, *dek, new_keys.count(r.customer) != 0);
    if (!listed) return std::move(listed).err();
    for (const auto& [spec, value] : p.values) {
      auto sealed =
          seal_field(*dek, r.customer, spec->name, value, FieldMetadata{sf.source, sf.collected_at});
      if (!sealed) return std::move(sealed).err();
      sf.field = spec->name;
      sf.sealed = std::move(*sealed);
      CONSENTRY_TRY(store.put_field(sf));
      (*listed)->note(sf);
    }
    CONSENTRY_TRY(manifests.store(r.customer, *dek));
    if (impl.options.audit != AuditMode::off) {
      AuditEntry e = impl.entry(AuditAction::value_written, r.customer, impl.options.actor, "");
      for (const auto& [spec, value] : p.values) e.fields.push_back(spec->name);
      e.reason = sf.source;
      entries.push_back(std::move(e));
    }
  }
  // The values and their audit entries commit together or not at all.
  if (impl.options.audit != AuditMode::off) CONSENTRY_TRY(impl.append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  for (auto& [customer, key] : new_keys) impl.cache_data_key(customer, std::move(key));
  return ok();
}

result<ConsentEvent> Vault::record_consent(std::string_view customer, std::string_view purpose,
                                           ConsentAction action, const ConsentDetails& details) {
  Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_detail("channel", details.channel); !c) return std::move(c).err();
  if (auto c = check_detail("notice", details.notice); !c) return std::move(c).err();
  const Purpose* p = impl.policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const std::string basis(to_string(p->basis));
  if (action != ConsentAction::object && p->basis != Basis::consent)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ", not consent: there is no consent to " +
                                           (action == ConsentAction::grant ? "grant" : "withdraw"));
  if (action == ConsentAction::object && p->basis != Basis::legitimate_interest &&
      p->basis != Basis::public_task)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ": only legitimate interest and public task can be objected to" +
                                           (p->basis == Basis::consent ? " (withdraw consent instead)" : ""));
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.flush());
  const std::string tag = pseudonym(impl.audit_customer_key, customer);
  std::lock_guard lock(impl.store_mu);
  ConsentEvent e;
  e.customer = std::string(customer);
  e.purpose = p->id;
  e.action = action;
  e.at = details.at.value_or(impl.now());
  e.channel = details.channel;
  e.notice = details.notice;
  if (action == ConsentAction::grant && p->consent_valid_for)
    e.expires_at = p->consent_valid_for->after(e.at);
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  // Inside the transaction: an erasure committed by another process meanwhile is seen here.
  auto gone = impl.is_erased(tag);
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  auto stored = impl.store->append_consent(e);
  if (!stored) return std::move(stored).err();
  std::vector<AuditEntry> entries{
      impl.entry(AuditAction::consent_recorded, customer, impl.options.actor, p->id)};
  entries.back().reason = std::string(to_string(action));
  // Withdrawing consent to profiling takes the inferences with it, in the same transaction.
  if (p->id == Policy::kProfilingPurpose && action == ConsentAction::withdraw) {
    AuditEntry dropped = impl.entry(AuditAction::purge, customer, impl.options.actor, p->id);
    dropped.reason = "profiling_withdrawn";
    for (const FieldSpec& spec : impl.policy.fields()) {
      if (!spec.is_inferred()) continue;
      auto held = impl.store->get_field(customer, spec.name);
      if (!held) return std::move(held).err();
      if (!*held) continue;
      CONSENTRY_TRY(impl.store->delete_field(customer, spec.name));
      dropped.fields.push_back(spec.name);
    }
    if (!dropped.fields.empty()) {
      const std::string name(customer);
      CONSENTRY_TRY(unlist_values(*impl.store, impl.data_key(name), name, dropped.fields));
      entries.push_back(std::move(dropped));
    }
  }
  if (impl.options.audit != AuditMode::off) CONSENTRY_TRY(impl.append_in_transaction(entries));
  // Committed, the event takes effect for the very next read.
  CONSENTRY_TRY(txn->commit());
  return stored;
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
  const Purpose* p = impl.policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const Form any_form{};
  auto allows = [&](ConsentStatus status) { return basis_allows(p->basis, status, any_form).allowed; };
  std::lock_guard lock(impl.store_mu);
  // Contract, legal obligation, vital interest: the ledger cannot change the answer.
  if (allows(ConsentStatus::none) && allows(ConsentStatus::objected)) return impl.store->customers();
  // A customer without an event on the purpose stands at `none`. When the basis refuses that
  // (consent), only customers with an event can be eligible, and the store lists no others.
  const bool only_with_events = !allows(ConsentStatus::none);
  const timestamp now = impl.now();
  std::vector<std::string> out;
  auto keep = [&](const Store::PurposePosition& position) {
    if (allows(status_of(position, now))) out.emplace_back(position.customer);
    return true;
  };
  CONSENTRY_TRY(impl.store->scan_purpose_positions(purpose, only_with_events, keep));
  return out;
}

result<std::vector<AuditEntry>> Vault::audit_entries(std::optional<std::string_view> customer,
                                                     std::optional<timestamp> since) const {
  const Impl& impl = *impl_;
  CONSENTRY_TRY(impl.flush());
  std::lock_guard lock(impl.store_mu);
  std::vector<AuditEntry> out;
  auto keep = [&](const StoredAuditEntry& s) -> result<void> {
    if (since && s.at < *since) return ok();
    auto e = decode_audit_entry(s.encoded);
    if (!e) return make_error(errc::integrity, "audit entry " + std::to_string(s.seq) + " cannot be decoded");
    out.push_back(std::move(*e));
    return ok();
  };
  if (customer) {
    auto rows = impl.store->audit_for_customer(audit_pseudonym(*customer));
    if (!rows) return std::move(rows).err();
    for (const StoredAuditEntry& s : *rows) CONSENTRY_TRY(keep(s));
    return out;
  }
  result<void> failed;
  CONSENTRY_TRY(impl.store->scan_audit(1, [&](const StoredAuditEntry& s) {
    failed = keep(s);
    return failed.ok();
  }));
  CONSENTRY_TRY(failed);
  return out;
}

result<void> Vault::flush_audit() const {
  return impl_->flush();
}

result<AuditCheckpoint> Vault::checkpoint_audit() {
  Impl& impl = *impl_;
  CONSENTRY_TRY(impl.flush());
  std::lock_guard lock(impl.store_mu);
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  auto cp = impl.checkpoint_in_transaction(true);
  if (!cp) return std::move(cp).err();
  if (!*cp) return make_error(errc::not_found, "the audit log is empty");
  CONSENTRY_TRY(txn->commit());
  return std::move(**cp);
}

result<AuditVerification> Vault::verify_audit(const std::optional<AuditCheckpoint>& against) const {
  CONSENTRY_TRY(impl_->flush());
  std::lock_guard lock(impl_->store_mu);
  return verify_audit_log(*impl_->store, impl_->signer.public_key(), against);
}

}  // namespace consentry
