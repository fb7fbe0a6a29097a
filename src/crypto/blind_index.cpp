// blind_index.cpp: keyed, truncated hashes of normalised values for equality search.
#include "crypto/blind_index.hpp"

#include <sodium.h>

#include <array>
#include <cstdlib>

namespace consentry {
namespace {

constexpr std::string_view kDomain = "consentry/v1/blind-index";

void put_part(crypto_generichash_state& state, std::string_view part) {
  const auto n = static_cast<std::uint32_t>(part.size());
  const std::array<unsigned char, 4> length = {
      static_cast<unsigned char>(n >> 24), static_cast<unsigned char>(n >> 16),
      static_cast<unsigned char>(n >> 8), static_cast<unsigned char>(n)};
  crypto_generichash_update(&state, length.data(), length.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
}

}  // namespace

std::string blind_index_label(std::string_view field) {
  return "lookup/" + std::string(field);
}

std::int64_t blind_index(const SecretBytes& key, std::string_view field, std::string_view normalised,
                         int bits) {
  // A wrong key size or bit count is a bug in the caller, never input: refuse outright.
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX ||
      bits < 1 || bits > 32)
    std::abort();
  std::array<unsigned char, 8> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.reveal().data(), key.size(), digest.size());
  put_part(state, kDomain);
  put_part(state, field);
  put_part(state, normalised);
  crypto_generichash_final(&state, digest.data(), digest.size());
  sodium_memzero(&state, sizeof state);
  std::uint64_t h = 0;
  for (const unsigned char b : digest) h = (h << 8) | b;
  return static_cast<std::int64_t>(h >> (64 - bits));
}

}  // namespace consentry
