// passphrase.cpp: reading a passphrase from the environment or, without echo, from the terminal.
#include "passphrase.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "exit.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

/// wipe overwrites a string that held a secret before its memory is released.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = '\0';
  s.clear();
}

/// EchoOff turns terminal echo off for its lifetime.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

/// prompt_secret asks on stderr and reads one line from the terminal without echo.
SecretBytes prompt_secret(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  std::string line;
  line.reserve(1024);  // one buffer, so no stray copy of the passphrase is left by a reallocation
  {
    EchoOff quiet;
    std::getline(std::cin, line);
  }
  std::cerr << '\n';
  if (!std::cin) {
    wipe(line);
    usage_failure("no passphrase: the terminal closed before one was entered");
  }
  SecretBytes secret = SecretBytes::copy_of(std::string_view(line));
  wipe(line);
  return secret;
}

}  // namespace

SecretBytes read_passphrase(std::string_view prompt, bool confirm) {
  return read_secret("CONSENTRY_PASSPHRASE", prompt, confirm);
}

SecretBytes read_secret(const char* env, std::string_view prompt, bool confirm) {
  if (const char* value = std::getenv(env)) {
    verbose(std::string("passphrase from ") + env);
    return SecretBytes::copy_of(std::string_view(value));
  }
  if (!isatty(STDIN_FILENO)) usage_failure(std::string("no passphrase: set ") + env);
  verbose(std::string("passphrase from the terminal (") + env + " is not set)");
  SecretBytes first = prompt_secret(prompt);
  if (confirm) {
    SecretBytes again = prompt_secret("Repeat the passphrase: ");
    if (!first.equals(again)) usage_failure("the passphrases do not match");
  }
  return first;
}

}  // namespace consentry::cli
