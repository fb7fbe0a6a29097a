// vault_inference_test.cpp: inferred data (guesses about a customer, never disclosed by them) is
// written and read only with consent to profiling, and withdrawing that consent erases it.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;

namespace {

using consentry::test::FakeClock;
using consentry::test::TempDir;

// expiring_profiling is the retail policy with consent to profiling lasting 12 months.
Policy expiring_profiling() {
  std::string text(test::kRetailPolicy);
  const std::string from = R"("description": "Predictions about you")";
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), from + R"(, "consent_valid_for": "P12M")");
  auto p = Policy::parse(text, "retail with expiring profiling");
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  return std::move(*p);
}

Vault each_store_vault(const FakeClock& clock, const TempDir& dir,
                       const Policy& policy = test::retail_policy()) {
  return test::on_each_store(dir, policy, test::kTestPassphrase,
                             test::test_vault_options(clock, AuditMode::durable, "model-v2"));
}

// read_guess reads expecting_child for profiling, as the propensity model.
result<FieldValue> read_guess(const Vault& v, const std::string& customer) {
  auto model = v.accessor("propensity-model");
  REQUIRE(model.ok());
  auto view = model->view(customer, "profiling");
  REQUIRE(view.ok());
  return view->get("expecting_child");
}

const HeldField* held(const SubjectReport& r, std::string_view field) {
  auto it =
      std::find_if(r.fields.begin(), r.fields.end(), [&](const HeldField& f) { return f.field == field; });
  return it == r.fields.end() ? nullptr : &*it;
}

}  // namespace

TEST_CASE("an inference is written and read only with consent to profiling") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "birth_date", "1990-04-02").ok());

  auto refused = v.derive("C-1", "expecting_child", "true");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::denied);
  CHECK(refused.err().reason == deny_reason::inference_needs_profiling);
  CHECK(held(*v.describe_subject("C-1"), "expecting_child") == nullptr);

  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant).ok());
  REQUIRE(v.derive("C-1", "expecting_child", "true").ok());
  auto guess = read_guess(v, "C-1");
  REQUIRE_MESSAGE(guess.ok(), guess.err().message);
  CHECK(guess->value == "true");

  // The customer's export names it as inferred, from what, and where it came from.
  auto report = v.export_subject("C-1");
  REQUIRE(report.ok());
  const HeldField* f = held(*report, "expecting_child");
  REQUIRE(f != nullptr);
  CHECK(f->inferred);
  CHECK(f->derived_from == std::vector<std::string>{"birth_date"});
  CHECK(f->source == kDerivedSource);
  CHECK(f->value == "true");
}

TEST_CASE("derive refuses fields that are not inferred, bad values, and unknown or erased customers") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant).ok());
  CHECK(v.derive("C-1", "email", "guess@example.com").err().code == errc::bad_input);
  CHECK(v.derive("C-1", "shoe_size", "42").err().code == errc::bad_input);
  auto bad = v.derive("C-1", "expecting_child", "perhaps-zq8");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
  CHECK(bad.err().message.find("perhaps-zq8") == std::string::npos);
  CHECK(v.derive("C-404", "expecting_child", "true").err().code == errc::not_found);
  REQUIRE(v.erase("C-1").ok());
  CHECK(v.derive("C-1", "expecting_child", "true").err().code == errc::erased);
}

TEST_CASE("withdrawing consent to profiling erases the inferences, and a later derive is refused") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "birth_date", "1990-04-02").ok());
  REQUIRE(v.put("C-2", "birth_date", "1985-01-01").ok());
  for (const char* c : {"C-1", "C-2"}) {
    REQUIRE(v.record_consent(c, "profiling", ConsentAction::grant).ok());
    REQUIRE(v.derive(c, "expecting_child", "false").ok());
  }

  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::withdraw).ok());
  auto report = v.describe_subject("C-1");
  REQUIRE(report.ok());
  CHECK(held(*report, "expecting_child") == nullptr);
  CHECK(held(*report, "birth_date") != nullptr);                          // what the customer disclosed stays
  CHECK(held(*v.describe_subject("C-2"), "expecting_child") != nullptr);  // another customer's stays

  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  // The staff audits above leave staff_read entries; what came before them is checked here.
  std::erase_if(*log, [](const AuditEntry& e) { return e.action == AuditAction::staff_read; });
  REQUIRE(log->size() >= 2);
  const AuditEntry& withdrawal = (*log)[log->size() - 2];
  const AuditEntry& dropped = log->back();
  CHECK(withdrawal.action == AuditAction::consent_recorded);
  CHECK(withdrawal.reason == "withdraw");
  CHECK(dropped.action == AuditAction::purge);
  CHECK(dropped.reason == "profiling_withdrawn");
  CHECK(dropped.fields == std::vector<std::string>{"expecting_child"});

  auto again = v.derive("C-1", "expecting_child", "true");
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().reason == deny_reason::inference_needs_profiling);
  auto read = read_guess(v, "C-1");
  REQUIRE_FALSE(read.ok());

  // Withdrawing with nothing inferred records only the withdrawal.
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant).ok());
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::withdraw).ok());
  auto later = v.audit_entries("C-1");
  REQUIRE(later.ok());
  CHECK(later->back().action == AuditAction::consent_recorded);
}

TEST_CASE("inferences whose profiling consent lapsed are unreadable, then purged, live ones stay") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir, expiring_profiling());
  for (const char* c : {"C-1", "C-2"}) {
    REQUIRE(v.put(c, "birth_date", "1990-04-02").ok());
    REQUIRE(v.record_consent(c, "profiling", ConsentAction::grant).ok());
    REQUIRE(v.derive(c, "expecting_child", "false").ok());
  }
  // Consent to profiling lasts 12 months here; C-2 renews theirs after 200 days.
  clock.advance(std::chrono::hours(24 * 200));
  REQUIRE(v.record_consent("C-2", "profiling", ConsentAction::grant).ok());
  CHECK(v.purge()->values == 0);
  clock.advance(std::chrono::hours(24 * 200));
  REQUIRE_FALSE(read_guess(v, "C-1").ok());
  CHECK(read_guess(v, "C-2").ok());

  auto dry = v.purge({.dry_run = true});
  REQUIRE(dry.ok());
  CHECK(dry->values == 1);
  auto done = v.purge();
  REQUIRE(done.ok());
  CHECK(done->fields == std::vector<std::pair<std::string, std::int64_t>>{{"expecting_child", 1}});
  CHECK(held(*v.describe_subject("C-1"), "expecting_child") == nullptr);
  CHECK(held(*v.describe_subject("C-1"), "birth_date") != nullptr);
  CHECK(held(*v.describe_subject("C-2"), "expecting_child") != nullptr);
  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  // The staff audits above leave staff_read entries; what came before them is checked here.
  std::erase_if(*log, [](const AuditEntry& e) { return e.action == AuditAction::staff_read; });
  CHECK(log->back().action == AuditAction::purge);
  CHECK(log->back().reason == "profiling_lapsed");
}
