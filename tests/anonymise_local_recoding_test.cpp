// anonymise_local_recoding_test.cpp: local recoding after the full-domain generalisation. Hand-worked
// tables whose per-row levels are written out, a table no split applies to, labels whose text
// repeats at other levels, the refusals, random tables checked against what the recoding promises
// (every class of the output acceptable, levels never above the node's, NCP never above it,
// released rows unchanged, determinism), and Adult after the lattice search.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../src/anonymise/local_recoding.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "support/must.hpp"

namespace {

namespace fs = std::filesystem;
using namespace consentry;
using consentry::test::must;
using detail::CellLevels;
using detail::ClassAcceptable;
using detail::local_recode;
using detail::RecodeColumn;

const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";

const std::vector<std::string> kAdultQuasi = {
    "sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"};

/// hierarchy_of builds a hierarchy from its rows.
Hierarchy hierarchy_of(std::vector<std::vector<std::string>> rows, std::string source = "h.csv") {
  Hierarchy h;
  h.source = std::move(source);
  h.rows = std::move(rows);
  for (std::size_t i = 0; i < h.rows.size(); ++i) h.lines.push_back(i + 1);
  return h;
}

/// leaves_of maps each of `values` to the row of `h` holding it.
std::vector<std::uint32_t> leaves_of(const Hierarchy& h, const std::vector<std::string>& values) {
  std::map<std::string, std::uint32_t> at;
  for (std::size_t i = 0; i < h.rows.size(); ++i) at[h.rows[i][0]] = static_cast<std::uint32_t>(i);
  std::vector<std::uint32_t> out;
  for (const auto& v : values) {
    auto it = at.find(v);
    REQUIRE(it != at.end());
    out.push_back(it->second);
  }
  return out;
}

/// at_least accepts a class of `k` rows or more.
ClassAcceptable at_least(std::size_t k) {
  return [k](std::span<const std::uint32_t> rows) { return rows.size() >= k; };
}

/// diverse accepts a class of `k` rows or more holding at least two distinct `sensitive` values.
ClassAcceptable diverse(std::size_t k, std::vector<int> sensitive) {
  return [k, sensitive = std::move(sensitive)](std::span<const std::uint32_t> rows) {
    if (rows.size() < k) return false;
    for (std::uint32_t r : rows) {
      if (sensitive[r] != sensitive[rows[0]]) return true;
    }
    return false;
  };
}

/// text_of is the released text of row `r` in column `c` at `level`.
const std::string& text_of(const RecodeColumn& col, std::size_t r, std::uint32_t level) {
  return col.hierarchy->rows[col.leaf[r]][level];
}

/// text_classes groups the released rows by the texts of their cells: the classes an attacker
/// sees in the output.
std::map<std::vector<std::string>, std::vector<std::uint32_t>> text_classes(
    const std::vector<RecodeColumn>& cols, const CellLevels& lv, const std::vector<char>& released) {
  std::map<std::vector<std::string>, std::vector<std::uint32_t>> out;
  for (std::size_t r = 0; r < released.size(); ++r) {
    if (!released[r]) continue;
    std::vector<std::string> key;
    for (std::size_t c = 0; c < cols.size(); ++c) key.push_back(text_of(cols[c], r, lv[c][r]));
    out[key].push_back(static_cast<std::uint32_t>(r));
  }
  return out;
}

/// node_levels is the full-domain node as cell levels: every row of column c at levels[c].
CellLevels node_levels(const std::vector<std::uint32_t>& levels, std::size_t rows) {
  CellLevels out;
  for (std::uint32_t l : levels) out.emplace_back(rows, l);
  return out;
}

/// total_ncp sums the NCP of the released cells, counting the leaves under each label from the
/// hierarchy's text: (leaves under it - 1) / (leaves - 1).
double total_ncp(const std::vector<RecodeColumn>& cols, const CellLevels& lv,
                 const std::vector<char>& released) {
  double sum = 0;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    const Hierarchy& h = *cols[c].hierarchy;
    if (h.rows.size() <= 1) continue;
    std::map<std::pair<std::uint32_t, std::string>, std::size_t> under;
    for (const auto& row : h.rows) {
      for (std::uint32_t j = 0; j < row.size(); ++j) ++under[{j, row[j]}];
    }
    for (std::size_t r = 0; r < released.size(); ++r) {
      if (!released[r]) continue;
      const std::size_t leaves = under.at({lv[c][r], text_of(cols[c], r, lv[c][r])});
      sum += static_cast<double>(leaves - 1) / static_cast<double>(h.rows.size() - 1);
    }
  }
  return sum;
}

