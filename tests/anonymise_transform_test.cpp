// anonymise_transform_test.cpp: stored values produced in the form a purpose may see.
#include <doctest/doctest.h>
#include <sodium.h>

#include <set>
#include <string>

#include "consentry/anonymise/transform.hpp"

using consentry::apply_form;
using consentry::deny_reason;
using consentry::errc;
using consentry::FieldType;
using consentry::Form;
using consentry::FormKind;
using consentry::SecretBytes;

namespace {

SecretBytes key_of(char fill) {
  return SecretBytes::copy_of(std::string(32, fill));
}

std::string apply(const char* form, FieldType type, std::string_view value) {
  const auto f = consentry::parse_form(form);
  REQUIRE(f.has_value());
  const SecretBytes key = key_of('k');
  auto r = apply_form(*f, type, value, key);
  REQUIRE_MESSAGE(r.ok(), (r.ok() ? std::string() : r.err().message));
  return *r;
}

// unavailable checks that `form` cannot be produced for `value`, and that the message names the
// form but not the value.
void unavailable(const char* form, FieldType type, std::string_view value) {
  CAPTURE(form);
  CAPTURE(std::string(value));
  const auto f = consentry::parse_form(form);
  REQUIRE(f.has_value());
  const SecretBytes key = key_of('k');
  auto r = apply_form(*f, type, value, key);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::denied);
  CHECK(r.err().reason == deny_reason::form_unavailable);
  CHECK(r.err().message.find(form) != std::string::npos);
  if (!value.empty()) CHECK(r.err().message.find(value) == std::string::npos);
}

}  // namespace

TEST_CASE("clear and redact") {
  CHECK(apply("clear", FieldType::email, "ann@example.com") == "ann@example.com");
  CHECK(apply("redact", FieldType::email, "ann@example.com").empty());
  CHECK(apply("redact", FieldType::integer, "720").empty());
}

TEST_CASE("mask keeps the last characters, counted in code points") {
  CHECK(apply("mask:last4", FieldType::phone, "+447700900123") == "*********0123");
  CHECK(apply("mask:last1", FieldType::string, "abc") == "**c");
  CHECK(apply("mask:last2", FieldType::string, "Fran\xc3\xa7ois\xc3\xa9") == "*******s\xc3\xa9");
  CHECK(apply("mask:last3", FieldType::string,
              "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82\xf0\x9f\x98\x83") ==
        "*\xf0\x9f\x98\x81\xf0\x9f\x98\x82\xf0\x9f\x98\x83");
}

TEST_CASE("mask never shows the whole of a short value") {
  CHECK(apply("mask:last4", FieldType::string, "1234") == "****");
  CHECK(apply("mask:last4", FieldType::string, "12") == "**");
  CHECK(apply("mask:last4", FieldType::string, "\xc3\xa9\xc3\xa9") == "**");
  CHECK(apply("mask:last4", FieldType::string, "").empty());
  CHECK(apply("mask:last4", FieldType::string, "12345") == "*2345");
}

TEST_CASE("mask:firstN keeps the first characters, counted in code points") {
  CHECK(apply("mask:first3", FieldType::string, "SW1A 1AA") == "SW1*****");
  CHECK(apply("mask:first1", FieldType::phone, "+447700900123") == "+************");
  CHECK(apply("mask:first2", FieldType::string, "Fran\xc3\xa7ois") == "Fr******");
  CHECK(apply("mask:first1", FieldType::string, "\xc3\xa9t\xc3\xa9") == "\xc3\xa9**");
  // Like mask:lastN, a value no longer than N is starred completely.
  CHECK(apply("mask:first4", FieldType::string, "1234") == "****");
  CHECK(apply("mask:first4", FieldType::string, "\xc3\xa9") == "*");
  CHECK(apply("mask:first4", FieldType::string, "").empty());
}

TEST_CASE("mask:email keeps the domain and stars the local part") {
  CHECK(apply("mask:email", FieldType::email, "ann@example.com") == "***@example.com");
  CHECK(apply("mask:email", FieldType::email, "a@b") == "*@b");
  CHECK(apply("mask:email", FieldType::email, "j\xc3\xb6rg@example.de") == "****@example.de");
  CHECK(apply("mask:email", FieldType::email, "\"a@b\"@example.com") == "*****@example.com");
  unavailable("mask:email", FieldType::email, "ann.example.com");
  unavailable("mask:email", FieldType::email, "@example.com");
  unavailable("mask:email", FieldType::email, "ann@");
  unavailable("mask:email", FieldType::email, "");
  unavailable("mask:email", FieldType::string, "ann@example.com");
  unavailable("mask:email", FieldType::phone, "+447700900123");
}

TEST_CASE("replace:TEXT gives its text whatever the value") {
  CHECK(apply("replace:REDACTED", FieldType::email, "ann@example.com") == "REDACTED");
  CHECK(apply("replace:n/a", FieldType::date, "1990-04-02") == "n/a");
  CHECK(apply("replace:n/a", FieldType::integer, "") == "n/a");
}

TEST_CASE("generalise a date to year, month or decade") {
  CHECK(apply("generalise:year", FieldType::date, "1990-04-02") == "1990");
  CHECK(apply("generalise:month", FieldType::date, "1990-04-02") == "1990-04");
  CHECK(apply("generalise:decade", FieldType::date, "1990-04-02") == "1990s");
  CHECK(apply("generalise:decade", FieldType::date, "1989-12-31") == "1980s");
  CHECK(apply("generalise:decade", FieldType::date, "2000-01-01") == "2000s");
}

