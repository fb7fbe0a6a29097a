// audit_vocabulary.cpp: the spellings of audit entries' purge reasons, read fields, aggregate
// reasons, staff views and erasure details (audit.hpp). They are hashed into the chain, so none
// may change.
#include <array>
#include <charconv>
#include <string>
#include <string_view>
#include <utility>

#include "consentry/audit.hpp"

namespace consentry {

namespace {

constexpr std::array<std::pair<std::string_view, PurgeReason>, 4> kPurgeReasonSpellings{{
    {"retention_expired", PurgeReason::retention_expired},
    {"profiling_withdrawn", PurgeReason::profiling_withdrawn},
    {"profiling_lapsed", PurgeReason::profiling_lapsed},
    {"policy_field_removed", PurgeReason::policy_field_removed},
}};

constexpr std::array<std::pair<std::string_view, StaffView>, 2> kStaffViewSpellings{{
    {"subject_audit", StaffView::subject_audit},
    {"consent", StaffView::consent},
}};

constexpr std::string_view kErasureValues = "values=";
constexpr std::string_view kErasureFields = "fields=";
constexpr std::string_view kErasureConsentEvents = "consent_events=";
constexpr std::string_view kErasureRequest = "request=";

/// parse_count reads a non-negative decimal count; nullopt for anything else.
std::optional<std::int64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 0) return std::nullopt;
  return n;
}

/// after returns what follows `prefix` in `text`, nullopt when `text` does not start with it.
std::optional<std::string_view> after(std::string_view text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return std::nullopt;
  return text.substr(prefix.size());
}

}  // namespace

std::string_view to_string(StaffView v) noexcept {
  for (const auto& [spelling, view] : kStaffViewSpellings)
    if (view == v) return spelling;
  return kStaffViewSpellings[0].first;
}

std::optional<StaffView> parse_staff_view(std::string_view text) {
  for (const auto& [spelling, view] : kStaffViewSpellings)
    if (spelling == text) return view;
  return std::nullopt;
}

std::vector<std::string> format_erasure_details(const ErasureDetails& details) {
  std::vector<std::string> out;
  auto count = [&](std::string_view prefix, const std::optional<std::int64_t>& n) {
    if (n) out.push_back(std::string(prefix) + std::to_string(*n));
  };
  count(kErasureValues, details.values);
  count(kErasureFields, details.fields);
  count(kErasureConsentEvents, details.consent_events);
  if (!details.request.empty()) out.push_back(std::string(kErasureRequest) + details.request);
  return out;
}

std::optional<ErasureDetails> parse_erasure_details(const std::vector<std::string>& fields) {
  ErasureDetails details;
  for (const std::string& text : fields) {
    std::optional<std::int64_t>* target = nullptr;
    std::optional<std::string_view> rest;
    if ((rest = after(text, kErasureValues))) {
      target = &details.values;
    } else if ((rest = after(text, kErasureFields))) {
      target = &details.fields;
    } else if ((rest = after(text, kErasureConsentEvents))) {
      target = &details.consent_events;
    } else if ((rest = after(text, kErasureRequest))) {
      if (rest->empty() || !details.request.empty()) return std::nullopt;
      details.request = std::string(*rest);
      continue;
    } else {
      return std::nullopt;
    }
    const auto n = parse_count(*rest);
    if (!n || target->has_value()) return std::nullopt;
    *target = n;
  }
  return details;
}

std::string_view to_string(PurgeReason r) noexcept {
  for (const auto& [spelling, reason] : kPurgeReasonSpellings)
    if (reason == r) return spelling;
  return kPurgeReasonSpellings[0].first;
}

std::optional<PurgeReason> parse_purge_reason(std::string_view text) {
  for (const auto& [spelling, reason] : kPurgeReasonSpellings)
    if (spelling == text) return reason;
  return std::nullopt;
}

std::string format_read_field(std::string_view field, std::string_view form) {
  std::string out;
  out.reserve(field.size() + 1 + form.size());
  out.append(field).append(":").append(form);
  return out;
}

std::optional<ReadField> parse_read_field(std::string_view text) noexcept {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  return ReadField{text.substr(0, colon), text.substr(colon + 1)};
}

std::string epsilon_reason(std::string_view epsilon_text) {
  return "epsilon=" + std::string(epsilon_text);
}

std::string lookup_reason(std::size_t candidates, std::size_t matches) {
  return "candidates=" + std::to_string(candidates) + " matches=" + std::to_string(matches);
}

}  // namespace consentry