/// released_at releases the rows whose class at the node `levels` is acceptable.
std::vector<char> released_at(const std::vector<RecodeColumn>& cols, const std::vector<std::uint32_t>& levels,
                              const ClassAcceptable& acceptable) {
  const std::size_t n = cols.front().leaf.size();
  const std::vector<char> all(n, 1);
  std::vector<char> out(n, 0);
  for (const auto& [key, rows] : text_classes(cols, node_levels(levels, n), all)) {
    if (acceptable(rows)) {
      for (std::uint32_t r : rows) out[r] = 1;
    }
  }
  return out;
}

/// Outcome is what check_recoding saw.
struct Outcome {
  double before = 0;  ///< total NCP of the node
  double after = 0;   ///< total NCP of the recoding
  std::size_t classes = 0;
};

/// check_recoding runs local_recode and checks what it promises: every class of the output
/// acceptable and its rows at one level per column, no level above the node's, the rows not
/// released at the node's levels, the NCP not above the node's, the same result twice.
Outcome check_recoding(const std::vector<RecodeColumn>& cols, const std::vector<std::uint32_t>& levels,
                       const std::vector<char>& released, const ClassAcceptable& acceptable) {
  const std::size_t n = released.size();
  const CellLevels lv = must(local_recode(cols, levels, released, acceptable));
  REQUIRE(lv.size() == cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c) {
    REQUIRE(lv[c].size() == n);
    for (std::size_t r = 0; r < n; ++r) {
      CHECK(lv[c][r] <= levels[c]);
      if (!released[r]) CHECK(lv[c][r] == levels[c]);
    }
  }
  const auto classes = text_classes(cols, lv, released);
  for (const auto& [key, rows] : classes) {
    CHECK(acceptable(rows));
    for (std::size_t c = 0; c < cols.size(); ++c) {
      for (std::uint32_t r : rows) CHECK(lv[c][r] == lv[c][rows.front()]);
    }
  }
  Outcome out;
  out.before = total_ncp(cols, node_levels(levels, n), released);
  out.after = total_ncp(cols, lv, released);
  out.classes = classes.size();
  CHECK(out.after <= out.before + 1e-9);
  CHECK(must(local_recode(cols, levels, released, acceptable)) == lv);
  return out;
}

/// Hand is the hand-worked table: ages 20-29 (five-year bands, then *), ZIP codes (4767*/4790*,
/// then *).
struct Hand {
  Hierarchy age, zip;
  std::vector<RecodeColumn> cols;

  Hand(const std::vector<std::string>& ages, const std::vector<std::string>& zips) {
    std::vector<std::vector<std::string>> a;
    for (int v = 20; v <= 29; ++v) a.push_back({std::to_string(v), v < 25 ? "20-24" : "25-29", "*"});
    age = hierarchy_of(a, "age.csv");
    zip = hierarchy_of(
        {{"47677", "4767*", "*"}, {"47678", "4767*", "*"}, {"47905", "4790*", "*"}, {"47906", "4790*", "*"}},
        "zip.csv");
    cols = {RecodeColumn{&age, leaves_of(age, ages)}, RecodeColumn{&zip, leaves_of(zip, zips)}};
  }
  Hand(const Hand&) = delete;  // cols point into it
  Hand& operator=(const Hand&) = delete;
};

/// RandomTable is a random table of 2-3 columns whose hierarchies have 3 or 4 levels; a
/// group's label is sometimes the text of a value or "*", so that texts repeat across levels.
struct RandomTable {
  std::vector<Hierarchy> hierarchies;
  std::vector<RecodeColumn> cols;
  std::vector<int> sensitive;

