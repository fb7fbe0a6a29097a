// cli_stats_test.cpp: `consentry stats` run as a separate process: a private count in text and
// JSON, the analytics budget (10 when the policy sets none) spent answer by answer and refused
// with exit 3 once it cannot pay, and usage errors that spend nothing.
#include <doctest/doctest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA);

class StatsVault {
 public:
  StatsVault() {
    CliOutput o = run({"init", "--policy", (kData / "cli" / "policy.json").string(), "--kdf", "minimum"});
    REQUIRE_MESSAGE(o.code == 0, o.err);
    o = run({"import", (kData / "anonymise" / "customers.jsonl").string()});
    REQUIRE_MESSAGE(o.code == 0, o.err);
  }
  CliOutput run(const std::vector<std::string>& args) const {
    return consentry::test::run_consentry(dir_.path(), args,
                                          {{"CONSENTRY_VAULT", (dir_.path() / "crm.vault").string()},
                                           {"CONSENTRY_PASSPHRASE", "stats passphrase"}});
  }

 private:
  consentry::test::TempDir dir_{"stats-cli"};
};

}  // namespace

TEST_CASE("consentry stats answers with noise and spends the purpose's budget until it cannot pay") {
  StatsVault v;
  // The fixture policy gives analytics no privacy_budget: the default of 10 applies.
  CliOutput o = v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "4", "--json"});
  REQUIRE_MESSAGE(o.code == 0, o.err);
  auto j = nlohmann::json::parse(o.out);
  CHECK(j.at("aggregate") == "count");
  CHECK(j.at("purpose") == "analytics");
  CHECK(j.at("epsilon") == 4.0);
  CHECK(j.at("budget").at("total") == 10.0);
  CHECK(j.at("budget").at("spent") == doctest::Approx(4.0));
  REQUIRE(j.at("noise").size() == 1);
  CHECK(j.at("noise")[0].at("kind") == "laplace");
  CHECK(j.at("noise")[0].at("scale") == doctest::Approx(0.25));
  // 8 customers hold a birth date; at scale 0.25 the noise is within +-5 with probability 1 - 2e-9.
  CHECK(j.at("count").get<long>() >= 3);
  CHECK(j.at("count").get<long>() <= 13);

  o = v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "5"});
  REQUIRE_MESSAGE(o.code == 0, o.err);
  CHECK(o.out.find("count of birth_date for purpose analytics: ") == 0);
  CHECK(o.out.find("9 of 10 spent") != std::string::npos);

  // 9 + 2 > 10: refused, and nothing is charged.
  o = v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "2"});
  CHECK(o.code == 3);
  CHECK(o.out.empty());
  CHECK(o.err.find("privacy budget") != std::string::npos);
  o = v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "1", "--json"});
  REQUIRE_MESSAGE(o.code == 0, o.err);
  CHECK(nlohmann::json::parse(o.out).at("budget").at("spent") == doctest::Approx(10.0));

  // The log holds each answer as aggregate_made and the refusal as access_denied.
  o = v.run({"log", "show", "--json"});
  REQUIRE(o.code == 0);
  int made = 0, refused = 0;
  for (const auto& e : nlohmann::json::parse(o.out)) {
    if (e.at("action") == "aggregate_made") ++made;
    if (e.at("action") == "access_denied" && e.at("reason") == "privacy_budget_spent") ++refused;
  }
  CHECK(made == 3);
  CHECK(refused == 1);
}

TEST_CASE("consentry stats refuses what it cannot answer, with the exit code of each cause") {
  StatsVault v;
  // sum needs bounds (usage), an integer field in clear (denied), a declared field (bad input).
  CHECK(v.run({"stats", "sum", "birth_date", "--purpose", "analytics", "--epsilon", "1"}).code == 1);
  CHECK(v.run({"stats", "sum", "birth_date", "--purpose", "analytics", "--epsilon", "1", "--bounds", "0,9"})
            .code == 3);
  CHECK(v.run({"stats", "count", "shoe_size", "--purpose", "analytics", "--epsilon", "1"}).code == 2);
  CHECK(v.run({"stats", "median", "birth_date", "--purpose", "analytics", "--epsilon", "1"}).code == 1);
  CHECK(v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "-1"}).code == 1);
  CHECK(v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "1", "--noise",
               "gaussian"})
            .code == 1);
  CHECK(v.run({"stats", "sum", "birth_date", "--purpose", "analytics", "--epsilon", "1", "--bounds", "9,x"})
            .code == 1);
  // None of them spent anything: the whole default budget still pays.
  CliOutput o =
      v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "10", "--json"});
  REQUIRE_MESSAGE(o.code == 0, o.err);
  CHECK(nlohmann::json::parse(o.out).at("budget").at("spent") == doctest::Approx(10.0));
}
