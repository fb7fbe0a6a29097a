// policy_time_test.cpp: ISO 8601 durations and UTC timestamps.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "consentry/time.hpp"

using consentry::format_timestamp;
using consentry::IsoDuration;
using consentry::parse_iso_duration;
using consentry::parse_timestamp;
using consentry::timestamp;

namespace {

timestamp at(const char* text) {
  const auto t = parse_timestamp(text);
  REQUIRE_MESSAGE(t.has_value(), text);
  return *t;
}

IsoDuration duration(const char* text) {
  const auto d = parse_iso_duration(text);
  REQUIRE_MESSAGE(d.has_value(), text);
  return *d;
}

std::string after(const char* d, const char* t) {
  return format_timestamp(duration(d).after(at(t)));
}

}  // namespace

TEST_CASE("durations parse into their parts") {
  CHECK(duration("P3Y") == IsoDuration{3, 0, 0, 0, 0, 0, 0});
  CHECK(duration("P24M") == IsoDuration{0, 24, 0, 0, 0, 0, 0});
  CHECK(duration("P7D") == IsoDuration{0, 0, 0, 7, 0, 0, 0});
  CHECK(duration("P2W") == IsoDuration{0, 0, 2, 0, 0, 0, 0});
  CHECK(duration("PT36H") == IsoDuration{0, 0, 0, 0, 36, 0, 0});
  CHECK(duration("P1Y2M10DT2H30M") == IsoDuration{1, 2, 0, 10, 2, 30, 0});
  CHECK(duration("PT1M") == IsoDuration{0, 0, 0, 0, 0, 1, 0});
  CHECK(duration("P1M") == IsoDuration{0, 1, 0, 0, 0, 0, 0});
  CHECK(duration("PT45S") == IsoDuration{0, 0, 0, 0, 0, 0, 45});
  CHECK(duration("P0D") == IsoDuration{});
  CHECK(duration("P1Y1M1W1DT1H1M1S") == IsoDuration{1, 1, 1, 1, 1, 1, 1});
}

TEST_CASE("malformed durations are refused") {
  for (const char* bad :
       {"",     "P",       "PT",           "P1.5Y", "P1,5Y", "-P1D",   "P-1D",  "P+1D",        "P1H",
        "P1S",  "PT1D",    "PT1Y",         "P1D1Y", "P1M1Y", "PT1S1H", "P1Y1Y", "PT1H1H",      "P1DT",
        "P1",   "1D",      "p1d",          "P1d",   "P 1D",  "P1D ",   " P1D",  "P1DT1H1M1S1", "PTT1H",
        "P1YT", "PT1HT1M", "P1234567890Y", "PY",    "P1W1W", "\xffP1D"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_iso_duration(bad).has_value());
  }
  CHECK_FALSE(parse_iso_duration(std::string_view("P1D\0", 4)).has_value());
}

TEST_CASE("to_string gives the canonical spelling, which parses back to the same duration") {
  CHECK(duration("P3Y").to_string() == "P3Y");
  CHECK(duration("P1Y6M").to_string() == "P1Y6M");
  CHECK(duration("PT12H").to_string() == "PT12H");
  CHECK(IsoDuration{}.to_string() == "P0D");
  CHECK(duration("P0Y0M").to_string() == "P0D");
  CHECK(duration("P1Y0M2DT0H3M").to_string() == "P1Y2DT3M");
  for (const char* text :
       {"P3Y", "P7D", "P2W", "PT36H", "P1Y2M10DT2H30M", "P1Y1M1W1DT1H1M1S", "PT1M", "P999999999D"}) {
    CAPTURE(text);
    const auto d = duration(text);
    CHECK(d.to_string() == text);
    CHECK(duration(d.to_string().c_str()) == d);
  }
}

TEST_CASE("adding months clamps to the end of the month") {
  CHECK(after("P1M", "2025-01-31T10:00:00Z") == "2025-02-28T10:00:00Z");
  CHECK(after("P1M", "2024-01-31T10:00:00Z") == "2024-02-29T10:00:00Z");
  CHECK(after("P1M", "2025-03-31T00:00:00Z") == "2025-04-30T00:00:00Z");
  CHECK(after("P2M", "2025-12-31T23:59:59Z") == "2026-02-28T23:59:59Z");
  CHECK(after("P13M", "2025-01-15T00:00:00Z") == "2026-02-15T00:00:00Z");
  CHECK(after("P24M", "2025-05-01T10:00:00Z") == "2027-05-01T10:00:00Z");
  CHECK(after("P1M", "2025-01-15T08:30:00Z") == "2025-02-15T08:30:00Z");
}

TEST_CASE("adding years handles 29 February") {
  CHECK(after("P1Y", "2024-02-29T12:00:00Z") == "2025-02-28T12:00:00Z");
  CHECK(after("P4Y", "2024-02-29T12:00:00Z") == "2028-02-29T12:00:00Z");
  CHECK(after("P100Y", "2000-02-29T00:00:00Z") == "2100-02-28T00:00:00Z");
  CHECK(after("P3Y", "2025-05-01T10:00:00Z") == "2028-05-01T10:00:00Z");
}

