// anonymise_k_anonymity_test.cpp: the optimal lattice search against a brute-force search over
// the whole lattice (written here, independently), on hand-made tables whose optimum is worked
// out by hand, on random tables, and on Adult; Mondrian's classes, ranges and maximality; and the
// refusals.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "consentry/anonymise/k_anonymity.hpp"
#include "support/anonymise_tables.hpp"

namespace {

namespace fs = std::filesystem;
using namespace consentry;

const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";

using consentry::test::hand_hierarchies;
using consentry::test::hand_table;
using consentry::test::hierarchy_of;

AnonymityConfig config_of(std::vector<std::string> quasi, std::size_t k) {
  AnonymityConfig c;
  c.quasi_identifiers = std::move(quasi);
  c.k = k;
  return c;
}

/// Oracle is what the brute force found.
struct Oracle {
  bool found = false;
  std::vector<std::size_t> levels;
  std::uint64_t dm = 0;
  std::size_t suppressed = 0;
  std::size_t classes = 0;
  double ncp = 0;
};

double entropy_of(const std::map<std::string, std::size_t>& counts, std::size_t n) {
  double h = 0;
  for (const auto& [v, c] : counts) {
    const double p = static_cast<double>(c) / static_cast<double>(n);
    h -= p * std::log(p);
  }
  return h;
}

/// brute_force checks every node of the lattice by generalising the strings and grouping them,
/// and picks the least discernibility, then the lowest sum of levels, then the lowest levels in
/// column order.
Oracle brute_force(const Dataset& d, const Hierarchies& hs, const AnonymityConfig& cfg) {
  const std::size_t q = cfg.quasi_identifiers.size();
  const std::size_t n = d.rows.size();
  std::vector<std::size_t> col(q), depth(q);
  std::vector<std::map<std::string, std::size_t>> leaf_row(q);
  std::vector<const Hierarchy*> h(q);
  for (std::size_t c = 0; c < q; ++c) {
    col[c] = *d.column_index(cfg.quasi_identifiers[c]);
    h[c] = &hs.at(cfg.quasi_identifiers[c]);
    depth[c] = h[c]->rows[0].size();
    for (std::size_t i = 0; i < h[c]->rows.size(); ++i) leaf_row[c][h[c]->rows[i][0]] = i;
  }
  const std::size_t sens = cfg.sensitive.empty() ? 0 : *d.column_index(cfg.sensitive);
  const std::size_t limit =
      static_cast<std::size_t>(std::floor(cfg.max_suppression * static_cast<double>(n) + 1e-9));
  Oracle best;
  std::size_t best_height = 0;
  std::vector<std::size_t> lv(q, 0);
  while (true) {
    std::unordered_map<std::string, std::vector<std::size_t>> groups;
    for (std::size_t r = 0; r < n; ++r) {
      std::string key;
      for (std::size_t c = 0; c < q; ++c) {
        key += h[c]->rows[leaf_row[c].at(d.rows[r][col[c]])][lv[c]];
        key += '\x1f';
      }
      groups[key].push_back(r);
    }
    std::size_t suppressed = 0, classes = 0;
    std::uint64_t kept = 0;
    std::vector<char> keep(n, 0);
    for (const auto& [key, rows] : groups) {
      bool ok = rows.size() >= cfg.k;
      if (ok && cfg.l > 1) {
        std::map<std::string, std::size_t> counts;
        for (std::size_t r : rows) ++counts[d.rows[r][sens]];
        if (cfg.diversity == DiversityMeasure::distinct) {
          ok = counts.size() >= cfg.l;
        } else {
          ok = entropy_of(counts, rows.size()) >= std::log(static_cast<double>(cfg.l)) - 1e-9;
        }
      }
      if (ok) {
        kept += static_cast<std::uint64_t>(rows.size()) * rows.size();
        ++classes;
        for (std::size_t r : rows) keep[r] = 1;
      } else {
        suppressed += rows.size();
      }
    }
    if (suppressed <= limit && suppressed < n) {
      const std::uint64_t dm = kept + static_cast<std::uint64_t>(suppressed) * n;
      std::size_t height = 0;
      for (std::size_t v : lv) height += v;
      // Nodes are visited in lexicographic order, so on a tie of dm and height the first stays.
      if (!best.found || dm < best.dm || (dm == best.dm && height < best_height)) {
        best.found = true;
        best.levels = lv;
        best.dm = dm;
        best.suppressed = suppressed;
        best.classes = classes;
        best_height = height;
        double ncp = static_cast<double>(suppressed * q);
        for (std::size_t r = 0; r < n; ++r) {
          if (!keep[r]) continue;
          for (std::size_t c = 0; c < q; ++c) {
            const std::string& label = h[c]->rows[leaf_row[c].at(d.rows[r][col[c]])][lv[c]];
            std::size_t under = 0;
            for (const auto& row : h[c]->rows) under += row[lv[c]] == label ? 1 : 0;
            const std::size_t m = h[c]->rows.size();
            if (m > 1) ncp += static_cast<double>(under - 1) / static_cast<double>(m - 1);
          }
        }
        best.ncp = ncp / static_cast<double>(n * q);
      }
    }
    // Next node, last column fastest: lexicographic order.
    std::size_t c = q;
    while (c > 0) {
      --c;
      if (++lv[c] < depth[c]) break;
      lv[c] = 0;
      if (c == 0) return best;
    }
  }
}

/// recount groups the released rows by their quasi-identifiers and checks every class against k
/// (and l); returns the class sizes.
std::vector<std::size_t> recount(const Dataset& out, const AnonymityConfig& cfg) {
  std::vector<std::size_t> col;
  for (const auto& name : cfg.quasi_identifiers) col.push_back(*out.column_index(name));
  std::map<std::vector<std::string>, std::vector<std::size_t>> groups;
  for (std::size_t r = 0; r < out.rows.size(); ++r) {
    std::vector<std::string> key;
    for (std::size_t c : col) key.push_back(out.rows[r][c]);
    groups[key].push_back(r);
  }
  std::vector<std::size_t> sizes;
  for (const auto& [key, rows] : groups) {
    CHECK(rows.size() >= cfg.k);
    if (cfg.l > 1) {
      const std::size_t s = *out.column_index(cfg.sensitive);
      std::map<std::string, std::size_t> counts;
      for (std::size_t r : rows) ++counts[out.rows[r][s]];
      if (cfg.diversity == DiversityMeasure::distinct) {
        CHECK(counts.size() >= cfg.l);
      } else {
        CHECK(entropy_of(counts, rows.size()) >= std::log(static_cast<double>(cfg.l)) - 1e-9);
      }
    }
    sizes.push_back(rows.size());
  }
  return sizes;
}

/// agrees runs anonymise and the brute force on the same input and compares them.
void agrees(const Dataset& d, const Hierarchies& hs, const AnonymityConfig& cfg) {
  const Oracle oracle = brute_force(d, hs, cfg);
  auto got = anonymise(d, hs, cfg);
  if (!oracle.found) {
    REQUIRE_FALSE(got.ok());
    CHECK(got.err().code == errc::bad_input);
    CHECK(got.err().message.find("k = " + std::to_string(cfg.k)) != std::string::npos);
    return;
  }
  INFO((got.ok() ? "" : got.err().message));
  REQUIRE(got.ok());
  const AnonymityReport& r = got->report;
  CHECK(r.levels == oracle.levels);
  CHECK(r.loss.discernibility == oracle.dm);
  CHECK(r.suppressed == oracle.suppressed);
  CHECK(r.classes == oracle.classes);
  CHECK(r.loss.ncp == doctest::Approx(oracle.ncp).epsilon(1e-12));
  CHECK(r.nodes_checked + r.nodes_pruned == r.nodes);
  CHECK(got->data.rows.size() == d.rows.size() - oracle.suppressed);
  const auto sizes = recount(got->data, cfg);
  CHECK(sizes.size() == oracle.classes);
}

Dataset read_adult() {
  auto d = read_dataset(kAdult / "adult.csv");
  REQUIRE(d.ok());
  return std::move(d).value();
}

Hierarchies adult_hierarchies(const std::vector<std::string>& columns) {
  auto h = read_hierarchies(kAdult, "adult", columns, ';');
  REQUIRE(h.ok());
  REQUIRE(h->size() == columns.size());
  return std::move(h).value();
}

const std::vector<std::string> kAdultQuasi = {
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"};

}  // namespace

TEST_CASE("the lattice search finds the hand-worked optimum of a small table") {
  const Dataset d = hand_table();
  const Hierarchies hs = hand_hierarchies();
  SUBCASE("k = 2: ages to five-year bands, ZIP codes kept") {
    // (1,0) pairs the rows in four classes of two: DM 4 * 2^2 = 16; (0,1) leaves every age alone.
    auto cfg = config_of({"age", "zip"}, 2);
    auto got = anonymise(d, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{1, 0});
    CHECK(got->report.loss.discernibility == 16);
    CHECK(got->report.classes == 4);
    CHECK(got->report.suppressed == 0);
    CHECK(got->report.min_class_size == 2);
    CHECK(got->report.loss.average_class_size == doctest::Approx(1.0));
    // Each age label covers 5 of 10 leaves: (5-1)/(10-1) on half the cells.
    CHECK(got->report.loss.ncp == doctest::Approx(2.0 / 9.0));
    CHECK(got->data.rows[0] == std::vector<std::string>{"20-24", "47677", "flu"});
    CHECK(got->data.rows[7] == std::vector<std::string>{"25-29", "47906", "hiv"});
    agrees(d, hs, cfg);
  }
  SUBCASE("k = 4: both columns one level up") {
    auto cfg = config_of({"age", "zip"}, 4);
    auto got = anonymise(d, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{1, 1});
    CHECK(got->report.loss.discernibility == 32);
    agrees(d, hs, cfg);
  }
  SUBCASE("distinct 3-diversity needs the four-row classes") {
    auto cfg = config_of({"age", "zip"}, 2);
    cfg.l = 3;
    cfg.sensitive = "disease";
    auto got = anonymise(d, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{1, 1});
    agrees(d, hs, cfg);
  }
  SUBCASE("entropy 2-diversity is met by (1,1), entropy 3-diversity by no node") {
    auto cfg = config_of({"age", "zip"}, 2);
    cfg.l = 2;
    cfg.sensitive = "disease";
    cfg.diversity = DiversityMeasure::entropy;
    auto got = anonymise(d, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{1, 1});
    agrees(d, hs, cfg);
    // The whole table (flu 3, cold 3, hiv 2) has entropy 1.082 < log 3 = 1.099.
    cfg.l = 3;
    auto refused = anonymise(d, hs, cfg);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::bad_input);
    CHECK(refused.err().message.find("k = 2, l = 3 (entropy)") != std::string::npos);
    CHECK(refused.err().message.find("max-suppression 0") != std::string::npos);
    agrees(d, hs, cfg);
  }
  SUBCASE("an outlier row: (2,0) beats the suppression of the outlier") {
    Dataset o = d;
    o.rows.push_back({"22", "47906", "flu"});
    auto cfg = config_of({"age", "zip"}, 2);
    // Without suppression: ages dropped, ZIP codes kept: classes 2,2,2,3, DM 21.
    auto got = anonymise(o, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{2, 0});
    CHECK(got->report.loss.discernibility == 21);
    agrees(o, hs, cfg);
    // Suppressing the outlier at (1,0) costs 16 + 9 = 25 > 21.
    cfg.max_suppression = 1.0 / 9.0;
    got = anonymise(o, hs, cfg);
    REQUIRE(got.ok());
    CHECK(got->report.levels == std::vector<std::size_t>{2, 0});
    agrees(o, hs, cfg);
    // With k = 3, (1,0) with the outlier suppressed would leave classes of 2: the brute force decides.
    cfg.k = 3;
    cfg.max_suppression = 0.5;
    agrees(o, hs, cfg);
  }
}

