// key_cache.hpp: KeyCache, the keys a vault keeps in memory between calls: unwrapped data keys,
// keys derived from the keyring's root, the FF1 tokeniser, and what each keyed form needs
// (private).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "crypto/keyring.hpp"
#include "vault/manifest.hpp"

namespace consentry {

/// KeyCache holds a vault's keys in memory, wiped (SecretBytes) when dropped. Each call is safe
/// beside any other; the pointers and references it gives stay valid as documented per call,
/// which for data keys means while no other thread keeps or forgets one: a vault hands those
/// out only with its store mutex held alone, and its readers that hold it shared take shared
/// data keys (share_data_key, keep_shared_data_key), which outlive their eviction.
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
  /// share_data_key is find_data_key for a caller beside which other threads may keep or forget
  /// data keys: the key stays alive (and unwiped) as long as the caller holds it.
  std::shared_ptr<const SecretBytes> share_data_key(const std::string& customer) const;
  /// keep_shared_data_key is keep_data_key for such a caller.
  std::shared_ptr<const SecretBytes> keep_shared_data_key(const std::string& customer, SecretBytes key);
  /// vouched_rows gives what `customer`'s manifest vouched for under `key` (VouchedRows), kept
  /// with their cached data key; nullptr unless `key` is that cached key and something was kept.
  /// The caller holds `key`, so the key it compares with is the same object, not one at its
  /// address since.
  std::shared_ptr<const VouchedRows> vouched_rows(const std::string& customer, const SecretBytes* key) const;
  /// keep_vouched_rows keeps `rows` with `customer`'s cached data key, if that is still `key`;
  /// dropped with the key, and replaced when another key is kept for the customer.
  void keep_vouched_rows(const std::string& customer, const SecretBytes* key,
                         std::shared_ptr<const VouchedRows> rows);
  /// forget_data_key drops `customer`'s data key, if cached: wiped now, or once the last
  /// reader sharing it lets it go.
  void forget_data_key(const std::string& customer);
  /// forget_all_data_keys drops every cached data key, wiped as forget_data_key says.
  void forget_all_data_keys() noexcept;

  /// derived_key derives (once) and caches the keyring's key for `label`; valid while the
  /// KeyCache lives (derived keys are never dropped).
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
  // derived_key with derived_mu_ held.
  const SecretBytes& derived_key_locked(const std::string& label);
  // keep_data_key's insertion, data_mu_ held.
  std::shared_ptr<SecretBytes>& keep_locked(const std::string& customer, SecretBytes key);
  // CachedKey is a data key and what its customer's manifest vouched for under it.
  struct CachedKey {
    std::shared_ptr<SecretBytes> key;
    std::shared_ptr<const VouchedRows> vouched;
  };

  const Keyring& keyring_;
  std::size_t capacity_;
  mutable std::mutex data_mu_;                            // guards data_keys_
  std::unordered_map<std::string, CachedKey> data_keys_;  // unwrapped, bounded by capacity_
  std::mutex derived_mu_;                                 // guards derived_ and tokeniser_
  std::unordered_map<std::string, SecretBytes> derived_;  // by label
  std::unique_ptr<Tokeniser> tokeniser_;                  // made at the first token
};

}  // namespace consentry
