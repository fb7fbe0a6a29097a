// keyring.hpp: the master key (from a passphrase, Argon2id), per-customer data keys wrapped
// under it, field sealing, and keys derived for purposes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// KdfStrength picks Argon2id limits: minimum (tests only), interactive (default), moderate,
/// sensitive, after libsodium's crypto_pwhash_*_{MIN,INTERACTIVE,MODERATE,SENSITIVE}.
enum class KdfStrength { minimum, interactive, moderate, sensitive };

/// KdfParams are stored in the vault so that the passphrase key can be derived again.
struct KdfParams {
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit = 0;
  bytes salt;  ///< crypto_pwhash_SALTBYTES random bytes
};

/// SealedMasterKey is what a vault stores of its master key: the KDF parameters, the version,
/// and the key wrapped under the passphrase key.
struct SealedMasterKey {
  KdfParams kdf;
  std::uint32_t version = 1;
  bytes wrapped;
};

/// Keyring holds an unlocked master key. Not copyable; the key lives in SecretBytes.
class Keyring {
 public:
  /// kDataKeyBytes is the size of a customer data key.
  static constexpr std::size_t kDataKeyBytes = 32;

  /// create makes a random master key (version 1) and seals it under `passphrase`.
  /// errc::invalid_argument for an empty passphrase.
  static result<Keyring> create(std::string_view passphrase, KdfStrength strength, SealedMasterKey& sealed_out);
  /// unlock derives the passphrase key and unwraps the master key. errc::integrity when the
  /// passphrase is wrong or the sealed key was altered.
  static result<Keyring> unlock(std::string_view passphrase, const SealedMasterKey& sealed);

  /// version is the master key version that wraps new data keys.
  std::uint32_t version() const noexcept { return version_; }

  /// new_data_key draws a random data key.
  static SecretBytes new_data_key();
  /// wrap_data_key seals `dek` under the master key, bound to `customer` and version().
  result<bytes> wrap_data_key(std::string_view customer, const SecretBytes& dek) const;
  /// unwrap_data_key opens a wrapped data key; errc::integrity if it was wrapped for another
  /// customer or version, or altered.
  result<SecretBytes> unwrap_data_key(std::string_view customer, std::uint32_t version, byte_view wrapped) const;

  /// derive_key derives a 32-byte key for `label` (e.g. "pseudonym/analytics", "audit/customer").
  SecretBytes derive_key(std::string_view label) const;

 private:
  Keyring(std::uint32_t version, SecretBytes master) : version_(version), master_(std::move(master)) {}
  std::uint32_t version_ = 1;
  SecretBytes master_;
};

/// kFieldSealVersion is the sealing scheme version bound into every field's associated data.
inline constexpr std::uint32_t kFieldSealVersion = 1;

/// seal_field encrypts `value` of `field` for `customer` under their data key; the associated
/// data binds customer, field and kFieldSealVersion, so the result cannot be moved elsewhere.
result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value);
/// open_field reverses seal_field; errc::integrity (naming the field, not the value) when the
/// sealed bytes were altered, moved from another field or customer, or the key is wrong.
result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed);

}  // namespace consentry