  explicit RandomTable(std::mt19937& rng) {
    auto pick = [&rng](std::size_t lo, std::size_t hi) {
      return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
    };
    const std::size_t n = pick(10, 60);
    const std::size_t q = pick(2, 3);
    hierarchies.reserve(q);
    for (std::size_t c = 0; c < q; ++c) {
      const std::size_t leaves = pick(2, 8);
      const std::size_t groups = pick(1, 3);
      const bool deep = pick(0, 3) == 0;
      std::vector<std::string> group_label;
      for (std::size_t g = 0; g < groups; ++g) {
        std::string label = "g" + std::to_string(g);
        const std::size_t twist = pick(0, 7);
        if (twist == 0) label = "v" + std::to_string(pick(0, leaves - 1));
        if (twist == 1) label = "*";
        for (const auto& other : group_label) {
          if (other == label) label = "g" + std::to_string(g);
        }
        group_label.push_back(label);
      }
      std::vector<std::vector<std::string>> rows;
      for (std::size_t i = 0; i < leaves; ++i) {
        const std::size_t g = i < groups ? i : pick(0, groups - 1);
        std::vector<std::string> row = {"v" + std::to_string(i), group_label[g]};
        if (deep) row.push_back(g == 0 ? "s0" : "s1");
        row.push_back("*");
        rows.push_back(std::move(row));
      }
      hierarchies.push_back(hierarchy_of(std::move(rows), "r" + std::to_string(c) + ".csv"));
    }
    for (std::size_t c = 0; c < q; ++c) {
      RecodeColumn col{&hierarchies[c], {}};
      // Skewed: low leaves are more frequent, so that some classes are large and some small.
      const std::size_t leaves = hierarchies[c].rows.size();
      for (std::size_t r = 0; r < n; ++r)
        col.leaf.push_back(static_cast<std::uint32_t>(std::min(pick(0, leaves - 1), pick(0, leaves - 1))));
      cols.push_back(std::move(col));
    }
    for (std::size_t r = 0; r < n; ++r) sensitive.push_back(static_cast<int>(pick(0, 2)));
  }
  RandomTable(const RandomTable&) = delete;  // cols point into it
  RandomTable& operator=(const RandomTable&) = delete;
};

/// adult_columns reads Adult's quasi-identifier hierarchies and each row's leaves.
std::vector<RecodeColumn> adult_columns(const Dataset& d, const Hierarchies& hs) {
  std::vector<RecodeColumn> cols;
  for (const auto& name : kAdultQuasi) {
    const Hierarchy& h = hs.at(name);
    const std::size_t at = *d.column_index(name);
    std::vector<std::string> values;
    for (const auto& row : d.rows) values.push_back(row[at]);
    cols.push_back(RecodeColumn{&h, leaves_of(h, values)});
  }
  return cols;
}

/// released_rows marks the input rows `got` kept, by their source lines.
std::vector<char> released_rows(const Dataset& d, const Anonymised& got) {
  const std::set<std::size_t> kept(got.data.lines.begin(), got.data.lines.end());
  std::vector<char> out(d.rows.size(), 0);
  for (std::size_t r = 0; r < d.rows.size(); ++r) out[r] = kept.count(d.line_of(r)) ? 1 : 0;
  return out;
}

/// as_levels turns the report's levels into local_recode's.
std::vector<std::uint32_t> as_levels(const std::vector<std::size_t>& levels) {
  std::vector<std::uint32_t> out;
  for (std::size_t l : levels) out.push_back(static_cast<std::uint32_t>(l));
  return out;
}

}  // namespace

