// aead.hpp: XChaCha20-Poly1305 sealing with associated data (libsodium underneath).
#pragma once

#include <cstddef>
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

/// associated_data joins `parts` unambiguously (each as a 4-byte big-endian length, then its
/// bytes) after the domain label "consentry/v1".
bytes associated_data(std::initializer_list<std::string_view> parts);

}  // namespace consentry::aead
