// form.cpp: the policy spelling of forms ("mask:last4", "generalise:bucket:10", ...).
#include "consentry/form.hpp"

namespace consentry {
namespace {

constexpr int kMaxFormParameter = 1000;

// Reads the parameter n of a form: decimal digits, no sign, no leading zero, 1..1000. Leading
// zeros are refused so that every accepted spelling is the one to_string writes back.
std::optional<int> parse_parameter(std::string_view text) {
  if (text.empty() || text.size() > 4 || text[0] == '0') return std::nullopt;
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > kMaxFormParameter) return std::nullopt;
  return v;
}

std::optional<Form> with_parameter(FormKind kind, std::string_view text) {
  const auto n = parse_parameter(text);
  if (!n) return std::nullopt;
  return Form{kind, *n};
}

}  // namespace

std::string Form::to_string() const {
  switch (kind) {
    case FormKind::clear: return "clear";
    case FormKind::mask_last: return "mask:last" + std::to_string(n);
    case FormKind::redact: return "redact";
    case FormKind::generalise_year: return "generalise:year";
    case FormKind::generalise_month: return "generalise:month";
    case FormKind::generalise_decade: return "generalise:decade";
    case FormKind::generalise_prefix: return "generalise:prefix:" + std::to_string(n);
    case FormKind::generalise_bucket: return "generalise:bucket:" + std::to_string(n);
    case FormKind::pseudonym: return "pseudonym";
    case FormKind::pseudonym_hmac: return "pseudonym:hmac-sha256";
    case FormKind::token: return "token";
  }
  return "redact";
}

std::optional<Form> parse_form(std::string_view text) {
  if (text == "clear") return Form{FormKind::clear, 0};
  if (text == "redact") return Form{FormKind::redact, 0};
  if (text == "pseudonym") return Form{FormKind::pseudonym, 0};
  if (text == "pseudonym:hmac-sha256") return Form{FormKind::pseudonym_hmac, 0};
  if (text == "token") return Form{FormKind::token, 0};
  if (text == "generalise:year") return Form{FormKind::generalise_year, 0};
  if (text == "generalise:month") return Form{FormKind::generalise_month, 0};
  if (text == "generalise:decade") return Form{FormKind::generalise_decade, 0};

  constexpr std::string_view kMask = "mask:last";
  constexpr std::string_view kPrefix = "generalise:prefix:";
  constexpr std::string_view kBucket = "generalise:bucket:";
  if (text.starts_with(kMask)) return with_parameter(FormKind::mask_last, text.substr(kMask.size()));
  if (text.starts_with(kPrefix))
    return with_parameter(FormKind::generalise_prefix, text.substr(kPrefix.size()));
  if (text.starts_with(kBucket))
    return with_parameter(FormKind::generalise_bucket, text.substr(kBucket.size()));
  return std::nullopt;
}

}  // namespace consentry
