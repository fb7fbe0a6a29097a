// cli_runner.hpp: running the built consentry binary (CONSENTRY_CLI) as a separate process.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/files.hpp"

extern char** environ;

namespace consentry::test {

/// CliOutput is what one run of the consentry binary did: its exit code, stdout and stderr.
struct CliOutput {
  int code = -1;
  std::string out;
  std::string err;
};

/// CliEnv lists variables to set (a value) or to remove (nullopt) for one run.
using CliEnv = std::vector<std::pair<std::string, std::optional<std::string>>>;

/// CliRun holds the optional settings of one run.
struct CliRun {
  /// input is written to a file that becomes the child's stdin; without it stdin is /dev/null.
  std::optional<std::string> input;
  /// stdout_path is opened for writing as the child's stdout (e.g. "/dev/full"), in place of the
  /// file that captures it; CliOutput::out is then empty.
  std::optional<std::filesystem::path> stdout_path;
};

/// kKilledBySignal is CliOutput::code for a process that a signal ended.
inline constexpr int kKilledBySignal = -1;

/// CliProcess is a running consentry binary started by start_consentry. It is reaped by wait()
/// or kill_and_wait(), or else killed and reaped when it is destroyed.
class CliProcess {
 public:
  CliProcess(pid_t pid, std::filesystem::path out_file, std::filesystem::path err_file,
             std::optional<std::filesystem::path> in_file)
      : pid_(pid),
        out_file_(std::move(out_file)),
        err_file_(std::move(err_file)),
        in_file_(std::move(in_file)) {}
  CliProcess(CliProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)),
        out_file_(std::move(other.out_file_)),
        err_file_(std::move(other.err_file_)),
        in_file_(std::move(other.in_file_)) {}
  CliProcess(const CliProcess&) = delete;
  CliProcess& operator=(const CliProcess&) = delete;
  CliProcess& operator=(CliProcess&&) = delete;
  ~CliProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    remove_files();
  }

  pid_t pid() const noexcept { return pid_; }

  /// wait waits for the process to exit and returns what it did; the test fails if a signal
  /// ended it.
  CliOutput wait() {
    const int status = reap();
    REQUIRE(WIFEXITED(status));
    CliOutput o{WEXITSTATUS(status), file_bytes(out_file_), file_bytes(err_file_)};
    remove_files();
    return o;
  }

  /// signal sends `sig` to the process if it has not been reaped yet; wait_any() still collects it.
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }

  /// wait_any waits for the process and returns what it did; CliOutput::code is kKilledBySignal
  /// when a signal ended it.
  CliOutput wait_any() {
    const int status = reap();
    CliOutput o{WIFEXITED(status) ? WEXITSTATUS(status) : kKilledBySignal, file_bytes(out_file_),
                file_bytes(err_file_)};
    remove_files();
    return o;
  }

  /// kill_and_wait sends `signal` and reaps the process. It returns true when the signal ended
  /// it, false when it had exited by itself before.
  bool kill_and_wait(int signal = SIGKILL) {
    ::kill(pid_, signal);
    const int status = reap();
    remove_files();
    return WIFSIGNALED(status) && WTERMSIG(status) == signal;
  }

 private:
  int reap() {
    REQUIRE(pid_ > 0);
    int status = 0;
    REQUIRE(::waitpid(pid_, &status, 0) == pid_);
    pid_ = -1;
    return status;
  }
  void remove_files() {
    std::error_code ignored;
    if (!out_file_.empty()) std::filesystem::remove(out_file_, ignored);
    if (!err_file_.empty()) std::filesystem::remove(err_file_, ignored);
    if (in_file_) std::filesystem::remove(*in_file_, ignored);
  }

  pid_t pid_ = -1;
  std::filesystem::path out_file_, err_file_;
  std::optional<std::filesystem::path> in_file_;
};

/// start_consentry starts the consentry binary with `args` and returns at once. stdin is
/// /dev/null (never a terminal) or a file holding `run.input`; stdout and stderr go to files in
/// `scratch` (stdout to `run.stdout_path` when given), removed again once the process is reaped.
/// The child gets the host's environment without its CONSENTRY_ variables and without any
/// variable `env` names, plus every variable of `env` that has a value.
inline CliProcess start_consentry(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                                  const CliEnv& env, const CliRun& run = {}) {
  static int counter = 0;
  ++counter;
  const std::filesystem::path out_file = scratch / ("out-" + std::to_string(counter));
  const std::filesystem::path err_file = scratch / ("err-" + std::to_string(counter));
  const std::filesystem::path in_file = scratch / ("in-" + std::to_string(counter));
  if (run.input) write_file(in_file, *run.input);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (name.rfind("CONSENTRY_", 0) == 0) continue;  // the host's own settings never leak in
    bool overridden = false;
    for (const auto& [key, value] : env) overridden = overridden || key == name;
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : env) {
    if (value) env_strings.push_back(key + "=" + *value);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  std::vector<std::string> argv_strings{CONSENTRY_CLI};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, run.input ? in_file.c_str() : "/dev/null",
                                   O_RDONLY, 0);
  if (run.stdout_path) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, run.stdout_path->c_str(), O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0600);
  }
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, CONSENTRY_CLI, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  return CliProcess(pid, run.stdout_path ? std::filesystem::path() : out_file, err_file,
                    run.input ? std::optional<std::filesystem::path>(in_file) : std::nullopt);
}

/// run_consentry runs the consentry binary as start_consentry does and waits for it to exit.
inline CliOutput run_consentry(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                               const CliEnv& env, const CliRun& run) {
  return start_consentry(scratch, args, env, run).wait();
}

/// run_consentry runs the consentry binary with stdin from /dev/null or, given `input`, from a
/// file holding it, and captures stdout and stderr.
inline CliOutput run_consentry(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                               const CliEnv& env, const std::optional<std::string>& input = std::nullopt) {
  return run_consentry(scratch, args, env, CliRun{input, std::nullopt});
}

}  // namespace consentry::test
