// ff1_round_trip_fuzzer.cpp: FF1 encryption then decryption under a key, radix, tweak and
// plaintext all taken from the input; decryption must give the plaintext back, encryption must
// keep the length and radix and be deterministic, and encrypt and decrypt must refuse the same
// inputs. Input: a mode byte (bits 0-1: AES-128/192/256; bits 2-3: decimal, base62, an alphabet
// given as the first line, or raw numerals of a radix given in two bytes), the tweak's length
// (255: longer than FF1 allows), the key, the tweak, then the plaintext.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "consentry/anonymise/ff1.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "ff1_round_trip";
  fuzz::Input in(data, size);
  const std::uint8_t mode = in.byte();
  const std::uint8_t tweak_bytes = in.byte();
  constexpr std::size_t kKeyBytes[] = {16, 24, 32, 32};
  std::vector<std::uint8_t> key_bytes(kKeyBytes[mode & 3], 0);
  const std::string_view key_part = in.take(key_bytes.size());
  std::copy(key_part.begin(), key_part.end(), key_bytes.begin());
  std::vector<std::uint8_t> tweak(tweak_bytes == 255 ? kFf1MaxTweakBytes + 1 : tweak_bytes, 0);
  const std::string_view tweak_part = in.take(tweak.size());
  std::copy(tweak_part.begin(), tweak_part.end(), tweak.begin());

  std::optional<Ff1Alphabet> alphabet;
  std::uint32_t radix = 0;
  std::vector<std::uint32_t> plain;
  std::string_view text;
  switch ((mode >> 2) & 3) {
    case 0: alphabet = Ff1Alphabet::decimal(); break;
    case 1: alphabet = Ff1Alphabet::base62(); break;
    case 2: {
      auto parsed = Ff1Alphabet::parse(in.line());
      if (!parsed) return 0;
      alphabet = std::move(*parsed);
      break;
    }
    default: {
      radix = kFf1MinRadix + in.u16() % (kFf1MaxRadix - kFf1MinRadix + 1);
      while (!in.empty()) plain.push_back((radix <= 256 ? in.byte() : in.u16()) % radix);
      break;
    }
  }
  if (alphabet) {
    radix = alphabet->radix();
    text = in.rest();
    auto digits = alphabet->digits(text);
    if (!digits) return 0;
    plain = std::move(*digits);
  }

  auto ff1 = Ff1::create(SecretBytes::copy_of(byte_view(key_bytes)), radix);
  fuzz::check(ff1.ok(), kTarget, "FF1 takes every key length and radix the input gives");
  auto cipher = ff1->encrypt(plain, tweak);
  auto refused = ff1->decrypt(plain, tweak);
  fuzz::check(cipher.ok() == refused.ok(), kTarget, "encrypt and decrypt refuse the same inputs");
  if (!cipher) {
    fuzz::check(cipher.err().code == refused.err().code, kTarget, "encrypt and decrypt refuse alike");
    fuzz::check(cipher.err().code == errc::bad_input || cipher.err().code == errc::invalid_argument, kTarget,
                "a refusal is errc::bad_input or errc::invalid_argument");
    return 0;
  }
  fuzz::check(cipher->size() == plain.size(), kTarget, "a ciphertext has the plaintext's length");
  for (std::uint32_t d : *cipher)
    fuzz::check(d < radix, kTarget, "every ciphertext digit is below the radix");
  auto twice = ff1->encrypt(plain, tweak);
  fuzz::check(twice.ok() && *twice == *cipher, kTarget, "encryption is deterministic");
  auto back = ff1->decrypt(*cipher, tweak);
  fuzz::check(back.ok() && *back == plain, kTarget, "decryption gives the plaintext back");
  if (alphabet) fuzz::check(alphabet->text(*back) == text, kTarget, "the plaintext's text comes back");
  return 0;
}
