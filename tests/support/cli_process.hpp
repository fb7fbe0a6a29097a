// cli_process.hpp: starting the built consentry binary (CONSENTRY_CLI) without waiting for it, so
// that several commands run at once, and killing one mid-way.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"

namespace consentry::test {

/// CliProcess is a consentry process started by start_consentry and not yet finished.
struct CliProcess {
  pid_t pid = -1;
  std::filesystem::path out_file;
  std::filesystem::path err_file;
  std::vector<std::string> args;  ///< what it was started with, for messages
};

/// start_consentry starts the consentry binary with `args` and returns at once; stdin is
/// /dev/null, stdout and stderr go to files in `scratch` that finish() reads and removes. The
/// environment is built as run_consentry's: the host's without its CONSENTRY_ variables, plus
/// `env`'s variables that have a value.
inline CliProcess start_consentry(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                                  const CliEnv& env) {
  static std::atomic<int> counter{0};
  const std::string n = std::to_string(counter++);
  CliProcess p;
  p.out_file = scratch / ("started-out-" + n);
  p.err_file = scratch / ("started-err-" + n);
  p.args = args;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    std::string entry = *e;
    std::string name = entry.substr(0, entry.find('='));
    if (name.rfind("CONSENTRY_", 0) == 0) continue;
    bool overridden = false;
    for (const auto& [key, value] : env) overridden = overridden || key == name;
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : env)
    if (value) env_strings.push_back(key + "=" + *value);
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
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, p.out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, p.err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  const int spawned = posix_spawn(&p.pid, CONSENTRY_CLI, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  return p;
}

/// kKilled is CliOutput::code for a process that a signal ended.
inline constexpr int kKilled = -1;

/// finish waits for `p` and returns its exit code (kKilled when a signal ended it), stdout and
/// stderr.
inline CliOutput finish(CliProcess& p) {
  int status = 0;
  pid_t got = -1;
  do {
    got = waitpid(p.pid, &status, 0);
  } while (got < 0 && errno == EINTR);
  REQUIRE(got == p.pid);
  CliOutput o{WIFEXITED(status) ? WEXITSTATUS(status) : kKilled, file_bytes(p.out_file),
              file_bytes(p.err_file)};
  std::filesystem::remove(p.out_file);
  std::filesystem::remove(p.err_file);
  p.pid = -1;
  return o;
}

/// kill_now sends SIGKILL to `p` (which may already have ended); finish() still collects it.
inline void kill_now(const CliProcess& p) {
  if (p.pid > 0) ::kill(p.pid, SIGKILL);
}

/// command_line shows what `p` ran, for a failure message.
inline std::string command_line(const CliProcess& p) {
  std::string s = "consentry";
  for (const std::string& a : p.args) s += " " + a;
  return s;
}

}  // namespace consentry::test
