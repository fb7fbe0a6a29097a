// command_anonymise.cpp: `consentry anonymise`, a k-anonymous (and l-diverse) release of a
// delimited file or of what a purpose may see in the vault, with per-column forms applied first
// (or alone).
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "../src/text/hex.hpp"
#include "commands.hpp"
#include "consentry/anonymise/column_operators.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "small_file.hpp"
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
  double c = 0;
  std::optional<double> t;
  std::string closeness = "equal";
  std::optional<double> highest_risk;
  std::optional<double> average_risk;
  std::string population;
  double delta_min = 0.0;
  double delta_max = 1.0;
  std::string metric = "discernibility";
  bool local_recoding = false;
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
  std::vector<std::string> columns;  ///< --column COL=FORM, in order
  std::string key_file;              ///< --key-file: the key of --column pseudonym and token
  CLI::Option* k_option = nullptr;   ///< tells --k absent from --k 0
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
  if (config.diversity == DiversityMeasure::recursive && config.l > 1) j["c"] = config.c;
  if (config.t) {
    j["t"] = *config.t;
    j["closeness"] = std::string(to_string(config.closeness));
    if (config.l <= 1) j["sensitive"] = config.sensitive;
  }
  if (config.max_highest_risk) j["max_highest_risk"] = *config.max_highest_risk;
  if (config.max_average_risk) j["max_average_risk"] = *config.max_average_risk;
  if (config.population) {
    j["population"] = config.population->source;
    j["delta_min"] = config.delta_min;
    j["delta_max"] = config.delta_max;
  }
  j["max_suppression"] = config.max_suppression;
  if (r.method == AnonymityMethod::lattice) j["metric"] = std::string(to_string(r.metric));
  if (config.local_recoding) j["local_recoding"] = {{"cells_recoded", r.recoded_cells}};
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
               {"ncp", r.loss.ncp},
               {"aecs", r.loss.aecs}};
  if (r.method == AnonymityMethod::lattice) {
    j["loss"]["loss"] = r.loss.loss;
    j["loss"]["entropy"] = r.loss.entropy;
  }
  j["risk"] = {{"highest", r.highest_risk}, {"average", r.average_risk}};
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
  if (config.l > 1) {
    out << ", l = " << config.l << " (" << to_string(config.diversity);
    if (config.diversity == DiversityMeasure::recursive) out << ", c = " << config.c;
    out << ")";
  }
  if (config.t) out << ", t = " << *config.t << " (" << to_string(config.closeness) << ")";
  if (config.max_highest_risk) out << ", highest risk " << *config.max_highest_risk;
  if (config.max_average_risk) out << ", average risk " << *config.max_average_risk;
  if (config.population) out << ", delta in [" << config.delta_min << ", " << config.delta_max << "]";
  out << ", max-suppression " << config.max_suppression;
  if (r.method == AnonymityMethod::lattice) out << ", metric " << to_string(r.metric);
  out << "\n";
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
      << fixed(r.loss.average_class_size, 3) << ", NCP " << fixed(r.loss.ncp, 4) << ", AECS "
      << fixed(r.loss.aecs, 2);
  if (r.method == AnonymityMethod::lattice)
    out << ", loss " << fixed(r.loss.loss, 4) << ", entropy " << fixed(r.loss.entropy, 1) << " bits";
  out << "\n";
  out << "  risk: highest " << fixed(r.highest_risk, 4) << ", average " << fixed(r.average_risk, 4) << "\n";
  if (config.local_recoding)
    out << "  local recoding: " << r.recoded_cells << " cells below the node's level\n";
  out << "  search:";
  if (r.method == AnonymityMethod::lattice)
    out << " " << r.nodes << " nodes, " << r.nodes_checked << " checked, " << r.nodes_pruned << " pruned,";
  out << " " << fixed(milliseconds(r.search_time), 2) << " ms\n";
}

/// kMaxColumnKeyFileBytes bounds the --key-file of --column: 64 hex digits and a line end need less.
constexpr std::size_t kMaxColumnKeyFileBytes = 128;