TEST_CASE("days, weeks and times are exact lengths") {
  CHECK(after("P7D", "2025-02-25T00:00:00Z") == "2025-03-04T00:00:00Z");
  CHECK(after("P7D", "2024-02-25T00:00:00Z") == "2024-03-03T00:00:00Z");
  CHECK(after("P2W", "2025-12-25T06:00:00Z") == "2026-01-08T06:00:00Z");
  CHECK(after("PT36H", "2025-05-01T18:00:00Z") == "2025-05-03T06:00:00Z");
  CHECK(after("PT90M", "2025-05-01T23:00:00Z") == "2025-05-02T00:30:00Z");
  CHECK(after("PT61S", "2025-05-01T23:59:00Z") == "2025-05-02T00:00:01Z");
  // Calendar parts first, then the exact ones: 31 Jan + 1 month = 28 Feb, + 1 day = 1 Mar.
  CHECK(after("P1M1D", "2025-01-31T00:00:00Z") == "2025-03-01T00:00:00Z");
  CHECK(after("P0D", "2025-05-01T10:00:00Z") == "2025-05-01T10:00:00Z");
}

TEST_CASE("huge durations saturate instead of wrapping round") {
  const timestamp start = at("2025-05-01T00:00:00Z");
  CHECK(duration("P999999999Y").after(start) == timestamp::max());
  CHECK(duration("P999999999Y").after(start) > start);
  CHECK(duration("P999999999D").after(start) > start);
  CHECK(duration("PT999999999H").after(start) > start);
}

TEST_CASE("moving back by a duration mirrors moving forward, clamping to the end of the month") {
  auto before = [](const char* d, const char* t) { return format_timestamp(duration(d).before(at(t))); };
  CHECK(before("P30D", "2026-03-15T12:00:00Z") == "2026-02-13T12:00:00Z");
  CHECK(before("P1M", "2025-03-31T10:00:00Z") == "2025-02-28T10:00:00Z");
  CHECK(before("P1Y", "2024-02-29T00:00:00Z") == "2023-02-28T00:00:00Z");
  CHECK(before("PT36H", "2026-01-02T00:00:00Z") == "2025-12-31T12:00:00Z");
  CHECK(before("P2W", "2026-01-10T00:00:00Z") == "2025-12-27T00:00:00Z");
  CHECK(duration("P0D").before(at("2026-01-01T00:00:00Z")) == at("2026-01-01T00:00:00Z"));
  CHECK(duration("P999999999Y").before(at("2026-01-01T00:00:00Z")) == timestamp::min());
}

TEST_CASE("timestamps parse in UTC, with offsets and as plain dates") {
  const timestamp t = at("2025-05-01T10:00:00Z");
  CHECK(t.time_since_epoch().count() == 1746093600);
  CHECK(at("2025-05-01T12:00:00+02:00") == t);
  CHECK(at("2025-05-01T05:30:00-04:30") == t);
  CHECK(at("2025-05-01T10:00:00+00:00") == t);
  CHECK(at("2025-05-01") == at("2025-05-01T00:00:00Z"));
  CHECK(at("1970-01-01T00:00:00Z").time_since_epoch().count() == 0);
  CHECK(at("1969-12-31T23:59:59Z").time_since_epoch().count() == -1);
  CHECK(at("2024-02-29") == at("2024-02-28T00:00:00Z") + std::chrono::days{1});
  // An offset can move the instant to another day.
  CHECK(format_timestamp(at("2025-01-01T01:00:00+03:00")) == "2024-12-31T22:00:00Z");
}

TEST_CASE("malformed or impossible timestamps are refused") {
  for (const char* bad : {"",
                          "2025",
                          "2025-05",
                          "2025-5-1",
                          "2025-05-01T10:00Z",
                          "2025-05-01T10:00:00",
                          "2025-05-01 10:00:00Z",
                          "2025-05-01t10:00:00z",
                          "2025-02-29",
                          "2024-02-30",
                          "2025-13-01",
                          "2025-00-10",
                          "2025-04-31",
                          "2025-05-01T24:00:00Z",
                          "2025-05-01T23:60:00Z",
                          "2025-05-01T23:59:60Z",
                          "2025-05-01T10:00:00+2:00",
                          "2025-05-01T10:00:00+02",
                          "2025-05-01T10:00:00+0200",
                          "2025-05-01T10:00:00+24:00",
                          "2025-05-01T10:00:00+02:60",
                          "2025-05-01T10:00:00ZZ",
                          "2025-05-01T10:00:00.5Z",
                          "+2025-05-01",
                          "2025-05-01Z",
                          "2025-05-01T",
                          "20250501",
                          "2025-05-01T10:00:00Z ",
                          "x025-05-01",
                          "2025-0a-01"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
}

TEST_CASE("an offset that moves a time out of years 0000 to 9999 is refused, so every time read writes back") {
  for (const std::string bad : {"0000-01-01T00:00:00+01:00", "0000-01-01T00:59:59+01:00",
                                "9999-12-31T23:59:59-14:00", "9999-12-31T23:00:00-01:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_timestamp(bad).has_value());
  }
  CHECK(format_timestamp(at("0000-01-01T01:00:00+01:00")) == "0000-01-01T00:00:00Z");
  CHECK(format_timestamp(at("9999-12-31T22:59:59-01:00")) == "9999-12-31T23:59:59Z");
  CHECK(format_timestamp(at("0000-01-01")) == "0000-01-01T00:00:00Z");
}

TEST_CASE("format_timestamp writes what parse_timestamp reads") {
  for (const char* text : {"2025-05-01T10:00:00Z", "1999-12-31T23:59:59Z", "2024-02-29T00:00:01Z",
                           "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"}) {
    CAPTURE(text);
    CHECK(format_timestamp(at(text)) == text);
  }
  const timestamp n = consentry::now();
  CHECK(at(format_timestamp(n).c_str()) == n);
}
