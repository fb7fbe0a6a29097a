// keyring.hpp: the versioned master key, per-customer data keys wrapped under it, field
// sealing, and keys derived for purposes.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// DataKeyFormat says what a wrapped data key's associated data vouches for besides the customer
/// and the master key version.
enum class DataKeyFormat : std::uint8_t {
  /// unlisted: wrapped before customers' values had a manifest (a key of an older vault).
  unlisted = 1,
  /// listed: the customer's values are listed in a manifest (manifest.hpp in src/vault), so a
  /// missing manifest is tampering, not the mark of an older vault.
  listed = 2,
};

/// UnwrappedDataKey is an opened data key and the format it was wrapped in.
struct UnwrappedDataKey {
  SecretBytes key;
  DataKeyFormat format = DataKeyFormat::listed;
};

/// Keyring holds the unlocked master key versions of a vault and the root its derived keys come
/// from. New data keys are wrapped under the current (highest) version; a wrapped data key opens
/// under the version its row names. The derivation root is a secret of its own, not a master
/// key version, so pseudonyms and the keys sealing the policy and the audit signing key stay
/// the same across rotations, and retiring a version destroys nothing that derived keys need.
/// How master key versions are sealed for storage is a KeyProvider's business
/// (key_provider.hpp). Not copyable; every key lives in SecretBytes.
class Keyring {
 public:
  /// kDataKeyBytes is the size of a customer data key.
  static constexpr std::size_t kDataKeyBytes = 32;
  /// kMasterKeyBytes is the size of a master key version (an XChaCha20-Poly1305 key).
  static constexpr std::size_t kMasterKeyBytes = 32;

  /// MasterKey is one unsealed master key version.
  struct MasterKey {
    std::uint32_t version = 0;
    SecretBytes key;
  };

  /// generate makes a keyring with a random master key, version 1, and a random derivation root.
  static Keyring generate();
  /// assemble rebuilds a keyring from unsealed master key versions and the root sealed by
  /// seal_root() under version `root_version`. errc::integrity when a key has the wrong size, a
  /// version repeats or is 0, `current` or `root_version` is not among `masters`, or the root
  /// fails authentication.
  static result<Keyring> assemble(std::vector<MasterKey> masters, std::uint32_t current,
                                  std::uint32_t root_version, byte_view sealed_root);

  /// version is the master key version that wraps new data keys.
  std::uint32_t version() const noexcept { return current_; }
  /// versions lists the versions held, ascending.
  std::vector<std::uint32_t> versions() const;
  /// master_key is version `version`'s key, for a KeyProvider to seal; nullptr when not held.
  const SecretBytes* master_key(std::uint32_t version) const;
  /// add_version makes a random master key numbered one above the highest held, and returns its
  /// number. It wraps nothing until make_current() makes it the current version.
  std::uint32_t add_version();
  /// make_current makes a held version current. errc::not_found for one not held.
  result<void> make_current(std::uint32_t version);
  /// drop_version wipes version `version`. errc::invalid_argument for the current version,
  /// errc::not_found for one not held.
  result<void> drop_version(std::uint32_t version);
  /// seal_root wraps the derivation root under held version `version` (bound to that version),
  /// for assemble() to open again. errc::not_found for a version not held.
  result<bytes> seal_root(std::uint32_t version) const;

  /// new_data_key draws a random data key.
  static SecretBytes new_data_key();
  /// wrap_data_key seals `dek` under the current version, bound to `customer`, version() and
  /// DataKeyFormat::listed.
  result<bytes> wrap_data_key(std::string_view customer, const SecretBytes& dek) const;
  /// unwrap_data_key opens a data key wrapped under `version`, in either format; errc::integrity
  /// if that version is not held (retired), or the key was wrapped for another customer or
  /// version, or altered.
  result<SecretBytes> unwrap_data_key(std::string_view customer, std::uint32_t version,
                                      byte_view wrapped) const;
  /// open_data_key is unwrap_data_key that also says which format the key was wrapped in.
  result<UnwrappedDataKey> open_data_key(std::string_view customer, std::uint32_t version,
                                         byte_view wrapped) const;
  /// rewrap_data_key opens a data key wrapped under `version` and wraps it under the current
  /// version, in the format it had; the data key itself does not change. Fails like
  /// unwrap_data_key.
  result<bytes> rewrap_data_key(std::string_view customer, std::uint32_t version, byte_view wrapped) const;
  /// list_data_key wraps a data key wrapped under `version` in DataKeyFormat::listed, under the
  /// same version (so that it never moves a key to a version a concurrent retirement is
  /// emptying). Fails like unwrap_data_key.
  result<bytes> list_data_key(std::string_view customer, std::uint32_t version, byte_view wrapped) const;