/// wipe_text overwrites the characters of `s` (a key's bytes or hex) before it is released.
void wipe_text(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// read_column_key reads the key of --column pseudonym and token operators from `file`: exactly
/// 32 bytes are the key itself; otherwise the file must hold 64 hex digits, optionally followed by
/// a line end. Anything else fails the command as bad input naming the file, never its bytes.
SecretBytes read_column_key(const std::string& file) {
  std::string text = read_small_file(file, kMaxColumnKeyFileBytes, "a key file");
  if (text.size() == 32) {
    SecretBytes key = SecretBytes::copy_of(std::string_view(text));
    wipe_text(text);
    return key;
  }
  std::string_view hex = text;
  if (hex.ends_with('\n')) hex.remove_suffix(1);
  if (hex.ends_with('\r')) hex.remove_suffix(1);
  if (hex.size() != 64) {
    wipe_text(text);
    fail(errc::bad_input,
         "--key-file " + file + ": a key file holds 32 raw bytes, or 64 hex digits and an optional newline");
  }
  SecretBytes key(32);
  auto decoded = detail::hex_decode(hex, key.reveal(), "--key-file " + file);
  wipe_text(text);
  if (!decoded) fail(decoded.err());
  return key;
}

/// ColumnStep is what --column asks for: the operators in order, and the key and tokeniser the
/// pseudonym and token operators among them need.
struct ColumnStep {
  std::vector<ColumnOperator> ops;
  std::optional<SecretBytes> key;
  std::optional<Tokeniser> tokens;
};

/// prepare_columns reads --column and --key-file before any data is read. Bad input (exit 2) for
/// a spec that cannot be read, a column that is also a quasi-identifier of the k-anonymity step,
/// or a pseudonym or token operator without --key-file; a --key-file no operator needs is a
/// usage error (the vault's key file goes before 'anonymise').
ColumnStep prepare_columns(const AnonymiseOptions& options, bool k_given) {
  ColumnStep step;
  auto parsed = parse_column_operators(options.columns);
  if (!parsed) fail(errc::bad_input, "--column: " + parsed.err().message);
  step.ops = std::move(*parsed);
  if (k_given) {
    const std::vector<std::string>& quasi =
        options.quasi.empty() && options.from_vault ? options.fields : options.quasi;
    for (const ColumnOperator& op : step.ops)
      if (std::find(quasi.begin(), quasi.end(), op.column) != quasi.end())
        fail(errc::bad_input, "column '" + op.column +
                                  "' is a quasi-identifier and has a --column operator: the k-anonymity step "
                                  "generalises quasi-identifiers itself; give the column one or the other");
  }
  bool keyed = false;
  bool tokens = false;
  for (const ColumnOperator& op : step.ops) {
    keyed = keyed || op.form.kind == FormKind::pseudonym || op.form.kind == FormKind::pseudonym_hmac ||
            op.form.kind == FormKind::token;
    tokens = tokens || op.form.kind == FormKind::token;
  }
  if (!options.key_file.empty() && !keyed)
    usage_failure(
        "--key-file after 'anonymise' is the key of --column pseudonym and token operators, and none "
        "is given; the vault's key file goes before the command (consentry --key-file FILE anonymise "
        "...) or in CONSENTRY_KEY_FILE");
  if (keyed && options.key_file.empty()) {
    for (const ColumnOperator& op : step.ops)
      if (op.form.kind == FormKind::pseudonym || op.form.kind == FormKind::pseudonym_hmac ||
          op.form.kind == FormKind::token)
        fail(errc::bad_input, "--column " + op.column + "=" + form_name(op.form) +
                                  " needs a key: give --key-file FILE (32 raw bytes or 64 hex digits)");
  }
  if (keyed) step.key = read_column_key(options.key_file);
  if (tokens) step.tokens = unwrap(column_tokeniser(*step.key));
  return step;
}

/// operators_json lists the operators as [{"column": ..., "form": ...}], a replace form without
/// its text.
nlohmann::ordered_json operators_json(const std::vector<ColumnOperator>& ops) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const ColumnOperator& op : ops) list.push_back({{"column", op.column}, {"form", form_name(op.form)}});
  return list;
}

/// operators_text lists the operators as "email pseudonym, phone mask:last4".
std::string operators_text(const std::vector<ColumnOperator>& ops) {
  std::string out;
  for (const ColumnOperator& op : ops)
    out += (out.empty() ? "" : ", ") + op.column + " " + form_name(op.form);
  return out;
}

/// with_operators adds the applied operators to a k-anonymity report, when there are any.
nlohmann::ordered_json with_operators(nlohmann::ordered_json report, const std::vector<ColumnOperator>& ops) {
  if (!ops.empty()) report["operators"] = operators_json(ops);
  return report;
}

