// consent_receipts.cpp: Vault::consent_receipt and the receipts of a customer's export: each
// ledger event's signed receipt, under the policy version the event was recorded under.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/receipt.hpp"
#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

result<std::vector<std::string>> Vault::Impl::issue_receipts(const std::vector<ConsentEvent>& events) const {
  std::map<std::int64_t, Policy> policies;  // each version read once
  std::vector<std::string> out;
  out.reserve(events.size());
  const timestamp issued = now();
  for (const ConsentEvent& e : events) {
    const std::int64_t version = std::max<std::int64_t>(e.policy_version, 1);
    auto it = policies.find(version);
    if (it == policies.end()) {
      auto policy = policy_version(version);
      if (!policy) return std::move(policy).err();
      it = policies.emplace(version, std::move(*policy)).first;
    }
    auto receipt = issue_consent_receipt(e, it->second, audit().signer(), issued);
    if (!receipt) return make_error(errc::integrity, receipt.err().message);
    out.push_back(std::move(*receipt));
  }
  return out;
}

result<std::string> Vault::consent_receipt(std::string_view customer, std::int64_t seq) const {
  const Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  std::string receipt;
  {
    std::lock_guard lock(impl.store_mu);
    auto snapshot = ReadSnapshot::open(*impl.store);
    if (!snapshot) return std::move(snapshot).err();
    CONSENTRY_TRY(impl.known_customer(customer));
    auto events = impl.store->consent_history(customer);
    if (!events) return std::move(events).err();
    std::vector<ConsentEvent> one;
    for (ConsentEvent& e : *events)
      if (e.seq == seq) one.push_back(std::move(e));
    if (one.empty())
      return make_error(errc::not_found, "the customer's ledger holds no event " + std::to_string(seq));
    auto issued = impl.issue_receipts(one);
    if (!issued) return std::move(issued).err();
    receipt = std::move(issued->front());
  }
  AuditEntry e = impl.entry(AuditAction::staff_read, customer, impl.options.actor, "");
  e.reason = std::string(to_string(StaffView::consent));
  // The receipt leaves the library only once the look is recorded.
  CONSENTRY_TRY(impl.audit().record({std::move(e)}));
  return receipt;
}

}  // namespace consentry
