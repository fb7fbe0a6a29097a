// anonymise_risk_test.cpp: re-identification risk analysis: figures worked out by hand on small
// tables, every figure against an independent brute-force computation on seeded random tables,
// the Zayatz and Pitman models against their published formulas, and the refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "consentry/anonymise/risk.hpp"
#include "support/must.hpp"

namespace {

namespace fs = std::filesystem;
using namespace consentry;
using consentry::test::must;

const fs::path kRiskData = fs::path(CONSENTRY_TEST_DATA) / "risk";
const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";

Dataset table(std::string source, std::vector<std::string> columns,
              std::vector<std::vector<std::string>> rows) {
  Dataset d;
  d.source = std::move(source);
  d.columns = std::move(columns);
  d.rows = std::move(rows);
  return d;
}

/// The hand table: classes on (age, zip) of sizes 3, 2, 1, 1, 1; the cells carry a marker so
/// that a message quoting one is caught.
Dataset hand() {
  return table("hand.csv", {"age", "zip", "note"},
               {{"30", "zip-secret-A", "x"},
                {"30", "zip-secret-A", "x"},
                {"30", "zip-secret-A", "y"},
                {"40", "zip-secret-A", "x"},
                {"40", "zip-secret-A", "x"},
                {"50", "zip-secret-B", "x"},
                {"60", "zip-secret-B", "x"},
                {"60", "zip-secret-C", "x"}});
}

/// population_of: the population the hand table was drawn from, columns in another order:
/// F = 6, 2, 4, 1, 2 for the hand table's classes, and 5 records of a class it lacks.
Dataset hand_population() {
  std::vector<std::vector<std::string>> rows;
  auto add = [&rows](const std::string& zip, const std::string& age, int times) {
    for (int i = 0; i < times; ++i) rows.push_back({zip, "z", age});
  };
  add("zip-secret-A", "30", 6);
  add("zip-secret-A", "40", 2);
  add("zip-secret-B", "50", 4);
  add("zip-secret-B", "60", 1);
  add("zip-secret-C", "60", 2);
  add("zip-secret-D", "70", 5);
  return table("population.csv", {"zip", "other", "age"}, std::move(rows));
}

RiskConfig config_of(std::vector<std::string> quasi, double threshold = 0.2) {
  RiskConfig c;
  c.quasi_identifiers = std::move(quasi);
  c.threshold = threshold;
  return c;
}

bool holds_a_cell(const std::string& message) {
  return message.find("secret") != std::string::npos;
}

}  // namespace

TEST_CASE("risk: the hand table's figures, worked out by hand") {
  // Classes on (age, zip): 3, 2, 1, 1, 1 records; n = 8, u = 5.
  const RiskReport r = must(analyse_risk(hand(), config_of({"age", "zip"})));
  CHECK(r.rows == 8);
  CHECK(r.classes == 5);
  CHECK(r.smallest_class == 1);
  CHECK(r.largest_class == 3);
  CHECK(r.mean_class_size == doctest::Approx(1.6));
  REQUIRE(r.class_sizes.size() == 3);
  CHECK(r.class_sizes[0].size == 1);
  CHECK(r.class_sizes[0].classes == 3);
  CHECK(r.class_sizes[1].size == 2);
  CHECK(r.class_sizes[1].classes == 1);
  CHECK(r.class_sizes[2].size == 3);
  CHECK(r.class_sizes[2].classes == 1);
  // Prosecutor: highest 1/1, average 5/8; every record's risk (1/3, 1/2, 1) exceeds 0.2.
  CHECK(r.prosecutor.highest == 1.0);
  CHECK(r.prosecutor.average == doctest::Approx(0.625));
  CHECK(r.prosecutor.records_at_risk == 8);
  CHECK(r.prosecutor.records_at_risk_fraction == 1.0);
  // Without a population table, journalist = prosecutor and marketer = classes / rows.
  CHECK_FALSE(r.population_table);
  CHECK(r.journalist.highest == r.prosecutor.highest);
  CHECK(r.journalist.average == r.prosecutor.average);
  CHECK(r.journalist.records_at_risk == r.prosecutor.records_at_risk);
  CHECK(r.marketer == doctest::Approx(0.625));
  CHECK(r.sample_uniques == 3);
  CHECK(r.sample_uniques_fraction == doctest::Approx(0.375));
  CHECK_FALSE(r.population_uniques.has_value());

  // Threshold 0.4: risks 1/2 and 1 exceed it, 1/3 does not: 2 + 3 records. Threshold 0.5: only
  // the uniques (a risk equal to the threshold is not above it).
  CHECK(must(analyse_risk(hand(), config_of({"age", "zip"}, 0.4))).prosecutor.records_at_risk == 5);
  const RiskReport half = must(analyse_risk(hand(), config_of({"age", "zip"}, 0.5)));
  CHECK(half.prosecutor.records_at_risk == 3);
  CHECK(half.prosecutor.records_at_risk_fraction == doctest::Approx(0.375));
  CHECK(must(analyse_risk(hand(), config_of({"age", "zip"}, 1.0))).prosecutor.records_at_risk == 0);

  // On age alone: classes 3, 2, 1, 2: highest 1, average 4/8, one unique.
  const RiskReport age = must(analyse_risk(hand(), config_of({"age"})));
  CHECK(age.classes == 4);
  CHECK(age.prosecutor.average == doctest::Approx(0.5));
  CHECK(age.sample_uniques == 1);
}

