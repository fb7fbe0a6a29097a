// cli_keys_test.cpp: `consentry keys` and `--key-file`, run as a separate process: exit 4 for a
// wrong passphrase or key file, passphrase changes, rotation, retirement and loose key files.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";
// kOld and kNew: the passphrases before and after a change.
constexpr const char* kOld = consentry::test::kTestPassphrase;
constexpr const char* kNew = "tr0ub4dor and then some";
constexpr const char* kAnnEmail = "ann@example.com";

using Output = consentry::test::CliOutput;

using consentry::test::file_bytes;

/// Env sets CONSENTRY_ variables (every other CONSENTRY_ variable of the host is dropped).
using Env = std::map<std::string, std::string>;

/// Scratch runs consentry in a fresh directory.
class Scratch {
 public:
  Scratch() {
    static std::atomic<int> n{0};
    dir_ = fs::temp_directory_path() /
           ("consentry-cli-keys-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  fs::path path(const std::string& name) const { return dir_ / name; }

  Output run(const std::vector<std::string>& args, const Env& env) const {
    Output o = consentry::test::run_consentry(dir_, args, consentry::test::CliEnv(env.begin(), env.end()));
    // No failing keys command prints a value or a passphrase.
    for (const char* secret : {kAnnEmail, kOld, kNew}) {
      CHECK(o.err.find(secret) == std::string::npos);
      if (o.code != 0) CHECK(o.out.find(secret) == std::string::npos);
    }
    return o;
  }

 private:
  fs::path dir_;
};

Env with_passphrase(const Scratch& s, const char* passphrase) {
  return {{"CONSENTRY_VAULT", s.path("crm.vault").string()}, {"CONSENTRY_PASSPHRASE", passphrase}};
}

Env with_key_file(const Scratch& s, const std::string& key = "crm.key",
                  const std::string& vault = "crm.vault") {
  return {{"CONSENTRY_VAULT", s.path(vault).string()}, {"CONSENTRY_KEY_FILE", s.path(key).string()}};
}

void init_and_import(const Scratch& s, const Env& env) {
  Output init = s.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"}, env);
  INFO("stderr: " << init.err);
  REQUIRE(init.code == 0);
  Output import = s.run({"import", (kData / "customers.jsonl").string()}, env);
  INFO("stderr: " << import.err);
  REQUIRE(import.code == 0);
}

/// ann reads C-1001's email as the support desk; exit code and stdout.
Output ann(const Scratch& s, const Env& env) {
  return s.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email"}, env);
}

nlohmann::json status_json(const Scratch& s, const Env& env) {
  Output o = s.run({"keys", "status", "--json"}, env);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  return nlohmann::json::parse(o.out);
}

}  // namespace

TEST_CASE("cli: a wrong passphrase exits 4 and the vault file is left as it was") {
  Scratch s;
  init_and_import(s, with_passphrase(s, kOld));
  const std::string before = file_bytes(s.path("crm.vault"));
  Output o = s.run({"keys", "status"}, with_passphrase(s, "not the passphrase"));
  CHECK(o.code == 4);
  CHECK(o.err.find("wrong passphrase") != std::string::npos);
  CHECK(ann(s, with_passphrase(s, "not the passphrase")).code == 4);
  CHECK(file_bytes(s.path("crm.vault")) == before);
}

TEST_CASE("cli: keys passphrase re-seals under CONSENTRY_NEW_PASSPHRASE and data keys stay") {
  Scratch s;
  init_and_import(s, with_passphrase(s, kOld));
  Env env = with_passphrase(s, kOld);
  // Without a terminal and without the variable there is no new passphrase: usage error.
  Output none = s.run({"keys", "passphrase"}, env);
  CHECK(none.code == 1);
  CHECK(none.err.find("CONSENTRY_NEW_PASSPHRASE") != std::string::npos);
  env["CONSENTRY_NEW_PASSPHRASE"] = kOld;
  CHECK(s.run({"keys", "passphrase"}, env).code == 1);  // the same one again

  env["CONSENTRY_NEW_PASSPHRASE"] = kNew;
  Output changed = s.run({"keys", "passphrase", "--kdf", "minimum"}, env);
  INFO("stderr: " << changed.err);
  REQUIRE(changed.code == 0);
  CHECK(ann(s, with_passphrase(s, kOld)).code == 4);
  Output read = ann(s, with_passphrase(s, kNew));
  CHECK(read.code == 0);
  CHECK(read.out.find(kAnnEmail) != std::string::npos);
  CHECK(status_json(s, with_passphrase(s, kNew))["current"] == 1);
}

TEST_CASE("cli: keys rotate re-wraps under a new version, --retire with a passphrase needs a new one") {
  Scratch s;
  init_and_import(s, with_passphrase(s, kOld));
  Env env = with_passphrase(s, kOld);
  Output rotated = s.run({"keys", "rotate", "--batch", "1", "--json"}, env);
  INFO("stderr: " << rotated.err);
  REQUIRE(rotated.code == 0);
  auto report = nlohmann::json::parse(rotated.out);
  CHECK(report["version"] == 2);
  CHECK(report["rewrapped"] == 2);
  CHECK(report["resumed"] == false);
  auto status = status_json(s, env);
  CHECK(status["versions"] == nlohmann::json::array({1, 2}));
  CHECK(status["data_keys"] == nlohmann::json{{"2", 2}});
  CHECK(s.run({"keys", "rotate", "--batch", "0"}, env).code == 1);

  // Asked for before anything changes: no rotation happens without the new passphrase.
  Output refused = s.run({"keys", "rotate", "--retire"}, env);
  CHECK(refused.code == 1);
  CHECK(status_json(s, env)["current"] == 2);

  env["CONSENTRY_NEW_PASSPHRASE"] = kNew;
  Output retired = s.run({"keys", "rotate", "--retire", "--kdf", "minimum"}, env);
  INFO("stderr: " << retired.err);
  REQUIRE(retired.code == 0);
  CHECK(retired.out.find("retired master key versions 1, 2") != std::string::npos);
  CHECK(retired.out.find("forget the old one") != std::string::npos);
  CHECK(ann(s, with_passphrase(s, kOld)).code == 4);
  status = status_json(s, with_passphrase(s, kNew));
  CHECK(status["versions"] == nlohmann::json::array({3}));
  Output log = s.run({"log", "show", "--json"}, with_passphrase(s, kNew));
  REQUIRE(log.code == 0);
  int rotations = 0;
  for (const auto& e : nlohmann::json::parse(log.out)) rotations += e["action"] == "key_rotation";
  CHECK(rotations == 3);
}

TEST_CASE("cli: a key-file vault needs its own 0600 key file, and retiring locks out older copies") {
  Scratch s;
  const Env env = with_key_file(s);
  init_and_import(s, env);
  struct stat st {};
  REQUIRE(::stat(s.path("crm.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(ann(s, env).code == 0);
  // A second init with the same key file is refused: each vault needs its own.
  Output again =
      s.run({"init", "--policy", (kData / "policy.json").string()}, with_key_file(s, "crm.key", "b.vault"));
  CHECK(again.code == 2);

  // Without the key file, a passphrase does not open it (exit 4, saying why).
  Output by_passphrase = ann(s, with_passphrase(s, kOld));
  CHECK(by_passphrase.code == 4);
  CHECK(by_passphrase.err.find("key-file") != std::string::npos);
  // Another vault's key file: exit 4.
  init_and_import(s, with_key_file(s, "other.key", "other.vault"));
  CHECK(ann(s, with_key_file(s, "other.key")).code == 4);
  // A loose key file is refused, saying how to fix it.
  fs::permissions(s.path("crm.key"), fs::perms::others_read, fs::perm_options::add);
  Output loose = ann(s, env);
  CHECK(loose.code == 2);
  CHECK(loose.err.find("chmod 600") != std::string::npos);
  fs::permissions(s.path("crm.key"), fs::perms::others_read, fs::perm_options::remove);

  // An old copy of the vault opens until the old version is retired, then never again.
  fs::copy_file(s.path("crm.vault"), s.path("old.vault"));
  CHECK(ann(s, with_key_file(s, "crm.key", "old.vault")).code == 0);
  Output retired = s.run({"keys", "rotate", "--retire"}, env);
  INFO("stderr: " << retired.err);
  REQUIRE(retired.code == 0);
  CHECK(retired.out.find("retired master key version 1") != std::string::npos);
  CHECK(ann(s, env).code == 0);
  Output old = ann(s, with_key_file(s, "crm.key", "old.vault"));
  CHECK(old.code == 4);
  CHECK(old.err.find("retired") != std::string::npos);
}
