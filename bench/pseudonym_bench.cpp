// pseudonym_bench.cpp: P1, the pseudonym forms beside the keyed hash they are made of.
//
//   P1_pseudonym/blake2b/consentry   apply_form(pseudonym) of a 21-byte email under a 32-byte key
//   P1_pseudonym/blake2b/baseline    crypto_generichash (16 bytes, keyed) and sodium_bin2hex
//   P1_pseudonym/hmac/consentry      apply_form(pseudonym:hmac-sha256) of the same email
//   P1_pseudonym/hmac/baseline       OpenSSL HMAC(EVP_sha256()) and sodium_bin2hex
//
// report.py: ratio = baseline / consentry; the goal for the BLAKE2b pseudonym is >= 0.8.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <string>

#include "consentry/anonymise/transform.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::string_view kValue = "ann.lee@example.co.uk";

SecretBytes bench_key() {
  return SecretBytes::copy_of(std::string(32, 'k'));
}

void pseudonym_consentry(benchmark::State& state, FormKind kind) {
  const SecretBytes key = bench_key();
  const Form form{kind, 0};
  for (auto _ : state) {
    auto out = apply_form(form, FieldType::email, kValue, key);
    if (!out) {
      state.SkipWithError("apply_form failed");
      return;
    }
    benchmark::DoNotOptimize(out->data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void blake2b_baseline(benchmark::State& state) {
  if (sodium_init() < 0) {
    state.SkipWithError("libsodium failed to initialise");
    return;
  }
  const SecretBytes key = bench_key();
  const auto k = key.reveal();
  std::array<unsigned char, kPseudonymBytes> hash{};
  std::array<char, kPseudonymBytes * 2 + 1> hex{};
  for (auto _ : state) {
    crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(kValue.data()),
                       kValue.size(), k.data(), k.size());
    sodium_bin2hex(hex.data(), hex.size(), hash.data(), hash.size());
    std::string out(hex.data(), kPseudonymBytes * 2);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void hmac_baseline(benchmark::State& state) {
  const SecretBytes key = bench_key();
  const auto k = key.reveal();
  std::array<unsigned char, kHmacPseudonymBytes> mac{};
  std::array<char, kHmacPseudonymBytes * 2 + 1> hex{};
  for (auto _ : state) {
    unsigned int length = 0;
    HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
         reinterpret_cast<const unsigned char*>(kValue.data()), kValue.size(), mac.data(), &length);
    sodium_bin2hex(hex.data(), hex.size(), mac.data(), mac.size());
    std::string out(hex.data(), kHmacPseudonymBytes * 2);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

void register_pseudonym_benchmarks(const Sizes&) {
  benchmark::RegisterBenchmark("P1_pseudonym/blake2b/consentry", [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { pseudonym_consentry(s, FormKind::pseudonym); });
  });
  benchmark::RegisterBenchmark("P1_pseudonym/blake2b/baseline",
                               [](benchmark::State& st) { guarded(st, blake2b_baseline); });
  benchmark::RegisterBenchmark("P1_pseudonym/hmac/consentry", [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { pseudonym_consentry(s, FormKind::pseudonym_hmac); });
  });
  benchmark::RegisterBenchmark("P1_pseudonym/hmac/baseline",
                               [](benchmark::State& st) { guarded(st, hmac_baseline); });
}

}  // namespace consentry::bench
