// utf8.hpp: the one UTF-8 codec: decoding a code point, encoding one, and checking a text, all
// strict (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

namespace consentry::detail {

/// utf8_decode reads the code point at s[i] (i < s.size()): its value and byte length (1 to 4),
/// or {0, 0} when the bytes there are not well-formed UTF-8 (a stray continuation byte, an
/// overlong form, a surrogate, a code point past U+10FFFF, or a sequence cut short).
inline std::pair<char32_t, std::size_t> utf8_decode(std::string_view s, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = byte(i);
  if (c < 0x80) return {c, 1};
  std::size_t len = 0;
  char32_t cp = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;  // no overlong forms
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;  // no overlong forms
    if (c == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return {0, 0};
  }
  if (s.size() - i < len) return {0, 0};
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char cc = byte(i + k);
    if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xBF)) return {0, 0};
    cp = (cp << 6) | (cc & 0x3F);
  }
  return {cp, len};
}

/// utf8_sequence_length is the length of the well-formed UTF-8 sequence at the start of `text`
/// (1 to 4), or 0 when it does not start with one (or is empty).
inline std::size_t utf8_sequence_length(std::string_view text) noexcept {
  return text.empty() ? 0 : utf8_decode(text, 0).second;
}

/// utf8_valid tells whether all of `s` is well-formed UTF-8.
inline bool utf8_valid(std::string_view s) noexcept {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_decode(s, i).second;
    if (n == 0) return false;
    i += n;
  }
  return true;
}

/// utf8_encode appends the UTF-8 bytes of `cp` (a scalar value, not a surrogate) to `out`.
inline void utf8_encode(char32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

/// utf8_code_points counts the code points of UTF-8 text (the bytes that are not continuation
/// bytes).
inline std::size_t utf8_code_points(std::string_view text) noexcept {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace consentry::detail
