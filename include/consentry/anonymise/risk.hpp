// anonymise/risk.hpp: re-identification risk analysis of a table: prosecutor, journalist and
// marketer risk of its classes, sample uniques, and population uniques estimated by the models of
// Zayatz (1991) and Pitman (Hoshino 2001), with the decision rule of Dankar et al. (2012).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// RiskConfig says which columns an attacker may know and how the figures are judged.
struct RiskConfig {
  std::vector<std::string> quasi_identifiers;  ///< columns an attacker may know; not empty
  /// threshold, in (0, 1]: a record whose re-identification probability exceeds it is "at risk".
  double threshold = 0.2;
  /// sampling_fraction, in (0, 1]: the table's share n/N of the population it was drawn from.
  /// Needed for the population-uniqueness estimates; when absent and a population table is
  /// given, it is n divided by the population table's rows.
  std::optional<double> sampling_fraction;
};

/// RiskSummary is one attacker model's risk over the records of the table.
struct RiskSummary {
  double highest = 0;                   ///< the largest re-identification probability of a record
  double average = 0;                   ///< the expected share of records re-identified
  std::size_t records_at_risk = 0;      ///< records whose probability exceeds the threshold
  double records_at_risk_fraction = 0;  ///< records_at_risk / rows
};

/// ClassSizeCount is one bar of the class-size histogram (the frequencies of frequencies).
struct ClassSizeCount {
  std::size_t size = 0;     ///< a class size
  std::size_t classes = 0;  ///< how many classes have that size (never 0)
};

/// UniquenessModel names a population-uniqueness model.
enum class UniquenessModel {
  none,    ///< no estimate was needed: the table has no sample uniques
  zayatz,  ///< Zayatz (1991)
  pitman,  ///< the Pitman-Yor model, fitted by maximum likelihood (Hoshino 2001)
};

/// to_string names a model ("none", "zayatz", "pitman").
std::string_view to_string(UniquenessModel m) noexcept;

/// PitmanFit is the maximum-likelihood fit of the Pitman-Yor partition model to a sample's
/// class sizes: 0 <= alpha < 1, theta > -alpha.
struct PitmanFit {
  double theta = 0;
  double alpha = 0;
  double log_likelihood = 0;  ///< at (theta, alpha), without the constant multinomial term
};

/// PopulationUniqueness is the estimated number of population uniques: records of the population
/// that no other record of the population shares the quasi-identifiers with.
struct PopulationUniqueness {
  double sampling_fraction = 0;  ///< n / N
  double population_size = 0;    ///< N: round(n / sampling_fraction)
  double zayatz = 0;             ///< Zayatz's estimate of the number of population uniques
  double zayatz_fraction = 0;    ///< zayatz / N
  /// pitman is the Pitman estimate of the number of population uniques; nothing when the model
  /// has no maximum-likelihood fit (every record a sample unique), when the likelihood is
  /// greatest at alpha = 0 (Ewens' model, under which the estimate does not grow with N; Hoshino
  /// fits 0 < alpha < 1), or when the estimate falls outside [0, N]. 0 when the table has no
  /// sample uniques.
  std::optional<double> pitman;
  std::optional<double> pitman_fraction;  ///< pitman / N
  std::optional<PitmanFit> pitman_fit;    ///< the fit behind `pitman`, when one was made
  /// decision is the model Dankar et al.'s rule picks: with no sample uniques, none; with a
  /// sampling fraction of at most 0.1, Pitman when it gives an estimate, else Zayatz; above 0.1
  /// the rule takes the smaller of Zayatz and SNB, and since SNB is not implemented here it is
  /// Zayatz, an upper bound on the rule's estimate.
  UniquenessModel decision = UniquenessModel::none;
  double decision_uniques = 0;   ///< the chosen model's estimate (0 with none)
  double decision_fraction = 0;  ///< decision_uniques / N
};

