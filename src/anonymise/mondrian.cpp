// mondrian.cpp: strict multidimensional Mondrian partitioning (LeFevre, DeWitt, Ramakrishnan
// 2006) of numeric quasi-identifiers, splitting at medians while both halves pass the per-class
// models (k, l-diversity, t-closeness, highest risk).
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <numeric>

#include "privacy_model.hpp"

namespace consentry::detail {

std::optional<double> parse_number(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  if (s.empty()) return std::nullopt;
  double v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || ptr != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

namespace {

/// Splitter holds the table as numbers and the model that decides its classes.
class Splitter {
 public:
  Splitter(const ClassModel& model, const std::vector<std::vector<double>>& values)
      : model_(model), values_(values) {}

  /// acceptable is true when the rows form a class the per-class models accept.
  bool acceptable(std::span<const std::uint32_t> rows) const { return model_.accepts_rows(rows); }

  /// split tries the dimensions from the widest (normalised) span down, each at its median: rows
  /// <= median go left, then, when that leaves the right empty, rows < median. The first cut whose
  /// halves are both acceptable is made; returns false when there is none.
  bool split(std::vector<std::uint32_t>& rows, std::size_t& left_size, const std::vector<double>& span) {
    const std::size_t q = values_.size();
    std::vector<std::pair<double, std::size_t>> dims;
    for (std::size_t c = 0; c < q; ++c) {
      double lo = values_[c][rows[0]], hi = lo;
      for (std::uint32_t r : rows) {
        lo = std::min(lo, values_[c][r]);
        hi = std::max(hi, values_[c][r]);
      }
      if (hi > lo) dims.emplace_back(span[c] > 0 ? (hi - lo) / span[c] : 0.0, c);
    }
    std::stable_sort(dims.begin(), dims.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [width, c] : dims) {
      const auto& v = values_[c];
      sorted_.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) sorted_[i] = v[rows[i]];
      std::sort(sorted_.begin(), sorted_.end());
      const double median = sorted_[(sorted_.size() - 1) / 2];
      for (bool inclusive : {true, false}) {
        auto goes_left = [&](std::uint32_t r) { return inclusive ? v[r] <= median : v[r] < median; };
        const std::size_t left = static_cast<std::size_t>(std::count_if(rows.begin(), rows.end(), goes_left));
        if (left == 0 || left == rows.size()) continue;
        auto mid = std::stable_partition(rows.begin(), rows.end(), goes_left);
        if (acceptable({rows.data(), left}) &&
            acceptable({rows.data() + left, static_cast<std::size_t>(rows.end() - mid)})) {
          left_size = left;
          return true;
        }
      }
    }
    return false;
  }

 private:
  const ClassModel& model_;
  const std::vector<std::vector<double>>& values_;
  std::vector<double> sorted_;
};

}  // namespace

result<Anonymised> mondrian_anonymise(const Dataset& data, const AnonymityConfig& config,
                                      const Columns& columns, const ClassModel& model) {
  const std::size_t n = data.rows.size();
  const std::size_t q = columns.quasi.size();
  std::vector<std::vector<double>> values(q, std::vector<double>(n));
  std::vector<double> min(q), max(q), span(q);
  for (std::size_t c = 0; c < q; ++c) {
    for (std::size_t r = 0; r < n; ++r) {
      auto v = parse_number(data.rows[r][columns.quasi[c]]);
      if (!v)
        return make_error(errc::bad_input, data.where(r) + ": column '" + config.quasi_identifiers[c] +
                                               "': not a number (Mondrian needs numeric quasi-identifiers)");
      values[c][r] = *v;
    }
    min[c] = *std::min_element(values[c].begin(), values[c].end());
    max[c] = *std::max_element(values[c].begin(), values[c].end());
    span[c] = max[c] - min[c];
  }

  const auto started = std::chrono::steady_clock::now();
  Splitter splitter(model, values);
  std::vector<std::uint32_t> all(n);
  std::iota(all.begin(), all.end(), 0U);
  if (!splitter.acceptable(all))
    return unreachable(config, "the whole table of " + std::to_string(n) +
                                   " rows is not one acceptable class (Mondrian does not suppress)");
  std::vector<std::vector<std::uint32_t>> pending;
  std::vector<std::vector<std::uint32_t>> parts;
  pending.push_back(std::move(all));
  while (!pending.empty()) {
    std::vector<std::uint32_t> rows = std::move(pending.back());
    pending.pop_back();
    std::size_t left = 0;
    if (splitter.split(rows, left, span)) {
      std::vector<std::uint32_t> right(rows.begin() + static_cast<std::ptrdiff_t>(left), rows.end());
      rows.resize(left);
      pending.push_back(std::move(right));
      pending.push_back(std::move(rows));
    } else {
      parts.push_back(std::move(rows));
    }
  }
  const auto finished = std::chrono::steady_clock::now();

  Anonymised out;
  AnonymityReport& rep = out.report;
  rep.method = AnonymityMethod::mondrian;
  rep.quasi_identifiers = config.quasi_identifiers;
  rep.rows = n;
  rep.partitions = parts.size();
  rep.search_time = std::chrono::duration_cast<std::chrono::nanoseconds>(finished - started);
  std::vector<std::size_t> sizes;
  for (const auto& p : parts) sizes.push_back(p.size());
  summarise(sizes, config.k, rep);
  rep.loss.aecs = static_cast<double>(n) / static_cast<double>(parts.size());

  out.data.source = data.source;
  out.data.columns = data.columns;
  out.data.rows = data.rows;
  out.data.lines.resize(n);
  for (std::size_t r = 0; r < n; ++r) out.data.lines[r] = data.line_of(r);
  double ncp_sum = 0;
  for (const auto& p : parts) {
    for (std::size_t c = 0; c < q; ++c) {
      std::uint32_t lo = p[0], hi = p[0];
      for (std::uint32_t r : p) {
        if (values[c][r] < values[c][lo]) lo = r;
        if (values[c][r] > values[c][hi]) hi = r;
      }
      const std::size_t col = columns.quasi[c];
      std::string label = data.rows[lo][col];
      if (values[c][hi] > values[c][lo]) label += "-" + data.rows[hi][col];
      for (std::uint32_t r : p) out.data.rows[r][col] = label;
      ncp_sum += static_cast<double>(p.size()) * range_ncp(values[c][lo], values[c][hi], min[c], max[c]);
    }
  }
  rep.loss.ncp = ncp_sum / (static_cast<double>(n) * static_cast<double>(q));
  return out;
}

}  // namespace consentry::detail