TEST_CASE("risk: journalist and marketer risk against a population table, by hand") {
  const Dataset population = hand_population();
  const RiskReport r = must(analyse_risk(hand(), config_of({"age", "zip"}, 0.4), &population));
  CHECK(r.population_table);
  CHECK(r.population_rows == 20);
  // f = 3, 2, 1, 1, 1 against F = 6, 2, 4, 1, 2.
  // highest 1/min F = 1; at risk (1/F > 0.4: F = 2, 1, 2): 2 + 1 + 1 = 4 records.
  CHECK(r.journalist.highest == 1.0);
  CHECK(r.journalist.records_at_risk == 4);
  CHECK(r.journalist.records_at_risk_fraction == doctest::Approx(0.5));
  // sum f/F = 3/6 + 2/2 + 1/4 + 1/1 + 1/2 = 3.25, over n = 8: 0.40625; u / sum F = 5/15.
  CHECK(r.marketer == doctest::Approx(0.40625));
  CHECK(r.journalist.average == doctest::Approx(std::max(0.40625, 5.0 / 15.0)));
  // Prosecutor risk does not look at the population.
  CHECK(r.prosecutor.average == doctest::Approx(0.625));
  CHECK(r.prosecutor.records_at_risk == 5);
  // The sampling fraction defaults to n / population rows = 8/20.
  REQUIRE(r.population_uniques.has_value());
  CHECK(r.population_uniques->sampling_fraction == doctest::Approx(0.4));
  CHECK(r.population_uniques->population_size == 20);
  // Zayatz, N = 20, n = 8, f1 = 3, f2 = 1, f3 = 1. H(i) = i C(N-i, n-1) / C(N, n):
  //   H(1) = C(19,7)/C(20,8) = 50388/125970 = 0.4
  //   H(2) = 2 C(18,7)/C(20,8) = 2 * 31824/125970 = 48/95
  //   H(3) = 3 C(17,7)/C(20,8) = 3 * 19448/125970 = 44/95
  //   P = (3/5)(0.4) / [(3/5)(0.4) + (1/5)(48/95) + (1/5)(44/95)] = 0.24 / (0.24 + 92/475) = 57/103
  //   uniques = f1 P / (n/N) = 3 (57/103) / 0.4 = 855/206 = 4.1504854...
  CHECK(r.population_uniques->zayatz == doctest::Approx(855.0 / 206.0));
  CHECK(r.population_uniques->zayatz_fraction == doctest::Approx(855.0 / 206.0 / 20.0));
  // Above a sampling fraction of 0.1 the rule settles on Zayatz (SNB not being estimated).
  CHECK(r.population_uniques->decision == UniquenessModel::zayatz);
  CHECK(r.population_uniques->decision_uniques == r.population_uniques->zayatz);

  // A given sampling fraction wins over the population's.
  RiskConfig config = config_of({"age", "zip"});
  config.sampling_fraction = 0.5;
  CHECK(must(analyse_risk(hand(), config, &population)).population_uniques->population_size == 16);
}

