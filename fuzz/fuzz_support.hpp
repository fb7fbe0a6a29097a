// fuzz_support.hpp: what the fuzz targets share: an Input that splits the fuzzer's bytes into
// the parts a target needs, check() that turns a broken property into a crash the fuzzer
// reports, and deterministic randomness so that every crash reproduces from its input alone.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace consentry::fuzz {

/// Input reads the parts of one fuzz input from its front. Every read succeeds: past the end it
/// gives zero bytes or an empty view, so a target never has to reject a short input.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) noexcept
      : rest_(reinterpret_cast<const char*>(data), size) {}

  /// byte takes one byte; 0 past the end.
  std::uint8_t byte() noexcept;
  /// u16 takes two bytes, big-endian; missing bytes read as 0.
  std::uint16_t u16() noexcept;
  /// take takes up to `n` bytes.
  std::string_view take(std::size_t n) noexcept;
  /// line takes the bytes up to the next '\n' (which it drops), or all that is left.
  std::string_view line() noexcept;
  /// rest takes everything that is left.
  std::string_view rest() noexcept;
  /// empty is true when nothing is left.
  bool empty() const noexcept { return rest_.empty(); }

 private:
  std::string_view rest_;
};

/// bytes_of views the characters of `s` as bytes.
inline std::span<const std::uint8_t> bytes_of(std::string_view s) noexcept {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

/// check aborts, naming the target and the property, when `holds` is false. libFuzzer (and the
/// replay main) report the abort with the input that caused it.
void check(bool holds, const char* target, const char* property);

/// reset_randomness restarts the deterministic stream that replaces libsodium's random bytes in
/// every fuzz executable. Targets that draw random bytes (a nonce, a salt) call it first, so
/// that an input draws the same bytes whatever ran before it.
void reset_randomness() noexcept;

}  // namespace consentry::fuzz
