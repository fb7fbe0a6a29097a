// lookup.cpp: blind indexes (docs/lookup.md): the entry written beside an indexed value, and
// Accessor::find, which searches by one. The index only names candidates; each is decided like a
// read and, when allowed, decrypted and compared, so the answer holds no false positive.
#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "consentry/vault.hpp"
#include "crypto/blind_index.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// lookup_refusal is why `accessor` may not search by `field` for `purpose`, or nullopt.
std::optional<deny_reason> lookup_refusal(const Policy& policy, const std::string& accessor,
                                          std::string_view purpose, std::string_view field) {
  if (!policy.purpose(purpose)) return deny_reason::unknown_purpose;
  if (!policy.accessor_may_use(accessor, purpose)) return deny_reason::accessor_not_registered;
  const FieldSpec* spec = policy.field(field);
  if (!spec) return deny_reason::unknown_field;
  if (!spec->lookup_allowed(purpose)) return deny_reason::lookup_not_allowed;
  return std::nullopt;
}

// lookup_form is the text a blind index hashes and a search compares: the normalised value, and
// for an email address the whole of it lowercased (its local part too, which providers treat
// alike whatever its case), so that Ann@Example.com finds ann@example.com.
std::string lookup_form(FieldType type, std::string_view normalised) {
  std::string out(normalised);
  if (type == FieldType::email)
    for (char& c : out)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// same_lookup_form is lookup_form(type, stored) == wanted, without copying the decrypted value
// and without an early exit at the first differing byte.
bool same_lookup_form(FieldType type, std::string_view stored, std::string_view wanted) {
  if (stored.size() != wanted.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < stored.size(); ++i) {
    char c = stored[i];
    if (type == FieldType::email && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    diff |= static_cast<unsigned char>(c ^ wanted[i]);
  }
  return diff == 0;
}

// join_fields and split_fields write and read kMetaLookupReindex's comma-separated names (field
// names hold no comma).
std::string join_fields(const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields) out += (out.empty() ? "" : ",") + f;
  return out;
}

std::vector<std::string> split_fields(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

bytes text_bytes(std::string_view text) {
  return bytes(text.begin(), text.end());
}

}  // namespace

result<std::vector<std::string>> lookup_reindex_fields(Store& store) {
  auto row = store.get_meta(kMetaLookupReindex);
  if (!row) return std::move(row).err();
  if (!*row) return std::vector<std::string>{};
  return split_fields(std::string_view(reinterpret_cast<const char*>((*row)->data()), (*row)->size()));
}

result<void> ask_lookup_reindex(Store& store, const std::vector<std::string>& fields) {
  auto pending = lookup_reindex_fields(store);
  if (!pending) return std::move(pending).err();
  std::vector<std::string> all = std::move(*pending);
  const bool fresh = all.empty();
  for (const std::string& f : fields)
    if (std::find(all.begin(), all.end(), f) == all.end()) all.push_back(f);
  if (all.empty()) return ok();
  // A walk already under way goes on from where it is; a new one starts at the first customer.
  if (fresh) CONSENTRY_TRY(store.delete_meta(kMetaLookupReindexAfter));
  return store.put_meta(kMetaLookupReindex, text_bytes(join_fields(all)));
}

result<std::int64_t> Vault::reindex_lookups(std::size_t batch) {
  Impl& impl = *impl_;
  if (batch == 0) return make_error(errc::invalid_argument, "reindex_lookups: batch is 0");
  std::int64_t done = 0;
  for (;;) {
    std::lock_guard lock(impl.store_mu);
    Store& store = *impl.store;
    auto txn = Transaction::start(store);
    if (!txn) return std::move(txn).err();
    auto pending = lookup_reindex_fields(store);
    if (!pending) return std::move(pending).err();
    if (pending->empty()) return done;
    auto in_force = impl.follow_policy();
    if (!in_force) return std::move(in_force).err();
    // The live master key versions as this batch commits: data keys wrapped under one another
    // process added open, and entries are made under the current one, as write() makes them.
    CONSENTRY_TRY(impl.follow_master_keys());
    auto cursor = store.get_meta(kMetaLookupReindexAfter);
    if (!cursor) return std::move(cursor).err();
    const std::string after = *cursor ? std::string((*cursor)->begin(), (*cursor)->end()) : std::string();
    const std::string& field = pending->front();
    auto rows = store.fields_collected_before(field, timestamp::max(), after, batch);
    if (!rows) return std::move(rows).err();
    if (rows->empty()) {
      // This field is done: the next one starts from the first customer.
      pending->erase(pending->begin());
      CONSENTRY_TRY(store.delete_meta(kMetaLookupReindexAfter));
      if (pending->empty())
        CONSENTRY_TRY(store.delete_meta(kMetaLookupReindex));
      else
        CONSENTRY_TRY(store.put_meta(kMetaLookupReindex, text_bytes(join_fields(*pending))));
      CONSENTRY_TRY(txn->commit());
      continue;
    }
    for (const MaintenanceStore::FieldTime& row : *rows) {
      auto dek = impl.data_key(row.customer);
      if (!dek) return std::move(dek).err();
      if (!*dek)
        return make_error(errc::integrity, "a stored value has no data key; the index was not built");
      CONSENTRY_TRY(
          impl.reindex_customer((*in_force)->policy, row.customer, **dek, impl.keyring().version(), true));
    }
    CONSENTRY_TRY(store.put_meta(kMetaLookupReindexAfter, text_bytes(rows->back().customer)));
    CONSENTRY_TRY(txn->commit());
    done += static_cast<std::int64_t>(rows->size());
  }
}

result<StoredLookup> Vault::Impl::lookup_entry(const FieldSpec& spec, std::string_view customer,
                                               std::string_view normalised, std::uint32_t version) const {
  auto key = keyring_.derive_version_key(version, blind_index_label(spec.name));
  if (!key) return std::move(key).err();
  return StoredLookup{std::string(customer), spec.name, version,
                      blind_index(*key, spec.name, lookup_form(spec.type, normalised), spec.lookup_bits)};
}

result<void> Vault::Impl::reindex_customer(const Policy& policy, const std::string& customer,
                                           const SecretBytes& dek, std::uint32_t version,
                                           bool rebuild) const {
  auto entries = store->get_lookups(customer);
  if (!entries) return std::move(entries).err();
  const bool any_indexed = std::any_of(policy.fields().begin(), policy.fields().end(),
                                       [](const FieldSpec& f) { return f.is_indexed(); });
  if (entries->empty() && !any_indexed) return ok();
  auto values = store->get_fields(customer);
  if (!values) return std::move(values).err();
  auto value_of = [&](std::string_view field) -> const StoredField* {
    for (const StoredField& f : *values)
      if (f.field == field) return &f;
    return nullptr;
  };
  for (const StoredLookup& e : *entries) {
    const FieldSpec* spec = policy.field(e.field);
    if (!spec || !spec->is_indexed() || !value_of(e.field))
      CONSENTRY_TRY(store->delete_lookup(customer, e.field));
  }
  for (const StoredField& row : *values) {
    const FieldSpec* spec = policy.field(row.field);
    if (!spec || !spec->is_indexed()) continue;
    const auto held = std::find_if(entries->begin(), entries->end(),
                                   [&](const StoredLookup& e) { return e.field == row.field; });
    if (!rebuild && held != entries->end() && held->key_version == version) continue;
    auto plain = open_field(dek, customer, row.field, row.sealed, row.format,
                            FieldMetadata{row.source, row.collected_at});
    if (!plain) return std::move(plain).err();
    auto entry = lookup_entry(*spec, customer, plain->reveal_string(), version);
    if (!entry) return std::move(entry).err();
    CONSENTRY_TRY(store->put_lookup(*entry));
  }
  return ok();
}

result<std::vector<std::string>> Accessor::find(std::string_view purpose, std::string_view field,
                                                std::string_view value) const {
  const Vault::Impl& v = *vault_;
  std::optional<deny_reason> refused;
  std::vector<std::string> found;
  std::vector<std::string> found_tags;
  std::size_t candidates = 0;
  {
    std::lock_guard lock(v.store_mu);
    // The policy, the master keys, the index and every candidate's ledger, key and value are
    // read in one committed state: a withdrawal committed before the search denies it.
    auto snapshot = ReadSnapshot::open(*v.store);
    if (!snapshot) return std::move(snapshot).err();
    auto in_force = v.follow_policy();
    if (!in_force) return std::move(in_force).err();
    const Policy& policy = (*in_force)->policy;
    refused = lookup_refusal(policy, id_, purpose, field);
    if (!refused) {
      const FieldSpec& spec = *policy.field(field);
      // An index a policy change left half built would miss customers: say so rather than answer.
      auto building = lookup_reindex_fields(*v.store);
      if (!building) return std::move(building).err();
      if (std::find(building->begin(), building->end(), spec.name) != building->end())
        return make_error(errc::io, "the index of field '" + spec.name +
                                        "' is being built after a policy change; finish it with "
                                        "`consentry policy reindex` (Vault::reindex_lookups)");
      auto normalised = normalise_value(spec.type, spec.name, value, policy.default_region());
      if (!normalised) return std::move(normalised).err();
      const std::string wanted = lookup_form(spec.type, *normalised);
      // Entries are made under the master key version current when their value was written; a
      // rotation moves them to the new one customer by customer, so every live version is asked.
      CONSENTRY_TRY(v.follow_master_keys());
      std::set<std::string> named;
      for (const std::uint32_t version : v.keyring().versions()) {
        auto entry = v.lookup_entry(spec, "", wanted, version);
        if (!entry) return std::move(entry).err();
        auto hits = v.store->find_lookup(spec.name, version, entry->index);
        if (!hits) return std::move(hits).err();
        named.insert(std::make_move_iterator(hits->begin()), std::make_move_iterator(hits->end()));
      }
      candidates = named.size();
      const timestamp now = v.now();
      const std::string_view value_field[] = {spec.name};
      // A purpose on contract, legal obligation or vital interest decides a field that is not
      // inferred without the ledger: it is not read then.
      const bool ledger = decision_reads_ledger(policy, purpose, spec.name);
      const std::string_view manifest_field[] = {kManifestField};
      for (const std::string& customer : named) {
        // Each candidate's ledger (when the decision needs it), key and value in one read. Its
        // erasure mark and manifest are read only once its value matches: a candidate that does
        // not match is dropped whatever they say.
        std::shared_ptr<const SecretBytes> cached = v.keys().share_data_key(customer);
        auto read = v.store->read_customer_parts(
            CustomerReadRequest{customer, "", cached == nullptr, ledger, value_field, {}});
        if (!read) return std::move(read).err();
        // Decided as a read of the field for the purpose; a refused candidate is not decrypted.
        const ConsentState state = ConsentState::from_history(read->history);
        const Decision d = decide(policy, state, id_, purpose, spec.name, now, &(*in_force)->renewal);
        if (!d.allowed) continue;
        if (read->fields.empty()) continue;  // an index entry whose value is gone names no one
        const StoredField& row = read->fields.front();
        if (spec.retention && spec.retention->after(row.collected_at) <= now) continue;
        auto key = v.data_key_of(customer, read->key, std::move(cached));
        if (!key) return std::move(key).err();
        if (*key) {
          auto plain = open_field(**key, customer, spec.name, row.sealed, row.format,
                                  FieldMetadata{row.source, row.collected_at});
          if (!plain) return std::move(plain).err();
          if (!same_lookup_form(spec.type, plain->reveal_string(), wanted)) continue;
        }
        // A match, or a value with no data key to open it: an erased customer is not found, and
        // otherwise the value must be the one the customer's manifest vouches for (not an older
        // value put back), as a read checks it; a value without a data key fails that check
        // (vouching_manifest refuses a value read without one).
        std::string tag = v.audit_pseudonym(customer);
        auto vouch = v.store->read_customer_parts(
            CustomerReadRequest{customer, tag, false, false, manifest_field, {}});
        if (!vouch) return std::move(vouch).err();
        if (vouch->erased_at) continue;
        std::optional<StoredField> manifest = take_manifest(vouch->fields);
        auto listed = vouching_manifest(key->get(), customer, manifest, true);
        if (!listed) return std::move(listed).err();
        if (*listed) CONSENTRY_TRY((*listed)->check(spec.name, &row));
        found.push_back(customer);
        found_tags.push_back(std::move(tag));
      }
    }
  }
  if (refused) {
    AuditEntry e = v.entry(AuditAction::access_denied, "", id_, purpose);
    e.allowed = false;
    e.reason = std::string(to_string(*refused));
    e.fields = {std::string(field)};
    e.actor = v.read_actor(id_);
    CONSENTRY_TRY(v.audit().record({std::move(e)}));
    return make_error(errc::denied,
                      "searching by field '" + std::string(field) + "' for purpose '" + std::string(purpose) +
                          "' as accessor '" + id_ + "': " + std::string(to_string(*refused)),
                      *refused);
  }
  // One entry per customer found, so that "who accessed my data" answers for each; one naming
  // no customer when the search found no one. Committed (or queued) before the answer leaves.
  std::vector<AuditEntry> entries;
  const std::string reason = lookup_reason(candidates, found.size());
  auto lookup_entry = [&](std::string tag) {
    AuditEntry e = tag.empty() ? v.entry(AuditAction::lookup, "", id_, purpose)
                               : v.entry_for_pseudonym(AuditAction::lookup, std::move(tag), id_, purpose);
    e.reason = reason;
    e.fields = {std::string(field)};
    e.actor = v.read_actor(id_);
    entries.push_back(std::move(e));
  };
  if (found.empty()) lookup_entry("");
  for (std::string& tag : found_tags) lookup_entry(std::move(tag));
  CONSENTRY_TRY(v.audit().record(std::move(entries)));
  return found;
}

}  // namespace consentry
