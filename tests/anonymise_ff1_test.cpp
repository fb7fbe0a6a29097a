// anonymise_ff1_test.cpp: FF1 (NIST SP 800-38G Rev. 1) against the NIST samples and the Wycheproof
// vectors, its two arithmetic paths against each other, its domain rules, and FF1 alphabets.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../src/anonymise/ff1_numeral.hpp"
#include "consentry/anonymise/ff1.hpp"

namespace {

using namespace consentry;
using Digits = std::vector<std::uint32_t>;

const std::filesystem::path kData(CONSENTRY_TEST_DATA);

nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  REQUIRE(in.good());
  return nlohmann::json::parse(in);
}

std::vector<std::uint8_t> from_hex(std::string_view hex) {
  REQUIRE(hex.size() % 2 == 0);
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<std::uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

SecretBytes key_of(std::string_view hex) {
  const auto raw = from_hex(hex);
  return SecretBytes::copy_of(byte_view(raw));
}

Ff1 make_ff1(std::string_view key_hex, std::uint32_t radix) {
  auto ff1 = Ff1::create(key_of(key_hex), radix);
  REQUIRE(ff1.ok());
  return std::move(ff1).value();
}

Digits random_digits(std::mt19937_64& rng, std::uint32_t radix, std::size_t n) {
  std::uniform_int_distribution<std::uint32_t> pick(0, radix - 1);
  Digits d(n);
  for (auto& x : d) x = pick(rng);
  return d;
}

std::vector<std::uint8_t> random_bytes(std::mt19937_64& rng, std::size_t n) {
  std::vector<std::uint8_t> out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

constexpr std::string_view kKey128 = "2B7E151628AED2A6ABF7158809CF4F3C";
constexpr std::string_view kBase36 = "0123456789abcdefghijklmnopqrstuvwxyz";

}  // namespace

TEST_CASE("FF1 gives the nine NIST SP 800-38G sample ciphertexts and decrypts them back") {
  const auto doc = read_json(kData / "ff1" / "nist_ff1_samples.json");
  const auto alphabet = Ff1Alphabet::parse(kBase36);
  REQUIRE(alphabet.ok());
  std::size_t checked = 0;
  for (const auto& sample : doc.at("samples")) {
    CAPTURE(sample.at("sample").get<int>());
    const auto radix = sample.at("radix").get<std::uint32_t>();
    const Ff1 ff1 = make_ff1(sample.at("key").get<std::string>(), radix);
    const auto tweak = from_hex(sample.at("tweak").get<std::string>());
    const auto pt = alphabet->digits(sample.at("pt").get<std::string>());
    const auto ct = alphabet->digits(sample.at("ct").get<std::string>());
    REQUIRE(pt.ok());
    REQUIRE(ct.ok());
    const auto enc = ff1.encrypt(*pt, tweak);
    REQUIRE(enc.ok());
    CHECK(*enc == *ct);
    const auto dec = ff1.decrypt(*ct, tweak);
    REQUIRE(dec.ok());
    CHECK(*dec == *pt);
    ++checked;
  }
  CHECK(checked == 9);
}

namespace {

/// run_wycheproof checks every case of one Wycheproof FF1 file: a valid case must encrypt to its
/// ciphertext and decrypt back, an invalid one must be refused (at the key, the alphabet or the
/// call). SmallMessageSize cases (valid only before Rev. 1) may go either way, but when they are
/// accepted the ciphertext must be right.
void run_wycheproof(const std::string& file) {
  const auto doc = read_json(kData / "wycheproof" / file);
  std::size_t cases = 0, valid_ok = 0, invalid_refused = 0, small_refused = 0;
  for (const auto& group : doc.at("testGroups")) {
    const auto radix = group.at("radix").get<std::uint32_t>();
    const bool list = group.at("type") == "FpeListTest";
    std::optional<Ff1Alphabet> alphabet;
    if (!list) {
      auto parsed = Ff1Alphabet::parse(group.at("alphabet").get<std::string>());
      REQUIRE(parsed.ok());
      REQUIRE(parsed->radix() == radix);
      alphabet = std::move(parsed).value();
    }
    // A digit list or text as FF1 digits; an error when the alphabet refuses a character or a
    // number does not fit 32 bits (then it cannot be a digit of any radix).
    const auto to_digits = [&](const nlohmann::json& msg) -> result<Digits> {
      if (!list) return alphabet->digits(msg.get<std::string>());
      Digits out;
      for (const auto& x : msg) {
        const auto value = x.get<std::int64_t>();
        // -1 becomes 0xFFFFFFFF: FF1 itself must refuse it as out of range.
        out.push_back(static_cast<std::uint32_t>(value));
        if (value < -1 || value > 0xFFFFFFFFLL) return make_error(errc::bad_input, "not a 32-bit digit");
      }
      return out;
    };
    for (const auto& tc : group.at("tests")) {
      ++cases;
      CAPTURE(file);
      CAPTURE(tc.at("tcId").get<int>());
      const std::string expected = tc.at("result");
      const auto flags = tc.at("flags").get<std::vector<std::string>>();
      const bool small = std::find(flags.begin(), flags.end(), "SmallMessageSize") != flags.end();
      const auto tweak = from_hex(tc.at("tweak").get<std::string>());
      auto ff1 = Ff1::create(key_of(tc.at("key").get<std::string>()), radix);
      if (!ff1) {
        CHECK(ff1.err().code == errc::invalid_argument);
        CHECK(expected == "invalid");
        ++invalid_refused;
        continue;
      }
      const auto msg = to_digits(tc.at("msg"));
      if (!msg) {
        CHECK(expected == "invalid");
        ++invalid_refused;
        continue;
      }
      const auto enc = ff1->encrypt(*msg, tweak);
      if (expected == "invalid") {
        CHECK_FALSE(enc.ok());
        if (!enc) {
          CHECK(enc.err().code == errc::bad_input);
          ++invalid_refused;
        }
        // The same digits are no more acceptable as a ciphertext.
        CHECK_FALSE(ff1->decrypt(*msg, tweak).ok());
        continue;
      }
      REQUIRE(expected == "valid");
      const auto ct = to_digits(tc.at("ct"));
      REQUIRE(ct.ok());
      if (small && !enc) {
        CHECK(enc.err().code == errc::bad_input);
        CHECK_FALSE(ff1->decrypt(*ct, tweak).ok());
        ++small_refused;
        continue;
      }
      REQUIRE(enc.ok());
      CHECK(*enc == *ct);
      const auto dec = ff1->decrypt(*ct, tweak);
      REQUIRE(dec.ok());
      CHECK(*dec == *msg);
      ++valid_ok;
    }
  }
  CHECK(cases == doc.at("numberOfTests").get<std::size_t>());
  CHECK(valid_ok + invalid_refused + small_refused == cases);
  MESSAGE(file << ": " << valid_ok << " valid matched, " << invalid_refused << " invalid refused, "
               << small_refused << " small (pre-Rev. 1) refused");
}

}  // namespace

TEST_CASE("FF1 agrees with every Wycheproof case of aes_ff1_radix10_test.json") {
  run_wycheproof("aes_ff1_radix10_test.json");
}

TEST_CASE("FF1 agrees with every Wycheproof case of aes_ff1_base36_test.json") {
  run_wycheproof("aes_ff1_base36_test.json");
}

TEST_CASE("FF1 agrees with every Wycheproof case of aes_ff1_base62_test.json") {
  run_wycheproof("aes_ff1_base62_test.json");
}

TEST_CASE("big-integer numerals agree with unsigned __int128 numerals where both fit") {
  using namespace consentry::ff1_detail;
  std::mt19937_64 rng(7);
  for (std::uint32_t radix : {2u, 3u, 10u, 36u, 62u, 255u, 256u, 1000u, 65535u, 65536u}) {
    CAPTURE(radix);
    const RadixChunk chunk = radix_chunk(radix);
    CHECK(static_cast<std::uint64_t>(chunk.value) * radix >= (std::uint64_t{1} << 32));
    // The longest digit string whose value always stays below 2^128.
    std::size_t longest = 0;
    for (u128 p = 1; p <= (~u128{0}) / radix; p *= radix) ++longest;
    for (std::size_t n = 1; n <= longest; ++n) {
      CAPTURE(n);
      const Digits d = random_digits(rng, radix, n);
      const u128 small = num_radix_u128(d, radix);
      const Natural big = Natural::from_digits(d, radix);
      u128 from_limbs = 0;
      for (std::size_t k = big.limbs().size(); k-- > 0;) from_limbs = (from_limbs << 32) | big.limbs()[k];
      CHECK(from_limbs == small);
      // STR_radix back, also to fewer digits (the value mod radix^m) and more (leading zeros).
      for (std::size_t m : {n, n / 2, n + 3}) {
        Digits a(m), b(m);
        str_radix_u128(small, radix, a);
        Natural copy = big;
        copy.take_low_digits(radix, b);
        CHECK(a == b);
        if (m == n) CHECK(a == d);
      }
      std::vector<std::uint8_t> bytes(16);
      REQUIRE(big.to_bytes(bytes));
      u128 from_bytes = 0;
      for (std::uint8_t x : bytes) from_bytes = (from_bytes << 8) | x;
      CHECK(from_bytes == small);
      const Natural again = Natural::from_bytes(bytes);
      CHECK(again.limbs() == big.limbs());
    }
  }
}

TEST_CASE("FF1's byte count b is the exact byte length of radix^v - 1") {
  using consentry::ff1_detail::byte_count;
  CHECK(byte_count(10, 1) == 1);
  CHECK(byte_count(10, 8) == 4);    // 10^8 - 1 needs 27 bits
  CHECK(byte_count(10, 28) == 12);  // 10^28 - 1 needs 93 bits
  CHECK(byte_count(10, 29) == 13);  // 10^29 - 1 needs 97 bits
  CHECK(byte_count(2, 8) == 1);     // exactly 8 bits
  CHECK(byte_count(2, 9) == 2);
  CHECK(byte_count(256, 3) == 3);
  CHECK(byte_count(65536, 6) == 12);
  CHECK(byte_count(65536, 2048) == 4096);
  CHECK(byte_count(36, 10) == 7);  // 36^10 ~ 2^51.7
}

TEST_CASE("FF1's __int128 path and big-integer path give the same ciphertexts") {
  std::mt19937_64 rng(11);
  std::size_t compared = 0;
  for (std::uint32_t radix : {2u, 10u, 36u, 62u, 256u, 65536u}) {
    CAPTURE(radix);
    const Ff1 ff1 = make_ff1("000102030405060708090a0b0c0d0e0f1011121314151617", radix);
    std::size_t n = ff1.min_length();
    REQUIRE(Ff1Internals::fast_path_fits(ff1, n));
    for (; Ff1Internals::fast_path_fits(ff1, n); ++n) {
      CAPTURE(n);
      for (std::size_t tweak_len : {0u, 7u, 16u, 33u}) {
        const Digits pt = random_digits(rng, radix, n);
        const auto tweak = random_bytes(rng, tweak_len);
        const auto fast = Ff1Internals::run(ff1, pt, tweak, false, Ff1Path::automatic);
        const auto big = Ff1Internals::run(ff1, pt, tweak, false, Ff1Path::big_integer);
        REQUIRE(fast.ok());
        REQUIRE(big.ok());
        CHECK(*fast == *big);
        const auto back_fast = Ff1Internals::run(ff1, *fast, tweak, true, Ff1Path::automatic);
        const auto back_big = Ff1Internals::run(ff1, *fast, tweak, true, Ff1Path::big_integer);
        REQUIRE(back_fast.ok());
        REQUIRE(back_big.ok());
        CHECK(*back_fast == pt);
        CHECK(*back_big == pt);
        ++compared;
      }
    }
    // The first length past the fast path: radix^v > 2^96.
    CHECK_FALSE(Ff1Internals::fast_path_fits(ff1, n));
  }
  CHECK(compared > 100);
}

TEST_CASE("FF1 round-trips at radix 2, 10, 36, 62, 256 and 65536 at the shortest and longest length") {
  std::mt19937_64 rng(3);
  for (std::uint32_t radix : {2u, 10u, 36u, 62u, 256u, 65536u}) {
    const Ff1 ff1 = make_ff1("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", radix);
    for (std::size_t n : {ff1.min_length(), ff1.min_length() + 1, kFf1MaxLength - 1, kFf1MaxLength}) {
      CAPTURE(radix);
      CAPTURE(n);
      const Digits pt = random_digits(rng, radix, n);
      const auto tweak = random_bytes(rng, 9);
      const auto ct = ff1.encrypt(pt, tweak);
      REQUIRE(ct.ok());
      CHECK(ct->size() == n);
      CHECK(std::all_of(ct->begin(), ct->end(), [&](std::uint32_t d) { return d < radix; }));
      CHECK(*ct != pt);
      const auto back = ff1.decrypt(*ct, tweak);
      REQUIRE(back.ok());
      CHECK(*back == pt);
    }
  }
}

TEST_CASE("FF1's shortest input is the least length with radix^length >= 1,000,000, and at least 2") {
  const Ff1 decimal = make_ff1(kKey128, 10);
  const std::vector<std::uint8_t> tweak;
  CHECK(decimal.min_length() == 6);
  const auto five = decimal.encrypt(Digits{1, 2, 3, 4, 5}, tweak);
  REQUIRE_FALSE(five.ok());
  CHECK(five.err().code == errc::bad_input);
  CHECK(five.err().message.find("at least 6") != std::string::npos);
  CHECK_FALSE(decimal.decrypt(Digits{1, 2, 3, 4, 5}, tweak).ok());
  CHECK(decimal.encrypt(Digits{1, 2, 3, 4, 5, 6}, tweak).ok());

  const Ff1 binary = make_ff1(kKey128, 2);
  CHECK(binary.min_length() == 20);  // 2^19 < 10^6 <= 2^20
  CHECK_FALSE(binary.encrypt(Digits(19, 1), tweak).ok());
  CHECK(binary.encrypt(Digits(20, 1), tweak).ok());

  const Ff1 wide = make_ff1(kKey128, 65536);
  CHECK(wide.min_length() == 2);  // one numeral would satisfy the domain rule; the standard wants 2
  CHECK_FALSE(wide.encrypt(Digits{65535}, tweak).ok());
  CHECK(wide.encrypt(Digits{65535, 0}, tweak).ok());

  const Ff1 r1000 = make_ff1(kKey128, 1000);
  CHECK(r1000.min_length() == 2);  // 1000^2 = 10^6 exactly
}

TEST_CASE("FF1 refuses empty and overlong inputs and a digit out of range, naming only positions") {
  const Ff1 ff1 = make_ff1(kKey128, 10);
  const std::vector<std::uint8_t> tweak;
  const auto empty = ff1.encrypt(Digits{}, tweak);
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().code == errc::bad_input);
  CHECK_FALSE(ff1.decrypt(Digits{}, tweak).ok());

  CHECK(ff1.encrypt(Digits(kFf1MaxLength, 7), tweak).ok());
  const auto longer = ff1.encrypt(Digits(kFf1MaxLength + 1, 7), tweak);
  REQUIRE_FALSE(longer.ok());
  CHECK(longer.err().code == errc::bad_input);

  // 9 8 7 6 5 4 3 2 with a 10 at the third numeral.
  const Digits bad{9, 8, 10, 6, 5, 4, 3, 2};
  for (bool decrypt : {false, true}) {
    const auto r = decrypt ? ff1.decrypt(bad, tweak) : ff1.encrypt(bad, tweak);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find("numeral 3") != std::string::npos);
    CHECK(r.err().message.find("98") == std::string::npos);
    CHECK(r.err().message.find("65432") == std::string::npos);
  }
  const auto huge = ff1.encrypt(Digits{1, 2, 3, 4, 5, 0xFFFFFFFFu}, tweak);
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.err().message.find("numeral 6") != std::string::npos);
}

