// key_cache.hpp: KeyCache, the keys a vault keeps in memory between calls: unwrapped data keys,
// keys derived from the keyring's root, the FF1 tokeniser, and what each keyed form needs
// (private).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "crypto/keyring.hpp"

namespace consentry {

/// KeyCache holds a vault's keys in memory, wiped (SecretBytes) when dropped. It is not
/// thread-safe: the vault uses it with its store mutex held. References it gives stay valid as
/// documented per call.
class KeyCache {
 public:
  /// KeyCache derives keys from `keyring`, which must outlive it (the keyring may be reloaded in
  /// place), and keeps at most `capacity` data keys (at least one).
  KeyCache(const Keyring& keyring, std::size_t capacity);
  KeyCache(const KeyCache&) = delete;
  KeyCache& operator=(const KeyCache&) = delete;

  /// find_data_key gives the cached data key of `customer`, or nullptr when none is cached.
  /// The pointer is valid until the next call that keeps or forgets a data key.
  const SecretBytes* find_data_key(const std::string& customer) const;
  /// keep_data_key caches `key` as `customer`'s data key; when the cache is full every cached
  /// key is dropped (and so wiped) first. The reference is valid until the next call that keeps
  /// or forgets a data key.
  const SecretBytes& keep_data_key(const std::string& customer, SecretBytes key);
  /// forget_data_key drops (and wipes) `customer`'s data key, if cached.
  void forget_data_key(const std::string& customer);
  /// forget_all_data_keys drops (and wipes) every cached data key.
  void forget_all_data_keys() noexcept { data_keys_.clear(); }

  /// derived_key derives (once) and caches the keyring's key for `label`; valid while the
  /// KeyCache lives.
  const SecretBytes& derived_key(const std::string& label);
  /// form_keys gives what `form` needs for `field` under `purpose`: the purpose's pseudonym key,
  /// the HMAC pseudonym key, or the tokeniser and the field's tweak. `tweak` holds the tweak the
  /// keys point into and must outlive them. Fails only as token_cipher() does.
  result<FormKeys> form_keys(const Form& form, const std::string& purpose, std::string_view field,
                             std::string& tweak);
  /// token_cipher gives the vault's Tokeniser, keyed at first use; the error of
  /// Tokeniser::create when it cannot be keyed.
  result<const Tokeniser*> token_cipher();
  /// token_tweak is the FF1 tweak of `field`: one value gives different tokens in two fields.
  static std::string token_tweak(std::string_view field);

 private:
  const Keyring& keyring_;
  std::size_t capacity_;
  std::unordered_map<std::string, SecretBytes> data_keys_;  // unwrapped, bounded by capacity_
  std::unordered_map<std::string, SecretBytes> derived_;    // by label
  std::unique_ptr<Tokeniser> tokeniser_;                    // made at the first token
};

}  // namespace consentry
