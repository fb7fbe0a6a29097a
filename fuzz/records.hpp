// records.hpp: comparing the records two imports read, for the import targets' round trips.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "consentry/vault.hpp"

namespace consentry::fuzz {

/// same_records is true when `a` and `b` hold the same customers, sources, collection times and
/// fields (a record's fields compared as a set: a round trip may write them in another order).
inline bool same_records(const std::vector<Record>& a, const std::vector<Record>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].customer != b[i].customer || a[i].source != b[i].source ||
        a[i].collected_at != b[i].collected_at)
      return false;
    auto fa = a[i].fields;
    auto fb = b[i].fields;
    std::sort(fa.begin(), fa.end());
    std::sort(fb.begin(), fb.end());
    if (fa != fb) return false;
  }
  return true;
}

}  // namespace consentry::fuzz
