// vault.cpp: Vault, Accessor and View: every read decides first and decrypts only what is allowed.
#include "consentry/vault.hpp"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "consentry/aead.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"

namespace consentry {
namespace {

// Metadata rows of a vault. The policy is sealed under a key derived from the master key, so a
// policy edited in the file (to grant an accessor more) fails authentication at open.
constexpr std::string_view kMetaKdfOps = "kdf.opslimit";
constexpr std::string_view kMetaKdfMem = "kdf.memlimit";
constexpr std::string_view kMetaKdfSalt = "kdf.salt";
constexpr std::string_view kMetaMasterVersion = "master.version";
constexpr std::string_view kMetaMasterWrapped = "master.wrapped";
constexpr std::string_view kMetaPolicy = "policy.sealed";
constexpr std::string_view kPolicyKeyLabel = "policy";
constexpr std::string_view kPseudonymKeyPrefix = "pseudonym/";

constexpr std::size_t kMaxCustomerIdBytes = 128;
constexpr std::size_t kMaxDetailBytes = 256;
constexpr std::string_view kDefaultSource = "import";

bytes text_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

std::string bytes_text(const bytes& b) { return std::string(b.begin(), b.end()); }

result<bytes> required_meta(Store& store, std::string_view key) {
  auto v = store.get_meta(key);
  if (!v) return std::move(v).err();
  if (!*v) return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is missing");
  return std::move(**v);
}

result<std::uint64_t> required_number(Store& store, std::string_view key) {
  auto b = required_meta(store, key);
  if (!b) return std::move(b).err();
  std::string text = bytes_text(*b);
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size())
    return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is damaged");
  return n;
}

// check_text refuses empty, over-long or control-character identifiers; names `what`, not the text.
result<void> check_identifier(std::string_view what, std::string_view text, std::size_t max_bytes) {
  if (text.empty()) return make_error(errc::invalid_argument, std::string(what) + " is empty");
  if (text.size() > max_bytes)
    return make_error(errc::invalid_argument,
                      std::string(what) + " is longer than " + std::to_string(max_bytes) + " bytes");
  auto n = normalise_value(FieldType::string, what, text);
  if (!n) return make_error(errc::invalid_argument, std::string(what) + " is not valid UTF-8");
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7f)
      return make_error(errc::invalid_argument, std::string(what) + " contains a control character");
  return ok();
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

}  // namespace

struct Vault::Impl {
  std::unique_ptr<Store> store;
  Policy policy;
  Keyring keyring;
  VaultOptions options;
  // Unwrapped data keys; bounded, and wiped (SecretBytes) when dropped.
  mutable std::unordered_map<std::string, SecretBytes> data_keys;
  mutable std::unordered_map<std::string, SecretBytes> purpose_keys;
  SecretBytes no_key;

  Impl(std::unique_ptr<Store> s, Policy p, Keyring k, VaultOptions o)
      : store(std::move(s)), policy(std::move(p)), keyring(std::move(k)), options(std::move(o)) {}

  timestamp now() const { return options.clock ? options.clock() : consentry::now(); }

  // cache_data_key keeps `key`, dropping (and so wiping) every cached key when the cache is full.
  // The reference stays valid until the next call that caches a key.
  const SecretBytes& cache_data_key(const std::string& customer, SecretBytes key) const {
    if (data_keys.size() >= std::max<std::size_t>(options.key_cache_size, 1)) data_keys.clear();
    return data_keys.insert_or_assign(customer, std::move(key)).first->second;
  }

  // data_key returns the customer's unwrapped data key, nullptr when they have none.
  result<const SecretBytes*> data_key(const std::string& customer) const {
    if (auto it = data_keys.find(customer); it != data_keys.end()) return &it->second;
    auto row = store->get_key(customer);
    if (!row) return std::move(row).err();
    if (!*row) return static_cast<const SecretBytes*>(nullptr);
    auto key = keyring.unwrap_data_key(customer, (*row)->version, (*row)->wrapped);
    if (!key) return make_error(errc::integrity, "the customer's data key failed authentication");
    return &cache_data_key(customer, std::move(*key));
  }

  const SecretBytes& purpose_key(const std::string& purpose) const {
    auto it = purpose_keys.find(purpose);
    if (it == purpose_keys.end())
      it = purpose_keys.emplace(purpose, keyring.derive_key(std::string(kPseudonymKeyPrefix) + purpose)).first;
    return it->second;
  }

