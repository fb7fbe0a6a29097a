// cli_vault_dir.hpp: a fresh directory with one vault (or more) that tests run the consentry
// binary against, under the CLI fixture policy and customers (tests/data/cli).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace consentry::test {

/// kCliData holds the CLI fixtures: policy.json, customers.jsonl, customers.csv, ...
inline const std::filesystem::path kCliData = std::filesystem::path(CONSENTRY_TEST_DATA) / "cli";

/// Env lists CONSENTRY_ variables to set for a run.
using Env = std::map<std::string, std::string>;

/// VaultDir runs consentry against one vault (crm.vault, or another name) in a fresh directory.
class VaultDir {
 public:
  /// path names a file in the directory.
  std::filesystem::path path(const std::string& name) const { return dir_.path() / name; }

  /// env is the vault and the test passphrase, or the key file when `key_file` is set.
  Env env(const std::string& vault = "crm.vault") const {
    if (key_file_)
      return {{"CONSENTRY_VAULT", path(vault).string()}, {"CONSENTRY_KEY_FILE", path("crm.key").string()}};
    return {{"CONSENTRY_VAULT", path(vault).string()}, {"CONSENTRY_PASSPHRASE", kTestPassphrase}};
  }
  /// use_key_file makes env() name crm.key instead of the passphrase.
  void use_key_file() { key_file_ = true; }

  /// run runs consentry in the directory against `vault`; run_env with the variables given.
  CliOutput run(const std::vector<std::string>& args, const std::optional<std::string>& input = std::nullopt,
                const std::string& vault = "crm.vault") const {
    return run_env(args, env(vault), input);
  }
  CliOutput run_env(const std::vector<std::string>& args, const Env& env,
                    const std::optional<std::string>& input = std::nullopt) const {
    return run_consentry(dir_.path(), args, CliEnv(env.begin(), env.end()), input);
  }
  /// init creates the vault under the fixture policy; import loads the fixture customers.
  void init(const std::string& vault = "crm.vault") const {
    must({"init", "--policy", (kCliData / "policy.json").string(), "--kdf", "minimum"}, vault);
  }
  void import(const std::string& vault = "crm.vault") const {
    must({"import", (kCliData / "customers.jsonl").string()}, vault);
  }
  /// must runs and requires exit 0.
  CliOutput must(const std::vector<std::string>& args, const std::string& vault = "crm.vault") const {
    CliOutput o = run(args, std::nullopt, vault);
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
    return o;
  }

 private:
  TempDir dir_{"cli-vault"};
  bool key_file_ = false;
};

}  // namespace consentry::test
