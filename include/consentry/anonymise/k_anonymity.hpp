// anonymise/k_anonymity.hpp: k-anonymous (and l-diverse) releases of a Dataset, by an optimal
// full-domain generalisation lattice search or by Mondrian multidimensional partitioning.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// AnonymityMethod chooses the algorithm.
enum class AnonymityMethod {
  lattice,   ///< full-domain generalisation along hierarchies, optimal lattice search
  mondrian,  ///< strict multidimensional partitioning of numeric columns at medians
};

/// DiversityMeasure is how l-diversity of the sensitive column is measured in a class.
enum class DiversityMeasure {
  distinct,  ///< at least l distinct sensitive values
  entropy,   ///< entropy of the sensitive values (natural log) at least log(l)
};

/// to_string names a method ("lattice", "mondrian").
std::string_view to_string(AnonymityMethod m) noexcept;
/// to_string names a diversity measure ("distinct", "entropy").
std::string_view to_string(DiversityMeasure d) noexcept;

/// AnonymityConfig says what the release must satisfy.
struct AnonymityConfig {
  std::vector<std::string> quasi_identifiers;  ///< columns an attacker may know; not empty
  std::size_t k = 2;                           ///< every released class has at least k rows
  std::size_t l = 1;                           ///< l-diversity of `sensitive`; 1 = none
  std::string sensitive;                       ///< the sensitive column; required when l > 1
  DiversityMeasure diversity = DiversityMeasure::distinct;
  /// max_suppression is the largest fraction of rows (in [0, 1]) that the lattice search may drop
  /// to reach k (and l). Mondrian never suppresses.
  double max_suppression = 0.0;
  AnonymityMethod method = AnonymityMethod::lattice;
};

/// Hierarchies maps a column name to its generalisation hierarchy.
using Hierarchies = std::map<std::string, Hierarchy, std::less<>>;

/// InformationLoss measures what a release lost, with N rows, q quasi-identifiers, k.
struct InformationLoss {
  /// discernibility (DM): the sum of |E|^2 over released classes E plus N for every suppressed row.
  std::uint64_t discernibility = 0;
  /// average_class_size (C_avg): (N - suppressed) / (classes * k); 1 is ideal.
  double average_class_size = 0;
  /// ncp: the normalised certainty penalty averaged over all N * q quasi-identifier cells, in
  /// [0, 1]: (leaves under the label - 1) / (leaves of the hierarchy - 1) for a generalised cell,
  /// (hi - lo) / (max - min) for a numeric range, 1 for a cell of a suppressed row.
  double ncp = 0;
};

/// AnonymityReport describes a release.
struct AnonymityReport {
  AnonymityMethod method = AnonymityMethod::lattice;
  std::vector<std::string> quasi_identifiers;  ///< as configured
  std::vector<std::size_t> levels;             ///< lattice: chosen level per quasi-identifier
  std::vector<std::size_t> max_levels;         ///< lattice: the top level per quasi-identifier
  std::size_t partitions = 0;                  ///< Mondrian: partitions made (= classes)
  std::size_t rows = 0;                        ///< N, rows in the input
  std::size_t suppressed = 0;                  ///< rows dropped from the output
  std::size_t classes = 0;                     ///< equivalence classes of the output
  std::size_t min_class_size = 0;
  double mean_class_size = 0;
  InformationLoss loss;
  std::size_t nodes = 0;                    ///< lattice: nodes in the generalisation lattice
  std::size_t nodes_checked = 0;            ///< lattice: nodes whose classes were computed
  std::size_t nodes_pruned = 0;             ///< lattice: nodes settled without computing (nodes - checked)
  std::chrono::nanoseconds search_time{0};  ///< the search alone, without reading or output
};

/// Anonymised is a release: the table and its report.
struct Anonymised {
  Dataset data;  ///< the input's columns; quasi-identifiers generalised, suppressed rows dropped
  AnonymityReport report;
};

/// anonymise releases `data` so that every class of rows equal on the quasi-identifiers has at
/// least k rows (and, with l > 1, is l-diverse in the sensitive column), by config.method:
///
/// - lattice: every quasi-identifier needs a hierarchy in `hierarchies` holding all its values.
///   The search finds the generalisation (one level per column) of least discernibility metric
///   among those that reach k (and l) with at most max_suppression of the rows dropped (rows of
///   classes that fail are dropped); ties go to the lower sum of levels, then to the lower levels
///   in column order. It prunes by monotonicity where that holds (see docs/anonymise.md).
/// - mondrian: every quasi-identifier must be numeric; cells become "lo-hi" ranges (the value
///   when lo == hi); nothing is suppressed.
///
/// errc::bad_input naming the source, line and column for an unknown column, a value missing
/// from its hierarchy, a missing hierarchy, a non-numeric cell for Mondrian, k < 1, l < 1, a
/// fraction outside [0, 1]; and naming k, l and the limit when they cannot be reached. Never
/// quotes a cell.
result<Anonymised> anonymise(const Dataset& data, const Hierarchies& hierarchies,
                             const AnonymityConfig& config);

/// generalise applies one lattice node: each quasi-identifier replaced by its label at `levels`
/// (in config.quasi_identifiers order), without suppression. errc::bad_input as anonymise, and for
/// a level above a hierarchy's top.
result<Dataset> generalise(const Dataset& data, const Hierarchies& hierarchies,
                           const std::vector<std::string>& quasi_identifiers,
                           const std::vector<std::size_t>& levels);

/// read_hierarchies reads the hierarchy of each of `columns` from
/// hierarchy_file(dir, prefix, column); a column whose file does not exist is left out.
/// Errors of read_hierarchy for the files that exist.
result<Hierarchies> read_hierarchies(const std::filesystem::path& dir, std::string_view prefix,
                                     const std::vector<std::string>& columns, char delimiter);

}  // namespace consentry
