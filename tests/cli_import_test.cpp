// cli_import_test.cpp: `consentry import` reports every bad line of a file, not only the first,
// and `--dry-run` checks a file as the import would while writing nothing.
#include <doctest/doctest.h>

#include <string>

#include "consentry/vault.hpp"
#include "support/cli_vault_dir.hpp"
#include "support/files.hpp"

using namespace consentry::test;

namespace {

/// customers_in opens the vault of `dir` in this process and lists its customers.
std::vector<std::string> customers_in(const VaultDir& dir) {
  auto v = consentry::Vault::open(dir.path("crm.vault"), kTestPassphrase);
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  auto customers = v->customers();
  REQUIRE(customers.ok());
  return *customers;
}

}  // namespace

TEST_CASE("import --dry-run checks every record and writes nothing") {
  VaultDir dir;
  dir.init();
  const std::string good =
      "{\"id\": \"C-1\", \"fields\": {\"email\": \"ann@example.com\"}}\n"
      "{\"id\": \"C-2\", \"fields\": {\"email\": \"bob@example.com\", \"birth_date\": \"1990-04-02\"}}\n";
  write_file(dir.path("good.jsonl"), good);
  CliOutput checked = dir.must({"import", "--dry-run", dir.path("good.jsonl").string()});
  CHECK(checked.out == "checked 2 records (3 values) from " + dir.path("good.jsonl").string() +
                           ": all would be imported; nothing was written\n");
  CHECK(customers_in(dir).empty());

  CliOutput imported = dir.must({"import", dir.path("good.jsonl").string()});
  CHECK(imported.out.rfind("imported 2 records (3 values)", 0) == 0);
  CHECK(customers_in(dir) == std::vector<std::string>{"C-1", "C-2"});
}

TEST_CASE("import names every bad line, in the file and against the policy, with or without --dry-run") {
  VaultDir dir;
  dir.init();
  const std::string bad =
      "{\"id\": \"C-1\", \"fields\": {\"email\": \"ann@example.com\"}}\n"
      "{\"id\": \"C-2\", \"fields\": {\"email\": \"secret-not-an-email\"}}\n"
      "{\"id\": \"C-3\", \"fields\": {\"shoe_size\": \"44\"}}\n"
      "{\"id\": \"C-4\", \"fields\": {\"birth_date\": \"1990-13-45\"}}\n";
  write_file(dir.path("bad.jsonl"), bad);
  const std::string file = dir.path("bad.jsonl").string();
  for (const bool dry : {true, false}) {
    CAPTURE(dry);
    CliOutput o = dry ? dir.run({"import", "--dry-run", file}) : dir.run({"import", file});
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find(file + ":2: ") != std::string::npos);
    CHECK(o.err.find(file + ":3: field 'shoe_size' is not declared in the policy") != std::string::npos);
    CHECK(o.err.find(file + ":4: ") != std::string::npos);
    CHECK(o.err.find(file + ":1:") == std::string::npos);
    CHECK(o.err.find("secret-not-an-email") == std::string::npos);
  }
  CHECK(customers_in(dir).empty());

  // Malformed lines are all named too, before the vault is opened.
  write_file(dir.path("broken.jsonl"), "{\"id\": \"C-1\"\nnot json\n{\"id\": \"C-3\", \"fields\": {}}\n");
  CliOutput o = dir.run({"import", "--dry-run", dir.path("broken.jsonl").string()});
  CHECK(o.code == 2);
  CHECK(o.err.find("broken.jsonl:1: ") != std::string::npos);
  CHECK(o.err.find("broken.jsonl:2: ") != std::string::npos);
  CHECK(o.err.find("broken.jsonl:3:") == std::string::npos);
}
