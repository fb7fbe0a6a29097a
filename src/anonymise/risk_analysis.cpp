// risk_analysis.cpp: re-identification risk of a table's classes (prosecutor, journalist,
// marketer; Dankar & El Emam) and population uniqueness (Zayatz 1991; Pitman-Yor fitted by
// maximum likelihood, Hoshino 2001; the decision rule of Dankar et al. 2012).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "consentry/anonymise/risk.hpp"

namespace consentry {

namespace {

/// kDecisionFraction is the sampling fraction at or below which Dankar et al.'s rule uses Pitman.
constexpr double kDecisionFraction = 0.1;

/// kBoundaryAlpha: a fitted alpha below it is checked for a maximum at alpha = 0 itself.
constexpr double kBoundaryAlpha = 1e-6;

bool is_fraction(double f) {
  return f > 0.0 && f <= 1.0;
}  // false for NaN

/// Classes groups the rows of a table by their quasi-identifier values.
struct Classes {
  std::vector<std::uint32_t> of_row;  ///< the class of each row
  std::vector<std::size_t> size;      ///< rows of each class
  std::vector<std::size_t> first_row;
};

/// Grouper numbers each quasi-identifier's values and each combination of them, so that another
/// table's rows can be matched to the classes by the same codes.
class Grouper {
 public:
  explicit Grouper(std::vector<std::size_t> columns)
      : columns_(std::move(columns)), codes_(columns_.size()) {}

  Classes group(const Dataset& data) {
    Classes out;
    out.of_row.reserve(data.rows.size());
    std::string key;
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      key.clear();
      for (std::size_t c = 0; c < columns_.size(); ++c) {
        auto [it, added] =
            codes_[c].emplace(data.rows[r][columns_[c]], static_cast<std::uint32_t>(codes_[c].size()));
        append(key, it->second);
      }
      auto [it, added] = classes_.emplace(key, static_cast<std::uint32_t>(out.size.size()));
      if (added) {
        out.size.push_back(0);
        out.first_row.push_back(r);
      }
      ++out.size[it->second];
      out.of_row.push_back(it->second);
    }
    return out;
  }

  /// count_in counts, per class of the grouped table, the rows of `other` (its quasi-identifiers
  /// at `columns`) that fall in it.
  std::vector<std::size_t> count_in(const Dataset& other, const std::vector<std::size_t>& columns) const {
    std::vector<std::size_t> counts(classes_.size(), 0);
    std::string key;
    for (const auto& row : other.rows) {
      key.clear();
      bool known = true;
      for (std::size_t c = 0; c < columns.size() && known; ++c) {
        auto it = codes_[c].find(row[columns[c]]);
        known = it != codes_[c].end();
        if (known) append(key, it->second);
      }
      if (!known) continue;
      auto it = classes_.find(key);
      if (it != classes_.end()) ++counts[it->second];
    }
    return counts;
  }

 private:
  static void append(std::string& key, std::uint32_t code) {
    char bytes[sizeof code];
    std::memcpy(bytes, &code, sizeof code);
    key.append(bytes, sizeof code);
  }

  std::vector<std::size_t> columns_;
  std::vector<std::unordered_map<std::string_view, std::uint32_t>> codes_;
  std::unordered_map<std::string, std::uint32_t> classes_;
};

/// quasi_columns finds the quasi-identifiers in `data`; errc::bad_input for an unknown or
/// repeated one, naming `what`.
result<std::vector<std::size_t>> quasi_columns(const Dataset& data, const std::vector<std::string>& names,
                                               std::string_view what) {
  std::vector<std::size_t> out;
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : names) {
    if (!seen.insert(name).second)
      return make_error(errc::bad_input,
                        data.source + ":1: quasi-identifier column '" + name + "' is named twice");
    auto at = data.column_index(name);
    if (!at)
      return make_error(errc::bad_input, data.source + ":1: no column '" + name +
                                             "' for the quasi-identifiers" + std::string(what));
    out.push_back(*at);
  }
  return out;
}

/// PitmanData is what the Pitman-Yor likelihood needs of a histogram.
struct PitmanData {
  double n = 0;                ///< records
  std::size_t records = 0;     ///< n as a count
  std::size_t classes = 0;     ///< u
  std::vector<double> larger;  ///< larger[k]: classes of size above k, for k = 1 .. largest - 1
};

