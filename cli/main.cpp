// main.cpp: the consentry command: parses the command line and runs one subcommand.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "options.hpp"

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help
    print_error(e.what());
    std::cerr << "run 'consentry --help' for usage\n";
    return kExitUsage;
  }

  try {
    for (const Command& command : commands) {
      if (command.app->parsed()) return command.run();
    }
  } catch (const ExitRequest& request) {
    return request.code;
  } catch (const std::exception&) {
    // The text of an unexpected exception is not printed: it could quote input it choked on.
    print_error("internal error");
    return kExitUsage;
  }
  print_error("no command given");
  return kExitUsage;
}
