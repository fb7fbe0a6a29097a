// vault_policy_update_test.cpp: Vault::update_policy keeps every version of the policy, applies a
// change at once (to views already open too), refuses a change that stored values no longer fit
// unless asked to purge them, audits each change, and opens vaults written before versions.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::kRetailPolicy;
using consentry::test::must;
using consentry::test::retail_policy;
using consentry::test::TempDir;

namespace {

constexpr std::string_view kActor = "policy-admin";

// edited is the retail policy with `what` (which must occur once) replaced by `with`.
Policy edited(std::string_view what, std::string_view with) {
  std::string text(kRetailPolicy);
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(what, at + 1) == std::string::npos);
  text.replace(at, what.size(), with);
  return must(Policy::parse(text, "edited"));
}

Policy with_shoe_size() {
  return edited(R"({"name": "notes")", R"({"name": "shoe_size", "type": "integer", "category": "preference",
     "access": {"service": "clear"}},
    {"name": "notes")");
}

Policy without_notes() {
  return edited(R"(,
    {"name": "notes", "type": "string", "category": "service", "access": {"service": "redact"}})",
                "");
}

std::vector<AuditEntry> entries_of(const Vault& v, AuditAction action) {
  std::vector<AuditEntry> out;
  for (AuditEntry& e : must(v.audit_entries()))
    if (e.action == action) out.push_back(std::move(e));
  return out;
}

}  // namespace

TEST_CASE("a new vault's policy is version 1, with its hash, time and actor") {
  TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase,
                                test::test_vault_options(clock, AuditMode::durable, kActor));
  CHECK(v.policy_version() == 1);
  const auto versions = must(v.policy_versions());
  REQUIRE(versions.size() == 1);
  CHECK(versions[0].number == 1);
  CHECK(versions[0].hash.size() == 64);
  CHECK(versions[0].at == clock.fn()());
  CHECK(versions[0].actor == kActor);
  CHECK(must(v.policy_at(1)).to_json() == retail_policy().to_json());
  CHECK(v.policy_at(2).err().code == errc::not_found);
  CHECK(v.policy_at(0).err().code == errc::not_found);
}

TEST_CASE("adding a field, a purpose and an accessor applies at once, as version 2, audited") {
  TempDir dir;
  test::FakeClock clock;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase,
                                test::test_vault_options(clock, AuditMode::durable, kActor));
  CHECK(v.put("c1", "shoe_size", "42").err().code == errc::bad_input);
  CHECK(v.accessor("auditor").err().code == errc::not_found);
  const Policy wider = [&] {
    Policy p = with_shoe_size();
    std::string t = p.to_json();
    const std::string accessors = R"("accessors": [)";
    t.insert(t.find(accessors) + accessors.size(), R"({"id": "auditor", "purposes": ["service"]},)");
    return must(Policy::parse(t, "wider"));
  }();
  clock.advance(std::chrono::hours(1));
  const PolicyUpdate u = must(v.update_policy(wider));
  CHECK(u.changed);
  CHECK(u.version.number == 2);
  CHECK(u.version.actor == kActor);
  CHECK(u.version.at == clock.fn()());
  CHECK(u.values_purged == 0);
  CHECK(v.policy_version() == 2);
  CHECK(v.policy().to_json() == wider.to_json());
  must(v.put("c1", "shoe_size", "42"));
  auto auditor = must(v.accessor("auditor"));
  auto view = must(auditor.view("c1", "service"));
  CHECK(must(view.get("shoe_size")).value == "42");

  const auto versions = must(v.policy_versions());
  REQUIRE(versions.size() == 2);
  CHECK(versions[1].hash == u.version.hash);
  CHECK(versions[0].hash != versions[1].hash);
  CHECK(must(v.policy_at(1)).to_json() == retail_policy().to_json());
  CHECK(must(v.policy_at(2)).to_json() == wider.to_json());

  const auto changes = entries_of(v, AuditAction::policy_change);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].reason == policy_version_reason(2));
  CHECK(changes[0].accessor == kActor);
  CHECK(changes[0].customer.empty());
  CHECK(changes[0].fields.size() == u.diff.changes.size());
  CHECK(must(v.verify_audit()).ok);
}