TEST_CASE("local recoding specialises each class of a hand-worked table on its own") {
  // Rows 0-3 pair on age (21, 21, 23, 23) but not on ZIP; rows 4-7 pair on ZIP but not on age.
  const Hand t({"21", "21", "23", "23", "26", "27", "28", "29"},
               {"47677", "47678", "47677", "47678", "47905", "47905", "47906", "47906"});
  const std::vector<char> all(8, 1);
  SUBCASE("from (1, 1), k = 2") {
    // Rows 0-3 (20-24, 4767*): ages down saves 4 * 4/9, ZIP codes down 4 * 1/3; ages first, in
    // pairs {0,1} {2,3}, after which ZIP codes would make single rows. Rows 4-7 (25-29, 4790*):
    // ages down makes single rows; ZIP codes down pairs {4,5} {6,7}.
    const CellLevels lv = must(local_recode(t.cols, {1, 1}, all, at_least(2)));
    CHECK(lv[0] == std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 1, 1});
    CHECK(lv[1] == std::vector<std::uint32_t>{1, 1, 1, 1, 0, 0, 0, 0});
    const Outcome o = check_recoding(t.cols, {1, 1}, all, at_least(2));
    // NCP 8 * 4/9 + 8 * 1/3 = 56/9 before; 4 * 1/3 + 4 * 4/9 = 28/9 after.
    CHECK(o.before == doctest::Approx(56.0 / 9));
    CHECK(o.after == doctest::Approx(28.0 / 9));
    CHECK(o.classes == 4);
  }
  SUBCASE("from the top, k = 2: the same cells, through the ZIP codes first") {
    // One class: ZIP codes down saves 8 * 2/3 = 48/9, ages down 8 * 5/9 = 40/9. Each half then
    // lowers its age to the band (one group, saving 4 * 5/9) and goes on as from (1, 1).
    const CellLevels lv = must(local_recode(t.cols, {2, 2}, all, at_least(2)));
    CHECK(lv[0] == std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 1, 1});
    CHECK(lv[1] == std::vector<std::uint32_t>{1, 1, 1, 1, 0, 0, 0, 0});
    check_recoding(t.cols, {2, 2}, all, at_least(2));
  }
  SUBCASE("from the top, k = 4: halves by ZIP code, then age bands") {
    const CellLevels lv = must(local_recode(t.cols, {2, 2}, all, at_least(4)));
    CHECK(lv[0] == std::vector<std::uint32_t>(8, 1));
    CHECK(lv[1] == std::vector<std::uint32_t>(8, 1));
  }
  SUBCASE("rows not released keep the node's levels and take no part") {
    // Row 7 left out: rows 4-6 cannot pair on ZIP code ({4,5} and {6}), so they stay.
    std::vector<char> released = all;
    released[7] = 0;
    const CellLevels lv = must(local_recode(t.cols, {1, 1}, released, at_least(2)));
    CHECK(lv[0] == std::vector<std::uint32_t>{0, 0, 0, 0, 1, 1, 1, 1});
    CHECK(lv[1] == std::vector<std::uint32_t>{1, 1, 1, 1, 1, 1, 1, 1});
    check_recoding(t.cols, {1, 1}, released, at_least(2));
  }
}

TEST_CASE("local recoding breaks a tie in NCP gain by column order") {
  // Two ZIP columns, each pairing the rows its own way: lowering either saves 4 * 1/3, and after
  // one is lowered the other would make single rows. The first column wins.
  const Hand t({"21", "21", "21", "21"}, {"47677", "47677", "47678", "47678"});
  const std::vector<RecodeColumn> cols = {
      t.cols[1], RecodeColumn{&t.zip, leaves_of(t.zip, {"47677", "47678", "47677", "47678"})}};
  const std::vector<char> all(4, 1);
  const CellLevels lv = must(local_recode(cols, {1, 1}, all, at_least(2)));
  CHECK(lv[0] == std::vector<std::uint32_t>(4, 0));
  CHECK(lv[1] == std::vector<std::uint32_t>(4, 1));
  const std::vector<RecodeColumn> swapped = {cols[1], cols[0]};
  const CellLevels other = must(local_recode(swapped, {1, 1}, all, at_least(2)));
  CHECK(other[0] == std::vector<std::uint32_t>(4, 0));
  CHECK(other[1] == std::vector<std::uint32_t>(4, 1));
}

