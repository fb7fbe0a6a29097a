// privacy_model.hpp (internal): what the lattice search and Mondrian share: the checked
// configuration, the sensitive column encoded, the diversity test, the loss summary.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "consentry/anonymise/k_anonymity.hpp"

namespace consentry::detail {

/// Columns are the positions of the configured columns in the dataset.
struct Columns {
  std::vector<std::size_t> quasi;  ///< in config order
  std::size_t sensitive = 0;       ///< valid when has_sensitive
  bool has_sensitive = false;
};

/// check_config validates `config` against `data` (see anonymise()).
result<Columns> check_config(const Dataset& data, const AnonymityConfig& config);

/// SensitiveCodes are the rows' sensitive values as dense codes 0..distinct-1.
struct SensitiveCodes {
  std::vector<std::uint32_t> code;  ///< per row; empty when no model reads the sensitive column
  std::size_t distinct = 0;
  std::vector<std::uint32_t> total;  ///< rows per code over the whole table
};

/// encode_sensitive encodes the sensitive column when l-diversity or t-closeness is asked for.
SensitiveCodes encode_sensitive(const Dataset& data, const Columns& columns, const AnonymityConfig& config);

/// kEntropySlack absorbs rounding when an entropy equals log(l) exactly (l equally frequent values).
inline constexpr double kEntropySlack = 1e-9;
/// kClosenessSlack absorbs rounding when a distance equals t exactly.
inline constexpr double kClosenessSlack = 1e-12;

/// is_diverse is true when a class whose sensitive values occur `counts` times (zeros allowed)
/// out of `total` rows is l-diverse by `measure` (c is recursive (c,l)'s constant).
bool is_diverse(std::span<const std::uint32_t> counts, std::size_t total, DiversityMeasure measure,
                std::size_t l, double c);

/// parse_number reads a decimal number (spaces and a leading '+' allowed); nothing for text,
/// infinities and NaN.
std::optional<double> parse_number(std::string_view s);

/// SensitiveCount is how often one sensitive value occurs in a class.
struct SensitiveCount {
  std::uint32_t code = 0;
  std::uint32_t count = 0;
};

/// ClassModel decides the models that hold or fail class by class: k (raised by a highest-risk
/// bound), l-diversity and t-closeness. The lattice search, Mondrian and local recoding share it.
class ClassModel {
 public:
  /// make encodes the sensitive column and prepares t-closeness's distance (the numeric order of
  /// the values, or the sensitive column's hierarchy from `hierarchies`). errc::bad_input naming
  /// line and column for a non-numeric value with ordered t-closeness, a missing hierarchy or a
  /// value missing from it with hierarchical t-closeness.
  static result<ClassModel> make(const Dataset& data, const Hierarchies& hierarchies,
                                 const AnonymityConfig& config, const Columns& columns);

  /// sensitive is the encoded sensitive column (codes empty when no model reads it).
  const SensitiveCodes& sensitive() const noexcept { return sens_; }
  /// min_size is the least class size: k, or ceil(1 / highest risk) when that is larger.
  std::size_t min_size() const noexcept { return min_size_; }
  /// reads_sensitive is true when l-diversity or t-closeness is asked for.
  bool reads_sensitive() const noexcept { return !sens_.code.empty(); }
  /// monotone_with_suppression is true when a class that passes makes every union with it pass
  /// (k, highest risk, distinct l-diversity), so that suppression only shrinks upwards.
  bool monotone_with_suppression() const noexcept;
  /// accepts is true when a class of `size` rows whose sensitive values occur as `counts` (each
  /// code at most once, any order; empty when no model reads the sensitive column) passes.
  bool accepts(std::span<const SensitiveCount> counts, std::size_t size) const;
  /// accepts_rows is accepts for the class made of the table's rows `rows` (their sensitive
  /// values counted here).
  bool accepts_rows(std::span<const std::uint32_t> rows) const;
  /// distance is t-closeness's distance of the class from the whole table.
  double distance(std::span<const SensitiveCount> counts, std::size_t size) const;

 private:
  ClassModel() = default;
  const AnonymityConfig* config_ = nullptr;
  SensitiveCodes sens_;
  std::size_t min_size_ = 1;
  std::vector<double> global_;       ///< share of each code over the table
  std::vector<std::uint32_t> rank_;  ///< ordered: each code's position in numeric order
  /// hierarchical: parent_[j][label at level j] is its label at level j + 1; level 0 = codes.
  std::vector<std::vector<std::uint32_t>> parent_;
  mutable std::vector<std::uint32_t> dense_;
  mutable std::vector<double> extra_;
  mutable std::vector<double> pos_, neg_;
  mutable std::vector<std::uint32_t> row_counts_, touched_;  ///< scratch of accepts_rows
  mutable std::vector<SensitiveCount> held_;
};

/// unreachable is the refusal naming k, l, the other models and the suppression limit.
error unreachable(const AnonymityConfig& config, std::string_view why);

/// summarise fills classes, min/mean class size, DM and C_avg of `report` from the sizes of the
/// released classes, report.rows and report.suppressed.
void summarise(const std::vector<std::size_t>& class_sizes, std::size_t k, AnonymityReport& report);

/// hierarchy_ncp is the certainty penalty of a label covering `leaves` of `domain` leaves.
double hierarchy_ncp(std::size_t leaves, std::size_t domain);
/// range_ncp is the certainty penalty of the range [lo, hi] in a column spanning [min, max].
double range_ncp(double lo, double hi, double min, double max);

/// lattice_anonymise and mondrian_anonymise are the two methods, after check_config.
result<Anonymised> lattice_anonymise(const Dataset& data, const Hierarchies& hierarchies,
                                     const AnonymityConfig& config, const Columns& columns,
                                     const ClassModel& model);
result<Anonymised> mondrian_anonymise(const Dataset& data, const AnonymityConfig& config,
                                      const Columns& columns, const ClassModel& model);

}  // namespace consentry::detail
