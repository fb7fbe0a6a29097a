// cli_accountability_test.cpp: who did what, from the command line: --actor and CONSENTRY_ACTOR in
// the audit log, `log show` and the staff audit; `erase --reason --request --dry-run`; the
// `audit` command and `consent show` audited as staff reads; and `log show`'s filters by action,
// accessor or actor, purpose and time range.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
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
  void setup() const {
    must({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
    must({"import", (kData / "customers.jsonl").string()});
  }
  ojson entries(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"log", "show", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Output o = must(args);
    ojson parsed = ojson::parse(o.out);
    REQUIRE(parsed.is_array());
    return parsed;
  }

 private:
  consentry::test::TempDir dir_;
  fs::path vault_;
};

std::vector<ojson> of_action(const ojson& entries, const std::string& action) {
  std::vector<ojson> out;
  for (const auto& e : entries)
    if (e.at("action") == action) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("cli: --actor and CONSENTRY_ACTOR name who acted in the log, log show and the staff audit") {
  Cli cli;
  cli.setup();
  cli.must({"consent", "grant", "C-1001", "marketing.email", "--actor", "alice@acme.example"});
  cli.must({"consent", "grant", "C-1002", "marketing.email"}, 0, {{"CONSENTRY_ACTOR", "crm-sync"}});
  // The option wins over the variable.
  cli.must({"--actor", "bob", "consent", "withdraw", "C-1002", "marketing.email"}, 0,
           {{"CONSENTRY_ACTOR", "crm-sync"}});
  const ojson all = cli.entries();
  const auto consents = of_action(all, "consent_recorded");
  REQUIRE(consents.size() == 3);
  CHECK(consents[0].at("accessor") == "alice@acme.example");
  CHECK(consents[1].at("accessor") == "crm-sync");
  CHECK(consents[2].at("accessor") == "bob");
  // Without either, the command line is named, as before.
  for (const auto& e : of_action(all, "value_written")) CHECK(e.at("accessor") == "cli");

  const Output human = cli.must({"log", "show"});
  CHECK(human.out.find("alice@acme.example") != std::string::npos);

  const Output audit = cli.must({"audit", "C-1001"});
  CHECK(audit.out.find("alice@acme.example") != std::string::npos);
}

TEST_CASE("cli: a malformed --actor exits 2 before the passphrase is asked for") {
  Cli cli;
  cli.setup();
  const std::vector<std::string> bad = {"",
                                        std::string(129, 'a'),
                                        "eve\nmallory",
                                        "tab\there",
                                        "\x1b[31mred",
                                        "\xc2\x9b"
                                        "csi",
                                        "\xff\xfe"};
  for (const std::string& actor : bad) {
    CAPTURE(actor.size());
    const Output o = cli.run({"--actor", actor, "consent", "show", "C-1001"});
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find("--actor") != std::string::npos);
    CHECK(o.err.find("Passphrase") == std::string::npos);
  }
  const Output env = cli.run({"consent", "show", "C-1001"}, {{"CONSENTRY_ACTOR", "line\nbreak"}});
  CHECK(env.code == 2);
  CHECK(env.err.find("CONSENTRY_ACTOR") != std::string::npos);
  // A longest name passes, and non-ASCII letters are fine.
  cli.must({"--actor", std::string(128, 'a'), "consent", "show", "C-1001"});
  cli.must({"--actor", "Jürgen Groß", "consent", "show", "C-1001"});
}

TEST_CASE("cli: erase --reason --request records them with counts, never a value") {
  Cli cli;
  cli.setup();
  cli.must({"consent", "grant", "C-1001", "marketing.email"});
  const Output o = cli.must({"erase", "C-1001", "--reason", "customer asked by letter", "--request",
                             "TICKET-99", "--actor", "dpo"});
  CHECK(o.out == "erased C-1001\n");
  const ojson all = cli.entries();
  const auto erasures = of_action(all, "erasure");
  REQUIRE(erasures.size() == 1);
  const ojson& e = erasures.front();
  CHECK(e.at("accessor") == "dpo");
  CHECK(e.at("reason") == "customer asked by letter");
  CHECK(e.at("fields") == ojson::array({"values=3", "fields=3", "consent_events=1", "request=TICKET-99"}));
  const std::string text = cli.must({"log", "show"}).out;
  CHECK(text.find("ann@example.com") == std::string::npos);
  CHECK(text.find("request=TICKET-99") != std::string::npos);
  const Output verify = cli.must({"log", "verify"});
  CHECK(verify.out.find("verified") != std::string::npos);
}

TEST_CASE("cli: erase --dry-run says what would go and changes nothing") {
  Cli cli;
  cli.setup();
  const std::size_t before = cli.entries().size();
  const Output dry = cli.must({"erase", "C-1002", "--dry-run"});
  CHECK(dry.out.find("would erase C-1002") != std::string::npos);
  CHECK(dry.out.find("2 values in 2 fields (birth_date, email)") != std::string::npos);
  CHECK(dry.out.find("nothing was changed") != std::string::npos);
  const Output json = cli.must({"erase", "C-1002", "--dry-run", "--json"});
  const ojson report = ojson::parse(json.out);
  CHECK(report.at("dry_run") == true);
  CHECK(report.at("values") == 2);
  CHECK(report.at("fields") == ojson::array({"birth_date", "email"}));
  CHECK(cli.entries().size() == before);
  cli.must({"read", "C-1002", "--purpose", "service", "--as", "support-desk", "--fields", "email"});
  CHECK(cli.must({"erase", "C-404", "--dry-run"}, 5).out.empty());
}

TEST_CASE("cli: a malformed erase reason or request exits 2 and erases nothing") {
  Cli cli;
  cli.setup();
  CHECK(cli.run({"erase", "C-1001", "--reason", "two\nlines"}).code == 2);
  CHECK(cli.run({"erase", "C-1001", "--reason", std::string(501, 'r')}).code == 2);
  CHECK(cli.run({"erase", "C-1001", "--reason", "test", "--request", std::string(129, 'q')}).code == 2);
  const Output o = cli.run({"erase", "C-1001", "--reason", "test", "--request", "\x1b[2J"});
  CHECK(o.code == 2);
  CHECK(o.err.find("--request") != std::string::npos);
  CHECK(of_action(cli.entries(), "erasure").empty());
  cli.must({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email"});
}

TEST_CASE("cli: the audit command and consent show are audited as staff reads, metadata only") {
  Cli cli;
  cli.setup();
  CHECK(of_action(cli.entries(), "staff_read").empty());
  cli.must({"audit", "C-1001", "--actor", "auditor-1"});
  cli.must({"consent", "show", "C-1001", "--actor", "helpdesk-2"});
  cli.must({"consent", "show", "C-1002", "--json"});
  const auto reads = of_action(cli.entries(), "staff_read");
  REQUIRE(reads.size() == 3);
  CHECK(reads[0].at("accessor") == "auditor-1");
  CHECK(reads[0].at("reason") == "subject_audit");
  CHECK(reads[0].at("fields") == ojson::array({"birth_date", "email", "phone"}));
  CHECK(reads[1].at("accessor") == "helpdesk-2");
  CHECK(reads[1].at("reason") == "consent");
  CHECK(reads[1].at("fields").empty());
  CHECK(reads[2].at("accessor") == "cli");
  CHECK(reads[0].at("customer") == reads[1].at("customer"));
  CHECK(reads[0].at("customer") != reads[2].at("customer"));
  // A look at an unknown customer reads nothing and records nothing.
  CHECK(cli.run({"consent", "show", "C-404"}).code == 5);
  CHECK(cli.run({"audit", "C-404"}).code == 5);
  CHECK(of_action(cli.entries(), "staff_read").size() == 3);
}

TEST_CASE("cli: log show filters by action, accessor or actor, purpose and time range") {
  Cli cli;
  cli.setup();
  cli.must({"consent", "grant", "C-1001", "marketing.email", "--actor", "alice"});
  cli.must(
      {"read", "C-1001", "--purpose", "marketing.email", "--as", "email-campaigns", "--fields", "email"});
  cli.must({"read", "C-1002", "--purpose", "service", "--as", "support-desk", "--fields", "email"});
  const ojson all = cli.entries();

  const ojson reads = cli.entries({"--action", "field_read"});
  REQUIRE(reads.size() == 2);
  for (const auto& e : reads) CHECK(e.at("action") == "field_read");

  const ojson by_alice = cli.entries({"--by", "alice"});
  REQUIRE(by_alice.size() == 1);
  CHECK(by_alice[0].at("action") == "consent_recorded");
  CHECK(cli.entries({"--accessor", "support-desk"}).size() == 2);  // the view, then the read

  const ojson marketing = cli.entries({"--purpose", "marketing.email"});
  CHECK(marketing.size() == 3);  // the grant, the view and the read
  for (const auto& e : marketing) CHECK(e.at("purpose") == "marketing.email");

  const ojson both = cli.entries({"--purpose", "marketing.email", "--action", "view_opened"});
  REQUIRE(both.size() == 1);
  CHECK(both[0].at("accessor") == "email-campaigns");
  CHECK(cli.entries({"--customer", "C-1002", "--action", "field_read"}).size() == 1);

  // --until keeps what came before it; --since and --until together make a range.
  const std::string last_at = all.back().at("at").get<std::string>();
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  cli.must({"consent", "show", "C-1001"});
  const ojson now_all = cli.entries();
  const std::string later_at = now_all.back().at("at").get<std::string>();
  REQUIRE(later_at > last_at);
  const ojson before = cli.entries({"--until", later_at});
  CHECK(before.size() == all.size());
  CHECK(cli.entries({"--until", "2000-01-01"}).empty());
  const ojson range = cli.entries({"--since", later_at, "--until", "2999-01-01"});
  REQUIRE(range.size() == 1);
  CHECK(range[0].at("action") == "staff_read");

  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--action", "read"},
                                              {"--until", "tomorrow"},
                                              {"--since", "2025-05-02", "--until", "2025-05-01"}}) {
    const std::string option = bad[0];
    CAPTURE(option);
    std::vector<std::string> args{"log", "show", "--json"};
    args.insert(args.end(), bad.begin(), bad.end());
    const Output o = cli.run(args);
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find(option == "--since" ? "--until" : option) != std::string::npos);
  }
  const Output unknown = cli.run({"log", "show", "--action", "read"});
  CHECK(unknown.err.find("field_read") != std::string::npos);
}