TEST_CASE("the lattice search agrees with the brute force on random tables") {
  std::mt19937 rng(20240607);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  int refusals = 0, releases = 0;
  for (int round = 0; round < 300; ++round) {
    CAPTURE(round);
    const int q = pick(1, 3);
    Dataset d;
    d.source = "random.csv";
    Hierarchies hs;
    std::vector<int> leaves(q);
    for (int c = 0; c < q; ++c) {
      const std::string name = "q" + std::to_string(c);
      d.columns.push_back(name);
      leaves[c] = pick(2, 7);
      const int levels = pick(1, 4);
      const int branch = pick(2, 3);
      // The top is "*" for the whole column or a grouping like the levels below it.
      const bool star_top = pick(0, 1) == 1;
      std::vector<std::vector<std::string>> rows;
      for (int i = 0; i < leaves[c]; ++i) {
        std::vector<std::string> row{name + "v" + std::to_string(i)};
        int group = i;
        for (int j = 1; j < levels; ++j) {
          group /= branch;
          row.push_back(j + 1 == levels && star_top
                            ? "*"
                            : name + "L" + std::to_string(j) + "g" + std::to_string(group));
        }
        rows.push_back(row);
      }
      hs.emplace(name, hierarchy_of(rows, name + ".csv"));
    }
    d.columns.push_back("s");
    const int n = pick(1, 30);
    const int sens_values = pick(1, 4);
    for (int r = 0; r < n; ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < q; ++c) {
        // Skewed values, so that some classes are large and some small.
        const int v = std::min(pick(0, leaves[c] - 1), pick(0, leaves[c] - 1));
        row.push_back("q" + std::to_string(c) + "v" + std::to_string(v));
      }
      row.push_back("s" + std::to_string(pick(0, sens_values - 1)));
      d.rows.push_back(row);
    }
    AnonymityConfig cfg;
    for (int c = 0; c < q; ++c) cfg.quasi_identifiers.push_back("q" + std::to_string(c));
    cfg.k = static_cast<std::size_t>(pick(1, 5));
    if (pick(0, 2) == 0) {
      cfg.l = static_cast<std::size_t>(pick(2, 3));
      cfg.sensitive = "s";
      cfg.diversity = pick(0, 1) ? DiversityMeasure::entropy : DiversityMeasure::distinct;
    }
    const double fractions[] = {0.0, 0.1, 0.25, 0.5};
    cfg.max_suppression = fractions[pick(0, 3)];
    const Oracle oracle = brute_force(d, hs, cfg);
    (oracle.found ? releases : refusals)++;
    agrees(d, hs, cfg);
  }
  // The rounds exercise both outcomes.
  CHECK(refusals > 10);
  CHECK(releases > 100);
}

