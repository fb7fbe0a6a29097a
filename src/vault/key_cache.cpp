// key_cache.cpp: the keys a vault keeps in memory: data keys, derived keys, the tokeniser.
#include "vault/key_cache.hpp"

#include <algorithm>

namespace consentry {
namespace {

// Labels of the keys derived from the keyring's root for forms (vault.cpp has the others).
constexpr std::string_view kPseudonymKeyPrefix = "pseudonym/";
constexpr std::string_view kHmacPseudonymKeyPrefix = "pseudonym/hmac-sha256/";
constexpr std::string_view kTokenKeyLabel = "token/ff1";
constexpr std::string_view kTokenTweakPrefix = "consentry/token/";

}  // namespace

KeyCache::KeyCache(const Keyring& keyring, std::size_t capacity)
    : keyring_(keyring), capacity_(std::max<std::size_t>(capacity, 1)) {}

const SecretBytes* KeyCache::find_data_key(const std::string& customer) const {
  std::lock_guard lock(data_mu_);
  auto it = data_keys_.find(customer);
  return it == data_keys_.end() ? nullptr : it->second.key.get();
}

std::shared_ptr<const SecretBytes> KeyCache::share_data_key(const std::string& customer) const {
  std::lock_guard lock(data_mu_);
  auto it = data_keys_.find(customer);
  return it == data_keys_.end() ? nullptr : it->second.key;
}

std::shared_ptr<const VouchedRows> KeyCache::vouched_rows(const std::string& customer,
                                                          const SecretBytes* key) const {
  std::lock_guard lock(data_mu_);
  auto it = data_keys_.find(customer);
  if (it == data_keys_.end() || it->second.key.get() != key) return nullptr;
  return it->second.vouched;
}

void KeyCache::keep_vouched_rows(const std::string& customer, const SecretBytes* key,
                                 std::shared_ptr<const VouchedRows> rows) {
  std::lock_guard lock(data_mu_);
  auto it = data_keys_.find(customer);
  if (it != data_keys_.end() && it->second.key.get() == key) it->second.vouched = std::move(rows);
}

std::shared_ptr<SecretBytes>& KeyCache::keep_locked(const std::string& customer, SecretBytes key) {
  // When full, every cached key is dropped: wiped now unless a reader shares it, then when the
  // last one lets it go.
  if (data_keys_.size() >= capacity_) data_keys_.clear();
  return data_keys_
      .insert_or_assign(customer, CachedKey{std::make_shared<SecretBytes>(std::move(key)), nullptr})
      .first->second.key;
}

const SecretBytes& KeyCache::keep_data_key(const std::string& customer, SecretBytes key) {
  std::lock_guard lock(data_mu_);
  return *keep_locked(customer, std::move(key));
}

std::shared_ptr<const SecretBytes> KeyCache::keep_shared_data_key(const std::string& customer,
                                                                  SecretBytes key) {
  std::lock_guard lock(data_mu_);
  return keep_locked(customer, std::move(key));
}

void KeyCache::forget_data_key(const std::string& customer) {
  std::lock_guard lock(data_mu_);
  data_keys_.erase(customer);
}

void KeyCache::forget_all_data_keys() noexcept {
  std::lock_guard lock(data_mu_);
  data_keys_.clear();
}

const SecretBytes& KeyCache::derived_key(const std::string& label) {
  std::lock_guard lock(derived_mu_);
  return derived_key_locked(label);
}

const SecretBytes& KeyCache::derived_key_locked(const std::string& label) {
  auto it = derived_.find(label);
  if (it == derived_.end()) it = derived_.emplace(label, keyring_.derive_key(label)).first;
  return it->second;
}

std::string KeyCache::token_tweak(std::string_view field) {
  return std::string(kTokenTweakPrefix) + std::string(field);
}

result<const Tokeniser*> KeyCache::token_cipher() {
  std::lock_guard lock(derived_mu_);
  if (!tokeniser_) {
    // A 32-byte derived key: AES-256. One key for the vault; the tweak separates the fields.
    auto made = Tokeniser::create(derived_key_locked(std::string(kTokenKeyLabel)));
    if (!made) return std::move(made).err();
    tokeniser_ = std::make_unique<Tokeniser>(std::move(*made));
  }
  return tokeniser_.get();
}

result<FormKeys> KeyCache::form_keys(const Form& form, const std::string& purpose, std::string_view field,
                                     std::string& tweak) {
  FormKeys keys;
  switch (form.kind) {
    case FormKind::pseudonym:
      keys.purpose_key = &derived_key(std::string(kPseudonymKeyPrefix) + purpose);
      break;
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

}  // namespace consentry
