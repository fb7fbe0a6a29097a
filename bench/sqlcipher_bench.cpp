// sqlcipher_bench.cpp: consentry_bench_sqlcipher, W8: the consented read of W3 done the way a
// user would do it with SQLCipher instead: the same customers and values, stored in clear in an
// SQLCipher-encrypted file, three fields fetched with one prepared SELECT.
//
// SQLCipher exports the same sqlite3_* symbols as libsqlite3, so this executable links neither
// libsqlite3 nor consentry (which links libsqlite3). The comparison with consentry is therefore
// made in two steps, both reported by bench/run.sh:
//
//   W8_read/<n>/sqlcipher    SQLCipher (keyed, values in clear): the workload
//   W8_read/<n>/sqlite_aead  the same SQLCipher library without a key, i.e. its plain SQLite
//                            engine, holding the values sealed with XChaCha20-Poly1305 and read
//                            as W3's baseline reads them (one SELECT, three AEAD opens)
//
// W8_read/sqlite_aead is W3's hand-written baseline run again in this process, on the same data
// and the same read order, so the ratio between the two rows above is a same-process figure;
// run.sh then sets W8_read/sqlcipher against consentry's W3 rows from the main suite's JSON of
// the same run, and shows both W3 baselines side by side so that the step between the two
// processes (and the two SQLite versions) is visible.
#include <benchmark/benchmark.h>
#include <sqlcipher/sqlite3.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench_data.hpp"
#include "hand_store.hpp"

namespace consentry::bench {
namespace {

// The bench database's SQLCipher key (raw, 256 bits): a bench fixture, not a secret.
constexpr std::string_view kCipherKey = "5ce1a7c0ffee5ce1a7c0ffee5ce1a7c0ffee5ce1a7c0ffee5ce1a7c0ffee5ce1";
constexpr std::size_t kWarmReads = 1000;

void read_all(benchmark::State& state, std::size_t customers, Sealing sealing) {
  const bool cipher = sealing == Sealing::clear;
  const std::string name = "w8-" + std::to_string(customers) + (cipher ? ".sqlcipher" : ".sealed");
  const auto file =
      cached_hand_store(name, sealing, cipher ? kCipherKey : std::string_view{}, customers, kReadPlan);
  warm_file(file);
  auto store = HandStore::open(file, sealing, cipher ? kCipherKey : std::string_view{});
  store->load_keys();
  ReadOrder order(customers);
  std::array<std::string, 3> out;
  auto read_one = [&](const std::string& customer) {
    if (store->read(customer, kReadFields, out) != kReadFields.size())
      throw std::runtime_error("read found too few fields");
    benchmark::DoNotOptimize(out.data());
  };
  for (std::size_t i = 0; i < std::min(kWarmReads, order.ids().size()); ++i) read_one(order.ids()[i]);
  for (auto _ : state) read_one(order.ids()[order.next()]);
  state.SetItemsProcessed(state.iterations());
}

std::string cipher_version() {
  sqlite3* db = nullptr;
  std::string version = "unknown";
  if (sqlite3_open(":memory:", &db) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA cipher_version", -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW)
      version = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return version;
}

}  // namespace
}  // namespace consentry::bench

int main(int argc, char** argv) {
  using namespace consentry::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const std::size_t n = sizes(scale()).read_small;
  benchmark::AddCustomContext("consentry_bench_scale", std::string(to_string(scale())));
  benchmark::AddCustomContext("sqlcipher_version", cipher_version());
  benchmark::AddCustomContext("sqlite_version", sqlite3_libversion());
  const std::string prefix = "W8_read/" + std::to_string(n) + "/";
  for (auto [side, sealing] :
       {std::pair{"sqlcipher", Sealing::clear}, std::pair{"sqlite_aead", Sealing::aead}}) {
    benchmark::RegisterBenchmark((prefix + side).c_str(), [n, sealing = sealing](benchmark::State& st) {
      try {
        read_all(st, n, sealing);
      } catch (const std::exception& e) {
        st.SkipWithError(e.what());
      }
    })->UseRealTime();
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
