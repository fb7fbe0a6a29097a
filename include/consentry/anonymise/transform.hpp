// anonymise/transform.hpp: producing a field's value in the form a purpose may see.
#pragma once

#include <string>
#include <string_view>

#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// kPseudonymBytes is the length of a pseudonym's hash before hex encoding.
inline constexpr std::size_t kPseudonymBytes = 16;

/// apply_form turns a stored `value` of `type` into `form`: mask:lastN keeps the last N
/// characters and stars the rest; redact gives ""; generalise:year|month take a date's year or
/// year-month; generalise:decade gives "1990s" for a date or "30-39" for an integer;
/// generalise:prefix:N keeps the first N characters; generalise:bucket:N gives "30-39" for an
/// integer; pseudonym gives a keyed BLAKE2b hash (hex) under `purpose_key`. Characters are UTF-8
/// code points. Returns errc::denied (form_unavailable) when the form does not fit the type
/// (a year of a phone number) or is not available (token), naming the form, never the value.
result<std::string> apply_form(const Form& form, FieldType type, std::string_view value,
                               const SecretBytes& purpose_key);

/// pseudonym gives the keyed BLAKE2b pseudonym (hex) of `value` under `key`.
std::string pseudonym(const SecretBytes& key, std::string_view value);

}  // namespace consentry
