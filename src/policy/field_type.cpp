// field_type.cpp: field types and the validation and canonical form of values.
#include "consentry/field_type.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>

#include "policy/phone_number.hpp"
#include "text/utf8.hpp"

namespace consentry {
namespace {

constexpr std::size_t kMaxEmailBytes = 254;

// Strict UTF-8 (RFC 3629): no overlong encodings, no surrogates, nothing above U+10FFFF.
bool valid_utf8(std::string_view s) noexcept {
  return detail::utf8_valid(s);
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}
bool is_control(unsigned char c) noexcept {
  return c < 0x20 || c == 0x7F;
}
char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

error bad(std::string_view field, std::string_view what) {
  std::string msg = "field '";
  msg += field;
  msg += "': ";
  msg += what;
  return make_error(errc::bad_input, std::move(msg));
}

result<std::string> normalise_email(std::string_view field, std::string_view v) {
  if (v.size() > kMaxEmailBytes) return bad(field, "email address longer than 254 bytes");
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == ' ' || is_control(c)) return bad(field, "email address contains a space or control character");
  }
  const auto at = v.find('@');
  if (at == std::string_view::npos || v.find('@', at + 1) != std::string_view::npos)
    return bad(field, "email address must contain exactly one '@'");
  const std::string_view local = v.substr(0, at);
  const std::string_view domain = v.substr(at + 1);
  if (local.empty()) return bad(field, "email address has an empty local part");
  if (domain.find('.') == std::string_view::npos) return bad(field, "email domain has no dot");
  // Empty labels ("a@.example", "a@example..com", "a@example.") are never deliverable.
  if (domain.front() == '.' || domain.back() == '.' || domain.find("..") != std::string_view::npos)
    return bad(field, "email domain has an empty label");
  std::string out(local);
  out += '@';
  for (char c : domain) out += ascii_lower(c);
  return out;
}

result<std::string> normalise_date(std::string_view field, std::string_view v) {
  auto digits = [&](std::size_t pos, std::size_t count, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + count; ++i) {
      if (!is_digit(v[i])) return false;
      out = out * 10 + (v[i] - '0');
    }
    return true;
  };
  int y = 0, m = 0, d = 0;
  if (v.size() != 10 || v[4] != '-' || v[7] != '-' || !digits(0, 4, y) || !digits(5, 2, m) ||
      !digits(8, 2, d))
    return bad(field, "date must be YYYY-MM-DD");
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return bad(field, "date is not a real calendar date");
  return std::string(v);
}

result<std::string> normalise_integer(std::string_view field, std::string_view v) {
  std::string_view body = v;
  bool negative = false;
  if (!body.empty() && (body.front() == '+' || body.front() == '-')) {
    negative = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.empty()) return bad(field, "integer has no digits");
  for (char c : body)
    if (!is_digit(c)) return bad(field, "integer may contain only digits and a leading sign");
  // from_chars on the sign and digits only: it rejects what does not fit int64.
  std::string text = negative ? "-" : "";
  text += body;
  std::int64_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size())
    return bad(field, "integer does not fit in 64 bits");
  return std::to_string(value);
}

result<std::string> normalise_boolean(std::string_view field, std::string_view v) {
  std::string lower;
  for (char c : v) lower += ascii_lower(c);
  if (lower == "true" || lower == "1" || lower == "yes") return std::string("true");
  if (lower == "false" || lower == "0" || lower == "no") return std::string("false");
  return bad(field, "boolean must be true/false, yes/no or 1/0");
}

}  // namespace

bool is_phone_region(std::string_view region) {
  return detail::phone_region_known(region);
}

std::optional<FieldType> parse_field_type(std::string_view text) {
  if (text == "string") return FieldType::string;
  if (text == "email") return FieldType::email;
  if (text == "date") return FieldType::date;
  if (text == "phone") return FieldType::phone;
  if (text == "integer") return FieldType::integer;
  if (text == "boolean") return FieldType::boolean;
  return std::nullopt;
}

std::string_view to_string(FieldType t) noexcept {
  switch (t) {
    case FieldType::string: return "string";
    case FieldType::email: return "email";
    case FieldType::date: return "date";
    case FieldType::phone: return "phone";
    case FieldType::integer: return "integer";
    case FieldType::boolean: return "boolean";
  }
  return "string";
}

result<std::string> normalise_value(FieldType type, std::string_view field, std::string_view value,
                                    std::string_view default_region) {
  if (value.size() > kMaxValueBytes) return bad(field, "value longer than the 65536-byte limit");
  if (!valid_utf8(value)) return bad(field, "value is not valid UTF-8");
  if (value.find('\0') != std::string_view::npos) return bad(field, "value contains a NUL character");
  switch (type) {
    case FieldType::string: return std::string(value);
    case FieldType::email: return normalise_email(field, value);
    case FieldType::date: return normalise_date(field, value);
    case FieldType::phone: {
      auto e164 = detail::phone_to_e164(value, default_region);
      if (!e164) return bad(field, e164.err().message);
      return e164;
    }
    case FieldType::integer: return normalise_integer(field, value);
    case FieldType::boolean: return normalise_boolean(field, value);
  }
  return bad(field, "unknown field type");
}

}  // namespace consentry
