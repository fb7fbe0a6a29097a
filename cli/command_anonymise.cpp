// command_anonymise.cpp: `consentry anonymise`, a k-anonymous (and l-diverse) release of a
// delimited file or of what a purpose may see in the vault.
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

/// kDelimiterWindowBytes is how much of an input's start is read again to tell which delimiter
/// its header uses.
constexpr std::size_t kDelimiterWindowBytes = 1 << 20;

struct AnonymiseOptions {
  std::string input;
  std::string delimiter;
  std::vector<std::string> quasi;
  std::int64_t k = 0;
  std::int64_t l = 1;
  std::string sensitive;
  std::string diversity = "distinct";
  std::string hierarchies;
  std::string hierarchy_prefix;
  double max_suppression = 0.0;
  std::string method;
  std::string output;
  bool json = false;
  bool from_vault = false;
  std::string purpose;
  std::string accessor;
  std::vector<std::string> fields;
};

char delimiter_of(const std::string& text) {
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r")
    usage_failure("--delimiter must be one character (or 'tab'), not a quote or a line break");
  return text[0];
}

/// vault_dataset reads `fields` of every customer eligible for the purpose, as the accessor
/// (Vault::purpose_dataset): the values arrive in the purpose's form. A denied field ends the
/// command (exit 3) before anything is written; a field the customer lacks is an empty cell.
Dataset vault_dataset(const GlobalOptions& global, const AnonymiseOptions& options) {
  if (options.purpose.empty() || options.accessor.empty() || options.fields.empty())
    usage_failure("--from-vault needs --purpose, --as and --fields");
  Vault vault = open_vault(global);
  Stopwatch clock;
  Progress progress("reading", "customers");
  BulkReadOptions bulk;
  bulk.on_batch = [&progress](std::int64_t done, std::int64_t total) {
    progress.set_total(total);
    progress.update(done);
  };
  Dataset data = unwrap(vault.purpose_dataset(options.accessor, options.purpose, options.fields, bulk));
  progress.finish();
  verbose(counted(static_cast<std::int64_t>(data.rows.size()), "customer", "customers") +
          " eligible for purpose " + options.purpose);
  verbose("read " + counted(static_cast<std::int64_t>(data.rows.size()), "row", "rows") + " in " +
          clock.elapsed());
  return data;
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

double milliseconds(std::chrono::nanoseconds t) {
  return static_cast<double>(t.count()) / 1e6;
}

nlohmann::ordered_json report_json(const AnonymityReport& r, const AnonymityConfig& config,
                                   const std::string& output) {
  nlohmann::ordered_json j;
  j["method"] = std::string(to_string(r.method));
  j["k"] = config.k;
  if (config.l > 1) {
    j["l"] = config.l;
    j["diversity"] = std::string(to_string(config.diversity));
    j["sensitive"] = config.sensitive;
  }
  j["max_suppression"] = config.max_suppression;
  j["quasi_identifiers"] = r.quasi_identifiers;
  if (r.method == AnonymityMethod::lattice) {
    nlohmann::ordered_json levels = nlohmann::ordered_json::object();
    nlohmann::ordered_json tops = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < r.levels.size(); ++i) {
      levels[r.quasi_identifiers[i]] = r.levels[i];
      tops[r.quasi_identifiers[i]] = r.max_levels[i];
    }
    j["levels"] = std::move(levels);
    j["max_levels"] = std::move(tops);
  } else {
    j["partitions"] = r.partitions;
  }
  j["rows"] = r.rows;
  j["suppressed"] = r.suppressed;
  j["classes"] = r.classes;
  j["min_class_size"] = r.min_class_size;
  j["mean_class_size"] = r.mean_class_size;
  j["loss"] = {{"discernibility", r.loss.discernibility},
               {"average_class_size", r.loss.average_class_size},
               {"ncp", r.loss.ncp}};
  nlohmann::ordered_json search;
  if (r.method == AnonymityMethod::lattice) {
    search["nodes"] = r.nodes;
    search["checked"] = r.nodes_checked;
    search["pruned"] = r.nodes_pruned;
  }
  search["time_ms"] = milliseconds(r.search_time);
  j["search"] = std::move(search);
  if (!output.empty()) j["output"] = output;
  return j;
}

