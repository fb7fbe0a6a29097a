// vault_policy_follow_test.cpp: a policy update committed by one vault applies at once to
// another vault open on the same file (another connection, as another process would hold):
// to its views already open, its eligible customers and its writes, and the version it reports
// follows.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
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

// edit replaces `what` (which must occur once) in `text` with `with`.
void edit(std::string& text, std::string_view what, std::string_view with) {
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(what, at + 1) == std::string::npos);
  text.replace(at, what.size(), with);
}

Policy parsed(const std::string& text) {
  return must(Policy::parse(text, "edited"));
}

// TwoVaults are two vaults open on one SQLite file: `a` changes the policy, `b` reads.
struct TwoVaults {
  TempDir dir;
  std::filesystem::path file = dir.path() / "crm.vault";
  Vault a = must(Vault::create(file, retail_policy(), test::kTestPassphrase, test::test_vault_options()));
  Vault b = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
};

}  // namespace

TEST_CASE("a tightening committed by another vault applies to a view already open") {
  TwoVaults t;
  must(t.a.put("c1", "email", "ada@example.com"));
  must(t.a.put("c1", "birth_date", "1989-10-27"));
  auto bi = must(t.b.accessor("bi-dashboard"));
  auto view = must(bi.view("c1", "analytics"));
  CHECK(must(view.get("birth_date")).value == "1989");
  CHECK(view.get("email").ok());
  CHECK(t.b.policy_version() == 1);

  // email is no longer seen by analytics; birth_date only by its decade.
  std::string text(kRetailPolicy);
  edit(text, R"("analytics": "pseudonym",)", "");
  edit(text, R"("analytics": "generalise:year")", R"("analytics": "generalise:decade")");
  must(t.a.update_policy(parsed(text)));

  auto email = view.get("email");
  REQUIRE_FALSE(email.ok());
  CHECK(email.err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(must(view.get("birth_date")).value == "1980s");
  CHECK(t.b.policy_version() == 2);
  CHECK(t.b.policy().to_json() == parsed(text).to_json());
}

TEST_CASE("an accessor's purpose removed by another vault refuses views and reads at once") {
  TwoVaults t;
  must(t.a.put("c1", "email", "ada@example.com"));
  auto bi = must(t.b.accessor("bi-dashboard"));
  auto view = must(bi.view("c1", "research"));
  CHECK(view.get("email").ok());

  std::string text(kRetailPolicy);
  edit(text, R"("purposes": ["analytics", "research"])", R"("purposes": ["analytics"])");
  must(t.a.update_policy(parsed(text)));

  auto read = view.get("email");
  REQUIRE_FALSE(read.ok());
  CHECK(read.err().reason == deny_reason::accessor_not_registered);
  auto refused = bi.view("c1", "research");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().reason == deny_reason::accessor_not_registered);
  CHECK(t.b.policy_version() == 2);
}

TEST_CASE("a purpose removed by another vault is refused at once, eligibility included") {
  TwoVaults t;
  must(t.a.put("c1", "email", "ada@example.com"));
  auto bi = must(t.b.accessor("bi-dashboard"));
  auto view = must(bi.view("c1", "research"));
  CHECK(view.get("email").ok());
  CHECK(must(t.b.eligible_customers("research")) == std::vector<std::string>{"c1"});

  std::string text(kRetailPolicy);
  edit(text, R"(
    {"id": "research", "basis": "legitimate_interest", "description": "Product research"},)",
       "");
  edit(text, R"("purposes": ["analytics", "research"])", R"("purposes": ["analytics"])");
  edit(text, R"("analytics": "pseudonym",
                "research": "pseudonym"})",
       R"("analytics": "pseudonym"})");
  must(t.a.update_policy(parsed(text)));

  auto read = view.get("email");
  REQUIRE_FALSE(read.ok());
  CHECK(read.err().code == errc::denied);
  auto eligible = t.b.eligible_customers("research");
  REQUIRE_FALSE(eligible.ok());
  CHECK(eligible.err().code == errc::bad_input);
  CHECK(t.b.policy_version() == 2);
}

