// vault_read_at_once_test.cpp: Accessor::read, a view and a read in one call: it reads and logs
// as view() and View::read do, is refused whole as view() is, and, decided in one committed state,
// follows what another vault on the same store committed (a withdrawal, a policy change, a master
// key rotation, an erasure) from its very next call.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/postgres_cluster.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::FakeClock;
using consentry::test::must;
using consentry::test::TempDir;

namespace {

Vault each_store_vault(const FakeClock& clock, const TempDir& dir) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(clock));
}

void put_ann(Vault& v) {
  must(v.put("C-1001", "email", "ann@example.com"));
  must(v.put("C-1001", "birth_date", "1990-04-02"));
  must(v.put("C-1001", "phone", "+44 7700 900123"));
}

// entries_after returns the audit entries appended after the first `skip`.
std::vector<AuditEntry> entries_after(const Vault& v, std::size_t skip) {
  auto all = must(v.audit_entries());
  REQUIRE(all.size() >= skip);
  return {all.begin() + static_cast<std::ptrdiff_t>(skip), all.end()};
}

// values gives each result's value, or "code:reason" for a refused field.
std::vector<std::string> values(const std::vector<result<FieldValue>>& got) {
  std::vector<std::string> out;
  for (const auto& r : got)
    out.push_back(r ? r->value
                    : std::string(to_string(r.err().code)) + ":" + std::string(to_string(r.err().reason)));
  return out;
}

// TwoVaults are two vaults on one store, as two processes hold them: an SQLite file, or in the
// PostgreSQL run a schema on the test server. `a` changes things, `b` reads.
struct TwoVaults {
  TempDir dir;
  std::string location = test::postgres_run()
                             ? test::with_schema(test::cluster_url(), test::fresh_schema_name())
                             : (dir.path() / "crm.vault").string();
  Vault a = created(location);
  Vault b = must(Vault::open(location, test::kTestPassphrase, test::test_vault_options()));

  static Vault created(const std::string& location) {
    Vault v = must(
        Vault::create(location, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    if (test::postgres_run()) test::drop_at_exit(location);
    return v;
  }
};

}  // namespace

TEST_CASE("Accessor::read returns what a view's read returns and logs the read without a view entry") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto desk = must(v.accessor("support-desk"));
  const std::vector<std::string_view> fields = {"phone", "email", "credit_score", "birth_date"};
  const auto through_view = must(must(desk.view("C-1001", "service")).read(fields));
  const std::size_t before = must(v.audit_entries()).size();
  const auto at_once = must(desk.read("C-1001", "service", fields));
  CHECK(values(at_once) == values(through_view));
  CHECK(values(at_once) ==
        std::vector<std::string>{"*********0123", "ann@example.com", "not_found:none", "1990-04-02"});
  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].action == AuditAction::field_read);
  CHECK(entries[0].accessor == "support-desk");
  CHECK(entries[0].purpose == "service");
  CHECK(entries[0].fields == std::vector<std::string>{"phone:mask:last4", "email:clear",
                                                      "credit_score:absent", "birth_date:clear"});
}

TEST_CASE("Accessor::read refuses field by field as a view's read does, one entry per reason") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  const std::size_t before = must(v.audit_entries()).size();
  const auto got =
      must(must(v.accessor("bi-dashboard")).read("C-1001", "analytics", {"phone", "birth_date"}));
  REQUIRE(got.size() == 2);
  REQUIRE_FALSE(got[0].ok());
  CHECK(got[0].err().code == errc::denied);
  CHECK(got[0].err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(got[1]->value == "1990");
  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].action == AuditAction::access_denied);
  CHECK(entries[0].fields == std::vector<std::string>{"phone"});
  CHECK(entries[1].action == AuditAction::field_read);
  CHECK(entries[1].fields == std::vector<std::string>{"birth_date:generalise:year"});
}

TEST_CASE("Accessor::read is refused whole as view() is, logged once naming the fields asked for") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto desk = must(v.accessor("support-desk"));
  struct Case {
    const char* purpose;
    deny_reason reason;
  };
  for (const Case& c : {Case{"marketing.email", deny_reason::accessor_not_registered},
                        Case{"no.such.purpose", deny_reason::unknown_purpose}}) {
    CAPTURE(c.purpose);
    const std::size_t before = must(v.audit_entries()).size();
    auto got = desk.read("C-1001", c.purpose, {"email", "phone"});
    REQUIRE_FALSE(got.ok());
    CHECK(got.err().code == errc::denied);
    CHECK(got.err().reason == c.reason);
    CHECK(got.err().message.find("ann@") == std::string::npos);
    const auto entries = entries_after(v, before);
    REQUIRE(entries.size() == 1);
    CHECK(entries[0].action == AuditAction::access_denied);
    CHECK_FALSE(entries[0].allowed);
    CHECK(entries[0].reason == to_string(c.reason));
    CHECK(entries[0].fields == std::vector<std::string>{"email", "phone"});
  }
}

