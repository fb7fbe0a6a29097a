// decision_test.cpp: decide() over every basis, consent state and form; exact purpose matching.
#include "consentry/decision.hpp"

#include <doctest/doctest.h>

#include <array>
#include <string>

#include "support/consent_event.hpp"
#include "support/retail_policy.hpp"

using namespace consentry;
using namespace std::chrono_literals;

namespace {

const timestamp kNow = timestamp{} + std::chrono::seconds(1'800'000'000);

using consentry::test::consent_event;

// state_for builds a ledger for `purpose` that ends in `status` at kNow.
ConsentState state_for(const std::string& purpose, ConsentStatus status) {
  std::vector<ConsentEvent> h;
  switch (status) {
    case ConsentStatus::none: break;
    case ConsentStatus::granted:
      h.push_back(consent_event(purpose, ConsentAction::grant, kNow - 10s, kNow + 1s));
      break;
    case ConsentStatus::withdrawn:
      h.push_back(consent_event(purpose, ConsentAction::grant, kNow - 10s));
      h.push_back(consent_event(purpose, ConsentAction::withdraw, kNow - 5s));
      break;
    case ConsentStatus::expired:
      h.push_back(consent_event(purpose, ConsentAction::grant, kNow - 10s, kNow));
      break;
    case ConsentStatus::objected:
      h.push_back(consent_event(purpose, ConsentAction::object, kNow - 10s));
      break;
  }
  auto s = ConsentState::from_history(h);
  REQUIRE(s.status(purpose, kNow) == status);
  return s;
}

// A policy with one purpose per basis, one accessor for all, and one field per form.
Policy basis_policy() {
  static constexpr std::array kForms = {
      "clear", "mask:last4", "redact", "pseudonym", "token", "generalise:prefix:2", "generalise:bucket:10"};
  std::string purposes, access;
  for (auto b :
       {"consent", "contract", "legal_obligation", "legitimate_interest", "vital_interest", "public_task"}) {
    if (!purposes.empty()) purposes += ",", access += ",";
    purposes += std::string(R"({"id": "p-)") + b + R"(", "basis": ")" + b + R"("})";
    access += std::string(R"("p-)") + b + R"(": "FORM")";
  }
  std::string fields, accessor_purposes;
  for (std::size_t i = 0; i < kForms.size(); ++i) {
    std::string a = access;
    for (std::size_t pos; (pos = a.find("FORM")) != std::string::npos;) a.replace(pos, 4, kForms[i]);
    const char* type = std::string_view(kForms[i]).starts_with("generalise:bucket") ? "integer" : "string";
    if (i) fields += ",";
    fields += R"({"name": "f)" + std::to_string(i) + R"(", "type": ")" + type +
              R"(", "category": "contact", "access": {)" + a + "}}";
  }
  std::string text = R"({"consentry_policy": 1, "purposes": [)" + purposes +
                     R"(], "accessors": [{"id": "app", "purposes": ["p-consent", "p-contract",
      "p-legal_obligation", "p-legitimate_interest", "p-vital_interest", "p-public_task"]}],
      "fields": [)" + fields +
                     "]}";
  auto p = Policy::parse(text, "basis-policy");
  if (!p) FAIL(p.err().message);
  return std::move(*p);
}

}  // namespace

