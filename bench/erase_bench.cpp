// erase_bench.cpp: W6, erasing one customer (Vault::erase: data key destroyed, rows deleted,
// files compacted, audit entry) from a vault of 10k and from one of 1M customers; the two are
// set against each other (goal: the large one takes at most 1.5 times as long).
//
//   W6_erase/<n>   one erasure in a fresh copy of the read vault of n customers (W3, W7), durable
//                  audit; the copy is made and warmed while the clock is stopped
#include <memory>
#include <stdexcept>
#include <string>

#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

// kErased is a customer without consent, so the read workloads never visit them.
constexpr std::size_t kErased = 1;

void erase_one(benchmark::State& state, std::size_t customers) {
  // The read workloads' vaults are closed first, so no connection shares the files.
  release_read_vaults();
  const auto pristine = cached_vault("read-" + std::to_string(customers), customers, kReadPlan);
  const auto scratch = data_dir() / ("erase-" + std::to_string(customers) + ".vault");
  for (auto _ : state) {
    state.PauseTiming();
    copy_vault(pristine, scratch);
    warm_file(scratch);
    auto vault = std::make_unique<Vault>(open_bench_vault(scratch, AuditMode::durable));
    state.ResumeTiming();
    auto erased = vault->erase(customer_id(kErased));
    if (!erased) throw std::runtime_error("erase: " + erased.err().message);
    state.PauseTiming();
    vault.reset();
    remove_db(scratch);
    state.ResumeTiming();
  }
}

}  // namespace

void register_erase_benchmarks(const Sizes& sizes) {
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  for (std::size_t customers : {sizes.read_small, sizes.read_large}) {
    benchmark::RegisterBenchmark(("W6_erase/" + std::to_string(customers)).c_str(),
                                 [customers](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { erase_one(s, customers); });
                                 })
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(repetitions)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace consentry::bench
