// seeded_random.hpp: a deterministic RandomSource for tests, so that noisy results repeat.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>

#include "consentry/anonymise/private_aggregate.hpp"

namespace consentry::test {

/// SeededRandom is a RandomSource driven by libsodium's randombytes_buf_deterministic: block i of
/// 4 KiB is the ChaCha20 stream under the 32-byte seed with the block counter i XORed into its
/// last 8 bytes, so one seed always gives the same byte stream.
class SeededRandom final : public RandomSource {
 public:
  /// SeededRandom(seed) uses `seed` as the 32-byte seed.
  explicit SeededRandom(const std::array<std::uint8_t, 32>& seed) : seed_(seed) {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  }
  /// SeededRandom(n) uses a seed whose first 8 bytes are `n` (little-endian) and the rest zero.
  explicit SeededRandom(std::uint64_t n) : SeededRandom(seed_of(n)) {}

  void fill(std::span<std::uint8_t> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      if (pos_ == block_.size()) refill();
      const std::size_t take = std::min(out.size() - done, block_.size() - pos_);
      std::memcpy(out.data() + done, block_.data() + pos_, take);
      pos_ += take;
      done += take;
    }
    drawn_ += out.size();
  }

  /// bytes_drawn is how many bytes fill() has handed out.
  std::uint64_t bytes_drawn() const { return drawn_; }

 private:
  static std::array<std::uint8_t, 32> seed_of(std::uint64_t n) {
    std::array<std::uint8_t, 32> s{};
    for (std::size_t i = 0; i < 8; ++i) s[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return s;
  }

  void refill() {
    std::array<std::uint8_t, 32> block_seed = seed_;
    for (std::size_t i = 0; i < 8; ++i) block_seed[24 + i] ^= static_cast<std::uint8_t>(counter_ >> (8 * i));
    ++counter_;
    randombytes_buf_deterministic(block_.data(), block_.size(), block_seed.data());
    pos_ = 0;
  }

  std::array<std::uint8_t, 32> seed_;
  std::array<std::uint8_t, 4096> block_{};
  std::size_t pos_ = 4096;
  std::uint64_t counter_ = 0;
  std::uint64_t drawn_ = 0;
};

}  // namespace consentry::test
