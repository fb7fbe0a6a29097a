// vault_contact_test.cpp: contacts are refused without consent, after an opt-out of the channel,
// and over the policy's or the customer's own limit in a sliding window; every contact and
// refusal is audited, shown in the customer's export, and erased with the customer.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using namespace std::chrono_literals;

namespace {

constexpr auto kDay = std::chrono::seconds(24 * 3600);

using consentry::test::FakeClock;
using consentry::test::TempDir;

Vault each_store_vault(const FakeClock& clock, const TempDir& dir) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(clock, AuditMode::durable, "campaign-runner"));
}

// refusal gives "" for a recorded contact, else the reason it was refused for.
std::string refusal(Vault& v, const std::string& customer, const std::string& channel,
                    const std::string& purpose = "marketing.email") {
  auto r = v.record_contact(customer, channel, purpose);
  if (r) return "";
  REQUIRE(r.err().code == errc::denied);
  return std::string(to_string(r.err().reason));
}

void customer_with_consent(Vault& v, const std::string& customer) {
  REQUIRE(v.put(customer, "email", "ann@example.com").ok());
  REQUIRE(v.record_consent(customer, "marketing.email", ConsentAction::grant).ok());
}

}  // namespace

TEST_CASE("the policy's limit counts contacts in a sliding window: at the limit, one past, rolled over") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  customer_with_consent(v, "C-1");
  // The retail policy allows 2 marketing.email contacts per P7D.
  const timestamp first = *clock.t;
  CHECK(refusal(v, "C-1", "email") == "");
  clock.advance(kDay);
  CHECK(refusal(v, "C-1", "sms") == "");  // exactly at the limit; any channel counts
  clock.advance(kDay);
  CHECK(refusal(v, "C-1", "email") == "contact_limit");  // one past
  clock.advance(std::chrono::duration_cast<std::chrono::seconds>(first + 7 * kDay - 1s - *clock.t));
  CHECK(refusal(v, "C-1", "email") == "contact_limit");  // one second before the first rolls out
  clock.advance(1s);
  CHECK(refusal(v, "C-1", "email") == "");  // the first contact left the window (now - P7D, now]
  CHECK(refusal(v, "C-1", "email") == "contact_limit");
  // Another purpose has no limit, and other customers have their own count.
  CHECK(refusal(v, "C-1", "phone", "service") == "");
  CHECK(refusal(v, "C-1", "phone", "service") == "");
  customer_with_consent(v, "C-2");
  CHECK(refusal(v, "C-2", "email") == "");

  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  const auto count = [&](AuditAction a, std::string_view reason) {
    return std::count_if(log->begin(), log->end(), [&](const AuditEntry& e) {
      return e.action == a && (reason.empty() || e.reason == reason);
    });
  };
  CHECK(count(AuditAction::contact_made, "") == 5);
  CHECK(count(AuditAction::access_denied, "contact_limit") == 3);
  auto made = std::find_if(log->begin(), log->end(),
                           [](const AuditEntry& e) { return e.action == AuditAction::contact_made; });
  REQUIRE(made != log->end());
  CHECK(made->purpose == "marketing.email");
  CHECK(made->fields == std::vector<std::string>{"email"});
  CHECK(made->accessor == "campaign-runner");
}

TEST_CASE("a contact needs live consent, and no objection, for its purpose") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  CHECK(refusal(v, "C-1", "email") == "no_consent");
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::grant).ok());
  CHECK(refusal(v, "C-1", "email") == "");
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::withdraw).ok());
  CHECK(refusal(v, "C-1", "email") == "no_consent");
  CHECK(refusal(v, "C-1", "email", "research") == "");  // legitimate interest ...
  REQUIRE(v.record_consent("C-1", "research", ConsentAction::object).ok());
  CHECK(refusal(v, "C-1", "email", "research") == "no_consent");  // ... until the customer objects
}

TEST_CASE("the customer's own limit wins when it is stricter, and cannot loosen the policy's") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  customer_with_consent(v, "C-1");
  customer_with_consent(v, "C-2");
  REQUIRE(v.limit_contacts("C-1", "marketing.email", 1, *parse_iso_duration("P30D")).ok());
  CHECK(refusal(v, "C-1", "email") == "");
  clock.advance(10 * kDay);
  CHECK(refusal(v, "C-1", "email") == "contact_limit");  // the policy would allow this one
  clock.advance(20 * kDay);
  CHECK(refusal(v, "C-1", "email") == "");

  REQUIRE(v.limit_contacts("C-2", "marketing.email", 10, *parse_iso_duration("P1D")).ok());
  CHECK(refusal(v, "C-2", "email") == "");
  CHECK(refusal(v, "C-2", "email") == "");
  CHECK(refusal(v, "C-2", "email") == "contact_limit");  // the policy's 2 per week still holds

  // Zero means no contact at all for that purpose; a later limit replaces it.
  customer_with_consent(v, "C-3");
  REQUIRE(v.limit_contacts("C-3", "marketing.email", 0, *parse_iso_duration("P1Y")).ok());
  CHECK(refusal(v, "C-3", "email") == "contact_limit");
  REQUIRE(v.limit_contacts("C-3", "marketing.email", 1, *parse_iso_duration("P1D")).ok());
  CHECK(refusal(v, "C-3", "email") == "");
}

