// vault_purpose_dataset_test.cpp: Vault::purpose_dataset gives the table a purpose may see: the
// eligible customers, each cell in the purpose's form, and nothing when any cell is denied.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"

using namespace consentry;

namespace {

Vault make_vault() {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  auto v = Vault::create_in(make_memory_store(), test::retail_policy(), "purpose dataset passphrase", o);
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  return std::move(*v);
}

}  // namespace

TEST_CASE("purpose_dataset reads the eligible customers' fields in the purpose's form") {
  Vault v = make_vault();
  REQUIRE(v.put("C-2", "email", "two@example.com").ok());
  REQUIRE(v.put("C-2", "birth_date", "1984-05-06").ok());
  REQUIRE(v.put("C-1", "email", "one@example.com").ok());  // no birth date: an empty cell
  REQUIRE(v.put("C-3", "email", "three@example.com").ok());
  // analytics rests on legitimate interest: an objection takes C-3 out.
  REQUIRE(v.record_consent("C-3", "analytics", ConsentAction::object).ok());

  const std::vector<std::string> fields{"birth_date", "email"};
  auto data = v.purpose_dataset("bi-dashboard", "analytics", fields);
  REQUIRE_MESSAGE(data.ok(), data.err().message);
  CHECK(data->source == "vault (purpose analytics)");
  CHECK(data->columns == fields);
  REQUIRE(data->rows.size() == 2);
  CHECK(data->lines == std::vector<std::size_t>{1, 2});
  CHECK(data->rows[0][0].empty());
  CHECK(data->rows[1][0] == "1984");
  for (const auto& row : data->rows) {
    CHECK(row[1].size() > 0);
    CHECK(row[1].find('@') == std::string::npos);  // a pseudonym, not the address
  }
  auto eligible = v.eligible_customers("analytics");
  REQUIRE(eligible.ok());
  CHECK(*eligible == std::vector<std::string>{"C-1", "C-2"});
}

TEST_CASE("purpose_dataset releases nothing when a field is denied for the purpose") {
  Vault v = make_vault();
  REQUIRE(v.put("C-1", "email", "one@example.com").ok());
  REQUIRE(v.put("C-1", "phone", "+44 20 7946 0000").ok());
  const std::vector<std::string> fields{"email", "phone"};
  auto data = v.purpose_dataset("bi-dashboard", "analytics", fields);
  REQUIRE(!data.ok());
  CHECK(data.err().code == errc::denied);
  CHECK(data.err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(data.err().message ==
        "field phone is denied for purpose analytics (purpose_not_allowed_for_field); nothing was released");
}

TEST_CASE("purpose_dataset refuses an accessor not registered for the purpose, and an unknown one") {
  Vault v = make_vault();
  REQUIRE(v.put("C-1", "email", "one@example.com").ok());
  const std::vector<std::string> fields{"email"};
  auto unregistered = v.purpose_dataset("support-desk", "analytics", fields);
  REQUIRE(!unregistered.ok());
  CHECK(unregistered.err().code == errc::denied);
  CHECK(unregistered.err().reason == deny_reason::accessor_not_registered);
  auto unknown = v.purpose_dataset("nobody", "analytics", fields);
  REQUIRE(!unknown.ok());
  CHECK(unknown.err().code == errc::not_found);
  auto none = v.purpose_dataset("bi-dashboard", "analytics", std::vector<std::string>{});
  REQUIRE(!none.ok());
  CHECK(none.err().code == errc::bad_input);
}

TEST_CASE("purpose_dataset leaves out a customer who objects or is erased while it reads") {
  Vault v = make_vault();
  for (const char* id : {"C-1", "C-2", "C-3", "C-4"}) REQUIRE(v.put(id, "birth_date", "1984-05-06").ok());
  const std::vector<std::string> fields{"birth_date"};
  BulkReadOptions options;
  options.batch = 1;
  // After the first customer is read (eligible_customers listed all four), C-2 objects and C-4
  // is erased: both are decided at their own read, and their rows are left out.
  options.on_batch = [&](std::int64_t done, std::int64_t) {
    if (done != 1) return;
    REQUIRE(v.record_consent("C-2", "analytics", ConsentAction::object).ok());
    REQUIRE(v.erase("C-4").ok());
  };
  auto data = v.purpose_dataset("bi-dashboard", "analytics", fields, options);
  REQUIRE_MESSAGE(data.ok(), data.err().message);
  CHECK(data->rows.size() == 2);
  CHECK(data->lines == std::vector<std::size_t>{1, 2});
  auto entries = v.audit_entries();
  REQUIRE(entries.ok());
  std::size_t reads = 0, refusals = 0;
  for (const AuditEntry& e : *entries) {
    reads += e.action == AuditAction::field_read ? 1 : 0;
    refusals += e.action == AuditAction::access_denied ? 1 : 0;
    CHECK(e.action != AuditAction::view_opened);  // one entry per customer, no view
  }
  CHECK(reads == 2);
  CHECK(refusals == 2);
}