TEST_CASE("Adult, 8 quasi-identifiers, k = 5: the release is 5-anonymous") {
  const Dataset d = read_adult();
  const Hierarchies hs = adult_hierarchies(kAdultQuasi);
  auto cfg = config_of(kAdultQuasi, 5);
  auto got = anonymise(d, hs, cfg);
  REQUIRE(got.ok());
  const AnonymityReport& r = got->report;
  MESSAGE("Adult k=5: levels " << r.levels[0] << r.levels[1] << r.levels[2] << r.levels[3] << r.levels[4]
                               << r.levels[5] << r.levels[6] << r.levels[7] << ", DM "
                               << r.loss.discernibility << ", NCP " << r.loss.ncp << ", classes " << r.classes
                               << ", checked " << r.nodes_checked << "/" << r.nodes << ", "
                               << std::chrono::duration<double, std::milli>(r.search_time).count() << " ms");
  CHECK(r.nodes == 2u * 5 * 2 * 3 * 4 * 3 * 3 * 3);
  CHECK(r.suppressed == 0);
  CHECK(got->data.rows.size() == d.rows.size());
  const auto sizes = recount(got->data, cfg);
  CHECK(sizes.size() == r.classes);
  std::uint64_t dm = 0;
  for (std::size_t s : sizes) dm += static_cast<std::uint64_t>(s) * s;
  CHECK(dm == r.loss.discernibility);
  CHECK(*std::min_element(sizes.begin(), sizes.end()) == r.min_class_size);
  // The monotonicity pruning leaves most nodes unchecked.
  CHECK(r.nodes_checked < r.nodes / 4);
  // The non-quasi column is untouched, row by row.
  for (std::size_t i = 0; i < d.rows.size(); ++i) REQUIRE(got->data.rows[i][8] == d.rows[i][8]);
  // Each released cell is the row's own value generalised to the chosen level.
  auto expected = generalise(d, hs, kAdultQuasi, r.levels);
  REQUIRE(expected.ok());
  CHECK(expected->rows == got->data.rows);
}

