// anonymise/private_aggregate.hpp: differentially private count, sum, mean and histogram of
// integer values, with exact discrete Laplace and discrete Gaussian noise (docs/private-aggregates.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/result.hpp"

namespace consentry {

/// RandomSource gives uniformly random bytes; the library's default draws from libsodium.
/// Implementations need not be thread-safe; system_random() is.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  /// fill writes uniformly random bytes over all of `out`.
  virtual void fill(std::span<std::uint8_t> out) = 0;
  /// uniform: a uniform integer in [0, bound) without modulo bias (bound >= 1), by rejection of
  /// masked draws (fewer than two draws of at most 8 bytes on average). Throws
  /// std::invalid_argument when bound is 0 (a caller bug).
  std::uint64_t uniform(std::uint64_t bound);
};

/// system_random: the process-wide libsodium (randombytes_buf) source. Thread-safe: small
/// requests come from a 256-byte per-thread buffer, wiped as it is used, which a forked child
/// discards rather than draw its parent's bytes again. Its fill throws
/// std::runtime_error when libsodium cannot initialise (no entropy source).
RandomSource& system_random();

/// NoiseKind: discrete Laplace (pure epsilon-DP) or discrete Gaussian ((epsilon, delta)-DP).
enum class NoiseKind { laplace, gaussian };

/// kMaxNoiseParameter bounds every numerator and denominator the samplers accept (2^62).
inline constexpr std::uint64_t kMaxNoiseParameter = std::uint64_t{1} << 62;
/// kMaxLaplaceScale bounds the discrete Laplace scale (2^48): at that scale an output beyond
/// the int64 range has probability below e^-32768, so outputs fit std::int64_t.
inline constexpr std::uint64_t kMaxLaplaceScale = std::uint64_t{1} << 48;

/// sample_bernoulli_exp returns true with probability exactly exp(-gamma_num / gamma_den)
/// (CKS 2020 Algorithm 1, series method; integer arithmetic only). For gamma >= 2^64 it
/// returns false (the exact probability is below 2^-(2^64)). Throws std::invalid_argument when
/// gamma_den is 0 (a caller bug).
bool sample_bernoulli_exp(RandomSource& rng, std::uint64_t gamma_num, std::uint64_t gamma_den);

/// Exact samplers (Canonne, Kamath, Steinke 2020, "The Discrete Gaussian for Differential Privacy"),
/// rational parameters, integer arithmetic only: no floating-point noise (Mironov 2012).
///
/// sample_discrete_laplace draws Z with P(Z = z) proportional to exp(-|z| / scale), where
/// scale = scale_num / scale_den (CKS Algorithm 2). Needs 1 <= scale_num, scale_den and
/// scale <= kMaxLaplaceScale; throws std::invalid_argument otherwise (a caller bug).
std::int64_t sample_discrete_laplace(RandomSource& rng, std::uint64_t scale_num, std::uint64_t scale_den);
/// sample_discrete_gaussian draws Z with P(Z = z) proportional to exp(-z^2 / (2 sigma^2)), where
/// sigma^2 = sigma2_num / sigma2_den (CKS Algorithm 3, rejection from a discrete Laplace). Needs
/// 1 <= sigma2_num, sigma2_den <= kMaxNoiseParameter; throws std::invalid_argument otherwise.
std::int64_t sample_discrete_gaussian(RandomSource& rng, std::uint64_t sigma2_num, std::uint64_t sigma2_den);

/// AggregateKind: which statistic private_aggregate releases.
enum class AggregateKind { count, sum, mean, histogram };

/// to_string names an AggregateKind ("count", "sum", "mean", "histogram").
constexpr std::string_view to_string(AggregateKind k) noexcept {
  switch (k) {
    case AggregateKind::count: return "count";
    case AggregateKind::sum: return "sum";
    case AggregateKind::mean: return "mean";
    case AggregateKind::histogram: return "histogram";
  }
  return "count";
}

/// to_string names a NoiseKind ("laplace", "gaussian").
constexpr std::string_view to_string(NoiseKind k) noexcept {
  return k == NoiseKind::gaussian ? "gaussian" : "laplace";
}

/// parse_aggregate_kind reads "count", "sum", "mean" or "histogram"; errc::invalid_argument
/// naming the parameter "aggregate" otherwise.
result<AggregateKind> parse_aggregate_kind(std::string_view text);
/// parse_noise_kind reads "laplace" or "gaussian"; errc::invalid_argument naming the parameter
/// "noise" otherwise.
result<NoiseKind> parse_noise_kind(std::string_view text);

/// kMaxHistogramBins bounds AggregateQuery::bins.
inline constexpr std::int64_t kMaxHistogramBins = 65536;
/// kMinEpsilon and kMaxEpsilon bound AggregateQuery::epsilon (2^-30 and 2^20).
inline constexpr double kMinEpsilon = 1.0 / 1073741824.0;
inline constexpr double kMaxEpsilon = 1048576.0;
/// kMaxDelta bounds AggregateQuery::delta for gaussian noise.
inline constexpr double kMaxDelta = 1e-3;

