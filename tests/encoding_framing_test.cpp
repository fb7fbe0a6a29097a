// encoding_framing_test.cpp: the one binary framing (src/encoding/framing.hpp) writes the bytes
// every vault file already holds: big-endian integers and 4-byte big-endian length prefixes.
#include <doctest/doctest.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "../src/crypto/aead.hpp"
#include "../src/encoding/framing.hpp"

using namespace consentry;

TEST_CASE("the framing writes big-endian integers and reads them back") {
  bytes out;
  detail::put_be16(out, 0x0102);
  detail::put_be32(out, 0x03040506);
  detail::put_be64(out, 0x0708090a0b0c0d0eULL);
  CHECK(out == bytes{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14});
  CHECK(detail::load_be16(out.data()) == 0x0102);
  CHECK(detail::load_be32(out.data() + 2) == 0x03040506U);
  CHECK(detail::load_be64(out.data() + 6) == 0x0708090a0b0c0d0eULL);
  std::uint8_t four[4];
  detail::store_be32(four, 0xdeadbeef);
  CHECK(bytes(four, four + 4) == bytes{0xde, 0xad, 0xbe, 0xef});
}

TEST_CASE("a framed part is its 4-byte big-endian length, then its bytes") {
  bytes out;
  detail::put_framed(out, as_bytes("abc"), "too long");
  detail::put_framed(out, as_bytes(""), "too long");
  CHECK(out == bytes{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0});
  CHECK(detail::frame_length(300, "too long") == 300U);
  CHECK_THROWS_AS(detail::frame_length(std::size_t{1} << 32, "too long"), std::length_error);
}

TEST_CASE("associated data keeps its encoding: the domain label, then each part framed") {
  const bytes ad = aead::associated_data({"field", "C-1"});
  const bytes tail{0, 0, 0, 5, 'f', 'i', 'e', 'l', 'd', 0, 0, 0, 3, 'C', '-', '1'};
  REQUIRE(ad.size() > tail.size());
  CHECK(bytes(ad.end() - static_cast<std::ptrdiff_t>(tail.size()), ad.end()) == tail);
  const bytes label(ad.begin(), ad.end() - static_cast<std::ptrdiff_t>(tail.size()));
  CHECK(std::string(label.begin(), label.end()) == "consentry/v1");
}
