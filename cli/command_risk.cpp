// command_risk.cpp: `consentry risk`, the re-identification risk of a delimited file: prosecutor,
// journalist and marketer risk, sample uniques and estimated population uniques. No vault.
#include <cstdint>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

#include "commands.hpp"
#include "consentry/anonymise/risk.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

/// kHistogramShown is how many class sizes the text report lists before summing up the rest.
constexpr std::size_t kHistogramShown = 8;

struct RiskOptions {
  std::string input;
  std::string delimiter;
  std::vector<std::string> quasi;
  double threshold = 0.2;
  double sampling_fraction = 0;
  CLI::Option* sampling_fraction_given = nullptr;  ///< counts --sampling-fraction on the line
  std::string population;
  bool json = false;
};

char delimiter_of(const std::string& text) {
  if (text == "tab" || text == "\\t" || text == "\t") return '\t';
  if (text.size() != 1 || text == "\"" || text == "\n" || text == "\r")
    usage_failure("--delimiter must be one character (or 'tab'), not a quote or a line break");
  return text[0];
}

std::string fixed(double v, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << v;
  return s.str();
}

std::string percent(double fraction) {
  return fixed(100.0 * fraction, 2) + "%";
}

nlohmann::ordered_json summary_json(const RiskSummary& s) {
  return {{"highest", s.highest},
          {"average", s.average},
          {"records_at_risk", s.records_at_risk},
          {"records_at_risk_fraction", s.records_at_risk_fraction}};
}

nlohmann::ordered_json report_json(const RiskReport& r, const std::string& input,
                                   const std::string& population) {
  nlohmann::ordered_json j;
  j["input"] = input;
  j["quasi_identifiers"] = r.quasi_identifiers;
  j["threshold"] = r.threshold;
  j["rows"] = r.rows;
  j["classes"] = r.classes;
  nlohmann::ordered_json histogram = nlohmann::ordered_json::array();
  for (const ClassSizeCount& c : r.class_sizes)
    histogram.push_back({{"size", c.size}, {"classes", c.classes}});
  j["class_sizes"] = {{"smallest", r.smallest_class},
                      {"largest", r.largest_class},
                      {"mean", r.mean_class_size},
                      {"histogram", std::move(histogram)}};
  if (r.population_table) j["population"] = {{"file", population}, {"rows", r.population_rows}};
  j["prosecutor"] = summary_json(r.prosecutor);
  j["journalist"] = summary_json(r.journalist);
  j["marketer"] = {{"average", r.marketer}};
  j["sample_uniques"] = {{"count", r.sample_uniques}, {"fraction", r.sample_uniques_fraction}};
  if (r.population_uniques) {
    const PopulationUniqueness& p = *r.population_uniques;
    nlohmann::ordered_json u;
    u["sampling_fraction"] = p.sampling_fraction;
    u["population_size"] = p.population_size;
    u["zayatz"] = {{"count", p.zayatz}, {"fraction", p.zayatz_fraction}};
    nlohmann::ordered_json pitman;
    if (p.pitman) {
      pitman["count"] = *p.pitman;
      pitman["fraction"] = *p.pitman_fraction;
    } else {
      pitman["count"] = nullptr;
      pitman["fraction"] = nullptr;
    }
    if (p.pitman_fit) {
      pitman["theta"] = p.pitman_fit->theta;
      pitman["alpha"] = p.pitman_fit->alpha;
    }
    u["pitman"] = std::move(pitman);
    u["decision"] = {{"model", std::string(to_string(p.decision))},
                     {"count", p.decision_uniques},
                     {"fraction", p.decision_fraction}};
    j["population_uniques"] = std::move(u);
  } else {
    j["population_uniques"] = nullptr;
  }
  return j;
}

void print_summary(std::ostream& out, std::string_view name, const RiskSummary& s, double threshold) {
  out << "  " << name << ": highest " << fixed(s.highest, 4) << ", average " << fixed(s.average, 4) << ", "
      << s.records_at_risk << " records (" << percent(s.records_at_risk_fraction) << ") above " << threshold;
}

