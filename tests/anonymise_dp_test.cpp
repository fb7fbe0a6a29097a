// anonymise_dp_test.cpp: the exact discrete samplers (statistically, against their exact PMFs)
// and the differentially private aggregates built on them.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "consentry/anonymise/private_aggregate.hpp"
#include "support/must.hpp"
#include "support/seeded_random.hpp"

namespace {

using namespace consentry;
using consentry::test::must;
using consentry::test::SeededRandom;

__extension__ typedef unsigned __int128 u128;

constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();

// kSignificance: a sampler passes its chi-square test when p > 0.001.
constexpr double kSignificance = 0.001;

// upper_gamma_q is the regularised upper incomplete gamma function Q(a, x) (series for x < a + 1,
// Lentz's continued fraction otherwise); the chi-square p-value of statistic c with k degrees of
// freedom is Q(k / 2, c / 2).
double upper_gamma_q(double a, double x) {
  if (x <= 0) return 1.0;
  const double log_prefix = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1) {
    double ap = a, term = 1.0 / a, sum = term;
    for (int n = 0; n < 10000; ++n) {
      ap += 1;
      term *= x / ap;
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
    }
    return 1.0 - sum * std::exp(log_prefix);
  }
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 1e-16) break;
  }
  return std::exp(log_prefix) * h;
}

double chi_square_p(double statistic, int dof) {
  return upper_gamma_q(dof / 2.0, statistic / 2.0);
}

// Pmf is a symmetric integer distribution, normalised over [-reach, reach] (what lies beyond is
// below double precision for the distributions used here).
struct Pmf {
  std::function<long double(std::int64_t)> weight;  // unnormalised, symmetric
  std::int64_t reach = 0;
  long double total = 0;

  Pmf(std::function<long double(std::int64_t)> w, std::int64_t r) : weight(std::move(w)), reach(r) {
    for (std::int64_t x = -reach; x <= reach; ++x) total += weight(x);
  }
  long double p(std::int64_t x) const { return weight(x) / total; }
  long double tail_above(std::int64_t x) const {
    long double t = 0;
    for (std::int64_t y = x + 1; y <= reach; ++y) t += p(y);
    return t;
  }
  long double moment(int k) const {
    long double m = 0;
    for (std::int64_t x = -reach; x <= reach; ++x) m += std::pow(static_cast<long double>(x), k) * p(x);
    return m;
  }
};

Pmf laplace_pmf(long double scale) {
  const auto reach = static_cast<std::int64_t>(scale * 80) + 10;
  return Pmf([scale](std::int64_t x) { return std::exp(-std::fabs(static_cast<long double>(x)) / scale); },
             reach);
}

Pmf gaussian_pmf(long double sigma2) {
  const auto reach = static_cast<std::int64_t>(std::sqrt(sigma2) * 40) + 10;
  return Pmf([sigma2](std::int64_t x) { return std::exp(-static_cast<long double>(x) * x / (2 * sigma2)); },
             reach);
}

// chi_square_test compares the counts of `samples` with `pmf`: one cell per x in [-m, m] and one
// per tail, with m the largest value whose cell and tail both expect at least 5. Returns the p-value.
double chi_square_test(const std::vector<std::int64_t>& samples, const Pmf& pmf) {
  const auto n = static_cast<long double>(samples.size());
  std::int64_t m = 0;
  while (n * pmf.p(m + 1) >= 5 && n * pmf.tail_above(m + 1) >= 5) ++m;
  std::map<std::int64_t, std::int64_t> counts;
  std::int64_t below = 0, above = 0;
  for (const std::int64_t s : samples) {
    if (s < -m)
      ++below;
    else if (s > m)
      ++above;
    else
      ++counts[s];
  }
  long double stat = 0;
  auto cell = [&](std::int64_t observed, long double expected) {
    const long double diff = static_cast<long double>(observed) - expected;
    stat += diff * diff / expected;
  };
  for (std::int64_t x = -m; x <= m; ++x) cell(counts[x], n * pmf.p(x));
  const long double tail = n * pmf.tail_above(m);
  cell(below, tail);
  cell(above, tail);
  const int dof = static_cast<int>(2 * m + 3) - 1;
  return chi_square_p(static_cast<double>(stat), dof);
}

struct Moments {
  double mean = 0;
  double variance = 0;
};

