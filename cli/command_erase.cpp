// command_erase.cpp: `consentry erase`, the customer's right to erasure.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

int run_erase(const GlobalOptions& global, const std::string& customer) {
  Vault vault = open_vault(global);
  // not_found and erased both exit 5: unknown and already erased.
  verbose("erasing " + customer +
          ": destroying the data key, deleting values and consent events, compacting the vault files");
  Stopwatch clock;
  unwrap(vault.erase(customer));
  verbose("erased in " + clock.elapsed());
  verbose_audit(vault, customer);
  std::cout << "erased " << customer << "\n";
  return kExitOk;
}

}  // namespace

void add_erase_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto customer = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand(
      "erase",
      "Erase a customer: destroy their data key, delete their values and consent, keep the audit log");
  app->add_option("CUSTOMER", *customer, "The customer id")->required();
  commands.push_back({app, [&global, customer] { return run_erase(global, *customer); }});
}

}  // namespace consentry::cli
