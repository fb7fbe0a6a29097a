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
/// in the domain, date as YYYY-MM-DD, phone in E.164 ("+447700900382", parsed by libphonenumber;
/// a number without a country code is read as one of `default_region`, an ISO 3166 alpha-2 code
/// such as "GB"), integer without leading zeros or '+', boolean as "true"/"false". Returns
/// errc::bad_input naming `field` (never the value) when the value does not fit the type or is
/// not valid UTF-8; a phone number without a country code is refused when `default_region` is
/// empty, and one whose length no number of its country has.
result<std::string> normalise_value(FieldType type, std::string_view field, std::string_view value,
                                    std::string_view default_region = {});

/// is_phone_region is true when `region` is an ISO 3166 alpha-2 code libphonenumber knows
/// ("GB", "US", "DE"), one a policy may name as its default_region.
bool is_phone_region(std::string_view region);

}  // namespace consentry
