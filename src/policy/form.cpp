// form.cpp: the policy spelling of forms ("mask:last4", "generalise:bucket:10", "replace:N/A", ...).
#include "consentry/form.hpp"

#include "text/utf8.hpp"

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
  return Form{kind, *n, {}};
}

// Reads the text of a replace form: 1 to kMaxReplaceText code points of well-formed UTF-8, none a
// control character (C0, DEL or C1), so that it prints on one line wherever it is shown.
std::optional<Form> replace_text(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, len] = detail::utf8_decode(text, i);
    if (len == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return std::nullopt;
    if (++count > kMaxReplaceText) return std::nullopt;
    i += len;
  }
  if (count == 0) return std::nullopt;
  return Form{FormKind::replace, 0, std::string(text)};
}

}  // namespace

std::string Form::to_string() const {
  switch (kind) {
    case FormKind::clear: return "clear";
    case FormKind::mask_last: return "mask:last" + std::to_string(n);
    case FormKind::mask_first: return "mask:first" + std::to_string(n);
    case FormKind::mask_email: return "mask:email";
    case FormKind::replace: return "replace:" + text;
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
  if (text == "mask:email") return Form{FormKind::mask_email, 0};

  constexpr std::string_view kMask = "mask:last";
  constexpr std::string_view kMaskFirst = "mask:first";
  constexpr std::string_view kReplace = "replace:";
  constexpr std::string_view kPrefix = "generalise:prefix:";
  constexpr std::string_view kBucket = "generalise:bucket:";
  if (text.starts_with(kMask)) return with_parameter(FormKind::mask_last, text.substr(kMask.size()));
  if (text.starts_with(kMaskFirst))
    return with_parameter(FormKind::mask_first, text.substr(kMaskFirst.size()));
  if (text.starts_with(kReplace)) return replace_text(text.substr(kReplace.size()));
  if (text.starts_with(kPrefix))
    return with_parameter(FormKind::generalise_prefix, text.substr(kPrefix.size()));
  if (text.starts_with(kBucket))
    return with_parameter(FormKind::generalise_bucket, text.substr(kBucket.size()));
  return std::nullopt;
}

}  // namespace consentry