/// AggregateQuery describes one private release over a list of integer values. Every value is
/// clamped to [lo, hi] first (count ignores the bounds). Neighbouring datasets differ by adding
/// or removing one value.
struct AggregateQuery {
  AggregateKind kind = AggregateKind::count;
  NoiseKind noise = NoiseKind::laplace;
  /// epsilon: the privacy loss of the whole query, in [kMinEpsilon, kMaxEpsilon].
  double epsilon = 1.0;
  /// delta: gaussian only, in (0, kMaxDelta]; must be 0 for laplace.
  double delta = 0.0;
  /// lo, hi: the clamping bounds (lo <= hi); unused by count.
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  /// bins: histogram only, 1..kMaxHistogramBins, dividing hi - lo + 1 (equal integer widths).
  std::int64_t bins = 1;
};

/// NoiseDraw describes the noise added to one released statistic (each histogram bin gets an
/// independent draw of the same description).
struct NoiseDraw {
  /// statistic: "count", "sum" or "bin" ("value" from laplace_noise and gaussian_noise).
  std::string statistic;
  NoiseKind kind = NoiseKind::laplace;
  /// sensitivity: Delta, the most one added or removed value changes the statistic (L1 for
  /// laplace, L2 for gaussian).
  std::uint64_t sensitivity = 1;
  /// param_num / param_den: the exact sampler parameter, the laplace scale b or the gaussian
  /// sigma^2, rounded up from the exact requirement.
  std::uint64_t param_num = 1;
  std::uint64_t param_den = 1;
  /// scale: the laplace scale b, or the gaussian sigma (for display).
  double scale = 0.0;
  /// stddev: the standard deviation of the noise (for display).
  double stddev = 0.0;
  /// epsilon: laplace only, the share of the query's epsilon this draw spends (0 for gaussian).
  double epsilon = 0.0;
  /// rho: gaussian only, the zero-concentrated DP rho this draw spends (0 for laplace).
  double rho = 0.0;
};

/// HistogramBin is one bin of a histogram: the values in [lo, hi] and their noisy count.
struct HistogramBin {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
  std::int64_t count = 0;
};

/// ClampRange is the interval every value was clamped to.
struct ClampRange {
  std::int64_t lo = 0;
  std::int64_t hi = 0;
};

/// PrivateAnswer is a private release. Only the fields of the query's kind are set: count
/// (count), sum (sum), mean (sum, count and mean), histogram (bins). Noisy integers saturate at
/// the int64 range. How many values were clamped is not reported: that count is itself private.
struct PrivateAnswer {
  AggregateKind kind = AggregateKind::count;
  std::optional<std::int64_t> count;
  std::optional<std::int64_t> sum;
  /// mean: sum / max(count, 1) from the noisy sum and count, clamped to [lo, hi].
  std::optional<double> mean;
  std::vector<HistogramBin> bins;
  /// epsilon_spent, delta_spent: what the query costs (the requested epsilon and delta; the
  /// noise actually used is never smaller than they need).
  double epsilon_spent = 0.0;
  double delta_spent = 0.0;
  /// clamp: the clamping bounds; empty for count.
  std::optional<ClampRange> clamp;
  /// noise: one entry per noisy statistic (mean has "sum" and "count").
  std::vector<NoiseDraw> noise;
};

/// laplace_noise gives the discrete Laplace noise for `sensitivity` at `epsilon`: scale b =
/// sensitivity / epsilon, rounded up to a rational (epsilon is rounded down to 30 significant
/// bits). A sensitivity of 0 is taken as 1. errc::invalid_argument, naming the parameter, when
/// epsilon is outside [kMinEpsilon, kMaxEpsilon] or not finite, or b exceeds kMaxLaplaceScale.
result<NoiseDraw> laplace_noise(std::uint64_t sensitivity, double epsilon);

/// gaussian_noise gives the discrete Gaussian noise for L2 `sensitivity` at (epsilon, delta):
/// rho = epsilon^2 / (sqrt(ln(1/delta) + epsilon) + sqrt(ln(1/delta)))^2 solves
/// epsilon = rho + 2 sqrt(rho ln(1/delta)), and sigma^2 = sensitivity^2 / (2 rho), with rho
/// rounded down and sigma^2 rounded up. errc::invalid_argument, naming the parameter, when
/// epsilon or delta is out of range or sigma^2 exceeds kMaxNoiseParameter.
result<NoiseDraw> gaussian_noise(std::uint64_t sensitivity, double epsilon, double delta);

/// private_aggregate releases `query` over `values` with noise drawn from `rng`.
/// Sensitivities: count 1; sum max(|lo|, |hi|); histogram 1; mean splits the budget in halves
/// between a noisy sum and a noisy count (epsilon / 2 each for laplace, rho / 2 each for gaussian).
/// errc::invalid_argument, naming the parameter, for bad parameters: epsilon out of range or not
/// finite, delta out of range, lo > hi, bins out of range or not dividing hi - lo + 1, bounds so
/// wide that the noise exceeds the samplers' limits. Never names or reveals a value.
result<PrivateAnswer> private_aggregate(const AggregateQuery& query, std::span<const std::int64_t> values,
                                        RandomSource& rng);

}  // namespace consentry