void print_report(std::ostream& out, const AnonymityReport& r, const AnonymityConfig& config) {
  out << "anonymised " << r.rows << " rows by " << to_string(r.method) << ": k = " << config.k;
  if (config.l > 1) out << ", l = " << config.l << " (" << to_string(config.diversity) << ")";
  out << ", max-suppression " << config.max_suppression << "\n";
  if (r.method == AnonymityMethod::lattice) {
    out << "  levels:";
    for (std::size_t i = 0; i < r.levels.size(); ++i)
      out << (i ? ", " : " ") << r.quasi_identifiers[i] << " " << r.levels[i] << "/" << r.max_levels[i];
    out << "\n";
  } else {
    out << "  partitions: " << r.partitions << "\n";
  }
  out << "  suppressed: " << r.suppressed << " rows\n";
  out << "  classes: " << r.classes << " (min size " << r.min_class_size << ", mean "
      << fixed(r.mean_class_size, 2) << ")\n";
  out << "  loss: discernibility " << r.loss.discernibility << ", C_avg "
      << fixed(r.loss.average_class_size, 3) << ", NCP " << fixed(r.loss.ncp, 4) << "\n";
  out << "  search:";
  if (r.method == AnonymityMethod::lattice)
    out << " " << r.nodes << " nodes, " << r.nodes_checked << " checked, " << r.nodes_pruned << " pruned,";
  out << " " << fixed(milliseconds(r.search_time), 2) << " ms\n";
}

int run_anonymise(const GlobalOptions& global, const AnonymiseOptions& options) {
  if (options.from_vault == !options.input.empty())
    usage_failure("give exactly one of --input FILE and --from-vault");
  if (options.k < 1) fail(errc::bad_input, "--k must be at least 1");
  if (options.l < 1) fail(errc::bad_input, "--l must be at least 1");
  if (!(options.max_suppression >= 0.0 && options.max_suppression <= 1.0))
    fail(errc::bad_input, "--max-suppression must be a fraction in [0, 1]");

  Dataset data;
  char delimiter = ',';
  std::filesystem::path hierarchy_dir;
  std::string prefix;
  Stopwatch read_clock;
  if (options.from_vault) {
    if (!options.delimiter.empty()) delimiter = delimiter_of(options.delimiter);
    data = vault_dataset(global, options);
    prefix = "vault";
  } else {
    std::optional<char> given;
    if (!options.delimiter.empty()) given = delimiter_of(options.delimiter);
    data = unwrap(read_dataset(options.input, given));
    if (given) {
      delimiter = *given;
    } else {
      // The delimiter read_dataset detected, from the header at the start of the file (which
      // read_dataset found to be a regular file): a bounded read, however long the first line.
      std::ifstream in(options.input, std::ios::binary);
      std::string start(kDelimiterWindowBytes, '\0');
      in.read(start.data(), static_cast<std::streamsize>(start.size()));
      start.resize(static_cast<std::size_t>(in.gcount()));
      delimiter = detect_delimiter(start);
    }
    const std::filesystem::path input(options.input);
    prefix = input.stem().string();
    hierarchy_dir = input.has_parent_path() ? input.parent_path() : std::filesystem::path(".");
    verbose("read " + counted(static_cast<std::int64_t>(data.rows.size()), "row", "rows") + " of " +
            counted(static_cast<std::int64_t>(data.columns.size()), "column", "columns") + " from " +
            options.input + " in " + read_clock.elapsed());
  }
  if (!options.hierarchies.empty()) hierarchy_dir = options.hierarchies;
  if (!options.hierarchy_prefix.empty()) prefix = options.hierarchy_prefix;

  AnonymityConfig config;
  config.quasi_identifiers = options.quasi.empty() && options.from_vault ? options.fields : options.quasi;
  if (config.quasi_identifiers.empty()) usage_failure("--quasi is required with --input");
  config.k = static_cast<std::size_t>(options.k);
  config.l = static_cast<std::size_t>(options.l);
  config.sensitive = options.sensitive;
  config.diversity = options.diversity == "entropy" ? DiversityMeasure::entropy : DiversityMeasure::distinct;
  config.max_suppression = options.max_suppression;

  Hierarchies hierarchies;
  if (!hierarchy_dir.empty())
    hierarchies = unwrap(read_hierarchies(hierarchy_dir, prefix, config.quasi_identifiers, delimiter));
  verbose("hierarchies found for " +
          counted(static_cast<std::int64_t>(hierarchies.size()), "column", "columns") +
          (hierarchy_dir.empty() ? std::string() : " in " + hierarchy_dir.string()));
  if (options.method == "lattice") {
    config.method = AnonymityMethod::lattice;
    for (const std::string& column : config.quasi_identifiers) {
      if (hierarchies.count(column) == 0 && data.column_index(column))
        fail(errc::bad_input, "no hierarchy for quasi-identifier column '" + column + "': " +
                                  hierarchy_file(hierarchy_dir, prefix, column).string() + " does not exist");
    }
  } else if (options.method == "mondrian") {
    config.method = AnonymityMethod::mondrian;
  } else {
    // Without --method: the lattice when every quasi-identifier has a hierarchy, else Mondrian.
    bool all = true;
    for (const std::string& column : config.quasi_identifiers) all = all && hierarchies.count(column) != 0;
    config.method = all ? AnonymityMethod::lattice : AnonymityMethod::mondrian;
  }

  Anonymised released = unwrap(anonymise(data, hierarchies, config));
  verbose("search took " + fixed(milliseconds(released.report.search_time), 2) + " ms");

  if (!options.output.empty()) {
    unwrap(write_dataset(released.data, options.output, delimiter));
    verbose("wrote " + counted(static_cast<std::int64_t>(released.data.rows.size()), "row", "rows") + " to " +
            options.output);
    if (options.json) {
      print_json(report_json(released.report, config, options.output));
    } else {
      print_report(std::cerr, released.report, config);
    }
  } else {
    std::cout << format_dataset(released.data, delimiter) << std::flush;
    if (options.json) {
      std::cerr << report_json(released.report, config, "")
                       .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)
                << "\n";
    } else {
      print_report(std::cerr, released.report, config);
    }
  }
  return kExitOk;
}

}  // namespace

