// command_inventory.cpp: `consentry inventory`, the record of processing (GDPR Art. 30).
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct InventoryOptions {
  std::string window = "P30D";
  std::string unused;  ///< empty = no minimisation hint
  bool json = false;
};

IsoDuration duration_option(const std::string& name, const std::string& text) {
  auto d = parse_iso_duration(text);
  if (!d) usage_failure(name + " must be an ISO 8601 duration such as P30D or P3M");
  return *d;
}

int run_inventory(const GlobalOptions& global, const InventoryOptions& options) {
  const IsoDuration window = duration_option("--window", options.window);
  std::optional<IsoDuration> unused;
  if (!options.unused.empty()) unused = duration_option("--unused", options.unused);
  Vault vault = open_vault(global);
  Stopwatch clock;
  Inventory inventory = unwrap(vault.inventory(window, unused));
  verbose("counted holders and reads of " +
          counted(static_cast<std::int64_t>(inventory.fields.size()), "field", "fields") + " in " +
          clock.elapsed());
  std::cout << (options.json ? inventory_json(inventory) : inventory_text(inventory));
  return kExitOk;
}

}  // namespace

void add_inventory_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<InventoryOptions>();
  CLI::App* app = root.add_subcommand(
      "inventory",
      "The record of processing: per field its category, purposes, forms, basis, retention, holders "
      "and reads per purpose");
  app->add_option("--window", options->window, "Count reads over this last period (default P30D)");
  app->add_option("--unused", options->unused,
                  "Also list the fields no purpose read over this last period (e.g. P90D)");
  app->add_flag("--json", options->json, "Print JSON instead of a table");
  commands.push_back({app, [&global, options] { return run_inventory(global, *options); }});
}

}  // namespace consentry::cli
