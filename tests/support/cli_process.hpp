// cli_process.hpp: several consentry commands running at once (start_consentry from
// cli_runner.hpp), each remembered with its arguments so that a failure can say what ran.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "support/cli_runner.hpp"

namespace consentry::test {

/// StartedCli is a consentry process started by start_cli and not yet finished.
struct StartedCli {
  CliProcess process;
  std::vector<std::string> args;  ///< what it was started with, for messages
};

/// start_cli starts the consentry binary with `args` and returns at once (see start_consentry).
inline StartedCli start_cli(const std::filesystem::path& scratch, const std::vector<std::string>& args,
                            const CliEnv& env) {
  return StartedCli{start_consentry(scratch, args, env), args};
}

/// kKilled is CliOutput::code for a process that a signal ended.
inline constexpr int kKilled = kKilledBySignal;

/// finish waits for `p` and returns its exit code (kKilled when a signal ended it), stdout and
/// stderr.
inline CliOutput finish(StartedCli& p) { return p.process.wait_any(); }

/// kill_now sends SIGKILL to `p` (which may already have ended); finish() still collects it.
inline void kill_now(const StartedCli& p) { p.process.signal(SIGKILL); }

/// command_line shows what `p` ran, for a failure message.
inline std::string command_line(const StartedCli& p) {
  std::string s = "consentry";
  for (const std::string& a : p.args) s += " " + a;
  return s;
}

}  // namespace consentry::test
