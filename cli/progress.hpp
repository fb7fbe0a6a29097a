// progress.hpp: a progress bar on stderr for long work (reading many customers, rotating,
// purging), drawn only when stderr is a terminal and `--quiet` was not given.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace consentry::cli {

/// set_quiet turns progress bars off for the rest of the process (`--quiet`).
void set_quiet(bool on) noexcept;

/// progress_shown is true when bars are drawn: stderr is a terminal (not "dumb") and `--quiet`
/// was not given.
bool progress_shown() noexcept;

/// erase_progress_line clears a bar drawn on stderr, so that a message can take its line; the
/// bar comes back at its next update. Does nothing when no bar is drawn.
void erase_progress_line() noexcept;

/// format_count writes n with thousands separators: 1234567 is "1,234,567".
std::string format_count(std::int64_t n);

/// format_duration writes a time left: "<1s", "42s", "3m 05s", "2h 07m".
std::string format_duration(std::chrono::seconds left);

/// progress_line is the text of a bar: what is done ("reading"), a bar of 24 cells when the
/// total is known, the count ("5,200/10,000 customers"), the rate per second and, with a known
/// total and a rate, the time left. `elapsed` is the time since the work started. Without a
/// total, `share` (the part done, in [0, 1], e.g. of a file's bytes; negative when not known)
/// fills the bar and gives the time left.
std::string progress_line(std::string_view what, std::string_view unit, std::int64_t done, std::int64_t total,
                          std::chrono::steady_clock::duration elapsed, double share = -1);

/// Progress draws one bar while long work runs: update() redraws it at most every 100 ms (and
/// always on reaching the total), and the destructor erases it. Nothing is drawn unless
/// progress_shown(). It never shows a value, only counts and times.
class Progress {
 public:
  /// Progress starts a bar for `what`, counting `unit`, towards `total` (0 when not known).
  Progress(std::string what, std::string unit, std::int64_t total = 0);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// set_total gives the total once it is known.
  void set_total(std::int64_t total) noexcept { total_ = total; }
  /// update records that `done` units are done, and redraws when it is time; `share` is the
  /// part of the work done when the total is not known (progress_line).
  void update(std::int64_t done, double share = -1);
  /// finish erases the bar, before the command prints its result; later updates draw nothing.
  void finish() noexcept;

 private:
  std::string what_, unit_;
  std::int64_t total_;
  bool shown_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point drawn_{};
  bool drawn_once_ = false;
};

}  // namespace consentry::cli
