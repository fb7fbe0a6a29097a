// view.cpp: Accessor and View. Every read decides first, decrypts only what is allowed, and
// leaves an audit entry before the value is returned.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

/// opening_refusal is why `accessor` may not open a customer for `purpose` under `policy`, or
/// nullopt: the purpose undeclared, the accessor not registered for it, the customer erased.
/// Erasure counts only for a registered accessor and purpose, so that no one else learns from
/// the answer whether the customer existed.
std::optional<error> opening_refusal(const Policy& policy, const std::string& accessor,
                                     std::string_view purpose, const CustomerRead& read) {
  if (!policy.purpose(purpose))
    return make_error(errc::denied, "purpose '" + std::string(purpose) + "' is not declared in the policy",
                      deny_reason::unknown_purpose);
  if (!policy.accessor_may_use(accessor, purpose))
    return make_error(
        errc::denied,
        "accessor '" + accessor + "' is not registered for purpose '" + std::string(purpose) + "'",
        deny_reason::accessor_not_registered);
  if (read.erased_at) return erased_error("");
  return std::nullopt;
}

/// refuse_entry turns `e` into the access_denied entry of `refusal`.
void refuse_entry(AuditEntry& e, const error& refusal) {
  e.action = AuditAction::access_denied;
  e.allowed = false;
  e.reason = std::string(to_string(refusal.reason));
}

}  // namespace

result<View> Accessor::view(std::string_view customer, std::string_view purpose) const {
  const Vault::Impl& v = *vault_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  std::optional<error> refused;
  AuditTrail::Announcement soon = v.audit().announce();  // see read_fields
  AuditEntry e = v.entry(AuditAction::view_opened, customer, id_, purpose);
  e.actor = v.read_actor(id_);
  // Decided under the policy in force now, a version another process put in force included,
  // with the customer's erasure mark read in the same committed state: on a reader beside other
  // reads when the vault has one to lend and nothing to follow (as decide_read), else alone.
  const CustomerReadRequest request{customer, e.customer, false, false, {}, {}};
  bool decided = false;
  if (ReaderPool::Lease reader = v.readers().lease()) {
    std::shared_lock lock(v.store_mu);
    auto got = v.read_customer_on(*reader.store(), request);
    if (!got) return std::move(got).err();
    if (*got) refused = opening_refusal((*got)->policy->policy, id_, purpose, (*got)->read);
    decided = got->has_value();
  }
  if (!decided) {
    std::lock_guard lock(v.store_mu);
    auto got = v.read_customer(request);
    if (!got) return std::move(got).err();
    refused = opening_refusal(got->policy->policy, id_, purpose, got->read);
  }
  if (refused) refuse_entry(e, *refused);
  std::string tag = e.customer;
  CONSENTRY_TRY(v.audit().record({std::move(e)}, std::move(soon)));
  if (refused) return std::move(*refused);
  return View(vault_, id_, std::string(customer), std::string(purpose), std::move(tag));
}