/// score_theta is the derivative of the log likelihood in theta, and its own derivative.
void score_theta(const PitmanData& d, double theta, double alpha, double& g, double& dg) {
  g = 0;
  dg = 0;
  for (std::size_t i = 1; i < d.classes; ++i) {
    const double v = 1.0 / (theta + static_cast<double>(i) * alpha);
    g += v;
    dg -= v * v;
  }
  for (std::size_t i = 1; i < d.records; ++i) {
    const double v = 1.0 / (theta + static_cast<double>(i));
    g -= v;
    dg += v * v;
  }
}

/// score_alpha is the derivative of the log likelihood in alpha.
double score_alpha(const PitmanData& d, double theta, double alpha) {
  double g = 0;
  for (std::size_t i = 1; i < d.classes; ++i) {
    const double x = static_cast<double>(i);
    g += x / (theta + x * alpha);
  }
  for (std::size_t k = 1; k < d.larger.size(); ++k) g -= d.larger[k] / (static_cast<double>(k) - alpha);
  return g;
}

double log_likelihood(const PitmanData& d, double theta, double alpha) {
  double l = 0;
  for (std::size_t i = 1; i < d.classes; ++i) l += std::log(theta + static_cast<double>(i) * alpha);
  for (std::size_t i = 1; i < d.records; ++i) l -= std::log(theta + static_cast<double>(i));
  for (std::size_t k = 1; k < d.larger.size(); ++k)
    l += d.larger[k] * std::log(static_cast<double>(k) - alpha);
  return l;
}

/// polish refines an interior maximum by Newton's method on both scores at once, with the
/// analytic Hessian; it keeps (theta, alpha) when a step would leave the domain or lower the
/// likelihood.
void polish(const PitmanData& d, double& theta, double& alpha, double& l) {
  for (int iteration = 0; iteration < 20; ++iteration) {
    double gt = 0, htt = 0;
    score_theta(d, theta, alpha, gt, htt);
    const double ga = score_alpha(d, theta, alpha);
    double hta = 0, haa = 0;
    for (std::size_t i = 1; i < d.classes; ++i) {
      const double x = static_cast<double>(i);
      const double v = 1.0 / (theta + x * alpha);
      hta -= x * v * v;
      haa -= x * x * v * v;
    }
    for (std::size_t k = 1; k < d.larger.size(); ++k) {
      const double v = 1.0 / (static_cast<double>(k) - alpha);
      haa -= d.larger[k] * v * v;
    }
    const double det = htt * haa - hta * hta;
    if (!(htt < 0 && det > 0)) return;  // not at a maximum's concave neighbourhood
    const double step_theta = (haa * gt - hta * ga) / det;
    const double step_alpha = (htt * ga - hta * gt) / det;
    const double next_theta = theta - step_theta, next_alpha = alpha - step_alpha;
    if (!(next_alpha > 0 && next_alpha < 1 && next_theta + next_alpha > 0)) return;
    const double next_l = log_likelihood(d, next_theta, next_alpha);
    if (!(next_l >= l - 1e-12 * std::abs(l))) return;
    const bool small = std::abs(step_alpha) < 1e-14 && std::abs(step_theta) < 1e-14 * (1 + std::abs(theta));
    theta = next_theta;
    alpha = next_alpha;
    l = std::max(l, next_l);
    if (small) return;
  }
}

/// best_theta solves the theta score for a fixed alpha: the point where it turns from positive
/// (near theta = -alpha, where it grows without bound) to negative, by Newton's method kept
/// inside a bracket that bisection (in log scale) narrows when a step leaves it. Works on
/// t = theta + alpha > 0. Nothing when the score stays positive (theta without bound).
std::optional<double> best_theta(const PitmanData& d, double alpha) {
  double g = 0, dg = 0;
  auto positive = [&](double t) {
    score_theta(d, t - alpha, alpha, g, dg);
    return g > 0;
  };
  double hi = 1.0;
  while (positive(hi)) {
    hi *= 4.0;
    if (hi > 1e15) return std::nullopt;
  }
  double lo = hi / 4.0;
  while (!positive(lo)) {
    hi = lo;
    lo /= 4.0;
    if (lo < 1e-300) return std::nullopt;
  }
  double t = std::sqrt(lo * hi);
  for (int iteration = 0; iteration < 200; ++iteration) {
    score_theta(d, t - alpha, alpha, g, dg);
    if (g == 0) break;
    if (g > 0) {
      lo = t;
    } else {
      hi = t;
    }
    if (hi - lo <= 1e-15 * hi) break;
    double next = dg < 0 ? t - g / dg : std::numeric_limits<double>::quiet_NaN();
    if (!(next > lo && next < hi)) next = hi / lo > 4.0 ? std::sqrt(lo * hi) : 0.5 * (lo + hi);
    t = next;
  }
  return t - alpha;
}

