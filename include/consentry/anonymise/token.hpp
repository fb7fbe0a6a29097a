// anonymise/token.hpp: FF1 tokens of field values that keep the value's shape.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "consentry/field_type.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// kMaxTokenCharacters bounds how many characters of one value a token replaces.
inline constexpr std::size_t kMaxTokenCharacters = 1024;

/// Tokeniser turns field values into FF1 tokens and back. The digits of an integer or a phone
/// number are enciphered over 0-9; the ASCII letters and digits of a string or an email over
/// 0-9a-zA-Z. Every other character (a sign, '+', '@', '.', a space, non-ASCII text) stays where
/// it is, so a token has the value's length and layout. The tweak makes one value give different
/// tokens in different fields. Deterministic: one value gives one token per key and tweak.
class Tokeniser {
 public:
  /// create keys both ciphers with `key` (16, 24 or 32 bytes: AES-128, -192, -256).
  /// errc::invalid_argument for another length.
  static result<Tokeniser> create(const SecretBytes& key);

  /// tokenise gives the token of `value`. errc::denied (form_unavailable) for a date or a boolean
  /// (too few values to hide one among them), when the enciphered characters are too few for
  /// FF1's domain (fewer than 6 digits, fewer than 4 letters and digits) or more than
  /// kMaxTokenCharacters. The message names the type, never the value.
  result<std::string> tokenise(FieldType type, std::string_view value,
                               std::span<const std::uint8_t> tweak) const;

  /// detokenise gives back the value of `token`, made by tokenise with the same type and tweak.
  /// errc::bad_input when `token` cannot be a token of that type.
  result<std::string> detokenise(FieldType type, std::string_view token,
                                 std::span<const std::uint8_t> tweak) const;

  Tokeniser(Tokeniser&&) noexcept;
  Tokeniser& operator=(Tokeniser&&) noexcept;
  ~Tokeniser();

 private:
  struct Ciphers;
  explicit Tokeniser(std::unique_ptr<Ciphers> c);
  std::unique_ptr<Ciphers> ciphers_;
};

}  // namespace consentry
