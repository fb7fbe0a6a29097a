// command_purge.cpp: `consentry purge`, deleting the values kept past their retention.
#include <iostream>
#include <memory>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct PurgeCliOptions {
  bool dry_run = false;
  std::size_t batch = 500;
  bool json = false;
};

int run_purge(const GlobalOptions& global, const PurgeCliOptions& options) {
  Vault vault = open_vault(global);
  PurgeOptions purge;
  purge.dry_run = options.dry_run;
  purge.batch = options.batch;
  Progress progress("purging", "values");
  purge.on_batch = [&progress](std::int64_t done) {
    progress.update(done);
    verbose("batch committed; " + counted(done, "value", "values") + " so far");
  };
  Stopwatch clock;
  PurgeReport report = unwrap(vault.purge(purge));
  progress.finish();
  verbose(std::string(options.dry_run ? "counted" : "purged and compacted") + " in " + clock.elapsed());
  if (options.json) {
    nlohmann::ordered_json fields = nlohmann::ordered_json::object();
    for (const auto& [field, count] : report.fields) fields[field] = count;
    print_json({{"dry_run", options.dry_run},
                {"values", report.values},
                {"customers", report.customers},
                {"fields", std::move(fields)}});
    return kExitOk;
  }
  std::cout << (options.dry_run ? "would purge " : "purged ") << counted(report.values, "value", "values")
            << " past retention, of " << counted(report.customers, "customer", "customers") << "\n";
  if (!report.fields.empty()) {
    detail::TextTable table;
    table.add({"FIELD", "VALUES"});
    for (const auto& [field, count] : report.fields) table.add({field, std::to_string(count)});
    std::cout << table.render("  ");
  }
  return kExitOk;
}

}  // namespace

void add_purge_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<PurgeCliOptions>();
  CLI::App* app = root.add_subcommand(
      "purge",
      "Delete the values kept past their field's retention, in batches, each one audited; safe to "
      "interrupt and run again");
  app->add_flag("--dry-run", options->dry_run, "Count what would be deleted, delete nothing");
  app->add_option("--batch", options->batch, "Values deleted per transaction (default 500)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  app->add_flag("--json", options->json, "Print JSON");
  commands.push_back({app, [&global, options] { return run_purge(global, *options); }});
}

}  // namespace consentry::cli
