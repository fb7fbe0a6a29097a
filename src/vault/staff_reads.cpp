// staff_reads.cpp: staff looking at a customer's metadata (their consent), each look audited as a
// staff_read entry. The staff audit itself (Vault::describe_subject) is in subject_report.cpp.
#include "consentry/audit.hpp"
#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

result<std::vector<ConsentEvent>> Vault::review_consent(std::string_view customer) const {
  const Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  std::vector<ConsentEvent> history;
  {
    std::lock_guard lock(impl.store_mu);
    CONSENTRY_TRY(impl.known_customer(customer));
    auto events = impl.store->consent_history(customer);
    if (!events) return std::move(events).err();
    history = std::move(*events);
  }
  AuditEntry e = impl.entry(AuditAction::staff_read, customer, impl.options.actor, "");
  e.reason = std::string(to_string(StaffView::consent));
  // The history is shown only once the look is recorded. Never wait on the trail under store_mu.
  CONSENTRY_TRY(impl.audit().record({std::move(e)}));
  return history;
}

}  // namespace consentry
