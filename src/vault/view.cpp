// view.cpp: Accessor and View. Every read decides first, decrypts only what is allowed, and
// leaves an audit entry before the value is returned.
#include <algorithm>
#include <optional>

#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

result<View> Accessor::view(std::string_view customer, std::string_view purpose) const {
  const Vault::Impl& v = *vault_;
  if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) return std::move(c).err();
  std::optional<error> refused;
  AuditEntry e = v.entry(AuditAction::view_opened, customer, id_, purpose);
  e.actor = v.read_actor(id_);
  {
    std::lock_guard lock(v.store_mu);
    // Decided under the policy in force now, a version another process put in force included.
    auto snapshot = ReadSnapshot::open(*v.store);
    if (!snapshot) return std::move(snapshot).err();
    auto in_force = v.follow_policy();
    if (!in_force) return std::move(in_force).err();
    const Policy& policy = (*in_force)->policy;
    if (!policy.purpose(purpose))
      refused =
          make_error(errc::denied, "purpose '" + std::string(purpose) + "' is not declared in the policy",
                     deny_reason::unknown_purpose);
    else if (!policy.accessor_may_use(id_, purpose))
      refused = make_error(
          errc::denied, "accessor '" + id_ + "' is not registered for purpose '" + std::string(purpose) + "'",
          deny_reason::accessor_not_registered);
    // Erasure is checked only for a registered accessor and purpose, so that no one else learns
    // from the answer whether the customer existed. e.customer is the pseudonym erased rows keep.
    if (!refused) {
      auto gone = v.is_erased(e.customer);
      if (!gone) return std::move(gone).err();
      if (*gone) refused = erased_error("");
    }
  }
  if (refused) {
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = std::string(to_string(refused->reason));
  }
  std::string tag = e.customer;
  CONSENTRY_TRY(v.audit().record({std::move(e)}));
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
  const Vault::Impl& v = *vault_;
  if (fields.empty()) return make_error(errc::bad_input, "read: no fields named");
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
                      "field '" + std::string(name) + "' denied for purpose '" + purpose_ +
                          "': " + std::string(to_string(reason)),
                      reason));
  };
  bool unanswered = false;  // some field was refused or absent: the customer may have been erased
  AuditEntry e = v.entry_for_pseudonym(AuditAction::field_read, tag_, accessor_, purpose_);
  e.actor = v.read_actor(accessor_);
  {
    std::lock_guard lock(v.store_mu);
    // One snapshot for the ledger and the values: every field is decided against the ledger as
    // committed now (a view opened before a withdrawal sees it), and the reads share one lock.
    auto snapshot = ReadSnapshot::open(*v.store);
    if (!snapshot) return std::move(snapshot).err();
    const timestamp now = v.now();
    // The policy in force now, for every field of this read: a change made since the view opened
    // applies to it (a form made less revealing, a purpose removed), made by this vault or
    // committed by another process.
    auto latest = v.follow_policy();
    if (!latest) return std::move(latest).err();
    const Vault::Impl::PolicyInForce& in_force = **latest;
    const Policy& policy = in_force.policy;
    auto state = v.consent_state(customer_);
    if (!state) return std::move(state).err();
    // Every field is decided first; only the allowed ones are read, in one request to the store
    // that also brings the customer's manifest.
    std::vector<Decision> decisions;
    decisions.reserve(fields.size());
    std::vector<std::string_view> allowed;
    allowed.reserve(fields.size() + 1);
    for (std::string_view field : fields) {
      decisions.push_back(decide(policy, *state, accessor_, purpose_, field, now, &in_force.renewal));
      if (decisions.back().allowed) allowed.push_back(field);
    }
    std::vector<StoredField> held;
    // What vouches for the allowed fields' rows, present or absent: the customer's manifest,
    // authenticated under their data key (manifest.hpp). Fetched in the same range scan.
    result<const SecretBytes*> key = static_cast<const SecretBytes*>(nullptr);
    result<std::optional<Manifest>> listed = std::optional<Manifest>();
    if (!allowed.empty()) {
      allowed.push_back(kManifestField);
      auto got = v.store->get_named_fields(customer_, allowed);
      if (!got) return std::move(got).err();
      allowed.pop_back();
      held = std::move(*got);
      std::optional<StoredField> manifest = take_manifest(held);
      key = v.data_key(customer_);
      listed = key ? vouching_manifest(*key, customer_, manifest, !held.empty())
                   : result<std::optional<Manifest>>(key.err());
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
      result<void> vouched = !listed   ? result<void>(listed.err())
                             : *listed ? (*listed)->check(field, row)
                                       : ok();
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
      result<SecretBytes> plain = open_field(**key, customer_, field, row->sealed, row->format,
                                             FieldMetadata{row->source, row->collected_at});
      if (!plain) {
        refuse(name, kIntegrityReason, std::move(plain).err());
        continue;
      }
      std::string tweak;
      auto keys = v.keys().form_keys(d.form, purpose_, field, tweak);
      if (!keys) return std::move(keys).err();
      auto shown = apply_form(d.form, spec.type, plain->reveal_string(), *keys);
      if (!shown) {
        deny(name,
             shown.err().reason == deny_reason::none ? deny_reason::form_unavailable : shown.err().reason);
        continue;
      }
      revealed.push_back(format_read_field(name, d.form.to_string()));
      out.emplace_back(FieldValue{name, std::move(*shown), d.form});
    }
    // Erasure deletes every value and consent event, so a read of an erased customer is refused
    // or finds nothing; it is checked on those paths only, leaving allowed reads alone.
    if (unanswered) {
      auto erased = v.is_erased(e.customer);
      if (!erased) return std::move(erased).err();
      if (*erased) {
        e.action = AuditAction::access_denied;
        e.allowed = false;
        e.reason = std::string(to_string(deny_reason::erased));
        e.fields.assign(fields.begin(), fields.end());
        out.clear();
      }
    }
  }
  if (!e.allowed) {
    CONSENTRY_TRY(v.audit().record({std::move(e)}));
    return erased_error("");
  }
  std::vector<AuditEntry> entries;
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
  // The entries are committed (or queued, in batched mode) before any value leaves the library.
  CONSENTRY_TRY(v.audit().record(std::move(entries)));
  return out;
}

}  // namespace consentry
