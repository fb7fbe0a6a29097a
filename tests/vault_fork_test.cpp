// vault_fork_test.cpp: a vault carried across fork(). The child holds none of its parent's file
// locks, so its use of the parent's vault must fail, clearly and without writing; the parent goes
// on, and the child can open the vault for itself.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "consentry/vault.hpp"
#include "support/fake_clock.hpp"
#include "support/forked_child.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::in_forked_child;
using consentry::test::must;
using consentry::test::refused_as_forked;

TEST_CASE("a forked child cannot use its parent's SQLite vault, and can open its own") {
  test::FakeClock clock;
  test::TempDir dir;
  const auto file = dir.path() / "crm.vault";
  const VaultOptions options = test::test_vault_options(clock);
  Vault v = must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, options));
  REQUIRE(v.put("C-1001", "email", "ann@example.com").ok());
  REQUIRE(v.flush_audit().ok());

  const std::string child = in_forked_child([&]() -> std::string {
    std::string report = refused_as_forked("put", v.put("C-1002", "email", "bob@example.com"));
    report += refused_as_forked("customers", v.customers());
    // An accessor asks the store whether its name is known; when it can be had, its read fails.
    auto accessor = v.accessor("support-desk");
    report += accessor ? refused_as_forked("read", accessor->read("C-1001", "service", {"email"}))
                       : refused_as_forked("accessor", accessor);
    // Its own vault, opened in the child, serves it.
    auto own = Vault::open(file, test::kTestPassphrase, options);
    if (!own) return report + "open in the child failed: " + own.err().message;
    if (!own->put("C-1003", "email", "cy@example.com").ok()) report += "put through its own vault failed; ";
    return report;
  });
  CHECK_MESSAGE(child.empty(), child);

  // The parent goes on, sees the child's own write and not the refused one, and its log verifies.
  REQUIRE(v.put("C-1004", "email", "dee@example.com").ok());
  const auto customers = must(v.customers());
  CHECK(std::find(customers.begin(), customers.end(), "C-1003") != customers.end());
  CHECK(std::find(customers.begin(), customers.end(), "C-1002") == customers.end());
  CHECK(std::find(customers.begin(), customers.end(), "C-1004") != customers.end());
  const AuditVerification verified = must(v.verify_audit());
  CHECK_MESSAGE(verified.ok, verified.problem);
}

TEST_CASE("a forked child opens no reader of its parent's vault: its reads are refused") {
  test::FakeClock clock;
  test::TempDir dir;
  const auto file = dir.path() / "reads.vault";
  // With no audit entry to commit, only the store itself can refuse a read in the child.
  const VaultOptions options = test::test_vault_options(clock, AuditMode::off);
  Vault v = must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, options));
  REQUIRE(v.put("C-1001", "email", "ann@example.com").ok());
  const Accessor desk = must(v.accessor("support-desk"));

  const std::string child = in_forked_child([&]() -> std::string {
    std::string report = refused_as_forked("read", desk.read("C-1001", "service", {"email"}));
    report += refused_as_forked("view", desk.view("C-1001", "service"));
    report += refused_as_forked("accessor", v.accessor("support-desk"));
    return report;
  });
  CHECK_MESSAGE(child.empty(), child);

  // The parent's reads go on.
  auto got = must(desk.read("C-1001", "service", {"email"}));
  REQUIRE(got.front().ok());
  CHECK(got.front()->value == "ann@example.com");
}