TEST_CASE("FF1 takes AES-128, AES-192 and AES-256 keys and a radix of 2 to 65536, nothing else") {
  for (std::size_t size : {0u, 1u, 8u, 15u, 17u, 20u, 31u, 33u, 64u}) {
    CAPTURE(size);
    const auto r = Ff1::create(SecretBytes(size), 10);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
  }
  for (std::size_t size : {16u, 24u, 32u}) CHECK(Ff1::create(SecretBytes(size), 10).ok());
  for (std::uint32_t radix : {0u, 1u, 65537u, 1u << 20}) {
    CAPTURE(radix);
    const auto r = Ff1::create(SecretBytes(16), radix);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
  }
  CHECK(Ff1::create(SecretBytes(16), 2)->radix() == 2);
  CHECK(Ff1::create(SecretBytes(16), 65536)->radix() == 65536);
  // Keys of different sizes are different keys, even when one is a prefix of the other.
  const Digits pt{0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<std::uint8_t> tweak;
  const auto a = make_ff1("2B7E151628AED2A6ABF7158809CF4F3C", 10).encrypt(pt, tweak);
  const auto b = make_ff1("2B7E151628AED2A6ABF7158809CF4F3CEF4359D8D580AA4F", 10).encrypt(pt, tweak);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*a != *b);
}