result<std::string> Accessor::detokenise(std::string_view purpose, std::string_view field,
                                         std::string_view token) const {
  const Vault::Impl& v = *vault_;
  auto in_force = v.latest_policy();
  if (!in_force) return std::move(in_force).err();
  const Policy& policy = (*in_force)->policy;
  const FieldSpec* spec = policy.field(field);
  std::optional<deny_reason> refused;
  if (!policy.purpose(purpose))
    refused = deny_reason::unknown_purpose;
  else if (!policy.accessor_may_use(id_, purpose))
    refused = deny_reason::accessor_not_registered;
  else if (!spec)
    refused = deny_reason::unknown_field;
  else if (const Form* form = spec->form_for(purpose); !form || form->kind != FormKind::clear)
    refused = deny_reason::purpose_not_allowed_for_field;
  AuditEntry e = v.entry(refused ? AuditAction::access_denied : AuditAction::detokenised, "", id_, purpose);
  e.fields = {std::string(field)};
  e.actor = v.read_actor(id_);
  if (refused) {
    e.allowed = false;
    e.reason = std::string(to_string(*refused));
    CONSENTRY_TRY(v.audit().record({std::move(e)}));
    return make_error(errc::denied,
                      "detokenising field '" + std::string(field) +
                          "' needs a purpose that sees it in clear; '" + std::string(purpose) +
                          "' for accessor '" + id_ + "': " + std::string(to_string(*refused)),
                      *refused);
  }
  result<std::string> value = make_error(errc::internal, "detokenise: not run");
  {
    std::lock_guard lock(v.store_mu);
    auto cipher = v.keys().token_cipher();
    if (!cipher) return std::move(cipher).err();
    const std::string tweak = KeyCache::token_tweak(field);
    value = (*cipher)->detokenise(
        spec->type, token, std::span(reinterpret_cast<const std::uint8_t*>(tweak.data()), tweak.size()));
  }
  if (!value) return value;
  // Committed (or queued, in batched mode) before the value leaves the library.
  CONSENTRY_TRY(v.audit().record({std::move(e)}));
  return value;
}

result<FieldValue> View::get(std::string_view field) const {
  const std::string_view one[] = {field};
  auto got = read(one);
  if (!got) return std::move(got).err();
  return std::move(got->front());
}

result<std::vector<result<FieldValue>>> View::read(std::initializer_list<std::string_view> fields) const {
  return read(std::span<const std::string_view>(fields.begin(), fields.size()));
}

result<std::vector<result<FieldValue>>> View::read(std::span<const std::string_view> fields) const {
  return vault_->read_fields(accessor_, customer_, purpose_, tag_, fields, false);
}

result<std::vector<result<FieldValue>>> Accessor::read(std::string_view customer, std::string_view purpose,
                                                       std::span<const std::string_view> fields) const {
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  return vault_->read_fields(id_, std::string(customer), std::string(purpose),
                             vault_->audit_pseudonym(customer), fields, true);
}

result<std::vector<result<FieldValue>>> Accessor::read(std::string_view customer, std::string_view purpose,
                                                       std::initializer_list<std::string_view> fields) const {
  return read(customer, purpose, std::span<const std::string_view>(fields.begin(), fields.size()));
}

result<std::vector<result<FieldValue>>> Vault::Impl::read_fields(
    const std::string& accessor, const std::string& customer, const std::string& purpose,
    const std::string& tag, std::span<const std::string_view> fields, bool opening) const {
  // Announced, so that a durable group commit that starts meanwhile waits for this entry.
  AuditTrail::Announcement soon = audit().announce();
  DecidedRead decided = decide_read(accessor, customer, purpose, tag, fields, opening);
  // The entries are committed (or queued, in batched mode) before any value leaves the library.
  CONSENTRY_TRY(audit().record(std::move(decided.entries), std::move(soon)));
  return std::move(decided.answer);
}

namespace {

/// read_request asks the store for what a read of `fields` needs: the erasure mark (`tag`), the
/// consent history, the named rows and the manifest, and the data key unless it is cached.
CustomerReadRequest read_request(const std::string& customer, const std::string& tag,
                                 std::span<const std::string_view> fields,
                                 std::vector<std::string_view>& wanted, bool key_cached) {
  wanted.assign(fields.begin(), fields.end());
  wanted.push_back(kManifestField);
  return CustomerReadRequest{customer, tag, !key_cached, true, wanted, {}};
}

}  // namespace

