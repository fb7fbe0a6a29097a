// command_export.cpp: `consentry export`, the customer's "show my data" in JSON, HTML or CSV.
#include <iostream>
#include <memory>
#include <optional>

#include "../src/io/staged_file.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ExportOptions {
  std::string customer;
  std::string format = "json";
  std::string output;  ///< empty = stdout
};

int run_export(const GlobalOptions& global, const ExportOptions& options) {
  // The export is written to a unique temporary beside the file (mode 0600: it is the customer's
  // data in clear), made before anything is read or audited so that an unwritable place fails
  // first, and renamed over the file once complete; any failure removes it. Temporaries that
  // killed runs left for this file are removed first.
  std::optional<detail::StagedFile> file;
  if (!options.output.empty()) {
    detail::remove_stale_staged_files(options.output);
    file.emplace(unwrap(detail::StagedFile::create(options.output)));
  }
  Vault vault = open_vault(global);
  verbose("gathering the export of " + options.customer + " as " + options.format);
  Stopwatch clock;
  // Unknown and erased customers both exit 5, with nothing written.
  SubjectReport report = unwrap(vault.export_subject(options.customer));
  const std::string text = options.format == "html"  ? export_html(report)
                           : options.format == "csv" ? export_csv(report)
                                                     : export_json(report);
  verbose(
      "exported " + counted(static_cast<std::int64_t>(report.fields.size()), "field", "fields") + ", " +
      counted(static_cast<std::int64_t>(report.consent_history.size()), "consent event", "consent events") +
      " and " + counted(static_cast<std::int64_t>(report.accesses.size()), "access", "accesses") + " in " +
      clock.elapsed());
  verbose_audit(vault, options.customer);
  if (options.output.empty()) {
    std::cout << text;  // main() fails the command if it does not all reach stdout
  } else {
    unwrap(file->write(text));
    unwrap(file->commit(/*replace=*/true));
    std::cerr << "wrote the export of " << options.customer << " to " << options.output << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* app = root.add_subcommand(
      "export",
      "The customer's own copy of everything held about them: values, sources, purposes, consents and "
      "who accessed what (audited)");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("--format", options->format, "json (default), html (one self-contained page) or csv")
      ->check(CLI::IsMember({"json", "html", "csv"}));
  app->add_option("-o,--output", options->output,
                  "Write to this file (created with mode 0600) instead of stdout");
  commands.push_back({app, [&global, options] { return run_export(global, *options); }});
}

}  // namespace consentry::cli