TEST_CASE("every basis against every consent state and form gives the lawful answer") {
  const Policy policy = basis_policy();
  constexpr std::array kStatuses = {ConsentStatus::none, ConsentStatus::granted, ConsentStatus::withdrawn,
                                    ConsentStatus::expired, ConsentStatus::objected};
  // Expected outcome per basis, in the order of kStatuses. none = allowed.
  struct Row {
    const char* basis;
    std::array<deny_reason, 5> expect;
  };
  const std::array<Row, 6> table = {{
      {"consent",
       {deny_reason::no_consent, deny_reason::none, deny_reason::withdrawn, deny_reason::expired,
        deny_reason::objected}},
      {"contract",
       {deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none}},
      {"legal_obligation",
       {deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none}},
      {"legitimate_interest",
       {deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::objected}},
      {"vital_interest",
       {deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none}},
      {"public_task",
       {deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::none, deny_reason::objected}},
  }};
  int checked = 0;
  for (const Row& row : table) {
    const std::string purpose = std::string("p-") + row.basis;
    for (std::size_t s = 0; s < kStatuses.size(); ++s) {
      const ConsentState state = state_for(purpose, kStatuses[s]);
      for (const FieldSpec& f : policy.fields()) {
        CAPTURE(row.basis);
        CAPTURE(to_string(kStatuses[s]));
        CAPTURE(f.name);
        const Decision d = decide(policy, state, "app", purpose, f.name, kNow);
        if (row.expect[s] == deny_reason::none) {
          CHECK(d.allowed);
          CHECK(d.form == *f.form_for(purpose));
        } else {
          CHECK_FALSE(d.allowed);
          CHECK(d.reason == row.expect[s]);
        }
        ++checked;
      }
    }
  }
  CHECK(checked == 6 * 5 * 7);
}

TEST_CASE("purposes match exactly: marketing is not marketing.email") {
  const Policy policy = test::retail_policy();
  // Consent to the broader-looking purpose does not open the narrower one, nor the reverse.
  const ConsentState broad = state_for("marketing", ConsentStatus::granted);
  CHECK(decide(policy, broad, "email-campaigns", "marketing.email", "email", kNow).reason ==
        deny_reason::no_consent);
  const ConsentState narrow = state_for("marketing.email", ConsentStatus::granted);
  CHECK(decide(policy, narrow, "email-campaigns", "marketing.email", "email", kNow).allowed);
  CHECK(decide(policy, narrow, "email-campaigns", "marketing", "email", kNow).reason ==
        deny_reason::accessor_not_registered);
  CHECK(decide(policy, narrow, "email-campaigns", "marketing.", "email", kNow).reason ==
        deny_reason::unknown_purpose);
  CHECK(decide(policy, narrow, "email-campaigns", "marketing.email.weekly", "email", kNow).reason ==
        deny_reason::unknown_purpose);
  CHECK(decide(policy, narrow, "email-campaigns", "Marketing.Email", "email", kNow).reason ==
        deny_reason::unknown_purpose);
}

TEST_CASE("an accessor reads only for the purposes it is registered for") {
  const Policy policy = test::retail_policy();
  const ConsentState granted = state_for("marketing.email", ConsentStatus::granted);
  CHECK(decide(policy, granted, "email-campaigns", "marketing.email", "email", kNow).allowed);
  CHECK(decide(policy, granted, "support-desk", "marketing.email", "email", kNow).reason ==
        deny_reason::accessor_not_registered);
  CHECK(decide(policy, granted, "no-such-feature", "service", "email", kNow).reason ==
        deny_reason::accessor_not_registered);
  CHECK(decide(policy, granted, "support-desk", "service", "email", kNow).allowed);
}

TEST_CASE("a field without a form for the purpose is denied whatever the consent") {
  const Policy policy = test::retail_policy();
  const ConsentState granted = state_for("marketing.email", ConsentStatus::granted);
  CHECK(decide(policy, granted, "email-campaigns", "marketing.email", "phone", kNow).reason ==
        deny_reason::purpose_not_allowed_for_field);
  CHECK(decide(policy, granted, "email-campaigns", "marketing.email", "shoe_size", kNow).reason ==
        deny_reason::unknown_field);
}

TEST_CASE("the form is the one the policy gives the purpose") {
  const Policy policy = test::retail_policy();
  const ConsentState none;
  auto d = decide(policy, none, "support-desk", "service", "phone", kNow);
  REQUIRE(d.allowed);
  CHECK(d.form.kind == FormKind::mask_last);
  CHECK(d.form.n == 4);
  d = decide(policy, none, "bi-dashboard", "analytics", "birth_date", kNow);
  REQUIRE(d.allowed);
  CHECK(d.form.kind == FormKind::generalise_year);
  d = decide(policy, none, "bi-dashboard", "analytics", "email", kNow);
  REQUIRE(d.allowed);
  CHECK(d.form.kind == FormKind::pseudonym);
}