/// profile is the log likelihood maximised over theta at `alpha`; -infinity without a maximum.
double profile(const PitmanData& d, double alpha, double& theta) {
  auto t = best_theta(d, alpha);
  if (!t) return -std::numeric_limits<double>::infinity();
  theta = *t;
  const double l = log_likelihood(d, theta, alpha);
  return std::isfinite(l) ? l : -std::numeric_limits<double>::infinity();
}

std::size_t records_of(const std::vector<ClassSizeCount>& class_sizes) {
  std::size_t n = 0;
  for (const ClassSizeCount& c : class_sizes) n += c.size * c.classes;
  return n;
}

std::size_t classes_of_size(const std::vector<ClassSizeCount>& class_sizes, std::size_t size) {
  for (const ClassSizeCount& c : class_sizes)
    if (c.size == size) return c.classes;
  return 0;
}

/// zayatz_uniques: the hypergeometric probability H(i) of drawing exactly one record of a
/// population class of size i in n draws from N is i C(N-i, n-1) / C(N, n), so relative to H(1)
/// it is r(i) = i prod_{k=1}^{i-1} (N - n + 1 - k) / (N - k), a product of factors in [0, 1):
/// no factorial of N is ever formed.
/// The sample uniques that are population uniques, f1 P, are scaled up by N / n (the sampling
/// fraction as N's rounding leaves it), so that the estimate's share of N is f1 P / n.
double zayatz_uniques(const std::vector<ClassSizeCount>& class_sizes, double n, double population) {
  const double f1 = static_cast<double>(classes_of_size(class_sizes, 1));
  if (f1 == 0) return 0;
  std::map<std::size_t, std::size_t> by_size;
  for (const ClassSizeCount& c : class_sizes) by_size[c.size] += c.classes;
  double weighted = 0;  // sum_i f_i r(i)
  double product = 1;   // prod_{k=1}^{i-1} (N - n + 1 - k) / (N - k)
  std::size_t at = 1;
  for (const auto& [size, count] : by_size) {
    for (; at < size; ++at) {
      const double k = static_cast<double>(at);
      const double factor = (population - n + 1 - k) / (population - k);
      product = factor > 0 ? product * factor : 0.0;
    }
    weighted += static_cast<double>(count) * static_cast<double>(size) * product;
  }
  const double conditional = f1 / weighted;  // P(population unique | sample unique)
  return f1 * conditional * population / n;
}

}  // namespace

std::string_view to_string(UniquenessModel m) noexcept {
  switch (m) {
    case UniquenessModel::none: return "none";
    case UniquenessModel::zayatz: return "zayatz";
    case UniquenessModel::pitman: return "pitman";
  }
  return "none";
}

double pitman_uniques(double theta, double alpha, double population_size) {
  return std::exp(std::lgamma(theta + 1.0) - std::lgamma(theta + alpha) + alpha * std::log(population_size));
}