/// apply_columns applies the operators to `data` (unchanged when one fails: the command ends).
void apply_columns(Dataset& data, const ColumnStep& step, const AnonymiseOptions& options) {
  Stopwatch clock;
  unwrap(apply_column_operators(data, step.ops, step.key ? &*step.key : nullptr,
                                step.tokens ? &*step.tokens : nullptr));
  verbose("applied " +
          counted(static_cast<std::int64_t>(step.ops.size()), "column operator", "column operators") +
          " to " + counted(static_cast<std::int64_t>(data.rows.size()), "row", "rows") + " in " +
          clock.elapsed());
  if (!options.json && options.k_option && options.k_option->count() > 0)
    std::cerr << "column operators: " << operators_text(step.ops) << "\n";
}

/// release_columns writes the table with the operators applied as the release (no k-anonymity
/// step) and reports the operators, like the k-anonymity report: JSON on stdout with -o, else on
/// stderr.
int release_columns(const Dataset& data, const ColumnStep& step, const AnonymiseOptions& options,
                    char delimiter) {
  nlohmann::ordered_json report;
  report["operators"] = operators_json(step.ops);
  report["rows"] = data.rows.size();
  if (!options.output.empty()) {
    unwrap(write_dataset(data, options.output, delimiter));
    verbose("wrote " + counted(static_cast<std::int64_t>(data.rows.size()), "row", "rows") + " to " +
            options.output);
    report["output"] = options.output;
  } else {
    std::cout << format_dataset(data, delimiter) << std::flush;
  }
  if (options.json) {
    if (!options.output.empty())
      print_json(report);
    else
      std::cerr << report.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
  } else {
    std::cerr << "applied "
              << counted(static_cast<std::int64_t>(step.ops.size()), "column operator", "column operators")
              << " to " << data.rows.size() << " rows, no k-anonymity step: " << operators_text(step.ops)
              << "\n";
  }
  return kExitOk;
}

