// signal_column.hpp: how the stores keep a consent event's signal (ConsentSignal) in the one
// nullable text column consent_events.signal: "KIND CMP CREATED", the kind, the CMP id and the
// Unix time the signal was made, separated by single spaces; NULL for an event recorded directly.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry::detail {

/// signal_column gives the column text of `signal`.
inline std::string signal_column(const ConsentSignal& signal) {
  return signal.kind + " " + std::to_string(signal.cmp_id) + " " +
         std::to_string(signal.created.time_since_epoch().count());
}

/// parse_signal_column reads a column written by signal_column; errc::integrity, naming
/// `operation`, for text of any other shape.
inline result<ConsentSignal> parse_signal_column(std::string_view text, std::string_view operation) {
  const auto bad = [&] {
    return make_error(errc::integrity,
                      std::string(operation) + ": consent_events row has a malformed signal");
  };
  const std::size_t first = text.find(' ');
  const std::size_t second = first == std::string_view::npos ? first : text.find(' ', first + 1);
  if (second == std::string_view::npos) return bad();
  ConsentSignal s;
  s.kind = std::string(text.substr(0, first));
  if (s.kind != "tcf" && s.kind != "gpp" && s.kind != "gpc") return bad();
  const std::string_view cmp = text.substr(first + 1, second - first - 1);
  const std::string_view created = text.substr(second + 1);
  std::int64_t unix_time = 0;
  auto c1 = std::from_chars(cmp.data(), cmp.data() + cmp.size(), s.cmp_id);
  auto c2 = std::from_chars(created.data(), created.data() + created.size(), unix_time);
  if (cmp.empty() || c1.ec != std::errc{} || c1.ptr != cmp.data() + cmp.size() || s.cmp_id < 0 ||
      created.empty() || c2.ec != std::errc{} || c2.ptr != created.data() + created.size())
    return bad();
  s.created = timestamp{std::chrono::seconds{unix_time}};
  return s;
}

}  // namespace consentry::detail
