// cli_progress_test.cpp: long commands draw a progress bar on stderr when it is a terminal (run
// here under a pseudo-terminal), erase it before their result, and draw nothing with --quiet or
// when stderr is not a terminal; stdout is the same either way.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/cli_vault_dir.hpp"
#include "support/files.hpp"

using namespace consentry::test;

namespace {

struct TerminalRun {
  int code = -1;
  std::string terminal;  ///< what the command wrote to the terminal (stderr)
  std::string out;       ///< its stdout, sent to a file
};

/// run_on_terminal runs consentry with `args` and `env`, stderr (and stdin) on a new
/// pseudo-terminal and stdout on the file `out_file`.
TerminalRun run_on_terminal(const std::vector<std::string>& args, const Env& env,
                            const std::filesystem::path& out_file) {
  std::vector<std::string> argv_strings{CONSENTRY_CLI};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings{"TERM=xterm", "PATH=/usr/bin:/bin"};
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  int terminal = -1;
  const pid_t pid = forkpty(&terminal, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out < 0 || dup2(out, STDOUT_FILENO) < 0) _exit(127);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  TerminalRun run;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(terminal, buf, sizeof buf);
    if (n > 0) {
      run.terminal.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;  // EIO once the child has closed the terminal
  }
  close(terminal);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  run.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = file_bytes(out_file);
  return run;
}

/// no_terminal_here is true when this machine cannot open a pseudo-terminal (a chroot or
/// container without /dev/pts): the bar cannot be shown there, and the test says so and ends.
bool no_terminal_here() {
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0) {
    MESSAGE("no pseudo-terminal can be opened here (/dev/ptmx): the progress bar is not tested");
    return true;
  }
  close(master);
  return false;
}

/// vault_of_many makes a vault with `n` customers, each with a data key.
void vault_of_many(const VaultDir& dir, int n) {
  dir.init();
  std::string lines;
  for (int i = 0; i < n; ++i)
    lines +=
        R"({"id": "C-)" + std::to_string(2000 + i) + R"(", "fields": {"birth_date": "1990-04-02"}})" + "\n";
  write_file(dir.path("many.jsonl"), lines);
  dir.must({"import", dir.path("many.jsonl").string()});
}

}  // namespace

TEST_CASE("keys rotate draws a bar with counts and rate on a terminal, and erases it before its result") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 30);
  const TerminalRun run =
      run_on_terminal({"keys", "rotate", "--batch", "4", "--json"}, dir.env(), dir.path("rotate.json"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  // The first batch draws at once, and the last always.
  CHECK(run.terminal.find("\rre-wrapping [") != std::string::npos);
  CHECK(run.terminal.find(" 4/30 data keys") != std::string::npos);
  CHECK(run.terminal.find("[########################] 30/30 data keys, ") != std::string::npos);
  CHECK(run.terminal.find("/s") != std::string::npos);
  // Erased at the end: nothing follows the last erase.
  const std::size_t erased = run.terminal.rfind("\r\x1b[K");
  REQUIRE(erased != std::string::npos);
  CHECK(run.terminal.substr(erased + 4).find_first_not_of("\r\n") == std::string::npos);
  // stdout is the JSON report alone.
  CHECK(run.out.rfind("{", 0) == 0);
  CHECK(run.out.find("re-wrapping") == std::string::npos);
  CHECK(run.out.find("\"rewrapped\":30") != std::string::npos);
}

TEST_CASE("no bar with --quiet, nor when stderr is not a terminal") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 12);
  const TerminalRun quiet =
      run_on_terminal({"--quiet", "keys", "rotate", "--batch", "4"}, dir.env(), dir.path("quiet.txt"));
  INFO("terminal: " << quiet.terminal);
  REQUIRE(quiet.code == 0);
  CHECK(quiet.terminal.empty());
  CHECK(quiet.out == "rotated to master key version 2: 12 data keys re-wrapped\n");

  CliOutput piped = dir.must({"keys", "rotate", "--batch", "4"});
  CHECK(piped.err.empty());
  CHECK(piped.out == "rotated to master key version 3: 12 data keys re-wrapped\n");
}

