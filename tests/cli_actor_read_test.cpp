// cli_actor_read_test.cpp: `read --as ACCESSOR` names the person behind the accessor (--actor or
// CONSENTRY_ACTOR) in the audit log: `log show` prints it and `--by` finds it, the staff audit
// shows it, and the customer's own export leaves staff names out.
#include <doctest/doctest.h>

#include <filesystem>
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

/// Cli runs commands against one vault in a fresh directory; CONSENTRY_ACTOR is unset unless a
/// run sets it.
class Cli {
 public:
  Cli() : vault_(dir_.path() / "crm.vault") {}

  Output run(const std::vector<std::string>& args, const CliEnv& extra = {}) const {
    CliEnv env{{"CONSENTRY_VAULT", vault_.string()},
               {"CONSENTRY_PASSPHRASE", std::string(consentry::test::kTestPassphrase)},
               {"CONSENTRY_ACTOR", std::nullopt}};
    for (const auto& e : extra) env.push_back(e);
    return consentry::test::run_consentry(dir_.path(), args, env);
  }
  Output must(const std::vector<std::string>& args, int code = 0, const CliEnv& extra = {}) const {
    Output o = run(args, extra);
    INFO("command: " << args[0] << (args.size() > 1 ? " " + args[1] : std::string()));
    INFO("stderr: " << o.err);
    REQUIRE(o.code == code);
    return o;
  }
  ojson entries(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"log", "show", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    ojson parsed = ojson::parse(must(args).out);
    REQUIRE(parsed.is_array());
    return parsed;
  }

 private:
  consentry::test::TempDir dir_;
  fs::path vault_;
};

}  // namespace

TEST_CASE("cli: a read names its actor beside the accessor in log show, --by and the staff audit") {
  Cli cli;
  cli.must({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
  cli.must({"import", (kData / "customers.jsonl").string()});
  cli.must({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email", "--actor",
            "alice@acme.example"});
  cli.must({"read", "C-1002", "--purpose", "service", "--as", "support-desk", "--fields", "email"}, 0,
           {{"CONSENTRY_ACTOR", "bob"}});
  // A refused read names the actor too.
  cli.must({"read", "C-1001", "--purpose", "analytics", "--as", "support-desk", "--actor", "carol"}, 3);

  const ojson by_alice = cli.entries({"--by", "alice@acme.example"});
  REQUIRE(by_alice.size() == 2);  // the view, then the read
  CHECK(by_alice[0].at("action") == "view_opened");
  CHECK(by_alice[1].at("action") == "field_read");
  for (const auto& e : by_alice) {
    CHECK(e.at("accessor") == "support-desk");
    CHECK(e.at("actor") == "alice@acme.example");
  }
  const ojson by_bob = cli.entries({"--by", "bob"});
  REQUIRE(by_bob.size() == 2);
  CHECK(by_bob[1].at("actor") == "bob");
  const ojson by_carol = cli.entries({"--by", "carol"});
  REQUIRE(by_carol.size() == 1);
  CHECK(by_carol[0].at("action") == "access_denied");
  // The accessor still finds every read through it.
  CHECK(cli.entries({"--by", "support-desk"}).size() == 5);
  // Staff actions name the actor as accessor and carry no actor member.
  for (const auto& e : cli.entries({"--action", "value_written"})) CHECK_FALSE(e.contains("actor"));

  const std::string human = cli.must({"log", "show", "--customer", "C-1001"}).out;
  CHECK(human.find("support-desk (by alice@acme.example)") != std::string::npos);

  const std::string audit = cli.must({"audit", "C-1001"}).out;
  CHECK(audit.find("support-desk (by alice@acme.example)") != std::string::npos);
  const ojson audit_json = ojson::parse(cli.must({"audit", "C-1001", "--json"}).out);
  bool named = false;
  for (const auto& a : audit_json.at("accesses"))
    named = named || (a.contains("actor") && a.at("actor") == "alice@acme.example");
  CHECK(named);

  // The customer's own copy lists the reads, not the staff behind them.
  const std::string exported = cli.must({"export", "C-1001"}).out;
  CHECK(exported.find("support-desk") != std::string::npos);
  CHECK(exported.find("alice@acme.example") == std::string::npos);
}
