// vault_eligible_test.cpp: Vault::eligible_customers lists exactly the customers with data whose
// position on a purpose lets its basis use their data now, on every store.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"
#include "support/each_store.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

using consentry::test::TempDir;

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

// Clock is the vault's clock, moved by the test.
struct Clock {
  std::shared_ptr<timestamp> t = std::make_shared<timestamp>(at(1'750'000'000));
  VaultOptions options() const {
    VaultOptions o = test::test_vault_options(AuditMode::off);
    o.clock = [t = t] { return *t; };
    return o;
  }
};

// each_store_vault runs the calling test once on each store (doctest subcases).
Vault each_store_vault(const TempDir& dir, const Clock& clock) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase, clock.options());
}

void put_data(Vault& v, const std::string& customer) {
  REQUIRE(v.put(customer, "email", customer + "@example.com").ok());
}

void consent(Vault& v, const std::string& customer, std::string_view purpose, ConsentAction action) {
  auto e = v.record_consent(customer, purpose, action);
  REQUIRE_MESSAGE(e.ok(), e.err().message);
}

std::vector<std::string> eligible(const Vault& v, std::string_view purpose) {
  auto out = v.eligible_customers(purpose);
  REQUIRE_MESSAGE(out.ok(), out.err().message);
  return std::move(*out);
}

using list = std::vector<std::string>;

}  // namespace

TEST_CASE("eligible_customers for a consent purpose lists customers with data and a live grant") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  // Written in an order unlike the sorted one, so the result's order is the vault's doing.
  for (const char* c : {"C-5", "C-2", "C-4", "C-1", "C-3", "C-6"}) put_data(v, c);
  consent(v, "C-1", "marketing.email", ConsentAction::grant);
  consent(v, "C-2", "marketing.email", ConsentAction::grant);
  consent(v, "C-2", "marketing.email", ConsentAction::withdraw);
  consent(v, "C-3", "marketing.email", ConsentAction::grant);
  consent(v, "C-3", "marketing.email", ConsentAction::withdraw);
  consent(v, "C-3", "marketing.email", ConsentAction::grant);  // re-granted after withdrawing
  consent(v, "C-4", "marketing", ConsentAction::grant);        // another purpose only
  consent(v, "C-6", "marketing.email", ConsentAction::grant);
  // Events but no data: never listed, whatever their position.
  consent(v, "C-0", "marketing.email", ConsentAction::grant);
  consent(v, "C-9", "marketing.email", ConsentAction::grant);
  CHECK(eligible(v, "marketing.email") == list{"C-1", "C-3", "C-6"});
  CHECK(eligible(v, "marketing") == list{"C-4"});
  CHECK(eligible(v, "profiling").empty());
}

TEST_CASE("eligible_customers drops a grant at the exact second it expires") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  put_data(v, "C-1");
  put_data(v, "C-2");
  const timestamp granted = *clock.t;
  consent(v, "C-1", "marketing.email", ConsentAction::grant);  // expires P24M later
  *clock.t = granted + std::chrono::seconds{1};
  consent(v, "C-2", "marketing.email", ConsentAction::grant);  // one second later
  auto history = v.consent_history("C-1");
  REQUIRE(history.ok());
  REQUIRE(history->back().expires_at.has_value());
  const timestamp expiry = *history->back().expires_at;
  CHECK(expiry > granted);

  *clock.t = expiry - std::chrono::seconds{1};
  CHECK(eligible(v, "marketing.email") == list{"C-1", "C-2"});
  *clock.t = expiry;
  CHECK(eligible(v, "marketing.email") == list{"C-2"});
  *clock.t = expiry + std::chrono::seconds{1};
  CHECK(eligible(v, "marketing.email").empty());
  // A fresh grant after expiry makes the customer eligible again.
  consent(v, "C-1", "marketing.email", ConsentAction::grant);
  CHECK(eligible(v, "marketing.email") == list{"C-1"});
}

TEST_CASE("eligible_customers for legitimate interest lists every customer with data who did not object") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  for (const char* c : {"C-3", "C-1", "C-2", "C-4"}) put_data(v, c);
  consent(v, "C-2", "analytics", ConsentAction::object);
  consent(v, "C-3", "research", ConsentAction::object);   // another purpose
  consent(v, "C-0", "analytics", ConsentAction::object);  // no data
  consent(v, "C-9", "research", ConsentAction::object);   // no data, another purpose
  CHECK(eligible(v, "analytics") == list{"C-1", "C-3", "C-4"});
  CHECK(eligible(v, "research") == list{"C-1", "C-2", "C-4"});
}

TEST_CASE("eligible_customers for a contract purpose lists every customer with data") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  for (const char* c : {"C-2", "C-1"}) put_data(v, c);
  consent(v, "C-0", "marketing.email", ConsentAction::grant);  // no data
  CHECK(eligible(v, "service") == list{"C-1", "C-2"});
}

TEST_CASE("eligible_customers never lists an erased customer") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  for (const char* c : {"C-1", "C-2", "C-3"}) {
    put_data(v, c);
    consent(v, c, "marketing.email", ConsentAction::grant);
  }
  consent(v, "C-4", "marketing.email", ConsentAction::grant);  // events only
  REQUIRE(v.erase("C-2").ok());
  REQUIRE(v.erase("C-4").ok());
  CHECK(eligible(v, "marketing.email") == list{"C-1", "C-3"});
  CHECK(eligible(v, "analytics") == list{"C-1", "C-3"});
  CHECK(eligible(v, "service") == list{"C-1", "C-3"});
}

TEST_CASE("eligible_customers refuses an undeclared purpose as bad input") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  put_data(v, "C-1");
  auto out = v.eligible_customers("marketing.sms");
  REQUIRE_FALSE(out.ok());
  CHECK(out.err().code == errc::bad_input);
  CHECK(out.err().message.find("marketing.sms") != std::string::npos);
}

TEST_CASE("eligible_customers agrees with each customer's consent state over many customers") {
  TempDir dir;
  Clock clock;
  Vault v = each_store_vault(dir, clock);
  // Customers with data, with events only, and with both, in a scrambled order, with histories
  // of every shape; the expectation is derived customer by customer from consent_state.
  std::vector<std::string> ids;
  std::uint32_t seed = 7;
  auto next = [&seed] {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % 1000u;
  };
  for (int i = 0; i < 120; ++i) ids.push_back("C-" + std::to_string(1000 + (i * 37) % 120));
  for (const std::string& c : ids) {
    const unsigned shape = next();
    if (shape % 5 != 0) put_data(v, c);
    const unsigned events = next() % 4;
    for (unsigned e = 0; e < events; ++e) {
      if (next() % 2 == 0)
        consent(v, c, "marketing.email", next() % 3 == 0 ? ConsentAction::withdraw : ConsentAction::grant);
      else
        consent(v, c, "analytics", ConsentAction::object);
    }
  }
  auto customers = v.customers();
  REQUIRE(customers.ok());
  const Policy policy = test::retail_policy();
  for (std::string_view purpose : {"marketing.email", "analytics"}) {
    const Purpose* p = policy.purpose(purpose);
    REQUIRE(p != nullptr);
    list expected;
    for (const std::string& c : *customers) {
      auto state = v.consent_state(c);
      REQUIRE(state.ok());
      if (basis_allows(p->basis, state->status(purpose, *clock.t), Form{}).allowed) expected.push_back(c);
    }
    CAPTURE(purpose);
    CHECK(eligible(v, purpose) == expected);
    CHECK_FALSE(expected.empty());
  }
}