TEST_CASE("Accessor::read of an erased customer is erased for a registered accessor, denied for another") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  must(v.erase("C-1001"));
  const std::size_t before = must(v.audit_entries()).size();
  auto erased = must(v.accessor("support-desk")).read("C-1001", "service", {"email"});
  REQUIRE_FALSE(erased.ok());
  CHECK(erased.err().code == errc::erased);
  // An accessor not registered for the purpose learns nothing about whether the customer existed.
  auto denied = must(v.accessor("support-desk")).read("C-1001", "analytics", {"email"});
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.err().code == errc::denied);
  CHECK(denied.err().reason == deny_reason::accessor_not_registered);
  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].reason == "erased");
  CHECK(entries[0].fields == std::vector<std::string>{"email"});
  CHECK(entries[1].reason == "accessor_not_registered");
}

TEST_CASE("Accessor::read refuses a bad customer id and an empty list, logging nothing") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto desk = must(v.accessor("support-desk"));
  const std::size_t before = must(v.audit_entries()).size();
  auto empty = desk.read("C-1001", "service", std::span<const std::string_view>());
  REQUIRE_FALSE(empty.ok());
  CHECK(empty.err().code == errc::bad_input);
  auto bad = desk.read(std::string("C-1\n001"), "service", {"email"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::invalid_argument);  // as view() refuses it
  CHECK(must(v.audit_entries()).size() == before);
}

TEST_CASE("a withdrawal committed by another vault denies this vault's next Accessor::read") {
  TwoVaults t;
  must(t.a.put("C-1", "email", "ann@example.com"));
  must(t.a.record_consent("C-1", "marketing.email", ConsentAction::grant));
  auto campaigns = must(t.b.accessor("email-campaigns"));
  CHECK(values(must(campaigns.read("C-1", "marketing.email", {"email"}))) ==
        std::vector<std::string>{"ann@example.com"});
  must(t.a.record_consent("C-1", "marketing.email", ConsentAction::withdraw));
  CHECK(values(must(campaigns.read("C-1", "marketing.email", {"email"}))) ==
        std::vector<std::string>{"denied:withdrawn"});
}

TEST_CASE("a policy change committed by another vault applies to this vault's next Accessor::read") {
  TwoVaults t;
  must(t.a.put("C-1", "birth_date", "1989-10-27"));
  auto bi = must(t.b.accessor("bi-dashboard"));
  CHECK(values(must(bi.read("C-1", "analytics", {"birth_date"}))) == std::vector<std::string>{"1989"});
  std::string text(test::kRetailPolicy);
  const std::string year = R"("analytics": "generalise:year")";
  text.replace(text.find(year), year.size(), R"("analytics": "generalise:decade")");
  must(t.a.update_policy(must(Policy::parse(text, "edited"))));
  CHECK(values(must(bi.read("C-1", "analytics", {"birth_date"}))) == std::vector<std::string>{"1980s"});
  CHECK(t.b.policy_version() == 2);
}

TEST_CASE("a customer written after another vault rotated the master key is read at once by this one") {
  TwoVaults t;
  must(t.a.put("C-1", "email", "ann@example.com"));
  auto desk = must(t.b.accessor("support-desk"));
  CHECK(values(must(desk.read("C-1", "service", {"email"}))) == std::vector<std::string>{"ann@example.com"});
  must(t.a.rotate_master_key());
  must(t.a.put("C-2", "email", "bob@example.com"));
  // b catches up with every commit first (its policy check reads the store's data_version), so
  // the next read finds nothing changed but a data key wrapped under a version b never loaded.
  CHECK(t.b.policy_version() == 1);
  CHECK(values(must(desk.read("C-2", "service", {"email"}))) == std::vector<std::string>{"bob@example.com"});
  CHECK(values(must(desk.read("C-1", "service", {"email"}))) == std::vector<std::string>{"ann@example.com"});
}

TEST_CASE("an erasure committed by another vault refuses this vault's next Accessor::read") {
  TwoVaults t;
  must(t.a.put("C-1", "email", "ann@example.com"));
  auto desk = must(t.b.accessor("support-desk"));
  CHECK(values(must(desk.read("C-1", "service", {"email"}))) == std::vector<std::string>{"ann@example.com"});
  must(t.a.erase("C-1"));
  auto gone = desk.read("C-1", "service", {"email"});
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::erased);
}
