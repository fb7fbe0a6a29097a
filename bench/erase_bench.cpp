// erase_bench.cpp: W6, erasing one customer (Vault::erase: data key destroyed, rows deleted,
// files compacted, audit entry) from a vault of 10k and from one of 1M customers; the two are
// set against each other (goal: the large one takes at most 1.5 times as long).
//
//   W6_erase/<n>   erasures in a fresh copy of the read vault of n customers (W3, W7), durable
//                  audit: kErasedPerCopy customers spread over the vault, one after another; the
//                  time reported is the mean of their erasures. The copy is made, synced and
//                  warmed, and the vault opened, while the clock is stopped.
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

// kErasedPerCopy customers are erased from each copy: a single erasure of a few milliseconds,
// one per copy of a gigabyte-sized vault, varies by half from one copy to the next.
constexpr std::size_t kErasedPerCopy = 5;

// erased_customers spreads kErasedPerCopy customers over a read vault of `customers`, each
// without consent, so the read workloads never visit them.
std::vector<std::string> erased_customers(std::size_t customers) {
  std::vector<std::string> ids;
  for (std::size_t j = 0; j < kErasedPerCopy; ++j) {
    std::size_t i = 1 + j * (customers / kErasedPerCopy);
    if (kReadPlan.grants(i)) ++i;
    ids.push_back(customer_id(i));
  }
  return ids;
}

void erase_some(benchmark::State& state, std::size_t customers) {
  // The read workloads' vaults are closed first, so no connection shares the files.
  release_read_vaults();
  const auto pristine = cached_vault("read-" + std::to_string(customers), customers, kReadPlan);
  const auto scratch = data_dir() / ("erase-" + std::to_string(customers) + ".vault");
  const std::vector<std::string> ids = erased_customers(customers);
  for (auto _ : state) {
    copy_vault(pristine, scratch);
    warm_file(scratch);
    auto vault = std::make_unique<Vault>(open_bench_vault(scratch, AuditMode::durable));
    std::chrono::duration<double> took{};
    for (const std::string& id : ids) {
      const auto start = std::chrono::steady_clock::now();
      auto erased = vault->erase(id);
      took += std::chrono::steady_clock::now() - start;
      if (!erased) throw std::runtime_error("erase: " + erased.err().message);
    }
    state.SetIterationTime(took.count() / static_cast<double>(ids.size()));
    vault.reset();
    remove_db(scratch);
  }
}

}  // namespace

void register_erase_benchmarks(const Sizes& sizes) {
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  for (std::size_t customers : {sizes.read_small, sizes.read_large}) {
    benchmark::RegisterBenchmark(("W6_erase/" + std::to_string(customers)).c_str(),
                                 [customers](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { erase_some(s, customers); });
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Repetitions(repetitions)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace consentry::bench