void print_report(std::ostream& out, const RiskReport& r, const std::string& input) {
  out << "risk of " << input << ": " << r.rows << " rows, " << r.classes << " classes on ";
  for (std::size_t i = 0; i < r.quasi_identifiers.size(); ++i)
    out << (i ? ", " : "") << r.quasi_identifiers[i];
  out << "\n  class sizes: smallest " << r.smallest_class << ", largest " << r.largest_class << ", mean "
      << fixed(r.mean_class_size, 2) << ";";
  std::size_t rest = 0;
  for (std::size_t i = 0; i < r.class_sizes.size(); ++i) {
    if (i < kHistogramShown) {
      out << (i ? ", " : " ") << r.class_sizes[i].classes << " of size " << r.class_sizes[i].size;
    } else {
      rest += r.class_sizes[i].classes;
    }
  }
  if (rest > 0) out << ", " << rest << " larger";
  out << "\n";
  print_summary(out, "prosecutor", r.prosecutor, r.threshold);
  out << "\n";
  print_summary(out, "journalist", r.journalist, r.threshold);
  out << (r.population_table ? " (population of " + std::to_string(r.population_rows) + " rows)"
                             : " (no population table: as prosecutor)")
      << "\n";
  out << "  marketer: average " << fixed(r.marketer, 4) << "\n";
  out << "  sample uniques: " << r.sample_uniques << " (" << percent(r.sample_uniques_fraction) << ")\n";
  if (!r.population_uniques) {
    out << "  population uniques: not estimated (give --sampling-fraction or --population)\n";
    return;
  }
  const PopulationUniqueness& p = *r.population_uniques;
  out << "  population uniques (sampling fraction " << p.sampling_fraction << ", population "
      << fixed(p.population_size, 0) << "): Zayatz " << fixed(p.zayatz, 1) << " ("
      << percent(p.zayatz_fraction) << "), Pitman ";
  if (p.pitman) {
    out << fixed(*p.pitman, 1) << " (" << percent(*p.pitman_fraction) << ")";
  } else {
    out << "none";
  }
  out << "; decision rule: " << to_string(p.decision) << " " << fixed(p.decision_uniques, 1) << " ("
      << percent(p.decision_fraction) << ")\n";
}

int run_risk(const RiskOptions& options) {
  std::optional<char> delimiter;
  if (!options.delimiter.empty()) delimiter = delimiter_of(options.delimiter);
  Stopwatch clock;
  const Dataset data = unwrap(read_dataset(options.input, delimiter));
  verbose("read " + counted(static_cast<std::int64_t>(data.rows.size()), "row", "rows") + " of " +
          counted(static_cast<std::int64_t>(data.columns.size()), "column", "columns") + " from " +
          options.input + " in " + clock.elapsed());
  std::optional<Dataset> population;
  if (!options.population.empty()) {
    Stopwatch population_clock;
    population = unwrap(read_dataset(options.population, delimiter));
    verbose("read " + counted(static_cast<std::int64_t>(population->rows.size()), "row", "rows") +
            " of the population from " + options.population + " in " + population_clock.elapsed());
  }

  RiskConfig config;
  config.quasi_identifiers = options.quasi;
  config.threshold = options.threshold;
  if (options.sampling_fraction_given->count() > 0) config.sampling_fraction = options.sampling_fraction;
  Stopwatch analysis_clock;
  const RiskReport report = unwrap(analyse_risk(data, config, population ? &*population : nullptr));
  verbose(counted(static_cast<std::int64_t>(report.classes), "class", "classes") + " analysed in " +
          analysis_clock.elapsed());
  if (options.json) {
    print_json(report_json(report, options.input, options.population));
  } else {
    print_report(std::cout, report, options.input);
    std::cout << std::flush;
  }
  return kExitOk;
}

}  // namespace

void add_risk_command(CLI::App& root, const GlobalOptions& /*global*/, Commands& commands) {
  auto options = std::make_shared<RiskOptions>();
  CLI::App* app = root.add_subcommand(
      "risk",
      "Re-identification risk of a delimited file: prosecutor, journalist and marketer risk, sample and "
      "population uniques");
  app->add_option("--input", options->input, "The delimited file to analyse (first row: column names)")
      ->required();
  app->add_option("--quasi", options->quasi, "Quasi-identifier columns, comma-separated")
      ->delimiter(',')
      ->required();
  app->add_option("--delimiter", options->delimiter,
                  "The delimiter of the input and the population table (default: detected from each header)");
  app->add_option("--threshold", options->threshold,
                  "A record whose re-identification probability exceeds this is at risk (default 0.2)");
  options->sampling_fraction_given =
      app->add_option("--sampling-fraction", options->sampling_fraction,
                      "The input's share of the population, in (0, 1], for the population-uniques estimates");
  app->add_option(
      "--population", options->population,
      "A delimited file of the population the input was drawn from, for journalist and marketer risk");
  app->add_flag("--json", options->json, "Print the report as JSON");
  commands.push_back({app, [options] { return run_risk(*options); }});
}

}  // namespace consentry::cli
