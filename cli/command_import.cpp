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
#include "consentry/vault.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ImportOptions {
  std::string file;
  std::string format;  ///< empty = from the file's extension
  std::string source;
  bool dry_run = false;
};

/// kImportBatch is how many records an import reads, checks and writes at a time.
constexpr std::size_t kImportBatch = 1000;

/// kStdin is the FILE that names standard input.
constexpr std::string_view kStdin = "-";

ImportFormat format_of(const ImportOptions& options) {
  if (!options.format.empty()) {
    if (auto format = parse_import_format(options.format)) return *format;
    usage_failure("unknown format '" + options.format + "': use jsonl, csv or export");
  }
  // Standard input has no name to tell by: JSON Lines (or an export, which is recognised).
  if (options.file == kStdin) return ImportFormat::jsonl;
  std::string extension = std::filesystem::path(options.file).extension().string();
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (extension == ".jsonl" || extension == ".json") return ImportFormat::jsonl;
  if (extension == ".csv") return ImportFormat::csv;
  usage_failure("cannot tell the format of " + options.file +
                " from its name: pass --format jsonl|csv|export");
}

/// skip_inferred_without_profiling drops from `records` the values of inferred fields of customers
/// who do not consent to profiling now, and returns the names of the fields it dropped. A
/// customer's export carries their inferences, which the vault writes only with that consent; the
/// rest of the export is imported. The write checks the consent again in its transaction.
std::vector<std::string> skip_inferred_without_profiling(const Vault& vault, std::vector<Record>& records) {
  std::vector<std::string> skipped;
  for (Record& r : records) {
    const bool has_inferred = std::any_of(r.fields.begin(), r.fields.end(), [&](const auto& f) {
      const FieldSpec* spec = vault.policy().field(f.first);
      return spec && spec->is_inferred();
    });
    if (!has_inferred) continue;
    const ConsentState state = unwrap(vault.consent_state(r.customer));
    if (state.status(Policy::kProfilingPurpose, vault.now()) == ConsentStatus::granted) continue;
    std::erase_if(r.fields, [&](const auto& f) {
      const FieldSpec* spec = vault.policy().field(f.first);
      if (!spec || !spec->is_inferred()) return false;
      if (std::find(skipped.begin(), skipped.end(), f.first) == skipped.end()) skipped.push_back(f.first);
      return true;
    });
  }
  std::erase_if(records, [](const Record& r) { return r.fields.empty(); });
  return skipped;
}

