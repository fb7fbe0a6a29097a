// field_type.hpp: the value types a field may declare, and validation of values against them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "consentry/result.hpp"

namespace consentry {

/// FieldType is the declared type of a field's values.
enum class FieldType { string, email, date, phone, integer, boolean };

/// parse_field_type reads "string", "email", "date", "phone", "integer" or "boolean".
std::optional<FieldType> parse_field_type(std::string_view text);
/// to_string gives the policy spelling of a FieldType.
std::string_view to_string(FieldType t) noexcept;

/// kMaxValueBytes bounds any stored value.
inline constexpr std::size_t kMaxValueBytes = 64 * 1024;

/// normalise_value checks `value` against `type` and returns its canonical text: email lowercased
/// in the domain, date as YYYY-MM-DD, phone with only '+' and digits, integer without leading
/// zeros or '+', boolean as "true"/"false". Returns errc::bad_input naming `field` (never the
/// value) when the value does not fit the type or is not valid UTF-8.
result<std::string> normalise_value(FieldType type, std::string_view field, std::string_view value);

}  // namespace consentry
