// phone_number.hpp: phone numbers read with libphonenumber and written in E.164 (private).
#pragma once

#include <string>
#include <string_view>

#include "consentry/result.hpp"

namespace consentry::detail {

/// phone_to_e164 reads `text` as a phone number and returns it in E.164 ("+447700900382"). A
/// number without a country code (no leading '+' or international prefix) is read as one of
/// `default_region` (ISO 3166 alpha-2, "GB"). errc::bad_input, with a message that never holds
/// the number, when the text holds anything but digits, a leading '+', spaces, '-', '.' and one
/// pair of parentheses; when it has no country code and `default_region` is empty or unknown;
/// and when libphonenumber cannot read it or its length fits no number of its country.
result<std::string> phone_to_e164(std::string_view text, std::string_view default_region);

/// phone_region_known is true when libphonenumber has numbering metadata for `region`.
bool phone_region_known(std::string_view region);

}  // namespace consentry::detail