Moments moments(const std::vector<std::int64_t>& xs) {
  long double s = 0, s2 = 0;
  for (const std::int64_t x : xs) {
    s += static_cast<long double>(x);
    s2 += static_cast<long double>(x) * static_cast<long double>(x);
  }
  const auto n = static_cast<long double>(xs.size());
  const long double mean = s / n;
  return {static_cast<double>(mean), static_cast<double>((s2 - n * mean * mean) / (n - 1))};
}

// check_moments checks the sample mean and variance against the exact ones of `pmf`, each within
// five standard errors (the variance's from the fourth moment).
void check_moments(const std::vector<std::int64_t>& xs, const Pmf& pmf) {
  const auto n = static_cast<double>(xs.size());
  const auto var = static_cast<double>(pmf.moment(2));
  const auto mu4 = static_cast<double>(pmf.moment(4));
  const Moments m = moments(xs);
  CHECK(std::fabs(m.mean) < 5 * std::sqrt(var / n));
  CHECK(std::fabs(m.variance - var) < 5 * std::sqrt((mu4 - var * var) / n));
}

std::vector<std::int64_t> laplace_samples(std::uint64_t seed, std::uint64_t num, std::uint64_t den, int n) {
  SeededRandom rng(seed);
  std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
  for (auto& x : xs) x = sample_discrete_laplace(rng, num, den);
  return xs;
}

std::vector<std::int64_t> gaussian_samples(std::uint64_t seed, std::uint64_t num, std::uint64_t den, int n) {
  SeededRandom rng(seed);
  std::vector<std::int64_t> xs(static_cast<std::size_t>(n));
  for (auto& x : xs) x = sample_discrete_gaussian(rng, num, den);
  return xs;
}

// The variance of the discrete Laplace of scale t: 2 e^{-1/t} / (1 - e^{-1/t})^2.
double laplace_variance(double t) {
  const double a = std::exp(-1.0 / t);
  return 2 * a / ((1 - a) * (1 - a));
}

// at_least_exactly is true when num / den >= delta / epsilon, decided in integers: epsilon is the
// dyadic m 2^e, so the test is num m >= delta den 2^-e.
bool at_least_exactly(std::uint64_t num, std::uint64_t den, std::uint64_t delta, double epsilon) {
  int e2 = 0;
  const double f = std::frexp(epsilon, &e2);
  auto m = static_cast<std::uint64_t>(std::ldexp(f, 53));
  int e = e2 - 53;
  const int tz = std::countr_zero(m);
  m >>= tz;
  e += tz;
  u128 lhs = static_cast<u128>(num) * m;
  u128 rhs = static_cast<u128>(delta) * den;
  auto width = [](u128 x) {
    const auto hi = static_cast<std::uint64_t>(x >> 64);
    return hi != 0 ? 64 + static_cast<int>(std::bit_width(hi))
                   : static_cast<int>(std::bit_width(static_cast<std::uint64_t>(x)));
  };
  if (e >= 0) {
    REQUIRE(width(lhs) + e < 128);
    lhs <<= e;
  } else {
    REQUIRE(width(rhs) - e < 128);
    rhs <<= -e;
  }
  return lhs >= rhs;
}

AggregateQuery query(AggregateKind kind, double epsilon, std::int64_t lo = 0, std::int64_t hi = 0) {
  AggregateQuery q;
  q.kind = kind;
  q.epsilon = epsilon;
  q.lo = lo;
  q.hi = hi;
  return q;
}

std::vector<std::int64_t> spread_values(std::size_t n, std::int64_t modulo) {
  std::vector<std::int64_t> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::int64_t>((i * 7919) % static_cast<std::size_t>(modulo));
  return v;
}

}  // namespace

TEST_CASE("the chi-square p-value matches table values") {
  // Critical values from standard chi-square tables.
  CHECK(chi_square_p(3.841, 1) == doctest::Approx(0.05).epsilon(0.001));
  CHECK(chi_square_p(29.588, 10) == doctest::Approx(0.001).epsilon(0.001));
  CHECK(chi_square_p(124.342, 100) == doctest::Approx(0.05).epsilon(0.001));
  CHECK(chi_square_p(18.307, 10) == doctest::Approx(0.05).epsilon(0.001));
}

