// main.cpp: consentry_bench, workloads W1-W7 and W9, the anonymisation workloads (F1, P1, K1, DP1) and,
// with the C API built, B1 (W3 through consentry.h), and with the PostgreSQL store built, PG3-PG5,
// PGR, PGT and PGA (postgres_bench.cpp), each beside its baseline where it has one
// (W8 is consentry_bench_sqlcipher; B1's Python side is bench/bindings_read.py). Google Benchmark flags apply
// (--benchmark_filter, --benchmark_out,
// ...); CONSENTRY_BENCH_SCALE=tiny shrinks every dataset and CONSENTRY_BENCH_DATA says where
// built datasets are cached (default ./bench-data).
#include "bench_vaults.hpp"
#include "suite.hpp"

int main(int argc, char** argv) {
  using namespace consentry::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const Sizes s = sizes(scale());
  benchmark::AddCustomContext("consentry_bench_scale", std::string(to_string(scale())));
  benchmark::AddCustomContext("consentry_bench_data", data_dir().string());
  register_aead_benchmarks(s);
  register_decision_benchmarks(s);
  register_read_benchmarks(s);
  register_lookup_benchmarks(s);
#if defined(CONSENTRY_BENCH_C_API)
  register_bindings_benchmarks(s);
#endif
  register_import_benchmarks(s);
  register_scan_benchmarks(s);
  register_release_benchmarks(s);
  register_erase_benchmarks(s);
  register_audit_benchmarks(s);
  register_export_benchmarks(s);
  register_ff1_benchmarks(s);
  register_pseudonym_benchmarks(s);
  register_anonymise_benchmarks(s);
  register_dp_benchmarks(s);
#if defined(CONSENTRY_BENCH_POSTGRESQL)
  register_postgres_benchmarks(s);
#endif
  benchmark::RunSpecifiedBenchmarks();
  release_read_vaults();
  release_lookup_vaults();
#if defined(CONSENTRY_BENCH_C_API)
  release_bindings_vaults();
#endif
#if defined(CONSENTRY_BENCH_POSTGRESQL)
  release_postgres_vaults();
#endif
  remove_working_copies();
  benchmark::Shutdown();
  return 0;
}
