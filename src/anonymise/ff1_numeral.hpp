// ff1_numeral.hpp: the integer arithmetic of FF1 (NUM_radix, STR_radix, NUM of a byte string) on
// unsigned integers of any size, and with unsigned __int128 where everything fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "consentry/anonymise/ff1.hpp"

namespace consentry {
namespace ff1_detail {

__extension__ typedef unsigned __int128 u128;

/// RadixChunk is the largest power of a radix below 2^32: `value` = radix^`digits`. Arithmetic on
/// Natural goes a chunk of digits at a time.
struct RadixChunk {
  std::uint32_t digits = 1;
  std::uint32_t value = 2;
};

/// radix_chunk returns the chunk of `radix` (2..65536).
RadixChunk radix_chunk(std::uint32_t radix) noexcept;

/// Natural is an unsigned integer of any size in 32-bit limbs, least significant first, with no
/// leading zero limb (zero has no limb).
class Natural {
 public:
  /// from_bytes is NUM(X): the big-endian byte string as an integer.
  static Natural from_bytes(std::span<const std::uint8_t> big_endian);
  /// from_digits is NUM_radix(X): the numeral string, most significant digit first.
  static Natural from_digits(std::span<const std::uint32_t> digits, std::uint32_t radix);
  /// power is radix^n.
  static Natural power(std::uint32_t radix, std::size_t n);

  /// mul_add sets the integer to integer * m + a.
  void mul_add(std::uint32_t m, std::uint32_t a);
  /// div_small divides the integer by d (> 0) and returns the remainder.
  std::uint32_t div_small(std::uint32_t d) noexcept;
  /// decrement subtracts 1; the integer must not be zero.
  void decrement() noexcept;

  bool is_zero() const noexcept { return limbs_.empty(); }
  /// bit_length is the number of bits up to the highest 1 (0 for zero).
  std::size_t bit_length() const noexcept;
  /// to_bytes writes the integer big-endian into all of `out`; false when it needs more bytes.
  bool to_bytes(std::span<std::uint8_t> out) const noexcept;
  /// take_low_digits is STR^m_radix(integer mod radix^m) with m = out.size(), most significant digit
  /// first; it consumes the integer.
  void take_low_digits(std::uint32_t radix, std::span<std::uint32_t> out);

  /// limbs gives the 32-bit limbs, least significant first.
  const std::vector<std::uint32_t>& limbs() const noexcept { return limbs_; }

 private:
  void trim() noexcept;
  std::vector<std::uint32_t> limbs_;
};

/// byte_count is b = ceil(ceil(v * log2(radix)) / 8) of FF1, computed exactly: ceil(v * log2(radix))
/// is the bit length of radix^v - 1.
std::size_t byte_count(std::uint32_t radix, std::size_t v);

/// num_radix_u128 is NUM_radix(X); radix^|X| must be below 2^128.
u128 num_radix_u128(std::span<const std::uint32_t> digits, std::uint32_t radix) noexcept;
/// str_radix_u128 is STR^m_radix(x mod radix^m) with m = out.size(), most significant digit first.
void str_radix_u128(u128 x, std::uint32_t radix, std::span<std::uint32_t> out) noexcept;

}  // namespace ff1_detail

/// Ff1Path picks FF1's arithmetic: the unsigned __int128 fast path where every integer fits
/// (radix^v < 2^96, so that the PRF output used is one block), or big integers everywhere.
enum class Ff1Path { automatic, big_integer };

/// Ff1Internals runs FF1 with a chosen arithmetic path, so that tests can hold the paths against
/// each other. Ff1::encrypt and Ff1::decrypt are run() with Ff1Path::automatic.
struct Ff1Internals {
  static result<std::vector<std::uint32_t>> run(const Ff1& ff1, std::span<const std::uint32_t> digits,
                                                std::span<const std::uint8_t> tweak, bool decrypt,
                                                Ff1Path path);
  /// fast_path_fits is true when the automatic path uses unsigned __int128 for `length` numerals.
  static bool fast_path_fits(const Ff1& ff1, std::size_t length);
};

}  // namespace consentry
