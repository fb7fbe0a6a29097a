// cli_metadata_test.cpp: `consentry read` and `export` exit 4 (integrity) when a value's row was
// changed or deleted with SQL behind the vault's back, rather than acting on the change.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/passphrase.hpp"
#include "support/raw_sql.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

using consentry::test::CliOutput;
using consentry::test::execute_sql;
using consentry::test::TempDir;

/// Cli runs the consentry binary on one vault in a fresh directory.
struct Cli {
  TempDir dir{"consentry-cli-metadata"};
  fs::path vault() const { return dir.path() / "crm.vault"; }
  CliOutput run(const std::vector<std::string>& args) {
    return consentry::test::run_consentry(
        dir.path(), args,
        {{"CONSENTRY_VAULT", vault().string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }
  CliOutput read_service(const std::string& customer) {
    return run({"read", customer, "--purpose", "service", "--as", "support-desk", "--json"});
  }
};

}  // namespace

TEST_CASE("cli: read and export exit 4 after SQL changes a value's collection time or deletes a value") {
  Cli cli;
  REQUIRE(cli.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"}).code == 0);
  REQUIRE(cli.run({"import", (kData / "customers.jsonl").string()}).code == 0);
  REQUIRE(cli.read_service("C-1001").code == 0);
  REQUIRE(cli.read_service("C-1002").code == 0);

  REQUIRE(execute_sql(cli.vault(),
                      "UPDATE fields SET collected_at = collected_at - 86400 "
                      "WHERE customer = 'C-1001' AND field = 'email'") == 1);
  const CliOutput read = cli.read_service("C-1001");
  CHECK(read.code == 4);
  CHECK(read.out.empty());
  CHECK(read.err.find("email") != std::string::npos);
  CHECK(cli.run({"export", "C-1001", "--format", "json"}).code == 4);

  REQUIRE(execute_sql(cli.vault(), "DELETE FROM fields WHERE customer = 'C-1002' AND field = 'birth_date'") ==
          1);
  CHECK(cli.read_service("C-1002").code == 4);
  CHECK(cli.run({"audit", "C-1002"}).code == 4);
}
