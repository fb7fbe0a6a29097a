// retail_policy.hpp: the retail policy of DESIGN.md, shared by the vault and decision tests.
#pragma once

#include <doctest/doctest.h>

#include <string_view>

#include "consentry/policy.hpp"

namespace consentry::test {

inline constexpr std::string_view kRetailPolicy = R"({
  "consentry_policy": 1,
  "controller": {"name": "Acme Retail Ltd", "contact": "privacy@acme.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account you opened"},
    {"id": "marketing.email", "basis": "consent", "description": "Offers by email",
     "consent_valid_for": "P24M", "contact_limit": {"max": 2, "per": "P7D"}},
    {"id": "marketing", "basis": "consent", "description": "Offers by any channel"},
    {"id": "analytics", "basis": "legitimate_interest", "description": "Aggregate reports"},
    {"id": "research", "basis": "legitimate_interest", "description": "Product research"},
    {"id": "profiling", "basis": "consent", "description": "Predictions about you"}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"]},
    {"id": "email-campaigns", "purposes": ["marketing.email"]},
    {"id": "bi-dashboard", "purposes": ["analytics", "research"]},
    {"id": "propensity-model", "purposes": ["profiling", "marketing.email"]}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact", "retention": "P3Y",
     "access": {"service": "clear", "marketing.email": "clear", "analytics": "pseudonym",
                "research": "pseudonym"}},
    {"name": "birth_date", "type": "date", "category": "identity",
     "access": {"service": "clear", "analytics": "generalise:year"}},
    {"name": "phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4"}},
    {"name": "credit_score", "type": "integer", "category": "financial",
     "sources": ["credit-bureau"], "access": {"service": "clear"}},
    {"name": "notes", "type": "string", "category": "service", "access": {"service": "redact"}},
    {"name": "expecting_child", "type": "boolean", "category": "inferred",
     "derived_from": ["birth_date"], "access": {"marketing.email": "clear", "profiling": "clear"}}
  ]
})";

/// retail_policy parses kRetailPolicy; the test fails if it does not parse.
inline Policy retail_policy() {
  auto p = Policy::parse(kRetailPolicy, "retail");
  if (!p) FAIL("retail policy refused: " << p.err().message);
  return std::move(*p);
}

}  // namespace consentry::test
