// command_audit.cpp: `consentry audit`, the staff view of what is held about one customer.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct AuditOptions {
  std::string customer;
  bool json = false;
  std::size_t last = 20;
};

int run_audit(const GlobalOptions& global, const AuditOptions& options) {
  Vault vault = open_vault(global);
  // Metadata only: nothing is decrypted.
  SubjectReport report = unwrap(vault.describe_subject(options.customer));
  verbose("described " + counted(static_cast<std::int64_t>(report.fields.size()), "field", "fields") +
          " of " + options.customer);
  std::cout << (options.json ? staff_audit_json(report, options.last)
                             : staff_audit_text(report, options.last));
  return kExitOk;
}

}  // namespace

void add_audit_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<AuditOptions>();
  CLI::App* app = root.add_subcommand(
      "audit",
      "What is held about a customer, as metadata only: fields, sources, retention, consents, last "
      "accesses, and flags for data past retention, third-party and inferred data");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_flag("--json", options->json, "Print JSON instead of tables");
  app->add_option("--last", options->last, "How many of the latest accesses to list (default 20)")
      ->check(CLI::Range(std::size_t{0}, std::size_t{100000}));
  commands.push_back({app, [&global, options] { return run_audit(global, *options); }});
}

}  // namespace consentry::cli
