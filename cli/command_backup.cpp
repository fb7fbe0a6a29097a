// command_backup.cpp: `consentry backup`, a consistent copy of the vault taken while it is in use.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

int run_backup(const GlobalOptions& global, const std::string& file) {
  // Refused before the passphrase is asked for; backup_to checks again, atomically.
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) fail(errc::already_exists, file + " already exists");
  Vault vault = open_vault(global);
  verbose("copying the vault to " + file);
  Stopwatch clock;
  unwrap(vault.backup(file));
  if (verbose_enabled()) {
    const auto size = std::filesystem::file_size(file, ec);
    verbose("backup written in " + clock.elapsed() +
            (ec ? std::string() : ": " + std::to_string(size) + " bytes, mode 0600"));
  }
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
