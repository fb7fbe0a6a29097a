// command_find.cpp: `consentry find`, the customers whose value of an indexed field equals a
// given one, searched by the field's blind index (docs/lookup.md).
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct FindOptions {
  std::string field;
  std::string value;
  std::string purpose;
  std::string accessor;
  bool json = false;
};

// read_value gives VALUE, or the first line of standard input for "-" (so that the value stays
// out of the process list and the shell's history).
std::string read_value(const std::string& value) {
  if (value != "-") return value;
  std::string line;
  if (!std::getline(std::cin, line)) fail(errc::bad_input, "find: no value on standard input");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

int run_find(const GlobalOptions& global, const FindOptions& options) {
  Vault vault = open_vault(global);
  Accessor accessor = unwrap(vault.accessor(options.accessor));
  Stopwatch clock;
  const std::vector<std::string> customers =
      unwrap(accessor.find(options.purpose, options.field, read_value(options.value)));
  verbose("searched by field " + options.field + " for purpose " + options.purpose + " as accessor " +
          options.accessor + " in " + clock.elapsed() + ": " +
          counted(static_cast<std::int64_t>(customers.size()), "customer", "customers") + " found");
  if (options.json) {
    nlohmann::ordered_json out;
    out["field"] = options.field;
    out["purpose"] = options.purpose;
    out["accessor"] = options.accessor;
    out["customers"] = customers;
    print_json(out);
  } else {
    for (const std::string& c : customers) std::cout << c << "\n";
  }
  if (customers.empty()) {
    print_error("no customer found by field '" + options.field + "'");
    return exit_code(errc::not_found);
  }
  return kExitOk;
}

}  // namespace

void add_find_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<FindOptions>();
  CLI::App* app = root.add_subcommand(
      "find", "Find customers by the value of a field the policy indexes for lookups (exit 5: none found)");
  app->add_option("--by", options->field, "The field to search by (one with \"lookup\" in the policy)")
      ->required();
  app->add_option("VALUE", options->value,
                  "The value to find, normalised by the field's type; - reads it from standard input")
      ->required();
  app->add_option("--purpose", options->purpose, "Why the search is made (listed in the field's \"lookup\")")
      ->required();
  app->add_option("--as", options->accessor,
                  "The accessor (CRM feature) searching; the audit log names --actor (or CONSENTRY_ACTOR) "
                  "beside it")
      ->required();
  app->add_flag("--json", options->json,
                "Print JSON: {\"field\", \"purpose\", \"accessor\", \"customers\": [...]}");
  commands.push_back({app, [&global, options] { return run_find(global, *options); }});
}

}  // namespace consentry::cli
