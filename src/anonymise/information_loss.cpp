// information_loss.cpp: the loss metrics of a release (discernibility, C_avg, AECS, NCP) and the
// class-size and risk summary of its report.
#include <algorithm>

#include "privacy_model.hpp"

namespace consentry::detail {

void summarise(const std::vector<std::size_t>& class_sizes, std::size_t k, AnonymityReport& report) {
  report.classes = class_sizes.size();
  const std::size_t kept = report.rows - report.suppressed;
  std::uint64_t dm = static_cast<std::uint64_t>(report.suppressed) * report.rows;
  std::size_t smallest = 0;
  for (std::size_t size : class_sizes) {
    dm += static_cast<std::uint64_t>(size) * size;
    smallest = smallest == 0 ? size : std::min(smallest, size);
  }
  report.min_class_size = smallest;
  report.mean_class_size =
      class_sizes.empty() ? 0.0 : static_cast<double>(kept) / static_cast<double>(class_sizes.size());
  report.loss.discernibility = dm;
  report.highest_risk = smallest == 0 ? 0.0 : 1.0 / static_cast<double>(smallest);
  report.average_risk = kept == 0 ? 0.0 : static_cast<double>(class_sizes.size()) / static_cast<double>(kept);
  report.loss.aecs = class_sizes.empty()
                         ? 0.0
                         : static_cast<double>(report.rows) /
                               static_cast<double>(class_sizes.size() + (report.suppressed ? 1 : 0));
  report.loss.average_class_size =
      class_sizes.empty()
          ? 0.0
          : static_cast<double>(kept) / (static_cast<double>(class_sizes.size()) * static_cast<double>(k));
}

double hierarchy_ncp(std::size_t leaves, std::size_t domain) {
  if (domain <= 1 || leaves <= 1) return 0.0;
  return static_cast<double>(leaves - 1) / static_cast<double>(domain - 1);
}

double range_ncp(double lo, double hi, double min, double max) {
  if (!(max > min)) return 0.0;
  return (hi - lo) / (max - min);
}

}  // namespace consentry::detail