Vault::Impl::DecidedRead Vault::Impl::decide_read(const std::string& accessor, const std::string& customer,
                                                  const std::string& purpose, const std::string& tag,
                                                  std::span<const std::string_view> fields,
                                                  bool opening) const {
  if (fields.empty()) return {make_error(errc::bad_input, "read: no fields named"), {}};
  // On a reader connection of its own, the store held shared: reads from many threads go on side
  // by side, and beside the sync of a durable audit commit. A read committed by this vault or
  // another process before this one starts is seen, as on the store's own connection.
  if (ReaderPool::Lease reader = readers().lease()) {
    std::shared_lock lock(store_mu);
    AuditEntry e = entry_for_pseudonym(AuditAction::field_read, tag, accessor, purpose);
    const timestamp at = now();
    std::shared_ptr<const SecretBytes> cached = keys_.share_data_key(customer);
    std::vector<std::string_view> wanted;
    auto got =
        read_customer_on(*reader.store(), read_request(customer, tag, fields, wanted, cached != nullptr));
    if (!got) return {std::move(got).err(), {}};
    if (*got)
      return decide_fields(accessor, customer, purpose, fields, opening, std::move(e), at, std::move(**got),
                           std::move(cached));
    // A policy version or a master key version this vault has not loaded: following it changes
    // the vault, which takes the store alone.
  }
  std::lock_guard lock(store_mu);
  return decide_read_locked(accessor, customer, purpose, tag, fields, opening);
}

Vault::Impl::DecidedRead Vault::Impl::decide_read_locked(const std::string& accessor,
                                                         const std::string& customer,
                                                         const std::string& purpose, const std::string& tag,
                                                         std::span<const std::string_view> fields,
                                                         bool opening) const {
  if (fields.empty()) return {make_error(errc::bad_input, "read: no fields named"), {}};
  AuditEntry e = entry_for_pseudonym(AuditAction::field_read, tag, accessor, purpose);
  const timestamp at = now();
  std::shared_ptr<const SecretBytes> cached = keys_.share_data_key(customer);
  std::vector<std::string_view> wanted;
  auto got = read_customer(read_request(customer, tag, fields, wanted, cached != nullptr));
  if (!got) return {std::move(got).err(), {}};
  return decide_fields(accessor, customer, purpose, fields, opening, std::move(e), at, std::move(*got),
                       std::move(cached));
}

result<std::vector<Vault::Impl::DecidedRead>> Vault::Impl::decide_reads_locked(
    const std::string& accessor, std::span<const std::string> customers, std::span<const std::string> tags,
    const std::string& purpose, std::span<const std::string_view> fields) const {
  if (fields.empty()) return make_error(errc::bad_input, "read: no fields named");
  if (tags.size() != customers.size())
    return make_error(errc::internal, "decide_reads_locked: not one tag per customer");
  // Each read's entry, time and cached key are taken before the rows are read, as one read's are.
  struct Started {
    AuditEntry entry;
    timestamp at;
    std::shared_ptr<const SecretBytes> cached;
  };
  std::vector<Started> started;
  started.reserve(customers.size());
  // What read_request asks of the store, for every customer alike (the same fields, the
  // manifest, the history), with the policy version and in the caller's snapshot.
  std::vector<std::string_view> wanted(fields.begin(), fields.end());
  wanted.push_back(kManifestField);
  std::vector<CustomerReadRequest> requests;
  requests.reserve(customers.size());
  for (std::size_t i = 0; i < customers.size(); ++i) {
    started.push_back({entry_for_pseudonym(AuditAction::field_read, tags[i], accessor, purpose), now(),
                       keys_.share_data_key(customers[i])});
    requests.push_back(CustomerReadRequest{customers[i], tags[i], started.back().cached == nullptr, true,
                                           wanted, kMetaPolicyVersion, true});
  }
  auto reads = store->read_customers(requests);
  if (!reads) return std::move(reads).err();
  if (reads->size() != customers.size())
    return make_error(errc::internal, "read_customers: not one answer per customer");
  std::vector<DecidedRead> out;
  out.reserve(customers.size());
  for (std::size_t i = 0; i < customers.size(); ++i) {
    auto in_force = in_force_for(std::move((*reads)[i]));
    if (!in_force) return std::move(in_force).err();
    // A policy version or a master key version this vault has not loaded: read again after
    // following it, in the same snapshot.
    if (!*in_force) {
      auto again = read_customer_following(requests[i]);
      if (!again) return std::move(again).err();
      in_force->emplace(std::move(*again));
    }
    out.push_back(decide_fields(accessor, customers[i], purpose, fields, true, std::move(started[i].entry),
                                started[i].at, std::move(**in_force), std::move(started[i].cached)));
  }
  return out;
}

