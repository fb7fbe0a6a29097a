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
//   K2_models/adult/<case>                every metric (k = 5, without and with 2 % suppression)
//                                         and every privacy model on the same table: time of the
//                                         whole call, with the nodes checked and each metric of
//                                         the release as counters (README: Anonymisation on Adult)
//
// The data: $CONSENTRY_BENCH_ADULT (the folder of adult.csv and its hierarchies), else
// tests/data/adult beside this source file.
#include <bit>
#include <cstdlib>
#include <filesystem>
#include <functional>
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
    std::vector<std::string> with_sensitive = kQuasi;
    with_sensitive.push_back("salary-class");
    auto h = read_hierarchies(dir, "adult", with_sensitive, ';');
    if (!h || h->size() != with_sensitive.size())
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

/// ModelCase is one K2 configuration on Adult.
struct ModelCase {
  std::string name;
  std::function<void(AnonymityConfig&)> set;
};

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> out;
  for (Metric m : {Metric::discernibility, Metric::loss, Metric::ncp, Metric::aecs, Metric::entropy}) {
    out.push_back({"metric-" + std::string(to_string(m)), [m](AnonymityConfig& c) { c.metric = m; }});
    out.push_back({"metric-" + std::string(to_string(m)) + "-supp2", [m](AnonymityConfig& c) {
                     c.metric = m;
                     c.max_suppression = 0.02;
                   }});
  }
  auto sensitive = [](AnonymityConfig& c) { c.sensitive = "salary-class"; };
  out.push_back({"recursive-c4-l2", [sensitive](AnonymityConfig& c) {
                   sensitive(c);
                   c.l = 2;
                   c.diversity = DiversityMeasure::recursive;
                   c.c = 4;
                 }});
  out.push_back({"recursive-c4-l2-supp2", [sensitive](AnonymityConfig& c) {
                   sensitive(c);
                   c.l = 2;
                   c.diversity = DiversityMeasure::recursive;
                   c.c = 4;
                   c.max_suppression = 0.02;
                 }});
  out.push_back({"t0.2-equal", [sensitive](AnonymityConfig& c) {
                   sensitive(c);
                   c.t = 0.2;
                 }});
  out.push_back({"t0.2-hierarchical-supp2", [sensitive](AnonymityConfig& c) {
                   sensitive(c);
                   c.t = 0.2;
                   c.closeness = ClosenessDistance::hierarchical;
                   c.max_suppression = 0.02;
                 }});
  out.push_back({"highest-risk-0.1", [](AnonymityConfig& c) { c.max_highest_risk = 0.1; }});
  out.push_back({"average-risk-0.05-supp2", [](AnonymityConfig& c) {
                   c.max_average_risk = 0.05;
                   c.max_suppression = 0.02;
                 }});
  out.push_back({"local-recoding", [](AnonymityConfig& c) { c.local_recoding = true; }});
  out.push_back({"local-recoding-loss", [](AnonymityConfig& c) {
                   c.local_recoding = true;
                   c.metric = Metric::loss;
                 }});
  return out;
}

/// k2_delta is δ-presence: every second row of Adult as the sample of the whole table.
void k2_delta(benchmark::State& state) {
  const Adult& a = adult();
  Dataset sample;
  sample.source = "adult-half";
  sample.columns = a.data.columns;
  for (std::size_t r = 0; r < a.data.rows.size(); r += 2) sample.rows.push_back(a.data.rows[r]);
  AnonymityConfig config;
  config.quasi_identifiers = kQuasi;
  config.k = 5;
  config.population = &a.data;
  config.delta_min = 0.3;
  config.delta_max = 0.7;
  config.max_suppression = 0.05;
  AnonymityReport last;
  for (auto _ : state) {
    auto r = anonymise(sample, a.hierarchies, config);
    if (!r) throw std::runtime_error(r.err().message);
    last = r->report;
  }
  state.counters["checked"] = static_cast<double>(last.nodes_checked);
  state.counters["suppressed"] = static_cast<double>(last.suppressed);
  state.counters["ncp"] = last.loss.ncp;
}

void k2_case(benchmark::State& state, const ModelCase& which) {
  const Adult& a = adult();
  AnonymityConfig config;
  config.quasi_identifiers = kQuasi;
  config.k = 5;
  which.set(config);
  AnonymityReport last;
  for (auto _ : state) {
    auto r = anonymise(a.data, a.hierarchies, config);
    if (!r) throw std::runtime_error(r.err().message);
    last = r->report;
  }
  std::string levels;
  for (std::size_t v : last.levels) levels += std::to_string(v);
  state.SetLabel("levels " + levels);
  state.counters["checked"] = static_cast<double>(last.nodes_checked);
  state.counters["suppressed"] = static_cast<double>(last.suppressed);
  state.counters["dm"] = static_cast<double>(last.loss.discernibility);
  state.counters["loss"] = last.loss.loss;
  state.counters["ncp"] = last.loss.ncp;
  state.counters["aecs"] = last.loss.aecs;
  state.counters["entropy"] = last.loss.entropy;
  state.counters["recoded"] = static_cast<double>(last.recoded_cells);
}

}  // namespace

void register_anonymise_benchmarks(const Sizes&) {
  for (const ModelCase& c : model_cases()) {
    benchmark::RegisterBenchmark(
        ("K2_models/adult/" + c.name).c_str(),
        [c](benchmark::State& s) { guarded(s, [&c](benchmark::State& st) { k2_case(st, c); }); })
        ->Unit(benchmark::kMillisecond)
        ->Iterations(3);
  }
  benchmark::RegisterBenchmark("K2_models/adult/delta-presence-0.3-0.7-supp5",
                               [](benchmark::State& s) { guarded(s, k2_delta); })
      ->Unit(benchmark::kMillisecond)
      ->Iterations(3);
  benchmark::RegisterBenchmark("K1_kanonymity/adult-8qi-k5/consentry", [](benchmark::State& s) {
    guarded(s, k1_consentry);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("K1_kanonymity/adult-8qi-k5/baseline", [](benchmark::State& s) {
    guarded(s, k1_baseline);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace consentry::bench
