// command_init.cpp: `consentry init`, which creates a vault and its master key.
#include <iostream>
#include <map>
#include <memory>
#include <system_error>

#include "consentry/policy.hpp"
#include "options.hpp"

namespace consentry::cli {

namespace {

struct InitOptions {
  std::string policy_file;
  std::string kdf = "interactive";
};

const std::map<std::string, KdfStrength> kKdfStrengths = {
    {"minimum", KdfStrength::minimum},
    {"interactive", KdfStrength::interactive},
    {"moderate", KdfStrength::moderate},
    {"sensitive", KdfStrength::sensitive},
};

int run_init(const GlobalOptions& global, const InitOptions& options) {
  std::filesystem::path path = vault_path(global);
  Policy policy = unwrap(Policy::load(options.policy_file));
  // Refused before the passphrase prompt, so nobody types a new passphrase for nothing.
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) fail(errc::already_exists, path.string() + " already exists");

  SecretBytes passphrase = read_passphrase("New passphrase for " + path.string() + ": ", true);
  VaultOptions vault_options = cli_vault_options();
  vault_options.kdf = kKdfStrengths.at(options.kdf);
  Vault vault = unwrap(Vault::create(path, policy, passphrase.reveal_string(), vault_options));
  std::cout << "created " << path.string() << " (policy: " << counts_of(vault.policy()) << ")\n";
  return kExitOk;
}

}  // namespace

void add_init_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<InitOptions>();
  CLI::App* app = root.add_subcommand("init", "Create a vault and its master key");
  app->add_option("--policy", options->policy_file, "The policy file (JSON)")->required();
  std::vector<std::string> strengths;
  for (const auto& [name, strength] : kKdfStrengths) strengths.push_back(name);
  app->add_option("--kdf", options->kdf, "Argon2id strength for the passphrase key")
      ->check(CLI::IsMember(strengths))
      ->capture_default_str();
  commands.push_back({app, [&global, options] { return run_init(global, *options); }});
}

}  // namespace consentry::cli
