// command_init.cpp: `consentry init`, which creates a vault and its master key.
#include <iostream>
#include <map>
#include <memory>
#include <system_error>

#include "commands.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/policy.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct InitOptions {
  std::string policy_file;
  std::string kdf = "interactive";
};

int run_init(const GlobalOptions& global, const InitOptions& options) {
  std::filesystem::path path = vault_path(global);
  verbose("loading policy " + options.policy_file);
  Policy policy = unwrap(Policy::load(options.policy_file));
  verbose("policy format " + std::to_string(Policy::kFormatVersion) + ": " + counts_of(policy));
  // Refused before the passphrase prompt, so nobody types a new passphrase for nothing.
  const std::string name = vault_name(global);
  std::error_code ec;
  if (is_postgres_url(path.native())) {
    // An unreachable server is found here too, before anyone types.
    auto existing = open_postgres_store(path.native(), StoreMode::open);
    if (existing) fail(errc::already_exists, name + " already holds a vault");
    if (existing.err().code != errc::not_found) fail(existing.err());
  } else if (std::filesystem::exists(path, ec)) {
    fail(errc::already_exists, path.string() + " already exists");
  }

  VaultOptions vault_options = cli_vault_options(global);
  vault_options.kdf = kdf_strengths().at(options.kdf);
  auto provider = key_provider(global, true, vault_options.kdf);
  verbose("creating vault " + name + " with master key version 1");
  Stopwatch clock;
  auto created = Vault::create(path, policy, provider, vault_options);
  // A key file made for a vault that could not be made would only be refused by the next init.
  if (!created && !global.key_file.empty()) std::filesystem::remove(global.key_file, ec);
  Vault vault = unwrap(std::move(created));
  verbose("created and sealed in " + clock.elapsed());
  std::cout << "created " << name << " (policy: " << counts_of(vault.policy()) << ")\n";
  return kExitOk;
}

}  // namespace

void add_init_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* app = root.add_subcommand("init", "Create a vault and its master key");
  app->add_option("--policy", options->policy_file, "The policy file (JSON)")->required();
  std::vector<std::string> strengths;
  for (const auto& [name, strength] : kdf_strengths()) strengths.push_back(name);
  app->add_option("--kdf", options->kdf, "Argon2id strength for the passphrase key")
      ->check(CLI::IsMember(strengths))
      ->capture_default_str();
  commands.push_back({app, [&global, options] { return run_init(global, *options); }});
}

}  // namespace consentry::cli