TEST_CASE("risk: Zayatz's estimate against the published formula, by hand") {
  // f1 = 2, f2 = 1: n = 4, u = 3; sampling fraction 0.5, so N = 8.
  //   H(1) = C(7,3)/C(8,4) = 35/70 = 1/2;  H(2) = 2 C(6,3)/C(8,4) = 40/70 = 4/7
  //   P = (2/3)(1/2) / [(2/3)(1/2) + (1/3)(4/7)] = (1/3) / (11/21) = 7/11
  //   uniques = 2 (7/11) / 0.5 = 28/11 = 2.5454...; as a share of N: 28/88 = 7/22.
  const PopulationUniqueness u = must(estimate_population_uniques({{1, 2}, {2, 1}}, 0.5));
  CHECK(u.population_size == 8);
  CHECK(u.zayatz == doctest::Approx(28.0 / 11.0));
  CHECK(u.zayatz_fraction == doctest::Approx(7.0 / 22.0));

  // At sampling fraction 1 the sample is the population: H(i) = 0 for i > 1, P = 1, and the
  // population uniques are the sample uniques.
  const PopulationUniqueness whole = must(estimate_population_uniques({{1, 7}, {2, 3}, {5, 2}}, 1.0));
  CHECK(whole.population_size == 23);
  CHECK(whole.zayatz == doctest::Approx(7.0));
  CHECK(whole.zayatz_fraction == doctest::Approx(7.0 / 23.0));

  // Every record unique: P = 1, so all N population records are estimated unique; Pitman has no
  // fit (its likelihood grows without bound in theta) and the rule falls back to Zayatz.
  const PopulationUniqueness all = must(estimate_population_uniques({{1, 10}}, 0.05));
  CHECK(all.population_size == 200);
  CHECK(all.zayatz == doctest::Approx(200.0));
  CHECK_FALSE(all.pitman_fit.has_value());
  CHECK_FALSE(all.pitman.has_value());
  CHECK(all.decision == UniquenessModel::zayatz);

  // No sample uniques: every estimate is 0 and no model is needed.
  const PopulationUniqueness none = must(estimate_population_uniques({{2, 3}, {4, 1}}, 0.01));
  CHECK(none.zayatz == 0.0);
  REQUIRE(none.pitman.has_value());
  CHECK(*none.pitman == 0.0);
  CHECK(none.decision == UniquenessModel::none);
  CHECK(none.decision_uniques == 0.0);
}

TEST_CASE("risk: Pitman's estimate against Hoshino's formula and the likelihood, by hand") {
  // The estimate Gamma(theta + 1) / Gamma(theta + alpha) * N^alpha:
  //   theta = 1, alpha = 1/2, N = 100: Gamma(2) / Gamma(3/2) * 10 = 10 / (sqrt(pi) / 2) = 20/sqrt(pi)
  //   theta = 2, alpha = 1/2, N = 16: Gamma(3) / Gamma(5/2) * 4 = 2 / (3 sqrt(pi) / 4) * 4 = 32/(3 sqrt(pi))
  const double pi = std::acos(-1.0);
  CHECK(pitman_uniques(1.0, 0.5, 100.0) == doctest::Approx(20.0 / std::sqrt(pi)));
  CHECK(pitman_uniques(2.0, 0.5, 16.0) == doctest::Approx(32.0 / (3.0 * std::sqrt(pi))));

  // Sizes 1 and 2 (n = 3, u = 2): log L = log(theta + alpha) - log(theta + 1) - log(theta + 2)
  // + log(1 - alpha). In alpha its derivative is 1/(theta + alpha) - 1/(1 - alpha); at alpha = 0
  // and the theta below it is 1/sqrt 2 - 1 < 0, and setting both derivatives to 0 asks
  // 1/(2(1 - alpha)) = 1/(3 - 2 alpha), i.e. 3 = 2: no interior maximum, so alpha = 0. Then
  // 1/theta - 1/(theta + 1) - 1/(theta + 2) = 0 gives (theta+1)(theta+2) - theta(theta+2) -
  // theta(theta+1) = 2 - theta^2 = 0: theta = sqrt 2. With alpha = 0 (Ewens' model) there is no
  // Pitman estimate, and the rule uses Zayatz even at a small sampling fraction.
  const auto fit = fit_pitman({{1, 1}, {2, 1}});
  REQUIRE(fit.has_value());
  CHECK(fit->alpha == 0.0);
  CHECK(fit->theta == doctest::Approx(std::sqrt(2.0)).epsilon(1e-9));
  CHECK(fit->log_likelihood == doctest::Approx(std::log(std::sqrt(2.0)) - std::log(std::sqrt(2.0) + 1) -
                                               std::log(std::sqrt(2.0) + 2)));
  const PopulationUniqueness small = must(estimate_population_uniques({{1, 1}, {2, 1}}, 0.05));
  CHECK_FALSE(small.pitman.has_value());
  CHECK(small.decision == UniquenessModel::zayatz);

  // One class: no fit.
  CHECK_FALSE(fit_pitman({{4, 1}}).has_value());
}

