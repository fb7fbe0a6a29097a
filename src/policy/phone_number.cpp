// phone_number.cpp: phone numbers parsed, checked and formatted by libphonenumber (Debian
// libphonenumber-dev). A number is accepted when its length fits its country's numbering plan
// (libphonenumber's "possible number" test), not only when the range is assigned, so that
// ranges kept for drama and tests (UK 07700 900xxx) are accepted like any other.
#include "policy/phone_number.hpp"

#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <exception>
#include <string>

namespace consentry::detail {
namespace {

using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberUtil;

error refused(std::string_view what) {
  return make_error(errc::bad_input, std::string(what));
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// check_characters allows what people write around a number's digits, and nothing that
// libphonenumber would skip over or read as an extension ("ext. 12", letters as on a keypad).
result<void> check_characters(std::string_view v) {
  int open_parens = 0;
  bool any_digit = false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (is_digit(c)) {
      any_digit = true;
    } else if (c == '+') {
      if (i != 0) return refused("phone number has a '+' that is not at the start");
    } else if (c == '(') {
      if (open_parens != 0) return refused("phone number has nested parentheses");
      ++open_parens;
    } else if (c == ')') {
      if (open_parens != 1) return refused("phone number has unbalanced parentheses");
      --open_parens;
    } else if (c != ' ' && c != '-' && c != '.') {
      return refused("phone number may contain only digits, '+', spaces, '-', '.', '(' and ')'");
    }
  }
  if (open_parens != 0) return refused("phone number has unbalanced parentheses");
  if (!any_digit) return refused("phone number has no digits");
  return ok();
}

std::string_view parse_problem(PhoneNumberUtil::ErrorType e) {
  switch (e) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR: return "phone number has an unknown country code";
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
      return "phone number is too short after its international prefix";
    case PhoneNumberUtil::TOO_SHORT_NSN: return "phone number is too short";
    case PhoneNumberUtil::TOO_LONG_NSN: return "phone number is too long";
    default: return "phone number cannot be read";
  }
}

std::string_view possibility_problem(PhoneNumberUtil::ValidationResult r) {
  switch (r) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE: return "phone number has an unknown country code";
    case PhoneNumberUtil::TOO_SHORT: return "phone number is too short for its country";
    case PhoneNumberUtil::TOO_LONG: return "phone number is too long for its country";
    default: return "phone number has a length no number of its country has";
  }
}

}  // namespace

bool phone_region_known(std::string_view region) {
  if (region.size() != 2 ||
      !std::all_of(region.begin(), region.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return false;
  try {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    return util.GetCountryCodeForRegion(std::string(region)) != 0;
  } catch (const std::exception&) {
    return false;
  }
}

result<std::string> phone_to_e164(std::string_view text, std::string_view default_region) {
  CONSENTRY_TRY(check_characters(text));
  const bool international = !text.empty() && text.front() == '+';
  if (!international && default_region.empty())
    return refused("phone number has no country code (+...) and the policy sets no default_region");
  if (!international && !phone_region_known(default_region))
    return refused("the policy's default_region is not a region phone numbers are known for");
  try {
    const PhoneNumberUtil& util = *PhoneNumberUtil::GetInstance();
    PhoneNumber number;
    // "ZZ", the unknown region, accepts only numbers written with their country code.
    const std::string region = international ? std::string("ZZ") : std::string(default_region);
    const auto parsed = util.Parse(std::string(text), region, &number);
    if (parsed != PhoneNumberUtil::NO_PARSING_ERROR) return refused(parse_problem(parsed));
    const auto possible = util.IsPossibleNumberWithReason(number);
    if (possible != PhoneNumberUtil::IS_POSSIBLE && possible != PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY)
      return refused(possibility_problem(possible));
    if (possible == PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY)
      return refused("phone number lacks its area code");
    std::string out;
    util.Format(number, PhoneNumberUtil::E164, &out);
    return out;
  } catch (const std::exception&) {
    return make_error(errc::internal, "phone number could not be read (libphonenumber failed)");
  }
}

}  // namespace consentry::detail
