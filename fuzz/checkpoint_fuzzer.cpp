// checkpoint_fuzzer.cpp: checkpoint_from_json on any text (`log verify --against FILE`). A text
// with a NUL byte or a key given twice is refused; an accepted checkpoint, written with
// checkpoint_to_json, reads back the same.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "consentry/audit.hpp"
#include "fuzz_support.hpp"
#include "json_shape.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "checkpoint";
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  bytes public_key;
  auto cp = checkpoint_from_json(text, public_key);
  fuzz::check(!cp || !fuzz::has_nul(text), kTarget, "a checkpoint holding a NUL byte is refused");
  fuzz::check(!cp || !fuzz::has_duplicate_key(text), kTarget, "a checkpoint giving a key twice is refused");
  if (!cp) {
    fuzz::check(cp.err().code == errc::bad_input, kTarget, "a refused checkpoint is errc::bad_input");
    fuzz::check(cp.err().message.starts_with("$"), kTarget, "a refusal names the JSON path");
    return 0;
  }
  fuzz::check(cp->seq >= 1, kTarget, "seq is positive");
  fuzz::check(cp->head.size() == kAuditHashBytes && cp->signature.size() == kAuditSignatureBytes &&
                  public_key.size() == kAuditPublicKeyBytes,
              kTarget, "head, signature and key have their sizes");
  bytes key_again;
  auto again = checkpoint_from_json(checkpoint_to_json(*cp, public_key), key_again);
  fuzz::check(again.ok(), kTarget, "a checkpoint written back reads back");
  fuzz::check(again->seq == cp->seq && again->head == cp->head && again->at == cp->at &&
                  again->signature == cp->signature && key_again == public_key,
              kTarget, "a checkpoint read back is the checkpoint written");
  return 0;
}
