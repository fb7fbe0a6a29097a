// scan_bench.cpp: W5, listing every customer eligible for marketing.email in a vault of
// Sizes::scan_customers customers, of whom half granted and a fifth of those withdrew again.
//
//   W5_scan/<n>/consentry   Vault::eligible_customers("marketing.email")
//   W5_scan/<n>/baseline    the same consent events in a hand-written SQLite file: one prepared
//                           scan of consent_events for the purpose, ordered by customer and
//                           sequence, folded to each customer's last event
//
// Counters: eligible (both sides must agree), peak_rss_mib and peak_growth_mib as in W4.
#include <stdexcept>
#include <string>

#include "bench_vaults.hpp"
#include "consentry/extension/store.hpp"
#include "hand_store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

std::size_t expected_eligible(std::size_t customers) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < customers; ++i) n += kScanPlan.grants(i) && !kScanPlan.withdraws(i);
  return n;
}

void report(benchmark::State& state, const MemoryWindow& window, std::size_t found, std::size_t customers) {
  state.counters["eligible"] = static_cast<double>(found);
  state.counters["peak_rss_mib"] = window.peak_mib();
  state.counters["peak_growth_mib"] = window.growth_mib();
  if (found != expected_eligible(customers))
    throw std::runtime_error("found " + std::to_string(found) + " eligible customers, expected " +
                             std::to_string(expected_eligible(customers)));
}

void scan_consentry(benchmark::State& state, std::size_t customers) {
  const auto file = cached_vault("scan-" + std::to_string(customers), customers, kScanPlan);
  warm_file(file);
  Vault vault = open_bench_vault(file, AuditMode::durable);
  std::size_t found = 0;
  const MemoryWindow window;
  for (auto _ : state) {
    auto eligible = vault.eligible_customers(kReadPurpose);
    if (!eligible) throw std::runtime_error("eligible_customers: " + eligible.err().message);
    found = eligible->size();
    benchmark::DoNotOptimize(eligible->data());
  }
  report(state, window, found, customers);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

void scan_baseline(benchmark::State& state, std::size_t customers) {
  const auto file = cached_hand_store("scan-" + std::to_string(customers) + ".hand", Sealing::aead, {},
                                      customers, kScanPlan);
  warm_file(file);
  auto hand = HandStore::open(file, Sealing::aead);
  const auto now = static_cast<std::int64_t>(consentry::now().time_since_epoch().count());
  std::size_t found = 0;
  const MemoryWindow window;
  for (auto _ : state) {
    auto eligible = hand->eligible(kReadPurpose, now);
    found = eligible.size();
    benchmark::DoNotOptimize(eligible.data());
  }
  report(state, window, found, customers);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

}  // namespace

void register_scan_benchmarks(const Sizes& sizes) {
  const std::size_t n = sizes.scan_customers;
  const std::string prefix = "W5_scan/" + std::to_string(n) + "/";
  benchmark::RegisterBenchmark(
      (prefix + "consentry").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { scan_consentry(s, n); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (prefix + "baseline").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { scan_baseline(s, n); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
