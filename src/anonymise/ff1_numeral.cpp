// ff1_numeral.cpp: NUM_radix, STR_radix and NUM on integers of any size, and their __int128 forms.
#include "anonymise/ff1_numeral.hpp"

#include <algorithm>

namespace consentry::ff1_detail {

RadixChunk radix_chunk(std::uint32_t radix) noexcept {
  RadixChunk chunk{1, radix};
  // radix <= 2^16, so the first step always fits; stop before radix^(k+1) reaches 2^32.
  while (static_cast<std::uint64_t>(chunk.value) * radix < (std::uint64_t{1} << 32)) {
    chunk.value *= radix;
    ++chunk.digits;
  }
  return chunk;
}

void Natural::trim() noexcept {
  while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
}

Natural Natural::from_bytes(std::span<const std::uint8_t> big_endian) {
  Natural n;
  n.limbs_.assign((big_endian.size() + 3) / 4, 0);
  std::size_t bit = 0;
  for (std::size_t i = big_endian.size(); i-- > 0; bit += 8)
    n.limbs_[bit / 32] |= static_cast<std::uint32_t>(big_endian[i]) << (bit % 32);
  n.trim();
  return n;
}

Natural Natural::from_digits(std::span<const std::uint32_t> digits, std::uint32_t radix) {
  const RadixChunk chunk = radix_chunk(radix);
  Natural n;
  n.limbs_.reserve(digits.size() / 2 + 2);  // a digit is at most 16 bits
  std::size_t i = 0;
  // A first, shorter chunk so that the rest are whole chunks.
  std::size_t first = digits.size() % chunk.digits;
  if (first == 0) first = chunk.digits;
  while (i < digits.size()) {
    const std::size_t take = i == 0 ? std::min(first, digits.size()) : chunk.digits;
    std::uint32_t acc = 0;
    std::uint32_t scale = 1;
    for (std::size_t k = 0; k < take; ++k, ++i) {
      acc = acc * radix + digits[i];
      scale *= radix;
    }
    n.mul_add(scale, acc);
  }
  return n;
}

Natural Natural::power(std::uint32_t radix, std::size_t n) {
  const RadixChunk chunk = radix_chunk(radix);
  Natural p;
  p.limbs_.push_back(1);
  for (; n >= chunk.digits; n -= chunk.digits) p.mul_add(chunk.value, 0);
  for (; n > 0; --n) p.mul_add(radix, 0);
  return p;
}

void Natural::mul_add(std::uint32_t m, std::uint32_t a) {
  std::uint64_t carry = a;
  for (std::uint32_t& limb : limbs_) {
    const std::uint64_t t = static_cast<std::uint64_t>(limb) * m + carry;
    limb = static_cast<std::uint32_t>(t);
    carry = t >> 32;
  }
  if (carry != 0) limbs_.push_back(static_cast<std::uint32_t>(carry));
  trim();
}

std::uint32_t Natural::div_small(std::uint32_t d) noexcept {
  std::uint64_t rem = 0;
  for (std::size_t i = limbs_.size(); i-- > 0;) {
    const std::uint64_t cur = (rem << 32) | limbs_[i];
    limbs_[i] = static_cast<std::uint32_t>(cur / d);
    rem = cur % d;
  }
  trim();
  return static_cast<std::uint32_t>(rem);
}

void Natural::decrement() noexcept {
  for (std::uint32_t& limb : limbs_) {
    if (limb-- != 0) break;
  }
  trim();
}

std::size_t Natural::bit_length() const noexcept {
  if (limbs_.empty()) return 0;
  return (limbs_.size() - 1) * 32 + (32 - static_cast<std::size_t>(__builtin_clz(limbs_.back())));
}

bool Natural::to_bytes(std::span<std::uint8_t> out) const noexcept {
  if ((bit_length() + 7) / 8 > out.size()) return false;
  std::fill(out.begin(), out.end(), std::uint8_t{0});
  std::size_t bit = 0;
  for (std::size_t i = out.size(); i-- > 0 && bit / 32 < limbs_.size(); bit += 8)
    out[i] = static_cast<std::uint8_t>(limbs_[bit / 32] >> (bit % 32));
  return true;
}

void Natural::take_low_digits(std::uint32_t radix, std::span<std::uint32_t> out) {
  const RadixChunk chunk = radix_chunk(radix);
  std::size_t pos = out.size();
  while (pos > 0) {
    std::uint32_t rem = is_zero() ? 0 : div_small(chunk.value);
    for (std::uint32_t k = 0; k < chunk.digits && pos > 0; ++k) {
      out[--pos] = rem % radix;
      rem /= radix;
    }
  }
}

std::size_t byte_count(std::uint32_t radix, std::size_t v) {
  Natural p = Natural::power(radix, v);
  p.decrement();
  return (p.bit_length() + 7) / 8;
}

u128 num_radix_u128(std::span<const std::uint32_t> digits, std::uint32_t radix) noexcept {
  u128 x = 0;
  for (std::uint32_t d : digits) x = x * radix + d;
  return x;
}

void str_radix_u128(u128 x, std::uint32_t radix, std::span<std::uint32_t> out) noexcept {
  std::size_t pos = out.size();
  // 128-bit division is slow: take chunks below 2^32 off while x needs more than 64 bits.
  const RadixChunk chunk = radix_chunk(radix);
  while (pos > 0 && (x >> 64) != 0) {
    std::uint32_t rem = static_cast<std::uint32_t>(x % chunk.value);
    x /= chunk.value;
    for (std::uint32_t k = 0; k < chunk.digits && pos > 0; ++k) {
      out[--pos] = rem % radix;
      rem /= radix;
    }
  }
  auto low = static_cast<std::uint64_t>(x);
  while (pos > 0) {
    out[--pos] = static_cast<std::uint32_t>(low % radix);
    low /= radix;
  }
}

}  // namespace consentry::ff1_detail
