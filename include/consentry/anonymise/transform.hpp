// anonymise/transform.hpp: producing a field's value in the form a purpose may see.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// kPseudonymBytes is the length of a pseudonym's hash before hex encoding.
inline constexpr std::size_t kPseudonymBytes = 16;
/// kHmacPseudonymBytes is the length of an HMAC-SHA256 pseudonym before hex encoding.
inline constexpr std::size_t kHmacPseudonymBytes = 32;

class Tokeniser;

/// FormKeys holds what the keyed forms need: the purpose's key for pseudonym and
/// pseudonym:hmac-sha256 (16 to 64 bytes), and for token the vault's Tokeniser and the
/// field's tweak. A form whose key is missing is refused (errc::invalid_argument).
struct FormKeys {
  const SecretBytes* purpose_key = nullptr;
  const Tokeniser* token_cipher = nullptr;
  std::span<const std::uint8_t> token_tweak;
};

/// apply_form turns a stored `value` of `type` into `form`: mask:lastN keeps the last N
/// characters and stars the rest, mask:firstN the first N (either stars a value of N characters
/// or fewer completely); mask:email stars each character of an email address's local part (before
/// its last '@') and keeps the '@' and the domain; redact gives ""; replace:TEXT gives TEXT
/// whatever the value; generalise:year|month take a date's year or
/// year-month; generalise:decade gives "1990s" for a date or "30-39" for an integer;
/// generalise:prefix:N keeps the first N characters; generalise:bucket:N gives "30-39" for an
/// integer; pseudonym gives a keyed BLAKE2b hash (hex) under the purpose key,
/// pseudonym:hmac-sha256 an HMAC-SHA256 (hex); token gives an FF1 token (see tokenise()).
/// Characters are UTF-8 code points. Returns errc::bad_input for a value that is not valid UTF-8,
/// and errc::denied (form_unavailable) when the form does not fit the type or the value (a year
/// of a phone number, a token of three digits, mask:email of a value of another type than email
/// or without '@', local part or domain), naming the form, never the value.
result<std::string> apply_form(const Form& form, FieldType type, std::string_view value,
                               const FormKeys& keys);

/// apply_form with only a purpose key: every form but token.
result<std::string> apply_form(const Form& form, FieldType type, std::string_view value,
                               const SecretBytes& purpose_key);

/// pseudonym gives the keyed BLAKE2b pseudonym (hex) of `value` under `key`.
std::string pseudonym(const SecretBytes& key, std::string_view value);

/// hmac_pseudonym gives the HMAC-SHA256 (OpenSSL) of `value` under `key`, as 64 hex digits:
/// what another system holding the key computes with any HMAC-SHA256. Throws
/// std::invalid_argument for a key shorter than 16 bytes (a caller bug).
std::string hmac_pseudonym(const SecretBytes& key, std::string_view value);

}  // namespace consentry
