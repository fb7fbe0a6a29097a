// command_stats.cpp: `consentry stats`, a differentially private count, sum, mean or histogram
// over the customers a purpose may use, paid for from the purpose's privacy budget.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct StatsOptions {
  std::string aggregate;
  std::string field;
  std::string purpose;
  double epsilon = 0;
  std::string bounds;
  std::int64_t bins = 10;
  std::string noise = "laplace";
  double delta = 0;
  bool json = false;
};

std::int64_t parse_bound(std::string_view text) {
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
    usage_failure("--bounds takes two whole numbers LO,HI (such as 0,120)");
  return v;
}

std::string number(double v) {
  std::ostringstream out;
  out.precision(6);
  out << v;
  return out.str();
}

std::string describe(const NoiseDraw& n) {
  std::string s = n.statistic + ": discrete " + (n.kind == NoiseKind::gaussian ? "Gaussian" : "Laplace") +
                  " noise, sensitivity " + std::to_string(n.sensitivity) + ", " +
                  (n.kind == NoiseKind::gaussian ? "sigma " : "scale ") + number(n.scale) +
                  ", standard deviation " + number(n.stddev);
  return s;
}

/// noise_note says in words that the answer is noisy, with the standard deviation of the noise
/// of each statistic (once per statistic: every bin of a histogram gets the same noise).
std::string noise_note(const std::vector<NoiseDraw>& noise) {
  std::vector<std::string> parts;
  std::vector<std::string> seen;
  for (const NoiseDraw& n : noise) {
    if (std::find(seen.begin(), seen.end(), n.statistic) != seen.end()) continue;
    seen.push_back(n.statistic);
    parts.push_back(number(n.stddev) +
                    (n.statistic == "bin" ? std::string(" for each bin") : " for the " + n.statistic));
  }
  if (parts.empty()) return "";
  std::string s = "noisy on purpose: random noise was added, with standard deviation ";
  for (std::size_t i = 0; i < parts.size(); ++i) s += (i == 0 ? "" : ", ") + parts[i];
  return s +
         "; an answer is often off by up to two standard deviations, and a small true count can come out as "
         "zero or negative\n";
}