TEST_CASE("risk: the Pitman fit is the likelihood's maximum, checked on its own derivatives") {
  // A histogram with an interior maximum: the score equations (Hoshino 2001)
  //   sum_{i<u} 1/(theta + i alpha) = sum_{i<n} 1/(theta + i)
  //   sum_{i<u} i/(theta + i alpha) = sum_j sum_{k<s_j} 1/(k - alpha)
  // hold at the fit, and the likelihood is lower all around it.
  const std::vector<ClassSizeCount> h = {{1, 100}, {2, 40}, {3, 20}, {4, 10}, {10, 3}, {50, 1}};
  std::size_t n = 0, u = 0;
  for (const auto& c : h) {
    n += c.size * c.classes;
    u += c.classes;
  }
  auto log_l = [&](double t, double a) {
    double l = 0;
    for (std::size_t i = 1; i < u; ++i) l += std::log(t + static_cast<double>(i) * a);
    for (std::size_t i = 1; i < n; ++i) l -= std::log(t + static_cast<double>(i));
    for (const auto& c : h)
      for (std::size_t k = 1; k < c.size; ++k)
        l += static_cast<double>(c.classes) * std::log(static_cast<double>(k) - a);
    return l;
  };
  const auto fit = fit_pitman(h);
  REQUIRE(fit.has_value());
  const double t = fit->theta, a = fit->alpha;
  CHECK(a > 0.0);
  CHECK(a < 1.0);
  double lhs1 = 0, rhs1 = 0, lhs2 = 0, rhs2 = 0;
  for (std::size_t i = 1; i < u; ++i) {
    lhs1 += 1.0 / (t + static_cast<double>(i) * a);
    lhs2 += static_cast<double>(i) / (t + static_cast<double>(i) * a);
  }
  for (std::size_t i = 1; i < n; ++i) rhs1 += 1.0 / (t + static_cast<double>(i));
  for (const auto& c : h)
    for (std::size_t k = 1; k < c.size; ++k)
      rhs2 += static_cast<double>(c.classes) / (static_cast<double>(k) - a);
  CHECK(lhs1 == doctest::Approx(rhs1).epsilon(1e-9));
  CHECK(lhs2 == doctest::Approx(rhs2).epsilon(1e-9));
  CHECK(fit->log_likelihood == doctest::Approx(log_l(t, a)));
  for (double dt : {-0.5, 0.0, 0.5})
    for (double da : {-0.01, 0.0, 0.01})
      if (dt != 0.0 || da != 0.0) CHECK(log_l(t + dt, a + da) < fit->log_likelihood);
  // A coarse search over the whole domain finds nothing better.
  double best = -std::numeric_limits<double>::infinity();
  for (double aa = 0.0; aa < 0.995; aa += 0.01)
    for (double s = 0.01; s < 1000.0; s *= 1.05)
      best = std::max(best, log_l(s - aa, aa));  // theta + alpha = s
  CHECK(best <= fit->log_likelihood + 1e-9);

  // The estimate is Hoshino's formula at the fit; the sampling fraction 0.05 picks Pitman.
  const PopulationUniqueness e = must(estimate_population_uniques(h, 0.05));
  CHECK(e.population_size == 7200);
  REQUIRE(e.pitman.has_value());
  CHECK(*e.pitman ==
        doctest::Approx(std::exp(std::lgamma(t + 1) - std::lgamma(t + a) + a * std::log(7200.0))));
  CHECK(*e.pitman_fraction == doctest::Approx(*e.pitman / 7200.0));
  CHECK(e.decision == UniquenessModel::pitman);
  CHECK(e.decision_uniques == *e.pitman);
  // Above 0.1 the rule uses Zayatz.
  CHECK(must(estimate_population_uniques(h, 0.2)).decision == UniquenessModel::zayatz);
}

