// discrete_noise.cpp: exact samplers for Bernoulli(exp(-gamma)), the discrete Laplace and the
// discrete Gaussian (Canonne, Kamath, Steinke 2020, Algorithms 1-3), driven by uniform integers
// from a RandomSource. Integer arithmetic only: no floating point touches the noise.
//
// Overflow: parameters are at most 2^64 - 1 (Laplace) or kMaxNoiseParameter = 2^62 (Gaussian),
// and every intermediate is computed in 128 bits (256 bits for one square) with its bound argued
// where it is computed.
#include <sodium.h>

#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "consentry/anonymise/private_aggregate.hpp"
#include "consentry/secret_bytes.hpp"
#include "io/fork_generation.hpp"

namespace consentry {
namespace {

__extension__ typedef unsigned __int128 u128;

constexpr u128 kU64Max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint64_t kI64Max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

int bit_width128(u128 x) {
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  if (hi != 0) return 64 + static_cast<int>(std::bit_width(hi));
  return static_cast<int>(std::bit_width(static_cast<std::uint64_t>(x)));
}

// A uniform integer in [0, bound), bound >= 1, by rejection of masked draws (acceptance >= 1/2).
u128 uniform_below(RandomSource& rng, u128 bound) {
  if (bound <= kU64Max) return rng.uniform(static_cast<std::uint64_t>(bound));
  const int bits = bit_width128(bound - 1);
  const auto nbytes = static_cast<std::size_t>((bits + 7) / 8);
  const u128 mask = bits == 128 ? ~u128{0} : (u128{1} << bits) - 1;
  std::array<std::uint8_t, 16> buf{};
  for (;;) {
    rng.fill(std::span<std::uint8_t>(buf.data(), nbytes));
    u128 x = 0;
    for (std::size_t i = 0; i < nbytes; ++i) x |= static_cast<u128>(buf[i]) << (8 * i);
    x &= mask;
    if (x < bound) return x;
  }
}

// Bernoulli(num / den) for 0 <= num <= den, den >= 1.
bool bernoulli(RandomSource& rng, u128 num, u128 den) {
  return uniform_below(rng, den) < num;
}

// Bernoulli(exp(-num/den)) for 0 <= num <= den (gamma in [0, 1]): CKS Algorithm 1.
//   K <- 1; loop { A <- Bernoulli(gamma / K); if A = 0 break; K <- K + 1 }; return K odd.
// Bernoulli(num / (den K)) is one uniform draw below den K when that product fits in 128 bits,
// else the product of the independent Bernoulli(num / den) and Bernoulli(1 / K), which has the
// same probability. K passes k with probability gamma^k / k!, so it stays tiny in practice.
bool bernoulli_exp_unit(RandomSource& rng, u128 num, u128 den) {
  std::uint64_t k = 1;
  for (;;) {
    u128 dk = 0;
    bool a = false;
    if (!__builtin_mul_overflow(den, static_cast<u128>(k), &dk))
      a = bernoulli(rng, num, dk);
    else
      a = bernoulli(rng, num, den) && rng.uniform(k) == 0;
    if (!a) break;
    ++k;
  }
  return k % 2 == 1;
}

// Bernoulli(exp(-(whole + rem / den))) for rem < den: CKS Algorithm 1 for gamma > 1, which draws
// Bernoulli(exp(-1)) for each unit of the whole part (stopping at the first failure) and then
// Bernoulli(exp(-rem / den)).
bool bernoulli_exp_parts(RandomSource& rng, std::uint64_t whole, u128 rem, u128 den) {
  for (std::uint64_t i = 0; i < whole; ++i)
    if (!bernoulli_exp_unit(rng, 1, 1)) return false;
  return bernoulli_exp_unit(rng, rem, den);
}

// CKS Algorithm 2: Z with P(Z = z) proportional to exp(-|z| s / t), for t, s >= 1.
std::int64_t discrete_laplace(RandomSource& rng, std::uint64_t t, std::uint64_t s) {
  for (;;) {
    const std::uint64_t u = rng.uniform(t);
    if (!bernoulli_exp_unit(rng, u, t)) continue;
    std::uint64_t v = 0;
    while (bernoulli_exp_unit(rng, 1, 1)) ++v;
    // X = U + t V is geometric with parameter 1 - exp(-1/t); t, V < 2^64, so X < 2^128.
    const u128 x = static_cast<u128>(u) + static_cast<u128>(t) * v;
    const u128 y = x / s;  // geometric with parameter 1 - exp(-s/t)
    const bool negative = rng.uniform(2) == 1;
    if (negative && y == 0) continue;
    // |Z| >= 2^63 cannot be returned. Callers keep t / s <= kMaxLaplaceScale (2^48), where that
    // has probability below exp(-2^15); such a draw restarts the loop, which conditions on the
    // int64 range.
    if (y > kI64Max) continue;
    const auto magnitude = static_cast<std::int64_t>(y);
    return negative ? -magnitude : magnitude;
  }
}

// floor(sqrt(n / d)) = floor(sqrt(floor(n / d))), exactly.
std::uint64_t floor_sqrt_ratio(std::uint64_t n, std::uint64_t d) {
  const std::uint64_t q = n / d;
  auto r = static_cast<std::uint64_t>(std::sqrt(static_cast<double>(q)));
  while (static_cast<u128>(r) * r > q) --r;
  while (static_cast<u128>(r + 1) * (r + 1) <= q) ++r;
  return r;
}

// A 256-bit square, as high and low 128-bit halves, of u < 2^127.
struct U256 {
  u128 hi = 0;
  u128 lo = 0;
};

U256 square(u128 u) {
  const u128 uh = u >> 64;           // < 2^63
  const u128 ul = u & kU64Max;       // < 2^64
  const u128 low = ul * ul;          // < 2^128
  const u128 cross = 2 * (uh * ul);  // uh ul < 2^127, so 2 uh ul < 2^128
  const u128 high = uh * uh;         // < 2^126
  const u128 lo = low + (cross << 64);
  const u128 carry = lo < low ? 1 : 0;
  return U256{high + (cross >> 64) + carry, lo};
}

// Bernoulli(exp(-n / d)) for n < 2^256 given as a square, d in [1, 2^127]: the whole part and
// remainder come from a 64-step long division; a quotient of 2^64 or more returns false.
bool bernoulli_exp_wide(RandomSource& rng, U256 n, u128 d) {
  // n >= d 2^64 means gamma >= 2^64.
  const u128 d_hi = d >> 64;
  const u128 d_lo = d << 64;
  if (n.hi > d_hi || (n.hi == d_hi && n.lo >= d_lo)) return false;
  // floor(n / 2^64) < d <= 2^127; n.hi < 2^63 here, so the shift below keeps every bit.
  u128 r = (n.hi << 64) | (n.lo >> 64);
  std::uint64_t q = 0;
  for (int i = 63; i >= 0; --i) {
    r = (r << 1) | ((n.lo >> i) & 1);  // r < d <= 2^127, so 2r + 1 < 2^128
    q <<= 1;
    if (r >= d) {
      r -= d;
      q |= 1;
    }
  }
  return bernoulli_exp_parts(rng, q, r, d);
}

// CKS Algorithm 3: Z with P(Z = z) proportional to exp(-z^2 / (2 sigma^2)), sigma^2 = n / d,
// 1 <= n, d <= 2^62.
std::int64_t discrete_gaussian(RandomSource& rng, std::uint64_t n, std::uint64_t d) {
  // t = floor(sigma) + 1 <= 2^31 + 1.
  const std::uint64_t t = floor_sqrt_ratio(n, d) + 1;
  // Bounds: d t <= sqrt(n d) + d <= 2^63. D = 2 n d t^2 <= 2 (n^2 + 2 n sqrt(n d) + n d) <= 2^127.
  const u128 dt = static_cast<u128>(d) * t;
  u128 denominator = 0;
  if (__builtin_mul_overflow(static_cast<u128>(n) * d, static_cast<u128>(t) * t, &denominator) ||
      __builtin_mul_overflow(denominator, u128{2}, &denominator) || denominator > (u128{1} << 127))
    throw std::logic_error("discrete Gaussian: parameter bound violated");
  for (;;) {
    const std::int64_t y = discrete_laplace(rng, t, 1);
    // gamma = (|Y| - sigma^2 / t)^2 / (2 sigma^2) = (|Y| d t - n)^2 / (2 n d t^2).
    const std::uint64_t magnitude =
        y < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(y) : static_cast<std::uint64_t>(y);
    const u128 scaled = static_cast<u128>(magnitude) * dt;  // |Y| < 2^63, d t <= 2^63: < 2^126
    const u128 u = scaled >= n ? scaled - n : n - scaled;
    if (bernoulli_exp_wide(rng, square(u), denominator)) return y;
  }
}

// SystemRandom serves small requests from a per-thread buffer of 256 bytes drawn with
// randombytes_buf (one system call per refill instead of one per uniform draw); bytes are wiped
// from the buffer as they are handed out, and large requests go to randombytes_buf directly. A
// forked child inherits its parent's buffers: the bytes left in them were drawn before the fork,
// so the child discards them, or parent and child would draw the same noise. Where the fork
// cannot be watched (detail::watch_forks failed), every request goes to randombytes_buf.
class SystemRandom final : public RandomSource {
 public:
  void fill(std::span<std::uint8_t> out) override {
    if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
    static const bool forks_watched = detail::watch_forks();
    if (out.size() > kBuffer || !forks_watched) {
      randombytes_buf(out.data(), out.size());
      return;
    }
    thread_local Buffer buf;
    const std::uint64_t generation = detail::fork_generation();
    if (buf.generation != generation) {
      sodium_memzero(buf.bytes.data(), buf.bytes.size());
      buf.left = 0;
      buf.generation = generation;
    }
    if (buf.left < out.size()) {
      randombytes_buf(buf.bytes.data(), kBuffer);
      buf.left = kBuffer;
    }
    std::uint8_t* from = buf.bytes.data() + (kBuffer - buf.left);
    std::memcpy(out.data(), from, out.size());
    sodium_memzero(from, out.size());
    buf.left -= out.size();
  }

