// release_bench.cpp: B3R, the read behind B3 (`consentry anonymise --from-vault`, timed as a whole
// by bench/bulk_cli.py) without the command line around it, beside its floor.
//
//   B3R_release/<n>/consentry  Vault::purpose_dataset as B3's accessor (bi-dashboard) for its
//                              purpose (analytics, a legitimate interest: every customer is
//                              eligible) of the four fields B3 releases, over the W5 vault of n
//                              customers, audit durable; the vault is opened afresh before each run
//                              (outside the timing), so no data key is cached, as in the command
//   B3R_release/<n>/baseline   HandStore::release_scan over the same customers in the hand-written
//                              file: every data key unwrapped, every value opened, and one log row
//                              per customer committed kBulkReadBatch customers at a time
//
// The baseline is the least that any release of sealed values which logs each customer read has
// to do; the command's run from a CSV (bulk_cli.py) does none of it. Counter: values (both sides
// must agree: four per customer).
#include <array>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "hand_store.hpp"
#include "suite.hpp"

namespace consentry::bench {

void time_release(benchmark::State& state, std::size_t customers, const std::function<Vault()>& open) {
  const std::vector<std::string> fields(kReleaseFields.begin(), kReleaseFields.end());
  std::size_t values = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::optional<Vault> vault(open());
    state.ResumeTiming();
    auto released = vault->purpose_dataset(kReleaseAccessor, kReleasePurpose, fields);
    if (!released) throw std::runtime_error("purpose_dataset: " + released.err().message);
    values = released->rows.size() * released->columns.size();
    benchmark::DoNotOptimize(released->rows.data());
    state.PauseTiming();
    vault.reset();
    state.ResumeTiming();
  }
  check_released(values, customers);
  state.counters["values"] = static_cast<double>(values);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

namespace {

void release_consentry(benchmark::State& state, std::size_t customers) {
  // The release appends an audit entry per customer, so it works on a copy of the cached vault.
  const auto file =
      working_copy(cached_vault("scan-" + std::to_string(customers), customers, kScanPlan), "release");
  warm_file(file);
  time_release(state, customers, [&] { return open_bench_vault(file, AuditMode::durable); });
}

void release_baseline(benchmark::State& state, std::size_t customers) {
  const auto pristine = cached_hand_store("scan-" + std::to_string(customers) + ".hand", Sealing::aead, {},
                                          customers, kScanPlan);
  const auto file = working_copy(pristine, "released");
  warm_file(file);
  auto hand = HandStore::open(file, Sealing::aead);
  std::size_t values = 0;
  for (auto _ : state) values = hand->release_scan(kReleaseFields, kLoggedEntryBytes, kBulkReadBatch);
  check_released(values, customers);
  state.counters["values"] = static_cast<double>(values);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

}  // namespace

void register_release_benchmarks(const Sizes& sizes) {
  const std::size_t n = sizes.scan_customers;
  const std::string prefix = "B3R_release/" + std::to_string(n) + "/";
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  benchmark::RegisterBenchmark(
      (prefix + "consentry").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { release_consentry(s, n); }); })
      ->UseRealTime()
      ->Iterations(1)
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (prefix + "baseline").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { release_baseline(s, n); }); })
      ->UseRealTime()
      ->Iterations(1)
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
