// cli_postgres_test.cpp: the consentry command on a PostgreSQL vault, run as a separate process
// with CONSENTRY_VAULT a postgresql:// URI: the everyday commands work unchanged, the audit log's
// writer chains show in `log show` and `log checkpoint` and a damaged chain is named by `log
// verify`, init refuses a schema that holds a vault before asking for a passphrase, and a password
// in the URI never reaches the output.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/cli_vault_dir.hpp"
#include "support/each_store.hpp"
#include "support/passphrase.hpp"
#include "support/postgres_cluster.hpp"

namespace {

using consentry::test::CliOutput;
using consentry::test::Env;
using consentry::test::VaultDir;

/// PgVault is a vault URI on the test server, in a schema of its own, dropped at exit.
struct PgVault {
  std::string url =
      consentry::test::with_schema(consentry::test::cluster_url(), consentry::test::fresh_schema_name());
  PgVault() { consentry::test::drop_at_exit(url); }
  Env env() const {
    return {{"CONSENTRY_VAULT", url}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}};
  }
};

CliOutput must_run(const VaultDir& dir, const std::vector<std::string>& args, const Env& env) {
  CliOutput o = dir.run_env(args, env);
  INFO("consentry " << args.front() << ": " << o.err);
  REQUIRE(o.code == 0);
  return o;
}

}  // namespace

TEST_CASE(
    "postgres: the command line reads, records consent, exports, audits and erases on a PostgreSQL vault") {
  VaultDir dir;
  PgVault vault;
  const Env env = vault.env();
  const auto policy = (consentry::test::kCliData / "policy.json").string();
  CliOutput created = must_run(dir, {"init", "--policy", policy, "--kdf", "minimum"}, env);
  CHECK(created.out.find("created postgresql://") != std::string::npos);
  must_run(dir, {"import", (consentry::test::kCliData / "customers.jsonl").string()}, env);

  CliOutput read =
      must_run(dir, {"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--json"}, env);
  CHECK(read.out.find("ann@example.com") != std::string::npos);

  must_run(dir, {"consent", "grant", "C-1001", "marketing.email"}, env);
  must_run(dir,
           {"read", "C-1001", "--purpose", "marketing.email", "--as", "email-campaigns", "--fields", "email"},
           env);
  must_run(dir, {"consent", "withdraw", "C-1001", "marketing.email"}, env);
  CliOutput denied = dir.run_env(
      {"read", "C-1001", "--purpose", "marketing.email", "--as", "email-campaigns", "--fields", "email"},
      env);
  CHECK(denied.code == 3);

  CliOutput exported = must_run(dir, {"export", "C-1001", "--format", "json"}, env);
  CHECK(exported.out.find("ann@example.com") != std::string::npos);
  CliOutput audit = must_run(dir, {"audit", "C-1001"}, env);
  CHECK(audit.out.find("support-desk") != std::string::npos);
  must_run(dir, {"log", "verify"}, env);

  must_run(dir, {"erase", "C-1001", "--reason", "customer request"}, env);
  CliOutput gone = dir.run_env({"read", "C-1001", "--purpose", "service", "--as", "support-desk"}, env);
  CHECK(gone.code == 5);
  must_run(dir, {"log", "verify"}, env);
}