Vault::Impl::DecidedRead Vault::Impl::decide_fields(const std::string& accessor, const std::string& customer,
                                                    const std::string& purpose,
                                                    std::span<const std::string_view> fields, bool opening,
                                                    AuditEntry e, timestamp now, CustomerInForce got,
                                                    std::shared_ptr<const SecretBytes> cached) const {
  const Vault::Impl& v = *this;
  std::vector<result<FieldValue>> out;
  out.reserve(fields.size());
  // What the audit log is told: the fields revealed (field:form, or field:absent, for the absence
  // of a value is itself something the accessor learned), and those refused, by reason.
  std::vector<std::string> revealed;
  std::vector<std::pair<std::string, std::vector<std::string>>> refused;
  auto refuse = [&](std::string_view name, std::string_view reason, error err) {
    auto it = std::find_if(refused.begin(), refused.end(), [&](const auto& r) { return r.first == reason; });
    if (it == refused.end()) it = refused.insert(refused.end(), {std::string(reason), {}});
    it->second.emplace_back(name);
    out.emplace_back(std::move(err));
  };
  auto deny = [&](std::string_view name, deny_reason reason) {
    refuse(name, to_string(reason),
           make_error(errc::denied,
                      "field '" + std::string(name) + "' denied for purpose '" + purpose +
                          "': " + std::string(to_string(reason)),
                      reason));
  };
  bool unanswered = false;  // some field was refused or absent: the customer may have been erased
  e.actor = v.read_actor(accessor);
  {
    // One committed state for the policy, the ledger, the erasure mark and the values (one
    // request to the store, one round trip to a server): every field is decided against the
    // ledger as committed now (a view opened before a withdrawal sees it) and under the policy in
    // force now (a change made since the view opened applies to it, made by this vault or
    // committed by another process). The sealed values of every named field come with it, and
    // the customer's manifest; only the allowed ones are opened.
    const Vault::Impl::PolicyInForce& in_force = *got.policy;
    const Policy& policy = in_force.policy;
    // Read without a view (Accessor::read): refused whole, as view() refuses.
    if (auto refusal = opening ? opening_refusal(policy, accessor, purpose, got.read) : std::nullopt) {
      refuse_entry(e, *refusal);
      e.fields.assign(fields.begin(), fields.end());
      std::vector<AuditEntry> entries;
      entries.push_back(std::move(e));
      return {std::move(*refusal), std::move(entries)};
    }
    const ConsentState state = ConsentState::from_history(got.read.history);
    // Every field is decided first.
    std::vector<Decision> decisions;
    decisions.reserve(fields.size());
    bool any_allowed = false;
    for (std::string_view field : fields) {
      decisions.push_back(decide(policy, state, accessor, purpose, field, now, &in_force.renewal));
      any_allowed = any_allowed || decisions.back().allowed;
    }
    std::vector<StoredField>& held = got.read.fields;
    // The data key is held here while it is in use, even if the cache drops it meanwhile.
    result<std::shared_ptr<const SecretBytes>> key = std::shared_ptr<const SecretBytes>();
    // What vouches for the allowed fields' rows, present or absent: the customer's manifest,
    // authenticated under their data key (manifest.hpp), or what the same manifest bytes vouched
    // for under this key in an earlier read (RowVoucher, KeyCache::vouched_rows). Kept again only
    // for a customer read again while their key stays cached: one read once (a scan over more
    // customers than the cache holds) builds nothing.
    std::optional<RowVoucher> voucher;
    const bool read_again = cached != nullptr;
    if (any_allowed) {
      std::optional<StoredField> manifest = take_manifest(held);
      key = v.data_key_of(customer, got.read.key, std::move(cached));
      if (key)
        voucher.emplace(key->get(), customer, std::move(manifest), !held.empty(),
                        *key ? v.keys().vouched_rows(customer, key->get()) : nullptr);
    }
    for (std::size_t i = 0; i < fields.size(); ++i) {
      const std::string_view field = fields[i];
      const std::string name(field);
      const Decision& d = decisions[i];
      // A refused field is neither read nor decrypted.
      if (!d.allowed) {
        unanswered = true;
        deny(name, d.reason);
        continue;
      }
      const auto stored =
          std::find_if(held.begin(), held.end(), [&](const StoredField& f) { return f.field == field; });
      const StoredField* row = stored == held.end() ? nullptr : &*stored;
      // The row, or its absence, is checked against the manifest before anything is decided on
      // its metadata: a deleted, added or older row, or a changed collected_at, fails here.
      result<void> vouched = key ? voucher->check(field, row) : result<void>(key.err());
      if (!vouched) {
        // Erasure takes the manifest with the values, so a data key cached before another
        // process erased the customer finds none: the erased check below tells that apart.
        unanswered = true;
        // A failed authentication is recorded too: it is how tampering shows in the log.
        refuse(name, kIntegrityReason, std::move(vouched).err());
        continue;
      }
      if (!row) {
        unanswered = true;
        revealed.push_back(format_read_field(name, kAbsentForm));
        out.emplace_back(make_error(errc::not_found, "the customer has no value for field '" + name + "'"));
        continue;
      }
      const FieldSpec& spec = *policy.field(field);
      // Past retention the value is refused before it is decrypted, even if not yet purged.
      if (spec.retention && spec.retention->after(row->collected_at) <= now) {
        deny(name, deny_reason::retention_expired);
        continue;
      }
      // A row vouched for has a data key: without one, vouching_manifest refused it.
      result<SecretBytes> plain = open_field(**key, customer, field, row->sealed, row->format,
                                             FieldMetadata{row->source, row->collected_at});
      if (!plain) {
        refuse(name, kIntegrityReason, std::move(plain).err());
        continue;
      }
      std::string tweak;
      auto keys = v.keys().form_keys(d.form, purpose, field, tweak);
      if (!keys) return {std::move(keys).err(), {}};
      auto shown = apply_form(d.form, spec.type, plain->reveal_string(), *keys);
      if (!shown) {
        deny(name,
             shown.err().reason == deny_reason::none ? deny_reason::form_unavailable : shown.err().reason);
        continue;
      }
      revealed.push_back(format_read_field(name, d.form.to_string()));
      out.emplace_back(FieldValue{name, std::move(*shown), d.form});
    }
    // What vouched is kept with the data key for the customer's next read.
    if (read_again && voucher)
      if (auto keep = voucher->kept()) v.keys().keep_vouched_rows(customer, key->get(), std::move(keep));
    // Erasure deletes every value and consent event, so a read of an erased customer is refused
    // or finds nothing; it is checked on those paths only, leaving allowed reads alone.
    if (unanswered) {
      if (got.read.erased_at) {
        e.action = AuditAction::access_denied;
        e.allowed = false;
        e.reason = std::string(to_string(deny_reason::erased));
        e.fields.assign(fields.begin(), fields.end());
        out.clear();
      }
    }
  }
  std::vector<AuditEntry> entries;
  if (!e.allowed) {
    entries.push_back(std::move(e));
    return {erased_error(""), std::move(entries)};
  }
  entries.reserve(refused.size() + 1);
  for (auto& [reason, names] : refused) {
    AuditEntry d = e;
    d.action = AuditAction::access_denied;
    d.allowed = false;
    d.reason = std::move(reason);
    d.fields = std::move(names);
    entries.push_back(std::move(d));
  }
  if (!revealed.empty()) {
    e.fields = std::move(revealed);
    entries.push_back(std::move(e));
  }
  return {std::move(out), std::move(entries)};
}

}  // namespace consentry