TEST_CASE("a seeded random source repeats its bytes and differs between seeds") {
  SeededRandom a(7), b(7), c(8);
  std::vector<std::uint8_t> x(10000), y(10000), z(10000);
  a.fill(x);
  // Drawn in pieces that cross the 4 KiB blocks, the stream is the same.
  for (std::size_t off = 0; off < y.size(); off += 999)
    b.fill(std::span<std::uint8_t>(y).subspan(off, std::min<std::size_t>(999, y.size() - off)));
  c.fill(z);
  CHECK(x == y);
  CHECK(x != z);
  CHECK(a.bytes_drawn() == 10000);
}

TEST_CASE("uniform draws are unbiased below any bound") {
  SeededRandom rng(1);
  CHECK_THROWS_AS(rng.uniform(0), std::invalid_argument);
  CHECK(rng.uniform(1) == 0);
  CHECK(rng.uniform(std::numeric_limits<std::uint64_t>::max()) < std::numeric_limits<std::uint64_t>::max());

  // Six faces, 60000 draws, chi-square with 5 degrees of freedom.
  std::vector<std::int64_t> faces(6, 0);
  for (int i = 0; i < 60000; ++i) ++faces[rng.uniform(6)];
  double stat = 0;
  for (const auto f : faces) {
    const double d = static_cast<double>(f) - 10000.0;
    stat += d * d / 10000.0;
  }
  CHECK(chi_square_p(stat, 5) > kSignificance);

  // bound = 3 2^62: a draw reduced modulo the bound would land in the first third half the time.
  const std::uint64_t bound = 3 * (std::uint64_t{1} << 62);
  std::vector<double> thirds(3, 0);
  for (int i = 0; i < 30000; ++i) {
    const std::uint64_t u = rng.uniform(bound);
    REQUIRE(u < bound);
    ++thirds[u >> 62];
  }
  stat = 0;
  for (const double t : thirds) stat += (t - 10000.0) * (t - 10000.0) / 10000.0;
  CHECK(chi_square_p(stat, 2) > kSignificance);
}

TEST_CASE("bernoulli of exp(-gamma) has probability exp(-gamma)") {
  SeededRandom rng(2);
  struct Case {
    std::uint64_t num, den;
  };
  for (const Case c : {Case{1, 2}, Case{1, 1}, Case{7, 3}, Case{5, 1}, Case{3, 1000}}) {
    CAPTURE(c.num);
    CAPTURE(c.den);
    const int n = 40000;
    int hits = 0;
    for (int i = 0; i < n; ++i) hits += sample_bernoulli_exp(rng, c.num, c.den) ? 1 : 0;
    const double p = std::exp(-static_cast<double>(c.num) / static_cast<double>(c.den));
    CHECK(std::fabs(hits - n * p) < 5 * std::sqrt(n * p * (1 - p)));
  }
  bool any = false;
  for (int i = 0; i < 100; ++i) {
    CHECK(sample_bernoulli_exp(rng, 0, 5));
    any = any || sample_bernoulli_exp(rng, std::numeric_limits<std::uint64_t>::max(), 1);
  }
  CHECK_FALSE(any);
  CHECK_THROWS_AS((void)sample_bernoulli_exp(rng, 1, 0), std::invalid_argument);
}

TEST_CASE("the discrete laplace matches its exact pmf, mean and variance") {
  struct Case {
    std::uint64_t num, den, seed;
  };
  for (const Case c : {Case{3, 1, 11}, Case{5, 2, 12}, Case{1, 2, 13}}) {
    CAPTURE(c.num);
    CAPTURE(c.den);
    const long double scale = static_cast<long double>(c.num) / static_cast<long double>(c.den);
    const auto xs = laplace_samples(c.seed, c.num, c.den, 100000);
    const Pmf pmf = laplace_pmf(scale);
    // The closed-form variance and the PMF's agree, so both describe the same distribution.
    CHECK(static_cast<double>(pmf.moment(2)) ==
          doctest::Approx(laplace_variance(static_cast<double>(scale))));
    check_moments(xs, pmf);
    CHECK(chi_square_test(xs, pmf) > kSignificance);
  }
}

TEST_CASE("the laplace chi-square rejects a sampler with the wrong scale") {
  // Draws at scale 3.3 tested against the PMF at scale 3: the test must notice.
  const auto xs = laplace_samples(14, 33, 10, 100000);
  CHECK(chi_square_test(xs, laplace_pmf(3.0L)) < 1e-6);
  // And draws at scale 3 against scale 3.3.
  const auto ys = laplace_samples(15, 3, 1, 100000);
  CHECK(chi_square_test(ys, laplace_pmf(3.3L)) < 1e-6);
}

