// decision_bench.cpp: W2, decide() for one field of the bench policy. No baseline: the goal is
// an absolute time per decision.
//
//   W2_decide/allow   a live grant: allow(clear)
//   W2_decide/deny    no consent event: deny(no_consent)
#include <chrono>

#include "bench_vaults.hpp"
#include "consentry/decision.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

void decide_field(benchmark::State& state, bool granted) {
  const Policy& policy = bench_policy();
  const timestamp at = consentry::now();
  ConsentState consent;
  if (granted) {
    ConsentEvent grant;
    grant.seq = 1;
    grant.customer = customer_id(42);
    grant.purpose = std::string(kReadPurpose);
    grant.at = at;
    grant.expires_at = at + std::chrono::days(3650);
    consent.apply(grant);
  }
  for (auto _ : state) {
    const Decision d = decide(policy, consent, kReadAccessor, kReadPurpose, "email", at);
    benchmark::DoNotOptimize(d);
  }
  if (decide(policy, consent, kReadAccessor, kReadPurpose, "email", at).allowed != granted)
    state.SkipWithError("decide() gave an unexpected answer");
}

}  // namespace

void register_decision_benchmarks(const Sizes&) {
  benchmark::RegisterBenchmark("W2_decide/allow", [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { decide_field(s, true); });
  })->UseRealTime();
  benchmark::RegisterBenchmark("W2_decide/deny", [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { decide_field(s, false); });
  })->UseRealTime();
}

}  // namespace consentry::bench
