// import_csv_fuzzer.cpp: parse_records on any text as CSV. The records of an accepted file,
// written back as CSV with every cell quoted, must read back the same.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "consentry/import.hpp"
#include "consentry/time.hpp"
#include "fuzz_support.hpp"
#include "records.hpp"

namespace {

void append_cell(std::string& out, std::string_view cell) {
  out += '"';
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "import_csv";
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  auto records = parse_records(in, ImportFormat::csv, "fuzz.csv");
  if (!records) {
    fuzz::check(records.err().code == errc::bad_input, kTarget, "a refused file is errc::bad_input");
    fuzz::check(records.err().message.starts_with("fuzz.csv:"), kTarget, "a refusal names the file");
    return 0;
  }
  // The header: id, source, collected_at, then every field name in the order first met.
  std::vector<std::string> names;
  for (const Record& r : *records) {
    fuzz::check(!r.customer.empty(), kTarget, "every record names its customer");
    for (const auto& [field, value] : r.fields) {
      fuzz::check(!value.empty(), kTarget, "an empty cell sets no field");
      if (std::find(names.begin(), names.end(), field) == names.end()) names.push_back(field);
    }
  }
  std::string written = "id,source,collected_at";
  for (const auto& name : names) {
    written += ',';
    append_cell(written, name);
  }
  written += '\n';
  for (const Record& r : *records) {
    append_cell(written, r.customer);
    written += ',';
    append_cell(written, r.source);
    written += ',';
    append_cell(written, r.collected_at ? format_timestamp(*r.collected_at) : std::string());
    for (const auto& name : names) {
      written += ',';
      for (const auto& [field, value] : r.fields)
        if (field == name) append_cell(written, value);
    }
    written += '\n';
  }
  std::istringstream again_in(written);
  auto again = parse_records(again_in, ImportFormat::csv, "again.csv");
  fuzz::check(again.ok(), kTarget, "records written back as CSV read back");
  fuzz::check(fuzz::same_records(*records, *again), kTarget, "records read back are the records written");
  return 0;
}
