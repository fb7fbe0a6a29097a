// verbose.cpp: the `--verbose` switch and its stderr output.
#include "verbose.hpp"

#include <atomic>
#include <cstdio>
#include <iostream>

#include "progress.hpp"

namespace consentry::cli {

namespace {

std::atomic<bool> enabled{false};

}  // namespace

void set_verbose(bool on) noexcept {
  enabled.store(on, std::memory_order_relaxed);
}

bool verbose_enabled() noexcept {
  return enabled.load(std::memory_order_relaxed);
}

void verbose(std::string_view message) {
  if (!verbose_enabled()) return;
  erase_progress_line();
  std::cerr << "consentry: " << message << '\n' << std::flush;
}

std::string counted(std::int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

std::string Stopwatch::elapsed() const {
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_)
          .count();
  char text[32];
  if (us < 1000) {
    std::snprintf(text, sizeof text, "%lld us", static_cast<long long>(us));
  } else if (us < 1000 * 1000) {
    std::snprintf(text, sizeof text, "%.1f ms", static_cast<double>(us) / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.2f s", static_cast<double>(us) / 1e6);
  }
  return text;
}

}  // namespace consentry::cli
