// cli_input_test.cpp: every input the consentry command reads is bounded: an endless file, a
// directory, a device or a pipe given where a file is expected, and a hostile JSON document all end
// in exit 2 with a message naming the file, quickly and in little memory. Each run is watched: a
// command that hangs or grows past the memory bound is killed and the test fails.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using consentry::test::file_bytes;
using consentry::test::TempDir;
using consentry::test::write_file;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA);
constexpr const char* kKey = "2B7E151628AED2A6ABF7158809CF4F3C";

/// kMemoryAllowanceKiB is how much more memory than `consentry --help` a run may take: more than
/// any bounded run needs (a 1 MiB line, a vault opened with the minimum KDF) and far less than an
/// unbounded read of /dev/zero reaches before the watchdog looks again.
constexpr long kMemoryAllowanceKiB = 96 * 1024;
constexpr auto kTimeLimit = std::chrono::seconds(30);

/// Watched is what one watched run did: its exit code (-1 when it was killed or died of a
/// signal), what it wrote, why it was killed, and its peak resident memory.
struct Watched {
  int code = -1;
  std::string out;
  std::string err;
  std::string killed;  ///< "" when it ended by itself
  long peak_kib = 0;
};

/// resident_kib reads a running process's resident memory from /proc (0 when it is gone).
long resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string word;
  while (status >> word) {
    if (word == "VmRSS:") {
      long kib = 0;
      status >> kib;
      return kib;
    }
  }
  return 0;
}

long memory_bound_kib();

/// run_watched starts the consentry binary with `args`, stdin from `stdin_path`, the variables
/// of `env` on top of the host's (without its CONSENTRY_ ones), and kills it when it runs past
/// kTimeLimit or its resident memory passes `memory_kib` (default: memory_bound_kib()).
Watched run_watched(const fs::path& scratch, const std::vector<std::string>& args,
                    const std::vector<std::pair<std::string, std::string>>& env = {},
                    const std::string& stdin_path = "/dev/null", long memory_kib = 0) {
  if (memory_kib == 0) memory_kib = memory_bound_kib();
  static int counter = 0;
  ++counter;
  const fs::path out_file = scratch / ("watched-out-" + std::to_string(counter));
  const fs::path err_file = scratch / ("watched-err-" + std::to_string(counter));

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry = *e;
    if (entry.rfind("CONSENTRY_", 0) != 0) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
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
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, CONSENTRY_CLI, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);

  Watched w;
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  struct rusage usage {};
  for (;;) {
    const pid_t done = ::wait4(pid, &status, WNOHANG, &usage);
    REQUIRE(done >= 0);
    if (done == pid) break;
    const long rss = resident_kib(pid);
    w.peak_kib = std::max(w.peak_kib, rss);
    if (w.killed.empty() && rss > memory_kib) w.killed = "resident memory passed the bound";
    if (w.killed.empty() && std::chrono::steady_clock::now() - start > kTimeLimit) w.killed = "ran too long";
    if (!w.killed.empty()) ::kill(pid, SIGKILL);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  w.peak_kib = std::max(w.peak_kib, usage.ru_maxrss);
  if (WIFEXITED(status)) w.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status) && w.killed.empty())
    w.killed = "died of signal " + std::to_string(WTERMSIG(status));
  w.out = file_bytes(out_file);
  w.err = file_bytes(err_file);
  fs::remove(out_file);
  fs::remove(err_file);
  return w;
}

/// memory_bound_kib is the peak memory of `consentry --help` (which a sanitizer build makes large)
/// plus kMemoryAllowanceKiB.
long memory_bound_kib() {
  static const long bound = [] {
    TempDir dir("cli-input");
    const Watched help = run_watched(dir.path(), {"--help"}, {}, "/dev/null", 4L * 1024 * 1024);
    REQUIRE(help.code == 0);
    return help.peak_kib + kMemoryAllowanceKiB;
  }();
  return bound;
}

/// refused checks that a run ended by itself with exit 2 and a one-line message holding `says`.
void refused(const Watched& w, const std::string& says) {
  INFO("stderr: " << w.err);
  INFO("killed: " << w.killed);
  CHECK(w.killed.empty());
  CHECK(w.code == 2);
  CHECK(w.err.find(says) != std::string::npos);
  CHECK(w.peak_kib < memory_bound_kib());
}