std::optional<PitmanFit> fit_pitman(const std::vector<ClassSizeCount>& class_sizes) {
  PitmanData d;
  std::size_t largest = 0;
  for (const ClassSizeCount& c : class_sizes) {
    d.classes += c.classes;
    if (c.classes > 0) largest = std::max(largest, c.size);
  }
  d.records = records_of(class_sizes);
  d.n = static_cast<double>(d.records);
  if (d.classes < 2 || d.classes >= d.records) return std::nullopt;
  d.larger.assign(largest, 0.0);
  for (const ClassSizeCount& c : class_sizes)
    for (std::size_t k = 1; k < c.size; ++k) d.larger[k] += static_cast<double>(c.classes);

  // The profile over alpha in [0, 1): a grid finds the best region (the profile falls to
  // -infinity as alpha nears 1, as log(1 - alpha) weighs every class above size 1), then a
  // golden-section search narrows it.
  constexpr int kGrid = 40;
  double best = -std::numeric_limits<double>::infinity();
  double best_alpha = 0, best_theta_value = 0;
  int best_at = -1;
  auto consider = [&](double alpha) {
    double theta = 0;
    const double l = profile(d, alpha, theta);
    if (l > best) {
      best = l;
      best_alpha = alpha;
      best_theta_value = theta;
    }
    return l;
  };
  for (int j = 0; j < kGrid; ++j) {
    const double before = best;
    consider(static_cast<double>(j) / kGrid);
    if (best > before) best_at = j;
  }
  if (best_at < 0) return std::nullopt;
  double a = best_at == 0 ? 0.0 : static_cast<double>(best_at - 1) / kGrid;
  double b = std::min(static_cast<double>(best_at + 1) / kGrid, 1.0 - 1e-12);
  const double ratio = (std::sqrt(5.0) - 1.0) / 2.0;
  double x1 = b - ratio * (b - a), x2 = a + ratio * (b - a);
  double l1 = consider(x1), l2 = consider(x2);
  for (int iteration = 0; iteration < 80 && b - a > 1e-12; ++iteration) {
    if (l1 >= l2) {
      b = x2;
      x2 = x1;
      l2 = l1;
      x1 = b - ratio * (b - a);
      l1 = consider(x1);
    } else {
      a = x1;
      x1 = x2;
      l1 = l2;
      x2 = a + ratio * (b - a);
      l2 = consider(x2);
    }
  }
  // Near alpha = 0 the maximum may lie on the boundary itself: the likelihood falls as alpha
  // leaves 0 when its derivative in alpha is not positive there.
  if (best_alpha < kBoundaryAlpha) {
    double theta = 0;
    const double l = profile(d, 0.0, theta);
    if (std::isfinite(l) && score_alpha(d, theta, 0.0) <= 0) return PitmanFit{theta, 0.0, l};
  }
  polish(d, best_theta_value, best_alpha, best);
  return PitmanFit{best_theta_value, best_alpha, best};
}

result<PopulationUniqueness> estimate_population_uniques(const std::vector<ClassSizeCount>& class_sizes,
                                                         double sampling_fraction) {
  if (!is_fraction(sampling_fraction))
    return make_error(errc::bad_input, "the sampling fraction must be in (0, 1]");
  if (class_sizes.empty()) return make_error(errc::bad_input, "the class-size histogram is empty");
  for (const ClassSizeCount& c : class_sizes)
    if (c.size == 0 || c.classes == 0)
      return make_error(errc::bad_input, "the class-size histogram has a bar of size or count 0");
  PopulationUniqueness out;
  const double n = static_cast<double>(records_of(class_sizes));
  out.sampling_fraction = sampling_fraction;
  out.population_size = std::max(n, std::round(n / sampling_fraction));
  if (classes_of_size(class_sizes, 1) == 0) {
    out.pitman = 0.0;
    out.pitman_fraction = 0.0;
    return out;  // no sample uniques: every estimate 0, decision none
  }
  out.zayatz = zayatz_uniques(class_sizes, n, out.population_size);
  out.zayatz_fraction = out.zayatz / out.population_size;
  out.pitman_fit = fit_pitman(class_sizes);
  if (out.pitman_fit && out.pitman_fit->alpha > 0) {
    const double u = pitman_uniques(out.pitman_fit->theta, out.pitman_fit->alpha, out.population_size);
    if (std::isfinite(u) && u >= 0 && u <= out.population_size) {
      out.pitman = u;
      out.pitman_fraction = u / out.population_size;
    }
  }
  if (sampling_fraction <= kDecisionFraction && out.pitman && *out.pitman > 0) {
    out.decision = UniquenessModel::pitman;
    out.decision_uniques = *out.pitman;
  } else {
    out.decision = UniquenessModel::zayatz;
    out.decision_uniques = out.zayatz;
  }
  out.decision_fraction = out.decision_uniques / out.population_size;
  return out;
}

