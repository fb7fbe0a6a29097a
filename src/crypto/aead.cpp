// aead.cpp: XChaCha20-Poly1305 (IETF) sealing in the layout nonce | ciphertext | tag.
#include "crypto/aead.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "encoding/framing.hpp"

namespace consentry::aead {

static_assert(kKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kNonceBytes == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kTagBytes == crypto_aead_xchacha20poly1305_ietf_ABYTES);

namespace {

constexpr std::string_view kDomainLabel = "consentry/v1";
// One message for every open failure, so that errors do not tell an attacker which check failed.
constexpr std::string_view kOpenFailed = "authentication failed";

}  // namespace

result<bytes> seal(const SecretBytes& key, byte_view plaintext, byte_view ad) {
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES)
    return make_error(errc::invalid_argument, "aead key has the wrong size");
  if (plaintext.size() > crypto_aead_xchacha20poly1305_ietf_MESSAGEBYTES_MAX)
    return make_error(errc::invalid_argument, "aead plaintext is too long");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");

  bytes out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plaintext.size() +
            crypto_aead_xchacha20poly1305_ietf_ABYTES);
  std::uint8_t* nonce = out.data();
  std::uint8_t* ciphertext = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  // 192-bit random nonces make collisions negligible without any nonce state to keep.
  randombytes_buf(nonce, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  unsigned long long written = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext, &written, plaintext.data(), plaintext.size(),
                                             ad.data(), ad.size(), nullptr, nonce, key.reveal().data());
  if (written != plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return make_error(errc::internal, "aead produced an unexpected length");
  return out;
}

result<SecretBytes> open(const SecretBytes& key, byte_view sealed, byte_view ad) {
  constexpr std::size_t kOverhead =
      crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES;
  static_assert(kOverhead == kOverheadBytes);
  if (key.size() != crypto_aead_xchacha20poly1305_ietf_KEYBYTES || sealed.size() < kOverhead ||
      !sodium_ready())
    return make_error(errc::integrity, std::string(kOpenFailed));

  const std::uint8_t* nonce = sealed.data();
  const std::uint8_t* ciphertext = nonce + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  const std::size_t ciphertext_size = sealed.size() - kOverhead;
  const std::uint8_t* tag = ciphertext + ciphertext_size;

  // Decrypting straight into guarded memory keeps the plaintext out of the ordinary heap.
  SecretBytes plain(ciphertext_size);
  std::uint8_t unused = 0;  // a valid target for an empty plaintext
  std::uint8_t* target = plain.empty() ? &unused : plain.reveal().data();
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(target, nullptr, ciphertext, ciphertext_size, tag,
                                                          ad.data(), ad.size(), nonce,
                                                          key.reveal().data()) != 0)
    return make_error(errc::integrity, std::string(kOpenFailed));
  return plain;
}

AdBuffer::AdBuffer(std::initializer_list<std::string_view> parts) {
  constexpr const char* kTooLong = "associated data part exceeds 4 GiB";
  std::size_t total = kDomainLabel.size();
  for (std::string_view part : parts) total += 4 + detail::frame_length(part.size(), kTooLong);
  if (total > kInline) heap_.resize(total);
  std::uint8_t* out = heap_.empty() ? inline_.data() : heap_.data();
  out = std::copy(kDomainLabel.begin(), kDomainLabel.end(), out);
  for (std::string_view part : parts) {
    detail::store_be32(out, static_cast<std::uint32_t>(part.size()));
    out = std::copy(part.begin(), part.end(), out + 4);
  }
  size_ = total;
}

bytes associated_data(std::initializer_list<std::string_view> parts) {
  const AdBuffer ad(parts);
  return {ad.view().begin(), ad.view().end()};
}

}  // namespace consentry::aead