TEST_CASE("generalise an integer to its decade or bucket") {
  CHECK(apply("generalise:decade", FieldType::integer, "34") == "30-39");
  CHECK(apply("generalise:decade", FieldType::integer, "0") == "0-9");
  CHECK(apply("generalise:decade", FieldType::integer, "-1") == "-10--1");
  CHECK(apply("generalise:bucket:10", FieldType::integer, "30") == "30-39");
  CHECK(apply("generalise:bucket:10", FieldType::integer, "39") == "30-39");
  CHECK(apply("generalise:bucket:100", FieldType::integer, "720") == "700-799");
  CHECK(apply("generalise:bucket:5", FieldType::integer, "-7") == "-10--6");
  CHECK(apply("generalise:bucket:1", FieldType::integer, "42") == "42-42");
  CHECK(apply("generalise:bucket:1000", FieldType::integer, "9223372036854775807") ==
        "9223372036854775000-9223372036854775999");
  CHECK(apply("generalise:bucket:10", FieldType::integer, "-9223372036854775808") ==
        "-9223372036854775810--9223372036854775801");
}

TEST_CASE("generalise a value to a prefix of code points") {
  CHECK(apply("generalise:prefix:3", FieldType::string, "SW1A 1AA") == "SW1");
  CHECK(apply("generalise:prefix:2", FieldType::string, "\xc3\x85ngstr\xc3\xb6m") == "\xc3\x85n");
  CHECK(apply("generalise:prefix:1", FieldType::string, "\xf0\x9f\x98\x80x") == "\xf0\x9f\x98\x80");
  CHECK(apply("generalise:prefix:10", FieldType::string, "SW1") == "SW1");
}

TEST_CASE("forms that do not fit the type are unavailable") {
  unavailable("generalise:year", FieldType::phone, "+447700900123");
  unavailable("generalise:month", FieldType::string, "1990-04-02");
  unavailable("generalise:year", FieldType::integer, "1990");
  unavailable("generalise:decade", FieldType::email, "ann@example.com");
  unavailable("generalise:decade", FieldType::boolean, "true");
  unavailable("generalise:bucket:10", FieldType::date, "1990-04-02");
  unavailable("generalise:bucket:10", FieldType::string, "34");
  // A value that does not hold what its type promises cannot be generalised either.
  unavailable("generalise:year", FieldType::date, "04/02/1990");
  unavailable("generalise:bucket:10", FieldType::integer, "thirty");
  unavailable("generalise:decade", FieldType::integer, "");
}

TEST_CASE("token without the vault's tokeniser is refused, naming no value") {
  const SecretBytes key = key_of('k');
  auto r = apply_form(Form{FormKind::token, 0}, FieldType::phone, "+447700900123", key);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(r.err().message.find("447700900123") == std::string::npos);
}

TEST_CASE("invalid UTF-8 values are refused before any form") {
  const SecretBytes key = key_of('k');
  for (FormKind k :
       {FormKind::clear, FormKind::mask_last, FormKind::generalise_prefix, FormKind::pseudonym}) {
    auto r = apply_form(Form{k, 2}, FieldType::string, "ab\xff\xfe", key);
    CHECK_FALSE(r.ok());
  }
}

TEST_CASE("pseudonyms are keyed BLAKE2b, stable for one key and different between keys") {
  const SecretBytes a = key_of('a');
  const SecretBytes b = key_of('b');
  const std::string pa = consentry::pseudonym(a, "ann@example.com");
  CHECK(pa.size() == consentry::kPseudonymBytes * 2);
  CHECK(pa.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(consentry::pseudonym(a, "ann@example.com") == pa);
  CHECK(consentry::pseudonym(b, "ann@example.com") != pa);
  CHECK(consentry::pseudonym(a, "bob@example.com") != pa);
  CHECK(pa.find("ann") == std::string::npos);

  // Computed independently with libsodium: the pseudonym is the hex of the keyed hash.
  REQUIRE(sodium_init() >= 0);
  unsigned char h[consentry::kPseudonymBytes];
  const std::string value = "ann@example.com";
  const auto ka = a.reveal();
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(value.data()), value.size(),
                     ka.data(), ka.size());
  char hex[sizeof h * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, h, sizeof h);
  CHECK(pa == std::string(hex));

  const auto via_form = apply_form(Form{FormKind::pseudonym, 0}, FieldType::email, "ann@example.com", a);
  REQUIRE(via_form.ok());
  CHECK(*via_form == pa);

  std::set<std::string> distinct;
  for (int i = 0; i < 200; ++i) distinct.insert(consentry::pseudonym(a, "C-" + std::to_string(i)));
  CHECK(distinct.size() == 200);
}

TEST_CASE("a pseudonym needs a real key") {
  const SecretBytes empty;
  auto r = apply_form(Form{FormKind::pseudonym, 0}, FieldType::email, "ann@example.com", empty);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  const SecretBytes short_key = SecretBytes::copy_of(std::string(15, 'k'));
  CHECK_FALSE(apply_form(Form{FormKind::pseudonym, 0}, FieldType::email, "ann@example.com", short_key).ok());
  CHECK_THROWS(consentry::pseudonym(short_key, "ann@example.com"));
  const SecretBytes long_key = SecretBytes::copy_of(std::string(64, 'k'));
  CHECK(apply_form(Form{FormKind::pseudonym, 0}, FieldType::email, "ann@example.com", long_key).ok());
}