int run_import(const GlobalOptions& global, const ImportOptions& options) {
  ImportFormat format = format_of(options);
  const bool from_stdin = options.file == kStdin;
  const std::string origin = from_stdin ? "stdin" : options.file;
  std::ifstream file;
  if (!from_stdin) {
    std::error_code ec;
    if (std::filesystem::is_directory(options.file, ec)) {
      fail(errc::bad_input, "cannot read " + options.file + ": it is a directory");
    }
    file.open(options.file, std::ios::binary);
    if (!file) fail(errc::bad_input, "cannot read " + options.file);
  }
  std::istream& in = from_stdin ? std::cin : file;

  const char* format_name = format == ImportFormat::csv           ? "CSV"
                            : format == ImportFormat::export_json ? "a customer's JSON export"
                                                                  : "JSON Lines";
  verbose(
      "reading " + origin + " as " + format_name +
      (options.format.empty() ? (from_stdin ? " (the default for stdin)" : " (from its extension)") : ""));
  // A regular file is read through once before the vault is opened, a batch at a time: a
  // malformed file costs no passphrase, and every bad line is named. Standard input or a pipe
  // is read once, as it is written.
  std::error_code ec;
  const bool rereadable = !from_stdin && std::filesystem::is_regular_file(options.file, ec);
  const double file_bytes =
      rereadable ? static_cast<double>(std::filesystem::file_size(options.file, ec)) : 0;
  if (rereadable) {
    Stopwatch parsing;
    RecordReader check(in, format, origin, options.source);
    std::vector<Record> batch;
    std::int64_t parsed = 0, parsed_values = 0;
    for (bool more = true; more;) {
      batch.clear();
      more = unwrap(check.next(batch, kImportBatch));
      parsed += static_cast<std::int64_t>(batch.size());
      for (const Record& r : batch) parsed_values += static_cast<std::int64_t>(r.fields.size());
    }
    verbose("parsed " + counted(parsed, "record", "records") + " (" +
            counted(parsed_values, "value", "values") + ") in " + parsing.elapsed());
    in.clear();
    in.seekg(0);
    if (!in) fail(errc::bad_input, "cannot read " + origin);
  }

  // The first batch is read before the vault is opened too: input that is not a file of
  // records at all (/dev/zero, a binary) is refused without a passphrase.
  RecordReader reader(in, format, origin, options.source);
  std::vector<Record> first;
  const bool more_after_first = unwrap(reader.next(first, kImportBatch));
  Vault vault = open_vault(global);
  WriteOptions write;
  write.dry_run = options.dry_run;
  // An export (one document: records of line 0) comes whole. It may hold inferences that this
  // vault may not keep: those are left out, not the export. JSON Lines and CSV stay all or nothing.
  const bool from_export = !first.empty() && first.front().line == 0;
  std::vector<std::string> skipped;
  WriteReport report;
  std::string last_customer;
  Stopwatch writing;
  if (from_export) {
    skipped = skip_inferred_without_profiling(vault, first);
    for (const Record& r : first) {
      report.records += 1;
      report.values += static_cast<std::int64_t>(r.fields.size());
    }
    verbose(std::string(options.dry_run ? "checking " : "writing ") +
            counted(report.records, "record", "records") + " in one transaction");
    unwrap(vault.write(first, origin, write));
    if (!first.empty()) last_customer = first.back().customer;
  } else {
    verbose(std::string(options.dry_run ? "checking" : "writing") + " in one transaction, " +
            counted(static_cast<std::int64_t>(kImportBatch), "record", "records") + " at a time");
    Progress progress(options.dry_run ? "checking" : "importing", "records");
    std::int64_t read = 0;
    bool first_given = false;
    // Called with the vault's store held: it reads the input and draws, and calls nothing of the vault.
    auto next = [&](std::vector<Record>& batch) -> result<bool> {
      result<bool> more = more_after_first;
      if (!first_given) {
        first_given = true;
        batch = std::move(first);
      } else {
        more = reader.next(batch, kImportBatch);
      }
      if (!more) return more;
      read += static_cast<std::int64_t>(batch.size());
      if (!batch.empty()) last_customer = batch.back().customer;
      const double share = !*more           ? 1.0
                           : file_bytes > 0 ? static_cast<double>(in.tellg()) / file_bytes
                                            : -1.0;
      progress.update(read, share);
      return more;
    };
    report = unwrap(vault.write_batches(next, origin, write));
    progress.finish();
  }
  verbose(std::string(options.dry_run ? "checked in " : "written in ") + writing.elapsed());
  if (options.dry_run) {
    std::cout << "checked " << report.records << " records (" << report.values << " values) from " << origin
              << (skipped.empty() ? ": all would be imported" : ": they would be imported")
              << "; nothing was written\n";
  } else {
    if (!last_customer.empty()) verbose_audit(vault, last_customer);
    std::cout << "imported " << report.records << " records (" << report.values << " values) from " << origin
              << '\n';
  }
  for (const std::string& field : skipped) {
    std::cout << (options.dry_run ? "would skip" : "skipped") << " inferred field " << field
              << ": inferred data is kept only with the customer's consent to profiling, which they have "
                 "not given in this vault\n";
  }
  return kExitOk;
}

}  // namespace

void add_import_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ImportOptions>();
  CLI::App* app = root.add_subcommand(
      "import", "Add or update customers from a JSON Lines or CSV file, or from a customer's JSON export");
  app->add_option("FILE", options->file, "The file to import, or - for standard input")->required();
  app->add_option("--format", options->format,
                  "jsonl, csv, or export (a file written by 'consentry export --format json'); default: "
                  "from the file's extension, .jsonl/.json or .csv, and jsonl for standard input. A .json "
                  "or .jsonl file (or stdin) that holds an export is read as one. An export's inferred "
                  "fields are skipped, and named, for a customer without consent to profiling")
      ->check(CLI::IsMember({"jsonl", "csv", "export"}));
  app->add_option("--source", options->source, "Where the data came from, for records that name none");
  app->add_flag("--dry-run", options->dry_run,
                "Check every record as the import would (format, policy, erasure, consent to profiling), "
                "report every bad line, and write nothing");
  commands.push_back({app, [&global, options] { return run_import(global, *options); }});
}

}  // namespace consentry::cli
