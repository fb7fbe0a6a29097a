// anonymise_bench.cpp: K1, k-anonymity on Adult (30,162 rows), 8 quasi-identifiers (every column
// but salary-class), k = 5, no suppression: ARX's Flash takes about 28 ms for this on a
// quad-core 3.1 GHz Core i5.
//
//   K1_kanonymity/adult-8qi-k5/consentry  anonymise(): encoding, the optimal lattice search and
//                                         the release (the Dataset and hierarchies already read)
//   K1_kanonymity/adult-8qi-k5/baseline   one pass over the same rows, already encoded as integer
//                                         codes, grouping them by their 8 codes in a hash table:
//                                         the lower bound of checking a single lattice node
//
// The data: $CONSENTRY_BENCH_ADULT (the folder of adult.csv and its hierarchies), else
// tests/data/adult beside this source file.
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "consentry/anonymise/k_anonymity.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

const std::vector<std::string> kQuasi = {
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"};

std::filesystem::path adult_dir() {
  if (const char* d = std::getenv("CONSENTRY_BENCH_ADULT"); d && *d) return d;
  return std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "data" / "adult";
}

/// Adult is the table and its hierarchies, read once.
struct Adult {
  Dataset data;
  Hierarchies hierarchies;
};

const Adult& adult() {
  static const Adult a = [] {
    Adult out;
    const auto dir = adult_dir();
    auto d = read_dataset(dir / "adult.csv", ';');
    if (!d) throw std::runtime_error("Adult not found (set CONSENTRY_BENCH_ADULT): " + d.err().message);
    out.data = std::move(d).value();
    auto h = read_hierarchies(dir, "adult", kQuasi, ';');
    if (!h || h->size() != kQuasi.size())
      throw std::runtime_error("Adult hierarchies not found in " + dir.string());
    out.hierarchies = std::move(h).value();
    return out;
  }();
  return a;
}

void k1_consentry(benchmark::State& state) {
  const Adult& a = adult();
  AnonymityConfig config;
  config.quasi_identifiers = kQuasi;
  config.k = 5;
  AnonymityReport last;
  for (auto _ : state) {
    auto r = anonymise(a.data, a.hierarchies, config);
    if (!r) throw std::runtime_error(r.err().message);
    last = r->report;
    benchmark::DoNotOptimize(r->data.rows.data());
  }
  state.counters["search_ms"] = static_cast<double>(last.search_time.count()) / 1e6;
  state.counters["checked"] = static_cast<double>(last.nodes_checked);
  state.counters["nodes"] = static_cast<double>(last.nodes);
  state.counters["classes"] = static_cast<double>(last.classes);
  state.counters["dm"] = static_cast<double>(last.loss.discernibility);
  state.counters["ncp"] = last.loss.ncp;
  state.counters["c_avg"] = last.loss.average_class_size;
}

void k1_baseline(benchmark::State& state) {
  const Adult& a = adult();
  // Encode once, outside the timing: codes per column, column-major.
  std::vector<std::vector<std::uint32_t>> codes(kQuasi.size());
  std::vector<std::uint64_t> radix(kQuasi.size());
  for (std::size_t c = 0; c < kQuasi.size(); ++c) {
    const std::size_t col = *a.data.column_index(kQuasi[c]);
    std::unordered_map<std::string_view, std::uint32_t> dict;
    for (const auto& row : a.data.rows) {
      auto [it, added] = dict.emplace(row[col], static_cast<std::uint32_t>(dict.size()));
      codes[c].push_back(it->second);
    }
    radix[c] = dict.size();
  }
  const std::size_t n = a.data.rows.size();
  std::size_t cap = 16;
  while (cap < 2 * n) cap <<= 1;
  const unsigned shift = 64 - static_cast<unsigned>(std::countr_zero(cap));
  std::vector<std::uint64_t> keys(cap);
  std::vector<std::uint32_t> counts(cap);
  std::vector<char> used(cap);
  std::vector<std::uint64_t> row_key(n);
  std::size_t groups = 0;
  for (auto _ : state) {
    std::fill(used.begin(), used.end(), 0);
    std::fill(row_key.begin(), row_key.end(), 0);
    for (std::size_t c = 0; c < kQuasi.size(); ++c) {
      const std::uint32_t* code = codes[c].data();
      for (std::size_t r = 0; r < n; ++r) row_key[r] = row_key[r] * radix[c] + code[r];
    }
    groups = 0;
    for (std::size_t r = 0; r < n; ++r) {
      std::size_t at = static_cast<std::size_t>((row_key[r] * 0x9E3779B97F4A7C15ULL) >> shift);
      while (used[at] && keys[at] != row_key[r]) at = (at + 1) & (cap - 1);
      if (!used[at]) {
        used[at] = 1;
        keys[at] = row_key[r];
        counts[at] = 0;
        ++groups;
      }
      ++counts[at];
    }
    benchmark::DoNotOptimize(counts.data());
    benchmark::ClobberMemory();
  }
  state.counters["groups"] = static_cast<double>(groups);
}

}  // namespace

void register_anonymise_benchmarks(const Sizes&) {
  benchmark::RegisterBenchmark("K1_kanonymity/adult-8qi-k5/consentry", [](benchmark::State& s) {
    guarded(s, k1_consentry);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("K1_kanonymity/adult-8qi-k5/baseline", [](benchmark::State& s) {
    guarded(s, k1_baseline);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
