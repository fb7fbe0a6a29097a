// policy_fuzzer.cpp: Policy::parse on any text. A text with a NUL byte or a key given twice is
// refused; a policy accepted prints (to_json) as canonical text that parses to the same text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consentry/policy.hpp"
#include "fuzz_support.hpp"
#include "json_shape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "policy";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto policy = Policy::parse(text, "fuzz.json");
  fuzz::check(!policy || !fuzz::has_nul(text), kTarget, "a policy holding a NUL byte is refused");
  fuzz::check(!policy || !fuzz::has_duplicate_key(text), kTarget, "a policy giving a key twice is refused");
  if (!policy) {
    fuzz::check(policy.err().code == errc::bad_input, kTarget, "a refused policy is errc::bad_input");
    fuzz::check(policy.err().message.starts_with("fuzz.json"), kTarget, "a refusal names the origin");
    return 0;
  }
  const std::string canonical = policy->to_json();
  auto again = Policy::parse(canonical, "canonical.json");
  fuzz::check(again.ok(), kTarget, "the canonical text of an accepted policy parses");
  fuzz::check(again->to_json() == canonical, kTarget, "canonical text is a fixed point");
  return 0;
}