TEST_CASE("the same policy again changes nothing") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  const PolicyUpdate u = must(v.update_policy(retail_policy()));
  CHECK_FALSE(u.changed);
  CHECK(u.diff.empty());
  CHECK(u.version.number == 1);
  CHECK(v.policy_version() == 1);
  CHECK(entries_of(v, AuditAction::policy_change).empty());
}

TEST_CASE("a tightening applies to a view opened before it") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("c1", "email", "ada@example.com"));
  must(v.put("c1", "birth_date", "1989-10-27"));
  auto bi = must(v.accessor("bi-dashboard"));
  auto view = must(bi.view("c1", "analytics"));
  CHECK(must(view.get("birth_date")).value == "1989");
  CHECK(view.get("email").ok());

  // email is no longer seen by analytics; birth_date only by its decade.
  Policy tighter = [&] {
    std::string t(kRetailPolicy);
    auto replace = [&](std::string_view what, std::string_view with) {
      const auto at = t.find(what);
      REQUIRE(at != std::string::npos);
      t.replace(at, what.size(), with);
    };
    replace(R"("analytics": "pseudonym",)", "");
    replace(R"("analytics": "generalise:year")", R"("analytics": "generalise:decade")");
    return must(Policy::parse(t, "tighter"));
  }();
  const PolicyUpdate u = must(v.update_policy(tighter));
  CHECK(u.diff.of_effect(ChangeEffect::widening).empty());
  CHECK(u.diff.of_effect(ChangeEffect::tightening).size() == 2);

  auto email = view.get("email");
  REQUIRE_FALSE(email.ok());
  CHECK(email.err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(must(view.get("birth_date")).value == "1980s");
}

TEST_CASE("removing an accessor's purpose refuses its views at once") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("c1", "email", "ada@example.com"));
  auto bi = must(v.accessor("bi-dashboard"));
  must(v.update_policy(edited(R"("purposes": ["analytics", "research"])", R"("purposes": ["analytics"])")));
  auto refused = bi.view("c1", "research");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().reason == deny_reason::accessor_not_registered);
}

TEST_CASE("removing a field that holds values is refused unless its values are purged") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase,
                                test::test_vault_options(AuditMode::durable, kActor));
  for (const char* c : {"c1", "c2", "c3"}) must(v.put(c, "notes", "called about a refund"));
  must(v.put("c1", "email", "ada@example.com"));

  auto refused = v.update_policy(without_notes());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::invalid_argument);
  CHECK(refused.err().message.find("'notes' (3 customers)") != std::string::npos);
  CHECK(refused.err().message.find("purge_removed") != std::string::npos);
  CHECK(refused.err().message.find("refund") == std::string::npos);
  CHECK(v.policy_version() == 1);
  CHECK(entries_of(v, AuditAction::policy_change).empty());

  PolicyUpdateOptions o;
  o.purge_removed = true;
  o.batch = 2;  // two batches
  const PolicyUpdate u = must(v.update_policy(without_notes(), o));
  CHECK(u.values_purged == 3);
  CHECK(u.version.number == 2);
  const auto purges = entries_of(v, AuditAction::purge);
  REQUIRE(purges.size() == 3);
  for (const AuditEntry& e : purges) {
    CHECK(e.reason == to_string(PurgeReason::policy_field_removed));
    CHECK(e.fields == std::vector<std::string>{"notes"});
    CHECK(e.accessor == kActor);
  }
  // The customer's other values are still listed and read.
  auto desk = must(v.accessor("support-desk"));
  CHECK(must(must(desk.view("c1", "service")).get("email")).value == "ada@example.com");
  CHECK(must(v.verify_audit()).ok);
}

TEST_CASE("removing a field that holds no value applies at once") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("c1", "email", "ada@example.com"));
  const PolicyUpdate u = must(v.update_policy(without_notes()));
  CHECK(u.changed);
  CHECK(v.policy().field("notes") == nullptr);
}

