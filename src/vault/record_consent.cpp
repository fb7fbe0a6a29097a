// record_consent.cpp: Vault::record_consent, how a grant, withdrawal or objection enters the
// consent ledger, audited, and how withdrawing consent to profiling takes the customer's inferred
// values with it in the same transaction.
#include <string>
#include <vector>

#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/vault.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// check_detail refuses a channel or notice reference as check_identifier does; empty is allowed.
result<void> check_detail(std::string_view what, std::string_view text) {
  if (text.empty()) return ok();
  return check_identifier(what, text, kMaxDetailBytes);
}

}  // namespace

result<ConsentEvent> Vault::record_consent(std::string_view customer, std::string_view purpose,
                                           ConsentAction action, const ConsentDetails& details) {
  Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_detail("channel", details.channel); !c) return std::move(c).err();
  if (auto c = check_detail("notice", details.notice); !c) return std::move(c).err();
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  const std::string tag = impl.audit_pseudonym(customer);
  std::lock_guard lock(impl.store_mu);
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  // The event is checked against, and records, the policy version in force as this transaction
  // sees it: a version another process put in force is followed.
  auto in_force = impl.follow_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const std::string basis(to_string(p->basis));
  if (action != ConsentAction::object && p->basis != Basis::consent)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ", not consent: there is no consent to " +
                                           (action == ConsentAction::grant ? "grant" : "withdraw"));
  if (action == ConsentAction::object && p->basis != Basis::legitimate_interest &&
      p->basis != Basis::public_task)
    return make_error(errc::bad_input, "purpose '" + p->id + "' rests on " + basis +
                                           ": only legitimate interest and public task can be objected to" +
                                           (p->basis == Basis::consent ? " (withdraw consent instead)" : ""));
  ConsentEvent e;
  e.customer = std::string(customer);
  e.purpose = p->id;
  e.action = action;
  e.at = details.at.value_or(impl.now());
  e.channel = details.channel;
  e.notice = details.notice;
  e.policy_version = (*in_force)->version;
  if (action == ConsentAction::grant && p->consent_valid_for)
    e.expires_at = p->consent_valid_for->after(e.at);
  // Inside the transaction: an erasure committed by another process meanwhile is seen here.
  auto gone = impl.is_erased(tag);
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  if (details.require_known) {
    auto known = impl.store->knows(customer);
    if (!known) return std::move(known).err();
    if (!*known)
      return make_error(errc::not_found, "unknown customer: the vault holds no data or consent for them");
  }
  auto stored = impl.store->append_consent(e);
  if (!stored) return std::move(stored).err();
  std::vector<AuditEntry> entries{
      impl.entry(AuditAction::consent_recorded, customer, impl.options.actor, p->id)};
  entries.back().reason = std::string(to_string(action));
  // Withdrawing consent to profiling takes the inferences with it, in the same transaction.
  if (p->id == Policy::kProfilingPurpose && action == ConsentAction::withdraw) {
    AuditEntry dropped = impl.entry(AuditAction::purge, customer, impl.options.actor, p->id);
    dropped.reason = std::string(to_string(PurgeReason::profiling_withdrawn));
    for (const FieldSpec& spec : (*in_force)->policy.fields()) {
      if (!spec.is_inferred()) continue;
      auto held = impl.store->get_field(customer, spec.name);
      if (!held) return std::move(held).err();
      if (!*held) continue;
      CONSENTRY_TRY(impl.store->delete_field(customer, spec.name));
      dropped.fields.push_back(spec.name);
    }
    if (!dropped.fields.empty()) {
      const std::string name(customer);
      CONSENTRY_TRY(unlist_values(*impl.store, impl.data_key(name), name, dropped.fields));
      entries.push_back(std::move(dropped));
    }
  }
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  // Committed, the event takes effect for the very next read.
  CONSENTRY_TRY(txn->commit());
  return stored;
}

}  // namespace consentry
