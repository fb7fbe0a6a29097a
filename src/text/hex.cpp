// hex.cpp: hexadecimal encoding and decoding without branches on the data.
#include "text/hex.hpp"

namespace consentry::detail {
namespace {

/// digit_of is the value of the hex digit `c` (0 to 15), or 0xffff when `c` is not one; computed
/// without a branch or a table lookup that depends on `c`.
unsigned digit_of(unsigned char c) noexcept {
  const unsigned num = c ^ 48U;                        // '0'..'9' -> 0..9
  const unsigned num_ok = ((num - 10U) >> 8) & 0xffU;  // 0xff when num < 10
  const unsigned alpha = (c & ~32U) - 55U;             // 'A'..'F' and 'a'..'f' -> 10..15
  const unsigned alpha_ok = (((alpha - 10U) ^ (alpha - 16U)) >> 8) & 0xffU;
  const unsigned ok = num_ok | alpha_ok;
  return ((num_ok & num) | (alpha_ok & alpha)) | ((~ok & 0xffU) << 8);
}

}  // namespace

void hex_encode(byte_view in, std::span<char> out) noexcept {
  for (std::size_t i = 0; i < in.size() && 2 * i + 1 < out.size(); ++i) {
    const unsigned hi = in[i] >> 4, lo = in[i] & 0xfU;
    // 87 + n is 'a' + n - 10; (n - 10) >> 8 is all ones when n < 10, taking off the 39 between.
    out[2 * i] = static_cast<char>(87U + hi + (((hi - 10U) >> 8) & ~38U));
    out[2 * i + 1] = static_cast<char>(87U + lo + (((lo - 10U) >> 8) & ~38U));
  }
}

std::string hex_encode(byte_view in) {
  std::string out(in.size() * 2, '\0');
  hex_encode(in, std::span<char>(out.data(), out.size()));
  return out;
}

result<void> hex_decode(std::string_view hex, std::span<std::uint8_t> out, std::string_view what) {
  if (hex.size() % 2 != 0)
    return make_error(errc::bad_input, std::string(what) + " has an odd number of hex digits");
  unsigned bad = 0;
  std::size_t first_bad = 0;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    const unsigned d = digit_of(static_cast<unsigned char>(hex[i]));
    if ((d >> 8) != 0 && bad == 0) first_bad = i + 1;
    bad |= d >> 8;
  }
  if (bad != 0)
    return make_error(errc::bad_input,
                      std::string(what) + " is not hexadecimal at character " + std::to_string(first_bad));
  if (hex.size() != 2 * out.size())
    return make_error(errc::bad_input, std::string(what) + " must be " + std::to_string(2 * out.size()) +
                                           " hex digits (" + std::to_string(out.size()) + " bytes)");
  for (std::size_t i = 0; i < out.size(); ++i) {
    const unsigned hi = digit_of(static_cast<unsigned char>(hex[2 * i]));
    const unsigned lo = digit_of(static_cast<unsigned char>(hex[2 * i + 1]));
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return ok();
}

}  // namespace consentry::detail
