// crypto_aead_test.cpp: aead::seal/open against Wycheproof and against tampering.
#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "../src/crypto/aead.hpp"

using namespace consentry;

namespace {

bytes from_hex(const std::string& hex) {
  REQUIRE(hex.size() % 2 == 0);
  bytes out(hex.size() / 2);
  if (out.empty()) return out;
  size_t written = 0;
  REQUIRE(sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, nullptr) == 0);
  REQUIRE(written == out.size());
  return out;
}

nlohmann::json load_wycheproof() {
  std::ifstream in(std::string(CONSENTRY_TEST_DATA) + "/wycheproof/xchacha20_poly1305_test.json");
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

bytes concat(std::initializer_list<byte_view> parts) {
  bytes out;
  for (byte_view p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

SecretBytes key_of(const bytes& k) {
  return SecretBytes::copy_of(byte_view(k));
}

bool same(std::span<const std::uint8_t> a, byte_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

TEST_CASE("libsodium agrees with every Wycheproof XChaCha20-Poly1305 vector") {
  REQUIRE(sodium_ready());
  const auto doc = load_wycheproof();
  std::size_t seen = 0, checked = 0;
  for (const auto& group : doc.at("testGroups")) {
    for (const auto& t : group.at("tests")) {
      ++seen;
      CAPTURE(t.at("tcId").get<int>());
      const bytes key = from_hex(t.at("key")), iv = from_hex(t.at("iv")), aad = from_hex(t.at("aad"));
      const bytes msg = from_hex(t.at("msg")), ct = from_hex(t.at("ct")), tag = from_hex(t.at("tag"));
      const bool valid = t.at("result") == "valid";
      // libsodium only takes 24-byte nonces; vectors with other sizes must all be invalid ones.
      if (iv.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) {
        CHECK_FALSE(valid);
        continue;
      }
      ++checked;
      const bytes ct_tag = concat({ct, tag});
      bytes plain(ct.size());
      unsigned long long plain_len = 0;
      const int rc = crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr,
                                                                ct_tag.data(), ct_tag.size(), aad.data(),
                                                                aad.size(), iv.data(), key.data());
      if (valid) {
        REQUIRE(rc == 0);
        CHECK(plain_len == msg.size());
        CHECK(plain == msg);
        bytes sealed(msg.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
        unsigned long long sealed_len = 0;
        crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data(), &sealed_len, msg.data(), msg.size(),
                                                   aad.data(), aad.size(), nullptr, iv.data(), key.data());
        CHECK(sealed == ct_tag);
      } else {
        CHECK(rc != 0);
      }
    }
  }
  CHECK(seen == doc.at("numberOfTests").get<std::size_t>());
  CHECK(checked > 0);
}

TEST_CASE("aead::open accepts the valid Wycheproof vectors and refuses the invalid ones") {
  const auto doc = load_wycheproof();
  std::size_t opened = 0, refused = 0;
  for (const auto& group : doc.at("testGroups")) {
    for (const auto& t : group.at("tests")) {
      CAPTURE(t.at("tcId").get<int>());
      const bytes key = from_hex(t.at("key")), iv = from_hex(t.at("iv")), aad = from_hex(t.at("aad"));
      const bytes msg = from_hex(t.at("msg")), ct = from_hex(t.at("ct")), tag = from_hex(t.at("tag"));
      // Our layout is nonce | ciphertext | tag; a nonce of another size shifts every boundary.
      const bytes sealed = concat({iv, ct, tag});
      auto r = aead::open(key_of(key), sealed, aad);
      if (t.at("result") == "valid") {
        REQUIRE(r.ok());
        CHECK(same(r->reveal(), msg));
        ++opened;
      } else {
        REQUIRE_FALSE(r.ok());
        CHECK(r.err().code == errc::integrity);
        CHECK(r.err().message == "authentication failed");
        ++refused;
      }
    }
  }
  CHECK(opened + refused == doc.at("numberOfTests").get<std::size_t>());
  CHECK(opened > 0);
  CHECK(refused > 0);
}

TEST_CASE("seal then open returns the plaintext, and every seal uses a fresh nonce") {
  const auto key = SecretBytes::random(aead::kKeyBytes);
  const std::string text = "ann@example.com";
  const bytes ad = aead::associated_data({"field", "C-1001", "email"});
  auto a = aead::seal(key, as_bytes(text), ad);
  auto b = aead::seal(key, as_bytes(text), ad);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->size() == text.size() + aead::kOverheadBytes);
  CHECK(*a != *b);
  CHECK_FALSE(std::equal(a->begin(), a->begin() + aead::kNonceBytes, b->begin()));
  auto opened = aead::open(key, *a, ad);
  REQUIRE(opened.ok());
  CHECK(opened->reveal_string() == text);
}

TEST_CASE("an empty plaintext seals and opens") {
  const auto key = SecretBytes::random(aead::kKeyBytes);
  auto sealed = aead::seal(key, byte_view(), byte_view());
  REQUIRE(sealed.ok());
  CHECK(sealed->size() == aead::kOverheadBytes);
  auto opened = aead::open(key, *sealed, byte_view());
  REQUIRE(opened.ok());
  CHECK(opened->empty());
}

TEST_CASE("changing any bit of any byte of a sealed value makes open fail with integrity") {
  const auto key = SecretBytes::random(aead::kKeyBytes);
  const std::string text = "1990-04-02";
  const bytes ad = aead::associated_data({"x"});
  auto sealed = aead::seal(key, as_bytes(text), ad);
  REQUIRE(sealed.ok());
  for (std::size_t i = 0; i < sealed->size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      bytes tampered = *sealed;
      tampered[i] ^= static_cast<std::uint8_t>(1u << bit);
      auto r = aead::open(key, tampered, ad);
      CAPTURE(i);
      CAPTURE(bit);
      REQUIRE_FALSE(r.ok());
      CHECK(r.err().code == errc::integrity);
      CHECK(r.err().message == "authentication failed");
    }
  }
}

TEST_CASE("open refuses a wrong key, a wrong associated data, truncation and extension alike") {
  const auto key = SecretBytes::random(aead::kKeyBytes);
  const std::string text = "secret value 4242";
  const bytes ad = aead::associated_data({"field", "C-1", "email"});
  auto sealed = aead::seal(key, as_bytes(text), ad);
  REQUIRE(sealed.ok());

  std::vector<result<SecretBytes>> failures;
  failures.push_back(aead::open(SecretBytes::random(aead::kKeyBytes), *sealed, ad));
  failures.push_back(aead::open(SecretBytes::random(aead::kKeyBytes - 1), *sealed, ad));
  failures.push_back(aead::open(SecretBytes(), *sealed, ad));
  failures.push_back(aead::open(key, *sealed, aead::associated_data({"field", "C-1", "phone"})));
  failures.push_back(aead::open(key, *sealed, byte_view()));
  for (std::size_t n = 0; n < sealed->size(); ++n)
    failures.push_back(aead::open(key, byte_view(*sealed).first(n), ad));
  bytes extended = *sealed;
  extended.push_back(0);
  failures.push_back(aead::open(key, extended, ad));

  for (const auto& r : failures) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
    // One message for every cause, and it never carries the plaintext.
    CHECK(r.err().message == "authentication failed");
    CHECK(r.err().message.find(text) == std::string::npos);
  }
}

