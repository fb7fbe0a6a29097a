// time.hpp: instants (UTC, whole seconds) and ISO 8601 durations such as P3Y or P7D.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace consentry {

/// timestamp is an instant in UTC with one-second resolution.
using timestamp = std::chrono::sys_seconds;

/// now is the current time, truncated to seconds.
inline timestamp now() {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
}

/// IsoDuration is an ISO 8601 duration (PnYnMnWnDTnHnMnS). Years and months are calendar
/// units: P1M after 31 January is the last day of February.
struct IsoDuration {
  int years = 0, months = 0, weeks = 0, days = 0;
  std::int64_t hours = 0, minutes = 0, seconds = 0;

  /// after returns `t` moved forward by this duration.
  timestamp after(timestamp t) const;
  /// before returns `t` moved back by this duration (P1M before 31 March is the last day of
  /// February), saturating at the earliest timestamp.
  timestamp before(timestamp t) const;
  /// to_string gives the canonical text (P3Y, P1Y6M, PT12H; P0D for zero).
  std::string to_string() const;
  bool operator==(const IsoDuration&) const = default;

 private:
  timestamp moved(timestamp t, int sign) const;
};

/// parse_iso_duration reads "P3Y", "P7D", "P1Y2M10DT2H30M", "P2W", "PT36H". Returns nullopt on
/// anything else: negative or fractional parts, an empty "P", a "T" with no time part,
/// misordered designators.
std::optional<IsoDuration> parse_iso_duration(std::string_view text);

/// parse_timestamp reads "2025-05-01T10:00:00Z", "2025-05-01T10:00:00+02:00" or "2025-05-01"
/// (midnight UTC). Returns nullopt on anything else, an impossible date, or an offset that moves
/// the instant out of years 0000-9999 (format_timestamp could not write it back).
std::optional<timestamp> parse_timestamp(std::string_view text);

/// format_timestamp writes "2025-05-01T10:00:00Z".
std::string format_timestamp(timestamp t);

}  // namespace consentry