void add_anonymise_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<AnonymiseOptions>();
  CLI::App* app = root.add_subcommand(
      "anonymise",
      "Release a k-anonymous (and l-diverse) table: of a delimited file, or of the vault as a purpose "
      "sees it");
  app->add_option("--input", options->input, "The delimited file to release (first row: column names)");
  app->add_option("--delimiter", options->delimiter,
                  "The delimiter of the input, its hierarchies and the output (default: detected from the "
                  "header; ',' for --from-vault)");
  app->add_option("--quasi", options->quasi,
                  "Quasi-identifier columns, comma-separated (default with "
                  "--from-vault: all --fields)")
      ->delimiter(',');
  app->add_option("--k", options->k, "Every released class has at least k rows")->required();
  app->add_option("--l", options->l, "l-diversity of the sensitive column (default 1: none)");
  app->add_option("--sensitive", options->sensitive, "The sensitive column (needed with --l above 1)");
  app->add_option("--diversity", options->diversity, "How l-diversity is measured")
      ->check(CLI::IsMember({"distinct", "entropy"}));
  app->add_option("--hierarchies", options->hierarchies,
                  "Folder of <prefix>_hierarchy_<column>.csv files (default: the input's folder)");
  app->add_option("--hierarchy-prefix", options->hierarchy_prefix,
                  "The <prefix> of the hierarchy files (default: the input's file name stem; 'vault')");
  app->add_option("--max-suppression", options->max_suppression,
                  "Largest fraction of rows that may be dropped to reach k (default 0)");
  app->add_option("--method", options->method,
                  "lattice (hierarchies) or mondrian (numeric); default: lattice when every quasi-identifier "
                  "has a hierarchy")
      ->check(CLI::IsMember({"lattice", "mondrian"}));
  app->add_option("-o,--output", options->output, "Write the release here (mode 0600) instead of stdout");
  app->add_flag("--json", options->json, "Print the report as JSON (on stdout with -o, else on stderr)");
  app->add_flag("--from-vault", options->from_vault, "Release what --purpose may see of --fields, as --as");
  app->add_option("--purpose", options->purpose, "With --from-vault: the purpose the data is read for");
  app->add_option("--as", options->accessor, "With --from-vault: the accessor reading");
  app->add_option("--fields", options->fields, "With --from-vault: the fields, comma-separated")
      ->delimiter(',');
  commands.push_back({app, [&global, options] { return run_anonymise(global, *options); }});
}

}  // namespace consentry::cli