TEST_CASE("Adult with suppression and distinct 2-diversity of salary-class") {
  const Dataset d = read_adult();
  const Hierarchies hs = adult_hierarchies(kAdultQuasi);
  auto cfg = config_of(kAdultQuasi, 5);
  cfg.max_suppression = 0.02;
  cfg.l = 2;
  cfg.sensitive = "salary-class";
  auto got = anonymise(d, hs, cfg);
  REQUIRE(got.ok());
  CHECK(got->report.suppressed <= static_cast<std::size_t>(0.02 * 30162));
  CHECK(got->data.rows.size() + got->report.suppressed == d.rows.size());
  const auto sizes = recount(got->data, cfg);
  CHECK(sizes.size() == got->report.classes);
}

TEST_CASE("Adult, 4 quasi-identifiers: the search agrees with the brute force") {
  const Dataset d = read_adult();
  const std::vector<std::string> quasi = {"sex", "age", "race", "marital-status"};
  const Hierarchies hs = adult_hierarchies(quasi);
  auto cfg = config_of(quasi, 5);
  cfg.max_suppression = 0.01;
  agrees(d, hs, cfg);
  // Entropy l-diversity with suppression is not monotone: every node is checked.
  cfg.l = 3;
  cfg.sensitive = "occupation";
  cfg.diversity = DiversityMeasure::entropy;
  cfg.k = 3;
  agrees(d, hs, cfg);
  auto got = anonymise(d, hs, cfg);
  REQUIRE(got.ok());
  CHECK(got->report.nodes_checked == got->report.nodes);
}