TEST_CASE("the discrete laplace is symmetric over every integer") {
  const auto xs = laplace_samples(16, 2, 1, 50000);
  std::int64_t positive = 0, negative = 0;
  std::map<std::int64_t, int> seen;
  for (const std::int64_t x : xs) {
    positive += x > 0 ? 1 : 0;
    negative += x < 0 ? 1 : 0;
    ++seen[x];
  }
  CHECK(std::fabs(static_cast<double>(positive - negative)) <
        5 * std::sqrt(static_cast<double>(positive + negative)));
  for (std::int64_t x = -6; x <= 6; ++x) CHECK(seen[x] > 0);  // odd and even, no gaps
  // Mirrored pairs agree: P(x) = P(-x).
  for (std::int64_t x = 1; x <= 4; ++x) {
    const double a = seen[x], b = seen[-x];
    CHECK(std::fabs(a - b) < 5 * std::sqrt(a + b));
  }
}

TEST_CASE("the discrete gaussian matches its exact pmf with variance below sigma squared") {
  struct Case {
    std::uint64_t num, den, seed;
  };
  for (const Case c : {Case{4, 1, 21}, Case{10, 3, 22}, Case{1, 2, 23}}) {
    CAPTURE(c.num);
    CAPTURE(c.den);
    const long double sigma2 = static_cast<long double>(c.num) / static_cast<long double>(c.den);
    const auto xs = gaussian_samples(c.seed, c.num, c.den, 100000);
    const Pmf pmf = gaussian_pmf(sigma2);
    CHECK(pmf.moment(2) < sigma2);
    CHECK(pmf.moment(2) > sigma2 * 0.8L);
    check_moments(xs, pmf);
    CHECK(chi_square_test(xs, pmf) > kSignificance);
  }
}

TEST_CASE("the gaussian chi-square rejects a sampler with the wrong sigma") {
  const auto xs = gaussian_samples(24, 46, 10, 100000);  // sigma^2 = 4.6
  CHECK(chi_square_test(xs, gaussian_pmf(4.0L)) < 1e-6);
}

TEST_CASE("the samplers stay exact at their largest parameters") {
  // sigma^2 = 2^62 / 2^62 = 1 takes the widest intermediate (2 n d t^2 = 2^127).
  const std::uint64_t big = kMaxNoiseParameter;
  const auto unit = gaussian_samples(31, big, big, 20000);
  CHECK(chi_square_test(unit, gaussian_pmf(1.0L)) > kSignificance);
  // Scale 2^62 / 2^61 = 2 for the laplace.
  const auto two = laplace_samples(32, big, big / 2, 20000);
  CHECK(chi_square_test(two, laplace_pmf(2.0L)) > kSignificance);

  // Large scales: the spread is as wide as asked (relative standard error about 2 %).
  const auto wide = laplace_samples(33, kMaxLaplaceScale, 1, 5000);
  long double abs_sum = 0;
  for (const auto x : wide) abs_sum += std::fabs(static_cast<long double>(x));
  CHECK(static_cast<double>(abs_sum / 5000 / kMaxLaplaceScale) == doctest::Approx(1.0).epsilon(0.1));
  const auto g = gaussian_samples(34, big, 1, 5000);
  CHECK(moments(g).variance / static_cast<double>(big) == doctest::Approx(1.0).epsilon(0.1));

  // Tiny scales give zero.
  const auto tiny_l = laplace_samples(35, 1, 1000, 1000);
  const auto tiny_g = gaussian_samples(36, 1, 100, 1000);
  CHECK(std::all_of(tiny_l.begin(), tiny_l.end(), [](auto x) { return x == 0; }));
  CHECK(std::all_of(tiny_g.begin(), tiny_g.end(), [](auto x) { return x == 0; }));
}

