// cli_anonymise_test.cpp: `consentry anonymise` run as a separate process: releases of files and
// of the vault, the report, exit codes, and that a failed run leaves no output file.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::file_bytes;

const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";
const fs::path kFixtures = fs::path(CONSENTRY_TEST_DATA) / "anonymise";
const fs::path kCliData = fs::path(CONSENTRY_TEST_DATA) / "cli";
constexpr const char* kAdultQuasi =
    "sex,age,race,marital-status,education,native-country,workclass,occupation";

/// Scratch is a directory to run the command in and write its output to.
class Scratch {
 public:
  const fs::path& dir() const { return dir_.path(); }
  fs::path out() const { return dir_.path() / "release.csv"; }
  CliOutput run(std::vector<std::string> args) const {
    args.insert(args.begin(), "anonymise");
    return consentry::test::run_consentry(dir_.path(), args, {});
  }
  /// vault runs any subcommand against the vault of this directory.
  CliOutput vault(const std::vector<std::string>& args) const {
    return consentry::test::run_consentry(dir_.path(), args,
                                          {{"CONSENTRY_VAULT", (dir_.path() / "crm.vault").string()},
                                           {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }
  /// no_output is true when neither the release nor its partial file exists.
  bool no_output() const { return !fs::exists(out()) && !consentry::test::has_staged_temporary(out()); }

 private:
  consentry::test::TempDir dir_{"anonymise-cli"};
};

/// class_sizes groups a release's rows by the named columns.
std::map<std::vector<std::string>, std::size_t> class_sizes(const consentry::Dataset& d,
                                                            const std::vector<std::string>& quasi) {
  std::vector<std::size_t> col;
  for (const auto& q : quasi) col.push_back(*d.column_index(q));
  std::map<std::vector<std::string>, std::size_t> sizes;
  for (const auto& row : d.rows) {
    std::vector<std::string> key;
    for (std::size_t c : col) key.push_back(row[c]);
    ++sizes[key];
  }
  return sizes;
}

}  // namespace

TEST_CASE("anonymise releases Adult 5-anonymous to a 0600 file with a JSON report on stdout") {
  Scratch s;
  CliOutput o = s.run({"--input", (kAdult / "adult.csv").string(), "--quasi", kAdultQuasi, "--k", "5", "-o",
                       s.out().string(), "--json"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("method") == "lattice");
  CHECK(report.at("rows") == 30162);
  CHECK(report.at("search").at("nodes") == 6480);
  CHECK(report.at("levels").size() == 8);
  CHECK(report.at("loss").at("ncp").get<double>() >= 0.0);
  CHECK(report.at("loss").at("ncp").get<double>() <= 1.0);

  struct stat st {};
  REQUIRE(::stat(s.out().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(consentry::test::has_staged_temporary(s.out()));
  auto released = consentry::read_dataset(s.out());
  REQUIRE(released.ok());
  CHECK(released->rows.size() + report.at("suppressed").get<std::size_t>() == 30162);
  const auto sizes = class_sizes(*released, {"sex", "age", "race", "marital-status", "education",
                                             "native-country", "workclass", "occupation"});
  CHECK(sizes.size() == report.at("classes").get<std::size_t>());
  for (const auto& [key, n] : sizes) CHECK(n >= 5);
}

TEST_CASE("anonymise prints the release on stdout and the report on stderr without -o") {
  Scratch s;
  CliOutput o = s.run({"--input", (kFixtures / "hand.csv").string(), "--quasi", "age,zip", "--k", "2"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  // The optimum of this table is ages in five-year bands, ZIP codes kept; quoting survives.
  CHECK(o.out ==
        "age;zip;note;disease\n"
        "20-24;47677;\"likes; semicolons\";flu\n"
        "20-24;47678;plain;cold\n"
        "20-24;47677;\"says \"\"hi\"\"\";flu\n"
        "20-24;47678;plain;hiv\n"
        "25-29;47905;plain;cold\n"
        "25-29;47906;plain;flu\n"
        "25-29;47905;plain;cold\n"
        "25-29;47906;plain;hiv\n");
  CHECK(o.err.find("levels: age 1/2, zip 0/2") != std::string::npos);
  CHECK(o.err.find("discernibility 16") != std::string::npos);
  CHECK(o.err.find("suppressed: 0 rows") != std::string::npos);

  // With l-diversity the classes grow.
  o = s.run({"--input", (kFixtures / "hand.csv").string(), "--quasi", "age,zip", "--k", "2", "--l", "3",
             "--sensitive", "disease", "--json"});
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.err);
  CHECK(report.at("levels").at("age") == 1);
  CHECK(report.at("levels").at("zip") == 1);
  CHECK(report.at("l") == 3);
}

TEST_CASE("anonymise uses Mondrian for quasi-identifiers without a hierarchy") {
  Scratch s;
  CliOutput o = s.run({"--input", (kFixtures / "numbers.csv").string(), "--quasi", "age,income", "--k", "4",
                       "-o", s.out().string(), "--json"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("method") == "mondrian");
  auto released = consentry::read_dataset(s.out());
  REQUIRE(released.ok());
  const auto sizes = class_sizes(*released, {"age", "income"});
  CHECK(sizes.size() == report.at("partitions").get<std::size_t>());
  for (const auto& [key, n] : sizes) CHECK(n >= 4);
  // --method lattice refuses instead, naming the hierarchy file it looked for.
  o = s.run({"--input", (kFixtures / "numbers.csv").string(), "--quasi", "age,income", "--k", "4", "--method",
             "lattice", "-o", s.out().string()});
  CHECK(o.code == 2);
  CHECK(o.err.find("numbers_hierarchy_age.csv") != std::string::npos);
}

TEST_CASE("anonymise refuses bad input with exit 2 and writes nothing") {
  Scratch s;
  const std::string hand = (kFixtures / "hand.csv").string();
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"--input", hand, "--quasi", "age,zip", "--k", "0"}, "--k must be at least 1"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "-3"}, "--k must be at least 1"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "2", "--max-suppression", "1.5"}, "--max-suppression"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "2", "--max-suppression", "-0.5"}, "--max-suppression"},
      {{"--input", hand, "--quasi", "age,height", "--k", "2"}, "hand.csv:1: no column 'height'"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "2", "--l", "2", "--sensitive", "illness"},
       "no sensitive column 'illness'"},
      {{"--input", (kFixtures / "ragged_cli.csv").string(), "--quasi", "age", "--k", "2"},
       "ragged_cli.csv:3"},
      {{"--input", (kFixtures / "gap.csv").string(), "--quasi", "age,zip", "--k", "2"},
       "gap.csv:6: column 'age': the value is not in"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "9"},
       "k = 9 cannot be reached within max-suppression 0"},
      {{"--input", hand, "--quasi", "age,zip", "--k", "2", "--l", "4", "--sensitive", "disease"},
       "k = 2, l = 4 (distinct) cannot be reached"},
      {{"--input", (kFixtures / "absent.csv").string(), "--quasi", "age", "--k", "2"},
       "absent.csv: no such file"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = c.args;
    args.push_back("-o");
    args.push_back(s.out().string());
    CliOutput o = s.run(args);
    CAPTURE(c.message);
    INFO("stderr: " << o.err);
    CHECK(o.code == 2);
    CHECK(o.err.find(c.message) != std::string::npos);
    CHECK(s.no_output());
    // No cell of the inputs is quoted in the message.
    CHECK(o.err.find("47677") == std::string::npos);
    CHECK(o.err.find("semicolons") == std::string::npos);
  }
  // A failed run leaves an existing output file as it was.
  consentry::test::write_file(s.out(), "earlier release\n");
  CliOutput o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "9", "-o", s.out().string()});
  CHECK(o.code == 2);
  CHECK(file_bytes(s.out()) == "earlier release\n");
}

