// ff1_bench.cpp: F1, an FF1 token of 16 decimal digits (the vault's token form for a card-like
// number) beside the AES work FF1 cannot avoid for it.
//
//   F1_token/16/consentry   Ff1::encrypt of 16 decimal digits under an 8-byte tweak (AES-128)
//   F1_token/16/decrypt     Ff1::decrypt of the same token (diagnostic)
//   F1_token/16/baseline    the same count of single-block AES-128 encryptions (EVP, ECB, one
//                           context keyed once), each block depending on the one before, as in
//                           FF1's CBC-MAC chain
//
// For n = 16, radix 10, t = 8: b = 4, d = 8, Q is one block, so FF1 makes 1 + 10 = 11 single-block
// AES calls (P once, then one per round). report.py: ratio = baseline / consentry; the absolute
// goal is <= 1 µs per token.
#include <openssl/evp.h>

#include <array>
#include <bit>
#include <stdexcept>
#include <vector>

#include "consentry/anonymise/ff1.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kDigits = 16;
constexpr std::array<std::uint8_t, 8> kTweak = {'c', 'a', 'r', 'd', 0, 0, 0, 1};

/// aes_blocks is how many single-block AES calls FF1 makes for n decimal digits and a t-byte tweak.
std::size_t aes_blocks(std::size_t n, std::size_t t) {
  const std::size_t v = n - n / 2;
  std::uint64_t p = 1;  // 10^v, for v <= 19
  for (std::size_t i = 0; i < v; ++i) p *= 10;
  const auto bits = static_cast<std::size_t>(std::bit_width(p - 1));  // ceil(v * log2(10))
  const std::size_t b = (bits + 7) / 8;
  const std::size_t d = 4 * ((b + 3) / 4) + 4;
  const std::size_t pad = (16 - (t + b + 1) % 16) % 16;
  const std::size_t prefix_blocks = (t + pad) / 16;
  const std::size_t tail_blocks = ((t + pad) % 16 + 1 + b) / 16;
  const std::size_t extra = (d + 15) / 16 - 1;
  return 1 + prefix_blocks + 10 * (tail_blocks + extra);
}

SecretBytes bench_key() {
  SecretBytes key(16);
  for (std::size_t i = 0; i < key.size(); ++i) key.reveal()[i] = static_cast<std::uint8_t>(0x2B + 7 * i);
  return key;
}

std::vector<std::uint32_t> token_digits() {
  std::vector<std::uint32_t> d(kDigits);
  for (std::size_t i = 0; i < kDigits; ++i) d[i] = static_cast<std::uint32_t>((i * 7 + 4) % 10);
  return d;
}

void token_consentry(benchmark::State& state, bool decrypt) {
  auto ff1 = Ff1::create(bench_key(), 10);
  if (!ff1) throw std::runtime_error(ff1.err().message);
  std::vector<std::uint32_t> input = token_digits();
  if (decrypt) input = ff1->encrypt(input, kTweak).value();
  for (auto _ : state) {
    auto out = decrypt ? ff1->decrypt(input, kTweak) : ff1->encrypt(input, kTweak);
    if (!out) throw std::runtime_error(out.err().message);
    benchmark::DoNotOptimize(out->data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void token_baseline(benchmark::State& state) {
  const std::size_t blocks = aes_blocks(kDigits, kTweak.size());
  const SecretBytes key = bench_key();
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key.reveal().data(), nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    throw std::runtime_error("OpenSSL failed to set up AES-128-ECB");
  }
  std::array<std::uint8_t, 16> block{};
  for (auto _ : state) {
    for (std::size_t i = 0; i < blocks; ++i) {
      block[15] ^= static_cast<std::uint8_t>(i);
      int written = 0;
      if (EVP_EncryptUpdate(ctx, block.data(), &written, block.data(), 16) != 1) {
        EVP_CIPHER_CTX_free(ctx);
        throw std::runtime_error("EVP_EncryptUpdate failed");
      }
    }
    benchmark::DoNotOptimize(block.data());
    benchmark::ClobberMemory();
  }
  EVP_CIPHER_CTX_free(ctx);
  state.counters["aes_blocks"] = static_cast<double>(blocks);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

}  // namespace

void register_ff1_benchmarks(const Sizes&) {
  const std::string base = "F1_token/" + std::to_string(kDigits) + "/";
  benchmark::RegisterBenchmark((base + "consentry").c_str(), [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { token_consentry(s, false); });
  })->UseRealTime();
  benchmark::RegisterBenchmark((base + "decrypt").c_str(), [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { token_consentry(s, true); });
  })->UseRealTime();
  benchmark::RegisterBenchmark((base + "baseline").c_str(), [](benchmark::State& st) {
    guarded(st, [](benchmark::State& s) { token_baseline(s); });
  })->UseRealTime();
}

}  // namespace consentry::bench
