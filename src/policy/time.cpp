// time.cpp: ISO 8601 durations and UTC timestamps.
#include "consentry/time.hpp"

#include <cstdint>
#include <cstdio>
#include <limits>

namespace consentry {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

// Each number in a duration is capped so that every later multiplication stays far from int64
// overflow; nine digits is more than any retention or consent period needs.
constexpr int kMaxDurationDigits = 9;

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

// Reads exactly `count` digits at `pos`; false when any of them is not a digit.
bool fixed_digits(std::string_view s, std::size_t pos, std::size_t count, int& out) noexcept {
  if (pos + count > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (!is_digit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Reads "YYYY-MM-DD" at the start of `s`; nullopt unless it is a real calendar date.
std::optional<std::chrono::sys_days> read_date(std::string_view s) noexcept {
  int y = 0, m = 0, d = 0;
  if (s.size() < 10 || !fixed_digits(s, 0, 4, y) || s[4] != '-' || !fixed_digits(s, 5, 2, m) || s[7] != '-' ||
      !fixed_digits(s, 8, 2, d))
    return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(m)}, day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

}  // namespace

timestamp IsoDuration::after(timestamp t) const {
  return moved(t, 1);
}

timestamp IsoDuration::before(timestamp t) const {
  return moved(t, -1);
}

timestamp IsoDuration::moved(timestamp t, int sign) const {
  const auto day_start = std::chrono::floor<std::chrono::days>(t);
  const auto time_of_day = t - day_start;
  const year_month_day ymd{day_start};

  // Calendar arithmetic in 64 bits so that large durations saturate instead of wrapping.
  const std::int64_t month_index = static_cast<std::int64_t>(static_cast<int>(ymd.year())) * 12 +
                                   (static_cast<unsigned>(ymd.month()) - 1) +
                                   sign * (static_cast<std::int64_t>(years) * 12 + months);
  std::int64_t new_year = month_index / 12;
  std::int64_t new_month0 = month_index % 12;
  if (new_month0 < 0) {
    new_month0 += 12;
    new_year -= 1;
  }
  if (new_year > static_cast<int>(year::max())) return timestamp::max();
  if (new_year < static_cast<int>(year::min())) return timestamp::min();

  const year y{static_cast<int>(new_year)};
  const month m{static_cast<unsigned>(new_month0 + 1)};
  // P1M after 31 January lands on the last day of February, not in March.
  const day last = std::chrono::year_month_day_last{y, std::chrono::month_day_last{m}}.day();
  const day d = ymd.day() > last ? last : ymd.day();
  const timestamp shifted = std::chrono::sys_days{year_month_day{y, m, d}} + time_of_day;

  const std::int64_t fixed_seconds = sign * ((static_cast<std::int64_t>(weeks) * 7 + this->days) * 86400 +
                                             hours * 3600 + minutes * 60 + seconds);
  const auto max_rep = timestamp::max().time_since_epoch().count();
  const auto min_rep = timestamp::min().time_since_epoch().count();
  if (fixed_seconds > 0 && shifted.time_since_epoch().count() > max_rep - fixed_seconds)
    return timestamp::max();
  if (fixed_seconds < 0 && shifted.time_since_epoch().count() < min_rep - fixed_seconds)
    return timestamp::min();
  return shifted + std::chrono::seconds{fixed_seconds};
}

std::string IsoDuration::to_string() const {
  std::string out = "P";
  auto part = [&out](std::int64_t v, char unit) {
    if (v != 0) {
      out += std::to_string(v);
      out += unit;
    }
  };
  part(years, 'Y');
  part(months, 'M');
  part(weeks, 'W');
  part(days, 'D');
  if (hours != 0 || minutes != 0 || seconds != 0) {
    out += 'T';
    part(hours, 'H');
    part(minutes, 'M');
    part(seconds, 'S');
  }
  if (out == "P") out = "P0D";
  return out;
}

std::optional<IsoDuration> parse_iso_duration(std::string_view text) {
  if (text.size() < 3 || text[0] != 'P') return std::nullopt;
  IsoDuration d;
  std::size_t pos = 1;
  bool in_time = false;
  bool any_part = false;
  bool any_time_part = false;
  // Designators must appear in this order, each at most once; `next` is the first still allowed.
  static constexpr std::string_view kDateOrder = "YMWD";
  static constexpr std::string_view kTimeOrder = "HMS";
  std::size_t next = 0;
  while (pos < text.size()) {
    if (text[pos] == 'T') {
      if (in_time) return std::nullopt;
      in_time = true;
      next = 0;
      ++pos;
      continue;
    }
    const std::size_t start = pos;
    std::int64_t value = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      value = value * 10 + (text[pos] - '0');
      ++pos;
      if (pos - start > kMaxDurationDigits) return std::nullopt;
    }
    if (pos == start || pos == text.size()) return std::nullopt;
    const char unit = text[pos++];
    const std::string_view order = in_time ? kTimeOrder : kDateOrder;
    const std::size_t at = order.find(unit, next);
    if (at == std::string_view::npos) return std::nullopt;
    next = at + 1;
    any_part = true;
    if (in_time) {
      any_time_part = true;
      switch (unit) {
        case 'H': d.hours = value; break;
        case 'M': d.minutes = value; break;
        default: d.seconds = value; break;
      }
    } else {
      const int v = static_cast<int>(value);
      switch (unit) {
        case 'Y': d.years = v; break;
        case 'M': d.months = v; break;
        case 'W': d.weeks = v; break;
        default: d.days = v; break;
      }
    }
  }
  if (!any_part || (in_time && !any_time_part)) return std::nullopt;
  return d;
}

std::optional<timestamp> parse_timestamp(std::string_view text) {
  const auto date = read_date(text);
  if (!date) return std::nullopt;
  if (text.size() == 10) return timestamp{*date};

  // "YYYY-MM-DDTHH:MM:SS" followed by "Z" or "+HH:MM" / "-HH:MM".
  int hh = 0, mm = 0, ss = 0;
  if (text.size() < 20 || text[10] != 'T' || !fixed_digits(text, 11, 2, hh) || text[13] != ':' ||
      !fixed_digits(text, 14, 2, mm) || text[16] != ':' || !fixed_digits(text, 17, 2, ss))
    return std::nullopt;
  if (hh > 23 || mm > 59 || ss > 59) return std::nullopt;
  timestamp t =
      timestamp{*date} + std::chrono::hours{hh} + std::chrono::minutes{mm} + std::chrono::seconds{ss};
  const std::string_view zone = text.substr(19);
  if (zone == "Z") return t;
  int oh = 0, om = 0;
  if (zone.size() != 6 || (zone[0] != '+' && zone[0] != '-') || !fixed_digits(zone, 1, 2, oh) ||
      zone[3] != ':' || !fixed_digits(zone, 4, 2, om))
    return std::nullopt;
  if (oh > 23 || om > 59) return std::nullopt;
  const auto offset = std::chrono::hours{oh} + std::chrono::minutes{om};
  // Local time = UTC + offset, so UTC = local - offset.
  const timestamp utc = zone[0] == '+' ? t - offset : t + offset;
  // An offset can carry the instant out of years 0000-9999, which format_timestamp cannot write
  // back in a form this function reads: an exported or checkpointed time would not read again.
  constexpr std::chrono::sys_days kFirst{year{0} / 1 / 1};
  constexpr std::chrono::sys_days kEnd{year{10000} / 1 / 1};
  if (utc < kFirst || utc >= kEnd) return std::nullopt;
  return utc;
}

std::string format_timestamp(timestamp t) {
  const auto day_start = std::chrono::floor<std::chrono::days>(t);
  const year_month_day ymd{day_start};
  const std::chrono::hh_mm_ss<std::chrono::seconds> hms{t - day_start};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

}  // namespace consentry
