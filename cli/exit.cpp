// exit.cpp: error messages on stderr and the exit codes they end a command with.
#include "exit.hpp"

#include <iostream>

#include "progress.hpp"

namespace consentry::cli {

void print_error(std::string_view message) {
  erase_progress_line();
  std::cerr << "consentry: error: " << message << '\n' << std::flush;
}

void fail(const error& e) {
  print_error(e.message.empty() ? std::string(to_string(e.code)) : e.message);
  throw ExitRequest{exit_code(e.code)};
}

void fail(errc code, std::string message) {
  fail(make_error(code, std::move(message)));
}

void usage_failure(std::string_view message) {
  print_error(message);
  throw ExitRequest{kExitUsage};
}

}  // namespace consentry::cli
