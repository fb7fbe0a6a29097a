// command_backup.cpp: `consentry backup`, a consistent copy of the vault taken while it is in use.
#include <iostream>
#include <memory>

#include "options.hpp"

namespace consentry::cli {

namespace {

int run_backup(const GlobalOptions& global, const std::string& file) {
  // Refused before the passphrase is asked for; backup_to checks again, atomically.
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) fail(errc::already_exists, file + " already exists");
  Vault vault = open_vault(global);
  unwrap(vault.backup(file));
  std::cout << "backed up to " << file << "\n";
  return kExitOk;
}

}  // namespace

void add_backup_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto file = std::make_shared<std::string>();
  CLI::App* app =
      root.add_subcommand("backup", "Copy the vault, consistently and while it is in use, to a new file");
  app->add_option("FILE", *file, "The backup file to create (refused if it exists)")->required();
  commands.push_back({app, [&global, file] { return run_backup(global, *file); }});
}

}  // namespace consentry::cli
