// diversity.cpp: l-diversity of the sensitive column (distinct, entropy, recursive (c,l)), and the
// encoding of that column.
#include <algorithm>
#include <cmath>
#include <functional>
#include <string_view>
#include <unordered_map>

#include "privacy_model.hpp"

namespace consentry::detail {

SensitiveCodes encode_sensitive(const Dataset& data, const Columns& columns, const AnonymityConfig& config) {
  SensitiveCodes out;
  if (!columns.has_sensitive || (config.l <= 1 && !config.t)) return out;
  std::unordered_map<std::string_view, std::uint32_t> codes;
  out.code.reserve(data.rows.size());
  for (const auto& row : data.rows) {
    auto [it, added] = codes.emplace(row[columns.sensitive], static_cast<std::uint32_t>(codes.size()));
    if (added) out.total.push_back(0);
    ++out.total[it->second];
    out.code.push_back(it->second);
  }
  out.distinct = codes.size();
  return out;
}

bool is_diverse(std::span<const std::uint32_t> counts, std::size_t total, DiversityMeasure measure,
                std::size_t l, double c) {
  if (l <= 1) return true;
  if (total == 0) return false;
  if (measure == DiversityMeasure::distinct) {
    std::size_t distinct = 0;
    for (std::uint32_t n : counts) distinct += n > 0 ? 1 : 0;
    return distinct >= l;
  }
  if (measure == DiversityMeasure::recursive) {
    // Recursive (c,l): with the counts sorted r1 >= r2 >= ... >= rm, r1 < c (r_l + ... + r_m).
    std::vector<std::uint32_t> sorted;
    for (std::uint32_t n : counts) {
      if (n > 0) sorted.push_back(n);
    }
    if (sorted.size() < l) return false;
    std::sort(sorted.begin(), sorted.end(), std::greater<>());
    double tail = 0;
    for (std::size_t i = l - 1; i < sorted.size(); ++i) tail += sorted[i];
    return static_cast<double>(sorted[0]) < c * tail;
  }
  // Entropy l-diversity: -sum p log p >= log l.
  double entropy = 0;
  const double n = static_cast<double>(total);
  for (std::uint32_t k : counts) {
    if (k == 0) continue;
    const double p = static_cast<double>(k) / n;
    entropy -= p * std::log(p);
  }
  return entropy >= std::log(static_cast<double>(l)) - kEntropySlack;
}

}  // namespace consentry::detail