TEST_CASE("an opt-out of a channel refuses contacts on it until the customer opts in again") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  customer_with_consent(v, "C-1");
  REQUIRE(v.opt_out_of_channel("C-1", "sms").ok());
  CHECK(refusal(v, "C-1", "sms") == "no_consent");
  CHECK(refusal(v, "C-1", "phone", "service") == "");
  CHECK(refusal(v, "C-1", "sms", "service") == "no_consent");  // whatever the purpose
  CHECK(refusal(v, "C-1", "email") == "");
  REQUIRE(v.opt_out_of_channel("C-1", "sms", false).ok());
  CHECK(refusal(v, "C-1", "sms") == "");
}

TEST_CASE("contacts and preferences refuse bad input, unknown and erased customers") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  customer_with_consent(v, "C-1");
  CHECK(v.record_contact("C-1", "email", "no.such.purpose").err().code == errc::bad_input);
  CHECK(v.record_contact("C-1", "", "marketing.email").err().code == errc::invalid_argument);
  CHECK(v.record_contact("C-404", "email", "marketing.email").err().code == errc::not_found);
  CHECK(v.limit_contacts("C-1", "marketing.email", -1, *parse_iso_duration("P7D")).err().code ==
        errc::bad_input);
  CHECK(v.limit_contacts("C-1", "marketing.email", 1, *parse_iso_duration("P0D")).err().code ==
        errc::bad_input);
  CHECK(v.limit_contacts("C-1", "nope", 1, *parse_iso_duration("P7D")).err().code == errc::bad_input);
  CHECK(v.limit_contacts("C-404", "marketing.email", 1, *parse_iso_duration("P7D")).err().code ==
        errc::not_found);
  CHECK(v.opt_out_of_channel("C-404", "sms").err().code == errc::not_found);
  CHECK(v.opt_out_of_channel("C-1", "").err().code == errc::invalid_argument);
  REQUIRE(v.erase("C-1").ok());
  CHECK(v.record_contact("C-1", "email", "marketing.email").err().code == errc::erased);
  CHECK(v.opt_out_of_channel("C-1", "sms").err().code == errc::erased);
}

TEST_CASE("the export shows contacts and preferences, and erasure deletes them") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  customer_with_consent(v, "C-1");
  REQUIRE(v.record_contact("C-1", "email", "marketing.email").ok());
  REQUIRE(v.limit_contacts("C-1", "marketing.email", 1, *parse_iso_duration("P30D")).ok());
  REQUIRE(v.opt_out_of_channel("C-1", "sms").ok());
  auto report = v.export_subject("C-1");
  REQUIRE(report.ok());
  REQUIRE(report->contacts.size() == 1);
  CHECK(report->contacts[0].channel == "email");
  CHECK(report->contacts[0].purpose == "marketing.email");
  CHECK(report->contacts[0].at == *clock.t);
  REQUIRE(report->contact_preferences.size() == 2);
  CHECK(report->contact_preferences[0].kind == ContactPreferenceKind::limit);
  CHECK(report->contact_preferences[0].max == 1);
  CHECK(report->contact_preferences[0].per.to_string() == "P30D");
  CHECK(report->contact_preferences[1].kind == ContactPreferenceKind::opt_out);
  CHECK(report->contact_preferences[1].channel == "sms");
  REQUIRE(v.erase("C-1").ok());
}

TEST_CASE("erasure leaves no contact or preference row of the customer in the vault file") {
  TempDir dir;
  FakeClock clock;
  const VaultOptions o = test::test_vault_options(clock);
  const auto file = dir.path() / "crm.vault";
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase, o);
    REQUIRE(v.ok());
    customer_with_consent(*v, "C-1");
    customer_with_consent(*v, "C-2");
    for (const char* c : {"C-1", "C-2"}) {
      REQUIRE(v->record_contact(c, "email", "marketing.email").ok());
      REQUIRE(v->opt_out_of_channel(c, "sms").ok());
    }
    REQUIRE(v->erase("C-1").ok());
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  auto count = [&](const char* sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const auto n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
  };
  CHECK(count("SELECT COUNT(*) FROM contacts WHERE customer = 'C-1'") == 0);
  CHECK(count("SELECT COUNT(*) FROM contact_preferences WHERE customer = 'C-1'") == 0);
  CHECK(count("SELECT COUNT(*) FROM contacts WHERE customer = 'C-2'") == 1);
  CHECK(count("SELECT COUNT(*) FROM contact_preferences WHERE customer = 'C-2'") == 1);
  sqlite3_close(db);
}
