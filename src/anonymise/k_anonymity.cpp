// k_anonymity.cpp: the configuration checks shared by both methods, the names of measures and
// metrics, and the entry point that dispatches to the lattice search or to Mondrian.
#include "consentry/anonymise/k_anonymity.hpp"

#include <cmath>
#include <cstdio>
#include <set>
#include <system_error>

#include "privacy_model.hpp"

namespace consentry {

std::string_view to_string(AnonymityMethod m) noexcept {
  return m == AnonymityMethod::mondrian ? "mondrian" : "lattice";
}

std::string_view to_string(DiversityMeasure d) noexcept {
  switch (d) {
    case DiversityMeasure::entropy: return "entropy";
    case DiversityMeasure::recursive: return "recursive";
    case DiversityMeasure::distinct: break;
  }
  return "distinct";
}

std::string_view to_string(ClosenessDistance d) noexcept {
  switch (d) {
    case ClosenessDistance::ordered: return "ordered";
    case ClosenessDistance::hierarchical: return "hierarchical";
    case ClosenessDistance::equal: break;
  }
  return "equal";
}

namespace {
constexpr std::pair<Metric, std::string_view> kMetricNames[] = {
    {Metric::discernibility, "discernibility"},
    {Metric::loss, "loss"},
    {Metric::ncp, "ncp"},
    {Metric::aecs, "aecs"},
    {Metric::entropy, "entropy"},
};
}  // namespace

std::string_view to_string(Metric m) noexcept {
  for (const auto& [metric, name] : kMetricNames) {
    if (metric == m) return name;
  }
  return "discernibility";
}

std::optional<Metric> parse_metric(std::string_view name) noexcept {
  for (const auto& [metric, text] : kMetricNames) {
    if (text == name) return metric;
  }
  return std::nullopt;
}

namespace detail {

namespace {

std::string fraction_text(double f) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", f);
  return buf;
}

}  // namespace

result<Columns> check_config(const Dataset& data, const AnonymityConfig& config) {
  auto bad = [](std::string what) { return make_error(errc::bad_input, std::move(what)); };
  if (config.k < 1) return bad("k must be at least 1");
  if (config.l < 1) return bad("l must be at least 1");
  if (!(config.max_suppression >= 0.0 && config.max_suppression <= 1.0))
    return bad("max-suppression must be a fraction in [0, 1]");
  if (config.diversity == DiversityMeasure::recursive && config.l > 1 &&
      !(config.c > 0 && std::isfinite(config.c)))
    return bad("recursive (c,l)-diversity needs c > 0");
  if (config.t && !(*config.t >= 0.0 && *config.t <= 1.0)) return bad("t must be in [0, 1]");
  if (config.max_highest_risk && !(*config.max_highest_risk > 0.0 && *config.max_highest_risk <= 1.0))
    return bad("the highest risk must be in (0, 1]");
  if (config.max_average_risk && !(*config.max_average_risk > 0.0 && *config.max_average_risk <= 1.0))
    return bad("the average risk must be in (0, 1]");
  if (config.population) {
    if (!(config.delta_min >= 0.0 && config.delta_max <= 1.0 && config.delta_min <= config.delta_max))
      return bad("δ-presence needs 0 <= delta-min <= delta-max <= 1");
  }
  if (config.method == AnonymityMethod::mondrian) {
    if (config.population || config.max_average_risk)
      return bad(
          "Mondrian applies the per-class models only (k, l, t, highest risk); δ-presence and the "
          "average risk need the lattice search");
    if (config.metric != Metric::discernibility)
      return bad("the metric chooses among lattice nodes; Mondrian makes no such choice");
    if (config.local_recoding) return bad("local recoding follows the lattice search, not Mondrian");
  }
  if (config.local_recoding && (config.population || config.max_average_risk))
    return bad(
        "local recoding keeps the per-class models only; it cannot be combined with δ-presence or "
        "the average risk");
  if (config.quasi_identifiers.empty()) return bad("no quasi-identifier column was given");
  Columns out;
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : config.quasi_identifiers) {
    auto at = data.column_index(name);
    if (!at) return bad(data.source + ":1: no column '" + name + "' for the quasi-identifiers");
    if (!seen.insert(name).second) return bad("quasi-identifier column '" + name + "' is named twice");
    out.quasi.push_back(*at);
  }
  if (config.l > 1 && config.sensitive.empty()) return bad("l-diversity (l > 1) needs a sensitive column");
  if (config.t && config.sensitive.empty()) return bad("t-closeness needs a sensitive column");
  if (config.population) {
    for (const std::string& name : config.quasi_identifiers) {
      if (!config.population->column_index(name))
        return bad(config.population->source + ":1: no column '" + name + "' in the population");
    }
  }
  if (!config.sensitive.empty()) {
    auto at = data.column_index(config.sensitive);
    if (!at) return bad(data.source + ":1: no sensitive column '" + config.sensitive + "'");
    if (seen.count(config.sensitive) != 0)
      return bad("column '" + config.sensitive + "' cannot be both sensitive and a quasi-identifier");
    out.sensitive = *at;
    out.has_sensitive = true;
  }
  if (data.rows.empty()) return bad(data.source + ": the table has no rows to release");
  return out;
}

error unreachable(const AnonymityConfig& config, std::string_view why) {
  std::string msg = "k = " + std::to_string(config.k);
  if (config.l > 1) {
    msg += ", l = " + std::to_string(config.l) + " (" + std::string(to_string(config.diversity));
    if (config.diversity == DiversityMeasure::recursive) msg += ", c = " + fraction_text(config.c);
    msg += ")";
  }
  if (config.t)
    msg += ", t = " + fraction_text(*config.t) + " (" + std::string(to_string(config.closeness)) + ")";
  if (config.max_highest_risk) msg += ", highest risk " + fraction_text(*config.max_highest_risk);
  if (config.max_average_risk) msg += ", average risk " + fraction_text(*config.max_average_risk);
  if (config.population)
    msg += ", δ in [" + fraction_text(config.delta_min) + ", " + fraction_text(config.delta_max) + "]";
  msg += " cannot be reached within max-suppression " + fraction_text(config.max_suppression) + ": ";
  msg += why;
  return make_error(errc::bad_input, std::move(msg));
}

}  // namespace detail

result<Anonymised> anonymise(const Dataset& data, const Hierarchies& hierarchies,
                             const AnonymityConfig& config) {
  auto columns = detail::check_config(data, config);
  if (!columns) return std::move(columns).err();
  auto model = detail::ClassModel::make(data, hierarchies, config, *columns);
  if (!model) return std::move(model).err();
  if (config.method == AnonymityMethod::mondrian)
    return detail::mondrian_anonymise(data, config, *columns, *model);
  return detail::lattice_anonymise(data, hierarchies, config, *columns, *model);
}

result<Hierarchies> read_hierarchies(const std::filesystem::path& dir, std::string_view prefix,
                                     const std::vector<std::string>& columns, char delimiter) {
  Hierarchies out;
  for (const std::string& column : columns) {
    const std::filesystem::path file = hierarchy_file(dir, prefix, column);
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) continue;
    auto h = read_hierarchy(file, delimiter);
    if (!h) return std::move(h).err();
    out.emplace(column, std::move(h).value());
  }
  return out;
}

}  // namespace consentry
