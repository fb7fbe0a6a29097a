// write.cpp: Vault::write, how values enter the vault: every record validated and decided
// (decide_write) before anything is written, then sealed under the customer's data key, listed in
// their manifest, indexed when the field has a blind index, and audited, all in one transaction.
#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "consentry/vault.hpp"
#include "crypto/aead.hpp"
#include "text/error_list.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// The source recorded for a value written without one.
constexpr std::string_view kDefaultSource = "import";

// located gives "origin:line: " (what is known of it) to put before a message.
std::string located(std::string_view origin, std::size_t line) {
  std::string s;
  if (!origin.empty()) s.append(origin).append(":");
  if (line > 0) s.append(std::to_string(line)).append(":");
  if (!s.empty()) s.append(" ");
  return s;
}

// write_refusal is the errc::denied error of a write that decide_write refused, located at `at`.
error write_refusal(const Decision& d, const std::string& at, std::string_view field,
                    std::string_view source) {
  if (d.reason == deny_reason::source_not_permitted)
    return make_error(errc::denied,
                      at + "field '" + std::string(field) + "' does not accept values from source '" +
                          std::string(source) + "'",
                      d.reason);
  if (d.reason == deny_reason::inference_needs_profiling)
    return make_error(errc::denied, at + "inferred fields need the customer's consent to profiling",
                      d.reason);
  return make_error(errc::denied, at + "field '" + std::string(field) + "' cannot be written", d.reason);
}

}  // namespace

