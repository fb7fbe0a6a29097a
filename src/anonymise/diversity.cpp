// diversity.cpp: l-diversity of the sensitive column (distinct and entropy), and the encoding of
// that column.
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "privacy_model.hpp"

namespace consentry::detail {

SensitiveCodes encode_sensitive(const Dataset& data, const Columns& columns, const AnonymityConfig& config) {
  SensitiveCodes out;
  if (!columns.has_sensitive || config.l <= 1) return out;
  std::unordered_map<std::string_view, std::uint32_t> codes;
  out.code.reserve(data.rows.size());
  for (const auto& row : data.rows) {
    auto [it, added] = codes.emplace(row[columns.sensitive], static_cast<std::uint32_t>(codes.size()));
    out.code.push_back(it->second);
  }
  out.distinct = codes.size();
  return out;
}

bool is_diverse(std::span<const std::uint32_t> counts, std::size_t total, DiversityMeasure measure,
                std::size_t l) {
  if (l <= 1) return true;
  if (total == 0) return false;
  if (measure == DiversityMeasure::distinct) {
    std::size_t distinct = 0;
    for (std::uint32_t c : counts) distinct += c > 0 ? 1 : 0;
    return distinct >= l;
  }
  // Entropy l-diversity: -sum p log p >= log l.
  double entropy = 0;
  const double n = static_cast<double>(total);
  for (std::uint32_t c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / n;
    entropy -= p * std::log(p);
  }
  return entropy >= std::log(static_cast<double>(l)) - kEntropySlack;
}

}  // namespace consentry::detail
