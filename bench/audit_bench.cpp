// audit_bench.cpp: A1, `log verify` throughput beside its physical limit (goal: >= 0.5x).
//
//   A1_verify/<entries>/consentry     Vault::verify_audit on a vault of that many writes, open
//                                     across iterations: the SQLite scan of the log, the check of
//                                     every entry's encoding and lookup columns, the chain hash,
//                                     and the checkpoint signatures.
//   A1_verify/<entries>/baseline      the BLAKE2b chain alone: crypto_generichash over
//                                     previous || entry for every entry, over the same encoded
//                                     entries, read once from the same vault file and held in
//                                     memory. Before timing, the chain it computes is checked to
//                                     end in the log's stored head, so it hashes exactly the bytes
//                                     verification hashes. This is the ratio's baseline.
//   A1_verify/<entries>/sqlite_chain  diagnostic, not in the ratio: the hand-written verifier
//                                     that reads the entries from the same file with plain SQLite
//                                     (seq, entry and hash in seq order, default pragmas, the
//                                     connection kept open) and checks each seq and stored hash
//                                     against the chain, and nothing else. Its distance to the
//                                     baseline is the cost of reading the log out of SQLite.
//
// Every side counts the same bytes (each entry's encoding and its 32-byte hash) per iteration.
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>

#include "bench_vaults.hpp"
#include "consentry/extension/store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

using ChainHash = std::array<unsigned char, kAuditHashBytes>;

// AuditBytes are the encoded entries of the audit vault's log, read once through the Store API,
// and the hash of the last one (the head the chain must end in).
struct AuditBytes {
  std::vector<bytes> encoded;
  ChainHash head{};
  std::size_t total = 0;
};

const AuditBytes& audit_bytes(const std::filesystem::path& file) {
  static AuditBytes cached = [&] {
    AuditBytes out;
    auto store = open_sqlite_store(file, StoreMode::open);
    if (!store) throw std::runtime_error(store.err().message);
    auto scanned = (*store)->scan_audit(1, [&](const StoredAuditEntry& e) {
      if (e.hash.size() != kAuditHashBytes)
        throw std::runtime_error("the bench vault's log has a malformed hash");
      out.encoded.push_back(e.encoded);
      std::copy(e.hash.begin(), e.hash.end(), out.head.begin());
      out.total += e.encoded.size() + kAuditHashBytes;
      return true;
    });
    if (!scanned) throw std::runtime_error(scanned.err().message);
    return out;
  }();
  return cached;
}

// chain_step hashes previous || entry into `out` with libsodium's streamed BLAKE2b-256, as the
// library's verification does; the baseline and the hand-written verifier share it.
void chain_step(const ChainHash& previous, const unsigned char* entry, std::size_t size, ChainHash& out) {
  crypto_generichash_state h;
  crypto_generichash_init(&h, nullptr, 0, out.size());
  crypto_generichash_update(&h, previous.data(), previous.size());
  crypto_generichash_update(&h, entry, size);
  crypto_generichash_final(&h, out.data(), out.size());
}

// in_memory_chain is the baseline's work: the chain over every entry, from the zero hash.
ChainHash in_memory_chain(const AuditBytes& data) {
  ChainHash previous{}, hash{};
  for (const bytes& e : data.encoded) {
    chain_step(previous, e.data(), e.size(), hash);
    previous = hash;
  }
  return previous;
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
  if (in_memory_chain(data) != data.head)
    throw std::runtime_error("the baseline's chain does not end in the log's head");
  for (auto _ : state) {
    ChainHash head = in_memory_chain(data);
    benchmark::DoNotOptimize(head);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.total));
  state.counters["entries"] = static_cast<double>(data.encoded.size());
}

// SqliteChain is the hand-written verifier's connection to the vault file and its query.
class SqliteChain {
 public:
  explicit SqliteChain(const std::filesystem::path& file) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "SELECT seq, entry, hash FROM audit WHERE seq >= ?1 ORDER BY seq", -1, &scan_,
                           nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("sqlite_chain: ") + sqlite3_errmsg(db_));
  }
  SqliteChain(const SqliteChain&) = delete;
  SqliteChain& operator=(const SqliteChain&) = delete;
  ~SqliteChain() {
    sqlite3_finalize(scan_);
    sqlite3_close(db_);
  }

  // verify walks the log from seq 1, checking seqs and every stored hash against the chain;
  // returns the number of entries that matched before the first that did not.
  std::int64_t verify() {
    sqlite3_bind_int64(scan_, 1, 1);
    ChainHash previous{}, hash{};
    std::int64_t next = 1;
    while (sqlite3_step(scan_) == SQLITE_ROW) {
      const auto* entry = static_cast<const unsigned char*>(sqlite3_column_blob(scan_, 1));
      const auto entry_size = static_cast<std::size_t>(sqlite3_column_bytes(scan_, 1));
      const auto* stored = static_cast<const unsigned char*>(sqlite3_column_blob(scan_, 2));
      const auto stored_size = static_cast<std::size_t>(sqlite3_column_bytes(scan_, 2));
      if (sqlite3_column_int64(scan_, 0) != next) break;
      chain_step(previous, entry, entry_size, hash);
      if (stored_size != hash.size() || std::memcmp(stored, hash.data(), hash.size()) != 0) break;
      previous = hash;
      ++next;
    }
    sqlite3_reset(scan_);
    return next - 1;
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
};

void verify_sqlite_chain(benchmark::State& state, std::size_t customers) {
  const auto file = audit_vault(customers);
  warm_file(file);
  const AuditBytes& data = audit_bytes(file);
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  SqliteChain chain(file);
  const auto entries = static_cast<std::int64_t>(data.encoded.size());
  for (auto _ : state) {
    if (chain.verify() != entries) throw std::runtime_error("the bench vault's chain does not verify");
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
  benchmark::RegisterBenchmark(
      (name + "/sqlite_chain").c_str(),
      [n](benchmark::State& st) { guarded(st, [n](benchmark::State& s) { verify_sqlite_chain(s, n); }); })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
