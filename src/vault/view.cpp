// view.cpp: Accessor and View. Every read decides first, decrypts only what is allowed, and
// leaves an audit entry before the value is returned.
#include "consentry/anonymise/transform.hpp"
#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

result<View> Accessor::view(std::string_view customer, std::string_view purpose) const {
  const Vault::Impl& v = *vault_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  std::optional<error> refused;
  if (!v.policy.purpose(purpose))
    refused = make_error(errc::denied, "purpose '" + std::string(purpose) + "' is not declared in the policy",
                         deny_reason::unknown_purpose);
  else if (!v.policy.accessor_may_use(id_, purpose))
    refused = make_error(
        errc::denied, "accessor '" + id_ + "' is not registered for purpose '" + std::string(purpose) + "'",
        deny_reason::accessor_not_registered);
  AuditEntry e =
      v.entry(refused ? AuditAction::access_denied : AuditAction::view_opened, customer, id_, purpose);
  // Erasure is checked only for a registered accessor and purpose, so that no one else learns
  // from the answer whether the customer existed. e.customer is the pseudonym erased rows keep.
  if (!refused) {
    std::lock_guard lock(v.store_mu);
    auto gone = v.is_erased(e.customer);
    if (!gone) return std::move(gone).err();
    if (*gone) refused = erased_error("");
  }
  if (refused) {
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = std::string(to_string(refused->reason));
  }
  CONSENTRY_TRY(v.record({std::move(e)}));
  if (refused) return std::move(*refused);
  return View(vault_, id_, std::string(customer), std::string(purpose));
}

result<FieldValue> View::get(std::string_view field) const {
  const Vault::Impl& v = *vault_;
  const std::string name(field);
  AuditEntry e = v.entry(AuditAction::field_read, customer_, accessor_, purpose_);
  // deny records the refusal, then reports it; a refused field is never decrypted.
  // refuse_erased records and reports a read of a customer erased after the view was opened.
  // Erasure deletes every value and consent event, so such a read would otherwise be denied
  // (no consent) or find nothing; the check runs on those paths only, leaving allowed reads
  // their one store lookup.
  auto refuse_erased = [&]() -> result<FieldValue> {
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = std::string(to_string(deny_reason::erased));
    e.fields = {name};
    CONSENTRY_TRY(v.record({std::move(e)}));
    return erased_error("");
  };
  auto deny = [&](deny_reason reason) -> result<FieldValue> {
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = std::string(to_string(reason));
    e.fields = {name};
    CONSENTRY_TRY(v.record({std::move(e)}));
    return make_error(
        errc::denied,
        "field '" + name + "' denied for purpose '" + purpose_ + "': " + std::string(to_string(reason)),
        reason);
  };

  std::unique_lock lock(v.store_mu);
  const timestamp now = v.now();
  // Decide with the ledger as committed now: a view opened before a withdrawal sees it.
  auto state = v.consent_state(customer_);
  if (!state) return std::move(state).err();
  const Decision d = decide(v.policy, *state, accessor_, purpose_, field, now);
  if (!d.allowed) {
    auto erased = v.is_erased(e.customer);
    if (!erased) return std::move(erased).err();
    lock.unlock();
    if (*erased) return refuse_erased();
    return deny(d.reason);
  }
  auto stored = v.store->get_field(customer_, field);
  if (!stored) return std::move(stored).err();
  if (!*stored) {
    auto erased = v.is_erased(e.customer);
    if (!erased) return std::move(erased).err();
    lock.unlock();
    if (*erased) return refuse_erased();
    // The absence of a value is itself something the accessor learned.
    e.fields = {name + ":absent"};
    CONSENTRY_TRY(v.record({std::move(e)}));
    return make_error(errc::not_found, "the customer has no value for field '" + name + "'");
  }
  const FieldSpec& spec = *v.policy.field(field);
  // Past retention the value is refused before it is decrypted, even if not yet purged.
  if (spec.retention && spec.retention->after((*stored)->collected_at) <= now) {
    lock.unlock();
    return deny(deny_reason::retention_expired);
  }
  auto key = v.data_key(customer_);
  if (!key) return std::move(key).err();
  result<SecretBytes> plain =
      *key ? open_field(**key, customer_, field, (*stored)->sealed)
           : make_error(errc::integrity, "field '" + name + "' is stored without a data key");
  if (!plain) {
    lock.unlock();
    // A failed authentication is recorded too: it is how tampering shows in the log.
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = "integrity";
    e.fields = {name};
    CONSENTRY_TRY(v.record({std::move(e)}));
    return std::move(plain).err();
  }
  const SecretBytes& purpose_key = d.form.kind == FormKind::pseudonym ? v.purpose_key(purpose_) : v.no_key;
  auto shown = apply_form(d.form, spec.type, plain->reveal_string(), purpose_key);
  lock.unlock();
  if (!shown)
    return deny(shown.err().reason == deny_reason::none ? deny_reason::form_unavailable : shown.err().reason);
  e.fields = {name + ":" + d.form.to_string()};
  // The entry is committed (or queued, in batched mode) before the value leaves the library.
  CONSENTRY_TRY(v.record({std::move(e)}));
  return FieldValue{name, std::move(*shown), d.form};
}

}  // namespace consentry
