// cli_runner.hpp: running the built consentry binary (CONSENTRY_CLI) as a separate process.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
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

/// run_consentry starts the consentry binary with `args`, stdin from /dev/null (never a terminal)
/// or, given `input`, from a file holding it, and captures stdout and stderr through files in
/// `scratch` that it removes again. The child gets the host's environment without its CONSENTRY_
/// variables and without any variable `env` names, plus every variable of `env` that has a value.
inline CliOutput run_consentry(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                               const CliEnv& env, const std::optional<std::string>& input = std::nullopt) {
  static int counter = 0;
  ++counter;
  const std::filesystem::path out_file = scratch / ("out-" + std::to_string(counter));
  const std::filesystem::path err_file = scratch / ("err-" + std::to_string(counter));
  const std::filesystem::path in_file = scratch / ("in-" + std::to_string(counter));
  if (input) write_file(in_file, *input);

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
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, input ? in_file.c_str() : "/dev/null", O_RDONLY,
                                   0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, CONSENTRY_CLI, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));

  CliOutput o{WEXITSTATUS(status), file_bytes(out_file), file_bytes(err_file)};
  std::filesystem::remove(out_file);
  std::filesystem::remove(err_file);
  if (input) std::filesystem::remove(in_file);
  return o;
}

}  // namespace consentry::test
