// contacts.cpp: contacts with a customer, allowed or refused against consent, the customer's
// opt-outs and the contact limits of the policy and of the customer, each one audited.
#include "consentry/anonymise/transform.hpp"
#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

constexpr std::size_t kMaxChannelBytes = 64;

}  // namespace

/// known_customer refuses an erased or unknown customer (store_mu held).
result<void> Vault::Impl::known_customer(std::string_view customer) const {
  auto gone = is_erased(audit_pseudonym(customer));
  if (!gone) return std::move(gone).err();
  if (*gone) return erased_error("");
  auto known = store->knows(customer);
  if (!known) return std::move(known).err();
  if (!*known) return make_error(errc::not_found, "unknown customer " + std::string(customer));
  return ok();
}

result<ContactEvent> Vault::record_contact(std::string_view customer, std::string_view channel,
                                           std::string_view purpose) {
  Impl& impl = *impl_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  if (auto c = check_identifier("channel", channel, kMaxChannelBytes); !c) return std::move(c).err();
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  Store& store = *impl.store;
  // The count and the new contact share one write transaction: two processes contacting the
  // same customer at once cannot both pass a limit that has room for one.
  auto txn = Transaction::start(store);
  if (!txn) return std::move(txn).err();
  // Decided under the policy in force as this transaction sees it.
  auto in_force = impl.follow_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  CONSENTRY_TRY(impl.known_customer(customer));
  auto state = impl.consent_state(customer);
  if (!state) return std::move(state).err();
  auto preferences = store.contact_preferences(customer);
  if (!preferences) return std::move(preferences).err();
  auto made = store.contacts(customer);
  if (!made) return std::move(made).err();
  const timestamp now = impl.now();
  const std::optional<deny_reason> refused = contact_refusal(*p, *state, *preferences, *made, channel, now);

  std::vector<AuditEntry> entries{impl.entry(refused ? AuditAction::access_denied : AuditAction::contact_made,
                                             customer, impl.options.actor, p->id)};
  entries.back().fields = {std::string(channel)};
  if (refused) {
    entries.back().allowed = false;
    entries.back().reason = std::string(to_string(*refused));
    if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
    CONSENTRY_TRY(txn->commit());
    return make_error(errc::denied,
                      "contact by " + std::string(channel) + " for purpose '" + p->id +
                          "' refused: " + std::string(to_string(*refused)),
                      *refused);
  }
  auto stored =
      store.append_contact(ContactEvent{0, std::string(customer), std::string(channel), p->id, now});
  if (!stored) return std::move(stored).err();
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  return stored;
}

result<ContactPreference> Vault::Impl::add_contact_preference(ContactPreference p) {
  if (auto c = check_identifier("customer id", p.customer, kMaxCustomerIdBytes); !c)
    return std::move(c).err();
  if (options.audit == AuditMode::batched) CONSENTRY_TRY(audit_.flush());
  std::lock_guard lock(store_mu);
  auto txn = Transaction::start(*store);
  if (!txn) return std::move(txn).err();
  CONSENTRY_TRY(known_customer(p.customer));
  p.at = now();
  auto stored = store->append_contact_preference(p);
  if (!stored) return std::move(stored).err();
  std::vector<AuditEntry> entries{entry(AuditAction::consent_recorded, p.customer, options.actor, p.purpose)};
  entries.back().reason = std::string(to_string(p.kind));
  if (!p.channel.empty()) entries.back().fields = {p.channel};
  if (audit_.enabled()) CONSENTRY_TRY(audit_.append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  return stored;
}

result<ContactPreference> Vault::limit_contacts(std::string_view customer, std::string_view purpose, int max,
                                                const IsoDuration& per) {
  auto in_force = impl_->latest_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  if (max < 0) return make_error(errc::bad_input, "a contact limit's max must be 0 or more");
  if (per.after(timestamp{}) <= timestamp{})
    return make_error(errc::bad_input, "a contact limit's period must be longer than zero");
  ContactPreference pref;
  pref.customer = std::string(customer);
  pref.kind = ContactPreferenceKind::limit;
  pref.purpose = p->id;
  pref.max = max;
  pref.per = per;
  return impl_->add_contact_preference(std::move(pref));
}

result<ContactPreference> Vault::opt_out_of_channel(std::string_view customer, std::string_view channel,
                                                    bool opted_out) {
  if (auto c = check_identifier("channel", channel, kMaxChannelBytes); !c) return std::move(c).err();
  ContactPreference pref;
  pref.customer = std::string(customer);
  pref.kind = opted_out ? ContactPreferenceKind::opt_out : ContactPreferenceKind::opt_in;
  pref.channel = std::string(channel);
  return impl_->add_contact_preference(std::move(pref));
}

}  // namespace consentry
