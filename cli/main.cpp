// main.cpp: the consentry command: parses the command line and runs one subcommand.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "exit.hpp"
#include "progress.hpp"
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

/// edit_distance is the Levenshtein distance between `a` and `b` (both short: names of commands
/// and options).
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

/// closest returns the name among `names` nearest to `typed`, when it is near enough to be what
/// was meant (at most a third of its letters wrong, at least one), or "" when none is.
std::string closest(std::string_view typed, const std::vector<std::string>& names) {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(1, typed.size() / 3) + 1;
  for (const std::string& name : names) {
    const std::size_t d = edit_distance(typed, name);
    if (d < best_distance) {
      best_distance = d;
      best = name;
    }
  }
  return best;
}

/// subcommand_names lists the names of `app`'s subcommands.
std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

/// find_option returns the named option of `app` or of a parent (global options fall through),
/// or nullptr.
const CLI::Option* find_option(const CLI::App& app, std::string_view name) {
  for (const CLI::App* a = &app; a; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& l : opt->get_lnames())
        if (name == "--" + l) return opt;
      for (const std::string& s : opt->get_snames())
        if (name == "-" + s) return opt;
    }
  }
  return nullptr;
}

/// mistyped finds the first word of the command line that names no subcommand or option where one
/// was expected, and returns what to say about it ("'exprot' is not a consentry command; did you
/// mean 'export'?"), or "" when every word is known (the parse failed for another reason).
std::string mistyped(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* at = &root;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") return "";
    if (word.size() > 1 && word[0] == '-') {
      const std::string name = word.substr(0, word.find('='));
      if (const CLI::Option* opt = find_option(*at, name)) {
        if (opt->get_items_expected_max() > 0 && name.size() == word.size()) ++i;  // its value
        continue;
      }
      if (name.rfind("--", 0) != 0) continue;  // a short option or a negative number
      std::vector<std::string> known;
      for (const CLI::App* a = at; a; a = a->get_parent())
        for (const CLI::Option* opt : a->get_options())
          for (const std::string& l : opt->get_lnames()) known.push_back("--" + l);
      const std::string guess = closest(name, known);
      const std::string where = at == &root ? "consentry" : "'" + at->get_name() + "'";
      return "unknown option '" + name + "' of " + where +
             (guess.empty() ? "" : "; did you mean '" + guess + "'?");
    }
    const std::vector<std::string> names = subcommand_names(*at);
    if (names.empty()) continue;  // an argument of a leaf command
    if (std::find(names.begin(), names.end(), word) != names.end()) {
      at = at->get_subcommand(word);
      continue;
    }
    const std::string guess = closest(word, names);
    const std::string what = at == &root ? "a consentry command" : "a subcommand of '" + at->get_name() + "'";
    return "'" + word + "' is not " + what +
           (guess.empty() ? std::string("") : "; did you mean '" + guess + "'?");
  }
  return "";
}

/// kFooter ends the top-level --help: the environment and the exit codes (README.md).
constexpr const char* kFooter =
    "Run 'consentry help COMMAND' (or 'consentry COMMAND --help') for a command's options.\n"
    "\n"
    "Environment:\n"
    "  CONSENTRY_VAULT           the vault (a file or a postgresql:// URI), when --vault is not given\n"
    "  CONSENTRY_KEY_FILE        the key file that seals the master key, when --key-file is not given\n"
    "  CONSENTRY_PASSPHRASE      the vault's passphrase (otherwise asked on a terminal)\n"
    "  CONSENTRY_NEW_PASSPHRASE  the new passphrase for 'keys passphrase' and 'keys rotate --retire'\n"
    "  CONSENTRY_ACTOR           who the audit log names for what a command does, when --actor is not given\n"
    "\n"
    "Exit codes:\n"
    "  0  done\n"
    "  1  usage error\n"
    "  2  bad input (file, policy or value), or a file or stdout that cannot be written\n"
    "  3  denied by policy or consent\n"
    "  4  integrity failure: tampering, wrong passphrase or key, corrupt data\n"
    "  5  not found, or the customer was erased";

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
  app.set_version_flag("--version", std::string("consentry ") + CONSENTRY_VERSION);
  app.footer(kFooter);
  // Global options may follow the subcommand too: `consentry read C-1 --vault crm.vault`.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--vault", global.vault,
                 "The vault: a file, or a postgresql:// URI (or set CONSENTRY_VAULT)")
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
  bool quiet_flag = false;
  app.add_flag("-q,--quiet", quiet_flag,
               "Draw no progress bar (one is drawn on stderr for long work when stderr is a terminal)");

  Commands commands;
  add_init_command(app, global, commands);
  add_policy_commands(app, global, commands);
  add_import_command(app, global, commands);
  add_consent_commands(app, global, commands);
  add_receipt_commands(app, global, commands);
  add_read_command(app, global, commands);
  add_find_command(app, global, commands);
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
  add_risk_command(app, global, commands);
  add_stats_command(app, global, commands);

  // `consentry help [COMMAND...]` is `consentry [COMMAND...] --help`.
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && args.front() == "help") {
    args.erase(args.begin());
    // `help exprot` would print the top-level help: say that there is no such command instead.
    if (const std::string unknown = mistyped(app, args); !unknown.empty()) {
      print_error(unknown);
      std::cerr << "run 'consentry --help' for usage\n";
      return kExitUsage;
    }
    args.emplace_back("--help");
  }
  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 takes them last first
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return checked_stdout(app.exit(e), out);  // --help, --version
    const std::string unknown = mistyped(app, args);
    print_error(unknown.empty() ? std::string(e.what()) : unknown);
    std::cerr << "run 'consentry --help' for usage\n";
    return kExitUsage;
  }

  set_verbose(verbose_flag);
  set_quiet(quiet_flag);
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