result<RiskReport> analyse_risk(const Dataset& data, const RiskConfig& config, const Dataset* population) {
  if (!is_fraction(config.threshold))
    return make_error(errc::bad_input, "the risk threshold must be in (0, 1]");
  if (config.sampling_fraction && !is_fraction(*config.sampling_fraction))
    return make_error(errc::bad_input, "the sampling fraction must be in (0, 1]");
  if (config.quasi_identifiers.empty())
    return make_error(errc::bad_input, "no quasi-identifier column was given");
  auto columns = quasi_columns(data, config.quasi_identifiers, "");
  if (!columns) return std::move(columns).err();
  std::vector<std::size_t> population_columns;
  if (population) {
    auto found = quasi_columns(*population, config.quasi_identifiers, " in the population table");
    if (!found) return std::move(found).err();
    population_columns = std::move(*found);
  }
  if (data.rows.empty())
    return make_error(errc::bad_input, data.source + ": the table has no rows to analyse");
  if (population && population->rows.empty())
    return make_error(errc::bad_input, population->source + ": the population table has no rows");

  Grouper grouper(*columns);
  const Classes classes = grouper.group(data);
  const std::size_t u = classes.size.size();
  const double n = static_cast<double>(data.rows.size());

  // F: each class's records in the population; the table is its own population without one.
  std::vector<std::size_t> in_population = classes.size;
  if (population) {
    in_population = grouper.count_in(*population, population_columns);
    std::vector<std::size_t> seen(u, 0);
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      const std::uint32_t j = classes.of_row[r];
      if (++seen[j] > in_population[j])
        return make_error(
            errc::bad_input,
            data.where(r) + ": the population table " + population->source +
                (in_population[j] == 0
                     ? " holds no record with this row's quasi-identifier values"
                     : " holds fewer records with this row's quasi-identifier values than the table"));
    }
  }

  RiskReport report;
  report.quasi_identifiers = config.quasi_identifiers;
  report.threshold = config.threshold;
  report.rows = data.rows.size();
  report.classes = u;
  report.population_table = population != nullptr;
  report.population_rows = population ? population->rows.size() : 0;
  std::map<std::size_t, std::size_t> histogram;
  std::size_t smallest_in_population = std::numeric_limits<std::size_t>::max();
  double population_of_classes = 0;  // sum F
  double share = 0;                  // sum f / F
  for (std::size_t j = 0; j < u; ++j) {
    const std::size_t f = classes.size[j];
    const std::size_t F = in_population[j];
    ++histogram[f];
    if (1.0 / static_cast<double>(f) > config.threshold) report.prosecutor.records_at_risk += f;
    if (1.0 / static_cast<double>(F) > config.threshold) report.journalist.records_at_risk += f;
    smallest_in_population = std::min(smallest_in_population, F);
    population_of_classes += static_cast<double>(F);
    share += static_cast<double>(f) / static_cast<double>(F);
  }
  for (const auto& [size, count] : histogram) report.class_sizes.push_back({size, count});
  report.smallest_class = report.class_sizes.front().size;
  report.largest_class = report.class_sizes.back().size;
  report.mean_class_size = n / static_cast<double>(u);

  report.prosecutor.highest = 1.0 / static_cast<double>(report.smallest_class);
  report.prosecutor.average = static_cast<double>(u) / n;
  report.prosecutor.records_at_risk_fraction = static_cast<double>(report.prosecutor.records_at_risk) / n;
  if (population) {
    report.journalist.highest = 1.0 / static_cast<double>(smallest_in_population);
    report.journalist.average = std::max(static_cast<double>(u) / population_of_classes, share / n);
    report.journalist.records_at_risk_fraction = static_cast<double>(report.journalist.records_at_risk) / n;
    report.marketer = share / n;
  } else {
    report.journalist = report.prosecutor;
    report.marketer = report.prosecutor.average;
  }
  report.sample_uniques = classes_of_size(report.class_sizes, 1);
  report.sample_uniques_fraction = static_cast<double>(report.sample_uniques) / n;

  std::optional<double> fraction = config.sampling_fraction;
  if (!fraction && population) fraction = n / static_cast<double>(population->rows.size());
  if (fraction) {
    auto estimate = estimate_population_uniques(report.class_sizes, *fraction);
    if (!estimate) return std::move(estimate).err();
    report.population_uniques = std::move(*estimate);
  }
  return report;
}

}  // namespace consentry
