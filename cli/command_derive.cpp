// command_derive.cpp: `consentry derive`, writing an inferred value, only with profiling consent.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct DeriveOptions {
  std::string customer;
  std::string field;
  std::string value;
};

int run_derive(const GlobalOptions& global, const DeriveOptions& options) {
  Vault vault = open_vault(global);
  // Refused with exit 3 (inference_needs_profiling) unless the customer consents to profiling.
  unwrap(vault.derive(options.customer, options.field, options.value));
  verbose_audit(vault, options.customer);
  std::cout << "derived " << options.field << " for " << options.customer << "\n";
  return kExitOk;
}

}  // namespace

void add_derive_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<DeriveOptions>();
  CLI::App* app = root.add_subcommand(
      "derive",
      "Write an inferred value (a field of category inferred); refused unless the customer consents to "
      "profiling");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("FIELD", options->field, "An inferred field of the policy")->required();
  app->add_option("VALUE", options->value, "The inferred value")->required();
  commands.push_back({app, [&global, options] { return run_derive(global, *options); }});
}

}  // namespace consentry::cli
