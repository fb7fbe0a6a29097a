// policy_field_type_test.cpp: field types and the canonical form of values.
#include <doctest/doctest.h>

#include <string>

#include "consentry/field_type.hpp"

using consentry::errc;
using consentry::FieldType;
using consentry::normalise_value;

namespace {

std::string norm(FieldType t, std::string_view v) {
  auto r = normalise_value(t, "f", v);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().message));
  return *r;
}

// refused checks that `v` is refused as bad input whose message names the field but not the value.
void refused(FieldType t, std::string_view v) {
  CAPTURE(std::string(v));
  auto r = normalise_value(t, "the_field", v);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message.find("the_field") != std::string::npos);
  if (v.size() >= 3) CHECK(r.err().message.find(v) == std::string::npos);
}

}  // namespace

TEST_CASE("field types parse and print") {
  for (FieldType t : {FieldType::string, FieldType::email, FieldType::date, FieldType::phone,
                      FieldType::integer, FieldType::boolean}) {
    const auto back = consentry::parse_field_type(consentry::to_string(t));
    REQUIRE(back.has_value());
    CHECK(*back == t);
  }
  for (const char* bad : {"", "String", "int", "bool", "url", "email "}) {
    CAPTURE(bad);
    CHECK_FALSE(consentry::parse_field_type(bad).has_value());
  }
}

TEST_CASE("emails keep the local part and lowercase the domain") {
  CHECK(norm(FieldType::email, "ann@example.com") == "ann@example.com");
  CHECK(norm(FieldType::email, "Ann.Lee@Example.COM") == "Ann.Lee@example.com");
  CHECK(norm(FieldType::email, "x+tag@mail.example.co.uk") == "x+tag@mail.example.co.uk");
  CHECK(norm(FieldType::email,
             "j\xc3\xb6rg@b\xc3\xbc"
             "cher.example") ==
        "j\xc3\xb6rg@b\xc3\xbc"
        "cher.example");
  const std::string longest = std::string(64, 'a') + "@" + std::string(185, 'b') + ".com";
  REQUIRE(longest.size() == 254);
  CHECK(norm(FieldType::email, longest) == longest);
}

TEST_CASE("malformed emails are refused") {
  for (const char* bad : {"", "ann", "ann@", "@example.com", "ann@example", "ann@@example.com",
                          "ann@b@example.com", "ann lee@example.com", "ann@example.com ", " ann@example.com",
                          "ann@exa\tmple.com", "ann@example.com\n", "ann@.example.com", "ann@example..com",
                          "ann@example.com.", "ann\x7f@example.com"}) {
    refused(FieldType::email, bad);
  }
  refused(FieldType::email, std::string(64, 'a') + "@" + std::string(186, 'b') + ".com");
  refused(FieldType::email, "ann\xff@example.com");
  refused(FieldType::email, std::string("ann\0@example.com", 16));
}

TEST_CASE("dates must be real calendar dates in YYYY-MM-DD") {
  CHECK(norm(FieldType::date, "1990-04-02") == "1990-04-02");
  CHECK(norm(FieldType::date, "2024-02-29") == "2024-02-29");
  CHECK(norm(FieldType::date, "2000-02-29") == "2000-02-29");
  for (const char* bad : {"", "1990-4-2", "1990/04/02", "02-04-1990", "1990-04-02T00:00:00Z", "2023-02-29",
                          "1900-02-29", "1990-13-01", "1990-00-01", "1990-04-00", "1990-04-31", "1990-04-02 ",
                          "199O-04-02", "+990-04-02", "1990-04-0\xd9", "19900402"}) {
    refused(FieldType::date, bad);
  }
}

TEST_CASE("phone numbers are stored in E.164, read by libphonenumber") {
  CHECK(norm(FieldType::phone, "+44 7700 900123") == "+447700900123");
  // The national trunk prefix some write after the country code is not part of the number.
  CHECK(norm(FieldType::phone, "+44 (0)7700 900382") == "+447700900382");
  CHECK(norm(FieldType::phone, "+1 (555) 010.4477") == "+15550104477");
  CHECK(norm(FieldType::phone, "+49 30 901820") == "+4930901820");
  for (const char* bad :
       {"", "+", "+1 234 56", "+44 7700 900123 ext 5", "44+7700900123", "++447700900123", "0800-FLOWERS",
        "(020 7946 0018", "020) 7946 0018", "((020)) 7946 0018", "07700\t900123", "07700/900123",
        "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4\xd9\xa5\xd9\xa6\xd9\xa7", "+123456789012345", "+999 7700 900123",
        "+44 7700 9001234567", "( )", "- . -"}) {
    refused(FieldType::phone, bad);
  }
}