TEST_CASE("k or l that cannot be reached is refused naming k, l and the limit") {
  const Dataset d = hand_table();
  const Hierarchies hs = hand_hierarchies();
  auto cfg = config_of({"age", "zip"}, 9);
  auto r = anonymise(d, hs, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message.find("k = 9") != std::string::npos);
  CHECK(r.err().message.find("max-suppression 0") != std::string::npos);
  // Suppressing everything is not a release either.
  cfg.max_suppression = 1.0;
  CHECK_FALSE(anonymise(d, hs, cfg).ok());
  // l above the number of distinct sensitive values.
  cfg = config_of({"age", "zip"}, 2);
  cfg.l = 4;
  cfg.sensitive = "disease";
  r = anonymise(d, hs, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("k = 2, l = 4 (distinct)") != std::string::npos);
  cfg.method = AnonymityMethod::mondrian;
  r = anonymise(d, hs, cfg);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("l = 4") != std::string::npos);
}

TEST_CASE("bad configurations and hierarchy gaps are refused naming file, line and column") {
  const Dataset d = hand_table();
  Hierarchies hs = hand_hierarchies();
  auto expect = [](const result<Anonymised>& r, const std::string& text) {
    REQUIRE_FALSE(r.ok());
    INFO(r.err().message);
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find(text) != std::string::npos);
  };
  expect(anonymise(d, hs, config_of({"age", "height"}, 2)), "hand.csv:1: no column 'height'");
  expect(anonymise(d, hs, config_of({"age", "disease"}, 2)), "'disease' has no hierarchy");
  expect(anonymise(d, hs, config_of({"age"}, 0)), "k must be at least 1");
  expect(anonymise(d, hs, config_of({}, 2)), "no quasi-identifier");
  expect(anonymise(d, hs, config_of({"age", "age"}, 2)), "named twice");
  auto cfg = config_of({"age"}, 2);
  cfg.max_suppression = 1.5;
  expect(anonymise(d, hs, cfg), "max-suppression");
  cfg.max_suppression = std::nan("");
  expect(anonymise(d, hs, cfg), "max-suppression");
  cfg.max_suppression = -0.1;
  expect(anonymise(d, hs, cfg), "max-suppression");
  cfg = config_of({"age"}, 2);
  cfg.l = 2;
  expect(anonymise(d, hs, cfg), "needs a sensitive column");
  cfg.sensitive = "age";
  expect(anonymise(d, hs, cfg), "both sensitive and a quasi-identifier");
  cfg.sensitive = "weight";
  expect(anonymise(d, hs, cfg), "no sensitive column 'weight'");
  cfg = config_of({"age"}, 2);
  cfg.l = 0;
  expect(anonymise(d, hs, cfg), "l must be at least 1");

  // A value the hierarchy lacks: the row's line and the column, never the value.
  Dataset gap = d;
  gap.rows[4][0] = "1234567";
  auto r = anonymise(gap, hs, config_of({"age", "zip"}, 2));
  expect(r, "hand.csv:6: column 'age': the value is not in hand_hierarchy_age.csv");
  CHECK(r.err().message.find("1234567") == std::string::npos);
  Dataset empty = d;
  empty.rows.clear();
  expect(anonymise(empty, hs, config_of({"age"}, 1)), "no rows");
}

