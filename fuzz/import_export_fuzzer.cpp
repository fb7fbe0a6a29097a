// import_export_fuzzer.cpp: parse_records on any text as a customer's JSON export. A text with a
// NUL byte or a key given twice is refused; the records of an accepted export, written back as
// an export, read back the same.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "consentry/import.hpp"
#include "consentry/report.hpp"
#include "consentry/time.hpp"
#include "fuzz_support.hpp"
#include "json_shape.hpp"
#include "records.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "import_export";
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = parse_records(in, ImportFormat::export_json, "fuzz.json");
  fuzz::check(!records || !fuzz::has_nul(text), kTarget, "an export holding a NUL byte is refused");
  fuzz::check(!records || !fuzz::has_duplicate_key(text), kTarget, "an export giving a key twice is refused");
  if (!records) {
    fuzz::check(records.err().code == errc::bad_input, kTarget, "a refused export is errc::bad_input");
    fuzz::check(records.err().message.starts_with("fuzz.json:"), kTarget, "a refusal names the file");
    return 0;
  }
  if (records->empty()) return 0;
  nlohmann::ordered_json doc;
  doc["consentry_export"] = kExportFormatVersion;
  doc["customer"] = records->front().customer;
  doc["fields"] = nlohmann::ordered_json::array();
  for (const Record& r : *records) {
    fuzz::check(r.customer == records->front().customer, kTarget, "an export holds one customer");
    fuzz::check(r.collected_at.has_value(), kTarget, "every field of an export has its collection time");
    for (const auto& [field, value] : r.fields)
      doc["fields"].push_back({{"name", field},
                               {"value", value},
                               {"source", r.source},
                               {"collected_at", format_timestamp(*r.collected_at)}});
  }
  std::istringstream again_in(doc.dump());
  auto again = parse_records(again_in, ImportFormat::export_json, "again.json");
  fuzz::check(again.ok(), kTarget, "records written back as an export read back");
  fuzz::check(fuzz::same_records(*records, *again), kTarget, "records read back are the records written");
  return 0;
}
