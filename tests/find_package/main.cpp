// A downstream program built against an installed consentry: found with find_package(consentry)
// or with pkg-config. It parses a policy, writes one value into an in-memory vault, and checks
// that a read is allowed only while the customer consents.

#include <consentry/consentry.hpp>
#include <iostream>
#include <string_view>

#include "consentry/extension/store.hpp"

namespace {

constexpr std::string_view kPolicy = R"({
  "consentry_policy": 1,
  "controller": {"name": "Downstream Ltd", "contact": "privacy@downstream.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account"},
    {"id": "marketing.email", "basis": "consent", "description": "Offers by email"}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"]},
    {"id": "email-campaigns", "purposes": ["marketing.email"]}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact",
     "access": {"service": "clear", "marketing.email": "clear"}}
  ]
})";

int check(bool ok, std::string_view what) {
  if (!ok) std::cerr << "consumer: " << what << " failed\n";
  return ok ? 0 : 1;
}

}  // namespace

int main() {
  auto policy = consentry::Policy::parse(kPolicy);
  if (!policy) return check(false, "Policy::parse");
  consentry::VaultOptions options;
  options.kdf = consentry::KdfStrength::minimum;
  auto vault = consentry::Vault::create_in(consentry::make_memory_store(), *policy, "downstream", options);
  if (!vault) return check(false, "Vault::create_in");
  if (!vault->put("C-1", "email", "ann@example.com", "web-signup")) return check(false, "put");

  auto desk = vault->accessor("support-desk");
  auto campaigns = vault->accessor("email-campaigns");
  if (!desk || !campaigns) return check(false, "accessor");
  auto service = desk->view("C-1", "service");
  auto marketing = campaigns->view("C-1", "marketing.email");
  if (!service || !marketing) return check(false, "view");

  auto email = service->get("email");
  int failures = check(email && email->value == "ann@example.com", "read for service");
  auto before = marketing->get("email");
  failures += check(!before && before.err().code == consentry::errc::denied &&
                        before.err().reason == consentry::deny_reason::no_consent,
                    "denial without consent");
  if (!vault->record_consent("C-1", "marketing.email", consentry::ConsentAction::grant)) {
    return check(false, "record_consent");
  }
  failures += check(marketing->get("email").ok(), "read after the grant");

  if (failures == 0) std::cout << "consumer: ok\n";
  return failures == 0 ? 0 : 1;
}