/// RiskReport is the risk analysis of a table.
struct RiskReport {
  std::vector<std::string> quasi_identifiers;  ///< as configured
  double threshold = 0;                        ///< as configured
  std::size_t rows = 0;                        ///< n, records of the table
  std::size_t classes = 0;                     ///< classes of records equal on the quasi-identifiers
  std::size_t smallest_class = 0;
  std::size_t largest_class = 0;
  double mean_class_size = 0;               ///< rows / classes
  std::vector<ClassSizeCount> class_sizes;  ///< the histogram, by increasing size
  bool population_table = false;            ///< a population table was given
  std::size_t population_rows = 0;          ///< its rows; 0 without one
  RiskSummary prosecutor;                   ///< the attacker knows the target is in the table
  RiskSummary journalist;                   ///< the attacker knows the target is in the population
  double marketer = 0;                      ///< the share of all records re-identified
  std::size_t sample_uniques = 0;           ///< records alone in their class
  double sample_uniques_fraction = 0;       ///< sample_uniques / rows
  std::optional<PopulationUniqueness> population_uniques;  ///< with a sampling fraction
};

/// analyse_risk analyses `data` as ARX does, its classes being the rows equal on the
/// quasi-identifiers:
///
/// - prosecutor: a record's risk is 1/|its class|; highest 1/smallest class, average
///   classes/rows, at risk the records whose risk exceeds the threshold.
/// - journalist: with `population` (a table holding at least the quasi-identifier columns, of
///   which `data`'s records are a subset), a record's risk is 1/F, F the number of population
///   records equal to it on the quasi-identifiers; highest 1/min F, average the larger of
///   classes/sum F and (1/rows) sum f/F over the table's classes (f the class size). Without a
///   population table the table is its own population and journalist risk equals prosecutor risk.
/// - marketer: (1/rows) sum f/F over the table's classes; classes/rows without a population.
/// - population uniques, when a sampling fraction is configured or a population table given:
///   estimate_population_uniques over the class-size histogram.
///
/// errc::bad_input naming "source:1" and the column for an unknown or repeated quasi-identifier
/// (also for a quasi-identifier missing from the population table), for no quasi-identifier, an
/// empty table or population table, a threshold or sampling fraction outside (0, 1], and naming
/// the table's "source:line" for a record the population table does not hold (as many times as
/// the table holds it). Never quotes a cell.
result<RiskReport> analyse_risk(const Dataset& data, const RiskConfig& config,
                                const Dataset* population = nullptr);

/// estimate_population_uniques estimates the population uniques of a sample of
/// n = sum size * classes records from its class-size histogram, drawn with `sampling_fraction`
/// from a population of N = round(n / sampling_fraction) records:
///
/// - Zayatz: f1 * P * N / n (f1 P / sampling_fraction up to N's rounding), where P, the chance
///   that a sample unique is a population unique, is f1 H(1) / sum_i f_i H(i): the sample's
///   class sizes stand in for the population's, and H(i) is the hypergeometric probability of
///   drawing exactly one record of a population class of size i in n draws from N.
/// - Pitman: Gamma(theta + 1) / Gamma(theta + alpha) * N^alpha with (theta, alpha) fitted by
///   fit_pitman.
///
/// With no sample uniques every estimate is 0 and the decision is none. errc::bad_input for an
/// empty histogram, a bar of size or count 0, or a sampling fraction outside (0, 1].
result<PopulationUniqueness> estimate_population_uniques(const std::vector<ClassSizeCount>& class_sizes,
                                                         double sampling_fraction);

/// fit_pitman fits the Pitman-Yor model to a class-size histogram by maximum likelihood: the log
/// likelihood sum_{i=1}^{u-1} log(theta + i alpha) - sum_{i=1}^{n-1} log(theta + i) +
/// sum_j sum_{k=1}^{s_j - 1} log(k - alpha) (u classes of sizes s_j, n records) is maximised over
/// 0 <= alpha < 1 (profiled: for each alpha the theta where the derivative in theta turns from
/// positive to negative); alpha is exactly 0 when the maximum lies on that boundary.
/// Nothing when no fit exists: fewer than two classes, or every class of size 1 (the likelihood
/// then grows without bound in theta).
std::optional<PitmanFit> fit_pitman(const std::vector<ClassSizeCount>& class_sizes);

/// pitman_uniques is Hoshino's (2001) estimate of the population uniques under the Pitman-Yor
/// model: Gamma(theta + 1) / Gamma(theta + alpha) * N^alpha.
double pitman_uniques(double theta, double alpha, double population_size);

}  // namespace consentry
