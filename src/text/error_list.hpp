// error_list.hpp: ErrorList, the errors of an input's bad lines gathered into one error, so that
// a file with several mistakes is reported whole rather than one mistake per try (private).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "consentry/result.hpp"

namespace consentry::detail {

/// ErrorList keeps the first `shown` errors added and counts the rest.
class ErrorList {
 public:
  explicit ErrorList(std::size_t shown) : shown_(shown) {}

  /// add records one bad line's error (its message names the file and line).
  void add(error e) {
    if (count_ == 0) first_ = e;
    if (count_ < shown_) {
      if (count_ > 0) text_ += '\n';
      text_ += e.message;
    }
    ++count_;
  }
  /// any is true once an error was added.
  bool any() const noexcept { return count_ > 0; }
  /// count is how many errors were added.
  std::size_t count() const noexcept { return count_; }
  /// full is true when `shown` errors were added: a caller may stop looking for more.
  bool full() const noexcept { return count_ >= shown_; }

  /// to_error is the first error itself when it is the only one; otherwise one error with its
  /// code and reason, whose message lists the shown messages a line each and then, when more
  /// were found than shown, "<origin>: N bad lines in all; the first S are shown" (with
  /// `exact` false: "at least N", for a caller that stopped looking).
  error to_error(std::string_view origin, bool exact = true) const {
    if (count_ == 1) return first_;
    std::string message = text_;
    if (count_ > shown_ || !exact) {
      message += '\n';
      if (!origin.empty()) message.append(origin).append(": ");
      message += (exact ? "" : "at least ") + std::to_string(count_) + " bad lines in all; the first " +
                 std::to_string(std::min(count_, shown_)) + " are shown";
    }
    return make_error(first_.code, std::move(message), first_.reason);
  }

 private:
  std::size_t shown_;
  std::size_t count_ = 0;
  error first_;
  std::string text_;
};

}  // namespace consentry::detail
