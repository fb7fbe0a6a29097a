// cli_policy_follow_test.cpp: a `consentry policy update` run as another process applies at once
// to a vault this process keeps open, to its view already open too.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/cli_runner.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::must;
using Output = consentry::test::CliOutput;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("cli: policy update in another process tightens a view this process holds open") {
  consentry::test::TempDir dir{"consentry-cli-follow"};
  const fs::path vault_file = dir.path() / "crm.vault";
  auto run = [&](const std::vector<std::string>& args) {
    Output o = consentry::test::run_consentry(dir.path(), args,
                                              {{"CONSENTRY_VAULT", vault_file.string()},
                                               {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
    return o;
  };
  run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
  run({"import", (kData / "customers.jsonl").string()});

  consentry::Vault b = must(consentry::Vault::open(vault_file, consentry::test::kTestPassphrase,
                                                   consentry::test::test_vault_options()));
  auto bi = must(b.accessor("bi-dashboard"));
  auto view = must(bi.view("C-1001", "analytics"));
  CHECK(must(view.get("birth_date")).value == "1990");
  CHECK(b.policy_version() == 1);

  std::string text = read_text(kData / "policy.json");
  const std::string_view year = R"("analytics": "generalise:year")";
  const auto at = text.find(year);
  REQUIRE(at != std::string::npos);
  text.replace(at, year.size(), R"("analytics": "generalise:decade")");
  const fs::path tighter = dir.path() / "tighter.json";
  std::ofstream(tighter) << text;
  run({"policy", "update", tighter.string()});

  CHECK(must(view.get("birth_date")).value == "1990s");
  CHECK(b.policy_version() == 2);
}
