// record_consent.cpp: Vault::record_consent and Vault::record_signal, how a grant, withdrawal or
// objection enters the consent ledger, given directly or taken from a consent signal, audited;
// and how withdrawing consent to profiling takes the customer's inferred values with it in the
// same transaction.
#include <optional>
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

// check_event_input refuses a malformed customer id, channel or notice reference.
result<void> check_event_input(std::string_view customer, const ConsentDetails& details) {
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_detail("channel", details.channel); !c) return std::move(c).err();
  return check_detail("notice", details.notice);
}

// signal_action gives the event a verdict asks for on a purpose of `basis` whose status is
// `status`, or nullopt when the ledger already says so.
std::optional<ConsentAction> signal_action(signals::SignalVerdict verdict, Basis basis,
                                           ConsentStatus status) {
  switch (verdict) {
    case signals::SignalVerdict::granted:
      if (status != ConsentStatus::granted) return ConsentAction::grant;
      return std::nullopt;
    case signals::SignalVerdict::refused:
    case signals::SignalVerdict::opted_out:
      if (basis == Basis::consent) {
        if (status == ConsentStatus::granted) return ConsentAction::withdraw;
        return std::nullopt;
      }
      if (verdict == signals::SignalVerdict::opted_out && status != ConsentStatus::objected)
        return ConsentAction::object;
      return std::nullopt;
  }
  return std::nullopt;
}

// decided_at is when an event decided its purpose: the time of the signal it was taken from, or
// else its own time.
timestamp decided_at(const ConsentEvent& e) {
  return e.signal ? e.signal->created : e.at;
}

}  // namespace

result<ConsentEvent> Vault::Impl::append_consent_event(const PolicyInForce& in_force,
                                                       std::string_view customer, const Purpose& p,
                                                       ConsentAction action, const ConsentDetails& details,
                                                       const std::optional<ConsentSignal>& signal,
                                                       std::vector<AuditEntry>& entries) {
  Impl& impl = *this;
  ConsentEvent e;
  e.customer = std::string(customer);
  e.purpose = p.id;
  e.action = action;
  e.at = details.at.value_or(impl.now());
  e.channel = details.channel;
  e.notice = details.notice;
  e.policy_version = in_force.version;
  e.signal = signal;
  if (action == ConsentAction::grant && p.consent_valid_for) e.expires_at = p.consent_valid_for->after(e.at);
  auto stored = impl.store->append_consent(e);
  if (!stored) return std::move(stored).err();
  entries.push_back(impl.entry(AuditAction::consent_recorded, customer, impl.options.actor, p.id));
  entries.back().reason = std::string(to_string(action));
  // Withdrawing consent to profiling takes the inferences with it, in the same transaction.
  if (p.id == Policy::kProfilingPurpose && action == ConsentAction::withdraw) {
    AuditEntry dropped = impl.entry(AuditAction::purge, customer, impl.options.actor, p.id);
    dropped.reason = std::string(to_string(PurgeReason::profiling_withdrawn));
    for (const FieldSpec& spec : in_force.policy.fields()) {
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
  return stored;
}

result<void> Vault::Impl::check_consent_writable(std::string_view customer, const std::string& tag,
                                                 bool require_known) {
  Impl& impl = *this;
  auto gone = impl.is_erased(tag);
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  if (require_known) {
    auto known = impl.store->knows(customer);
    if (!known) return std::move(known).err();
    if (!*known)
      return make_error(errc::not_found, "unknown customer: the vault holds no data or consent for them");
  }
  return ok();
}

result<ConsentEvent> Vault::record_consent(std::string_view customer, std::string_view purpose,
                                           ConsentAction action, const ConsentDetails& details) {
  Impl& impl = *impl_;
  CONSENTRY_TRY(check_event_input(customer, details));
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
  // Inside the transaction: an erasure committed by another process meanwhile is seen here.
  CONSENTRY_TRY(impl.check_consent_writable(customer, tag, details.require_known));
  std::vector<AuditEntry> entries;
  auto stored = impl.append_consent_event(**in_force, customer, *p, action, details, std::nullopt, entries);
  if (!stored) return std::move(stored).err();
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  // Committed, the event takes effect for the very next read.
  CONSENTRY_TRY(txn->commit());
  return stored;
}

result<SignalReport> Vault::record_signal(std::string_view customer, signals::SignalKind kind,
                                          std::string_view text, const ConsentDetails& details) {
  Impl& impl = *impl_;
  CONSENTRY_TRY(check_event_input(customer, details));
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  const std::string tag = impl.audit_pseudonym(customer);
  const timestamp now = details.at.value_or(impl.now());
  std::lock_guard lock(impl.store_mu);
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  auto in_force = impl.follow_policy();
  if (!in_force) return std::move(in_force).err();
  const Policy& policy = (*in_force)->policy;
  auto reading = signals::read_signal(policy, kind, text, now);
  if (!reading) return std::move(reading).err();
  // A string dated after its arrival (a CMP's clock ahead) is taken as made on arrival: else it
  // would leave every later signal "older" until that time came.
  if (reading->signal.created > now) reading->signal.created = now;
  CONSENTRY_TRY(impl.check_consent_writable(customer, tag, details.require_known));
  auto history = impl.store->consent_history(customer);
  if (!history) return std::move(history).err();
  const ConsentState state = ConsentState::from_history(*history);
  SignalReport report;
  report.signal = reading->signal;
  std::vector<AuditEntry> entries;
  for (const signals::PurposeVerdict& v : reading->verdicts) {
    // The mapping was checked against this policy: every purpose it names is declared.
    const Purpose* p = policy.purpose(v.purpose);
    if (!p)
      return make_error(errc::internal, "record_signal: the signal mapping names an undeclared purpose");
    SignalOutcome outcome{p->id, v.verdict, std::nullopt, ""};
    const ConsentEvent* last = state.last(p->id);
    const auto action = signal_action(v.verdict, p->basis, state.status(p->id, now));
    if (last && decided_at(*last) > reading->signal.created) {
      outcome.kept = "older";
    } else if (!action) {
      outcome.kept = "unchanged";
    } else {
      ConsentDetails at_now = details;
      at_now.at = now;
      auto stored =
          impl.append_consent_event(**in_force, customer, *p, *action, at_now, reading->signal, entries);
      if (!stored) return std::move(stored).err();
      outcome.recorded = std::move(*stored);
    }
    report.purposes.push_back(std::move(outcome));
  }
  if (impl.audit().enabled() && !entries.empty()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  return report;
}

}  // namespace consentry
