// progress.cpp: the progress bar of long commands, on stderr.
#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

namespace consentry::cli {

namespace {

std::atomic<bool> quiet{false};
/// bar_on_screen is true while a bar is drawn and not yet erased.
std::atomic<bool> bar_on_screen{false};

constexpr auto kRedrawEvery = std::chrono::milliseconds(100);
constexpr int kBarCells = 24;

}  // namespace

void set_quiet(bool on) noexcept {
  quiet.store(on, std::memory_order_relaxed);
}

bool progress_shown() noexcept {
  if (quiet.load(std::memory_order_relaxed)) return false;
  if (isatty(STDERR_FILENO) != 1) return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

void erase_progress_line() noexcept {
  if (!bar_on_screen.exchange(false)) return;
  std::cerr << "\r\x1b[K" << std::flush;
}

std::string format_count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::string format_duration(std::chrono::seconds left) {
  const long long s = left.count();
  char text[32];
  if (s < 1) return "<1s";
  if (s < 60) {
    std::snprintf(text, sizeof text, "%llds", s);
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lldm %02llds", s / 60, s % 60);
  } else {
    std::snprintf(text, sizeof text, "%lldh %02lldm", s / 3600, (s % 3600) / 60);
  }
  return text;
}

std::string progress_line(std::string_view what, std::string_view unit, std::int64_t done, std::int64_t total,
                          std::chrono::steady_clock::duration elapsed, double share) {
  std::string line(what);
  if (total > 0) share = static_cast<double>(done) / static_cast<double>(total);
  share = std::min(share, 1.0);
  if (share >= 0) {
    const auto filled = static_cast<std::int64_t>(share * kBarCells);
    line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
            std::string(static_cast<std::size_t>(kBarCells - filled), '-') + "]";
  }
  line += " " + format_count(done);
  if (total > 0) line += "/" + format_count(total);
  line += " " + std::string(unit);
  const double seconds = std::chrono::duration<double>(elapsed).count();
  if (seconds > 0 && done > 0) {
    const double rate = static_cast<double>(done) / seconds;
    line += ", " + format_count(static_cast<std::int64_t>(rate)) + "/s";
    if (share > 0 && share < 1) {
      const auto left = std::chrono::seconds(static_cast<long long>(seconds * (1 - share) / share));
      line += ", " + format_duration(left) + " left";
    }
  }
  return line;
}

Progress::Progress(std::string what, std::string unit, std::int64_t total)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(total),
      shown_(progress_shown()),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() {
  finish();
}

void Progress::finish() noexcept {
  if (shown_) erase_progress_line();
  shown_ = false;
}

void Progress::update(std::int64_t done, double share) {
  if (!shown_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool finished = (total_ > 0 && done >= total_) || share >= 1;
  if (drawn_once_ && now - drawn_ < kRedrawEvery && !finished) return;
  drawn_ = now;
  drawn_once_ = true;
  std::cerr << "\r" << progress_line(what_, unit_, done, total_, now - start_, share) << "\x1b[K"
            << std::flush;
  bar_on_screen.store(true);
}

}  // namespace consentry::cli
