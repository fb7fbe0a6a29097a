// exit.hpp: how a subcommand ends: exit codes, error messages on stderr, and turning a failed
// result into the exit code the README documents.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "consentry/result.hpp"

namespace consentry::cli {

/// Exit codes that no errc stands for; the rest come from consentry::exit_code().
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitDenied = 3;

/// ExitRequest ends the command with `code` once its diagnostic has been printed. Thrown rather
/// than returned so that every open vault and secret is released by unwinding before exit.
struct ExitRequest {
  int code = kExitUsage;
};

/// print_error writes "consentry: error: <message>" to stderr.
void print_error(std::string_view message);
/// fail prints `e` and ends the command with its exit code.
[[noreturn]] void fail(const error& e);
/// fail builds the error from its parts, prints it and ends the command.
[[noreturn]] void fail(errc code, std::string message);
/// usage_failure prints `message` and ends the command with exit code 1.
[[noreturn]] void usage_failure(std::string_view message);

/// unwrap returns the value of `r`, or prints its error and ends the command.
template <class T>
T unwrap(result<T>&& r) {
  if (!r) fail(r.err());
  return std::move(r).value();
}
inline void unwrap(result<void>&& r) {
  if (!r) fail(r.err());
}

}  // namespace consentry::cli
