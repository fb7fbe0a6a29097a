// k_anonymity.cpp: the configuration checks shared by both methods, and the entry point that
// dispatches to the lattice search or to Mondrian.
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
  return d == DiversityMeasure::entropy ? "entropy" : "distinct";
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
  if (config.l > 1)
    msg += ", l = " + std::to_string(config.l) + " (" + std::string(to_string(config.diversity)) + ")";
  msg += " cannot be reached within max-suppression " + fraction_text(config.max_suppression) + ": ";
  msg += why;
  return make_error(errc::bad_input, std::move(msg));
}

}  // namespace detail

result<Anonymised> anonymise(const Dataset& data, const Hierarchies& hierarchies,
                             const AnonymityConfig& config) {
  auto columns = detail::check_config(data, config);
  if (!columns) return std::move(columns).err();
  if (config.method == AnonymityMethod::mondrian) return detail::mondrian_anonymise(data, config, *columns);
  return detail::lattice_anonymise(data, hierarchies, config, *columns);
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
