// import_bench.cpp: W4, importing customers with ten fields each into a new SQLite vault, in
// transactions of Sizes::import_batch customers.
//
//   W4_import/<n>/consentry   Vault::write() per batch of Records (validation, data key per
//                             customer, sealing, audit of the write)
//   W4_import/<n>/baseline    a hand-written SQLite file, the same batches in the same
//                             transaction sizes: per customer a random data key wrapped under a
//                             master key and inserted, then ten values sealed and inserted
//   W4_import/<n>/one_transaction/consentry  Vault::write_batches() fed the same batches, all
//                             in one transaction, as `consentry import` writes a file
//   W4_import/<n>/one_transaction/baseline   the hand-written file, the same in one transaction
//
// One iteration imports everything into a fresh file; the records are built beforehand and are
// the same for both sides. Counters: peak_rss_mib (the process's peak resident memory during the
// import), peak_growth_mib (how far it rose above the resident size before the import) and
// process_cpu_s (the CPU time the import took on all threads: consentry checks and seals a
// write's records on several cores).
#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "consentry/extension/store.hpp"
#include "hand_store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

const std::vector<std::vector<Record>>& import_batches(const Sizes& sizes) {
  static std::vector<std::vector<Record>> batches;
  static std::size_t built_for = 0;
  if (built_for != sizes.import_customers) {
    batches.clear();
    const timestamp at = consentry::now();
    for (std::size_t first = 0; first < sizes.import_customers; first += sizes.import_batch)
      batches.push_back(
          make_records(first, std::min(sizes.import_customers, first + sizes.import_batch), at));
    built_for = sizes.import_customers;
  }
  return batches;
}

void report_memory(benchmark::State& state, const MemoryWindow& window, double cpu_before) {
  state.counters["process_cpu_s"] = process_cpu_seconds() - cpu_before;
  state.counters["peak_rss_mib"] = window.peak_mib();
  state.counters["peak_growth_mib"] = window.growth_mib();
  if (!window.exact()) state.SetLabel("peak not reset: includes earlier work");
}

void import_consentry(benchmark::State& state, const Sizes& sizes, bool one_transaction) {
  const auto& batches = import_batches(sizes);
  const auto file = data_dir() / "import.consentry.vault";
  for (auto _ : state) {
    state.PauseTiming();
    remove_db(file);
    std::unique_ptr<Vault> vault;
    {
      auto created = Vault::create(file, bench_policy(), kPassphrase, bench_options(AuditMode::durable));
      if (!created) throw std::runtime_error("create: " + created.err().message);
      vault = std::make_unique<Vault>(std::move(*created));
    }
    const MemoryWindow window;
    const double cpu_before = process_cpu_seconds();
    state.ResumeTiming();
    if (one_transaction) {
      std::size_t next = 0;
      auto written = vault->write_batches(
          [&](std::vector<Record>& batch) -> result<bool> {
            batch = batches[next++];
            return next < batches.size();
          },
          "bench");
      if (!written) throw std::runtime_error("write_batches: " + written.err().message);
    } else {
      for (const auto& batch : batches) {
        auto written = vault->write(batch, "bench");
        if (!written) throw std::runtime_error("write: " + written.err().message);
      }
    }
    state.PauseTiming();
    report_memory(state, window, cpu_before);
    vault.reset();
    remove_db(file);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sizes.import_customers));
}

void import_baseline(benchmark::State& state, const Sizes& sizes, bool one_transaction) {
  const auto& batches = import_batches(sizes);
  const auto file = data_dir() / "import.hand.db";
  for (auto _ : state) {
    state.PauseTiming();
    auto hand = HandStore::create(file, Sealing::aead);
    const MemoryWindow window;
    const double cpu_before = process_cpu_seconds();
    state.ResumeTiming();
    if (one_transaction) hand->begin();
    for (const auto& batch : batches) {
      if (!one_transaction) hand->begin();
      for (const Record& r : batch) {
        const auto at = r.collected_at->time_since_epoch().count();
        hand->put_customer(r.customer, r.fields, r.source, at);
      }
      if (!one_transaction) hand->commit();
    }
    if (one_transaction) hand->commit();
    state.PauseTiming();
    report_memory(state, window, cpu_before);
    hand.reset();
    remove_db(file);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sizes.import_customers));
}

}  // namespace

void register_import_benchmarks(const Sizes& sizes) {
  const std::string prefix = "W4_import/" + std::to_string(sizes.import_customers) + "/";
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  for (bool one : {false, true}) {
    const std::string rows = prefix + (one ? "one_transaction/" : "");
    benchmark::RegisterBenchmark((rows + "consentry").c_str(),
                                 [sizes, one](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { import_consentry(s, sizes, one); });
                                 })
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(repetitions)
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((rows + "baseline").c_str(),
                                 [sizes, one](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { import_baseline(s, sizes, one); });
                                 })
        ->UseRealTime()
        ->Iterations(1)
        ->Repetitions(repetitions)
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace consentry::bench
