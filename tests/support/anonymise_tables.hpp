// anonymise_tables.hpp: small tables and hierarchies the anonymisation tests share: a hierarchy
// from rows, and the hand-made table of ages 21-29 and ZIP codes with its two hierarchies.
#pragma once

#include <string>
#include <vector>

#include "consentry/anonymise/k_anonymity.hpp"

namespace consentry::test {

/// hierarchy_of makes a Hierarchy of `rows` (one per value, most specific first), lines 1...
inline Hierarchy hierarchy_of(std::vector<std::vector<std::string>> rows, std::string source = "h.csv") {
  Hierarchy h;
  h.source = std::move(source);
  h.rows = std::move(rows);
  for (std::size_t i = 0; i < h.rows.size(); ++i) h.lines.push_back(i + 1);
  return h;
}

/// hand_table is the hand-made table: ages 21-29, ZIP codes, a disease (hand.csv).
inline Dataset hand_table() {
  Dataset d;
  d.source = "hand.csv";
  d.columns = {"age", "zip", "disease"};
  d.rows = {{"21", "47677", "flu"},  {"22", "47678", "cold"}, {"23", "47677", "flu"},
            {"24", "47678", "hiv"},  {"26", "47905", "cold"}, {"27", "47906", "flu"},
            {"28", "47905", "cold"}, {"29", "47906", "hiv"}};
  return d;
}

/// hand_hierarchies are hand_table's: ages 20-29 (value, 20-24 or 25-29, *), four ZIP codes
/// (value, 4767* or 4790*, *).
inline Hierarchies hand_hierarchies() {
  std::vector<std::vector<std::string>> age;
  for (int a = 20; a <= 29; ++a) age.push_back({std::to_string(a), a < 25 ? "20-24" : "25-29", "*"});
  Hierarchies h;
  h.emplace("age", hierarchy_of(age, "hand_hierarchy_age.csv"));
  h.emplace("zip", hierarchy_of({{"47677", "4767*", "*"},
                                 {"47678", "4767*", "*"},
                                 {"47905", "4790*", "*"},
                                 {"47906", "4790*", "*"}},
                                "hand_hierarchy_zip.csv"));
  return h;
}

}  // namespace consentry::test
