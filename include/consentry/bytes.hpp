// bytes.hpp: the byte types that travel through the API. Byte ranges are spans, never
// pointer plus length.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace consentry {

/// bytes owns non-secret bytes (ciphertexts, wrapped keys, salts).
using bytes = std::vector<std::uint8_t>;
/// byte_view borrows a read-only byte range.
using byte_view = std::span<const std::uint8_t>;

/// as_bytes views the characters of `s` as bytes (no copy).
inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace consentry
