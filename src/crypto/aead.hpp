// aead.hpp: XChaCha20-Poly1305 sealing with associated data (libsodium underneath).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry::aead {

inline constexpr std::size_t kKeyBytes = 32;    ///< crypto_aead_xchacha20poly1305_ietf_KEYBYTES
inline constexpr std::size_t kNonceBytes = 24;  ///< crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
inline constexpr std::size_t kTagBytes = 16;    ///< crypto_aead_xchacha20poly1305_ietf_ABYTES
inline constexpr std::size_t kOverheadBytes = kNonceBytes + kTagBytes;

/// seal encrypts `plaintext` under `key` (kKeyBytes) with a fresh random nonce, authenticating
/// `ad`. Returns nonce | ciphertext | tag. errc::invalid_argument when the key has the wrong size.
result<bytes> seal(const SecretBytes& key, byte_view plaintext, byte_view ad);

/// open authenticates and decrypts what seal produced. Returns errc::integrity, with one message
/// for every cause (wrong key, wrong `ad`, altered or truncated bytes), and no plaintext.
result<SecretBytes> open(const SecretBytes& key, byte_view sealed, byte_view ad);

/// AdBuffer joins `parts` unambiguously (each as a 4-byte big-endian length, then its bytes)
/// after the domain label "consentry/v1", in place when the result fits in kInline bytes and on
/// the heap otherwise: a read builds associated data for every value it opens, and this costs no
/// allocation. std::length_error for a part of 4 GiB or more.
class AdBuffer {
 public:
  static constexpr std::size_t kInline = 192;
  explicit AdBuffer(std::initializer_list<std::string_view> parts);
  /// view is the associated data; valid while this buffer lives and is not moved.
  byte_view view() const noexcept { return {heap_.empty() ? inline_.data() : heap_.data(), size_}; }

 private:
  std::array<std::uint8_t, kInline> inline_;
  bytes heap_;
  std::size_t size_ = 0;
};

/// associated_data is what AdBuffer builds from `parts`, as owned bytes.
bytes associated_data(std::initializer_list<std::string_view> parts);

}  // namespace consentry::aead
