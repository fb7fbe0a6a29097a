// import_jsonl_fuzzer.cpp: parse_records on any text as JSON Lines. A line with a NUL byte or a
// key given twice is refused; the records of an accepted file, written back as JSON Lines, read
// back the same.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "consentry/import.hpp"
#include "consentry/time.hpp"
#include "fuzz_support.hpp"
#include "json_shape.hpp"
#include "records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "import_jsonl";
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto records = parse_records(in, ImportFormat::jsonl, "fuzz.jsonl");
  if (records) {
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    while (!rest.empty()) {
      const std::size_t end = rest.find('\n');
      const std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      fuzz::check(!fuzz::has_nul(line), kTarget, "a line holding a NUL byte is refused");
      fuzz::check(!fuzz::has_duplicate_key(line), kTarget, "a line giving a key twice is refused");
    }
  }
  if (!records) {
    fuzz::check(records.err().code == errc::bad_input, kTarget, "a refused file is errc::bad_input");
    fuzz::check(records.err().message.starts_with("fuzz.jsonl:"), kTarget, "a refusal names the file");
    return 0;
  }
  std::string written;
  for (const Record& r : *records) {
    fuzz::check(!r.customer.empty(), kTarget, "every record names its customer");
    nlohmann::ordered_json line;
    line["id"] = r.customer;
    line["source"] = r.source;
    if (r.collected_at) line["collected_at"] = format_timestamp(*r.collected_at);
    line["fields"] = nlohmann::ordered_json::object();
    for (const auto& [field, value] : r.fields) line["fields"][field] = value;
    written += line.dump() + "\n";
  }
  std::istringstream again_in(written);
  auto again = parse_records(again_in, ImportFormat::jsonl, "again.jsonl");
  fuzz::check(again.ok(), kTarget, "records written back as JSON Lines read back");
  fuzz::check(fuzz::same_records(*records, *again), kTarget, "records read back are the records written");
  return 0;
}
