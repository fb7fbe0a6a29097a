// read_bench.cpp: W3 and W7, a consented read of three fields (email, first_name, city) of one
// customer, from a warm SQLite vault: open a view as email-campaigns for marketing.email, then
// read() the three fields in one call. Reads visit the customers who consented, in a fixed pseudo-random
// order.
//
//   W3_read/<n>/audit:<mode>  consentry, VaultOptions::audit = durable, batched or off
//   W3_read/<n>/one_call/audit:<mode>  the same read in one call (Accessor::read): one decision
//                             and one snapshot where a view and its read take one each
//   W3_read/<n>/baseline      the same sealed rows in a hand-written SQLite file: one prepared
//                             SELECT of the three rows, three raw AEAD opens, data keys in memory
//   W3_read/<n>/baseline_durable  the same, then one INSERT of a row the size of an audit entry
//                             committed on its own with synchronous = FULL (what a durable audit adds)
//   W7_read/<n>               consentry with batched audit, at 10k and at 1M customers
//   W7_read/<n>/baseline      W3's baseline at the same two sizes: how far the hand-written read
//                             itself slows as the file grows (the limit W7's scaling is set beside)
//   W3T_durable/<t>           W3's read in one call, audit durable, from t threads at once through
//                             one vault (1, 2, 4, 8): the time reported is wall time per read, so
//                             t threads against one give how far group commit shares the fsync
//   W3T_batched/<t>           the same with the audit batched (1, 2, 4): how far reads from several
//                             threads run side by side (each on a reader connection of its own)
//
// "Warm": the files are read once so the operating system caches them, and each vault serves
// up to 1000 reads before it is measured, so its data-key cache holds what it can. A vault stays
// open across the runs Google Benchmark makes of one workload. Reads write audit entries, so
// they run on a working copy of the cached vault, made once per process.
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "consentry/extension/store.hpp"
#include "hand_store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kWarmReads = 1000;

// The vault and hand store of the workload being measured, kept open between its runs.
struct OpenVault {
  std::string key;
  std::unique_ptr<Vault> vault;
};
struct OpenHand {
  std::string key;
  std::unique_ptr<HandStore> hand;
};
OpenVault& open_vault_slot() {
  static OpenVault slot;
  return slot;
}
OpenHand& open_hand_slot() {
  static OpenHand slot;
  return slot;
}

Vault& warm_vault(const std::filesystem::path& file, AuditMode mode, std::size_t customers) {
  OpenVault& slot = open_vault_slot();
  const std::string key = file.string() + "#" + std::string(to_string(mode));
  if (slot.key != key) {
    slot.vault.reset();
    slot.key.clear();
    warm_file(file);
    slot.vault = std::make_unique<Vault>(open_bench_vault(file, mode));
    slot.key = key;
    auto accessor = slot.vault->accessor(kReadAccessor);
    if (!accessor) throw std::runtime_error(accessor.err().message);
    ReadOrder order(customers);
    const std::size_t warm = std::min(kWarmReads, order.ids().size());
    for (std::size_t i = 0; i < warm; ++i) read_three(*accessor, order.ids()[i]);
  }
  return *slot.vault;
}

std::filesystem::path read_vault(std::size_t customers) {
  return cached_vault("read-" + std::to_string(customers), customers, kReadPlan);
}

// The reads append audit entries, so they go to a working copy of the cached vault.
std::filesystem::path read_copy(std::size_t customers) {
  return working_copy(read_vault(customers), "work");
}

void read_consentry(benchmark::State& state, std::size_t customers, AuditMode mode, bool one_call = false) {
  Vault& vault = warm_vault(read_copy(customers), mode, customers);
  auto accessor = vault.accessor(kReadAccessor);
  if (!accessor) throw std::runtime_error(accessor.err().message);
  ReadOrder order(customers);
  const auto read = one_call ? read_three_at_once : read_three;
  for (auto _ : state) read(*accessor, order.ids()[order.next()]);
  state.SetItemsProcessed(state.iterations());
}

void read_baseline(benchmark::State& state, std::size_t customers, bool durable) {
  const auto pristine = cached_hand_store("read-" + std::to_string(customers) + ".hand", Sealing::aead, {},
                                          customers, kReadPlan);
  // The durable baseline writes, so it works on a copy, as the vault's reads do.
  const auto file = durable ? working_copy(pristine, "logged") : pristine;
  OpenHand& slot = open_hand_slot();
  if (slot.key != file.string()) {
    slot.hand.reset();
    warm_file(file);
    slot.hand = HandStore::open(file, Sealing::aead);
    slot.hand->load_keys();
    slot.key = file.string();
  }
  HandStore& hand = *slot.hand;
  ReadOrder order(customers);
  std::array<std::string, 3> out;
  for (auto _ : state) {
    const std::string& customer = order.ids()[order.next()];
    if (hand.read(customer, kReadFields, out) != kReadFields.size())
      throw std::runtime_error("baseline read found too few fields");
    benchmark::DoNotOptimize(out.data());
    if (durable) hand.log_read(customer, kLoggedEntryBytes);
  }
  state.SetItemsProcessed(state.iterations());
}

