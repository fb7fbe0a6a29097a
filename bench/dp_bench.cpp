// dp_bench.cpp: DP1, a differentially private sum beside a plain clamped sum of the same values.
//
//   DP1_sum/<n>/consentry   private_aggregate(): sum of n values clamped to [0, 10000], one discrete
//                           Laplace draw (epsilon 1) from system_random(), the answer built
//   DP1_sum/<n>/baseline    the plain clamped loop: std::clamp and an int64 running sum
//
// n is 1,000,000 (CONSENTRY_BENCH_SCALE=tiny: 1,000). The workloads register themselves when the
// executable starts (see the end of this file).
#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "consentry/anonymise/private_aggregate.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::int64_t kLo = 0;
constexpr std::int64_t kHi = 10000;

// Amounts spread over [0, 12000), so that about one value in six is clamped.
std::vector<std::int64_t> amounts(std::size_t n) {
  std::vector<std::int64_t> v(n);
  std::uint64_t x = 0x9E3779B97F4A7C15u;
  for (auto& a : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    a = static_cast<std::int64_t>(x % 12000);
  }
  return v;
}

void dp_sum_consentry(benchmark::State& state, std::size_t n) {
  const auto values = amounts(n);
  AggregateQuery q;
  q.kind = AggregateKind::sum;
  q.epsilon = 1.0;
  q.lo = kLo;
  q.hi = kHi;
  for (auto _ : state) {
    auto answer = private_aggregate(q, values, system_random());
    if (!answer) throw std::runtime_error(answer.err().message);
    benchmark::DoNotOptimize(answer->sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void dp_sum_baseline(benchmark::State& state, std::size_t n) {
  const auto values = amounts(n);
  for (auto _ : state) {
    std::int64_t sum = 0;
    for (const std::int64_t v : values) sum += std::clamp(v, kLo, kHi);
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

/// register_dp_benchmarks registers DP1 at the scale's size.
void register_dp_benchmarks(const Sizes&) {
  const std::size_t n = scale() == Scale::tiny ? 1000 : 1'000'000;
  using Fn = void (*)(benchmark::State&, std::size_t);
  const std::pair<const char*, Fn> sides[] = {{"consentry", dp_sum_consentry}, {"baseline", dp_sum_baseline}};
  for (const auto& [side, fn] : sides) {
    const std::string name = "DP1_sum/" + std::to_string(n) + "/" + side;
    benchmark::RegisterBenchmark(name.c_str(), [fn = fn, n](benchmark::State& st) {
      guarded(st, [&](benchmark::State& st2) { fn(st2, n); });
    })->UseRealTime();
  }
}

}  // namespace consentry::bench