 private:
  static constexpr std::size_t kBuffer = 256;
  struct Buffer {
    std::array<std::uint8_t, kBuffer> bytes{};
    std::size_t left = 0;
    std::uint64_t generation = 0;  ///< forks when the buffer was filled
    ~Buffer() { sodium_memzero(bytes.data(), bytes.size()); }
  };
};

}  // namespace

std::uint64_t RandomSource::uniform(std::uint64_t bound) {
  if (bound == 0) throw std::invalid_argument("RandomSource::uniform needs a bound of at least 1");
  if (bound == 1) return 0;
  const auto bits = static_cast<int>(std::bit_width(bound - 1));
  const auto nbytes = static_cast<std::size_t>((bits + 7) / 8);
  const std::uint64_t mask = bits == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << bits) - 1;
  std::array<std::uint8_t, 8> buf{};
  for (;;) {
    fill(std::span<std::uint8_t>(buf.data(), nbytes));
    std::uint64_t x = 0;
    for (std::size_t i = 0; i < nbytes; ++i) x |= static_cast<std::uint64_t>(buf[i]) << (8 * i);
    x &= mask;
    if (x < bound) return x;
  }
}

RandomSource& system_random() {
  static SystemRandom source;
  return source;
}

bool sample_bernoulli_exp(RandomSource& rng, std::uint64_t gamma_num, std::uint64_t gamma_den) {
  if (gamma_den == 0) throw std::invalid_argument("sample_bernoulli_exp: gamma_den must be at least 1");
  return bernoulli_exp_parts(rng, gamma_num / gamma_den, gamma_num % gamma_den, gamma_den);
}

std::int64_t sample_discrete_laplace(RandomSource& rng, std::uint64_t scale_num, std::uint64_t scale_den) {
  if (scale_num == 0 || scale_den == 0)
    throw std::invalid_argument("sample_discrete_laplace: scale_num and scale_den must be at least 1");
  if (static_cast<u128>(scale_num) > static_cast<u128>(scale_den) * kMaxLaplaceScale)
    throw std::invalid_argument("sample_discrete_laplace: the scale must be at most kMaxLaplaceScale");
  return discrete_laplace(rng, scale_num, scale_den);
}

std::int64_t sample_discrete_gaussian(RandomSource& rng, std::uint64_t sigma2_num, std::uint64_t sigma2_den) {
  if (sigma2_num == 0 || sigma2_den == 0 || sigma2_num > kMaxNoiseParameter ||
      sigma2_den > kMaxNoiseParameter)
    throw std::invalid_argument(
        "sample_discrete_gaussian: sigma2_num and sigma2_den must be in [1, kMaxNoiseParameter]");
  return discrete_gaussian(rng, sigma2_num, sigma2_den);
}

}  // namespace consentry
