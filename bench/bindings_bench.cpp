// bindings_bench.cpp: B1, W3's read through the C API. The same consented read of three fields
// (email, first_name, city) of one customer as W3 with a batched audit — open a view as
// email-campaigns for marketing.email, read the three fields in one call — made through
// consentry.h and libconsentry_c.so, on its own working copy of the same cached vault, warmed and
// visited in the same order.
//
//   B1_read/<n>/c     consentry_accessor_view + consentry_view_read + consentry_read_field,
//                     freeing what they return, as a C caller would
//
// bench/report.py sets it beside W3_read/<n>/audit:batched from the same run (goal: C within 1.1×
// of C++); bench/bindings_read.py measures the same read from Python.
#include <consentry.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>

#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kWarmReads = 1000;

// CVault owns a C vault handle and its accessor; the C API frees both on close.
struct CVault {
  consentry_vault* vault = nullptr;
  consentry_accessor* accessor = nullptr;
  CVault() = default;
  CVault(const CVault&) = delete;
  CVault& operator=(const CVault&) = delete;
  ~CVault() {
    consentry_free(accessor);
    consentry_vault_close(vault, nullptr);
  }
};

[[noreturn]] void fail(const char* what, consentry_error* err) {
  std::string message = std::string(what) + ": " + (err ? consentry_error_message(err) : "failed");
  consentry_free(err);
  throw std::runtime_error(message);
}

void read_three_c(consentry_accessor* accessor, const std::string& customer) {
  static const std::array<const char*, 3> fields = {kReadFields[0].data(), kReadFields[1].data(),
                                                    kReadFields[2].data()};
  const std::string purpose(kReadPurpose);
  consentry_error* err = nullptr;
  consentry_view* view = nullptr;
  if (consentry_accessor_view(accessor, customer.c_str(), purpose.c_str(), &view, &err) != CONSENTRY_OK)
    fail("view", err);
  consentry_read* read = nullptr;
  if (consentry_view_read(view, fields.data(), fields.size(), &read, &err) != CONSENTRY_OK) {
    consentry_free(view);
    fail("read", err);
  }
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const char* value = nullptr;
    if (consentry_read_field(read, i, &value, nullptr, &err) != CONSENTRY_OK) {
      consentry_free(read);
      consentry_free(view);
      fail("read field", err);
    }
    benchmark::DoNotOptimize(value);
  }
  consentry_free(read);
  consentry_free(view);
}

std::unique_ptr<CVault>& c_vault_slot() {
  static std::unique_ptr<CVault> slot;
  return slot;
}

// The vault stays open across the runs Google Benchmark makes of the workload, as W3's does.
CVault& warm_c_vault(std::size_t customers) {
  std::unique_ptr<CVault>& held = c_vault_slot();
  if (held) return *held;
  held = std::make_unique<CVault>();
  CVault& slot = *held;
  const auto pristine = cached_vault("read-" + std::to_string(customers), customers, kReadPlan);
  const auto file = working_copy(pristine, "c");
  warm_file(file);
  consentry_vault_options options;
  consentry_vault_options_init(&options);
  options.audit = CONSENTRY_AUDIT_BATCHED;
  consentry_error* err = nullptr;
  const std::string passphrase(kPassphrase);
  if (consentry_vault_open(file.c_str(), passphrase.c_str(), &options, &slot.vault, &err) != CONSENTRY_OK)
    fail("open", err);
  const std::string accessor(kReadAccessor);
  if (consentry_vault_accessor(slot.vault, accessor.c_str(), &slot.accessor, &err) != CONSENTRY_OK)
    fail("accessor", err);
  ReadOrder order(customers);
  const std::size_t warm = std::min(kWarmReads, order.ids().size());
  for (std::size_t i = 0; i < warm; ++i) read_three_c(slot.accessor, order.ids()[i]);
  return slot;
}

void read_c(benchmark::State& state, std::size_t customers) {
  CVault& vault = warm_c_vault(customers);
  ReadOrder order(customers);
  for (auto _ : state) read_three_c(vault.accessor, order.ids()[order.next()]);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void release_bindings_vaults() {
  c_vault_slot().reset();
}

void register_bindings_benchmarks(const Sizes& sizes) {
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  const std::size_t small = sizes.read_small;
  benchmark::RegisterBenchmark(
      ("B1_read/" + std::to_string(small) + "/c").c_str(),
      [small](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { read_c(s, small); }); })
      ->UseRealTime()
      ->Repetitions(repetitions);
}

}  // namespace consentry::bench
