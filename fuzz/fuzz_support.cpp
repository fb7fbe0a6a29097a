// fuzz_support.cpp: Input, check() and the deterministic stand-in for libsodium's random bytes.
#include "fuzz_support.hpp"

#include <sodium.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace consentry::fuzz {

std::uint8_t Input::byte() noexcept {
  if (rest_.empty()) return 0;
  const auto b = static_cast<std::uint8_t>(rest_.front());
  rest_.remove_prefix(1);
  return b;
}

std::uint16_t Input::u16() noexcept {
  const std::uint16_t high = byte();
  return static_cast<std::uint16_t>(high << 8 | byte());
}

std::string_view Input::take(std::size_t n) noexcept {
  const std::string_view part = rest_.substr(0, n);
  rest_.remove_prefix(part.size());
  return part;
}

std::string_view Input::line() noexcept {
  const std::size_t end = rest_.find('\n');
  if (end == std::string_view::npos) return rest();
  const std::string_view part = rest_.substr(0, end);
  rest_.remove_prefix(end + 1);
  return part;
}

std::string_view Input::rest() noexcept {
  const std::string_view part = rest_;
  rest_ = {};
  return part;
}

void check(bool holds, const char* target, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "%s: property broken: %s\n", target, property);
  std::abort();
}

namespace {

// A splitmix64 stream from a fixed seed. Fuzz builds need reproducible bytes, not secret ones.
constexpr std::uint64_t kSeed = 0x636f6e73656e7472;  // "consentr"
std::uint64_t state = kSeed;

std::uint64_t next() noexcept {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

const char* name() {
  return "consentry-fuzz-deterministic";
}
std::uint32_t random32() {
  return static_cast<std::uint32_t>(next() >> 32);
}
void fill(void* const out, const std::size_t size) {
  auto* p = static_cast<unsigned char*>(out);
  for (std::size_t done = 0; done < size; done += 8) {
    const std::uint64_t word = next();
    std::memcpy(p + done, &word, size - done < 8 ? size - done : 8);
  }
}

randombytes_implementation deterministic = {name, random32, nullptr, nullptr, fill, nullptr};

// Installed before main, before the library's first sodium_init(), which would otherwise pick
// the operating system's source.
const bool installed = [] {
  if (randombytes_set_implementation(&deterministic) != 0 || sodium_init() < 0) {
    std::fprintf(stderr, "fuzz: cannot install deterministic randomness\n");
    std::abort();
  }
  return true;
}();

}  // namespace

void reset_randomness() noexcept {
  (void)installed;
  state = kSeed;
}

}  // namespace consentry::fuzz