/// VaultDir is a temporary directory with a vault made from the CLI fixture policy.
class VaultDir {
 public:
  VaultDir() {
    const Watched w = run({"init", "--policy", (kData / "cli" / "policy.json").string(), "--kdf", "minimum"});
    INFO("stderr: " << w.err);
    INFO("killed: " << w.killed);
    REQUIRE(w.code == 0);
  }
  const fs::path& path() const { return dir_.path(); }
  Watched run(const std::vector<std::string>& args) const {
    return run_watched(dir_.path(), args,
                       {{"CONSENTRY_VAULT", (dir_.path() / "crm.vault").string()},
                        {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }

 private:
  TempDir dir_{"cli-input"};
};

std::string deep_nesting(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

fs::path make_fifo(const fs::path& dir) {
  const fs::path fifo = dir / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  return fifo;
}

}  // namespace

TEST_CASE("import of /dev/zero exits 2 at the 1 MiB line limit, quickly and in bounded memory") {
  TempDir dir("cli-input");
  refused(run_watched(dir.path(), {"import", "/dev/zero", "--format", "jsonl"}),
          "/dev/zero:1: line longer than 1 MiB");
  refused(run_watched(dir.path(), {"import", "/dev/zero", "--format", "csv"}),
          "/dev/zero:1: row longer than 1 MiB");
  // The export format is one document, read whole up to its 64 MiB limit.
  const Watched w = run_watched(dir.path(), {"import", "/dev/zero", "--format", "export"}, {}, "/dev/null",
                                memory_bound_kib() + 768 * 1024);
  INFO("stderr: " << w.err);
  CHECK(w.killed.empty());
  CHECK(w.code == 2);
  CHECK(w.err.find("/dev/zero: $: export larger than 64 MiB") != std::string::npos);
}

TEST_CASE("an import with a duplicate key, a NUL byte or deep nesting exits 2 naming the line") {
  VaultDir vault;
  const fs::path twice = vault.path() / "twice.jsonl";
  write_file(twice, "{\"id\":\"Q-1\",\"fields\":{}}\n{\"id\":\"Q-2\",\"id\":\"Q-3\",\"fields\":{}}\n");
  refused(vault.run({"import", twice.string()}), twice.string() + ":2: $.id: duplicate key 'id'");
  const fs::path nul = vault.path() / "nul.jsonl";
  write_file(nul, std::string("{\"id\":\"Q-1\",\"fields\":{}}\0 garbage\n", 34));
  refused(vault.run({"import", nul.string()}), nul.string() + ":1: column 25: invalid JSON: a NUL byte");
  const fs::path deep = vault.path() / "deep.jsonl";
  write_file(deep, "{\"id\":\"Q-1\",\"x\":" + deep_nesting(100000) + ",\"fields\":{}}\n");
  refused(vault.run({"import", deep.string()}),
          deep.string() + ":1: column 80: JSON nested deeper than 64 levels");
  const fs::path export_deep = vault.path() / "deep.json";
  write_file(export_deep, "{\"x\":" + deep_nesting(100000) + ",\"y\":1}");
  refused(vault.run({"import", export_deep.string(), "--format", "export"}),
          export_deep.string() + ": line 1, column 69: JSON nested deeper than 64 levels");
  // Nothing was imported, not even the good line before the bad one.
  const Watched erase = vault.run({"erase", "Q-1", "--reason", "test"});
  CHECK(erase.code == 5);
  CHECK(erase.err.find("unknown customer") != std::string::npos);
}

TEST_CASE("policy check and init refuse a policy nested 100,000 deep or followed by a NUL byte") {
  TempDir dir("cli-input");
  const fs::path deep = dir.path() / "deep.json";
  write_file(deep, "{\"x\":" + deep_nesting(100000) + ",\"y\":1}");
  refused(run_watched(dir.path(), {"policy", "check", deep.string()}),
          deep.string() + ": line 1, column 69: JSON nested deeper than 64 levels");
  refused(run_watched(dir.path(), {"init", "--policy", deep.string(), "--kdf", "minimum"},
                      {{"CONSENTRY_VAULT", (dir.path() / "crm.vault").string()},
                       {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}}),
          "JSON nested deeper than 64 levels");
  CHECK_FALSE(fs::exists(dir.path() / "crm.vault"));

  const fs::path nul = dir.path() / "nul.json";
  write_file(nul, file_bytes(kData / "cli" / "policy.json") + std::string("\0garbage{{{", 11));
  refused(run_watched(dir.path(), {"policy", "check", nul.string()}), "invalid JSON: a NUL byte");
  refused(run_watched(dir.path(), {"policy", "check", dir.path().string()}),
          dir.path().string() + ": is a directory, not a policy file");
}

TEST_CASE("log verify --against refuses a device, a directory, a pipe and a large file, naming them") {
  VaultDir vault;
  refused(vault.run({"log", "verify", "--against", "/dev/zero"}),
          "/dev/zero: a device, not a checkpoint file");
  refused(vault.run({"log", "verify", "--against", vault.path().string()}),
          vault.path().string() + ": a directory, not a checkpoint file");
  const fs::path fifo = make_fifo(vault.path());
  refused(vault.run({"log", "verify", "--against", fifo.string()}),
          fifo.string() + ": a pipe, not a checkpoint file");
  const fs::path large = vault.path() / "large.json";
  write_file(large, std::string(100 * 1024, ' ') + "{}");
  refused(vault.run({"log", "verify", "--against", large.string()}),
          large.string() + ": larger than 64 KiB, not a checkpoint file");
  const fs::path deep = vault.path() / "deep.json";
  write_file(deep, deep_nesting(10000));
  refused(vault.run({"log", "verify", "--against", deep.string()}),
          deep.string() + ": $: line 1, column 65: JSON nested deeper than 64 levels");
  refused(vault.run({"log", "verify", "--against", (vault.path() / "missing.json").string()}),
          (vault.path() / "missing.json").string() + ": no such file");
}

TEST_CASE("anonymise refuses an input or a hierarchy that is a directory or a pipe") {
  TempDir dir("cli-input");
  const fs::path fifo = make_fifo(dir.path());
  const fs::path release = dir.path() / "release.csv";
  refused(run_watched(dir.path(), {"anonymise", "--input", fifo.string(), "--quasi", "age", "--k", "2", "-o",
                                   release.string()}),
          fifo.string() + ": not a regular file");
  refused(run_watched(dir.path(), {"anonymise", "--input", dir.path().string(), "--quasi", "age", "--k", "2",
                                   "-o", release.string()}),
          dir.path().string() + ": is a directory, not a file");
  // A directory where the age hierarchy should be.
  fs::copy_file(kData / "anonymise" / "hand.csv", dir.path() / "hand.csv");
  fs::create_directory(dir.path() / "hand_hierarchy_age.csv");
  refused(run_watched(dir.path(), {"anonymise", "--input", (dir.path() / "hand.csv").string(), "--quasi",
                                   "age", "--k", "2", "-o", release.string()}),
          (dir.path() / "hand_hierarchy_age.csv").string() + ": is a directory, not a file");
  CHECK_FALSE(fs::exists(release));
}

TEST_CASE("ff1 refuses a key file that is not a regular file and a stdin line longer than 64 KiB") {
  TempDir dir("cli-input");
  refused(run_watched(dir.path(), {"ff1", "encrypt", "--key-file", "/dev/zero", "--radix", "10"}),
          "the key file /dev/zero is not a regular file");
  const fs::path big_key = dir.path() / "key.hex";
  write_file(big_key, std::string(8192, '0'));
  refused(run_watched(dir.path(), {"ff1", "encrypt", "--key-file", big_key.string(), "--radix", "10"}),
          "is larger than 4 KiB");
  // One value, then an endless line.
  const Watched w =
      run_watched(dir.path(), {"ff1", "encrypt", "--key", kKey, "--alphabet", "0123456789"}, {}, "/dev/zero");
  refused(w, "stdin line 1 is longer than 64 KiB");
  const fs::path values = dir.path() / "values.txt";
  write_file(values, "0123456789\n" + std::string(70 * 1024, '1') + "\n");
  const Watched second = run_watched(
      dir.path(), {"ff1", "encrypt", "--key", kKey, "--alphabet", "0123456789"}, {}, values.string());
  refused(second, "stdin line 2 is longer than 64 KiB");
  CHECK(second.out.size() == 11);  // the first value's token and its newline
}