TEST_CASE("local recoding leaves a release no split applies to as it is") {
  // The lattice optimum for k = 2 (ages to bands, ZIP codes kept) makes pairs; lowering the age
  // of any pair makes single rows.
  const Hand t({"21", "22", "23", "24", "26", "27", "28", "29"},
               {"47677", "47678", "47677", "47678", "47905", "47906", "47905", "47906"});
  const std::vector<char> all(8, 1);
  const CellLevels lv = must(local_recode(t.cols, {1, 0}, all, at_least(2)));
  CHECK(lv == node_levels({1, 0}, 8));
  const Outcome o = check_recoding(t.cols, {1, 0}, all, at_least(2));
  CHECK(o.after == doctest::Approx(o.before));
  // Nothing is acceptable: nothing splits, not even into one group.
  auto none = [](std::span<const std::uint32_t>) { return false; };
  CHECK(must(local_recode(t.cols, {2, 2}, all, none)) == node_levels({2, 2}, 8));
}

TEST_CASE("local recoding never lowers a cell to a text that names other leaves at a higher level") {
  // "Y" is a value under X and also the group of b: lowering X's rows would print "Y" for the
  // value Y next to "Y" for the group of b, merging two classes in the output. The group Y itself
  // may be printed: the value Y is lower.
  const Hierarchy h = hierarchy_of({{"a", "X", "Z"}, {"Y", "X", "Z"}, {"b", "Y", "Z"}});
  const std::vector<RecodeColumn> cols = {RecodeColumn{&h, leaves_of(h, {"a", "a", "Y", "Y", "b", "b"})}};
  const std::vector<char> all(6, 1);
  const CellLevels lv = must(local_recode(cols, {2}, all, at_least(2)));
  // X's rows stay at X; b's rows go on down to their value.
  CHECK(lv[0] == std::vector<std::uint32_t>{1, 1, 1, 1, 0, 0});
  CHECK(text_classes(cols, lv, all).size() == 2);
  check_recoding(cols, {2}, all, at_least(2));

  // A text repeated for the same leaves ("a" alone at levels 0 and 1) is no obstacle.
  const Hierarchy same = hierarchy_of({{"a", "a", "*"}, {"b", "B", "*"}, {"c", "B", "*"}});
  const std::vector<RecodeColumn> same_cols = {
      RecodeColumn{&same, leaves_of(same, {"a", "a", "b", "b", "c", "c"})}};
  CHECK(must(local_recode(same_cols, {2}, all, at_least(2)))[0] == std::vector<std::uint32_t>(6, 0));
}

TEST_CASE("local recoding refuses arguments that do not fit") {
  const Hand t({"21", "22"}, {"47677", "47678"});
  const std::vector<char> both(2, 1);
  auto refused = [](const result<CellLevels>& r) { return !r && r.err().code == errc::invalid_argument; };
  CHECK(refused(local_recode(t.cols, {1}, both, at_least(2))));
  CHECK(refused(local_recode(t.cols, {3, 1}, both, at_least(2))));
  CHECK(refused(local_recode(t.cols, {1, 1}, std::vector<char>(3, 1), at_least(2))));
  std::vector<RecodeColumn> out_of_range = t.cols;
  out_of_range[0].leaf[1] = 10;
  CHECK(refused(local_recode(out_of_range, {1, 1}, both, at_least(2))));
  std::vector<RecodeColumn> no_hierarchy = t.cols;
  no_hierarchy[1].hierarchy = nullptr;
  CHECK(refused(local_recode(no_hierarchy, {1, 1}, both, at_least(2))));
  // X has two generalisations: not a tree up to level 2, though it is up to level 1.
  const Hierarchy bad = hierarchy_of({{"a", "X", "P"}, {"b", "X", "Q"}});
  const std::vector<RecodeColumn> bad_cols = {RecodeColumn{&bad, {0, 1}}};
  CHECK(refused(local_recode(bad_cols, {2}, both, at_least(2))));
  CHECK(must(local_recode(bad_cols, {1}, both, at_least(2)))[0] == std::vector<std::uint32_t>{1, 1});
}

