// commands.hpp: the registry of subcommands: what runs when the command line selected one, and
// the add_* function of each command_*.cpp that declares its subcommands.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <vector>

#include "global_options.hpp"

namespace consentry::cli {

/// Command is a leaf subcommand and what runs when the command line selected it.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

/// The add_* functions declare each subcommand on `root` and append what runs it to `commands`.
void add_init_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_policy_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_import_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_consent_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_read_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_find_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_log_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_erase_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_backup_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_keys_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_export_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_audit_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_inventory_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_purge_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_derive_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_contact_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_ff1_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_anonymise_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_risk_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_stats_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_receipt_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
/// add_contact_preference_commands adds `limit`, `opt-out` and `opt-in` under `consent`.
void add_contact_preference_commands(CLI::App& consent, const GlobalOptions& global, Commands& commands);

}  // namespace consentry::cli
