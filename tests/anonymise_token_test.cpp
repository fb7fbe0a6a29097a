// anonymise_token_test.cpp: the Tokeniser behind the token form, checked against FF1 itself, and
// the HMAC-SHA256 pseudonym checked against Wycheproof's HMAC-SHA256 vectors.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/anonymise/ff1.hpp"
#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"

using namespace consentry;

namespace {

SecretBytes key_of(char fill, std::size_t n = 32) {
  return SecretBytes::copy_of(std::string(n, fill));
}

std::span<const std::uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

}  // namespace

TEST_CASE("a token enciphers the digits of a number with FF1 and leaves the rest in place") {
  const SecretBytes key = key_of('t');
  auto tok = Tokeniser::create(key);
  REQUIRE(tok.ok());
  auto ff1 = Ff1::create(key, 10);
  REQUIRE(ff1.ok());
  const std::string tweak = "consentry/token/phone";

  auto token = tok->tokenise(FieldType::phone, "+447700900123", bytes_of(tweak));
  REQUIRE(token.ok());
  REQUIRE(token->size() == 13);
  CHECK((*token)[0] == '+');
  // The digits are exactly FF1's encryption of the value's digits under the same tweak.
  const std::vector<std::uint32_t> digits{4, 4, 7, 7, 0, 0, 9, 0, 0, 1, 2, 3};
  auto expected = ff1->encrypt(digits, bytes_of(tweak));
  REQUIRE(expected.ok());
  for (std::size_t i = 0; i < digits.size(); ++i)
    CHECK((*token)[i + 1] == static_cast<char>('0' + (*expected)[i]));

  auto back = tok->detokenise(FieldType::phone, *token, bytes_of(tweak));
  REQUIRE(back.ok());
  CHECK(*back == "+447700900123");
  // Another tweak gives another token.
  auto other = tok->tokenise(FieldType::phone, "+447700900123", bytes_of("consentry/token/fax"));
  REQUIRE(other.ok());
  CHECK(*other != *token);

  auto negative = tok->tokenise(FieldType::integer, "-1234567", bytes_of(tweak));
  REQUIRE(negative.ok());
  CHECK((*negative)[0] == '-');
  CHECK(*tok->detokenise(FieldType::integer, *negative, bytes_of(tweak)) == "-1234567");
}

TEST_CASE("a token of text enciphers its ASCII letters and digits over base 62") {
  auto tok = Tokeniser::create(key_of('t', 16));
  REQUIRE(tok.ok());
  const std::string value = "ann.lee@example.com";
  auto token = tok->tokenise(FieldType::email, value, bytes_of("e"));
  REQUIRE(token.ok());
  REQUIRE(token->size() == value.size());
  for (std::size_t i = 0; i < value.size(); ++i) {
    const char c = (*token)[i];
    if (value[i] == '.' || value[i] == '@')
      CHECK(c == value[i]);
    else
      CHECK(std::isalnum(static_cast<unsigned char>(c)));
  }
  CHECK(*token != value);
  CHECK(*tok->detokenise(FieldType::email, *token, bytes_of("e")) == value);
  // Non-ASCII text stays in place; long values round-trip.
  const std::string text = "Zoë Müller-" + std::string(500, 'x') + "7";
  auto long_token = tok->tokenise(FieldType::string, text, bytes_of("s"));
  REQUIRE(long_token.ok());
  CHECK(long_token->find("ë") == 2);
  CHECK(*tok->detokenise(FieldType::string, *long_token, bytes_of("s")) == text);
}

TEST_CASE("tokens are refused below FF1's domain, above the length bound and for dates and booleans") {
  auto tok = Tokeniser::create(key_of('t'));
  REQUIRE(tok.ok());
  auto unavailable = [&](FieldType type, std::string_view value) {
    auto r = tok->tokenise(type, value, bytes_of("t"));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::denied);
    CHECK(r.err().reason == deny_reason::form_unavailable);
    if (value.size() > 2) CHECK(r.err().message.find(value) == std::string::npos);
  };
  unavailable(FieldType::integer, "12345");  // 10^5 < 10^6
  unavailable(FieldType::phone, "+44 123");  // five digits
  unavailable(FieldType::string, "a.b-c");   // 62^3 < 10^6
  unavailable(FieldType::email, "ab@c");
  unavailable(FieldType::date, "1990-04-02");
  unavailable(FieldType::boolean, "true");
  unavailable(FieldType::string, std::string(kMaxTokenCharacters + 1, 'a'));
  CHECK(tok->tokenise(FieldType::integer, "123456", bytes_of("t")).ok());
  CHECK(tok->tokenise(FieldType::string, "abcd", bytes_of("t")).ok());
  CHECK(tok->tokenise(FieldType::string, std::string(kMaxTokenCharacters, 'a'), bytes_of("t")).ok());
  // Text that cannot be a token is bad input for detokenise.
  auto bad = tok->detokenise(FieldType::integer, "12", bytes_of("t"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
  CHECK(Tokeniser::create(key_of('t', 20)).err().code == errc::invalid_argument);
}

TEST_CASE("HMAC-SHA256 pseudonyms match the Wycheproof HMAC-SHA256 vectors") {
  std::ifstream in(std::string(CONSENTRY_TEST_DATA) + "/wycheproof/hmac_sha256_test.json");
  REQUIRE(in.good());
  const auto doc = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& group : doc["testGroups"]) {
    const std::size_t tag_hex = group["tagSize"].get<std::size_t>() / 4;
    for (const auto& t : group["tests"]) {
      const std::string key = unhex(t["key"].get<std::string>());
      if (key.size() < 16) continue;  // a pseudonym key is at least 16 bytes
      CAPTURE(t["tcId"].get<int>());
      const std::string mac = hmac_pseudonym(SecretBytes::copy_of(key), unhex(t["msg"].get<std::string>()));
      REQUIRE(mac.size() == 64);
      const bool same = mac.substr(0, tag_hex) == t["tag"].get<std::string>();
      CHECK(same == (t["result"] == "valid"));
      ++checked;
    }
  }
  CHECK(checked > 150);
  CHECK_THROWS(hmac_pseudonym(key_of('k', 15), "x"));
  // Through the form: the hex of the HMAC under the purpose key.
  const SecretBytes key = key_of('p');
  auto via_form = apply_form(Form{FormKind::pseudonym_hmac, 0}, FieldType::email, "ann@example.com", key);
  REQUIRE(via_form.ok());
  CHECK(*via_form == hmac_pseudonym(key, "ann@example.com"));
  CHECK(*via_form != pseudonym(key, "ann@example.com"));
}