TEST_CASE("inferred fields need a live profiling consent besides the purpose's own basis") {
  const Policy policy = test::retail_policy();
  std::vector<ConsentEvent> h = {consent_event("marketing.email", ConsentAction::grant, kNow - 10s)};
  auto state = ConsentState::from_history(h);
  CHECK(decide(policy, state, "email-campaigns", "marketing.email", "expecting_child", kNow).reason ==
        deny_reason::inference_needs_profiling);
  state.apply(consent_event("profiling", ConsentAction::grant, kNow - 5s));
  CHECK(decide(policy, state, "email-campaigns", "marketing.email", "expecting_child", kNow).allowed);
  state.apply(consent_event("profiling", ConsentAction::withdraw, kNow - 1s));
  CHECK(decide(policy, state, "email-campaigns", "marketing.email", "expecting_child", kNow).reason ==
        deny_reason::inference_needs_profiling);
}

TEST_CASE("the last event of a purpose decides, and a grant lapses exactly at its expiry") {
  std::vector<ConsentEvent> h = {
      consent_event("marketing.email", ConsentAction::grant, kNow - 100s, kNow + 50s),
      consent_event("marketing.email", ConsentAction::withdraw, kNow - 50s),
      consent_event("marketing.email", ConsentAction::grant, kNow - 10s, kNow + 10s),
      consent_event("analytics", ConsentAction::object, kNow - 5s)};
  auto state = ConsentState::from_history(h);
  CHECK(state.status("marketing.email", kNow) == ConsentStatus::granted);
  CHECK(state.status("marketing.email", kNow + 9s) == ConsentStatus::granted);
  CHECK(state.status("marketing.email", kNow + 10s) == ConsentStatus::expired);
  CHECK(state.status("analytics", kNow) == ConsentStatus::objected);
  CHECK(state.status("profiling", kNow) == ConsentStatus::none);
  REQUIRE(state.last("marketing.email") != nullptr);
  CHECK(state.last("marketing.email")->at == kNow - 10s);
}

TEST_CASE("decision_reads_ledger is false only where no consent position changes the decision") {
  const Policy retail = test::retail_policy();
  const Policy bases = basis_policy();
  constexpr std::array kStatuses = {ConsentStatus::none, ConsentStatus::granted, ConsentStatus::withdrawn,
                                    ConsentStatus::expired, ConsentStatus::objected};
  int skippable = 0;
  for (const Policy* policy : {&retail, &bases}) {
    for (const Purpose& purpose : policy->purposes()) {
      for (const FieldSpec& field : policy->fields()) {
        CAPTURE(purpose.id);
        CAPTURE(field.name);
        if (decision_reads_ledger(*policy, purpose.id, field.name)) continue;
        ++skippable;
        // Every position on the purpose itself and on profiling decides as the empty ledger does.
        const Decision blank = decide_for_purpose(*policy, ConsentState{}, purpose.id, field.name, kNow);
        for (const std::string& on : {purpose.id, std::string(Policy::kProfilingPurpose)})
          for (const ConsentStatus status : kStatuses) {
            const Decision d =
                decide_for_purpose(*policy, state_for(on, status), purpose.id, field.name, kNow);
            CHECK(d.allowed == blank.allowed);
            CHECK(d.reason == blank.reason);
          }
      }
    }
  }
  // service (contract) and the basis policy's contract, legal obligation and vital interest
  // purposes need no ledger for a field that is not inferred...
  CHECK(skippable > 0);
  CHECK_FALSE(decision_reads_ledger(retail, "service", "email"));
  CHECK_FALSE(decision_reads_ledger(bases, "p-vital_interest", "f0"));
  // ...an inferred field always does (profiling consent), as do consent, objection-bound
  // purposes and anything undeclared.
  CHECK(decision_reads_ledger(retail, "service", "expecting_child"));
  CHECK(decision_reads_ledger(retail, "marketing.email", "email"));
  CHECK(decision_reads_ledger(retail, "analytics", "email"));
  CHECK(decision_reads_ledger(bases, "p-public_task", "f0"));
  CHECK(decision_reads_ledger(retail, "no-such-purpose", "email"));
  CHECK(decision_reads_ledger(retail, "service", "no-such-field"));
}
