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

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/raw_sql.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

using consentry::test::file_bytes;

using Output = consentry::test::CliOutput;

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
    return consentry::test::run_consentry(
        dir_, args,
        {{"CONSENTRY_VAULT", (vault_file.empty() ? vault() : vault_file).string()},
         {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
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
};

using consentry::test::wrapped_key;

using consentry::test::vault_files;

}  // namespace

TEST_CASE("cli: erase removes the customer's key from the files, reads, consent and a second erase exit 5") {
  Scratch s;
  s.init_and_import();
  const std::string key = wrapped_key(s.vault(), "C-1001");
  REQUIRE(key.size() >= 32);
  REQUIRE(vault_files(s.vault()).find(key) != std::string::npos);
  const Output bob_before = s.read_service("C-1002");
  REQUIRE(bob_before.code == 0);

  Output erased = s.run({"erase", "C-1001", "--reason", "customer request"});
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
  Output again = s.run({"erase", "C-1001", "--reason", "customer request"});
  CHECK(again.code == 5);
  CHECK(again.err.find("erased") != std::string::npos);
  Output unknown = s.run({"erase", "C-404", "--reason", "customer request"});
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
    "cli: backup makes a copy that opens with the passphrase and reads the same, it refuses an existing "
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

  const std::string before = file_bytes(copy);
  Output refused = s.run({"backup", copy.string()});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("already exists") != std::string::npos);
  CHECK(file_bytes(copy) == before);

  // The erasure window: erasing from the vault does not reach a backup taken before.
  REQUIRE(s.run({"erase", "C-1001", "--reason", "customer request"}).code == 0);
  CHECK(s.read_service("C-1001").code == 5);
  CHECK(s.read_service("C-1001", copy).code == 0);
}

TEST_CASE(
    "cli: erase --from erases every customer a file lists, skips and reports the unknown, checks the file") {
  Scratch s;
  s.init_and_import();
  const std::string ann_key = wrapped_key(s.vault(), "C-1001");
  const std::string bob_key = wrapped_key(s.vault(), "C-1002");
  auto write = [&](const char* name, const std::string& text) {
    const fs::path file = s.dir() / name;
    std::ofstream(file, std::ios::binary) << text;
    return file.string();
  };

  // A file that is not a list of ids is refused naming its line, and nothing is erased.
  const std::string twice = write("twice.txt", "C-1001\nC-1001\n");
  Output refused = s.run({"erase", "--from", twice, "--reason", "batch request"});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("twice.txt:2: a customer listed twice") != std::string::npos);
  const std::string control = write("control.txt", "C-1001\nC-\x01\n");
  refused = s.run({"erase", "--from", control, "--reason", "batch request"});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("control.txt:2") != std::string::npos);
  CHECK(s.run({"erase", "--from", write("empty.txt", "\n\n"), "--reason", "r"}).code == 2);
  CHECK(s.run({"erase", "C-1001", "--from", twice, "--reason", "r"}).code == 1);
  CHECK(s.read_service("C-1001").code == 0);

  // A dry run counts and changes nothing; CRLF line ends and blank lines are read.
  const std::string list = write("ids.txt", "C-1001\r\n\nC-404\r\nC-1002\n");
  Output dry = s.run({"erase", "--from", list, "--dry-run", "--json"});
  CHECK(dry.code == 5);  // C-404 is unknown
  const auto counted = nlohmann::json::parse(dry.out);
  CHECK(counted.at("erased") == 2);
  CHECK(counted.at("values") == 5);
  CHECK(counted.at("not_found") == nlohmann::json::array({"C-404"}));
  CHECK(s.read_service("C-1001").code == 0);

  // The erasure: both known customers, each audited; the unknown one reported, exit 5.
  Output erased = s.run({"erase", "--from", list, "--reason", "batch request", "--request", "T-9"});
  INFO("stderr: " << erased.err);
  CHECK(erased.code == 5);
  CHECK(erased.out.find("erased 2 customers (5 values, 0 consent events)") != std::string::npos);
  CHECK(erased.out.find("not found: C-404") != std::string::npos);
  const std::string files = vault_files(s.vault());
  CHECK(files.find(ann_key) == std::string::npos);
  CHECK(files.find(bob_key) == std::string::npos);
  CHECK(s.read_service("C-1001").code == 5);
  CHECK(s.read_service("C-1002").code == 5);
  Output entries = s.run({"log", "show", "--action", "erasure", "--json"});
  REQUIRE(entries.code == 0);
  CHECK(nlohmann::json::parse(entries.out).size() == 2);
  CHECK(s.run({"log", "verify"}).code == 0);

  // Again: both already erased, which is no error.
  Output again =
      s.run({"erase", "--from", write("again.txt", "C-1001\nC-1002\n"), "--reason", "batch request"});
  CHECK(again.code == 0);
  CHECK(again.out.find("2 customers were already erased") != std::string::npos);
}
