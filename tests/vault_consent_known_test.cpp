// vault_consent_known_test.cpp: ConsentDetails::require_known, which has record_consent refuse a
// customer the vault holds neither data nor consent events for, instead of starting their ledger.
#include <doctest/doctest.h>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/vault_options.hpp"

using namespace consentry;

TEST_CASE("record_consent with require_known refuses an unknown customer with not_found, records nothing") {
  auto v = Vault::create_in(make_memory_store(), test::retail_policy(), test::kTestPassphrase,
                            test::test_vault_options());
  REQUIRE(v.ok());
  ConsentDetails known_only;
  known_only.require_known = true;
  for (ConsentAction action : {ConsentAction::grant, ConsentAction::withdraw}) {
    auto refused = v->record_consent("C-404", "marketing.email", action, known_only);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::not_found);
    CHECK(refused.err().message.find("C-404") == std::string::npos);
  }
  auto refused = v->record_consent("C-404", "analytics", ConsentAction::object, known_only);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::not_found);
  CHECK_FALSE(*v->contains("C-404"));

  // A customer with data, or with consent events, is known.
  REQUIRE(v->put("C-1", "email", "ann@example.com").ok());
  CHECK(v->record_consent("C-1", "marketing.email", ConsentAction::grant, known_only).ok());
  // Without require_known (the default) the event is recorded and makes the customer known.
  CHECK(v->record_consent("C-2", "marketing.email", ConsentAction::grant).ok());
  CHECK(v->record_consent("C-2", "marketing.email", ConsentAction::withdraw, known_only).ok());
  CHECK(v->consent_history("C-2")->size() == 2);

  // An erased customer is still reported as erased.
  REQUIRE(v->erase("C-1").ok());
  CHECK(v->record_consent("C-1", "marketing.email", ConsentAction::grant, known_only).err().code ==
        errc::erased);
}
