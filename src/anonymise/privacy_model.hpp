// privacy_model.hpp (internal): what the lattice search and Mondrian share: the checked
// configuration, the sensitive column encoded, the diversity test, the loss summary.
#pragma once

#include <cstddef>
#include <cstdint>
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
  std::vector<std::uint32_t> code;  ///< per row; empty without l-diversity
  std::size_t distinct = 0;
};

/// encode_sensitive encodes the sensitive column when l-diversity is asked for.
SensitiveCodes encode_sensitive(const Dataset& data, const Columns& columns, const AnonymityConfig& config);

/// kEntropySlack absorbs rounding when an entropy equals log(l) exactly (l equally frequent values).
inline constexpr double kEntropySlack = 1e-9;

/// is_diverse is true when a class whose sensitive values occur `counts` times (zeros allowed)
/// out of `total` rows is l-diverse by `measure`.
bool is_diverse(std::span<const std::uint32_t> counts, std::size_t total, DiversityMeasure measure,
                std::size_t l);

/// unreachable is the refusal naming k, l and the suppression limit.
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
                                     const AnonymityConfig& config, const Columns& columns);
result<Anonymised> mondrian_anonymise(const Dataset& data, const AnonymityConfig& config,
                                      const Columns& columns);

}  // namespace consentry::detail
