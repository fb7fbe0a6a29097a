// text_hex_test.cpp: the one hexadecimal encoder and decoder (src/text/hex.hpp).
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "../src/text/hex.hpp"

using namespace consentry;

TEST_CASE("hex_encode and hex_decode round-trip every byte value") {
  std::vector<std::uint8_t> all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const std::string hex = detail::hex_encode(all);
  REQUIRE(hex.size() == 512);
  CHECK(hex.substr(0, 8) == "00010203");
  CHECK(hex.substr(hex.size() - 8) == "fcfdfeff");
  CHECK(hex.find_first_not_of("0123456789abcdef") == std::string::npos);
  std::vector<std::uint8_t> back(256);
  REQUIRE(detail::hex_decode(hex, back, "value").ok());
  CHECK(back == all);
}

TEST_CASE("hex_decode takes upper-case digits") {
  std::array<std::uint8_t, 4> out{};
  REQUIRE(detail::hex_decode("DEADbeef", out, "value").ok());
  CHECK(out == std::array<std::uint8_t, 4>{0xde, 0xad, 0xbe, 0xef});
}

TEST_CASE("hex_encode into a caller's buffer writes exactly two digits a byte") {
  const std::array<std::uint8_t, 3> in{0x0a, 0xb1, 0xff};
  std::array<char, 7> out{'x', 'x', 'x', 'x', 'x', 'x', 'x'};
  detail::hex_encode(in, std::span<char>(out.data(), 6));
  CHECK(std::string(out.data(), 7) == "0ab1ffx");
}

TEST_CASE("hex_decode refuses an odd number of digits") {
  std::array<std::uint8_t, 2> out{};
  auto r = detail::hex_decode("abc", out, "--tweak");
  REQUIRE(!r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message == "--tweak has an odd number of hex digits");
}

TEST_CASE("hex_decode names the position of a bad digit, not the digit") {
  std::array<std::uint8_t, 3> out{};
  for (const char* bad : {"00g000", "0000:0", "00 000", "0000/0", "@00000", "00000G"}) {
    CAPTURE(bad);
    auto r = detail::hex_decode(bad, out, "--key");
    REQUIRE(!r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.rfind("--key is not hexadecimal at character ", 0) == 0);
  }
  auto r = detail::hex_decode("00g000", out, "--key");
  CHECK(r.err().message == "--key is not hexadecimal at character 3");
}

TEST_CASE("hex_decode refuses a length other than twice the output's") {
  std::array<std::uint8_t, 2> out{};
  auto r = detail::hex_decode("abcdef", out, "head");
  REQUIRE(!r.ok());
  CHECK(r.err().message == "head must be 4 hex digits (2 bytes)");
}