TEST_CASE("risk: every figure against a brute-force computation on seeded random tables") {
  std::mt19937_64 random(20260517);
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    const std::size_t columns = 1 + random() % 3;
    const std::size_t alphabet = 1 + random() % 5;
    const std::size_t rows = 1 + random() % 40;
    auto cell = [&] { return "v" + std::to_string(random() % alphabet); };
    Dataset data;
    data.source = "random.csv";
    for (std::size_t c = 0; c < columns; ++c) data.columns.push_back("c" + std::to_string(c));
    data.columns.push_back("extra");
    for (std::size_t r = 0; r < rows; ++r) {
      std::vector<std::string> row;
      for (std::size_t c = 0; c <= columns; ++c) row.push_back(cell());
      data.rows.push_back(row);
    }
    // The population: the table's rows and as many again at random.
    Dataset population = data;
    population.source = "random-population.csv";
    for (std::size_t r = 0, extra = random() % 60; r < extra; ++r) {
      std::vector<std::string> row;
      for (std::size_t c = 0; c <= columns; ++c) row.push_back(cell());
      population.rows.push_back(row);
    }
    std::shuffle(population.rows.begin(), population.rows.end(), random);

    RiskConfig config;
    for (std::size_t c = 0; c < columns; ++c) config.quasi_identifiers.push_back("c" + std::to_string(c));
    std::shuffle(config.quasi_identifiers.begin(), config.quasi_identifiers.end(), random);
    config.threshold = std::vector<double>{0.05, 0.2, 1.0 / 3.0, 0.5, 1.0}[random() % 5];
    const bool with_population = random() % 2 == 0;
    if (!with_population || random() % 2 == 0)
      config.sampling_fraction = std::vector<double>{0.01, 0.1, 0.3, 1.0}[random() % 4];

    // Independently: classes as a map from the quasi-identifier tuple (in column order) to size.
    auto key_of = [&](const Dataset& d, const std::vector<std::string>& row) {
      std::vector<std::string> key;
      for (const std::string& q : config.quasi_identifiers) key.push_back(row[*d.column_index(q)]);
      return key;
    };
    std::map<std::vector<std::string>, std::size_t> f, F;
    for (const auto& row : data.rows) ++f[key_of(data, row)];
    for (const auto& row : population.rows) ++F[key_of(population, row)];
    if (!with_population) F = f;
    const double n = static_cast<double>(rows);
    std::size_t smallest = rows, largest = 0, smallest_F = SIZE_MAX, uniques = 0, at_risk_p = 0,
                at_risk_j = 0;
    double sum_F = 0, share = 0;
    std::map<std::size_t, std::size_t> histogram;
    for (const auto& [key, size] : f) {
      smallest = std::min(smallest, size);
      largest = std::max(largest, size);
      smallest_F = std::min(smallest_F, F.at(key));
      ++histogram[size];
      uniques += size == 1 ? 1 : 0;
      if (1.0 / static_cast<double>(size) > config.threshold) at_risk_p += size;
      if (1.0 / static_cast<double>(F.at(key)) > config.threshold) at_risk_j += size;
      sum_F += static_cast<double>(F.at(key));
      share += static_cast<double>(size) / static_cast<double>(F.at(key));
    }
    const double u = static_cast<double>(f.size());

    const RiskReport r = must(analyse_risk(data, config, with_population ? &population : nullptr));
    CHECK(r.rows == rows);
    CHECK(r.classes == f.size());
    CHECK(r.smallest_class == smallest);
    CHECK(r.largest_class == largest);
    CHECK(r.mean_class_size == doctest::Approx(n / u));
    REQUIRE(r.class_sizes.size() == histogram.size());
    std::size_t i = 0;
    for (const auto& [size, count] : histogram) {
      CHECK(r.class_sizes[i].size == size);
      CHECK(r.class_sizes[i].classes == count);
      ++i;
    }
    CHECK(r.prosecutor.highest == doctest::Approx(1.0 / static_cast<double>(smallest)));
    CHECK(r.prosecutor.average == doctest::Approx(u / n));
    CHECK(r.prosecutor.records_at_risk == at_risk_p);
    CHECK(r.prosecutor.records_at_risk_fraction == doctest::Approx(static_cast<double>(at_risk_p) / n));
    CHECK(r.journalist.highest == doctest::Approx(1.0 / static_cast<double>(smallest_F)));
    CHECK(r.journalist.average == doctest::Approx(std::max(u / sum_F, share / n)));
    CHECK(r.journalist.records_at_risk == at_risk_j);
    CHECK(r.marketer == doctest::Approx(share / n));
    CHECK(r.sample_uniques == uniques);
    CHECK(r.sample_uniques_fraction == doctest::Approx(static_cast<double>(uniques) / n));
    CHECK(r.population_table == with_population);

    // Zayatz from the hypergeometric probabilities themselves, in logs of binomial coefficients.
    REQUIRE(r.population_uniques.has_value() == (with_population || config.sampling_fraction.has_value()));
    if (!r.population_uniques) continue;
    const double pi_ = config.sampling_fraction ? *config.sampling_fraction
                                                : n / static_cast<double>(population.rows.size());
    const double N = std::round(n / pi_);
    auto log_choose = [](double a, double b) {
      return std::lgamma(a + 1) - std::lgamma(b + 1) - std::lgamma(a - b + 1);
    };
    auto H = [&](double size) {
      if (N - size < n - 1) return 0.0;
      return size * std::exp(log_choose(N - size, n - 1) - log_choose(N, n));
    };
    double numerator = 0, denominator = 0;
    for (const auto& [size, count] : histogram) {
      const double term = static_cast<double>(count) / u * H(static_cast<double>(size));
      denominator += term;
      if (size == 1) numerator = term;
    }
    const double zayatz =
        uniques == 0 ? 0.0 : static_cast<double>(uniques) * (numerator / denominator) * N / n;
    const PopulationUniqueness& p = *r.population_uniques;
    CHECK(p.population_size == N);
    CHECK(p.zayatz == doctest::Approx(zayatz).epsilon(1e-9));
    // Zayatz never exceeds the sample's share of uniques, and with the whole population it is
    // the sample uniques.
    CHECK(p.zayatz_fraction <= r.sample_uniques_fraction + 1e-12);
    if (pi_ == 1.0) CHECK(p.zayatz == doctest::Approx(static_cast<double>(uniques)));
    if (p.pitman) {
      CHECK(*p.pitman >= 0.0);
      CHECK(*p.pitman <= N);
    }
    if (uniques == 0) CHECK(p.decision == UniquenessModel::none);
  }
}

