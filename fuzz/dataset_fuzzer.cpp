// dataset_fuzzer.cpp: the delimited-text reader of `anonymise` (detect_delimiter,
// parse_dataset) on any text, the writer on what it reads, and Mondrian over the first column.
// Input: a byte choosing the delimiter (',', ';', tab, '|' or the one detect_delimiter finds)
// and k, then the text. A table read and written reads back the same; a Mondrian release has
// every class of at least k rows and suppresses nothing.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "dataset";
  constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  fuzz::Input in(data, size);
  const std::uint8_t choice = in.byte();
  const std::string_view text = in.rest();
  const char delimiter = choice % 5 < 4 ? kDelimiters[choice % 5] : detect_delimiter(text);
  auto table = parse_dataset(text, delimiter, "fuzz.csv");
  if (!table) {
    fuzz::check(table.err().code == errc::bad_input, kTarget, "a refused table is errc::bad_input");
    fuzz::check(table.err().message.starts_with("fuzz.csv:"), kTarget, "a refusal names the file");
    return 0;
  }
  fuzz::check(!table->columns.empty() && table->lines.size() == table->rows.size(), kTarget,
              "an accepted table has columns and a line per row");
  for (const auto& row : table->rows)
    fuzz::check(row.size() == table->columns.size(), kTarget, "every row has every column");

  auto again = parse_dataset(format_dataset(*table, delimiter), delimiter, "again.csv");
  fuzz::check(again.ok(), kTarget, "a table written reads back");
  fuzz::check(again->columns == table->columns && again->rows == table->rows, kTarget,
              "a table read back is the table written");

  AnonymityConfig config;
  config.method = AnonymityMethod::mondrian;
  config.quasi_identifiers = {table->columns[0]};
  config.k = 1 + choice / 5 % 4;
  auto released = anonymise(*table, {}, config);
  if (!released) {
    fuzz::check(released.err().code == errc::bad_input, kTarget,
                "a table Mondrian refuses is errc::bad_input");
    return 0;
  }
  fuzz::check(released->data.rows.size() == table->rows.size() && released->report.suppressed == 0, kTarget,
              "Mondrian suppresses nothing");
  std::map<std::string, std::size_t> classes;
  for (const auto& row : released->data.rows) ++classes[row.at(0)];
  for (const auto& [label, count] : classes)
    fuzz::check(count >= config.k, kTarget, "every class has k rows");
  return 0;
}
