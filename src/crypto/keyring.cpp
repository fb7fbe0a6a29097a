// keyring.cpp: the passphrase-sealed master key, wrapped data keys, derived keys and field sealing.
#include "consentry/keyring.hpp"

#include <sodium.h>

#include <cstdlib>
#include <string>
#include <utility>

#include "consentry/aead.hpp"

namespace consentry {

static_assert(Keyring::kDataKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
              "data keys are XChaCha20-Poly1305 keys");

namespace {

// The master key is an AEAD key: it wraps data keys directly.
constexpr std::size_t kMasterKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr std::string_view kWrongPassphrase = "wrong passphrase or damaged master key";

struct KdfLimits {
  std::uint64_t opslimit;
  std::uint64_t memlimit;
};

// The algorithm is pinned to Argon2id, so its own limits apply rather than crypto_pwhash's
// defaults, which could follow a different algorithm in another libsodium release.
KdfLimits limits_for(KdfStrength strength) {
  switch (strength) {
    case KdfStrength::minimum:
      return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
    case KdfStrength::interactive:
      return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
    case KdfStrength::moderate:
      return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
    case KdfStrength::sensitive:
      return {crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};
  }
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

// kdf_params_valid rejects stored parameters that libsodium would refuse, or that an attacker
// could have set to make unlocking cost unbounded work.
bool kdf_params_valid(const KdfParams& kdf) {
  return kdf.salt.size() == crypto_pwhash_argon2id_SALTBYTES &&
         kdf.opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
         kdf.opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX &&
         kdf.memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
         kdf.memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

// passphrase_key runs Argon2id over the passphrase. Returns false when Argon2id cannot run
// (typically it could not allocate memlimit bytes).
bool passphrase_key(std::string_view passphrase, const KdfParams& kdf, SecretBytes& key_out) {
  key_out = SecretBytes(kMasterKeyBytes);
  return crypto_pwhash(key_out.reveal().data(), key_out.size(), passphrase.data(), passphrase.size(),
                       kdf.salt.data(), kdf.opslimit, static_cast<std::size_t>(kdf.memlimit),
                       crypto_pwhash_ALG_ARGON2ID13) == 0;
}

bytes master_ad(std::uint32_t version) {
  const std::string v = std::to_string(version);
  return aead::associated_data({"master", v});
}

bytes data_key_ad(std::string_view customer, std::uint32_t version) {
  const std::string v = std::to_string(version);
  return aead::associated_data({"data-key", customer, v});
}

bytes field_ad(std::string_view customer, std::string_view field) {
  const std::string v = std::to_string(kFieldSealVersion);
  return aead::associated_data({"field", customer, field, v});
}

}  // namespace

result<Keyring> Keyring::create(std::string_view passphrase, KdfStrength strength,
                                SealedMasterKey& sealed_out) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");

  const KdfLimits limits = limits_for(strength);
  KdfParams kdf;
  kdf.opslimit = limits.opslimit;
  kdf.memlimit = limits.memlimit;
  kdf.salt.resize(crypto_pwhash_argon2id_SALTBYTES);
  randombytes_buf(kdf.salt.data(), kdf.salt.size());

  SecretBytes pass_key;
  if (!passphrase_key(passphrase, kdf, pass_key))
    return make_error(errc::internal, "Argon2id could not derive the passphrase key (out of memory?)");

  constexpr std::uint32_t kFirstVersion = 1;
  SecretBytes master = SecretBytes::random(kMasterKeyBytes);
  auto wrapped = aead::seal(pass_key, master.reveal(), master_ad(kFirstVersion));
  if (!wrapped) return std::move(wrapped).err();

  sealed_out = SealedMasterKey{std::move(kdf), kFirstVersion, std::move(wrapped).value()};
  return Keyring(kFirstVersion, std::move(master));
}

result<Keyring> Keyring::unlock(std::string_view passphrase, const SealedMasterKey& sealed) {
  if (passphrase.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  if (!kdf_params_valid(sealed.kdf))
    return make_error(errc::integrity, "master key KDF parameters are out of range (damaged vault?)");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");

  SecretBytes pass_key;
  if (!passphrase_key(passphrase, sealed.kdf, pass_key))
    return make_error(errc::internal, "Argon2id could not derive the passphrase key (out of memory?)");

  auto master = aead::open(pass_key, sealed.wrapped, master_ad(sealed.version));
  if (!master || master->size() != kMasterKeyBytes)
    return make_error(errc::integrity, std::string(kWrongPassphrase));
  return Keyring(sealed.version, std::move(master).value());
}

SecretBytes Keyring::new_data_key() {
  return SecretBytes::random(kDataKeyBytes);
}

result<bytes> Keyring::wrap_data_key(std::string_view customer, const SecretBytes& dek) const {
  if (dek.size() != kDataKeyBytes) return make_error(errc::invalid_argument, "data key has the wrong size");
  return aead::seal(master_, dek.reveal(), data_key_ad(customer, version_));
}

result<SecretBytes> Keyring::unwrap_data_key(std::string_view customer, std::uint32_t version,
                                             byte_view wrapped) const {
  // The customer id stays out of the message: the caller knows it, and logs need not.
  auto dek = aead::open(master_, wrapped, data_key_ad(customer, version));
  if (!dek || dek->size() != kDataKeyBytes)
    return make_error(errc::integrity, "wrapped data key failed authentication");
  return dek;
}

SecretBytes Keyring::derive_key(std::string_view label) const {
  // Keyed BLAKE2b (crypto_generichash) is a PRF over arbitrary-length input, so any label string
  // names its own key; crypto_kdf would need labels squeezed into a 64-bit id and 8-byte context.
  // The fixed prefix separates derived keys from any other use of the master key.
  static_assert(crypto_generichash_BYTES == aead::kKeyBytes);
  static_assert(kMasterKeyBytes >= crypto_generichash_KEYBYTES_MIN &&
                kMasterKeyBytes <= crypto_generichash_KEYBYTES_MAX);
  constexpr std::string_view kPrefix = "consentry/v1/derive/";
  // An empty master (a moved-from Keyring) would silently give an unkeyed hash: refuse outright.
  if (master_.size() != kMasterKeyBytes) std::abort();
  SecretBytes out(crypto_generichash_BYTES);
  crypto_generichash_state state;
  crypto_generichash_init(&state, master_.reveal().data(), master_.size(), out.size());
  crypto_generichash_update(&state, as_bytes(kPrefix).data(), kPrefix.size());
  crypto_generichash_update(&state, as_bytes(label).data(), label.size());
  crypto_generichash_final(&state, out.reveal().data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value) {
  return aead::seal(dek, as_bytes(value), field_ad(customer, field));
}

result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed) {
  auto value = aead::open(dek, sealed, field_ad(customer, field));
  if (!value) return make_error(errc::integrity, "field '" + std::string(field) + "' failed authentication");
  return value;
}

}  // namespace consentry
