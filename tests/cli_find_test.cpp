// cli_find_test.cpp: `consentry find --by FIELD VALUE --purpose P --as ACCESSOR`: the customers
// found, one per line or as JSON; exit 5 when none is, 3 when refused; the value from standard
// input with "-"; and `policy update` / `policy reindex` building the index of values held.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;
using Output = consentry::test::CliOutput;
using consentry::test::CliEnv;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

ojson read_json(const fs::path& p) {
  std::ifstream in(p);
  REQUIRE(in);
  return ojson::parse(in);
}

class Cli {
 public:
  Cli() : vault_(dir_.path() / "crm.vault") {}
  Output run(const std::vector<std::string>& args,
             const std::optional<std::string>& input = std::nullopt) const {
    CliEnv env{{"CONSENTRY_VAULT", vault_.string()},
               {"CONSENTRY_PASSPHRASE", std::string(consentry::test::kTestPassphrase)}};
    return consentry::test::run_consentry(dir_.path(), args, env, input);
  }
  Output must(const std::vector<std::string>& args, int code = 0,
              const std::optional<std::string>& input = std::nullopt) const {
    Output o = run(args, input);
    INFO("command: " << args[0] << (args.size() > 1 ? " " + args[1] : std::string()));
    INFO("stderr: " << o.err);
    REQUIRE(o.code == code);
    return o;
  }
  // policy_file writes the CLI test policy with email searchable for service (and phone numbers
  // read as British) when `lookup`, and returns its path.
  std::string policy_file(bool lookup) const {
    ojson p = read_json(kData / "policy.json");
    if (lookup) {
      p["default_region"] = "GB";
      p["fields"][0]["lookup"] = ojson::array({"service"});
      p["fields"][2]["lookup"] = ojson::array({"service"});
    }
    const fs::path out = dir_.path() / (lookup ? "lookup.json" : "plain.json");
    std::ofstream(out) << p.dump(2);
    return out.string();
  }

 private:
  consentry::test::TempDir dir_;
  fs::path vault_;
};

}  // namespace

TEST_CASE("cli: find prints the customers found, exits 5 for none and 3 when refused") {
  Cli cli;
  cli.must({"init", "--policy", cli.policy_file(true), "--kdf", "minimum"});
  cli.must({"import", (kData / "customers.jsonl").string()});

  const Output found =
      cli.must({"find", "--by", "email", "ANN@example.com", "--purpose", "service", "--as", "support-desk"});
  CHECK(found.out == "C-1001\n");
  const Output phone =
      cli.must({"find", "--by", "phone", "020 7946 0958", "--purpose", "service", "--as", "support-desk"});
  CHECK(phone.out == "C-1001\n");

  const Output json = cli.must({"find", "--by", "email", "bob.stone@example.org", "--purpose", "service",
                                "--as", "support-desk", "--json"});
  const ojson j = ojson::parse(json.out);
  CHECK(j.at("customers") == ojson::array({"C-1002"}));
  CHECK(j.at("field") == "email");
  CHECK(json.out.find("bob.stone") == std::string::npos);  // the value searched for is not echoed

  // The value from standard input stays out of the command line.
  const Output piped =
      cli.must({"find", "--by", "email", "-", "--purpose", "service", "--as", "support-desk"}, 0,
               std::string("ann@example.com\n"));
  CHECK(piped.out == "C-1001\n");

  const Output none = cli.must(
      {"find", "--by", "email", "nobody@example.com", "--purpose", "service", "--as", "support-desk"}, 5);
  CHECK(none.out.empty());
  CHECK(none.err.find("no customer found") != std::string::npos);
  CHECK(none.err.find("nobody@") == std::string::npos);

  const Output refused = cli.must(
      {"find", "--by", "email", "ann@example.com", "--purpose", "analytics", "--as", "bi-dashboard"}, 3);
  CHECK(refused.err.find("lookup_not_allowed") != std::string::npos);
  cli.must({"find", "--by", "email", "ann@example.com", "--purpose", "service", "--as", "email-campaigns"},
           3);
  const Output bad =
      cli.must({"find", "--by", "phone", "not a number", "--purpose", "service", "--as", "support-desk"}, 2);
  CHECK(bad.err.find("not a number") == std::string::npos);

  // Each search is in the log as a lookup, without the value.
  const ojson log = ojson::parse(cli.must({"log", "show", "--json"}).out);
  int lookups = 0;
  for (const auto& e : log) {
    CHECK(e.dump().find("ann@") == std::string::npos);
    if (e.at("action") == "lookup") ++lookups;
  }
  CHECK(lookups == 5);
}

TEST_CASE("cli: policy update adds a lookup and indexes the values held, leaving policy reindex nothing") {
  Cli cli;
  cli.must({"init", "--policy", cli.policy_file(false), "--kdf", "minimum"});
  cli.must({"import", (kData / "customers.jsonl").string()});
  cli.must({"find", "--by", "email", "ann@example.com", "--purpose", "service", "--as", "support-desk"}, 3);
  const Output updated = cli.must({"policy", "update", cli.policy_file(true), "--json"});
  CHECK(ojson::parse(updated.out).at("customers_reindexed").get<int>() > 0);
  CHECK(cli.must({"find", "--by", "email", "ann@example.com", "--purpose", "service", "--as", "support-desk"})
            .out == "C-1001\n");
  const Output reindex = cli.must({"policy", "reindex", "--json"});
  CHECK(ojson::parse(reindex.out).at("customers_reindexed") == 0);
}