  result<ConsentState> consent_state(std::string_view customer) const {
    auto history = store->consent_history(customer);
    if (!history) return std::move(history).err();
    return ConsentState::from_history(*history);
  }
};

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::Vault(Vault&&) noexcept = default;
Vault& Vault::operator=(Vault&&) noexcept = default;
Vault::~Vault() = default;

const Policy& Vault::policy() const { return impl_->policy; }
timestamp Vault::now() const { return impl_->now(); }

result<Vault> Vault::create_in(std::unique_ptr<Store> store, const Policy& policy, std::string_view passphrase,
                               VaultOptions options) {
  if (!store) return make_error(errc::invalid_argument, "no store");
  SealedMasterKey sealed;
  auto keyring = Keyring::create(passphrase, options.kdf, sealed);
  if (!keyring) return std::move(keyring).err();
  auto policy_key = keyring->derive_key(kPolicyKeyLabel);
  auto policy_text = policy.to_json();
  auto sealed_policy = aead::seal(policy_key, as_bytes(policy_text), aead::associated_data({kMetaPolicy}));
  if (!sealed_policy) return std::move(sealed_policy).err();

  auto txn = Transaction::start(*store);
  if (!txn) return std::move(txn).err();
  CONSENTRY_TRY(store->put_meta(kMetaKdfOps, text_bytes(std::to_string(sealed.kdf.opslimit))));
  CONSENTRY_TRY(store->put_meta(kMetaKdfMem, text_bytes(std::to_string(sealed.kdf.memlimit))));
  CONSENTRY_TRY(store->put_meta(kMetaKdfSalt, sealed.kdf.salt));
  CONSENTRY_TRY(store->put_meta(kMetaMasterVersion, text_bytes(std::to_string(sealed.version))));
  CONSENTRY_TRY(store->put_meta(kMetaMasterWrapped, sealed.wrapped));
  CONSENTRY_TRY(store->put_meta(kMetaPolicy, *sealed_policy));
  CONSENTRY_TRY(txn->commit());
  return Vault(std::make_unique<Impl>(std::move(store), policy, std::move(*keyring), std::move(options)));
}

result<Vault> Vault::open_in(std::unique_ptr<Store> store, std::string_view passphrase, VaultOptions options) {
  if (!store) return make_error(errc::invalid_argument, "no store");
  SealedMasterKey sealed;
  auto ops = required_number(*store, kMetaKdfOps);
  if (!ops) return std::move(ops).err();
  auto mem = required_number(*store, kMetaKdfMem);
  if (!mem) return std::move(mem).err();
  auto salt = required_meta(*store, kMetaKdfSalt);
  if (!salt) return std::move(salt).err();
  auto version = required_number(*store, kMetaMasterVersion);
  if (!version) return std::move(version).err();
  auto wrapped = required_meta(*store, kMetaMasterWrapped);
  if (!wrapped) return std::move(wrapped).err();
  if (*version == 0 || *version > UINT32_MAX) return make_error(errc::integrity, "vault metadata 'master.version' is damaged");
  sealed.kdf = KdfParams{*ops, *mem, std::move(*salt)};
  sealed.version = static_cast<std::uint32_t>(*version);
  sealed.wrapped = std::move(*wrapped);

  auto keyring = Keyring::unlock(passphrase, sealed);
  if (!keyring) return std::move(keyring).err();

  auto sealed_policy = required_meta(*store, kMetaPolicy);
  if (!sealed_policy) return std::move(sealed_policy).err();
  auto policy_text = aead::open(keyring->derive_key(kPolicyKeyLabel), *sealed_policy,
                                aead::associated_data({kMetaPolicy}));
  if (!policy_text) return make_error(errc::integrity, "the vault's policy failed authentication");
  auto policy = Policy::parse(policy_text->reveal_string(), "vault policy");
  if (!policy) return make_error(errc::integrity, policy.err().message);
  return Vault(std::make_unique<Impl>(std::move(store), std::move(*policy), std::move(*keyring), std::move(options)));
}