TEST_CASE("a changed FF1 ciphertext decrypts to other digits, without an error (FF1 has no integrity)") {
  std::mt19937_64 rng(5);
  for (std::uint32_t radix : {10u, 62u, 65536u}) {
    CAPTURE(radix);
    const Ff1 ff1 = make_ff1(kKey128, radix);
    const Digits pt = random_digits(rng, radix, 16);
    const auto tweak = random_bytes(rng, 8);
    const auto ct = ff1.encrypt(pt, tweak);
    REQUIRE(ct.ok());
    for (std::size_t pos : {0u, 7u, 8u, 15u}) {
      CAPTURE(pos);
      Digits tampered = *ct;
      tampered[pos] = (tampered[pos] + 1) % radix;
      const auto back = ff1.decrypt(tampered, tweak);
      REQUIRE(back.ok());
      CHECK(*back != pt);
      CHECK(back->size() == pt.size());
    }
  }
}

TEST_CASE("the FF1 tweak changes the ciphertext, and a wrong tweak does not decrypt") {
  const Ff1 ff1 = make_ff1(kKey128, 10);
  const Digits pt{4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const std::vector<std::uint8_t> t1{'c', 'a', 'r', 'd'};
  const std::vector<std::uint8_t> t2{'c', 'a', 'r', 'e'};
  const std::vector<std::uint8_t> none;
  const auto c1 = ff1.encrypt(pt, t1);
  const auto c2 = ff1.encrypt(pt, t2);
  const auto c0 = ff1.encrypt(pt, none);
  REQUIRE(c1.ok());
  REQUIRE(c2.ok());
  REQUIRE(c0.ok());
  CHECK(*c1 != *c2);
  CHECK(*c1 != *c0);
  CHECK(*ff1.encrypt(pt, t1) == *c1);  // deterministic
  const auto wrong = ff1.decrypt(*c1, t2);
  REQUIRE(wrong.ok());
  CHECK(*wrong != pt);
  CHECK(*ff1.decrypt(*c1, t1) == pt);

  const std::vector<std::uint8_t> longest(kFf1MaxTweakBytes, 0xA5);
  const auto ok = ff1.encrypt(pt, longest);
  REQUIRE(ok.ok());
  CHECK(*ff1.decrypt(*ok, longest) == pt);
  const std::vector<std::uint8_t> too_long(kFf1MaxTweakBytes + 1, 0xA5);
  const auto refused = ff1.encrypt(pt, too_long);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::invalid_argument);
}