TEST_CASE("the samplers refuse parameters outside their limits") {
  SeededRandom rng(3);
  CHECK_THROWS_AS((void)sample_discrete_laplace(rng, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS((void)sample_discrete_laplace(rng, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS((void)sample_discrete_laplace(rng, kMaxLaplaceScale + 1, 1), std::invalid_argument);
  CHECK_NOTHROW((void)sample_discrete_laplace(rng, kMaxLaplaceScale, 1));
  CHECK_THROWS_AS((void)sample_discrete_gaussian(rng, 0, 1), std::invalid_argument);
  CHECK_THROWS_AS((void)sample_discrete_gaussian(rng, 1, 0), std::invalid_argument);
  CHECK_THROWS_AS((void)sample_discrete_gaussian(rng, kMaxNoiseParameter + 1, 1), std::invalid_argument);
  CHECK_THROWS_AS((void)sample_discrete_gaussian(rng, 1, kMaxNoiseParameter + 1), std::invalid_argument);
}

TEST_CASE("system random drives the samplers") {
  RandomSource& rng = system_random();
  CHECK(&rng == &system_random());
  std::vector<std::int64_t> xs;
  for (int i = 0; i < 2000; ++i) xs.push_back(sample_discrete_laplace(rng, 10, 1));
  // Not all equal, and spread about as wide as scale 10 (standard deviation 14.1).
  CHECK(std::sqrt(moments(xs).variance) == doctest::Approx(std::sqrt(laplace_variance(10))).epsilon(0.15));
  auto a = private_aggregate(query(AggregateKind::count, 1.0), std::vector<std::int64_t>(10, 1), rng);
  CHECK(a.ok());
}

TEST_CASE("system random gives a forked child other bytes than its parent") {
  // Noise drawn the same in two processes would let their releases be subtracted. The parent
  // leaves bytes in its per-thread buffer, then forks; each side then draws as the samplers do,
  // in pieces of at most 8 bytes.
  RandomSource& rng = system_random();
  std::array<std::uint8_t, 8> first{};
  rng.fill(first);
  const auto draw = [&] {
    std::array<std::uint8_t, 64> out{};
    for (std::size_t i = 0; i < out.size(); i += 8) rng.fill(std::span(out).subspan(i, 8));
    return out;
  };
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    const auto mine = draw();
    const bool sent = ::write(pipe_fds[1], mine.data(), mine.size()) == static_cast<ssize_t>(mine.size());
    ::_exit(sent ? 0 : 1);
  }
  ::close(pipe_fds[1]);
  const auto parent = draw();
  std::array<std::uint8_t, 64> from_child{};
  std::size_t got = 0;
  while (got < from_child.size()) {
    const ssize_t n = ::read(pipe_fds[0], from_child.data() + got, from_child.size() - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);
  REQUIRE(got == from_child.size());
  // Equal only by chance: 2^-512.
  CHECK(from_child != parent);
}

TEST_CASE("epsilon is rounded so that the laplace scale is never below sensitivity over epsilon") {
  std::vector<double> epsilons = {0.1,
                                  1.0 / 3,
                                  0.7,
                                  1e-3,
                                  3.14159,
                                  2.5,
                                  1e5,
                                  kMinEpsilon,
                                  kMaxEpsilon,
                                  0.01,
                                  std::nextafter(1.0, 0.0),
                                  std::nextafter(0.1, 1.0)};
  SeededRandom rng(4);
  for (int i = 0; i < 200; ++i)
    epsilons.push_back(std::ldexp(1.0 + static_cast<double>(rng.uniform(1u << 30)) / (1u << 30),
                                  static_cast<int>(rng.uniform(20)) - 12));
  for (const double eps : epsilons) {
    for (const std::uint64_t delta : {1, 7, 100, 12345}) {
      CAPTURE(eps);
      CAPTURE(delta);
      const NoiseDraw d = must(laplace_noise(delta, eps));
      CHECK(at_least_exactly(d.param_num, d.param_den, delta, eps));
      // ... and not much above it (30 significant bits of epsilon).
      const long double scale = static_cast<long double>(d.param_num) / d.param_den;
      CHECK(scale <= static_cast<long double>(delta) / eps * (1 + 1e-8L));
    }
  }
}

TEST_CASE("the gaussian sigma is rounded so that the zcdp guarantee never exceeds epsilon") {
  for (const double eps : {0.05, 0.3, 1.0, 2.0, 7.5}) {
    for (const double delta : {1e-3, 1e-6, 1e-10}) {
      for (const std::uint64_t sens : {1, 10, 1000}) {
        CAPTURE(eps);
        CAPTURE(delta);
        CAPTURE(sens);
        const NoiseDraw d = must(gaussian_noise(sens, eps, delta));
        CHECK(d.kind == NoiseKind::gaussian);
        // rho' = Delta^2 / (2 sigma^2) with the sigma^2 used; its epsilon must not exceed the asked one.
        const long double sigma2 = static_cast<long double>(d.param_num) / d.param_den;
        const long double rho = static_cast<long double>(sens) * sens / (2 * sigma2);
        const long double implied = rho + 2 * std::sqrt(rho * std::log(1 / static_cast<long double>(delta)));
        CHECK(implied <= eps);
        CHECK(implied > eps * (1 - 1e-6));
      }
    }
  }
}

TEST_CASE("private aggregates report their noise and never scale it below the requirement") {
  const std::vector<std::int64_t> values = {1, 2, 3};
  SeededRandom rng(5);
  const PrivateAnswer sum = must(private_aggregate(query(AggregateKind::sum, 0.3, -40, 25), values, rng));
  REQUIRE(sum.noise.size() == 1);
  CHECK(sum.noise[0].statistic == "sum");
  CHECK(sum.noise[0].sensitivity == 40);
  CHECK(at_least_exactly(sum.noise[0].param_num, sum.noise[0].param_den, 40, 0.3));
  CHECK(sum.epsilon_spent == 0.3);
  CHECK(sum.delta_spent == 0.0);
  REQUIRE(sum.clamp.has_value());
  CHECK(sum.clamp->lo == -40);
  CHECK(sum.clamp->hi == 25);
  CHECK(sum.sum.has_value());
  CHECK_FALSE(sum.count.has_value());

  // mean: half the budget each for the sum (Delta = 25) and the count.
  const PrivateAnswer mean = must(private_aggregate(query(AggregateKind::mean, 0.3, 0, 25), values, rng));
  REQUIRE(mean.noise.size() == 2);
  CHECK(mean.noise[0].statistic == "sum");
  CHECK(mean.noise[1].statistic == "count");
  CHECK(mean.noise[0].epsilon == 0.15);
  CHECK(at_least_exactly(mean.noise[0].param_num, mean.noise[0].param_den, 25, 0.15));
  CHECK(at_least_exactly(mean.noise[1].param_num, mean.noise[1].param_den, 1, 0.15));
  CHECK(mean.epsilon_spent == 0.3);

  // count needs no bounds: lo > hi is ignored.
  const PrivateAnswer count = must(private_aggregate(query(AggregateKind::count, 1.0, 5, -5), values, rng));
  CHECK_FALSE(count.clamp.has_value());
  CHECK(count.noise[0].sensitivity == 1);

  // gaussian mean splits rho in halves: each half has sigma^2 = Delta^2 / rho.
  AggregateQuery g = query(AggregateKind::mean, 1.0, 0, 10);
  g.noise = NoiseKind::gaussian;
  g.delta = 1e-6;
  const PrivateAnswer gm = must(private_aggregate(g, values, rng));
  const NoiseDraw whole = must(gaussian_noise(10, 1.0, 1e-6));
  REQUIRE(gm.noise.size() == 2);
  CHECK(gm.noise[0].rho == doctest::Approx(whole.rho / 2));
  CHECK(gm.noise[0].scale == doctest::Approx(whole.scale * std::sqrt(2.0)));
  CHECK(gm.delta_spent == 1e-6);
}

TEST_CASE("an outlier moves a private sum by no more than the clamping bound") {
  const std::vector<std::int64_t> base = {10, 20, 30, 40};
  std::vector<std::int64_t> high = base, low = base;
  high.push_back(1'000'000'000'000);
  low.push_back(-1'000'000'000'000);
  const AggregateQuery q = query(AggregateKind::sum, 1.0, -50, 100);
  // The same seed draws the same noise, so the answers differ by the clamped outlier exactly.
  for (std::uint64_t seed = 100; seed < 110; ++seed) {
    SeededRandom r1(seed), r2(seed), r3(seed);
    const auto a = *must(private_aggregate(q, base, r1)).sum;
    const auto b = *must(private_aggregate(q, high, r2)).sum;
    const auto c = *must(private_aggregate(q, low, r3)).sum;
    CHECK(b - a == 100);
    CHECK(c - a == -50);
  }
}

TEST_CASE("private count sum and mean errors are centred on the truth with the right spread") {
  const auto values = spread_values(500, 101);  // 0..100
  const std::int64_t true_sum = std::accumulate(values.begin(), values.end(), std::int64_t{0});
  const int runs = 4000;
  std::vector<std::int64_t> count_err, sum_err;
  for (int i = 0; i < runs; ++i) {
    SeededRandom rng(1000 + static_cast<std::uint64_t>(i));
    count_err.push_back(*must(private_aggregate(query(AggregateKind::count, 0.5), values, rng)).count - 500);
    sum_err.push_back(*must(private_aggregate(query(AggregateKind::sum, 1.0, 0, 100), values, rng)).sum -
                      true_sum);
  }
  check_moments(count_err, laplace_pmf(2.0L));  // scale 1 / 0.5
  check_moments(sum_err, laplace_pmf(100.0L));  // scale 100 / 1

  // gaussian count: variance just below sigma^2.
  AggregateQuery g = query(AggregateKind::count, 1.0);
  g.noise = NoiseKind::gaussian;
  g.delta = 1e-5;
  const NoiseDraw gd = must(gaussian_noise(1, 1.0, 1e-5));
  std::vector<std::int64_t> gauss_err;
  for (int i = 0; i < runs; ++i) {
    SeededRandom rng(9000 + static_cast<std::uint64_t>(i));
    gauss_err.push_back(*must(private_aggregate(g, values, rng)).count - 500);
  }
  check_moments(gauss_err, gaussian_pmf(static_cast<long double>(gd.param_num) / gd.param_den));

  // mean: noisy sum (scale 200) over noisy count (scale 2); delta method standard deviation.
  const auto many = spread_values(1000, 101);
  const double truth = static_cast<double>(std::accumulate(many.begin(), many.end(), std::int64_t{0})) / 1000;
  std::vector<double> means;
  for (int i = 0; i < 2000; ++i) {
    SeededRandom rng(20000 + static_cast<std::uint64_t>(i));
    means.push_back(*must(private_aggregate(query(AggregateKind::mean, 1.0, 0, 100), many, rng)).mean);
  }
  double s = 0, s2 = 0;
  for (const double m : means) {
    s += m;
    s2 += m * m;
  }
  const double avg = s / 2000, sd = std::sqrt((s2 - 2000 * avg * avg) / 1999);
  const double expected_sd = std::sqrt(laplace_variance(200) + truth * truth * laplace_variance(2)) / 1000;
  CHECK(std::fabs(avg - truth) < 5 * sd / std::sqrt(2000.0));
  CHECK(sd == doctest::Approx(expected_sd).epsilon(0.15));
}

TEST_CASE("a private histogram bins clamped values by equal integer widths") {
  std::vector<std::int64_t> values;
  for (std::int64_t v = 0; v < 100; ++v) values.push_back(v);  // ten per bin
  values.push_back(-5);                                        // clamped into the first bin
  values.push_back(1000);                                      // clamped into the last bin
  AggregateQuery q = query(AggregateKind::histogram, 1.0, 0, 99);
  q.bins = 10;
  const int runs = 1000;
  std::vector<std::vector<std::int64_t>> errors(10);
  for (int i = 0; i < runs; ++i) {
    SeededRandom rng(50000 + static_cast<std::uint64_t>(i));
    const PrivateAnswer a = must(private_aggregate(q, values, rng));
    REQUIRE(a.bins.size() == 10);
    for (std::size_t b = 0; b < 10; ++b) {
      CHECK(a.bins[b].lo == static_cast<std::int64_t>(10 * b));
      CHECK(a.bins[b].hi == static_cast<std::int64_t>(10 * b + 9));
      const std::int64_t truth = 10 + (b == 0 || b == 9 ? 1 : 0);
      errors[b].push_back(a.bins[b].count - truth);
    }
  }
  for (const auto& e : errors) check_moments(e, laplace_pmf(1.0L));

  // The whole int64 range in two bins: the boundary falls between -1 and 0.
  AggregateQuery wide = query(AggregateKind::histogram, 1000.0, kI64Min, kI64Max);
  wide.bins = 2;
  SeededRandom rng(6);
  const PrivateAnswer w =
      must(private_aggregate(wide, std::vector<std::int64_t>{-1, -1, 0, kI64Max, kI64Min}, rng));
  REQUIRE(w.bins.size() == 2);
  CHECK(w.bins[0].lo == kI64Min);
  CHECK(w.bins[0].hi == -1);
  CHECK(w.bins[1].lo == 0);
  CHECK(w.bins[1].hi == kI64Max);
  CHECK(w.bins[0].count == 3);  // scale 1 / 1000: the noise is 0
  CHECK(w.bins[1].count == 2);
}

TEST_CASE("a private mean stays within the bounds when the noisy count is not positive") {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    SeededRandom rng(seed);
    const PrivateAnswer a = must(private_aggregate(query(AggregateKind::mean, 0.05, -10, 30), {}, rng));
    REQUIRE(a.mean.has_value());
    CHECK(std::isfinite(*a.mean));
    CHECK(*a.mean >= -10);
    CHECK(*a.mean <= 30);
  }
}

TEST_CASE("a private sum saturates at the int64 range instead of overflowing") {
  const std::int64_t v = std::int64_t{1} << 47;
  const std::vector<std::int64_t> values(70000, v);  // true sum 70000 2^47 > 2^63
  SeededRandom rng(7);
  CHECK(*must(private_aggregate(query(AggregateKind::sum, 1.0, 0, v), values, rng)).sum == kI64Max);
  const std::vector<std::int64_t> negative(70000, -v);
  CHECK(*must(private_aggregate(query(AggregateKind::sum, 1.0, -v, 0), negative, rng)).sum == kI64Min);
}

TEST_CASE("private aggregates refuse bad parameters naming them") {
  const std::vector<std::int64_t> values = {1, 2, 3};
  auto refused = [&](AggregateQuery q, const std::string& names) {
    SeededRandom rng(8);
    auto r = private_aggregate(q, values, rng);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
    CHECK_MESSAGE(r.err().message.find(names) != std::string::npos, r.err().message);
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (const double eps : {0.0, -1.0, nan, inf, -inf, 1e-12, 1e7}) {
    CAPTURE(eps);
    refused(query(AggregateKind::count, eps), "epsilon");
  }
  AggregateQuery g = query(AggregateKind::sum, 1.0, 0, 10);
  g.noise = NoiseKind::gaussian;
  for (const double delta : {0.0, -1e-6, 0.01, nan, inf}) {
    CAPTURE(delta);
    g.delta = delta;
    refused(g, "delta");
  }
  AggregateQuery lap = query(AggregateKind::sum, 1.0, 0, 10);
  lap.delta = 1e-6;
  refused(lap, "delta");
  refused(query(AggregateKind::sum, 1.0, 5, 4), "lo");
  refused(query(AggregateKind::mean, 1.0, 5, 4), "lo");
  AggregateQuery h = query(AggregateKind::histogram, 1.0, 0, 100);
  for (const std::int64_t bins : {std::int64_t{0}, std::int64_t{-3}, std::int64_t{70000}, std::int64_t{10}}) {
    CAPTURE(bins);
    h.bins = bins;  // 10 does not divide the 101 values of [0, 100]
    refused(h, "bins");
  }
  // Bounds so wide that the noise cannot be represented.
  refused(query(AggregateKind::sum, 1.0, kI64Min, kI64Max), "lo and hi");
  refused(query(AggregateKind::mean, 0.001, 0, std::int64_t{1} << 40), "lo and hi");
  AggregateQuery wide_g = query(AggregateKind::sum, 1.0, 0, std::int64_t{1} << 40);
  wide_g.noise = NoiseKind::gaussian;
  wide_g.delta = 1e-6;
  refused(wide_g, "lo and hi");

  CHECK(must(parse_aggregate_kind("histogram")) == AggregateKind::histogram);
  CHECK(must(parse_noise_kind("gaussian")) == NoiseKind::gaussian);
  CHECK(parse_aggregate_kind("median").err().code == errc::invalid_argument);
  CHECK(parse_noise_kind("uniform").err().code == errc::invalid_argument);
}

TEST_CASE("a seed gives a repeatable private answer") {
  const auto values = spread_values(300, 50);
  AggregateQuery q = query(AggregateKind::histogram, 0.5, 0, 49);
  q.bins = 5;
  auto run = [&](std::uint64_t seed) {
    SeededRandom rng(seed);
    std::vector<std::int64_t> out;
    const PrivateAnswer h = must(private_aggregate(q, values, rng));
    for (const auto& b : h.bins) out.push_back(b.count);
    AggregateQuery g = query(AggregateKind::mean, 0.5, 0, 49);
    g.noise = NoiseKind::gaussian;
    g.delta = 1e-6;
    const PrivateAnswer m = must(private_aggregate(g, values, rng));
    out.push_back(*m.sum);
    out.push_back(*m.count);
    return out;
  };
  CHECK(run(77) == run(77));
  CHECK(run(77) != run(78));
}
