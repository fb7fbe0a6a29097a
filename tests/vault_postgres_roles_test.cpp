// vault_postgres_roles_test.cpp: a CRM process that runs as a PostgreSQL role other than the
// vault's owner, granted only what docs/postgresql.md ("Roles") lists. Everything a CRM process
// does works with those grants; erasure's compaction, which only the owner may run, answers
// errc::io after the erasure itself has committed; and the audit log stays append-only for the
// CRM role too. Runs on the cluster of the ctest fixture `postgres`.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <string>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/must.hpp"
#include "support/postgres_cluster.hpp"
#include "support/postgres_scratch.hpp"
#include "support/retail_policy.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using test::must;
using test::ScratchSchema;

namespace {

/// Connection is one libpq connection to the test server, as the cluster's superuser or as
/// another role; the test fails when it cannot connect.
class Connection {
 public:
  explicit Connection(const std::string& url) : c_(PQconnectdb(url.c_str())) {
    REQUIRE(PQstatus(c_) == CONNECTION_OK);
    PQsetNoticeProcessor(
        c_, [](void*, const char*) {}, nullptr);
  }
  ~Connection() { PQfinish(c_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// run runs `sql`; the SQLSTATE when the server refuses it, "" when it succeeds.
  std::string run(const std::string& sql) {
    PGresult* r = PQexec(c_, sql.c_str());
    const ExecStatusType s = PQresultStatus(r);
    std::string state;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
      const char* code = PQresultErrorField(r, PG_DIAG_SQLSTATE);
      state = code ? code : "?";
    }
    PQclear(r);
    return state;
  }

 private:
  PGconn* c_;
};

/// grant_documented grants `role` on `schema` exactly what docs/postgresql.md lists for a CRM
/// process that is not the owner.
void grant_documented(Connection& owner, const std::string& schema, const std::string& role) {
  const std::string s = "\"" + schema + "\"";
  REQUIRE(owner.run("GRANT USAGE ON SCHEMA " + s + " TO " + role) == "");
  REQUIRE(owner.run("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA " + s + " TO " + role) == "");
  for (const char* table : {"state", "meta", "data_keys", "fields", "lookups", "audit_chains"})
    REQUIRE(owner.run("GRANT UPDATE ON " + s + "." + table + " TO " + role) == "");
  for (const char* table :
       {"meta", "data_keys", "fields", "lookups", "contacts", "contact_preferences", "consent_events"})
    REQUIRE(owner.run("GRANT DELETE ON " + s + "." + table + " TO " + role) == "");
}

/// as_role is `url` connecting as `role` (the test server trusts its socket).
std::string as_role(const std::string& url, const std::string& role) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "user=" + role;
}

}  // namespace

TEST_CASE(
    "postgres: a CRM role with the documented grants runs the vault; only erasure's compaction needs the "
    "owner") {
  ScratchSchema schema;
  const std::string role = "crm_" + schema.name;
  Connection owner(schema.url);
  REQUIRE(owner.run("CREATE ROLE " + role + " LOGIN") == "");
  struct DropRole {
    Connection& owner;
    std::string role;
    ~DropRole() {
      (void)owner.run("DROP OWNED BY " + role);
      (void)owner.run("DROP ROLE IF EXISTS " + role);
    }
  } drop_role{owner, role};

  const std::string owner_location = test::with_schema(schema.url, schema.name);
  {
    Vault v = must(Vault::create(owner_location, test::retail_policy(), test::kTestPassphrase,
                                 test::test_vault_options(AuditMode::durable, "setup")));
    must(v.put("C-1", "email", "ann@example.com"));
  }

  const std::string crm_location = test::with_schema(as_role(schema.url, role), schema.name);
  SUBCASE("without the grants the role cannot open the vault, and says so") {
    auto refused = Vault::open(crm_location, test::kTestPassphrase, test::test_vault_options());
    REQUIRE_FALSE(refused);
    CHECK(refused.err().code == errc::io);
    INFO(refused.err().message);
    CHECK(refused.err().message.find("42501") != std::string::npos);  // insufficient_privilege
  }

  SUBCASE("with the grants everything a CRM process does works") {
    grant_documented(owner, schema.name, role);
    Vault v = must(Vault::open(crm_location, test::kTestPassphrase, test::test_vault_options()));
    must(v.put("C-2", "email", "bo@example.com"));
    must(v.put("C-2", "phone", "+44 7700 900382"));
    (void)must(v.record_consent("C-2", "marketing.email", ConsentAction::grant));
    auto view = must(v.accessor("email-campaigns")->view("C-2", "marketing.email"));
    CHECK(view.get("email").ok());
    (void)must(v.record_contact("C-2", "email", "marketing.email"));
    (void)must(v.record_consent("C-2", "marketing.email", ConsentAction::withdraw));
    auto withdrawn = view.get("email");
    REQUIRE_FALSE(withdrawn);
    CHECK(withdrawn.err().reason == deny_reason::withdrawn);
    (void)must(v.purge());
    (void)must(v.rotate_master_key());
    (void)must(v.checkpoint_audit());

    // Erasure commits, then its compaction (VACUUM, the owner's) is refused and says so.
    auto erased = v.erase("C-1");
    REQUIRE_FALSE(erased);
    CHECK(erased.err().code == errc::io);
    CHECK(must(v.erased_at("C-1")).has_value());
    auto gone = v.accessor("support-desk")->view("C-1", "service");
    REQUIRE_FALSE(gone);
    CHECK(gone.err().code == errc::erased);

    const AuditVerification verified = must(v.verify_audit());
    CHECK_MESSAGE(verified.ok, verified.problem);

    // The log stays append-only for the CRM role: it was never granted UPDATE or DELETE there.
    Connection crm(as_role(schema.url, role));
    const std::string audit = "\"" + schema.name + "\".audit";
    CHECK(crm.run("UPDATE " + audit + " SET at = 0") == "42501");
    CHECK(crm.run("DELETE FROM " + audit) == "42501");
    CHECK(crm.run("TRUNCATE " + audit) == "42501");
  }
}
