// main.cpp: the consentry command: parses the command line and runs one subcommand.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>
#include <string>

#include "options.hpp"
#include "verbose.hpp"

namespace {

/// command_path names a leaf subcommand with its parents, without the program: "keys rotate".
std::string command_path(const CLI::App& app) {
  std::string path = app.get_name();
  for (const CLI::App* parent = app.get_parent(); parent && parent->get_parent();
       parent = parent->get_parent()) {
    path = parent->get_name() + " " + path;
  }
  return path;
}

/// run_command runs `command` and returns its exit code, also when it ends by an ExitRequest.
int run_command(const consentry::cli::Command& command) {
  using namespace consentry::cli;
  try {
    return command.run();
  } catch (const ExitRequest& request) {
    return request.code;
  } catch (const std::exception&) {
    // The text of an unexpected exception is not printed: it could quote input it choked on.
    print_error("internal error");
    return kExitUsage;
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace consentry::cli;

  CLI::App app{"Consent-gated, encrypted customer data for CRM backends.", "consentry"};
  app.require_subcommand(1);
  // Global options may follow the subcommand too: `consentry read C-1 --vault crm.vault`.
  app.fallthrough();
  GlobalOptions global;
  app.add_option("--vault", global.vault, "The vault file (or set CONSENTRY_VAULT)")
      ->envname("CONSENTRY_VAULT");
  app.add_option("--key-file", global.key_file, "Seal the master key with this key file, not a passphrase")
      ->envname("CONSENTRY_KEY_FILE");
  bool verbose_flag = false;
  app.add_flag("--verbose", verbose_flag,
               "Report what the command does on stderr (never a value, a passphrase or a key)");

  Commands commands;
  add_init_command(app, global, commands);
  add_policy_commands(app, global, commands);
  add_import_command(app, global, commands);
  add_consent_commands(app, global, commands);
  add_read_command(app, global, commands);
  add_log_commands(app, global, commands);
  add_erase_command(app, global, commands);
  add_backup_command(app, global, commands);
  add_keys_commands(app, global, commands);
  add_export_command(app, global, commands);
  add_audit_command(app, global, commands);
  add_inventory_command(app, global, commands);
  add_purge_command(app, global, commands);
  add_derive_command(app, global, commands);
  add_contact_command(app, global, commands);
  add_ff1_commands(app, global, commands);
  add_anonymise_command(app, global, commands);
  add_stats_command(app, global, commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    print_error(e.what());
    std::cerr << "run 'consentry --help' for usage\n";
    return kExitUsage;
  }

  set_verbose(verbose_flag);
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    const std::string name = command_path(*command.app);
    verbose("running '" + name + "'");
    Stopwatch clock;
    const int code = run_command(command);
    verbose("'" + name + "' finished in " + clock.elapsed() + " with exit code " + std::to_string(code));
    return code;
  }
  print_error("no command given");
  return kExitUsage;
}