result<Vault> Vault::create(const std::filesystem::path& file, const Policy& policy, std::string_view passphrase,
                            VaultOptions options) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  auto store = open_sqlite_store(file, StoreMode::create);
  if (!store) return std::move(store).err();
  auto vault = create_in(std::move(*store), policy, passphrase, std::move(options));
  if (!vault) {
    // Leave nothing half-made behind: the file did not exist before this call.
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      std::filesystem::remove(file.string() + suffix, ec);
  }
  return vault;
}

result<Vault> Vault::open(const std::filesystem::path& file, std::string_view passphrase, VaultOptions options) {
  auto store = open_sqlite_store(file, StoreMode::open);
  if (!store) return std::move(store).err();
  return open_in(std::move(*store), passphrase, std::move(options));
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

result<void> Vault::write(const std::vector<Record>& records, std::string_view origin) {
  const timestamp now = impl_->now();
  // Validate everything before writing anything, so a bad record changes nothing.
  struct Pending {
    const Record* record;
    std::vector<std::pair<const FieldSpec*, std::string>> values;  // normalised
  };
  std::vector<Pending> pending;
  pending.reserve(records.size());
  for (const Record& r : records) {
    const std::string at = located(origin, r.line);
    if (auto c = check_identifier("customer id", r.customer, kMaxCustomerIdBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    const std::string source = r.source.empty() ? std::string(kDefaultSource) : r.source;
    if (auto c = check_identifier("source", source, kMaxDetailBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    if (r.collected_at && *r.collected_at > now + std::chrono::days(1))
      return make_error(errc::bad_input, at + "collected_at is in the future");
    Pending p{&r, {}};
    bool needs_profiling = false;
    for (const auto& [name, value] : r.fields) {
      const FieldSpec* f = impl_->policy.field(name);
      if (!f) return make_error(errc::bad_input, at + "field '" + name + "' is not declared in the policy");
      auto v = normalise_value(f->type, name, value);
      if (!v) return make_error(errc::bad_input, at + v.err().message);
      if (!f->sources.empty() &&
          std::find(f->sources.begin(), f->sources.end(), source) == f->sources.end())
        return make_error(errc::denied,
                          at + "field '" + name + "' does not accept values from source '" + source + "'",
                          deny_reason::source_not_permitted);
      needs_profiling = needs_profiling || f->is_inferred();
      p.values.emplace_back(f, std::move(*v));
    }
    if (needs_profiling) {
      auto state = impl_->consent_state(r.customer);
      if (!state) return std::move(state).err();
      if (state->status(Policy::kProfilingPurpose, now) != ConsentStatus::granted)
        return make_error(errc::denied, at + "inferred fields need the customer's consent to profiling",
                          deny_reason::inference_needs_profiling);
    }
    pending.push_back(std::move(p));
  }

  Store& store = *impl_->store;
  auto txn = Transaction::start(store);
  if (!txn) return std::move(txn).err();
  // Data keys made in this transaction are cached only after it commits.
  std::unordered_map<std::string, SecretBytes> new_keys;
  for (const Pending& p : pending) {
    const Record& r = *p.record;
    const SecretBytes* dek = nullptr;
    if (auto it = new_keys.find(r.customer); it != new_keys.end()) {
      dek = &it->second;
    } else {
      auto existing = impl_->data_key(r.customer);
      if (!existing) return std::move(existing).err();
      dek = *existing;
      if (!dek) {
        SecretBytes key = Keyring::new_data_key();
        auto wrapped = impl_->keyring.wrap_data_key(r.customer, key);
        if (!wrapped) return std::move(wrapped).err();
        CONSENTRY_TRY(store.put_key(StoredKey{r.customer, impl_->keyring.version(), std::move(*wrapped)}));
        dek = &new_keys.emplace(r.customer, std::move(key)).first->second;
      }
    }
    StoredField sf;
    sf.customer = r.customer;
    sf.source = r.source.empty() ? std::string(kDefaultSource) : r.source;
    sf.collected_at = r.collected_at.value_or(now);
    for (const auto& [spec, value] : p.values) {
      auto sealed = seal_field(*dek, r.customer, spec->name, value);
      if (!sealed) return std::move(sealed).err();
      sf.field = spec->name;
      sf.sealed = std::move(*sealed);
      CONSENTRY_TRY(store.put_field(sf));
    }
  }
  CONSENTRY_TRY(txn->commit());
  for (auto& [customer, key] : new_keys) impl_->cache_data_key(customer, std::move(key));
  return ok();
}

result<ConsentEvent> Vault::record_consent(std::string_view customer, std::string_view purpose,
                                           ConsentAction action, const ConsentDetails& details) {
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_detail("channel", details.channel); !c) return std::move(c).err();
  if (auto c = check_detail("notice", details.notice); !c) return std::move(c).err();
  const Purpose* p = impl_->policy.purpose(purpose);
  if (!p) return make_error(errc::bad_input, "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const std::string basis(to_string(p->basis));
  if (action != ConsentAction::object && p->basis != Basis::consent)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ", not consent: there is no consent to " +
                                           (action == ConsentAction::grant ? "grant" : "withdraw"));
  if (action == ConsentAction::object && p->basis != Basis::legitimate_interest && p->basis != Basis::public_task)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ": only legitimate interest and public task can be objected to" +
                                           (p->basis == Basis::consent ? " (withdraw consent instead)" : ""));
  ConsentEvent e;
  e.customer = std::string(customer);
  e.purpose = p->id;
  e.action = action;
  e.at = details.at.value_or(impl_->now());
  e.channel = details.channel;
  e.notice = details.notice;
  if (action == ConsentAction::grant && p->consent_valid_for) e.expires_at = p->consent_valid_for->after(e.at);
  // A single append is atomic on its own; the ledger takes effect for the next read at once.
  return impl_->store->append_consent(e);
}

result<std::vector<ConsentEvent>> Vault::consent_history(std::string_view customer) const {
  return impl_->store->consent_history(customer);
}

result<ConsentState> Vault::consent_state(std::string_view customer) const { return impl_->consent_state(customer); }

result<bool> Vault::contains(std::string_view customer) const { return impl_->store->knows(customer); }

result<std::vector<std::string>> Vault::customers() const { return impl_->store->customers(); }

result<View> Accessor::view(std::string_view customer, std::string_view purpose) const {
  const Policy& policy = vault_->policy;
  if (!policy.purpose(purpose))
    return make_error(errc::denied, "purpose '" + std::string(purpose) + "' is not declared in the policy",
                      deny_reason::unknown_purpose);
  if (!policy.accessor_may_use(id_, purpose))
    return make_error(errc::denied,
                      "accessor '" + id_ + "' is not registered for purpose '" + std::string(purpose) + "'",
                      deny_reason::accessor_not_registered);
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  return View(vault_, id_, std::string(customer), std::string(purpose));
}

result<FieldValue> View::get(std::string_view field) const {
  const Vault::Impl& v = *vault_;
  const timestamp now = v.now();
  // Decide with the ledger as committed now: a view opened before a withdrawal sees it.
  auto state = v.consent_state(customer_);
  if (!state) return std::move(state).err();
  const Decision d = decide(v.policy, *state, accessor_, purpose_, field, now);
  auto denied = [&](deny_reason reason) {
    return make_error(errc::denied,
                      "field '" + std::string(field) + "' denied for purpose '" + purpose_ + "': " +
                          std::string(to_string(reason)),
                      reason);
  };
  if (!d.allowed) return denied(d.reason);

  auto stored = v.store->get_field(customer_, field);
  if (!stored) return std::move(stored).err();
  if (!*stored) return make_error(errc::not_found, "the customer has no value for field '" + std::string(field) + "'");
  const FieldSpec& spec = *v.policy.field(field);
  // Past retention the value is refused before it is decrypted, even if not yet purged.
  if (spec.retention && spec.retention->after((*stored)->collected_at) <= now) return denied(deny_reason::retention_expired);

  auto key = v.data_key(customer_);
  if (!key) return std::move(key).err();
  if (!*key) return make_error(errc::integrity, "field '" + std::string(field) + "' is stored without a data key");
  auto plain = open_field(**key, customer_, field, (*stored)->sealed);
  if (!plain) return std::move(plain).err();
  const SecretBytes& purpose_key = d.form.kind == FormKind::pseudonym ? v.purpose_key(purpose_) : v.no_key;
  auto shown = apply_form(d.form, spec.type, plain->reveal_string(), purpose_key);
  if (!shown) return std::move(shown).err();
  return FieldValue{std::string(field), std::move(*shown), d.form};
}

}  // namespace consentry