TEST_CASE("changing the type of a field that holds values is refused unless they are purged") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("c1", "phone", "+44 20 7946 0000"));
  const Policy retyped =
      edited(R"("name": "phone", "type": "phone")", R"("name": "phone", "type": "string")");
  auto refused = v.update_policy(retyped);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::invalid_argument);
  CHECK(refused.err().message.find("'phone'") != std::string::npos);
  PolicyUpdateOptions o;
  o.purge_removed = true;
  CHECK(must(v.update_policy(retyped, o)).values_purged == 1);
  must(v.put("c1", "phone", "ask for Ada"));
}

TEST_CASE("policy versions persist when the vault is opened again") {
  TempDir dir;
  const auto file = dir.path() / "crm.vault";
  {
    Vault v = must(Vault::create(file, retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    must(v.update_policy(with_shoe_size()));
    must(v.update_policy(without_notes()));
  }
  Vault v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
  CHECK(v.policy_version() == 3);
  CHECK(v.policy().to_json() == without_notes().to_json());
  const auto versions = must(v.policy_versions());
  REQUIRE(versions.size() == 3);
  CHECK(must(v.policy_at(2)).to_json() == with_shoe_size().to_json());
  CHECK(must(v.policy_at(1)).to_json() == retail_policy().to_json());
}

TEST_CASE("another vault on the file that changed the policy makes an update refuse") {
  TempDir dir;
  const auto file = dir.path() / "crm.vault";
  Vault a = must(Vault::create(file, retail_policy(), test::kTestPassphrase, test::test_vault_options()));
  Vault b = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
  must(a.update_policy(with_shoe_size()));
  auto refused = b.update_policy(without_notes());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().message.find("changed elsewhere") != std::string::npos);
}

TEST_CASE("a vault written before policy versions opens as version 1 and can be updated") {
  TempDir dir;
  const auto file = dir.path() / "v1.vault";
  std::filesystem::copy_file(std::filesystem::path(CONSENTRY_TEST_DATA) / "legacy" / "v1.vault", file);
  VaultOptions options;
  options.kdf = KdfStrength::minimum;
  std::string original;
  {
    Vault v = must(Vault::open(file, "legacy-vault-passphrase", options));
    CHECK(v.policy_version() == 1);
    const auto versions = must(v.policy_versions());
    REQUIRE(versions.size() == 1);
    CHECK_FALSE(versions[0].at.has_value());
    CHECK(versions[0].actor.empty());
    original = v.policy().to_json();
    CHECK(must(v.policy_at(1)).to_json() == original);
    // A purpose added: applies at once.
    std::string text = original;
    const std::string purposes = R"("purposes": [)";
    text.insert(text.find(purposes) + purposes.size(), R"({"id": "surveys", "basis": "consent"},)");
    must(v.update_policy(must(Policy::parse(text, "legacy+surveys"))));
    CHECK(v.policy().purpose("surveys") != nullptr);
  }
  Vault v = must(Vault::open(file, "legacy-vault-passphrase", options));
  CHECK(v.policy_version() == 2);
  const auto versions = must(v.policy_versions());
  REQUIRE(versions.size() == 2);
  CHECK_FALSE(versions[0].at.has_value());
  CHECK(versions[1].at.has_value());
  CHECK(must(v.policy_at(1)).to_json() == original);
  CHECK(must(v.verify_audit()).ok);
}

TEST_CASE("decide calls a grant under an older version outdated only for the purposes renewal names") {
  const Policy policy = retail_policy();
  ConsentEvent grant;
  grant.purpose = "marketing.email";
  grant.policy_version = 1;
  const ConsentState state = ConsentState::from_history({grant});
  ConsentRenewal renewal;
  renewal.add("marketing.email", 2);
  const timestamp now = consentry::now();
  CHECK(decide(policy, state, "email-campaigns", "marketing.email", "email", now).allowed);
  CHECK(decide(policy, state, "email-campaigns", "marketing.email", "email", now, &renewal).reason ==
        deny_reason::consent_outdated);
  ConsentEvent again = grant;
  again.policy_version = 2;
  CHECK(decide(policy, ConsentState::from_history({grant, again}), "email-campaigns", "marketing.email",
               "email", now, &renewal)
            .allowed);
  // A purpose on another basis is never outdated.
  CHECK(decide(policy, state, "bi-dashboard", "analytics", "email", now, &renewal).allowed);
  CHECK(parse_deny_reason("consent_outdated") == deny_reason::consent_outdated);
}

TEST_CASE("widening a consent-based purpose outdates earlier grants until the customer grants again") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("c1", "email", "ada@example.com"));
  must(v.put("c1", "phone", "+442079460958"));
  must(v.put("c2", "email", "bob@example.com"));
  must(v.record_consent("c1", "marketing.email", ConsentAction::grant));
  must(v.record_consent("c2", "marketing.email", ConsentAction::grant));
  CHECK(must(v.consent_history("c1")).back().policy_version == 1);
  auto campaigns = must(v.accessor("email-campaigns"));
  auto view = must(campaigns.view("c1", "marketing.email"));
  CHECK(must(view.get("email")).value == "ada@example.com");

  // marketing.email now also sees the phone (a new use), and analytics the phone (another basis).
  const Policy wider = edited(R"("access": {"service": "mask:last4"})",
                              R"("access": {"service": "mask:last4", "marketing.email": "mask:last4",
                 "analytics": "pseudonym"})");
  const PolicyUpdate u = must(v.update_policy(wider));
  CHECK(u.diff.consent_to_renew() == std::vector<std::string>{"marketing.email"});

  // The view opened before the change: the grant no longer covers what the purpose uses.
  auto email = view.get("email");
  REQUIRE_FALSE(email.ok());
  CHECK(email.err().reason == deny_reason::consent_outdated);
  CHECK(must(v.eligible_customers("marketing.email")).empty());
  // Another basis applies at once.
  auto bi = must(v.accessor("bi-dashboard"));
  CHECK(must(bi.view("c1", "analytics")).get("phone").ok());

  // Granting again, under version 2, renews it for c1 only.
  const ConsentEvent renewed = must(v.record_consent("c1", "marketing.email", ConsentAction::grant));
  CHECK(renewed.policy_version == 2);
  CHECK(must(view.get("email")).value == "ada@example.com");
  CHECK(must(view.get("phone")).value == "*********0958");
  CHECK(must(v.eligible_customers("marketing.email")) == std::vector<std::string>{"c1"});
  auto c2 = must(campaigns.view("c2", "marketing.email")).get("email");
  REQUIRE_FALSE(c2.ok());
  CHECK(c2.err().reason == deny_reason::consent_outdated);

  // A tightening later keeps the requirement: c2 still needs to grant again.
  must(v.update_policy(retail_policy()));
  CHECK(must(campaigns.view("c2", "marketing.email")).get("email").err().reason ==
        deny_reason::consent_outdated);
}

