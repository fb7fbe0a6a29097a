// verbose.hpp: the diagnostics `--verbose` turns on: what a command does, on stderr.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace consentry::cli {

/// set_verbose turns the `--verbose` diagnostics on or off for the rest of the process.
void set_verbose(bool on) noexcept;

/// verbose_enabled is true when `--verbose` was given.
bool verbose_enabled() noexcept;

/// verbose writes "consentry: <message>" to stderr when `--verbose` was given, and nothing
/// otherwise. A message names files, customers, fields, purposes, counts, versions and timings;
/// it never holds a field value, a consent notice, a passphrase or key bytes, and callers build
/// it from those parts only.
void verbose(std::string_view message);

/// counted writes a count with its noun: counted(1, "entry", "entries") is "1 entry", and
/// counted(3, "entry", "entries") is "3 entries".
std::string counted(std::int64_t n, std::string_view one, std::string_view many);

/// Stopwatch measures the time since it was made, for the timings `--verbose` reports.
class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  /// elapsed is the time since construction as text: "850 us", "12.3 ms" or "4.52 s".
  std::string elapsed() const;

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace consentry::cli