TEST_CASE("risk: Adult with a sampling fraction, and the CSV fixtures") {
  const Dataset adult = must(read_dataset(kAdult / "adult.csv"));
  RiskConfig config = config_of({"sex", "age", "race", "marital-status"});
  config.sampling_fraction = 0.01;
  const RiskReport r = must(analyse_risk(adult, config));
  CHECK(r.rows == 30162);
  CHECK(r.sample_uniques > 0);
  REQUIRE(r.population_uniques.has_value());
  const PopulationUniqueness& p = *r.population_uniques;
  CHECK(p.population_size == 3016200);
  CHECK(p.zayatz_fraction <= r.sample_uniques_fraction);
  REQUIRE(p.pitman.has_value());
  CHECK(*p.pitman_fraction <= r.sample_uniques_fraction);
  CHECK(p.decision == UniquenessModel::pitman);

  const Dataset sample = must(read_dataset(kRiskData / "sample.csv"));
  const Dataset population = must(read_dataset(kRiskData / "population.csv"));
  const RiskReport files = must(analyse_risk(sample, config_of({"age", "zip"}), &population));
  CHECK(files.classes == 5);
  CHECK(files.marketer == doctest::Approx(0.40625));
}

TEST_CASE("risk: refusals name the file, the line and the column, never a cell") {
  const Dataset data = hand();
  const Dataset population = hand_population();
  struct Case {
    RiskConfig config;
    const Dataset* population;
    std::string message;
  };
  auto with = [](std::vector<std::string> quasi, double threshold, std::optional<double> fraction = {}) {
    RiskConfig c = config_of(std::move(quasi), threshold);
    c.sampling_fraction = fraction;
    return c;
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Dataset missing = population;  // no record of class (60, C)
  std::erase_if(missing.rows, [](const auto& row) { return row[0] == "zip-secret-C"; });
  Dataset fewer = population;  // two records of class (30, A) where the table has three
  fewer.rows.erase(fewer.rows.begin(), fewer.rows.begin() + 4);
  Dataset no_zip = table("population.csv", {"age"}, {{"30"}});
  Dataset empty_population = table("population.csv", {"zip", "age"}, {});
  const std::vector<Case> cases = {
      {with({"age", "postcode"}, 0.2), nullptr, "hand.csv:1: no column 'postcode'"},
      {with({"age", "zip", "age"}, 0.2), nullptr, "hand.csv:1: quasi-identifier column 'age' is named twice"},
      {with({}, 0.2), nullptr, "no quasi-identifier"},
      {with({"age"}, 0.0), nullptr, "threshold must be in (0, 1]"},
      {with({"age"}, 1.5), nullptr, "threshold must be in (0, 1]"},
      {with({"age"}, -0.1), nullptr, "threshold must be in (0, 1]"},
      {with({"age"}, nan), nullptr, "threshold must be in (0, 1]"},
      {with({"age"}, 0.2, 0.0), nullptr, "sampling fraction must be in (0, 1]"},
      {with({"age"}, 0.2, 1.01), nullptr, "sampling fraction must be in (0, 1]"},
      {with({"age"}, 0.2, nan), nullptr, "sampling fraction must be in (0, 1]"},
      {with({"age", "zip"}, 0.2), &no_zip, "population.csv:1: no column 'zip'"},
      {with({"age", "zip"}, 0.2), &empty_population, "population.csv: the population table has no rows"},
      {with({"age", "zip"}, 0.2), &missing,
       "hand.csv:9: the population table population.csv holds no record"},
      {with({"age", "zip"}, 0.2), &fewer,
       "hand.csv:4: the population table population.csv holds fewer records"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    auto r = analyse_risk(data, c.config, c.population);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find(c.message) != std::string::npos);
    CHECK_FALSE(holds_a_cell(r.err().message));
  }

  // An empty table, a ragged one (refused by the parser), and a bad histogram.
  auto empty = analyse_risk(table("empty.csv", {"age"}, {}), config_of({"age"}));
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().message.find("empty.csv: the table has no rows") != std::string::npos);
  auto ragged = read_dataset(kRiskData / "ragged.csv");
  REQUIRE_FALSE(ragged.ok());
  CHECK(ragged.err().code == errc::bad_input);
  CHECK(ragged.err().message.find("ragged.csv:3") != std::string::npos);
  CHECK_FALSE(estimate_population_uniques({}, 0.5).ok());
  CHECK_FALSE(estimate_population_uniques({{0, 1}}, 0.5).ok());
  CHECK_FALSE(estimate_population_uniques({{1, 0}}, 0.5).ok());
  CHECK_FALSE(estimate_population_uniques({{1, 1}}, 0.0).ok());
}