TEST_CASE("one FF1 serves concurrent callers with the results of serial calls") {
  const Ff1 ff1 = make_ff1(kKey128, 10);
  std::mt19937_64 rng(9);
  constexpr int kCalls = 300;
  std::vector<Digits> inputs, expected;
  const std::vector<std::uint8_t> tweak{1, 2, 3};
  for (int i = 0; i < kCalls; ++i) {
    inputs.push_back(random_digits(rng, 10, 6 + static_cast<std::size_t>(i) % 40));
    expected.push_back(*ff1.encrypt(inputs.back(), tweak));
  }
  std::vector<int> mismatches(6, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        for (int i = 0; i < kCalls; ++i) {
          const auto c = ff1.encrypt(inputs[static_cast<std::size_t>(i)], tweak);
          const auto p = c ? ff1.decrypt(*c, tweak) : c;
          if (!c || *c != expected[static_cast<std::size_t>(i)] || !p ||
              *p != inputs[static_cast<std::size_t>(i)])
            ++mismatches[static_cast<std::size_t>(t)];
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int m : mismatches) CHECK(m == 0);
}

TEST_CASE("a moved-from FF1 refuses calls instead of crashing") {
  Ff1 a = make_ff1(kKey128, 10);
  Ff1 b = std::move(a);
  const Digits pt{1, 2, 3, 4, 5, 6};
  const std::vector<std::uint8_t> tweak;
  CHECK(b.encrypt(pt, tweak).ok());
  const auto r = a.encrypt(pt, tweak);  // NOLINT(bugprone-use-after-move): the point of the test
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
}

TEST_CASE("an FF1 alphabet maps its characters to digits in order and back") {
  const auto greek = Ff1Alphabet::parse("αβγδεζηθικ");
  REQUIRE(greek.ok());
  CHECK(greek->radix() == 10);
  const auto digits = greek->digits("βααγκ");
  REQUIRE(digits.ok());
  CHECK(*digits == Digits{1, 0, 0, 2, 9});
  CHECK(greek->text(*digits) == "βααγκ");

  const auto mixed = Ff1Alphabet::parse("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");  // a é € 😀
  REQUIRE(mixed.ok());
  CHECK(mixed->radix() == 4);
  CHECK(*mixed->digits("\xF0\x9F\x98\x80"
                       "a\xE2\x82\xAC") == Digits{3, 0, 2});
  CHECK(mixed->text(Digits{1, 3}) == "\xC3\xA9\xF0\x9F\x98\x80");
  CHECK(mixed->text(Digits{0, 4}) == "a\xEF\xBF\xBD");  // out of range: U+FFFD

  CHECK(Ff1Alphabet::decimal().radix() == 10);
  CHECK(*Ff1Alphabet::decimal().digits("0907") == Digits{0, 9, 0, 7});
  const Ff1Alphabet& b62 = Ff1Alphabet::base62();
  CHECK(b62.radix() == 62);
  CHECK(*b62.digits("0azAZ9") == Digits{0, 10, 35, 36, 61, 9});
}

TEST_CASE("an FF1 alphabet refuses repeats, invalid UTF-8 and fewer than two characters") {
  const auto repeat = Ff1Alphabet::parse("abcdeb");
  REQUIRE_FALSE(repeat.ok());
  CHECK(repeat.err().code == errc::invalid_argument);
  CHECK(repeat.err().message.find("character 2 at position 6") != std::string::npos);
  const auto repeat_utf8 = Ff1Alphabet::parse("xé€é");
  REQUIRE_FALSE(repeat_utf8.ok());
  CHECK(repeat_utf8.err().message.find("character 2 at position 4") != std::string::npos);
  CHECK_FALSE(Ff1Alphabet::parse("").ok());
  CHECK_FALSE(Ff1Alphabet::parse("a").ok());
  CHECK_FALSE(Ff1Alphabet::parse("é").ok());
  CHECK(Ff1Alphabet::parse("ab").ok());
  for (std::string_view bad : {std::string_view("ab\x80"), std::string_view("ab\xC0\xAF"),  // stray, overlong
                               std::string_view("ab\xED\xA0\x80"),                          // surrogate
                               std::string_view("ab\xF4\x90\x80\x80"),                      // > U+10FFFF
                               std::string_view("ab\xE2\x82"),                              // cut short
                               std::string_view("ab\xFF")}) {
    const auto r = Ff1Alphabet::parse(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
    CHECK(r.err().message.find("byte 3") != std::string::npos);
  }
  // 65536 distinct code points are the most; one more is refused.
  std::string big;
  auto encode = [](char32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  };
  char32_t cp = 0;
  for (int i = 0; i < 65536; ++i, ++cp) {
    if (cp == 0xD800) cp = 0xE000;  // skip the surrogates
    encode(cp, big);
  }
  const auto full = Ff1Alphabet::parse(big);
  REQUIRE(full.ok());
  CHECK(full->radix() == 65536);
  encode(cp, big);
  CHECK_FALSE(Ff1Alphabet::parse(big).ok());
}

TEST_CASE("FF1 alphabet digits name the position of a foreign character, never the character") {
  const Ff1Alphabet& dec = Ff1Alphabet::decimal();
  const auto r = dec.digits("12Q45");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message.find("character 3") != std::string::npos);
  CHECK(r.err().message.find('Q') == std::string::npos);
  const auto utf8 = dec.digits("1é3");
  REQUIRE_FALSE(utf8.ok());
  CHECK(utf8.err().message.find("character 2") != std::string::npos);
  const auto broken = dec.digits("12\xC3");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.err().message.find("byte 3") != std::string::npos);
  CHECK(dec.digits("").ok());  // an empty text is no digits; FF1 refuses it, not the alphabet
}