int run_anonymise(const GlobalOptions& global, const AnonymiseOptions& options) {
  if (options.from_vault == !options.input.empty())
    usage_failure("give exactly one of --input FILE and --from-vault");
  // --k is optional with --column: then the operators alone make the release.
  const bool k_given = options.k_option && options.k_option->count() > 0;
  if (!k_given && options.columns.empty()) usage_failure("--k is required (or give --column COL=FORM)");
  if (!k_given && (!options.quasi.empty() || options.l != 1 || !options.sensitive.empty() ||
                   !options.hierarchies.empty() || !options.hierarchy_prefix.empty() ||
                   options.max_suppression != 0.0 || !options.method.empty()))
    usage_failure(
        "--quasi, --l, --sensitive, --hierarchies, --hierarchy-prefix, --max-suppression and --method "
        "belong to the k-anonymity step: give --k too");
  if (k_given && options.k < 1) fail(errc::bad_input, "--k must be at least 1");
  const ColumnStep columns = prepare_columns(options, k_given);
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
  // --column operators apply before the k-anonymity step; without --k they make the release.
  if (!columns.ops.empty()) {
    apply_columns(data, columns, options);
    if (!k_given) return release_columns(data, columns, options, delimiter);
  }
  if (!options.hierarchies.empty()) hierarchy_dir = options.hierarchies;
  if (!options.hierarchy_prefix.empty()) prefix = options.hierarchy_prefix;

  AnonymityConfig config;
  config.quasi_identifiers = options.quasi.empty() && options.from_vault ? options.fields : options.quasi;
  if (config.quasi_identifiers.empty()) usage_failure("--quasi is required with --input");
  config.k = static_cast<std::size_t>(options.k);
  config.l = static_cast<std::size_t>(options.l);
  config.sensitive = options.sensitive;
  config.diversity = options.diversity == "entropy"     ? DiversityMeasure::entropy
                     : options.diversity == "recursive" ? DiversityMeasure::recursive
                                                        : DiversityMeasure::distinct;
  config.c = options.c;
  config.t = options.t;
  config.closeness = options.closeness == "ordered"        ? ClosenessDistance::ordered
                     : options.closeness == "hierarchical" ? ClosenessDistance::hierarchical
                                                           : ClosenessDistance::equal;
  config.max_highest_risk = options.highest_risk;
  config.max_average_risk = options.average_risk;
  config.delta_min = options.delta_min;
  config.delta_max = options.delta_max;
  config.metric = parse_metric(options.metric).value_or(Metric::discernibility);
  config.local_recoding = options.local_recoding;
  Dataset population;
  if (!options.population.empty()) {
    population = unwrap(read_dataset(options.population, delimiter));
    config.population = &population;
  }
  config.max_suppression = options.max_suppression;

  Hierarchies hierarchies;
  if (!hierarchy_dir.empty()) {
    // The sensitive column's hierarchy serves hierarchical t-closeness.
    std::vector<std::string> wanted = config.quasi_identifiers;
    if (config.t && config.closeness == ClosenessDistance::hierarchical && !config.sensitive.empty())
      wanted.push_back(config.sensitive);
    hierarchies = unwrap(read_hierarchies(hierarchy_dir, prefix, wanted, delimiter));
  }
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
      print_json(with_operators(report_json(released.report, config, options.output), columns.ops));
    } else {
      print_report(std::cerr, released.report, config);
    }
  } else {
    std::cout << format_dataset(released.data, delimiter) << std::flush;
    if (options.json) {
      std::cerr << with_operators(report_json(released.report, config, ""), columns.ops)
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
      "Release a k-anonymous (and l-diverse) table, with per-column forms (--column) applied first or "
      "alone: of a delimited file, or of the vault as a purpose sees it");
  app->add_option("--input", options->input, "The delimited file to release (first row: column names)");
  app->add_option("--delimiter", options->delimiter,
                  "The delimiter of the input, its hierarchies and the output (default: detected from the "
                  "header; ',' for --from-vault)");
  app->add_option("--quasi", options->quasi,
                  "Quasi-identifier columns, comma-separated (default with "
                  "--from-vault: all --fields)")
      ->delimiter(',');
  options->k_option = app->add_option(
      "--k", options->k,
      "Every released class has at least k rows (required unless --column is given; without it there is no "
      "k-anonymity step)");
  app->add_option("--l", options->l, "l-diversity of the sensitive column (default 1: none)");
  app->add_option("--sensitive", options->sensitive, "The sensitive column (needed with --l above 1)");
  app->add_option("--diversity", options->diversity,
                  "How l-diversity is measured: distinct (default), entropy or recursive (with --c)")
      ->check(CLI::IsMember({"distinct", "entropy", "recursive"}));
  app->add_option("--c", options->c, "The c of recursive (c,l)-diversity (> 0)");
  app->add_option("--t", options->t,
                  "t-closeness of the sensitive column: each class's distance from the table <= T");
  app->add_option("--closeness", options->closeness,
                  "t-closeness's distance: equal (default), ordered (numeric) or hierarchical (needs the "
                  "sensitive column's hierarchy)")
      ->check(CLI::IsMember({"equal", "ordered", "hierarchical"}));
  app->add_option("--highest-risk", options->highest_risk,
                  "Largest prosecutor risk 1/|class| of any released row, in (0, 1]");
  app->add_option("--average-risk", options->average_risk,
                  "Largest average prosecutor risk (classes / rows released), in (0, 1]; lattice only");
  app->add_option("--population", options->population,
                  "δ-presence: the population FILE the input is a sample of (same delimiter; lattice only)");
  app->add_option("--delta-min", options->delta_min,
                  "δ-presence: least share of a class's population (default 0)");
  app->add_option("--delta-max", options->delta_max,
                  "δ-presence: largest share of a class's population (default 1)");
  app->add_option("--metric", options->metric,
                  "What the lattice search minimises: discernibility (default), loss, ncp, aecs or entropy")
      ->check(CLI::IsMember({"discernibility", "loss", "ncp", "aecs", "entropy"}));
  app->add_flag("--local-recoding", options->local_recoding,
                "After the lattice search, lower cells class by class where every class still passes");
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
  app->add_option(
      "--column", options->columns,
      "COL=FORM (repeatable): apply a form of the policy format to every non-empty cell of column "
      "COL, before any k-anonymity step: pseudonym, pseudonym:hmac-sha256, token, mask:lastN, "
      "mask:firstN, mask:email, redact, replace:TEXT, generalise:year|month|decade|prefix:N|bucket:N. "
      "A quasi-identifier cannot have one");
  app->add_option("--key-file", options->key_file,
                  "With --column: the key of pseudonym and token operators, a file of 32 raw bytes or 64 hex "
                  "digits (the vault's key file goes before 'anonymise')");
  commands.push_back({app, [&global, options] { return run_anonymise(global, *options); }});
}

}  // namespace consentry::cli