TEST_CASE("a phone number without its country code is read in the default region, or refused") {
  auto in = [](std::string_view region, std::string_view v) {
    auto r = normalise_value(FieldType::phone, "f", v, region);
    REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().message));
    return *r;
  };
  CHECK(in("GB", "07700 900382") == "+447700900382");
  CHECK(in("GB", "(020) 7946-0018") == "+442079460018");
  CHECK(in("US", "(202) 555-0143") == "+12025550143");
  // A country code, or the region's international prefix, wins over the region.
  CHECK(in("GB", "+1 202 555 0143") == "+12025550143");
  CHECK(in("GB", "00 1 202 555 0143") == "+12025550143");
  CHECK(in("DE", "030 901820") == "+4930901820");
  // Written the same way, a number is one of whichever region the policy names.
  CHECK(in("FR", "01 23 45 67 89") == "+33123456789");
  CHECK(in("GB", "01234 567 890") == "+441234567890");

  for (const char* national : {"07700 900382", "(020) 7946-0018", "1234567"}) {
    CAPTURE(national);
    auto r = normalise_value(FieldType::phone, "the_field", national);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find("default_region") != std::string::npos);
    CHECK(r.err().message.find(national) == std::string::npos);
  }
  // Too short, too long or no number at all for the region: refused, never guessed at.
  for (const char* bad : {"123", "0770090038212345678", "0"}) {
    CAPTURE(bad);
    auto r = normalise_value(FieldType::phone, "the_field", bad, "GB");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
  }
  CHECK(consentry::is_phone_region("GB"));
  CHECK(consentry::is_phone_region("US"));
  CHECK_FALSE(consentry::is_phone_region("XX"));
  CHECK_FALSE(consentry::is_phone_region("gb"));
  CHECK_FALSE(consentry::is_phone_region(""));
}

TEST_CASE("integers fit int64 and are written without sign clutter") {
  CHECK(norm(FieldType::integer, "0") == "0");
  CHECK(norm(FieldType::integer, "-0") == "0");
  CHECK(norm(FieldType::integer, "+42") == "42");
  CHECK(norm(FieldType::integer, "007") == "7");
  CHECK(norm(FieldType::integer, "-0012") == "-12");
  CHECK(norm(FieldType::integer, "9223372036854775807") == "9223372036854775807");
  CHECK(norm(FieldType::integer, "-9223372036854775808") == "-9223372036854775808");
  for (const char* bad : {"", "+", "-", "1.5", "1e3", " 1", "1 ", "1,000", "0x10", "9223372036854775808",
                          "-9223372036854775809", "99999999999999999999999", "--1", "+-1", "\xd9\xa1"}) {
    refused(FieldType::integer, bad);
  }
}

TEST_CASE("booleans accept true/false, yes/no and 1/0 in any case") {
  for (const char* yes : {"true", "TRUE", "True", "yes", "YES", "Yes", "1"})
    CHECK(norm(FieldType::boolean, yes) == "true");
  for (const char* no : {"false", "FALSE", "no", "No", "0"}) CHECK(norm(FieldType::boolean, no) == "false");
  for (const char* bad : {"", "y", "n", "t", "f", "2", "01", "truee", "\ttrue", "on", "off"})
    refused(FieldType::boolean, bad);
}

TEST_CASE("strings accept any valid UTF-8 up to the size limit") {
  CHECK(norm(FieldType::string, "") == "");
  CHECK(norm(FieldType::string, "Fran\xc3\xa7oise \xe2\x82\xac \xf0\x9f\x98\x80") ==
        "Fran\xc3\xa7oise \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(norm(FieldType::string, "line one\nline two") == "line one\nline two");
  const std::string max(consentry::kMaxValueBytes, 'x');
  CHECK(norm(FieldType::string, max) == max);
  refused(FieldType::string, max + "x");
  refused(FieldType::string, std::string("a\0b", 3));
}

TEST_CASE("invalid UTF-8 is refused for every type") {
  const std::string bad_sequences[] = {
      "\x80",              // lone continuation byte
      "\xc3",              // truncated two-byte sequence
      "\xc0\xaf",          // overlong '/'
      "\xc1\xbf",          // overlong
      "\xe0\x80\xaf",      // overlong three-byte
      "\xed\xa0\x80",      // UTF-16 surrogate
      "\xf0\x82\x82\xac",  // overlong four-byte
      "\xf4\x90\x80\x80",  // above U+10FFFF
      "\xf5\x80\x80\x80",  // invalid lead byte
      "\xff",
      "\xe2\x82",      // truncated three-byte
      "\xe2\x28\xa1",  // bad continuation
  };
  for (const auto& seq : bad_sequences) {
    for (FieldType t : {FieldType::string, FieldType::email, FieldType::date, FieldType::phone,
                        FieldType::integer, FieldType::boolean}) {
      CAPTURE(consentry::to_string(t));
      refused(t, "ab" + seq + "cd@example.com");
    }
  }
  // The boundaries of the valid ranges are accepted.
  CHECK(norm(FieldType::string,
             "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf") ==
        "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
}