TEST_CASE("consents outdated by a widening stay outdated when the vault is opened again") {
  TempDir dir;
  const auto file = dir.path() / "crm.vault";
  {
    Vault v = must(Vault::create(file, retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    must(v.put("c1", "email", "ada@example.com"));
    must(v.record_consent("c1", "marketing.email", ConsentAction::grant));
    must(v.update_policy(edited(R"("retention": "P3Y")", R"("retention": "P5Y")")));
  }
  Vault v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
  auto campaigns = must(v.accessor("email-campaigns"));
  CHECK(must(campaigns.view("c1", "marketing.email")).get("email").err().reason ==
        deny_reason::consent_outdated);
  CHECK(must(v.consent_history("c1")).back().policy_version == 1);
  must(v.record_consent("c1", "marketing.email", ConsentAction::grant));
  CHECK(must(v.consent_history("c1")).back().policy_version == 2);
  CHECK(must(campaigns.view("c1", "marketing.email")).get("email").ok());
}

TEST_CASE("consent events of a vault written before policy versions read as recorded under none") {
  TempDir dir;
  const auto file = dir.path() / "v1.vault";
  std::filesystem::copy_file(std::filesystem::path(CONSENTRY_TEST_DATA) / "legacy" / "v1.vault", file);
  VaultOptions options;
  options.kdf = KdfStrength::minimum;
  Vault v = must(Vault::open(file, "legacy-vault-passphrase", options));
  bool any = false;
  for (const std::string& c : must(v.customers())) {
    auto history = v.consent_history(c);
    if (!history) continue;
    for (const ConsentEvent& e : *history) {
      CHECK(e.policy_version == 0);
      any = true;
    }
  }
  CHECK(any);
}