TEST_CASE("anonymise --from-vault draws its reading bar, and an error erases it first") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 300);
  const TerminalRun run =
      run_on_terminal({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "bi-dashboard",
                       "--fields", "birth_date", "--k", "2", "--method", "mondrian"},
                      dir.env(), dir.path("released.csv"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  CHECK(run.terminal.find("reading [########################] 300/300 customers") != std::string::npos);
  CHECK(run.out.rfind("birth_date\n", 0) == 0);

  // The last customer's email is past its retention (P3Y): the read of the first batch of 256
  // draws the bar, and the refusal in the second batch ends the command.
  write_file(
      dir.path("late.jsonl"),
      R"({"id": "C-9999", "collected_at": "2015-01-01T00:00:00Z", "fields": {"email": "old@example.com"}})"
      "\n");
  dir.must({"import", dir.path("late.jsonl").string()});
  const TerminalRun denied =
      run_on_terminal({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "bi-dashboard",
                       "--fields", "birth_date,email", "--k", "2", "--method", "mondrian"},
                      dir.env(), dir.path("denied.csv"));
  INFO("terminal: " << denied.terminal);
  CHECK(denied.code != 0);
  CHECK(denied.terminal.find("reading [") != std::string::npos);
  CHECK(denied.terminal.find(" 256/301 customers") != std::string::npos);
  const std::size_t error = denied.terminal.find("consentry: error: ");
  REQUIRE(error != std::string::npos);
  REQUIRE(error >= 4);
  CHECK(denied.terminal.substr(error - 4, 4) == "\r\x1b[K");  // the bar was erased first
  CHECK(denied.terminal.find("retention_expired") != std::string::npos);
  CHECK(denied.out.empty());
}

TEST_CASE("import draws a bar by the share of the file read, and --dry-run one of its own") {
  if (no_terminal_here()) return;
  VaultDir dir;
  dir.init();
  std::string lines;
  for (int i = 0; i < 2500; ++i)
    lines +=
        R"({"id": "C-)" + std::to_string(10000 + i) + R"(", "fields": {"birth_date": "1990-04-02"}})" + "\n";
  write_file(dir.path("many.jsonl"), lines);
  const TerminalRun dry = run_on_terminal({"import", "--dry-run", dir.path("many.jsonl").string()}, dir.env(),
                                          dir.path("dry.txt"));
  INFO("terminal: " << dry.terminal);
  REQUIRE(dry.code == 0);
  CHECK(dry.terminal.find("\rchecking [") != std::string::npos);
  CHECK(dry.terminal.find("checking [########################] 2,500 records, ") != std::string::npos);
  CHECK(dry.out.rfind("checked 2500 records (2500 values)", 0) == 0);

  const TerminalRun run =
      run_on_terminal({"import", dir.path("many.jsonl").string()}, dir.env(), dir.path("import.txt"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  // Batches of 1,000: the first is drawn at once, with the time left from the share read.
  CHECK(run.terminal.find("importing [") != std::string::npos);
  CHECK(run.terminal.find(" 1,000 records, ") != std::string::npos);
  CHECK(run.terminal.find("importing [########################] 2,500 records, ") != std::string::npos);
  CHECK(run.out.rfind("imported 2500 records (2500 values)", 0) == 0);
}

TEST_CASE("read --eligible draws its reading bar on stderr, and stdout holds the lines alone") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 300);
  const TerminalRun run = run_on_terminal(
      {"read", "--eligible", "--purpose", "analytics", "--as", "bi-dashboard", "--fields", "birth_date"},
      dir.env(), dir.path("eligible.jsonl"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  CHECK(run.terminal.find(" 256/300 customers") != std::string::npos);
  CHECK(run.terminal.find("reading [########################] 300/300 customers") != std::string::npos);
  CHECK(std::count(run.out.begin(), run.out.end(), '\n') == 300);
  CHECK(run.out.find("reading") == std::string::npos);
}

TEST_CASE("stats draws a bar over the customers it decides, erased before its answer") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 300);
  const TerminalRun run =
      run_on_terminal({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "0.5"},
                      dir.env(), dir.path("count.txt"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  CHECK(run.terminal.find("deciding [########################] 300/300 customers") != std::string::npos);
  CHECK(run.out.find("deciding") == std::string::npos);
  CHECK(run.out.find("count") != std::string::npos);
}

TEST_CASE("erase --from draws a bar over the customers it erases") {
  if (no_terminal_here()) return;
  VaultDir dir;
  vault_of_many(dir, 30);
  std::string ids;
  for (int i = 0; i < 30; ++i) ids += "C-" + std::to_string(2000 + i) + "\n";
  write_file(dir.path("ids.txt"), ids);
  const TerminalRun run =
      run_on_terminal({"erase", "--from", dir.path("ids.txt").string(), "--reason", "batch request"},
                      dir.env(), dir.path("erased.txt"));
  INFO("terminal: " << run.terminal);
  REQUIRE(run.code == 0);
  CHECK(run.terminal.find("erasing [########################] 30/30 customers") != std::string::npos);
  CHECK(run.out.rfind("erased 30 customers", 0) == 0);
}
