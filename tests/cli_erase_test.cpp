// cli_erase_test.cpp: `consentry erase` and `consentry backup`, run as separate processes: exit
// codes, what reads of an erased customer print, the vault files scanned for the customer's key,
// and backups that open with the passphrase.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

extern char** environ;

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";
constexpr const char* kPassphrase = "correct horse battery staple";

std::string slurp(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Output {
  int code = -1;
  std::string out;
  std::string err;
};

/// Scratch is a fresh directory holding a vault, removed with everything in it.
class Scratch {
 public:
  Scratch() {
    std::string pattern = (fs::temp_directory_path() / "consentry-cli-erase-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  const fs::path& dir() const { return dir_; }
  fs::path vault() const { return dir_ / "crm.vault"; }

  /// run starts the consentry binary on `vault` with the passphrase, stdin from /dev/null.
  Output run(const std::vector<std::string>& args, const fs::path& vault_file = {}) {
    ++runs_;
    const fs::path out_file = dir_ / ("out-" + std::to_string(runs_));
    const fs::path err_file = dir_ / ("err-" + std::to_string(runs_));
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("CONSENTRY_", 0) != 0) env_strings.emplace_back(*e);
    env_strings.push_back("CONSENTRY_VAULT=" + (vault_file.empty() ? vault() : vault_file).string());
    env_strings.push_back(std::string("CONSENTRY_PASSPHRASE=") + kPassphrase);
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
    return Output{WEXITSTATUS(status), slurp(out_file), slurp(err_file)};
  }

  void init_and_import() {
    Output init = run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
    INFO("stderr: " << init.err);
    REQUIRE(init.code == 0);
    Output import = run({"import", (kData / "customers.jsonl").string()});
    INFO("stderr: " << import.err);
    REQUIRE(import.code == 0);
  }

  Output read_service(const std::string& customer, const fs::path& vault_file = {}) {
    return run({"read", customer, "--purpose", "service", "--as", "support-desk", "--json"}, vault_file);
  }

 private:
  fs::path dir_;
  int runs_ = 0;
};

// wrapped_key reads a customer's wrapped data key straight from the vault file.
std::string wrapped_key(const fs::path& file, const std::string& customer) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT wrapped FROM data_keys WHERE customer = ?1", -1, &st, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_text(st, 1, customer.c_str(), -1, SQLITE_TRANSIENT);
  std::string out;
  if (sqlite3_step(st) == SQLITE_ROW)
    out.assign(static_cast<const char*>(sqlite3_column_blob(st, 0)),
               static_cast<std::size_t>(sqlite3_column_bytes(st, 0)));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

std::string vault_files(const fs::path& file) {
  std::string all = slurp(file);
  for (const char* suffix : {"-wal", "-journal"})
    if (fs::exists(file.string() + suffix)) all += slurp(file.string() + suffix);
  return all;
}

}  // namespace

TEST_CASE("cli: erase removes the customer's key from the files; reads, consent and a second erase exit 5") {
  Scratch s;
  s.init_and_import();
  const std::string key = wrapped_key(s.vault(), "C-1001");
  REQUIRE(key.size() >= 32);
  REQUIRE(vault_files(s.vault()).find(key) != std::string::npos);
  const Output bob_before = s.read_service("C-1002");
  REQUIRE(bob_before.code == 0);

  Output erased = s.run({"erase", "C-1001"});
  INFO("stderr: " << erased.err);
  REQUIRE(erased.code == 0);
  CHECK(erased.out == "erased C-1001\n");

  const std::string files = vault_files(s.vault());
  CHECK(files.find(key) == std::string::npos);
  CHECK(files.find("C-1001") == std::string::npos);

  Output read = s.read_service("C-1001");
  CHECK(read.code == 5);
  CHECK(read.out.empty());
  CHECK(read.err.find("erased") != std::string::npos);
  Output consent = s.run({"consent", "show", "C-1001"});
  CHECK(consent.code == 5);
  CHECK(consent.err.find("erased") != std::string::npos);
  Output grant = s.run({"consent", "grant", "C-1001", "marketing.email"});
  CHECK(grant.code == 5);
  Output again = s.run({"erase", "C-1001"});
  CHECK(again.code == 5);
  CHECK(again.err.find("erased") != std::string::npos);
  Output unknown = s.run({"erase", "C-404"});
  CHECK(unknown.code == 5);
  CHECK(unknown.err.find("unknown customer") != std::string::npos);

  // Others read exactly as before, and the log, erasure entry included, still verifies.
  CHECK(s.read_service("C-1002").out == bob_before.out);
  Output verify = s.run({"log", "verify"});
  INFO("verify: " << verify.out << verify.err);
  CHECK(verify.code == 0);
  Output log = s.run({"log", "show", "--customer", "C-1001", "--json"});
  CHECK(log.code == 0);
  CHECK(log.out.find("erasure") != std::string::npos);
}

TEST_CASE(
    "cli: backup makes a copy that opens with the passphrase and reads the same; it refuses an existing "
    "file") {
  Scratch s;
  s.init_and_import();
  const fs::path copy = s.dir() / "crm-backup.vault";
  Output backup = s.run({"backup", copy.string()});
  INFO("stderr: " << backup.err);
  REQUIRE(backup.code == 0);
  CHECK(backup.out == "backed up to " + copy.string() + "\n");
  CHECK((fs::status(copy).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));

  for (const char* customer : {"C-1001", "C-1002"}) {
    Output original = s.read_service(customer);
    Output restored = s.read_service(customer, copy);
    REQUIRE(original.code == 0);
    CHECK(restored.code == 0);
    CHECK(restored.out == original.out);
  }

  const std::string before = slurp(copy);
  Output refused = s.run({"backup", copy.string()});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("already exists") != std::string::npos);
  CHECK(slurp(copy) == before);

  // The erasure window: erasing from the vault does not reach a backup taken before.
  REQUIRE(s.run({"erase", "C-1001"}).code == 0);
  CHECK(s.read_service("C-1001").code == 5);
  CHECK(s.read_service("C-1001", copy).code == 0);
}
