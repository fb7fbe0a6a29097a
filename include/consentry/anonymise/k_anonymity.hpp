// anonymise/k_anonymity.hpp: releases of a Dataset under k-anonymity and the privacy models that
// refine it (l-diversity, t-closeness, re-identification risk thresholds, δ-presence), by an
// optimal full-domain generalisation lattice search under a chosen utility metric, or by Mondrian
// multidimensional partitioning.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
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
  distinct,   ///< at least l distinct sensitive values
  entropy,    ///< entropy of the sensitive values (natural log) at least log(l)
  recursive,  ///< recursive (c,l): r1 < c (r_l + ... + r_m), counts sorted in decreasing order
};

/// ClosenessDistance is the earth mover's distance t-closeness measures with (Li, Li and
/// Venkatasubramanian 2007).
enum class ClosenessDistance {
  equal,         ///< every two values at distance 1: half the sum of |p_i - q_i|
  ordered,       ///< numeric values in order, neighbours at distance 1 / (m - 1)
  hierarchical,  ///< two values at distance level(their lowest common ancestor) / height
};

/// Metric is the utility measure the lattice search minimises (see docs/anonymise.md).
enum class Metric {
  discernibility,  ///< DM: sum of |E|^2, N per suppressed row (Bayardo and Agrawal 2005)
  loss,            ///< ARX's Loss: per column share of the domain, geometric mean over columns
  ncp,             ///< normalised certainty penalty, arithmetic mean over all cells
  aecs,            ///< average equivalence class size, suppressed rows as one class
  entropy,         ///< non-uniform entropy in bits, summed over columns (Gionis and Tassa 2009)
};

/// to_string names a method ("lattice", "mondrian").
std::string_view to_string(AnonymityMethod m) noexcept;
/// to_string names a diversity measure ("distinct", "entropy", "recursive").
std::string_view to_string(DiversityMeasure d) noexcept;
/// to_string names a distance ("equal", "ordered", "hierarchical").
std::string_view to_string(ClosenessDistance d) noexcept;
/// to_string names a metric ("discernibility", "loss", "ncp", "aecs", "entropy").
std::string_view to_string(Metric m) noexcept;
/// parse_metric reads a metric's name; nothing for an unknown name.
std::optional<Metric> parse_metric(std::string_view name) noexcept;

/// AnonymityConfig says what the release must satisfy.
struct AnonymityConfig {
  std::vector<std::string> quasi_identifiers;  ///< columns an attacker may know; not empty
  std::size_t k = 2;                           ///< every released class has at least k rows
  std::size_t l = 1;                           ///< l-diversity of `sensitive`; 1 = none
  std::string sensitive;                       ///< the sensitive column; required when l > 1
  DiversityMeasure diversity = DiversityMeasure::distinct;
  double c = 0;  ///< recursive (c,l)-diversity's c (> 0); used when diversity is recursive
  /// t, when set, asks for t-closeness of `sensitive`: the distance between each class's
  /// distribution of it and the whole table's is at most t (in [0, 1]).
  std::optional<double> t;
  /// closeness is t-closeness's distance; hierarchical needs a hierarchy of `sensitive`.
  ClosenessDistance closeness = ClosenessDistance::equal;
  /// max_highest_risk, when set, bounds the highest prosecutor risk 1/|E| of a released row
  /// (in (0, 1]): every class has at least ceil(1 / r) rows.
  std::optional<double> max_highest_risk;
  /// max_average_risk, when set, bounds the average prosecutor risk of the released rows
  /// (classes / rows released, in (0, 1]). A property of the whole release, not of a class.
  std::optional<double> max_average_risk;
  /// population, when given, asks for δ-presence: the table is a sample of `population` (which
  /// holds at least the quasi-identifier columns), and each released class E has
  /// delta_min <= |E| / |E in the population| <= delta_max. Not owned; must outlive the call.
  const Dataset* population = nullptr;
  double delta_min = 0.0;  ///< δ-presence's lower bound, in [0, 1]
  double delta_max = 1.0;  ///< δ-presence's upper bound, in [delta_min, 1]
  /// metric is what the lattice search minimises among the nodes that satisfy the models.
  Metric metric = Metric::discernibility;
  /// local_recoding, after the lattice search, lowers cells class by class where every class it
  /// makes still satisfies the per-class models (not with max_average_risk or a population).
  bool local_recoding = false;
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
  /// loss: ARX's Loss, in [0, 1]: per column, (sum over rows of the share of the domain under the
  /// row's label, 1 for a suppressed row, minus N / |domain|) / (N - N / |domain|); the columns'
  /// values v combined as (prod (1 + v))^(1/q) - 1. Lattice only (0 for Mondrian).
  double loss = 0;
  /// aecs: average equivalence class size, N / (classes + 1 when rows are suppressed).
  double aecs = 0;
  /// entropy: non-uniform entropy in bits, summed over the columns: for every row
  /// -log2(f(value) / f(label)) with f counted over the input, and for each suppressed row
  /// -log2(g(label) / S) with g counted over the S suppressed rows. Lattice only.
  double entropy = 0;
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
  Metric metric = Metric::discernibility;   ///< the metric the lattice search minimised
  double highest_risk = 0;                  ///< 1 / the smallest released class
  double average_risk = 0;                  ///< released classes / released rows
  std::size_t recoded_cells = 0;            ///< local recoding: cells below the node's level
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
///   The search finds the generalisation (one level per column) of least config.metric among
///   those that satisfy every model with at most max_suppression of the rows dropped (rows of
///   classes that fail are dropped); ties go to the lower sum of levels, then to the lower levels
///   in column order. It prunes by monotonicity where that holds and checks every node where it
///   does not (see docs/anonymise.md).
/// - mondrian: every quasi-identifier must be numeric; cells become "lo-hi" ranges (the value
///   when lo == hi); nothing is suppressed. Only the per-class models (k, l, t, highest risk).
///
/// errc::bad_input naming the source, line and column for an unknown column, a value missing
/// from its hierarchy, a missing hierarchy, a non-numeric cell for Mondrian or ordered
/// t-closeness, a population row missing or a sample larger than its population, k < 1, l < 1,
/// c <= 0, t, risks or fractions out of range, a model the method cannot apply; and naming the
/// models and the limit when they cannot be reached. Never quotes a cell.
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