  /// derive_key derives a 32-byte key for `label` (e.g. "pseudonym/analytics", "audit/customer")
  /// from the derivation root; the same for every master key version.
  SecretBytes derive_key(std::string_view label) const;
  /// derive_version_key derives a 32-byte key for `label` from master key version `version`, so
  /// that it changes when the master key is rotated and is gone once that version is retired
  /// (the keys of blind indexes, "lookup/<field>"). errc::not_found for a version not held.
  result<SecretBytes> derive_version_key(std::uint32_t version, std::string_view label) const;

 private:
  Keyring(std::map<std::uint32_t, SecretBytes> masters, std::uint32_t current, SecretBytes root)
      : masters_(std::move(masters)), current_(current), root_(std::move(root)) {}
  std::map<std::uint32_t, SecretBytes> masters_;
  std::uint32_t current_ = 1;
  SecretBytes root_;
};

/// kFieldSealVersion is the first sealing format of field values (1): the associated data binds
/// customer, field and the format. Vaults written before format 2 hold such values; opening a
/// vault re-seals them in format 2 (src/vault/manifest.cpp).
inline constexpr std::uint32_t kFieldSealVersion = 1;
/// kFieldSealMetadataVersion is the sealing format (2) whose associated data also binds the
/// value's source and collection time, so that neither can be changed in the store unnoticed.
/// The vault writes every value in it.
inline constexpr std::uint32_t kFieldSealMetadataVersion = 2;

/// FieldMetadata is what the format-2 associated data binds besides customer and field.
struct FieldMetadata {
  std::string_view source;
  timestamp collected_at{};
};

/// seal_field encrypts `value` of `field` for `customer` under their data key in format 1; the
/// associated data binds customer, field and kFieldSealVersion, so the result cannot be moved
/// elsewhere. It exists to read and test vaults written before format 2.
result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value);
/// open_field reverses seal_field; errc::integrity (naming the field, not the value) when the
/// sealed bytes were altered, moved from another field or customer, or the key is wrong.
result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed);
/// seal_field seals in format 2: the associated data binds customer, field,
/// kFieldSealMetadataVersion, and `meta`'s source and collection time.
result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value, const FieldMetadata& meta);
/// open_field opens a value sealed in `format` (1 or 2; `meta` is bound only in format 2).
/// errc::integrity, naming the field, for an unknown format and wherever the other open_field
/// fails, and when a format-2 value's source or collection time is not the one it was sealed
/// with. A format-2 value given as format 1, or the reverse, fails too: the formats' associated
/// data differ.
result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed, std::uint32_t format, const FieldMetadata& meta);

/// kValueDigestBytes is the size of value_digest().
inline constexpr std::size_t kValueDigestBytes = 16;
/// value_digest hashes a stored value as a manifest lists it: its sealing format, source,
/// collection time and sealed bytes (unkeyed BLAKE2b, each part length-prefixed). A manifest is
/// authenticated as a whole, and each value it lists was sealed with a fresh random nonce, so the
/// digest needs only second-preimage resistance: 128 bits.
std::array<std::uint8_t, kValueDigestBytes> value_digest(std::uint32_t format, std::string_view source,
                                                         timestamp collected_at, byte_view sealed);

/// kManifestTagBytes is the size of manifest_tag().
inline constexpr std::size_t kManifestTagBytes = 32;
/// manifest_tag authenticates `body`, the encoded manifest of `customer`: keyed BLAKE2b-256 under
/// a key derived from the customer's data key `dek`, over the customer id and the body. Only the
/// holder of the data key can make or check it; erasing the key leaves nothing to check with.
std::array<std::uint8_t, kManifestTagBytes> manifest_tag(const SecretBytes& dek, std::string_view customer,
                                                         byte_view body);
/// manifest_tag_matches compares `tag` with manifest_tag(dek, customer, body) in constant time;
/// false for a tag of the wrong size.
bool manifest_tag_matches(const SecretBytes& dek, std::string_view customer, byte_view body, byte_view tag);

}  // namespace consentry
