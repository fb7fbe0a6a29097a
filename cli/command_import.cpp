// command_import.cpp: `consentry import`, which adds or updates customers from a file, all or
// nothing per file.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <memory>
#include <system_error>

#include "commands.hpp"
#include "consentry/import.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ImportOptions {
  std::string file;
  std::string format;  ///< empty = from the file's extension
  std::string source;
};

ImportFormat format_of(const ImportOptions& options) {
  if (!options.format.empty()) {
    if (auto format = parse_import_format(options.format)) return *format;
    usage_failure("unknown format '" + options.format + "': use jsonl, csv or export");
  }
  std::string extension = std::filesystem::path(options.file).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".jsonl" || extension == ".json") return ImportFormat::jsonl;
  if (extension == ".csv") return ImportFormat::csv;
  usage_failure("cannot tell the format of " + options.file + " from its name: pass --format jsonl|csv");
}

int run_import(const GlobalOptions& global, const ImportOptions& options) {
  ImportFormat format = format_of(options);
  std::error_code ec;
  if (std::filesystem::is_directory(options.file, ec)) {
    fail(errc::bad_input, "cannot read " + options.file + ": it is a directory");
  }
  std::ifstream in(options.file, std::ios::binary);
  if (!in) fail(errc::bad_input, "cannot read " + options.file);

  // The whole file is parsed before the vault is opened: a malformed file costs no passphrase.
  const char* format_name = format == ImportFormat::csv           ? "CSV"
                            : format == ImportFormat::export_json ? "a customer's JSON export"
                                                                  : "JSON Lines";
  verbose("parsing " + options.file + " as " + format_name +
          (options.format.empty() ? " (from its extension)" : ""));
  Stopwatch parsing;
  std::vector<Record> records = unwrap(parse_records(in, format, options.file, options.source));
  if (in.bad()) fail(errc::bad_input, "cannot read " + options.file);
  std::size_t values = 0;
  for (const Record& r : records) values += r.fields.size();
  verbose("parsed " + counted(static_cast<std::int64_t>(records.size()), "record", "records") + " (" +
          counted(static_cast<std::int64_t>(values), "value", "values") + ") in " + parsing.elapsed());

  Vault vault = open_vault(global);
  verbose("validating and writing " +
          counted(static_cast<std::int64_t>(records.size()), "record", "records") + " in one transaction");
  Stopwatch writing;
  unwrap(vault.write(records, options.file));
  verbose("written in " + writing.elapsed());
  if (!records.empty()) verbose_audit(vault, records.back().customer);

  std::cout << "imported " << records.size() << " records (" << values << " values) from " << options.file
            << '\n';
  return kExitOk;
}

}  // namespace

void add_import_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App* app = root.add_subcommand(
      "import", "Add or update customers from a JSON Lines or CSV file, or from a customer's JSON export");
  app->add_option("FILE", options->file, "The file to import")->required();
  app->add_option("--format", options->format,
                  "jsonl, csv, or export (a file written by 'consentry export --format json'); default: "
                  "from the file's extension, .jsonl/.json or .csv")
      ->check(CLI::IsMember({"jsonl", "csv", "export"}));
  app->add_option("--source", options->source, "Where the data came from, for records that name none");
  commands.push_back({app, [&global, options] { return run_import(global, *options); }});
}

}  // namespace consentry::cli
