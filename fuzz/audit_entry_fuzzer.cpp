// audit_entry_fuzzer.cpp: decode_audit_entry and check_audit_entry on any bytes (a stored audit
// row that was tampered with). Both must refuse exactly the same bytes with the same error; the
// encoding is canonical, so an entry they accept encodes back to the very bytes read.
#include <cstddef>
#include <cstdint>

#include "consentry/audit.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "audit_entry";
  const byte_view encoded(data, size);
  auto entry = decode_audit_entry(encoded);
  auto lookup = check_audit_entry(encoded);
  fuzz::check(entry.ok() == lookup.ok(), kTarget,
              "check_audit_entry accepts what decode_audit_entry accepts");
  if (!entry) {
    fuzz::check(entry.err().code == errc::integrity, kTarget, "malformed bytes are errc::integrity");
    fuzz::check(entry.err().message == lookup.err().message, kTarget, "both refuse with the same message");
    return 0;
  }
  fuzz::check(lookup->seq == entry->seq && lookup->at == entry->at && lookup->customer == entry->customer,
              kTarget, "check_audit_entry reads the members decode_audit_entry reads");
  const bytes again = encode_audit_entry(*entry);
  fuzz::check(again.size() == size && std::equal(again.begin(), again.end(), encoded.begin()), kTarget,
              "an accepted entry encodes back to the bytes it was read from");
  return 0;
}