result<void> Vault::write(const std::vector<Record>& records, std::string_view origin,
                          const WriteOptions& options) {
  Impl& impl = *impl_;
  // Entries held back from reads go first, so they keep their place before this write's.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  const timestamp now = impl.now();
  Store& store = *impl.store;
  auto txn = Transaction::start(store);
  if (!txn) return std::move(txn).err();
  // Checked against the policy in force as this transaction sees it: a version another process
  // put in force is followed.
  auto in_force = impl.follow_policy();
  if (!in_force) return std::move(in_force).err();
  const Policy& policy = (*in_force)->policy;
  // Validate everything before writing anything, so a bad record changes nothing.
  struct Pending {
    const Record* record;
    std::string_view source;                                       // the record's, or kDefaultSource
    std::vector<std::pair<const FieldSpec*, std::string>> values;  // normalised
    bool needs_profiling = false;                                  // an inferred field is among them
  };
  auto validate = [&](const Record& r) -> result<Pending> {
    const std::string at = located(origin, r.line);
    if (auto c = check_identifier("customer id", r.customer, kMaxCustomerIdBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    const std::string_view source = r.source.empty() ? kDefaultSource : std::string_view(r.source);
    if (auto c = check_identifier("source", source, kMaxDetailBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    if (r.collected_at && *r.collected_at > now + std::chrono::days(1))
      return make_error(errc::bad_input, at + "collected_at is in the future");
    Pending p{&r, source, {}};
    for (const auto& [name, value] : r.fields) {
      const FieldSpec* f = policy.field(name);
      if (!f) return make_error(errc::bad_input, at + "field '" + name + "' is not declared in the policy");
      auto v = normalise_value(f->type, name, value, policy.default_region());
      if (!v) return make_error(errc::bad_input, at + v.err().message);
      // The source is decided here, before anything is read; consent to profiling only inside
      // the transaction below. Granted stands in for it here, so only the source can refuse.
      if (auto d = decide_write(policy, name, source, ConsentStatus::granted); !d.allowed)
        return write_refusal(d, at, name, source);
      p.needs_profiling = p.needs_profiling || f->is_inferred();
      p.values.emplace_back(f, std::move(*v));
    }
    return p;
  };
  // Every record is checked, and every bad one reported (up to kMaxReportedBadLines).
  std::vector<Pending> pending;
  pending.reserve(records.size());
  detail::ErrorList errors(kMaxReportedBadLines);
  for (const Record& r : records) {
    auto p = validate(r);
    if (!p) {
      errors.add(std::move(p).err());
    } else if (!errors.any()) {
      pending.push_back(std::move(*p));
    }
  }
  if (errors.any()) return errors.to_error(origin);

  // What the ledger decides is decided inside the write transaction, against the ledger as
  // committed: an erasure or a withdrawal of consent to profiling committed by another process
  // is either seen here, or commits after this write and takes what it wrote with it.
  // The erasure marks and data keys of every record's customer are asked for at once, so a store
  // that sends writes in batches (PostgreSQL) sends no read between them.
  std::vector<std::string> tags;
  tags.reserve(pending.size());
  for (const Pending& p : pending) tags.push_back(impl.audit_pseudonym(p.record->customer));
  std::unordered_set<std::string> erased;
  {
    const std::vector<std::string_view> asked(tags.begin(), tags.end());
    auto found = store.erased_among(asked);
    if (!found) return std::move(found).err();
    erased.insert(std::make_move_iterator(found->begin()), std::make_move_iterator(found->end()));
  }
  std::unordered_set<std::string_view> keyless;  // customers with no data key, before this write
  {
    std::vector<std::string_view> asked;
    for (const Pending& p : pending)
      if (!impl.keys().find_data_key(p.record->customer)) asked.push_back(p.record->customer);
    auto keyed = store.with_data_keys(asked);
    if (!keyed) return std::move(keyed).err();
    const std::unordered_set<std::string> has_key(keyed->begin(), keyed->end());
    for (std::string_view customer : asked)
      if (has_key.count(std::string(customer)) == 0) keyless.insert(customer);
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const Pending& p = pending[i];
    const Record& r = *p.record;
    // An erased customer stays erased: new data would bring back what they asked to be rid of.
    if (erased.count(tags[i]) != 0) {
      errors.add(erased_error(located(origin, r.line)));
      continue;
    }
    if (p.needs_profiling) {
      auto state = impl.consent_state(r.customer);
      if (!state) return std::move(state).err();
      const ConsentStatus profiling = state->status(Policy::kProfilingPurpose, now);
      for (const auto& [spec, value] : p.values) {
        if (auto d = decide_write(policy, spec->name, p.source, profiling); !d.allowed) {
          errors.add(write_refusal(d, located(origin, r.line), spec->name, p.source));
          break;
        }
      }
    }
  }
  if (errors.any()) return errors.to_error(origin);
  // A dry run stops here, every check made: the transaction rolls back, having written nothing.
  if (options.dry_run) return ok();
  // follow_current_version() once, at the first new data key or blind index entry.
  bool version_checked = false;
  // Data keys made in this transaction are cached only after it commits.
  std::unordered_map<std::string, SecretBytes> new_keys;
  std::vector<AuditEntry> entries;
  if (impl.audit().enabled()) entries.reserve(pending.size());
  ManifestEdits manifests(store);
  for (const Pending& p : pending) {
    const Record& r = *p.record;
    const SecretBytes* dek = nullptr;
    if (auto it = new_keys.find(r.customer); it != new_keys.end()) {
      dek = &it->second;
    } else {
      if (keyless.count(r.customer) == 0) {
        auto existing = impl.data_key(r.customer);
        if (!existing) return std::move(existing).err();
        dek = *existing;
      }
      if (!dek) {
        // Under the version current as this transaction commits: another process may have
        // rotated, and retired the version this vault opened with, since it opened.
        if (!version_checked) CONSENTRY_TRY(impl.follow_current_version());
        version_checked = true;
        SecretBytes key = Keyring::new_data_key();
        auto wrapped = impl.keyring().wrap_data_key(r.customer, key);
        if (!wrapped) return std::move(wrapped).err();
        CONSENTRY_TRY(store.put_key(StoredKey{r.customer, impl.keyring().version(), std::move(*wrapped)}));
        dek = &new_keys.emplace(r.customer, std::move(key)).first->second;
      }
    }
    StoredField sf;
    sf.customer = r.customer;
    sf.source = r.source.empty() ? std::string(kDefaultSource) : r.source;
    sf.collected_at = r.collected_at.value_or(now);
    // Format 2 binds the source and collection time; the manifest lists the new rows.
    sf.format = kFieldSealMetadataVersion;
    auto listed = manifests.open(r.customer, *dek, new_keys.count(r.customer) != 0);
    if (!listed) return std::move(listed).err();
    for (const auto& [spec, value] : p.values) {
      auto sealed =
          seal_field(*dek, r.customer, spec->name, value, FieldMetadata{sf.source, sf.collected_at});
      if (!sealed) return std::move(sealed).err();
      sf.field = spec->name;
      sf.sealed = std::move(*sealed);
      CONSENTRY_TRY(store.put_field(sf));
      (*listed)->note(sf);
      if (spec->is_indexed()) {
        // The index entry is made under the version current as this transaction commits, like
        // a new data key, so that a retirement never leaves it under a version that is gone.
        if (!version_checked) CONSENTRY_TRY(impl.follow_current_version());
        version_checked = true;
        auto entry = impl.lookup_entry(*spec, r.customer, value, impl.keyring().version());
        if (!entry) return std::move(entry).err();
        CONSENTRY_TRY(store.put_lookup(*entry));
      }
    }
    CONSENTRY_TRY(manifests.store(r.customer, *dek));
    if (impl.audit().enabled()) {
      AuditEntry e = impl.entry(AuditAction::value_written, r.customer, impl.options.actor, "");
      for (const auto& [spec, value] : p.values) e.fields.push_back(spec->name);
      e.reason = sf.source;
      entries.push_back(std::move(e));
    }
  }
  // The values and their audit entries commit together or not at all.
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  for (auto& [customer, key] : new_keys) impl.keys().keep_data_key(customer, std::move(key));
  return ok();
}

}  // namespace consentry