TEST_CASE("a sealed value does not contain its plaintext") {
  const auto key = SecretBytes::random(aead::kKeyBytes);
  const std::string text = "ann@example.com ann@example.com ann@example.com";
  auto sealed = aead::seal(key, as_bytes(text), byte_view());
  REQUIRE(sealed.ok());
  const std::string raw(sealed->begin(), sealed->end());
  CHECK(raw.find("ann@example.com") == std::string::npos);
}

TEST_CASE("seal refuses a key of the wrong size") {
  for (std::size_t n : {std::size_t{0}, aead::kKeyBytes - 1, aead::kKeyBytes + 1}) {
    auto r = aead::seal(SecretBytes::random(n), as_bytes("v"), byte_view());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
  }
}

TEST_CASE("associated_data is the domain label then length-prefixed parts, and is unambiguous") {
  CHECK(aead::associated_data({"ab", "c"}) != aead::associated_data({"a", "bc"}));
  CHECK(aead::associated_data({"abc"}) != aead::associated_data({"ab", "c"}));
  CHECK(aead::associated_data({"", "a"}) != aead::associated_data({"a", ""}));
  CHECK(aead::associated_data({}) != aead::associated_data({""}));
  CHECK(aead::associated_data({"x", "y"}) == aead::associated_data({"x", "y"}));

  const std::string label = "consentry/v1";
  const std::string part(300, 'p');  // 300 = 0x012C exercises two length bytes
  const bytes ad = aead::associated_data({"", part});
  bytes expected(label.begin(), label.end());
  for (std::uint8_t b : {0, 0, 0, 0}) expected.push_back(b);
  const auto n = static_cast<std::uint32_t>(part.size());
  for (int shift : {24, 16, 8, 0}) expected.push_back(static_cast<std::uint8_t>(n >> shift));
  expected.insert(expected.end(), part.begin(), part.end());
  CHECK(ad == expected);
}

TEST_CASE("AdBuffer frames parts as associated_data does, in its inline room and past it") {
  const std::string label = "consentry/v1";
  // Total size: the label, then 4 + 1 for "x" and 4 + n for the second part.
  const std::size_t fits = aead::AdBuffer::kInline - label.size() - 4 - 1 - 4;
  for (std::size_t n : {std::size_t{0}, fits - 1, fits, fits + 1, std::size_t{5000}}) {
    INFO("second part of " << n << " bytes");
    const std::string part(n, static_cast<char>('a' + n % 26));
    bytes expected(label.begin(), label.end());
    for (std::uint8_t b : {0, 0, 0, 1}) expected.push_back(b);
    expected.push_back('x');
    const auto size = static_cast<std::uint32_t>(n);
    for (int shift : {24, 16, 8, 0}) expected.push_back(static_cast<std::uint8_t>(size >> shift));
    expected.insert(expected.end(), part.begin(), part.end());

    const aead::AdBuffer ad({"x", part});
    CHECK(bytes(ad.view().begin(), ad.view().end()) == expected);
    CHECK(aead::associated_data({"x", part}) == expected);
    // A copy views its own bytes, not the original's.
    const aead::AdBuffer copy = ad;
    CHECK(bytes(copy.view().begin(), copy.view().end()) == expected);
  }
}