TEST_CASE(
    "postgres: log show and log checkpoint name the writers' chains, and log verify names a damaged one") {
  VaultDir dir;
  PgVault vault;
  const Env env = vault.env();
  const auto policy = (consentry::test::kCliData / "policy.json").string();
  must_run(dir, {"init", "--policy", policy, "--kdf", "minimum"}, env);
  must_run(dir, {"import", (consentry::test::kCliData / "customers.jsonl").string()}, env);
  must_run(dir, {"read", "C-1001", "--purpose", "service", "--as", "support-desk"}, env);

  // One command after another takes up the chain the one before left, after its head (or, when
  // the server has not yet seen the previous process go, starts one): each chain's seqs run 1, 2,
  // 3 in the order listed.
  const auto entries = nlohmann::json::parse(must_run(dir, {"log", "show", "--json"}, env).out);
  REQUIRE(entries.size() >= 3);
  std::map<std::int64_t, std::int64_t> heads;
  for (const auto& e : entries) {
    REQUIRE(e.contains("chain"));
    const auto chain = e["chain"].get<std::int64_t>();
    CHECK(chain > 0);
    CHECK(e["seq"].get<std::int64_t>() == heads[chain] + 1);
    heads[chain] = e["seq"].get<std::int64_t>();
  }
  CHECK(must_run(dir, {"log", "show"}, env).out.rfind("CHAIN", 0) == 0);

  // A checkpoint lists every chain's head, and verifies against the log.
  const auto file = dir.path("cp.json").string();
  must_run(dir, {"log", "checkpoint", "-o", file}, env);
  must_run(dir, {"log", "verify", "--against", file}, env);
  const auto cp = nlohmann::json::parse(must_run(dir, {"log", "checkpoint"}, env).out);
  REQUIRE(cp.contains("heads"));
  REQUIRE(cp["heads"].size() == heads.size());
  for (const auto& h : cp["heads"]) CHECK(heads.at(h["chain"].get<std::int64_t>()) == h["seq"]);

  // The longest chain.
  std::int64_t chain = heads.begin()->first;
  for (const auto& [c, n] : heads)
    if (n > heads[chain]) chain = c;
  REQUIRE(heads[chain] >= 2);

  // Someone with the database deletes an entry from the middle of the chain.
  PGconn* c = PQconnectdb(consentry::test::cluster_url().c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  const std::string schema = vault.url.substr(vault.url.find("consentry_schema=") + 17);
  PGresult* r = PQexec(
      c, ("DELETE FROM \"" + schema + "\".audit WHERE chain = " + std::to_string(chain) + " AND seq = 2")
             .c_str());
  CHECK(PQresultStatus(r) == PGRES_COMMAND_OK);
  CHECK(std::string(PQcmdTuples(r)) == "1");
  PQclear(r);
  PQfinish(c);
  CliOutput damaged = dir.run_env({"log", "verify"}, env);
  CHECK(damaged.code == 4);
  INFO(damaged.err);
  CHECK(damaged.err.find("audit log damaged at chain " + std::to_string(chain) + " seq 2") !=
        std::string::npos);
  const auto report = nlohmann::json::parse(dir.run_env({"log", "verify", "--json"}, env).out);
  CHECK(report["first_bad_chain"] == chain);
  CHECK(report["first_bad_seq"] == 2);
}

TEST_CASE("postgres: init refuses a schema that holds a vault, before asking for a passphrase") {
  VaultDir dir;
  PgVault vault;
  const auto policy = (consentry::test::kCliData / "policy.json").string();
  must_run(dir, {"init", "--policy", policy, "--kdf", "minimum"}, vault.env());
  // No passphrase given: a prompt would fail differently (no terminal).
  CliOutput again =
      dir.run_env({"init", "--policy", policy, "--kdf", "minimum"}, {{"CONSENTRY_VAULT", vault.url}});
  CHECK(again.code == 2);
  CHECK(again.err.find("already holds a vault") != std::string::npos);
}

TEST_CASE("postgres: a password in the vault URI appears in no output, whatever happens") {
  VaultDir dir;
  const std::string secret = "planted-pg-secret";
  // The test server trusts its socket, so a password is accepted and ignored.
  std::string url = consentry::test::cluster_url();
  url.replace(url.find("://") + 3, 0, "consentry:" + secret + "@");
  url = consentry::test::with_schema(url, consentry::test::fresh_schema_name());
  consentry::test::drop_at_exit(url);
  const auto policy = (consentry::test::kCliData / "policy.json").string();
  std::vector<CliOutput> outputs;
  const Env env{{"CONSENTRY_VAULT", url}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}};
  outputs.push_back(dir.run_env({"--verbose", "init", "--policy", policy, "--kdf", "minimum"}, env));
  CHECK(outputs.back().code == 0);
  outputs.push_back(
      dir.run_env({"--verbose", "read", "C-404", "--purpose", "service", "--as", "support-desk"}, env));
  CHECK(outputs.back().code == 5);
  // A server that cannot be reached, with the password as a parameter too.
  const Env unreachable{
      {"CONSENTRY_VAULT",
       "postgresql://consentry:" + secret + "@/consentry?host=/nonexistent-socket-dir&password=" + secret},
      {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}};
  outputs.push_back(dir.run_env(
      {"--verbose", "read", "C-1001", "--purpose", "service", "--as", "support-desk"}, unreachable));
  CHECK(outputs.back().code == 2);
  outputs.push_back(dir.run_env({"init", "--policy", policy}, unreachable));
  CHECK(outputs.back().code == 2);
  for (const CliOutput& o : outputs) {
    CHECK(o.out.find(secret) == std::string::npos);
    CHECK(o.err.find(secret) == std::string::npos);
  }
}