int run_stats(const GlobalOptions& global, const StatsOptions& options) {
  AggregateQuery query;
  auto kind = parse_aggregate_kind(options.aggregate);
  if (!kind) usage_failure("AGGREGATE must be count, sum, mean or histogram");
  query.kind = *kind;
  auto noise = parse_noise_kind(options.noise);
  if (!noise) usage_failure("--noise must be laplace or gaussian");
  query.noise = *noise;
  query.epsilon = options.epsilon;
  query.delta = options.delta;
  if (query.noise == NoiseKind::gaussian && options.delta == 0)
    usage_failure("--noise gaussian needs --delta");
  if (query.noise == NoiseKind::laplace && options.delta != 0)
    usage_failure("--delta is for --noise gaussian only");
  if (query.kind != AggregateKind::count) {
    if (options.bounds.empty())
      usage_failure(std::string(to_string(query.kind)) +
                    " needs --bounds LO,HI: every value is clamped to them");
    const auto comma = options.bounds.find(',');
    if (comma == std::string::npos) usage_failure("--bounds takes two whole numbers LO,HI (such as 0,120)");
    query.lo = parse_bound(std::string_view(options.bounds).substr(0, comma));
    query.hi = parse_bound(std::string_view(options.bounds).substr(comma + 1));
  } else if (!options.bounds.empty()) {
    usage_failure("count takes no --bounds");
  }
  if (query.kind == AggregateKind::histogram) query.bins = options.bins;

  Vault vault = open_vault(global);
  Progress progress("deciding", "customers");
  PrivateAnswer answer = unwrap(vault.private_aggregate(options.purpose, options.field, query,
                                                        [&progress](std::int64_t done, std::int64_t total) {
                                                          progress.set_total(total);
                                                          progress.update(done);
                                                        }));
  progress.finish();
  const PrivacyBudget budget = unwrap(vault.privacy_budget(options.purpose));
  for (const NoiseDraw& n : answer.noise) verbose(describe(n));

  if (options.json) {
    nlohmann::ordered_json j = {
        {"aggregate", to_string(answer.kind)}, {"field", options.field}, {"purpose", budget.purpose}};
    if (answer.count) j["count"] = *answer.count;
    if (answer.sum) j["sum"] = *answer.sum;
    if (answer.mean) j["mean"] = *answer.mean;
    if (answer.kind == AggregateKind::histogram) {
      nlohmann::ordered_json bins = nlohmann::ordered_json::array();
      for (const HistogramBin& b : answer.bins)
        bins.push_back({{"lo", b.lo}, {"hi", b.hi}, {"count", b.count}});
      j["bins"] = std::move(bins);
    }
    if (answer.clamp) j["bounds"] = {answer.clamp->lo, answer.clamp->hi};
    j["epsilon"] = answer.epsilon_spent;
    if (answer.delta_spent > 0) j["delta"] = answer.delta_spent;
    nlohmann::ordered_json noises = nlohmann::ordered_json::array();
    for (const NoiseDraw& n : answer.noise)
      noises.push_back({{"statistic", n.statistic},
                        {"kind", to_string(n.kind)},
                        {"sensitivity", n.sensitivity},
                        {"scale", n.scale},
                        {"stddev", n.stddev}});
    j["noise"] = std::move(noises);
    j["budget"] = {{"total", budget.total}, {"spent", budget.spent}};
    print_json(j);
    return kExitOk;
  }
  const std::string subject = options.field + " for purpose " + budget.purpose;
  switch (answer.kind) {
    case AggregateKind::count: std::cout << "count of " << subject << ": " << *answer.count << "\n"; break;
    case AggregateKind::sum: std::cout << "sum of " << subject << ": " << *answer.sum << "\n"; break;
    case AggregateKind::mean:
      std::cout << "mean of " << subject << ": " << number(*answer.mean) << " (sum " << *answer.sum
                << ", count " << *answer.count << ")\n";
      break;
    case AggregateKind::histogram: {
      std::cout << "histogram of " << subject << ":\n";
      detail::TextTable table;
      table.add({"FROM", "TO", "COUNT"});
      for (const HistogramBin& b : answer.bins)
        table.add({std::to_string(b.lo), std::to_string(b.hi), std::to_string(b.count)});
      std::cout << table.render("  ");
      break;
    }
  }
  std::cout << noise_note(answer.noise);
  std::cout << "with noise for epsilon " << number(answer.epsilon_spent);
  if (answer.clamp) std::cout << ", values clamped to " << answer.clamp->lo << ".." << answer.clamp->hi;
  std::cout << "; privacy budget of " << budget.purpose << ": " << number(budget.spent) << " of "
            << number(budget.total) << " spent\n";
  return kExitOk;
}

}  // namespace

void add_stats_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<StatsOptions>();
  CLI::App* app = root.add_subcommand(
      "stats",
      "A differentially private count, sum, mean or histogram of a field over the customers a purpose may "
      "use; each answer spends epsilon from the purpose's privacy budget, and a spent budget refuses (exit "
      "3)");
  app->add_option("AGGREGATE", options->aggregate, "count, sum, mean or histogram")->required();
  app->add_option("FIELD", options->field,
                  "The field; sum, mean and histogram need an integer field in clear")
      ->required();
  app->add_option("--purpose", options->purpose,
                  "The purpose whose customers are counted and whose budget pays")
      ->required();
  app->add_option("--epsilon", options->epsilon,
                  "The privacy loss this answer may cost (smaller: more noise)")
      ->required()
      ->check(CLI::PositiveNumber);
  app->add_option("--bounds", options->bounds,
                  "LO,HI: every value is clamped to them (sum, mean, histogram)");
  app->add_option("--bins", options->bins, "Histogram bins of equal width over LO..HI (default 10)")
      ->check(CLI::Range(std::int64_t{1}, kMaxHistogramBins));
  app->add_option("--noise", options->noise,
                  "laplace (default; pure epsilon-DP) or gaussian (needs --delta)");
  app->add_option("--delta", options->delta,
                  "For gaussian noise: the delta of (epsilon, delta)-DP, at most 0.001");
  app->add_flag("--json", options->json, "Print JSON");
  commands.push_back({app, [&global, options] { return run_stats(global, *options); }});
}

}  // namespace consentry::cli