TEST_CASE("generalise applies one node and refuses a level above the top") {
  const Dataset d = hand_table();
  const Hierarchies hs = hand_hierarchies();
  auto g = generalise(d, hs, {"age", "zip"}, {2, 1});
  REQUIRE(g.ok());
  CHECK(g->rows[0] == std::vector<std::string>{"*", "4767*", "flu"});
  auto bad = generalise(d, hs, {"age", "zip"}, {3, 0});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().message.find("above the top of hand_hierarchy_age.csv") != std::string::npos);
}

namespace {

/// Range is a Mondrian label read back: "lo-hi" or one value.
std::pair<double, double> range_of(const std::string& label) {
  const auto dash = label.find('-');
  if (dash == std::string::npos) return {std::stod(label), std::stod(label)};
  return {std::stod(label.substr(0, dash)), std::stod(label.substr(dash + 1))};
}

/// acceptable is the Mondrian class test, written here: k rows, l-diverse.
bool acceptable(const std::vector<std::size_t>& rows, const Dataset& d, const AnonymityConfig& cfg) {
  if (rows.size() < cfg.k) return false;
  if (cfg.l <= 1) return true;
  std::map<std::string, std::size_t> counts;
  const std::size_t s = *d.column_index(cfg.sensitive);
  for (std::size_t r : rows) ++counts[d.rows[r][s]];
  if (cfg.diversity == DiversityMeasure::distinct) return counts.size() >= cfg.l;
  return entropy_of(counts, rows.size()) >= std::log(static_cast<double>(cfg.l)) - 1e-9;
}

/// check_mondrian checks a Mondrian release against its input (non-negative numbers): classes of
/// k or more, l-diverse, every range tight around its members, and no class that a median cut
/// (<= median, or < median) could split into two acceptable halves.
void check_mondrian(const Dataset& in, const Anonymised& out, const AnonymityConfig& cfg) {
  REQUIRE(out.data.rows.size() == in.rows.size());
  std::vector<std::size_t> col;
  for (const auto& name : cfg.quasi_identifiers) col.push_back(*in.column_index(name));
  std::map<std::vector<std::string>, std::vector<std::size_t>> groups;
  for (std::size_t r = 0; r < in.rows.size(); ++r) {
    std::vector<std::string> key;
    for (std::size_t c : col) key.push_back(out.data.rows[r][c]);
    groups[key].push_back(r);
  }
  CHECK(groups.size() == out.report.partitions);
  CHECK(groups.size() == out.report.classes);
  for (const auto& [key, rows] : groups) {
    CHECK(acceptable(rows, in, cfg));
    for (std::size_t c = 0; c < col.size(); ++c) {
      const auto [lo, hi] = range_of(key[c]);
      double min = 1e300, max = -1e300;
      for (std::size_t r : rows) {
        const double v = std::stod(in.rows[r][col[c]]);
        CHECK(v >= lo);
        CHECK(v <= hi);
        min = std::min(min, v);
        max = std::max(max, v);
      }
      CHECK(min == lo);
      CHECK(max == hi);
      // Maximality along this dimension.
      std::vector<double> vals;
      for (std::size_t r : rows) vals.push_back(std::stod(in.rows[r][col[c]]));
      std::sort(vals.begin(), vals.end());
      const double median = vals[(vals.size() - 1) / 2];
      for (bool inclusive : {true, false}) {
        std::vector<std::size_t> left, right;
        for (std::size_t r : rows) {
          const double v = std::stod(in.rows[r][col[c]]);
          ((inclusive ? v <= median : v < median) ? left : right).push_back(r);
        }
        if (left.empty() || right.empty()) continue;
        CHECK_FALSE((acceptable(left, in, cfg) && acceptable(right, in, cfg)));
      }
    }
  }
}

}  // namespace

