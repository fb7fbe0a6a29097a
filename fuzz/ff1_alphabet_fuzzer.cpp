// ff1_alphabet_fuzzer.cpp: Ff1Alphabet::parse on any text (`ff1 --alphabet`), then digits() on
// any text. Input: "alphabet\n" then the text. An accepted alphabet maps its own characters to
// 0..radix-1 in order, and any text digits() accepts is written back as itself by text().
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consentry/anonymise/ff1.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "ff1_alphabet";
  fuzz::Input in(data, size);
  const std::string_view characters = in.line();
  const std::string_view text = in.rest();
  auto alphabet = Ff1Alphabet::parse(characters);
  if (!alphabet) {
    fuzz::check(alphabet.err().code == errc::invalid_argument, kTarget,
                "a refused alphabet is errc::invalid_argument");
    return 0;
  }
  fuzz::check(alphabet->radix() >= kFf1MinRadix && alphabet->radix() <= kFf1MaxRadix, kTarget,
              "an alphabet's radix is within FF1's");
  auto own = alphabet->digits(characters);
  fuzz::check(own.ok() && own->size() == alphabet->radix(), kTarget, "an alphabet reads its own characters");
  for (std::size_t i = 0; i < own->size(); ++i)
    fuzz::check((*own)[i] == i, kTarget, "an alphabet's characters are its digits in order");
  fuzz::check(alphabet->text(*own) == characters, kTarget, "an alphabet writes its digits as its characters");
  auto digits = alphabet->digits(text);
  if (!digits) {
    fuzz::check(digits.err().code == errc::bad_input, kTarget,
                "text outside the alphabet is errc::bad_input");
    return 0;
  }
  for (std::uint32_t d : *digits)
    fuzz::check(d < alphabet->radix(), kTarget, "every digit is below the radix");
  fuzz::check(alphabet->text(*digits) == text, kTarget, "text read as digits is written back as itself");
  return 0;
}