TEST_CASE("local recoding of random tables keeps every class acceptable and loses no more") {
  std::size_t lowered = 0;
  for (std::uint32_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    std::mt19937 rng(seed);
    const RandomTable t(rng);
    std::vector<std::uint32_t> levels;
    for (const auto& col : t.cols) {
      const std::uint32_t top = static_cast<std::uint32_t>(col.hierarchy->levels() - 1);
      // Half the rounds from the top, half from a random node.
      levels.push_back(seed % 2 ? top : std::uniform_int_distribution<std::uint32_t>(0, top)(rng));
    }
    const std::size_t k = std::uniform_int_distribution<std::size_t>(2, 4)(rng);
    for (const ClassAcceptable& acceptable : {at_least(k), diverse(2, t.sensitive)}) {
      const std::vector<char> released = released_at(t.cols, levels, acceptable);
      const Outcome o = check_recoding(t.cols, levels, released, acceptable);
      if (o.after < o.before - 1e-9) ++lowered;
    }
  }
  // The rounds do specialise.
  CHECK(lowered > 100);
}

TEST_CASE("Adult, 8 quasi-identifiers, k = 5: local recoding keeps k and lowers the NCP") {
  const Dataset d = must(read_dataset(kAdult / "adult.csv", ';'));
  const Hierarchies hs = must(read_hierarchies(kAdult, "adult", kAdultQuasi, ';'));
  REQUIRE(hs.size() == kAdultQuasi.size());
  AnonymityConfig cfg;
  cfg.quasi_identifiers = kAdultQuasi;
  cfg.k = 5;
  const Anonymised got = must(anonymise(d, hs, cfg));
  const std::vector<RecodeColumn> cols = adult_columns(d, hs);
  const std::vector<std::uint32_t> levels = as_levels(got.report.levels);
  const std::vector<char> released = released_rows(d, got);

  const auto started = std::chrono::steady_clock::now();
  const CellLevels lv = must(local_recode(cols, levels, released, at_least(5)));
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  const double cells = static_cast<double>(d.rows.size() * kAdultQuasi.size());
  const double before = total_ncp(cols, node_levels(levels, d.rows.size()), released) / cells;
  const double after = total_ncp(cols, lv, released) / cells;
  const auto classes = text_classes(cols, lv, released);
  MESSAGE("Adult k=5 local recoding: NCP " << before << " -> " << after << ", classes " << got.report.classes
                                           << " -> " << classes.size() << ", " << ms << " ms");
  CHECK(got.report.suppressed == 0);
  CHECK(before == doctest::Approx(got.report.loss.ncp).epsilon(1e-12));
  CHECK(after < before);
  for (const auto& [key, rows] : classes) CHECK(rows.size() >= 5);
  for (std::size_t c = 0; c < cols.size(); ++c) {
    for (std::size_t r = 0; r < d.rows.size(); ++r) REQUIRE(lv[c][r] <= levels[c]);
  }
  CHECK(ms < 10000);
}

TEST_CASE("Adult with suppression and distinct 2-diversity: local recoding keeps both") {
  const Dataset d = must(read_dataset(kAdult / "adult.csv", ';'));
  const Hierarchies hs = must(read_hierarchies(kAdult, "adult", kAdultQuasi, ';'));
  AnonymityConfig cfg;
  cfg.quasi_identifiers = kAdultQuasi;
  cfg.k = 5;
  cfg.l = 2;
  cfg.sensitive = "salary-class";
  cfg.max_suppression = 0.02;
  const Anonymised got = must(anonymise(d, hs, cfg));
  const std::size_t salary = *d.column_index("salary-class");
  std::vector<int> sensitive;
  for (const auto& row : d.rows) sensitive.push_back(row[salary] == "<=50K" ? 0 : 1);
  const std::vector<RecodeColumn> cols = adult_columns(d, hs);
  const std::vector<std::uint32_t> levels = as_levels(got.report.levels);
  const std::vector<char> released = released_rows(d, got);
  const Outcome o = check_recoding(cols, levels, released, diverse(5, sensitive));
  const double cells = static_cast<double>(d.rows.size() * kAdultQuasi.size());
  MESSAGE("Adult k=5, distinct 2-diversity, 2% suppression: NCP of the released cells "
          << o.before / cells << " -> " << o.after / cells << ", classes " << got.report.classes << " -> "
          << o.classes);
  CHECK(o.after < o.before);
}