TEST_CASE("Mondrian splits a column of ages at medians into the hand-worked pairs") {
  Dataset d;
  d.source = "ages.csv";
  d.columns = {"age", "note"};
  for (int a : {5, 1, 8, 3, 2, 7, 4, 6}) d.rows.push_back({std::to_string(a), "n" + std::to_string(a)});
  auto cfg = config_of({"age"}, 2);
  cfg.method = AnonymityMethod::mondrian;
  auto got = anonymise(d, {}, cfg);
  REQUIRE(got.ok());
  // 1..8 split at 4, then at 2 and 6: {1,2} {3,4} {5,6} {7,8}.
  std::vector<std::string> labels;
  for (const auto& row : got->data.rows) labels.push_back(row[0]);
  CHECK(labels == std::vector<std::string>{"5-6", "1-2", "7-8", "3-4", "1-2", "7-8", "3-4", "5-6"});
  CHECK(got->report.partitions == 4);
  CHECK(got->report.loss.discernibility == 16);
  CHECK(got->report.loss.ncp == doctest::Approx(1.0 / 7.0));
  CHECK(got->data.rows[0][1] == "n5");
  check_mondrian(d, *got, cfg);
  // k = 3: 1..8 splits at 4 into {1..4} and {5..8}, which no cut leaves with 3 on each side.
  cfg.k = 3;
  got = anonymise(d, {}, cfg);
  REQUIRE(got.ok());
  CHECK(got->report.partitions == 2);
  CHECK(got->data.rows[1][0] == "1-4");
  check_mondrian(d, *got, cfg);
}

TEST_CASE("Mondrian releases of random numeric tables are k-anonymous, tight and maximal") {
  std::mt19937 rng(77);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int round = 0; round < 60; ++round) {
    CAPTURE(round);
    Dataset d;
    d.source = "numbers.csv";
    const int q = pick(1, 3);
    for (int c = 0; c < q; ++c) d.columns.push_back("x" + std::to_string(c));
    d.columns.push_back("s");
    const int n = pick(1, 80);
    for (int r = 0; r < n; ++r) {
      std::vector<std::string> row;
      for (int c = 0; c < q; ++c) row.push_back(std::to_string(pick(0, 20)));
      row.push_back("s" + std::to_string(pick(0, 3)));
      d.rows.push_back(row);
    }
    AnonymityConfig cfg;
    for (int c = 0; c < q; ++c) cfg.quasi_identifiers.push_back("x" + std::to_string(c));
    cfg.method = AnonymityMethod::mondrian;
    cfg.k = static_cast<std::size_t>(pick(1, 6));
    if (pick(0, 1)) {
      cfg.l = 2;
      cfg.sensitive = "s";
      cfg.diversity = pick(0, 1) ? DiversityMeasure::entropy : DiversityMeasure::distinct;
    }
    std::vector<std::size_t> everyone(d.rows.size());
    for (std::size_t i = 0; i < everyone.size(); ++i) everyone[i] = i;
    auto got = anonymise(d, {}, cfg);
    if (!acceptable(everyone, d, cfg)) {
      REQUIRE_FALSE(got.ok());
      CHECK(got.err().code == errc::bad_input);
      continue;
    }
    REQUIRE(got.ok());
    CHECK(got->report.suppressed == 0);
    check_mondrian(d, *got, cfg);
  }
}

TEST_CASE("Mondrian on Adult ages, k = 5, and its refusal of a text column") {
  const Dataset d = read_adult();
  auto cfg = config_of({"age"}, 5);
  cfg.method = AnonymityMethod::mondrian;
  auto got = anonymise(d, {}, cfg);
  REQUIRE(got.ok());
  check_mondrian(d, *got, cfg);
  cfg = config_of({"age", "sex"}, 5);
  cfg.method = AnonymityMethod::mondrian;
  auto bad = anonymise(d, {}, cfg);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
  CHECK(bad.err().message.find("adult.csv:2: column 'sex': not a number") != std::string::npos);
  CHECK(bad.err().message.find("Male") == std::string::npos);
}
