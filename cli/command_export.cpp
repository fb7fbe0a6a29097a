// command_export.cpp: `consentry export`, the customer's "show my data" in JSON, HTML or CSV.
#include <iostream>
#include <memory>
#include <optional>

#include "../src/io/staged_file.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "small_file.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ExportCommandOptions {
  std::string customer;
  std::string format = "json";
  std::string output;         ///< empty = stdout
  std::string language;       ///< empty = the policy's default language
  std::string template_file;  ///< empty = the built-in template
};

/// kMaxTemplateBytes bounds a template file; the built-in one is under 10 KiB.
constexpr std::size_t kMaxTemplateBytes = 256 * 1024;

int run_export(const GlobalOptions& global, const ExportCommandOptions& options) {
  // Bad options fail before anything is opened, read or audited.
  if (!options.language.empty() && !valid_language_tag(options.language))
    fail(errc::bad_input, "--lang: '" + options.language + "' is not a language tag (en, de, pt-BR)");
  if (!options.template_file.empty() && options.format != "html")
    fail(errc::bad_input, "--template applies to --format html only");
  std::optional<ExportTemplate> html_template;
  if (!options.template_file.empty()) {
    const std::string text = read_small_file(options.template_file, kMaxTemplateBytes, "a template");
    html_template.emplace(unwrap(ExportTemplate::parse(text, options.template_file)));
  }
  ExportOptions render;
  render.language = options.language;
  render.html = html_template ? &*html_template : nullptr;
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
  const std::string text = options.format == "html"  ? export_html(report, render)
                           : options.format == "csv" ? export_csv(report, render)
                                                     : export_json(report, render);
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
  auto options = std::make_shared<ExportCommandOptions>();
  CLI::App* app = root.add_subcommand(
      "export",
      "The customer's own copy of everything held about them: values, sources, purposes, consents and "
      "who accessed what (audited)");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("--format", options->format, "json (default), html (one self-contained page) or csv")
      ->check(CLI::IsMember({"json", "html", "csv"}));
  app->add_option("-o,--output", options->output,
                  "Write to this file (created with mode 0600) instead of stdout");
  app->add_option("--lang", options->language,
                  "The language of the policy's labels and descriptions (a tag: en, de, pt-BR); falls back "
                  "to the policy's default_language, then to the ids");
  app->add_option("--template", options->template_file,
                  "With --format html: render with this Mustache template instead of the built-in one "
                  "(templates/export.html.mustache; docs/export.md lists what a template can use)");
  commands.push_back({app, [&global, options] { return run_export(global, *options); }});
}

}  // namespace consentry::cli