// thread_reads is how many reads each thread of W3T makes per iteration: enough that starting
// the threads is a small part of it.
std::size_t thread_reads(AuditMode mode) {
  if (scale() == Scale::tiny) return 5;
  return mode == AuditMode::durable ? 200 : 2000;
}

void read_from_threads(benchmark::State& state, std::size_t customers, std::size_t threads, AuditMode mode) {
  Vault& vault = warm_vault(read_copy(customers), mode, customers);
  ReadOrder order(customers);
  const std::size_t reads = thread_reads(mode);
  std::size_t next = 0;
  for (auto _ : state) {
    // Each thread reads its own customers, with its own accessor, as a CRM's request threads do.
    std::vector<std::vector<std::string>> work(threads);
    for (auto& ids : work)
      for (std::size_t i = 0; i < reads; ++i) ids.push_back(order.ids()[(next++) % order.ids().size()]);
    const double took = on_reading_threads(vault, threads, [&](std::size_t t, const Accessor& accessor) {
      for (const std::string& customer : work[t]) read_three_at_once(accessor, customer);
    });
    state.SetIterationTime(took / static_cast<double>(threads * reads));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

void release_read_vaults() {
  open_vault_slot() = OpenVault{};
  open_hand_slot() = OpenHand{};
}

void register_read_benchmarks(const Sizes& sizes) {
  // Three repetitions (the median is reported): the cost of a guarded allocation, which these
  // reads are full of, varies with what the other processor is doing.
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  const std::size_t small = sizes.read_small;
  const std::string w3 = "W3_read/" + std::to_string(small) + "/";
  for (bool one_call : {false, true}) {
    for (AuditMode mode : {AuditMode::durable, AuditMode::batched, AuditMode::off}) {
      benchmark::RegisterBenchmark(
          (w3 + (one_call ? "one_call/" : "") + "audit:" + std::string(to_string(mode))).c_str(),
          [small, mode, one_call](benchmark::State& st) {
            guarded(st, [&](benchmark::State& s) { read_consentry(s, small, mode, one_call); });
          })
          ->UseRealTime()
          ->Repetitions(repetitions);
    }
  }
  for (bool durable : {false, true}) {
    benchmark::RegisterBenchmark((w3 + (durable ? "baseline_durable" : "baseline")).c_str(),
                                 [small, durable](benchmark::State& st) {
                                   guarded(st,
                                           [&](benchmark::State& s) { read_baseline(s, small, durable); });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
  }

  for (AuditMode mode : {AuditMode::durable, AuditMode::batched}) {
    const std::vector<std::size_t> counts =
        mode == AuditMode::durable ? std::vector<std::size_t>{1, 2, 4, 8} : std::vector<std::size_t>{1, 2, 4};
    for (std::size_t threads : counts) {
      benchmark::RegisterBenchmark(
          ("W3T_" + std::string(to_string(mode)) + "/" + std::to_string(threads)).c_str(),
          [small, threads, mode](benchmark::State& st) {
            guarded(st, [&](benchmark::State& s) { read_from_threads(s, small, threads, mode); });
          })
          ->UseManualTime()
          ->Iterations(scale() == Scale::tiny ? 1 : 10)
          ->Repetitions(repetitions);
    }
  }

  // Both W7 vaults are built (or found) before either is measured, so that the two sizes are
  // measured one right after the other, under the same conditions.
  for (std::size_t customers : {sizes.read_small, sizes.read_large}) {
    benchmark::RegisterBenchmark(("W7_read/" + std::to_string(customers)).c_str(),
                                 [customers, sizes](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) {
                                     read_copy(sizes.read_small);
                                     read_copy(sizes.read_large);
                                     read_consentry(s, customers, AuditMode::batched);
                                   });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
  }
  for (std::size_t customers : {sizes.read_small, sizes.read_large}) {
    benchmark::RegisterBenchmark(("W7_read/" + std::to_string(customers) + "/baseline").c_str(),
                                 [customers](benchmark::State& st) {
                                   guarded(st,
                                           [&](benchmark::State& s) { read_baseline(s, customers, false); });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
  }
}

}  // namespace consentry::bench
