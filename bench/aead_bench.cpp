// aead_bench.cpp: W1, sealing and opening one field value of 16, 64, 256 and 1024 bytes.
//
//   W1_seal/<n>/consentry   seal_field(): associated data built, random nonce, new ciphertext buffer
//   W1_seal/<n>/aead        aead::seal() with the associated data built once (where the time goes)
//   W1_seal/<n>/baseline    randombytes_buf + crypto_aead_xchacha20poly1305_ietf_encrypt into a
//                           reused buffer, associated data built once
//   W1_open/<n>/...         the same for open_field(), aead::open() and ..._decrypt_detached
#include <sodium.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "../src/crypto/aead.hpp"
#include "../src/crypto/keyring.hpp"
#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::string_view kCustomer = "C-0000042";
constexpr std::string_view kField = "email";

std::string plaintext(std::size_t n) {
  std::string s(n, 'x');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

std::vector<std::uint8_t> ad_bytes() {
  std::string ad;
  field_ad(kCustomer, kField, ad);
  return {ad.begin(), ad.end()};
}

void seal_consentry(benchmark::State& state, std::size_t n) {
  const SecretBytes dek = Keyring::new_data_key();
  const std::string value = plaintext(n);
  for (auto _ : state) {
    auto sealed = seal_field(dek, kCustomer, kField, value);
    if (!sealed) throw std::runtime_error(sealed.err().message);
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void seal_aead(benchmark::State& state, std::size_t n) {
  const SecretBytes dek = Keyring::new_data_key();
  const std::string value = plaintext(n);
  const auto ad = ad_bytes();
  for (auto _ : state) {
    auto sealed = aead::seal(dek, as_bytes(value), ad);
    if (!sealed) throw std::runtime_error(sealed.err().message);
    benchmark::DoNotOptimize(sealed->data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void seal_baseline(benchmark::State& state, std::size_t n) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(key);
  const std::string value = plaintext(n);
  const auto ad = ad_bytes();
  std::vector<std::uint8_t> out(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + n +
                                crypto_aead_xchacha20poly1305_ietf_ABYTES);
  for (auto _ : state) {
    randombytes_buf(out.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                               nullptr, reinterpret_cast<const std::uint8_t*>(value.data()),
                                               n, ad.data(), ad.size(), nullptr, out.data(), key);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  sodium_memzero(key, sizeof key);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void open_consentry(benchmark::State& state, std::size_t n) {
  const SecretBytes dek = Keyring::new_data_key();
  auto sealed = seal_field(dek, kCustomer, kField, plaintext(n));
  if (!sealed) throw std::runtime_error(sealed.err().message);
  for (auto _ : state) {
    auto plain = open_field(dek, kCustomer, kField, *sealed);
    if (!plain) throw std::runtime_error(plain.err().message);
    benchmark::DoNotOptimize(plain->reveal().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void open_aead(benchmark::State& state, std::size_t n) {
  const SecretBytes dek = Keyring::new_data_key();
  const auto ad = ad_bytes();
  auto sealed = aead::seal(dek, as_bytes(plaintext(n)), ad);
  if (!sealed) throw std::runtime_error(sealed.err().message);
  for (auto _ : state) {
    auto plain = aead::open(dek, *sealed, ad);
    if (!plain) throw std::runtime_error(plain.err().message);
    benchmark::DoNotOptimize(plain->reveal().data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

void open_baseline(benchmark::State& state, std::size_t n) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  unsigned char key[crypto_aead_xchacha20poly1305_ietf_KEYBYTES];
  crypto_aead_xchacha20poly1305_ietf_keygen(key);
  const std::string value = plaintext(n);
  const auto ad = ad_bytes();
  std::vector<std::uint8_t> sealed(kNonce + n + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  randombytes_buf(sealed.data(), kNonce);
  crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + kNonce, nullptr,
                                             reinterpret_cast<const std::uint8_t*>(value.data()), n,
                                             ad.data(), ad.size(), nullptr, sealed.data(), key);
  std::vector<std::uint8_t> plain(n);
  for (auto _ : state) {
    if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(plain.data(), nullptr, sealed.data() + kNonce, n,
                                                            sealed.data() + kNonce + n, ad.data(), ad.size(),
                                                            sealed.data(), key) != 0)
      throw std::runtime_error("baseline open failed");
    benchmark::DoNotOptimize(plain.data());
    benchmark::ClobberMemory();
  }
  sodium_memzero(key, sizeof key);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

}  // namespace

void register_aead_benchmarks(const Sizes&) {
  using Fn = void (*)(benchmark::State&, std::size_t);
  struct Entry {
    const char* op;
    const char* side;
    Fn fn;
  };
  constexpr Entry kEntries[] = {
      {"seal", "consentry", seal_consentry}, {"seal", "aead", seal_aead}, {"seal", "baseline", seal_baseline},
      {"open", "consentry", open_consentry}, {"open", "aead", open_aead}, {"open", "baseline", open_baseline},
  };
  for (const char* op : {"seal", "open"}) {
    for (std::size_t n : {16, 64, 256, 1024}) {
      for (const Entry& e : kEntries) {
        if (std::string_view(e.op) != op) continue;
        const std::string name = "W1_" + std::string(op) + "/" + std::to_string(n) + "/" + e.side;
        benchmark::RegisterBenchmark(name.c_str(), [fn = e.fn, n](benchmark::State& st) {
          guarded(st, [&](benchmark::State& s) { fn(s, n); });
        })->UseRealTime();
      }
    }
  }
}

}  // namespace consentry::bench
