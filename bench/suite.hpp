// suite.hpp: the areas of the main benchmark executable. Each area registers its workloads and
// their baselines; names are "W<n>_<workload>/<size or variant>/<side>", which bench/report.py
// pairs into ratios.
#pragma once

#include <benchmark/benchmark.h>

#include <exception>
#include <utility>

#include "bench_data.hpp"

namespace consentry::bench {

void register_aead_benchmarks(const Sizes& sizes);       // W1
void register_decision_benchmarks(const Sizes& sizes);   // W2
void register_read_benchmarks(const Sizes& sizes);       // W3, W7
void register_import_benchmarks(const Sizes& sizes);     // W4
void register_scan_benchmarks(const Sizes& sizes);       // W5
void register_release_benchmarks(const Sizes& sizes);    // B3R: B3's read beside its floor
void register_erase_benchmarks(const Sizes& sizes);      // W6
void register_audit_benchmarks(const Sizes& sizes);      // A1: log verify
void register_export_benchmarks(const Sizes& sizes);     // R1: the customer's export
void register_ff1_benchmarks(const Sizes& sizes);        // F1: an FF1 token
void register_pseudonym_benchmarks(const Sizes& sizes);  // P1: pseudonyms
void register_anonymise_benchmarks(const Sizes& sizes);  // K1: k-anonymity on Adult
void register_dp_benchmarks(const Sizes& sizes);         // DP1: a private sum
void register_lookup_benchmarks(const Sizes& sizes);     // W9: find a customer by email
#if defined(CONSENTRY_BENCH_C_API)
void register_bindings_benchmarks(const Sizes& sizes);  // B1: W3's read through the C API
/// release_bindings_vaults closes the vault B1 keeps open between runs.
void release_bindings_vaults();
#endif

#if defined(CONSENTRY_BENCH_POSTGRESQL)
void register_postgres_benchmarks(const Sizes& sizes);  // PG3-PG5, PGR, PGA: on PostgreSQL
/// release_postgres_vaults closes the vault and connection the PostgreSQL reads keep open.
void release_postgres_vaults();
#endif

/// release_read_vaults closes the vaults the read workloads keep open between runs.
void release_read_vaults();
/// release_lookup_vaults closes the vault and file W9 keeps open between runs.
void release_lookup_vaults();

/// guarded runs a benchmark body and turns an exception into a skipped benchmark with its
/// message, so that one failing workload does not stop the rest of the suite.
template <class Body>
void guarded(benchmark::State& state, Body&& body) {
  try {
    std::forward<Body>(body)(state);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
  }
}

}  // namespace consentry::bench
