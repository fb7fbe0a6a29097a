// cli_risk_test.cpp: `consentry risk` run as a separate process: the text and JSON reports, a
// population table, exit codes, that no cell is quoted in a message, and that no vault is opened.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;

const fs::path kRisk = fs::path(CONSENTRY_TEST_DATA) / "risk";
const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";
const std::string kSample = (kRisk / "sample.csv").string();
const std::string kPopulation = (kRisk / "population.csv").string();

/// Scratch is a directory to run the command in, with CONSENTRY_VAULT naming a vault there that
/// does not exist: the command must neither need nor create it.
class Scratch {
 public:
  fs::path vault() const { return dir_.path() / "crm.vault"; }
  CliOutput run(std::vector<std::string> args) const {
    args.insert(args.begin(), "risk");
    return consentry::test::run_consentry(dir_.path(), args, {{"CONSENTRY_VAULT", vault().string()}});
  }

 private:
  consentry::test::TempDir dir_{"risk-cli"};
};

/// quotes_a_cell is true when `text` holds a cell of the fixtures that is not a column name.
bool quotes_a_cell(const std::string& text) {
  for (const char* cell : {"10001", "20002", "30003", "40004", "flu", "cold", "hiv"})
    if (text.find(cell) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("risk prints a text report of a table, without a vault") {
  Scratch s;
  CliOutput o = s.run({"--input", kSample, "--quasi", "age,zip"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.err.empty());
  CHECK(o.out.find("risk of " + kSample + ": 8 rows, 5 classes on age, zip\n") != std::string::npos);
  CHECK(
      o.out.find("class sizes: smallest 1, largest 3, mean 1.60; 3 of size 1, 1 of size 2, 1 of size 3\n") !=
      std::string::npos);
  CHECK(o.out.find("prosecutor: highest 1.0000, average 0.6250, 8 records (100.00%) above 0.2\n") !=
        std::string::npos);
  CHECK(o.out.find("journalist: highest 1.0000, average 0.6250, 8 records (100.00%) above 0.2 (no population "
                   "table: as prosecutor)\n") != std::string::npos);
  CHECK(o.out.find("marketer: average 0.6250\n") != std::string::npos);
  CHECK(o.out.find("sample uniques: 3 (37.50%)\n") != std::string::npos);
  CHECK(o.out.find("population uniques: not estimated") != std::string::npos);
  CHECK_FALSE(quotes_a_cell(o.out));
  CHECK_FALSE(fs::exists(s.vault()));

  // A threshold of 0.5 leaves only the uniques at risk; a sampling fraction adds the estimates.
  o = s.run({"--input", kSample, "--quasi", "age,zip", "--threshold", "0.5", "--sampling-fraction", "0.4"});
  REQUIRE(o.code == 0);
  CHECK(o.out.find("prosecutor: highest 1.0000, average 0.6250, 3 records (37.50%) above 0.5\n") !=
        std::string::npos);
  CHECK(o.out.find("population uniques (sampling fraction 0.4, population 20): Zayatz 4.2 (20.75%)") !=
        std::string::npos);
  CHECK(o.out.find("decision rule: zayatz 4.2 (20.75%)") != std::string::npos);
}

TEST_CASE("risk --json reports every figure, with a population table") {
  Scratch s;
  CliOutput o = s.run({"--input", kSample, "--quasi", "age,zip", "--population", kPopulation, "--threshold",
                       "0.4", "--json"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  const auto j = nlohmann::json::parse(o.out);
  CHECK(j.at("rows") == 8);
  CHECK(j.at("classes") == 5);
  CHECK(j.at("quasi_identifiers") == std::vector<std::string>{"age", "zip"});
  CHECK(j.at("class_sizes").at("smallest") == 1);
  CHECK(j.at("class_sizes").at("histogram").size() == 3);
  CHECK(j.at("class_sizes").at("histogram")[0].at("size") == 1);
  CHECK(j.at("class_sizes").at("histogram")[0].at("classes") == 3);
  CHECK(j.at("population").at("rows") == 20);
  CHECK(j.at("prosecutor").at("records_at_risk") == 5);
  CHECK(j.at("prosecutor").at("average").get<double>() == doctest::Approx(0.625));
  CHECK(j.at("journalist").at("records_at_risk") == 4);
  CHECK(j.at("journalist").at("highest").get<double>() == doctest::Approx(1.0));
  CHECK(j.at("journalist").at("average").get<double>() == doctest::Approx(0.40625));
  CHECK(j.at("marketer").at("average").get<double>() == doctest::Approx(0.40625));
  CHECK(j.at("sample_uniques").at("count") == 3);
  const auto& u = j.at("population_uniques");
  CHECK(u.at("sampling_fraction").get<double>() == doctest::Approx(0.4));
  CHECK(u.at("population_size").get<double>() == 20);
  CHECK(u.at("zayatz").at("count").get<double>() == doctest::Approx(855.0 / 206.0));
  CHECK(u.at("decision").at("model") == "zayatz");
  CHECK_FALSE(quotes_a_cell(o.out));

  // Without a sampling fraction or population there is no estimate.
  o = s.run({"--input", kSample, "--quasi", "age", "--json"});
  REQUIRE(o.code == 0);
  CHECK(nlohmann::json::parse(o.out).at("population_uniques").is_null());

  // Adult at a sampling fraction of 1%: the rule picks Pitman.
  o = s.run({"--input", (kAdult / "adult.csv").string(), "--quasi", "sex,age,race,marital-status",
             "--sampling-fraction", "0.01", "--json"});
  REQUIRE(o.code == 0);
  const auto adult = nlohmann::json::parse(o.out);
  CHECK(adult.at("rows") == 30162);
  CHECK(adult.at("population_uniques").at("decision").at("model") == "pitman");
  CHECK(adult.at("population_uniques").at("pitman").at("count").is_number());
  CHECK_FALSE(fs::exists(s.vault()));
}

TEST_CASE("risk refuses bad input with exit 2, naming the file and line, never a cell") {
  Scratch s;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--input", kSample, "--quasi", "age,postcode"}, "sample.csv:1: no column 'postcode'"},
      {{"--input", kSample, "--quasi", "age,zip,age"},
       "sample.csv:1: quasi-identifier column 'age' is named twice"},
      {{"--input", kSample, "--quasi", "age", "--threshold", "0"}, "threshold must be in (0, 1]"},
      {{"--input", kSample, "--quasi", "age", "--threshold", "1.5"}, "threshold must be in (0, 1]"},
      {{"--input", kSample, "--quasi", "age", "--sampling-fraction", "2"},
       "sampling fraction must be in (0, 1]"},
      {{"--input", kSample, "--quasi", "age,disease", "--population", kPopulation},
       "population.csv:1: no column 'disease'"},
      {{"--input", kSample, "--quasi", "age,zip", "--population",
        (kRisk / "population_partial.csv").string()},
       "sample.csv:9: the population table"},
      {{"--input", (kRisk / "ragged.csv").string(), "--quasi", "age"}, "ragged.csv:3"},
      {{"--input", (kRisk / "absent.csv").string(), "--quasi", "age"}, "absent.csv"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    CliOutput o = s.run(c.args);
    INFO("stderr: " << o.err);
    CHECK(o.code == 2);
    CHECK(o.err.find(c.message) != std::string::npos);
    CHECK(o.out.empty());
    CHECK_FALSE(quotes_a_cell(o.err));
  }
  CHECK_FALSE(fs::exists(s.vault()));
}

TEST_CASE("risk usage errors exit 1") {
  Scratch s;
  CHECK(s.run({"--quasi", "age"}).code == 1);
  CHECK(s.run({"--input", kSample}).code == 1);
  CHECK(s.run({"--input", kSample, "--quasi", "age", "--threshold", "high"}).code == 1);
  CHECK(s.run({"--input", kSample, "--quasi", "age", "--delimiter", "ab"}).code == 1);
}
