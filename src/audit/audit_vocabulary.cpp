// audit_vocabulary.cpp: the spellings of audit entries' purge reasons, read fields and aggregate
// reasons (audit.hpp). They are hashed into the chain, so none may change.
#include <array>
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

}  // namespace

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

}  // namespace consentry
