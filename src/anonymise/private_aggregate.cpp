// private_aggregate.cpp: count, sum, mean and histogram of clamped integer values with discrete
// Laplace or discrete Gaussian noise; the noise parameters are exact rationals rounded so that
// the noise is never smaller than the privacy guarantee needs (docs/private-aggregates.md).
#include "consentry/anonymise/private_aggregate.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>

namespace consentry {
namespace {

__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

// kRhoMargin shrinks the floating-point rho by far more than its rounding error (a few ulps) so
// that rho is never larger than the exact solution.
constexpr long double kRhoMargin = 1e-12L;

error invalid(std::string message) {
  return make_error(errc::invalid_argument, std::move(message));
}

struct Rational {
  std::uint64_t num = 1;
  std::uint64_t den = 1;
};

// rational_down gives p / q <= x with q a power of two: x's 30 leading bits (fewer when x < 2^-32,
// where q stops at 2^62). Empty when x is not in (2^-62, 2^30).
std::optional<Rational> rational_down(long double x) {
  if (!(x > 0) || !std::isfinite(x)) return std::nullopt;
  int e = 0;
  (void)std::frexp(x, &e);  // x = f 2^e with f in [0.5, 1)
  const int k = std::min(30 - e, 62);
  if (k < 0) return std::nullopt;
  const auto p = static_cast<std::uint64_t>(std::floor(std::ldexp(x, k)));  // x 2^k < 2^30: exact floor
  if (p == 0) return std::nullopt;
  const int shift = std::min(std::countr_zero(p), k);
  return Rational{p >> shift, (std::uint64_t{1} << k) >> shift};
}

// fit reduces num / den (both >= 1) to a rational with parts <= kMaxNoiseParameter that is at
// least num / den: exact when both fit after dividing by their gcd, else ceil(num / den) / 1.
std::optional<Rational> fit_up(u128 num, u128 den) {
  u128 a = num, b = den;
  while (b != 0) {
    const u128 r = a % b;
    a = b;
    b = r;
  }
  num /= a;
  den /= a;
  if (num <= kMaxNoiseParameter && den <= kMaxNoiseParameter)
    return Rational{static_cast<std::uint64_t>(num), static_cast<std::uint64_t>(den)};
  const u128 up = num / den + (num % den != 0 ? 1 : 0);
  if (up > kMaxNoiseParameter) return std::nullopt;
  return Rational{static_cast<std::uint64_t>(up), 1};
}

result<void> check_epsilon(double epsilon, const char* what) {
  if (!std::isfinite(epsilon) || epsilon <= 0)
    return invalid(std::string(what) + " must be a finite number greater than 0");
  if (epsilon < kMinEpsilon || epsilon > kMaxEpsilon)
    return invalid(std::string(what) + " must be between 2^-30 and 2^20");
  return ok();
}

result<void> check_delta(double delta) {
  if (!std::isfinite(delta) || delta <= 0 || delta > kMaxDelta)
    return invalid("delta must be greater than 0 and at most 0.001 for gaussian noise");
  return ok();
}

// The Laplace draw for `sensitivity` at `epsilon` (already checked): b = Delta / epsilon <= Delta q / p.
result<NoiseDraw> laplace_draw(std::uint64_t sensitivity, double epsilon, std::string statistic) {
  sensitivity = std::max<std::uint64_t>(sensitivity, 1);
  const auto eps = rational_down(epsilon);
  if (!eps) return invalid("epsilon is too small to represent");
  const u128 num = static_cast<u128>(sensitivity) * eps->den;  // < 2^64 2^62
  if (num > static_cast<u128>(eps->num) * kMaxLaplaceScale)
    return invalid("the noise scale (sensitivity / epsilon) exceeds 2^48: narrow lo and hi or raise epsilon");
  const auto scale = fit_up(num, eps->num);
  if (!scale) return invalid("the noise scale (sensitivity / epsilon) cannot be represented");
  NoiseDraw d;
  d.statistic = std::move(statistic);
  d.kind = NoiseKind::laplace;
  d.sensitivity = sensitivity;
  d.param_num = scale->num;
  d.param_den = scale->den;
  d.scale = static_cast<double>(static_cast<long double>(scale->num) / static_cast<long double>(scale->den));
  // Var = 2 e^{-1/b} / (1 - e^{-1/b})^2.
  const double a = std::exp(-1.0 / d.scale);
  d.stddev = std::sqrt(2 * a) / -std::expm1(-1.0 / d.scale);
  d.epsilon = epsilon;
  return d;
}

// rho for (epsilon, delta): the root of epsilon = rho + 2 sqrt(rho L), L = ln(1/delta), written
// without cancellation, then lowered by kRhoMargin.
long double rho_for(double epsilon, double delta) {
  const long double l = -std::log(static_cast<long double>(delta));
  const long double e = epsilon;
  const long double root = std::sqrt(l + e) + std::sqrt(l);
  return e * e / (root * root) * (1 - kRhoMargin);
}

// The Gaussian draw for L2 `sensitivity` at zCDP `rho`: sigma^2 = Delta^2 / (2 rho) <= Delta^2 q / (2 p).
result<NoiseDraw> gaussian_draw(std::uint64_t sensitivity, long double rho, std::string statistic) {
  sensitivity = std::max<std::uint64_t>(sensitivity, 1);
  const long double delta_sq = static_cast<long double>(sensitivity) * static_cast<long double>(sensitivity);
  // A factor of two below the limit leaves room for the rounding of rho.
  if (!(rho > 0) || delta_sq / (2 * rho) > std::ldexp(1.0L, 61))
    return invalid(
        "the noise (sigma^2 = sensitivity^2 / (2 rho)) exceeds 2^61: narrow lo and hi or raise epsilon");
  const auto r = rational_down(rho);
  if (!r) return invalid("rho is too small to represent: raise epsilon");
  u128 num = 0;
  if (__builtin_mul_overflow(static_cast<u128>(sensitivity) * sensitivity, static_cast<u128>(r->den), &num))
    return invalid("the noise (sigma^2) cannot be represented: narrow lo and hi or raise epsilon");
  const auto sigma2 = fit_up(num, static_cast<u128>(r->num) * 2);
  if (!sigma2) return invalid("the noise (sigma^2) cannot be represented: narrow lo and hi or raise epsilon");
  NoiseDraw d;
  d.statistic = std::move(statistic);
  d.kind = NoiseKind::gaussian;
  d.sensitivity = sensitivity;
  d.param_num = sigma2->num;
  d.param_den = sigma2->den;
  const long double s2 = static_cast<long double>(sigma2->num) / static_cast<long double>(sigma2->den);
  d.scale = static_cast<double>(std::sqrt(s2));
  d.stddev = d.scale;  // the discrete Gaussian's variance is at most sigma^2
  d.rho = static_cast<double>(rho);
  return d;
}

std::int64_t draw(RandomSource& rng, const NoiseDraw& d) {
  return d.kind == NoiseKind::laplace ? sample_discrete_laplace(rng, d.param_num, d.param_den)
                                      : sample_discrete_gaussian(rng, d.param_num, d.param_den);
}

// Noisy value, saturated at the int64 range (post-processing: no privacy cost).
std::int64_t saturate(i128 v) {
  if (v > kI64Max) return kI64Max;
  if (v < kI64Min) return kI64Min;
  return static_cast<std::int64_t>(v);
}

// max(|lo|, |hi|), which is at most 2^63.
std::uint64_t magnitude_bound(std::int64_t lo, std::int64_t hi) {
  auto mag = [](std::int64_t v) {
    return v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
  };
  return std::max(mag(lo), mag(hi));
}

// The sum of the values clamped to [lo, hi]. When n max(|lo|, |hi|) < 2^63 the running sum fits
// in 64 bits; otherwise it is kept in 128 bits.
i128 clamped_sum(std::span<const std::int64_t> values, std::int64_t lo, std::int64_t hi) {
  const u128 bound = static_cast<u128>(magnitude_bound(lo, hi)) * values.size();
  if (bound <= static_cast<u128>(kI64Max)) {
    std::int64_t s = 0;
    for (std::int64_t v : values) {
      // Written as two selects so that the compiler emits conditional moves, not branches.
      v = v < lo ? lo : v;
      v = v > hi ? hi : v;
      s += v;
    }
    return s;
  }
  i128 s = 0;
  for (const std::int64_t v : values) s += std::clamp(v, lo, hi);
  return s;
}

// The noise for each statistic of the query, with the budget split for mean.
result<std::vector<NoiseDraw>> plan_noise(const AggregateQuery& q) {
  const bool gaussian = q.noise == NoiseKind::gaussian;
  const long double rho = gaussian ? rho_for(q.epsilon, q.delta) : 0;
  auto one = [&](std::uint64_t sensitivity, const char* statistic, bool half) -> result<NoiseDraw> {
    if (gaussian) return gaussian_draw(sensitivity, half ? rho / 2 : rho, statistic);
    return laplace_draw(sensitivity, half ? q.epsilon / 2 : q.epsilon, statistic);
  };
  std::vector<NoiseDraw> plan;
  switch (q.kind) {
    case AggregateKind::count: {
      auto d = one(1, "count", false);
      if (!d) return std::move(d).err();
      plan.push_back(std::move(d).value());
      break;
    }
    case AggregateKind::sum: {
      auto d = one(magnitude_bound(q.lo, q.hi), "sum", false);
      if (!d) return std::move(d).err();
      plan.push_back(std::move(d).value());
      break;
    }
    case AggregateKind::mean: {
      auto s = one(magnitude_bound(q.lo, q.hi), "sum", true);
      if (!s) return std::move(s).err();
      auto c = one(1, "count", true);
      if (!c) return std::move(c).err();
      plan.push_back(std::move(s).value());
      plan.push_back(std::move(c).value());
      break;
    }
    case AggregateKind::histogram: {
      auto d = one(1, "bin", false);
      if (!d) return std::move(d).err();
      plan.push_back(std::move(d).value());
      break;
    }
  }
  return plan;
}

result<void> validate(const AggregateQuery& q) {
  CONSENTRY_TRY(check_epsilon(q.epsilon, "epsilon"));
  if (q.noise == NoiseKind::gaussian) {
    CONSENTRY_TRY(check_delta(q.delta));
  } else if (q.delta != 0) {
    return invalid("delta must be 0 for laplace noise (it applies to gaussian noise only)");
  }
  switch (q.kind) {
    case AggregateKind::count: return ok();
    case AggregateKind::sum:
    case AggregateKind::mean:
      if (q.lo > q.hi) return invalid("lo must not be greater than hi");
      return ok();
    case AggregateKind::histogram: {
      if (q.lo > q.hi) return invalid("lo must not be greater than hi");
      if (q.bins < 1) return invalid("bins must be at least 1");
      if (q.bins > kMaxHistogramBins) return invalid("bins must be at most 65536");
      const u128 span = static_cast<u128>(static_cast<i128>(q.hi) - q.lo + 1);
      if (span % static_cast<u128>(q.bins) != 0)
        return invalid("bins must divide hi - lo + 1, so that every bin has the same integer width");
      return ok();
    }
  }
  return invalid("aggregate is not a known kind");
}

}  // namespace

result<AggregateKind> parse_aggregate_kind(std::string_view text) {
  for (auto k : {AggregateKind::count, AggregateKind::sum, AggregateKind::mean, AggregateKind::histogram})
    if (text == to_string(k)) return k;
  return invalid("aggregate must be one of count, sum, mean, histogram");
}

result<NoiseKind> parse_noise_kind(std::string_view text) {
  if (text == "laplace") return NoiseKind::laplace;
  if (text == "gaussian") return NoiseKind::gaussian;
  return invalid("noise must be laplace or gaussian");
}

result<NoiseDraw> laplace_noise(std::uint64_t sensitivity, double epsilon) {
  CONSENTRY_TRY(check_epsilon(epsilon, "epsilon"));
  return laplace_draw(sensitivity, epsilon, "value");
}

result<NoiseDraw> gaussian_noise(std::uint64_t sensitivity, double epsilon, double delta) {
  CONSENTRY_TRY(check_epsilon(epsilon, "epsilon"));
  CONSENTRY_TRY(check_delta(delta));
  return gaussian_draw(sensitivity, rho_for(epsilon, delta), "value");
}

result<PrivateAnswer> private_aggregate(const AggregateQuery& query, std::span<const std::int64_t> values,
                                        RandomSource& rng) {
  CONSENTRY_TRY(validate(query));
  auto planned = plan_noise(query);
  if (!planned) return std::move(planned).err();

  PrivateAnswer a;
  a.kind = query.kind;
  a.epsilon_spent = query.epsilon;
  a.delta_spent = query.noise == NoiseKind::gaussian ? query.delta : 0.0;
  a.noise = std::move(planned).value();
  if (query.kind != AggregateKind::count) a.clamp = ClampRange{query.lo, query.hi};
  const auto n = static_cast<i128>(values.size());

  switch (query.kind) {
    case AggregateKind::count: a.count = saturate(n + draw(rng, a.noise[0])); break;
    case AggregateKind::sum:
      a.sum = saturate(clamped_sum(values, query.lo, query.hi) + draw(rng, a.noise[0]));
      break;
    case AggregateKind::mean: {
      const std::int64_t sum = saturate(clamped_sum(values, query.lo, query.hi) + draw(rng, a.noise[0]));
      const std::int64_t count = saturate(n + draw(rng, a.noise[1]));
      a.sum = sum;
      a.count = count;
      const double m = static_cast<double>(sum) / static_cast<double>(std::max<std::int64_t>(count, 1));
      a.mean = std::clamp(m, static_cast<double>(query.lo), static_cast<double>(query.hi));
      break;
    }
    case AggregateKind::histogram: {
      const auto bins = static_cast<std::size_t>(query.bins);
      const u128 width = static_cast<u128>(static_cast<i128>(query.hi) - query.lo + 1) / bins;
      std::vector<std::int64_t> counts(bins, 0);
      for (const std::int64_t v : values) {
        const std::int64_t c = std::clamp(v, query.lo, query.hi);
        // c - lo in [0, 2^64 - 1], computed modulo 2^64.
        const std::uint64_t offset = static_cast<std::uint64_t>(c) - static_cast<std::uint64_t>(query.lo);
        ++counts[static_cast<std::size_t>(offset / width)];
      }
      a.bins.reserve(bins);
      for (std::size_t i = 0; i < bins; ++i) {
        HistogramBin b;
        b.lo = static_cast<std::int64_t>(query.lo + static_cast<i128>(width * i));
        b.hi = static_cast<std::int64_t>(query.lo + static_cast<i128>(width * (i + 1)) - 1);
        b.count = saturate(static_cast<i128>(counts[i]) + draw(rng, a.noise[0]));
        a.bins.push_back(b);
      }
      break;
    }
  }
  return a;
}

}  // namespace consentry