TEST_CASE("anonymise rejects a malformed hierarchy naming its file and line") {
  Scratch s;
  fs::copy_file(kFixtures / "hand.csv", s.dir() / "t.csv");
  fs::copy_file(kFixtures / "hand_hierarchy_zip.csv", s.dir() / "t_hierarchy_zip.csv");
  consentry::test::write_file(s.dir() / "t_hierarchy_age.csv", "21;20-24;*\n22;20-24\n");
  CliOutput o = s.run(
      {"--input", (s.dir() / "t.csv").string(), "--quasi", "age,zip", "--k", "2", "-o", s.out().string()});
  CHECK(o.code == 2);
  CHECK(o.err.find("t_hierarchy_age.csv:2") != std::string::npos);
  CHECK(s.no_output());
}

TEST_CASE("anonymise usage errors exit 1") {
  Scratch s;
  CliOutput o = s.run({"--quasi", "age", "--k", "2"});
  CHECK(o.code == 1);
  o = s.run({"--input", (kFixtures / "hand.csv").string(), "--from-vault", "--quasi", "age", "--k", "2"});
  CHECK(o.code == 1);
  o = s.run(
      {"--input", (kFixtures / "hand.csv").string(), "--quasi", "age", "--k", "2", "--method", "greedy"});
  CHECK(o.code != 0);
  CHECK(s.no_output());
}

