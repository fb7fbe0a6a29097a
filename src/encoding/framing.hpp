// framing.hpp: the one binary framing of the library's encodings: big-endian integers and parts
// preceded by their 4-byte big-endian length. Used by associated data, the keyring's digests,
// audit entries, manifests and sealed master keys; the bytes it writes are part of every vault
// file, so they never change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "consentry/bytes.hpp"

namespace consentry::detail {

/// store_be32 writes `v` big-endian to p[0..3].
inline void store_be32(std::uint8_t* p, std::uint32_t v) noexcept {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<std::uint8_t>(v >> (24 - 8 * i));
}

/// put_be16, put_be32 and put_be64 append `v` big-endian.
inline void put_be16(bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
inline void put_be32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}
inline void put_be64(bytes& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

/// load_be16, load_be32 and load_be64 read a big-endian integer at `p` (the caller has checked
/// that enough bytes remain).
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return static_cast<std::uint16_t>((std::uint16_t{p[0]} << 8) | p[1]);
}
inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}
inline std::uint64_t load_be64(const std::uint8_t* p) noexcept {
  return (std::uint64_t{load_be32(p)} << 32) | load_be32(p + 4);
}

/// frame_length is the 4-byte length prefix of a part of `n` bytes. A part that does not fit it
/// has no encoding (truncating the length would let two different inputs encode alike), so it
/// throws std::length_error with `what`, like an allocation that cannot be made.
inline std::uint32_t frame_length(std::size_t n, const char* what) {
  if (n > std::numeric_limits<std::uint32_t>::max()) throw std::length_error(what);
  return static_cast<std::uint32_t>(n);
}

/// put_framed appends the 4-byte big-endian length of `part` and then its bytes; std::length_error
/// with `what` for a part of 4 GiB or more (frame_length).
inline void put_framed(bytes& out, byte_view part, const char* what) {
  put_be32(out, frame_length(part.size(), what));
  out.insert(out.end(), part.begin(), part.end());
}

}  // namespace consentry::detail
