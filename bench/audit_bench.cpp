// audit_bench.cpp: A1, `log verify` throughput beside its physical limit: the BLAKE2b chain
// alone, over the same encoded entries already in memory (goal: >= 0.5x).
//
//   A1_verify/<entries>/consentry   Vault::verify_audit on a vault of that many writes (SQLite scan,
//                                   decode, chain hash, checkpoint signatures)
//   A1_verify/<entries>/baseline    crypto_generichash over previous || entry for every entry
#include <sodium.h>

#include <algorithm>
#include <array>
#include <stdexcept>

#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

// AuditBytes are the encoded entries of the audit vault's log, read once through the Store API.
struct AuditBytes {
  std::vector<bytes> encoded;
  std::size_t total = 0;
};

const AuditBytes& audit_bytes(const std::filesystem::path& file) {
  static AuditBytes cached = [&] {
    AuditBytes out;
    auto store = open_sqlite_store(file, StoreMode::open);
    if (!store) throw std::runtime_error(store.err().message);
    auto scanned = (*store)->scan_audit(1, [&](const StoredAuditEntry& e) {
      out.encoded.push_back(e.encoded);
      out.total += e.encoded.size() + kAuditHashBytes;
      return true;
    });
    if (!scanned) throw std::runtime_error(scanned.err().message);
    return out;
  }();
  return cached;
}

// audit_vault is a vault whose log holds one value_written entry per customer (the cached read
// and scan vaults are built without a log), built once under data_dir().
std::filesystem::path audit_vault(std::size_t customers) {
  const auto file =
      data_dir() / ("audit-" + std::string(kDataFormat) + "-" + std::to_string(customers) + ".vault");
  if (std::filesystem::exists(file)) return file;
  const std::filesystem::path building = file.string() + ".building";
  remove_db(building);
  {
    auto v = Vault::create(building, bench_policy(), kPassphrase, bench_options(AuditMode::batched));
    if (!v) throw std::runtime_error(v.err().message);
    constexpr std::size_t kBatch = 1000;
    const timestamp at = consentry::now();
    for (std::size_t first = 0; first < customers; first += kBatch) {
      auto w = v->write(make_records(first, std::min(customers, first + kBatch), at));
      if (!w) throw std::runtime_error(w.err().message);
    }
  }  // closing signs the checkpoint of the head
  std::filesystem::rename(building, file);
  return file;
}

void verify_consentry(benchmark::State& state, std::size_t customers) {
  const auto file = audit_vault(customers);
  warm_file(file);
  Vault vault = open_bench_vault(file, AuditMode::off);
  const AuditBytes& data = audit_bytes(file);
  for (auto _ : state) {
    auto report = vault.verify_audit();
    if (!report || !report->ok) throw std::runtime_error("the bench vault's audit log does not verify");
    benchmark::DoNotOptimize(report->entries);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.total));
  state.counters["entries"] = static_cast<double>(data.encoded.size());
}

void verify_baseline(benchmark::State& state, std::size_t customers) {
  const AuditBytes& data = audit_bytes(audit_vault(customers));
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, kAuditHashBytes> previous{}, hash{};
  for (auto _ : state) {
    previous.fill(0);
    for (const bytes& e : data.encoded) {
      crypto_generichash_state h;
      crypto_generichash_init(&h, nullptr, 0, hash.size());
      crypto_generichash_update(&h, previous.data(), previous.size());
      crypto_generichash_update(&h, e.data(), e.size());
      crypto_generichash_final(&h, hash.data(), hash.size());
      previous = hash;
    }
    benchmark::DoNotOptimize(previous);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.total));
  state.counters["entries"] = static_cast<double>(data.encoded.size());
}

}  // namespace

void register_audit_benchmarks(const Sizes& sizes) {
  const std::size_t n = sizes.scan_customers;
  const std::string name = "A1_verify/" + std::to_string(n);
  benchmark::RegisterBenchmark(
      (name + "/consentry").c_str(),
      [n](benchmark::State& st) { guarded(st, [n](benchmark::State& s) { verify_consentry(s, n); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (name + "/baseline").c_str(),
      [n](benchmark::State& st) { guarded(st, [n](benchmark::State& s) { verify_baseline(s, n); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
