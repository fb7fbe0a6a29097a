// keyring.cpp: master key versions, wrapped data keys, derived keys and field sealing.
#include "crypto/keyring.hpp"

#include <sodium.h>

#include <charconv>
#include <cstdlib>
#include <string>
#include <utility>

#include "crypto/aead.hpp"
#include "encoding/framing.hpp"

namespace consentry {

static_assert(Keyring::kDataKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
              "data keys are XChaCha20-Poly1305 keys");
static_assert(Keyring::kMasterKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
              "master keys wrap data keys directly, as XChaCha20-Poly1305 keys");

namespace {

// Decimal is the decimal text of `n` (as std::to_string writes it), kept on the stack.
class Decimal {
 public:
  explicit Decimal(std::int64_t n) noexcept : end_(std::to_chars(digits_, digits_ + sizeof digits_, n).ptr) {}
  operator std::string_view() const noexcept { return {digits_, static_cast<std::size_t>(end_ - digits_)}; }

 private:
  char digits_[20];  // the 19 digits of the largest int64 and a sign
  const char* end_;
};

aead::AdBuffer root_ad(std::uint32_t version) {
  return aead::AdBuffer({"root", Decimal(version)});
}

// A key wrapped in DataKeyFormat::listed names the format after the version; an unlisted key's
// associated data is what vaults before manifests wrote, so neither opens as the other.
aead::AdBuffer data_key_ad(std::string_view customer, std::uint32_t version, DataKeyFormat format) {
  const Decimal v(version);
  if (format == DataKeyFormat::unlisted) return aead::AdBuffer({"data-key", customer, v});
  return aead::AdBuffer({"data-key", customer, v, "listed"});
}

aead::AdBuffer field_ad(std::string_view customer, std::string_view field) {
  return aead::AdBuffer({"field", customer, field, Decimal(kFieldSealVersion)});
}

// Format 2 appends the source and the collection time (decimal seconds since the epoch) to the
// parts of format 1, under its own version number, so a value relabelled as format 1 fails too.
aead::AdBuffer field_ad(std::string_view customer, std::string_view field, const FieldMetadata& meta) {
  return aead::AdBuffer({"field", customer, field, Decimal(kFieldSealMetadataVersion), meta.source,
                         Decimal(meta.collected_at.time_since_epoch().count())});
}

error field_failed(std::string_view field) {
  return make_error(errc::integrity, "field '" + std::string(field) + "' failed authentication");
}

// put_part feeds `part` to a BLAKE2b state after its 4-byte big-endian length, as
// aead::associated_data frames its parts.
void put_part(crypto_generichash_state& state, byte_view part) {
  std::uint8_t length[4];
  detail::store_be32(length, static_cast<std::uint32_t>(part.size()));
  crypto_generichash_update(&state, length, sizeof length);
  crypto_generichash_update(&state, part.data(), part.size());
}

constexpr std::string_view kDataKeyFailed = "wrapped data key failed authentication";

}  // namespace

Keyring Keyring::generate() {
  constexpr std::uint32_t kFirstVersion = 1;
  std::map<std::uint32_t, SecretBytes> masters;
  masters.emplace(kFirstVersion, SecretBytes::random(kMasterKeyBytes));
  return Keyring(std::move(masters), kFirstVersion, SecretBytes::random(kMasterKeyBytes));
}

result<Keyring> Keyring::assemble(std::vector<MasterKey> masters, std::uint32_t current,
                                  std::uint32_t root_version, byte_view sealed_root) {
  std::map<std::uint32_t, SecretBytes> held;
  for (MasterKey& m : masters) {
    if (m.version == 0 || m.key.size() != kMasterKeyBytes || held.count(m.version) != 0)
      return make_error(errc::integrity, "master key version " + std::to_string(m.version) + " is damaged");
    held.emplace(m.version, std::move(m.key));
  }
  if (held.count(current) == 0)
    return make_error(errc::integrity, "the current master key version is not among the vault's versions");
  auto root_key = held.find(root_version);
  if (root_key == held.end())
    return make_error(errc::integrity,
                      "the key-derivation root is sealed under a version the vault does not hold");
  auto root = aead::open(root_key->second, sealed_root, root_ad(root_version).view());
  if (!root || root->size() != kMasterKeyBytes)
    return make_error(errc::integrity, "the key-derivation root failed authentication");
  return Keyring(std::move(held), current, std::move(root).value());
}

std::vector<std::uint32_t> Keyring::versions() const {
  std::vector<std::uint32_t> out;
  for (const auto& [version, key] : masters_) out.push_back(version);
  return out;
}

const SecretBytes* Keyring::master_key(std::uint32_t version) const {
  auto it = masters_.find(version);
  return it == masters_.end() ? nullptr : &it->second;
}

std::uint32_t Keyring::add_version() {
  // Numbers only grow, so a retired version's number never names a different key later.
  const std::uint32_t next = masters_.empty() ? 1 : masters_.rbegin()->first + 1;
  masters_.emplace(next, SecretBytes::random(kMasterKeyBytes));
  return next;
}

result<void> Keyring::make_current(std::uint32_t version) {
  if (masters_.count(version) == 0)
    return make_error(errc::not_found, "master key version " + std::to_string(version) + " is not held");
  current_ = version;
  return ok();
}

result<void> Keyring::drop_version(std::uint32_t version) {
  if (version == current_)
    return make_error(errc::invalid_argument, "the current master key version cannot be dropped");
  if (masters_.erase(version) == 0)
    return make_error(errc::not_found, "master key version " + std::to_string(version) + " is not held");
  return ok();
}

result<bytes> Keyring::seal_root(std::uint32_t version) const {
  const SecretBytes* master = master_key(version);
  if (!master)
    return make_error(errc::not_found, "master key version " + std::to_string(version) + " is not held");
  return aead::seal(*master, root_.reveal(), root_ad(version).view());
}

SecretBytes Keyring::new_data_key() {
  return SecretBytes::random(kDataKeyBytes);
}

result<bytes> Keyring::wrap_data_key(std::string_view customer, const SecretBytes& dek) const {
  if (dek.size() != kDataKeyBytes) return make_error(errc::invalid_argument, "data key has the wrong size");
  return aead::seal(masters_.at(current_), dek.reveal(),
                    data_key_ad(customer, current_, DataKeyFormat::listed).view());
}

result<SecretBytes> Keyring::unwrap_data_key(std::string_view customer, std::uint32_t version,
                                             byte_view wrapped) const {
  auto opened = open_data_key(customer, version, wrapped);
  if (!opened) return std::move(opened).err();
  return std::move(opened->key);
}

result<UnwrappedDataKey> Keyring::open_data_key(std::string_view customer, std::uint32_t version,
                                                byte_view wrapped) const {
  // The customer id stays out of the message: the caller knows it, and logs need not.
  auto master = masters_.find(version);
  if (master == masters_.end()) return make_error(errc::integrity, std::string(kDataKeyFailed));
  // Listed first: every key this version wraps is, and a failed try costs one Poly1305 tag.
  for (DataKeyFormat format : {DataKeyFormat::listed, DataKeyFormat::unlisted}) {
    auto dek = aead::open(master->second, wrapped, data_key_ad(customer, version, format).view());
    if (dek && dek->size() == kDataKeyBytes) return UnwrappedDataKey{std::move(*dek), format};
  }
  return make_error(errc::integrity, std::string(kDataKeyFailed));
}

result<bytes> Keyring::rewrap_data_key(std::string_view customer, std::uint32_t version,
                                       byte_view wrapped) const {
  auto dek = open_data_key(customer, version, wrapped);
  if (!dek) return std::move(dek).err();
  return aead::seal(masters_.at(current_), dek->key.reveal(),
                    data_key_ad(customer, current_, dek->format).view());
}

result<bytes> Keyring::list_data_key(std::string_view customer, std::uint32_t version,
                                     byte_view wrapped) const {
  auto dek = open_data_key(customer, version, wrapped);
  if (!dek) return std::move(dek).err();
  return aead::seal(masters_.at(version), dek->key.reveal(),
                    data_key_ad(customer, version, DataKeyFormat::listed).view());
}

SecretBytes Keyring::derive_key(std::string_view label) const {
  // Keyed BLAKE2b (crypto_generichash) is a PRF over arbitrary-length input, so any label string
  // names its own key; crypto_kdf would need labels squeezed into a 64-bit id and 8-byte context.
  // The fixed prefix separates derived keys from any other use of the root.
  static_assert(crypto_generichash_BYTES == aead::kKeyBytes);
  static_assert(kMasterKeyBytes >= crypto_generichash_KEYBYTES_MIN &&
                kMasterKeyBytes <= crypto_generichash_KEYBYTES_MAX);
  constexpr std::string_view kPrefix = "consentry/v1/derive/";
  // An empty root (a moved-from Keyring) would silently give an unkeyed hash: refuse outright.
  if (root_.size() != kMasterKeyBytes) std::abort();
  SecretBytes out(crypto_generichash_BYTES);
  crypto_generichash_state state;
  crypto_generichash_init(&state, root_.reveal().data(), root_.size(), out.size());
  crypto_generichash_update(&state, as_bytes(kPrefix).data(), kPrefix.size());
  crypto_generichash_update(&state, as_bytes(label).data(), label.size());
  crypto_generichash_final(&state, out.reveal().data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

result<SecretBytes> Keyring::derive_version_key(std::uint32_t version, std::string_view label) const {
  const auto it = masters_.find(version);
  if (it == masters_.end())
    return make_error(errc::not_found, "master key version " + std::to_string(version) + " is not held");
  // As derive_key, keyed with the master key version instead of the root, under a prefix of its
  // own so that no label gives the same key from both.
  constexpr std::string_view kPrefix = "consentry/v1/derive-version/";
  SecretBytes out(crypto_generichash_BYTES);
  crypto_generichash_state state;
  crypto_generichash_init(&state, it->second.reveal().data(), it->second.size(), out.size());
  crypto_generichash_update(&state, as_bytes(kPrefix).data(), kPrefix.size());
  crypto_generichash_update(&state, as_bytes(label).data(), label.size());
  crypto_generichash_final(&state, out.reveal().data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value) {
  return aead::seal(dek, as_bytes(value), field_ad(customer, field).view());
}

result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed) {
  auto value = aead::open(dek, sealed, field_ad(customer, field).view());
  if (!value) return field_failed(field);
  return value;
}

result<bytes> seal_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                         std::string_view value, const FieldMetadata& meta) {
  return aead::seal(dek, as_bytes(value), field_ad(customer, field, meta).view());
}

result<SecretBytes> open_field(const SecretBytes& dek, std::string_view customer, std::string_view field,
                               byte_view sealed, std::uint32_t format, const FieldMetadata& meta) {
  if (format == kFieldSealVersion) return open_field(dek, customer, field, sealed);
  if (format != kFieldSealMetadataVersion) return field_failed(field);
  auto value = aead::open(dek, sealed, field_ad(customer, field, meta).view());
  if (!value) return field_failed(field);
  return value;
}

std::array<std::uint8_t, kValueDigestBytes> value_digest(std::uint32_t format, std::string_view source,
                                                         timestamp collected_at, byte_view sealed) {
  static_assert(kValueDigestBytes >= crypto_generichash_BYTES_MIN &&
                kValueDigestBytes <= crypto_generichash_BYTES_MAX);
  constexpr std::string_view kDomain = "consentry/v1/value-digest";
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kValueDigestBytes);
  put_part(state, as_bytes(kDomain));
  put_part(state, as_bytes(Decimal(format)));
  put_part(state, as_bytes(source));
  put_part(state, as_bytes(Decimal(collected_at.time_since_epoch().count())));
  put_part(state, sealed);
  std::array<std::uint8_t, kValueDigestBytes> out{};
  crypto_generichash_final(&state, out.data(), out.size());
  return out;
}

std::array<std::uint8_t, kManifestTagBytes> manifest_tag(const SecretBytes& dek, std::string_view customer,
                                                         byte_view body) {
  static_assert(kManifestTagBytes == crypto_generichash_BYTES);
  static_assert(Keyring::kDataKeyBytes >= crypto_generichash_KEYBYTES_MIN &&
                Keyring::kDataKeyBytes <= crypto_generichash_KEYBYTES_MAX);
  // The tag's key is derived from the data key rather than the data key itself, so the one key
  // never serves two primitives (XChaCha20-Poly1305 and BLAKE2b).
  constexpr std::string_view kKeyLabel = "consentry/v1/manifest-key";
  constexpr std::string_view kDomain = "consentry/v1/manifest";
  // A data key of the wrong size (a moved-from key) would key nothing: refuse outright, as
  // derive_key does.
  if (dek.size() != Keyring::kDataKeyBytes) std::abort();
  SecretBytes key(crypto_generichash_BYTES);
  crypto_generichash(key.reveal().data(), key.size(), as_bytes(kKeyLabel).data(), kKeyLabel.size(),
                     dek.reveal().data(), dek.size());
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.reveal().data(), key.size(), kManifestTagBytes);
  put_part(state, as_bytes(kDomain));
  put_part(state, as_bytes(customer));
  put_part(state, body);
  std::array<std::uint8_t, kManifestTagBytes> out{};
  crypto_generichash_final(&state, out.data(), out.size());
  sodium_memzero(&state, sizeof state);
  return out;
}

bool manifest_tag_matches(const SecretBytes& dek, std::string_view customer, byte_view body, byte_view tag) {
  static_assert(kManifestTagBytes == crypto_verify_32_BYTES);
  if (tag.size() != kManifestTagBytes) return false;
  const auto expected = manifest_tag(dek, customer, body);
  return crypto_verify_32(expected.data(), tag.data()) == 0;
}

}  // namespace consentry
