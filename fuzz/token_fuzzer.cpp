// token_fuzzer.cpp: Tokeniser::tokenise and detokenise on any value and any text offered as a
// token (`detokenise`), of every field type, under a fixed key and a tweak from the input.
// Input: the type byte, the tweak's length byte, the tweak, then the text. A token keeps the
// value's length, detokenises to the value, and whatever detokenises tokenises back to itself.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "consentry/anonymise/token.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "token";
  static const Tokeniser tokeniser = [] {
    const std::vector<std::uint8_t> key(32, 0x7e);
    auto t = Tokeniser::create(SecretBytes::copy_of(byte_view(key)));
    fuzz::check(t.ok(), kTarget, "a 32-byte key makes a tokeniser");
    return std::move(t).value();
  }();
  constexpr FieldType kTypes[] = {FieldType::string, FieldType::email,   FieldType::date,
                                  FieldType::phone,  FieldType::integer, FieldType::boolean};
  fuzz::Input in(data, size);
  const FieldType type = kTypes[in.byte() % 6];
  const std::string_view tweak = in.take(in.byte());
  const std::string_view text = in.rest();

  auto token = tokeniser.tokenise(type, text, fuzz::bytes_of(tweak));
  if (token) {
    fuzz::check(token->size() == text.size(), kTarget, "a token has the value's length");
    auto value = tokeniser.detokenise(type, *token, fuzz::bytes_of(tweak));
    fuzz::check(value.ok() && *value == text, kTarget, "a token detokenises to its value");
  } else {
    fuzz::check(token.err().code == errc::denied, kTarget, "a value without a token is errc::denied");
  }
  auto value = tokeniser.detokenise(type, text, fuzz::bytes_of(tweak));
  if (!value) {
    fuzz::check(value.err().code == errc::bad_input, kTarget, "text that is no token is errc::bad_input");
    return 0;
  }
  auto again = tokeniser.tokenise(type, *value, fuzz::bytes_of(tweak));
  fuzz::check(again.ok() && *again == text, kTarget, "what detokenises tokenises back to the token");
  return 0;
}