TEST_CASE("a consent-based purpose widened by another vault reads as consent_outdated") {
  TwoVaults t;
  must(t.b.put("c1", "email", "ada@example.com"));
  must(t.b.put("c1", "phone", "+442079460958"));
  must(t.b.record_consent("c1", "marketing.email", ConsentAction::grant));
  auto campaigns = must(t.b.accessor("email-campaigns"));
  auto view = must(campaigns.view("c1", "marketing.email"));
  CHECK(must(view.get("email")).value == "ada@example.com");
  CHECK(must(t.b.eligible_customers("marketing.email")) == std::vector<std::string>{"c1"});

  std::string text(kRetailPolicy);
  edit(text, R"("access": {"service": "mask:last4"})",
       R"("access": {"service": "mask:last4", "marketing.email": "mask:last4"})");
  must(t.a.update_policy(parsed(text)));

  auto email = view.get("email");
  REQUIRE_FALSE(email.ok());
  CHECK(email.err().reason == deny_reason::consent_outdated);
  CHECK(must(t.b.eligible_customers("marketing.email")).empty());
  CHECK(t.b.policy_version() == 2);

  // A grant recorded through b is recorded under the version in force, and renews the consent.
  const ConsentEvent renewed = must(t.b.record_consent("c1", "marketing.email", ConsentAction::grant));
  CHECK(renewed.policy_version == 2);
  CHECK(must(view.get("email")).value == "ada@example.com");
  CHECK(must(view.get("phone")).value == "*********0958");
}

TEST_CASE("a field added by another vault can be written and read through the other at once") {
  TwoVaults t;
  std::string text(kRetailPolicy);
  edit(text, R"({"name": "notes")", R"({"name": "shoe_size", "type": "integer", "category": "preference",
     "access": {"service": "clear"}},
    {"name": "notes")");
  auto support = must(t.b.accessor("support-desk"));
  must(t.a.update_policy(parsed(text)));
  must(t.b.put("c1", "shoe_size", "42"));
  CHECK(must(must(support.view("c1", "service")).get("shoe_size")).value == "42");
}

TEST_CASE("a vault that followed another's update can update the policy again") {
  TwoVaults t;
  std::string text(kRetailPolicy);
  edit(text, R"("purposes": ["analytics", "research"])", R"("purposes": ["analytics"])");
  must(t.a.update_policy(parsed(text)));
  CHECK(t.b.policy_version() == 2);
  const PolicyUpdate back = must(t.b.update_policy(retail_policy()));
  CHECK(back.version.number == 3);
  CHECK(t.a.policy_version() == 3);
  CHECK(must(t.a.accessor("bi-dashboard")).view("c1", "research").ok());
}

TEST_CASE("a tightening committed by another vault applies to a bulk read from its next run on") {
  TwoVaults t;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back("c" + std::to_string(i));
    must(t.a.put(ids.back(), "email", "ada@example.com"));
    must(t.a.put(ids.back(), "birth_date", "1989-10-27"));
  }
  auto bi = must(t.b.accessor("bi-dashboard"));
  std::string text(kRetailPolicy);
  edit(text, R"("analytics": "pseudonym",)", "");
  edit(text, R"("analytics": "generalise:year")", R"("analytics": "generalise:decade")");
  const std::vector<std::string_view> fields{"email", "birth_date"};
  std::vector<std::string> answers;
  BulkReadOptions options;
  options.batch = 2;
  // While the first batch is handed out, the other vault puts the tightening in force: the
  // second batch, read after, is decided under it (the read finds a policy version it has not
  // loaded, follows it and reads again in its snapshot).
  must(bi.read_each(
      ids, "analytics", fields,
      [&](const std::string& customer, CustomerAnswer& answer) -> result<void> {
        REQUIRE(answer.ok());
        const auto& values = *answer;
        answers.push_back(values[0] ? "email" : std::string(to_string(values[0].err().reason)));
        answers.push_back(values[1] ? values[1]->value : std::string(to_string(values[1].err().reason)));
        if (customer == "c0") must(t.a.update_policy(parsed(text)));
        return ok();
      },
      options));
  CHECK(answers == std::vector<std::string>{"email", "1989", "email", "1989", "purpose_not_allowed_for_field",
                                            "1980s", "purpose_not_allowed_for_field", "1980s"});
  CHECK(t.b.policy_version() == 2);
}
