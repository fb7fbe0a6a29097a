// main.cpp: the consentry command: parses the command line and runs one subcommand.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <streambuf>
#include <string>

#include "commands.hpp"
#include "exit.hpp"
#include "verbose.hpp"

namespace {

/// command_path names a leaf subcommand with its parents, without the program: "keys rotate".
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* parent = app.get_parent(); parent && parent->get_parent();
       parent = parent->get_parent()) {
    path = parent->get_name() + " " + path;
  }
  return path;
}

/// run_command runs `command` and returns its exit code, also when it ends by an ExitRequest.
int run_command(const consentry::cli::Command& command) {
  using namespace consentry::cli;
  try {
    return command.run();
  } catch (const ExitRequest& request) {
    return request.code;
  } catch (const std::exception&) {
    // The text of an unexpected exception is not printed: it could quote input it choked on.
    print_error("internal error");
    return kExitUsage;
  }
}

/// StdoutBuffer is std::cout's buffer while the command runs: it writes to file descriptor 1 and
/// keeps the first error a write met (an errno), so that output which did not arrive fails the
/// command with the reason. After an error it drops what it holds and std::cout stops writing.
class StdoutBuffer final : public std::streambuf {
 public:
  StdoutBuffer() { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
  StdoutBuffer(const StdoutBuffer&) = delete;
  StdoutBuffer& operator=(const StdoutBuffer&) = delete;

  /// error is the errno of the first failed write, 0 while none failed.
  int error() const noexcept { return error_; }

 protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (traits_type::eq_int_type(ch, traits_type::eof())) return traits_type::not_eof(ch);
    *pptr() = traits_type::to_char_type(ch);
    pbump(1);
    return ch;
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* next = pbase();
    bool written = error_ == 0;
    while (written && next < pptr()) {
      const ssize_t n = ::write(STDOUT_FILENO, next, static_cast<std::size_t>(pptr() - next));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? errno : EIO;
        written = false;
      } else {
        next += n;
      }
    }
    setp(buffer_.data(), buffer_.data() + buffer_.size());
    return written;
  }

  std::array<char, 64 * 1024> buffer_{};
  int error_ = 0;
};

/// CoutThroughBuffer makes `buffer` std::cout's buffer for its lifetime (flushing after every
/// output when stdout is a terminal, so interactive output appears at once), and puts the
/// original back when it ends.
class CoutThroughBuffer {
 public:
  explicit CoutThroughBuffer(StdoutBuffer& buffer) : original_(std::cout.rdbuf(&buffer)) {
    if (::isatty(STDOUT_FILENO)) std::cout.setf(std::ios::unitbuf);
  }
  ~CoutThroughBuffer() {
    std::cout.flush();
    std::cout.rdbuf(original_);
  }
  CoutThroughBuffer(const CoutThroughBuffer&) = delete;
  CoutThroughBuffer& operator=(const CoutThroughBuffer&) = delete;

 private:
  std::streambuf* original_;
};

/// checked_stdout returns `code` once everything the command wrote to stdout has gone out. When
/// some of it could not be written (a full disk, a closed pipe) it says so on stderr, with the
/// reason, and returns the exit code of errc::io in place of a success (0, or 3 for a partly
/// denied read); a failure that the command reported itself keeps its code.
int checked_stdout(int code, const StdoutBuffer& buffer) {
  using namespace consentry;
  std::cout.flush();
  const bool stdio_ok = std::fflush(stdout) == 0 && !std::ferror(stdout);  // anything printed through C stdio
  if (buffer.error() == 0 && !std::cout.bad() && stdio_ok) return code;
  cli::print_error(std::string("cannot write to stdout") +
                   (buffer.error() != 0 ? std::string(": ") + std::strerror(buffer.error()) : std::string()));
  return code == cli::kExitOk || code == cli::kExitDenied ? exit_code(errc::io) : code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace consentry::cli;
  StdoutBuffer out;
  CoutThroughBuffer through(out);

  CLI::App app{"Consent-gated, encrypted customer data for CRM backends.", "consentry"};
  app.require_subcommand(1);
  // Global options may follow the subcommand too: `consentry read C-1 --vault crm.vault`.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--vault", global.vault, "The vault file (or set CONSENTRY_VAULT)")
      ->envname("CONSENTRY_VAULT");
  app.add_option("--key-file", global.key_file, "Seal the master key with this key file, not a passphrase")
      ->envname("CONSENTRY_KEY_FILE");
  app.add_option("--actor", global.actor,
                 "The person or system the audit log names for this command (or set CONSENTRY_ACTOR; "
                 "default \"cli\")")
      ->envname("CONSENTRY_ACTOR");
  bool verbose_flag = false;
  app.add_flag("--verbose", verbose_flag,
               "Report what the command does on stderr (never a value, a passphrase or a key)");

  Commands commands;
  add_init_command(app, global, commands);
  add_policy_commands(app, global, commands);
  add_import_command(app, global, commands);
  add_consent_commands(app, global, commands);
  add_read_command(app, global, commands);
  add_log_commands(app, global, commands);
  add_erase_command(app, global, commands);
  add_backup_command(app, global, commands);
  add_keys_commands(app, global, commands);
  add_export_command(app, global, commands);
  add_audit_command(app, global, commands);
  add_inventory_command(app, global, commands);
  add_purge_command(app, global, commands);
  add_derive_command(app, global, commands);
  add_contact_command(app, global, commands);
  add_ff1_commands(app, global, commands);
  add_anonymise_command(app, global, commands);
  add_stats_command(app, global, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return checked_stdout(app.exit(e), out);  // --help
    print_error(e.what());
    std::cerr << "run 'consentry --help' for usage\n";
    return kExitUsage;
  }

  set_verbose(verbose_flag);
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command_path(*command.app);
    verbose("running '" + name + "'");
    Stopwatch clock;
    // Output that did not reach stdout fails the command: a caller must not take a cut-off
    // listing or export for the whole of it.
    const int code = checked_stdout(run_command(command), out);
    verbose("'" + name + "' finished in " + clock.elapsed() + " with exit code " + std::to_string(code));
    return code;
  }
  print_error("no command given");
  return kExitUsage;
}
