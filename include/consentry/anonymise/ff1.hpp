// anonymise/ff1.hpp: FF1 format-preserving encryption (NIST SP 800-38G Rev. 1) over numerals of a
// fixed radix, and alphabets that map text to such numerals.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// kFf1MinRadix and kFf1MaxRadix bound the radix FF1 accepts (SP 800-38G: 2..2^16).
inline constexpr std::uint32_t kFf1MinRadix = 2;
inline constexpr std::uint32_t kFf1MaxRadix = 65536;
/// kFf1MinDomain is the smallest radix^length FF1 accepts (SP 800-38G Rev. 1).
inline constexpr std::uint32_t kFf1MinDomain = 1000000;
/// kFf1MaxLength is the longest input, in numerals, this implementation accepts. SP 800-38G lets an
/// implementation choose maxlen up to 2^32; 4096 keeps the big-integer arithmetic of one call
/// below a few milliseconds at every radix.
inline constexpr std::size_t kFf1MaxLength = 4096;
/// kFf1MaxTweakBytes is the longest tweak this implementation accepts (the standard allows any
/// implementation-chosen maxTlen).
inline constexpr std::size_t kFf1MaxTweakBytes = 256;

/// Ff1 encrypts numerals of a fixed radix with FF1 (AES-128/192/256 from OpenSSL). The AES key
/// schedule lives in OpenSSL's cipher contexts, which are freed (and cleansed) with the Ff1.
/// An Ff1 may be shared by threads: each call takes a cipher context of its own from a small pool
/// (a copy of the first one is made when all are busy), so concurrent calls never share state.
/// FF1 gives confidentiality only: a changed ciphertext decrypts to other digits, never to an error.
class Ff1 {
 public:
  /// create sets up FF1 under `key` (16, 24 or 32 bytes: AES-128/192/256) for numerals of `radix`
  /// (2..65536). Returns errc::invalid_argument for another key length or radix, errc::internal when
  /// OpenSSL fails.
  static result<Ff1> create(const SecretBytes& key, std::uint32_t radix);

  /// encrypt enciphers `digits` (each < radix) under `tweak` (0..kFf1MaxTweakBytes bytes) and returns
  /// as many digits. Returns errc::bad_input naming the problem (the position of a digit out of
  /// range, a length outside 2..kFf1MaxLength, radix^length < 1,000,000), never a digit;
  /// errc::invalid_argument for a tweak that is too long.
  result<std::vector<std::uint32_t>> encrypt(std::span<const std::uint32_t> digits,
                                             std::span<const std::uint8_t> tweak) const;
  /// decrypt reverses encrypt under the same key, radix and tweak; fails as encrypt does.
  result<std::vector<std::uint32_t>> decrypt(std::span<const std::uint32_t> digits,
                                             std::span<const std::uint8_t> tweak) const;

  /// radix is the radix the Ff1 was created for.
  std::uint32_t radix() const noexcept;

  /// min_length is the shortest input at this radix: the least n >= 2 with radix^n >= 1,000,000.
  std::size_t min_length() const noexcept;

  Ff1(Ff1&&) noexcept;
  Ff1& operator=(Ff1&&) noexcept;
  Ff1(const Ff1&) = delete;
  Ff1& operator=(const Ff1&) = delete;
  /// ~Ff1 frees the OpenSSL cipher contexts (EVP_CIPHER_CTX_free cleanses the key schedule).
  ~Ff1();

 private:
  struct Impl;
  explicit Ff1(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
  /// Ff1Internals lets the library's own tests run either arithmetic path on the same input.
  friend struct Ff1Internals;
};

/// Ff1Alphabet maps the characters (UTF-8 code points) of an alphabet to digits 0..size-1, in the
/// order they are written.
class Ff1Alphabet {
 public:
  /// parse takes 2..65536 distinct code points as valid UTF-8. Returns errc::invalid_argument naming
  /// the byte offset of invalid UTF-8 or the character position (1-based) of a repeated character,
  /// or saying the alphabet is too short or too long.
  static result<Ff1Alphabet> parse(std::string_view characters);

  /// decimal is the alphabet 0123456789 (radix 10), the vault's token form for digit strings.
  static const Ff1Alphabet& decimal();
  /// base62 is the alphabet 0-9a-zA-Z (radix 62), the vault's token form for other text.
  static const Ff1Alphabet& base62();

  /// radix is the number of characters in the alphabet.
  std::uint32_t radix() const noexcept { return static_cast<std::uint32_t>(code_points_.size()); }

  /// digits maps each character of `text` to its digit. Returns errc::bad_input naming the byte
  /// offset of invalid UTF-8 or the character position (1-based) that is not in the alphabet, never
  /// the character itself.
  result<std::vector<std::uint32_t>> digits(std::string_view text) const;

  /// text writes the characters of `digits` as UTF-8. A digit >= radix() (never one encrypt or
  /// decrypt returns) is written as U+FFFD.
  std::string text(std::span<const std::uint32_t> digits) const;

 private:
  Ff1Alphabet() = default;
  std::vector<char32_t> code_points_;     ///< digit -> code point
  std::vector<std::int32_t> ascii_;       ///< ASCII code point -> digit, -1 when absent
  std::vector<std::uint64_t> non_ascii_;  ///< sorted (code point << 32 | digit) of the others
};

/// kFf1DecimalAlphabet and kFf1Base62Alphabet are the characters of Ff1Alphabet::decimal() and
/// Ff1Alphabet::base62().
inline constexpr std::string_view kFf1DecimalAlphabet = "0123456789";
inline constexpr std::string_view kFf1Base62Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

}  // namespace consentry