TEST_CASE("anonymise --from-vault releases what the purpose sees and refuses a denied field with exit 3") {
  Scratch s;
  CliOutput o = s.vault({"init", "--policy", (kCliData / "policy.json").string(), "--kdf", "minimum"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  o = s.vault({"import", (kFixtures / "customers.jsonl").string()});
  REQUIRE(o.code == 0);

  // analytics sees birth_date as a year and email as a pseudonym; the years are split at medians.
  o = s.vault({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "bi-dashboard", "--fields",
               "email,birth_date", "--quasi", "birth_date", "--k", "2", "-o", s.out().string(), "--json"});
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("method") == "mondrian");
  CHECK(report.at("rows") == 8);
  CHECK(report.at("partitions") == 4);
  auto released = consentry::read_dataset(s.out());
  REQUIRE(released.ok());
  CHECK(released->columns == std::vector<std::string>{"email", "birth_date"});
  std::vector<std::string> years;
  std::size_t without_email = 0;
  for (const auto& row : released->rows) {
    years.push_back(row[1]);
    CHECK(row[0].find("@") == std::string::npos);  // a pseudonym, not the address
    without_email += row[0].empty() ? 1 : 0;
  }
  // C-3003 and C-3006 have no email: empty cells.
  CHECK(without_email == 2);
  CHECK(years == std::vector<std::string>{"1971-1975", "1971-1975", "1979-1984", "1979-1984", "1986-1990",
                                          "1986-1990", "1993-1999", "1993-1999"});
  const std::string release = file_bytes(s.out());
  CHECK(release.find("1971-01-10") == std::string::npos);

  // The quasi-identifiers default to all the fields.
  fs::remove(s.out());
  o = s.vault({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "bi-dashboard", "--fields",
               "birth_date", "--k", "3", "-o", s.out().string()});
  CHECK(o.code == 0);
  CHECK(o.err.find("partitions: 2") != std::string::npos);

  // phone has no form for analytics: exit 3 naming it, and nothing written.
  fs::remove(s.out());
  o = s.vault({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "bi-dashboard", "--fields",
               "birth_date,phone", "--quasi", "birth_date", "--k", "2", "-o", s.out().string()});
  CHECK(o.code == 3);
  CHECK(o.err.find("phone") != std::string::npos);
  CHECK(s.no_output());
  CHECK(o.err.find("+44207946") == std::string::npos);

  // An accessor not registered for the purpose is denied too.
  o = s.vault({"anonymise", "--from-vault", "--purpose", "analytics", "--as", "support-desk", "--fields",
               "birth_date", "--k", "2", "-o", s.out().string()});
  CHECK(o.code == 3);
  CHECK(s.no_output());
}

TEST_CASE("anonymise --metric, the privacy models and --local-recoding on Adult") {
  Scratch s;
  const std::string adult = (kAdult / "adult.csv").string();
  auto json_of = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"--input", adult, "--quasi",        kAdultQuasi, "--k",
                                     "5",       "-o",  s.out().string(), "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    CliOutput o = s.run(args);
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
    return nlohmann::json::parse(o.out);
  };
  const auto loss = json_of({"--metric", "loss"});
  CHECK(loss.at("metric") == "loss");
  const std::vector<int> arx = {0, 4, 0, 2, 3, 2, 2, 1};
  std::vector<int> levels;
  for (const char* q :
       {"sex", "age", "race", "marital-status", "education", "native-country", "workclass", "occupation"})
    levels.push_back(loss.at("levels").at(q).get<int>());
  CHECK(levels == arx);
  CHECK(loss.at("loss").at("loss").get<double>() < json_of({}).at("loss").at("loss").get<double>());
  CHECK(loss.at("risk").at("highest").get<double>() <= 0.2);

  const auto closeness = json_of({"--sensitive", "salary-class", "--t", "0.2", "--closeness", "hierarchical",
                                  "--max-suppression", "0.02"});
  CHECK(closeness.at("t") == 0.2);
  CHECK(closeness.at("closeness") == "hierarchical");
  const auto recursive =
      json_of({"--l", "2", "--sensitive", "salary-class", "--diversity", "recursive", "--c", "4"});
  CHECK(recursive.at("c") == 4.0);
  const auto recoded = json_of({"--local-recoding"});
  CHECK(recoded.at("local_recoding").at("cells_recoded").get<int>() > 0);
  CHECK(recoded.at("loss").at("ncp").get<double>() < 0.5);
  const auto risky =
      json_of({"--highest-risk", "0.05", "--average-risk", "0.01", "--max-suppression", "0.02"});
  CHECK(risky.at("min_class_size").get<int>() >= 20);
  CHECK(risky.at("risk").at("average").get<double>() <= 0.01);

  // The text report names the metric and every figure.
  CliOutput text = s.run(
      {"--input", adult, "--quasi", kAdultQuasi, "--k", "5", "-o", s.out().string(), "--metric", "entropy"});
  REQUIRE(text.code == 0);
  CHECK(text.err.find("metric entropy") != std::string::npos);
  CHECK(text.err.find("AECS") != std::string::npos);
  CHECK(text.err.find("risk: highest") != std::string::npos);
}

