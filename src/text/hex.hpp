// hex.hpp: the one hexadecimal encoder and decoder (lower-case digits out, either case in), both
// in constant time, since they carry keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"

namespace consentry::detail {

/// hex_encode writes the 2 * in.size() lower-case hex digits of `in` to `out`, which must hold
/// exactly that many characters (no terminator is written). For secrets: the caller owns `out`
/// and wipes it.
void hex_encode(byte_view in, std::span<char> out) noexcept;

/// hex_encode returns the lower-case hex digits of `in`.
std::string hex_encode(byte_view in);

/// hex_decode fills `out` from `hex`, which must hold exactly 2 * out.size() hex digits of
/// either case. errc::bad_input when it does not: the message names `what` and, for a character
/// that is not a hex digit, its position (from 1), never the character.
result<void> hex_decode(std::string_view hex, std::span<std::uint8_t> out, std::string_view what);

}  // namespace consentry::detail
