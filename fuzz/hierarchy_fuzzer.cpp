// hierarchy_fuzzer.cpp: parse_hierarchy on any text (a `<prefix>_hierarchy_<column>.csv` of
// `anonymise`), then the lattice search over a column holding the hierarchy's values. Input: a
// byte choosing the delimiter (',', ';', tab, '|' or the one detect_delimiter finds) and k, then
// the text. An accepted hierarchy is a rectangle of non-empty labels; a release must have every
// class of at least k rows, drop no more rows than allowed, and show each value's label at the
// level it reports.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  constexpr const char* kTarget = "hierarchy";
  constexpr char kDelimiters[] = {',', ';', '\t', '|'};
  constexpr std::size_t kMaxRows = 256;
  fuzz::Input in(data, size);
  const std::uint8_t choice = in.byte();
  const std::string_view text = in.rest();
  const char delimiter = choice % 5 < 4 ? kDelimiters[choice % 5] : detect_delimiter(text);
  auto hierarchy = parse_hierarchy(text, delimiter, "fuzz_hierarchy_v.csv");
  if (!hierarchy) {
    fuzz::check(hierarchy.err().code == errc::bad_input, kTarget, "a refused hierarchy is errc::bad_input");
    fuzz::check(hierarchy.err().message.starts_with("fuzz_hierarchy_v.csv:"), kTarget,
                "a refusal names the file");
    return 0;
  }
  const std::size_t levels = hierarchy->levels();
  fuzz::check(levels >= 1 && hierarchy->lines.size() == hierarchy->rows.size(), kTarget,
              "an accepted hierarchy has levels and a line per row");
  for (const auto& row : hierarchy->rows) {
    fuzz::check(row.size() == levels, kTarget, "every row has every level");
    for (const auto& label : row) fuzz::check(!label.empty(), kTarget, "no label is empty");
  }
  if (hierarchy->rows.size() > kMaxRows) return 0;

  // A column holding every value of the hierarchy once.
  Dataset table;
  table.source = "fuzz.csv";
  table.columns = {"v"};
  std::unordered_map<std::string, const std::vector<std::string>*> row_of;
  for (const auto& row : hierarchy->rows) {
    table.rows.push_back({row[0]});
    row_of[row[0]] = &row;
  }
  AnonymityConfig config;
  config.quasi_identifiers = {"v"};
  config.k = 1 + choice / 5 % 4;
  config.max_suppression = 0.5;
  const Hierarchies hierarchies{{"v", *hierarchy}};
  auto released = anonymise(table, hierarchies, config);
  if (!released) {
    fuzz::check(released.err().code == errc::bad_input, kTarget, "an unreachable k is errc::bad_input");
    return 0;
  }
  const AnonymityReport& report = released->report;
  fuzz::check(report.levels.size() == 1 && report.levels[0] < levels, kTarget, "the level chosen exists");
  fuzz::check(released->data.rows.size() + report.suppressed == table.rows.size(), kTarget,
              "every row is released or suppressed");
  fuzz::check(report.suppressed <= table.rows.size() / 2, kTarget, "no more rows are dropped than allowed");
  std::map<std::string, std::size_t> classes;
  for (const auto& row : released->data.rows) ++classes[row.at(0)];
  for (const auto& [label, count] : classes)
    fuzz::check(count >= config.k, kTarget, "every class has k rows");
  // Each released label is the label, at the chosen level, of some value of the hierarchy.
  std::map<std::string, bool> labels;
  for (const auto& row : hierarchy->rows) labels[row[report.levels[0]]] = true;
  for (const auto& [label, count] : classes)
    fuzz::check(labels.count(label) == 1, kTarget, "every released label is a label of the chosen level");
  return 0;
}