TEST_CASE("anonymise δ-presence against a population file, and its refusals") {
  Scratch s;
  // The sample: every third row of Adult.
  auto adult = consentry::read_dataset(kAdult / "adult.csv");
  REQUIRE(adult.ok());
  consentry::Dataset sample = *adult;
  sample.rows.clear();
  sample.lines.clear();
  for (std::size_t r = 0; r < adult->rows.size(); r += 3) sample.rows.push_back(adult->rows[r]);
  REQUIRE(consentry::write_dataset(sample, s.dir() / "sample.csv", ';').ok());
  const std::vector<std::string> base = {"--input",
                                         (s.dir() / "sample.csv").string(),
                                         "--quasi",
                                         "sex,age,race",
                                         "--k",
                                         "2",
                                         "--hierarchies",
                                         kAdult.string(),
                                         "--hierarchy-prefix",
                                         "adult",
                                         "--population",
                                         (kAdult / "adult.csv").string(),
                                         "-o",
                                         s.out().string(),
                                         "--json"};
  auto args = base;
  args.insert(args.end(), {"--delta-min", "0.2", "--delta-max", "0.5", "--max-suppression", "0.05"});
  CliOutput o = s.run(args);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("delta_max") == 0.5);
  CHECK(report.at("population").get<std::string>().find("adult.csv") != std::string::npos);

  // A sample row the population lacks; bad bounds; models Mondrian cannot apply.
  fs::remove(s.out());
  consentry::test::write_file(
      s.dir() / "sample.csv",
      "sex;age;race;marital-status;education;native-country;workclass;occupation;salary-class\n"
      "Male;39;White;Never-married;Bachelors;United-States;State-gov;Adm-clerical;<=50K\n"
      "Female;88;Amer-Indian-Eskimo;Never-married;Bachelors;United-States;State-gov;Adm-clerical;<=50K\n"
      "Female;88;Amer-Indian-Eskimo;Never-married;Bachelors;United-States;State-gov;Adm-clerical;<=50K\n"
      "Female;88;Amer-Indian-Eskimo;Never-married;Bachelors;United-States;State-gov;Adm-clerical;<=50K\n");
  o = s.run(base);
  CHECK(o.code == 2);
  CHECK(o.err.find("sample.csv:") != std::string::npos);
  CHECK(o.err.find("more often in") != std::string::npos);
  CHECK(o.err.find("Female") == std::string::npos);
  CHECK(s.no_output());
  args = base;
  args.insert(args.end(), {"--delta-min", "0.7", "--delta-max", "0.5"});
  o = s.run(args);
  CHECK(o.code == 2);
  CHECK(o.err.find("delta-min <= delta-max") != std::string::npos);
  const std::string hand = (kFixtures / "hand.csv").string();
  o = s.run({"--input", hand, "--quasi", "age", "--k", "2", "--method", "mondrian", "--average-risk", "0.5"});
  CHECK(o.code == 2);
  o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "2", "--t", "1.5", "--sensitive", "disease"});
  CHECK(o.code == 2);
  CHECK(o.err.find("t must be in [0, 1]") != std::string::npos);
  o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "2", "--metric", "height"});
  CHECK(o.code == 1);
}
