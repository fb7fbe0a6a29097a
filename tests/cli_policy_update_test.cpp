// cli_policy_update_test.cpp: `consentry policy update`, `policy show --version`, `policy diff`
// and `policy versions`, run as separate processes: exit codes, refusals that name what breaks
// them, and versions kept across runs.
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

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

using Output = consentry::test::CliOutput;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

/// Session is a vault made from tests/data/cli/policy.json and its customers.
class Session {
 public:
  Session() {
    Output init = run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
    REQUIRE_MESSAGE(init.code == 0, init.err);
    Output import = run({"import", (kData / "customers.jsonl").string()});
    REQUIRE_MESSAGE(import.code == 0, import.err);
  }

  Output run(const std::vector<std::string>& args) {
    return consentry::test::run_consentry(dir_.path(), args,
                                          {{"CONSENTRY_VAULT", (dir_.path() / "crm.vault").string()},
                                           {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }

  /// policy writes the test policy with `what` replaced by `with`, and gives the file's path.
  std::string policy(const std::string& name, std::string_view what, std::string_view with) {
    std::string text = read_text(kData / "policy.json");
    const auto at = text.find(what);
    REQUIRE(at != std::string::npos);
    text.replace(at, what.size(), with);
    const fs::path file = dir_.path() / name;
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  consentry::test::TempDir dir_{"consentry-cli-policy"};
};

constexpr std::string_view kPhoneLine = R"(,
    {"name": "phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4"}})";

}  // namespace

TEST_CASE("policy update adds a field as version 2, and show, diff and versions see both") {
  Session s;
  const std::string wider = s.policy("wider.json", R"({"name": "credit_score")",
                                     R"({"name": "shoe_size", "type": "integer", "category": "preference",
     "access": {"service": "clear"}},
    {"name": "credit_score")");
  Output update = s.run({"policy", "update", wider});
  INFO(update.err);
  REQUIRE(update.code == 0);
  CHECK(update.out.find("policy updated to version 2") != std::string::npos);
  CHECK(update.out.find("field 'shoe_size': field_added") != std::string::npos);

  Output again = s.run({"policy", "update", wider});
  CHECK(again.code == 0);
  CHECK(again.out.find("policy unchanged: version 2") != std::string::npos);

  Output v1 = s.run({"policy", "show", "--version", "1", "--json"});
  REQUIRE(v1.code == 0);
  CHECK(v1.out.find("shoe_size") == std::string::npos);
  Output now = s.run({"policy", "show", "--json"});
  CHECK(now.out.find("shoe_size") != std::string::npos);
  CHECK(s.run({"policy", "show", "--version", "3"}).code == 5);

  Output diff = s.run({"policy", "diff", "--json"});
  REQUIRE(diff.code == 0);
  const auto j = nlohmann::json::parse(diff.out);
  CHECK(j["from"] == "1");
  CHECK(j["to"] == "2");
  REQUIRE(j["changes"].size() == 2);  // the field, and its form for service
  CHECK(j["changes"][0]["kind"] == "field_added");
  CHECK(j["changes"][1]["kind"] == "form_added");

  Output back = s.run({"policy", "diff", "2", "1"});
  CHECK(back.code == 0);
  CHECK(back.out.find("field 'shoe_size': field_removed") != std::string::npos);

  Output versions = s.run({"policy", "versions"});
  CHECK(versions.code == 0);
  CHECK(versions.out.find("version 1 (") != std::string::npos);
  CHECK(versions.out.find("version 2 (") != std::string::npos);
  CHECK(versions.out.find("(in force)") != std::string::npos);

  CHECK(s.run({"log", "verify"}).code == 0);
}

TEST_CASE(
    "policy update refuses a removed field that holds values with exit 2, and --purge-removed applies it") {
  Session s;
  const std::string narrower = s.policy("narrower.json", kPhoneLine, "");
  Output refused = s.run({"policy", "update", narrower});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("'phone'") != std::string::npos);
  CHECK(refused.err.find("--purge-removed") != std::string::npos);
  CHECK(refused.err.find("+44") == std::string::npos);  // no value in the message
  CHECK(s.run({"policy", "versions"}).out.find("version 2") == std::string::npos);

  Output purged = s.run({"policy", "update", narrower, "--purge-removed", "--json"});
  INFO(purged.err);
  REQUIRE(purged.code == 0);
  const auto j = nlohmann::json::parse(purged.out);
  CHECK(j["version"] == 2);
  CHECK(j["values_purged"].get<int>() >= 1);
  CHECK(j["changes"][0]["kind"] == "field_removed");
  CHECK(j["changes"][0]["effect"] == "destructive");
}

TEST_CASE("policy diff compares a version with a file before updating, and names a widened consent") {
  Session s;
  const std::string wider = s.policy("wider.json", R"("marketing.email": "clear", "analytics")",
                                     R"("marketing.email": "clear", "analytics")");
  const std::string phone_for_marketing =
      s.policy("phone.json", R"("access": {"service": "mask:last4"})",
               R"("access": {"service": "mask:last4", "marketing.email": "clear"})");
  Output diff = s.run({"policy", "diff", "1", phone_for_marketing});
  INFO(diff.err);
  REQUIRE(diff.code == 0);
  CHECK(diff.out.find("form_added for purpose 'marketing.email'") != std::string::npos);
  CHECK(diff.out.find("must be renewed for: marketing.email") != std::string::npos);
  CHECK(s.run({"policy", "diff", "1", wider}).out.find("no changes") != std::string::npos);
  CHECK(s.run({"policy", "diff", "1",
               (fs::path(CONSENTRY_TEST_DATA) / "cli" / "bad_form_policy.json").string()})
            .code == 2);
}

TEST_CASE("a widened consent purpose refuses reads with consent_outdated until consent is granted again") {
  Session s;
  REQUIRE(s.run({"consent", "grant", "C-1001", "marketing.email", "--channel", "web"}).code == 0);
  auto read = [&] {
    return s.run({"read", "C-1001", "--purpose", "marketing.email", "--as", "email-campaigns", "--fields",
                  "email", "--json"});
  };
  REQUIRE(read().code == 0);
  const std::string phone_for_marketing =
      s.policy("phone.json", R"("access": {"service": "mask:last4"})",
               R"("access": {"service": "mask:last4", "marketing.email": "clear"})");
  Output update = s.run({"policy", "update", phone_for_marketing});
  REQUIRE_MESSAGE(update.code == 0, update.err);
  CHECK(update.out.find("must be renewed for: marketing.email") != std::string::npos);

  Output refused = read();
  CHECK(refused.code == 3);
  CHECK((refused.out + refused.err).find("consent_outdated") != std::string::npos);

  Output show = s.run({"consent", "show", "C-1001", "--json"});
  REQUIRE(show.code == 0);
  CHECK(nlohmann::json::parse(show.out)["history"][0]["policy_version"] == 1);

  REQUIRE(s.run({"consent", "grant", "C-1001", "marketing.email", "--channel", "web"}).code == 0);
  CHECK(read().code == 0);
  show = s.run({"consent", "show", "C-1001"});
  CHECK(show.out.find("POLICY") != std::string::npos);
  CHECK(show.out.find("v2") != std::string::npos);
  Output exported = s.run({"export", "C-1001", "--format", "json"});
  REQUIRE_MESSAGE(exported.code == 0, exported.err);
  const auto history = nlohmann::json::parse(exported.out)["consent_history"];
  REQUIRE(history.size() == 2);
  CHECK(history[0]["policy_version"] == 1);
  CHECK(history[1]["policy_version"] == 2);
}
