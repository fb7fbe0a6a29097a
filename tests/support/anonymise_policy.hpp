// anonymise_policy.hpp: a policy whose fields use the keyed forms (token, both pseudonyms) and
// whose purposes carry privacy budgets, for the vault's anonymisation tests.
#pragma once

#include <doctest/doctest.h>

#include <string_view>

#include "consentry/policy.hpp"

namespace consentry::test {

inline constexpr std::string_view kAnonymisePolicy = R"({
  "consentry_policy": 1,
  "controller": {"name": "Acme Retail Ltd"},
  "purposes": [
    {"id": "billing", "basis": "contract"},
    {"id": "analytics", "basis": "legitimate_interest", "privacy_budget": 1.0},
    {"id": "research", "basis": "legitimate_interest", "privacy_budget": 1000000},
    {"id": "marketing", "basis": "consent", "privacy_budget": 1000000},
    {"id": "profiling", "basis": "consent"}
  ],
  "accessors": [
    {"id": "billing-desk", "purposes": ["billing"]},
    {"id": "bi-dashboard", "purposes": ["analytics", "research"]},
    {"id": "campaigns", "purposes": ["marketing"]}
  ],
  "fields": [
    {"name": "card_number", "type": "integer", "category": "financial",
     "access": {"billing": "clear", "analytics": "token"}},
    {"name": "account_number", "type": "integer", "category": "financial",
     "access": {"billing": "clear", "analytics": "token"}},
    {"name": "phone", "type": "phone", "category": "contact",
     "access": {"billing": "clear", "analytics": "token", "marketing": "token"}},
    {"name": "email", "type": "email", "category": "contact",
     "access": {"billing": "clear", "analytics": "pseudonym:hmac-sha256", "research": "pseudonym:hmac-sha256",
                "marketing": "pseudonym"}},
    {"name": "income", "type": "integer", "category": "financial",
     "access": {"analytics": "clear", "research": "clear", "marketing": "clear", "billing": "generalise:bucket:1000"}},
    {"name": "city", "type": "string", "category": "identity",
     "access": {"analytics": "clear", "research": "clear"}},
    {"name": "churn_risk", "type": "integer", "category": "inferred", "derived_from": ["income"],
     "access": {"research": "clear", "profiling": "clear"}}
  ]
})";

/// anonymise_policy parses kAnonymisePolicy; the test fails if it does not parse.
inline Policy anonymise_policy() {
  auto p = Policy::parse(kAnonymisePolicy, "anonymise");
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  return std::move(*p);
}

}  // namespace consentry::test
