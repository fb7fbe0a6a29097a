// tc_string_fuzzer.cpp: decode_tc_string on any text. A refused string is errc::bad_input and
// its message does not repeat the string; a string that decodes encodes again, and what it encodes
// to decodes to the same model and encodes to itself.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consentry/signals/tcf_string.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  using namespace consentry::signals;
  constexpr const char* kTarget = "tc_string";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto tc = decode_tc_string(text);
  if (!tc) {
    fuzz::check(tc.err().code == errc::bad_input, kTarget, "a refused TC string is errc::bad_input");
    // A message names segments, fields and offsets, so its length does not grow with the input's:
    // a refusal that repeated the string would. (Searching the message for the input instead
    // lets the fuzzer copy the message's words into the input.)
    fuzz::check(tc.err().message.size() <= 400, kTarget, "a refusal does not repeat the string");
    return 0;
  }
  auto encoded = encode_tc_string(*tc);
  fuzz::check(encoded.ok(), kTarget, "a decoded TC string encodes");
  auto again = decode_tc_string(*encoded);
  fuzz::check(again.ok() && *again == *tc, kTarget, "an encoded TC string decodes to its model");
  auto twice = encode_tc_string(*again);
  fuzz::check(twice.ok() && *twice == *encoded, kTarget, "a model encodes to the same string every time");
  return 0;
}
