// store.cpp: the default implementations of the roles' optional methods: those a role builds on
// its own calls (KeyFieldStore::get_named_fields and with_data_keys, MaintenanceStore::erased_among,
// AuditLogStore::scan_audit_copying_views), and
// those Store builds on another role's (Store::read_customer among them), and the defaults of
// Store::open_companion and Store::open_reader (none).
#include "consentry/extension/store.hpp"

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace consentry {

result<void> Store::scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                           const std::function<bool(const PurposePosition&)>& visit) {
  auto customers_with_keys = customers();
  if (!customers_with_keys) return std::move(customers_with_keys).err();
  auto events = purpose_history(purpose);
  if (!events) return std::move(events).err();
  // Both lists are sorted by customer, and each customer's events are in ledger order: one merge
  // pass finds every customer's last event.
  auto e = events->begin();
  for (const std::string& customer : *customers_with_keys) {
    while (e != events->end() && std::string_view(e->customer) < customer) ++e;
    PurposePosition position{customer, std::nullopt, std::nullopt, 0};
    for (; e != events->end() && e->customer == customer; ++e) {
      position.action = e->action;
      position.expires_at = e->expires_at;
      position.policy_version = e->policy_version;
    }
    if (only_with_events && !position.action) continue;
    if (!visit(position)) break;
  }
  return ok();
}

result<std::unique_ptr<Store>> Store::open_companion() {
  return std::unique_ptr<Store>();
}

result<std::unique_ptr<Store>> Store::open_reader() {
  return std::unique_ptr<Store>();
}

result<CustomerRead> Store::read_customer(const CustomerReadRequest& request) {
  if (request.in_snapshot) return read_customer_parts(request);
  auto snapshot = ReadSnapshot::open(*this);
  if (!snapshot) return std::move(snapshot).err();
  return read_customer_parts(request);
}

result<std::vector<CustomerRead>> Store::read_customers(std::span<const CustomerReadRequest> requests) {
  if (std::any_of(requests.begin(), requests.end(),
                  [](const CustomerReadRequest& r) { return !r.in_snapshot; }))
    return make_error(errc::internal, "read_customers: a request outside the caller's read snapshot");
  std::vector<CustomerRead> out;
  out.reserve(requests.size());
  for (const CustomerReadRequest& request : requests) {
    auto read = read_customer(request);
    if (!read) return std::move(read).err();
    out.push_back(std::move(*read));
  }
  return out;
}

result<CustomerRead> Store::read_customer_parts(const CustomerReadRequest& request) {
  CustomerRead out;
  if (!request.tag.empty()) {
    auto erased = erased_at(request.tag);
    if (!erased) return std::move(erased).err();
    out.erased_at = *erased;
  }
  if (request.key) {
    auto key = get_key(request.customer);
    if (!key) return std::move(key).err();
    out.key = std::move(*key);
  }
  if (request.history) {
    auto history = consent_history(request.customer);
    if (!history) return std::move(history).err();
    out.history = std::move(*history);
  }
  if (!request.meta.empty()) {
    auto meta = get_meta(request.meta);
    if (!meta) return std::move(meta).err();
    out.meta = std::move(*meta);
  }
  if (!request.fields.empty()) {
    auto fields = get_named_fields(request.customer, request.fields);
    if (!fields) return std::move(fields).err();
    out.fields = std::move(*fields);
  }
  return out;
}

result<std::vector<StoredField>> KeyFieldStore::get_named_fields(std::string_view customer,
                                                                 std::span<const std::string_view> fields) {
  std::vector<StoredField> out;
  for (std::string_view field : fields) {
    if (std::any_of(out.begin(), out.end(), [&](const StoredField& f) { return f.field == field; })) continue;
    auto got = get_field(customer, field);
    if (!got) return std::move(got).err();
    if (*got) out.push_back(std::move(**got));
  }
  return out;
}

result<std::vector<std::string>> KeyFieldStore::with_data_keys(std::span<const std::string_view> customers) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> asked;
  for (std::string_view customer : customers) {
    if (!asked.insert(customer).second) continue;
    auto key = get_key(customer);
    if (!key) return std::move(key).err();
    if (*key) out.emplace_back(customer);
  }
  return out;
}

result<std::vector<std::string>> MaintenanceStore::erased_among(std::span<const std::string_view> tags) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> asked;
  for (std::string_view tag : tags) {
    if (!asked.insert(tag).second) continue;
    auto at = erased_at(tag);
    if (!at) return std::move(at).err();
    if (*at) out.emplace_back(tag);
  }
  return out;
}

result<void> AuditLogStore::scan_audit_copying_views(
    std::int64_t from, const std::function<bool(const StoredAuditEntry&)>& visit) {
  // One entry object for every row: its buffers keep their capacity, so a long scan copies
  // each column once and allocates only while the buffers grow.
  StoredAuditEntry row;
  return scan_audit_views(from, [&](const StoredAuditView& v) {
    row.seq = v.seq;
    row.at = v.at;
    row.customer.assign(v.customer);
    row.encoded.assign(v.encoded.begin(), v.encoded.end());
    row.hash.assign(v.hash.begin(), v.hash.end());
    row.chain = v.chain;
    return visit(row);
  });
}

result<bool> Store::append_audit_chain_durably(const AuditHead& previous,
                                               const std::vector<StoredAuditEntry>& entries) {
  auto txn = Transaction::start_append(*this, true);
  if (!txn) return std::move(txn).err();
  auto moved = append_audit_chain(previous, entries);
  if (!moved) return moved;
  CONSENTRY_TRY(txn->commit());
  return moved;
}

namespace {

// no_writer_chains is what a store with one audit chain answers to the calls of many chains.
error no_writer_chains(std::string_view call) {
  return make_error(errc::internal, std::string(call) + ": this store keeps one audit chain");
}

}  // namespace

result<std::int64_t> AuditLogStore::claim_audit_chain() {
  return no_writer_chains("claim_audit_chain");
}

result<std::optional<AuditHead>> AuditLogStore::audit_chain_head(std::int64_t) {
  return no_writer_chains("audit_chain_head");
}

result<bool> AuditLogStore::append_audit_chain(const AuditHead&, const std::vector<StoredAuditEntry>&) {
  return no_writer_chains("append_audit_chain");
}

result<std::vector<AuditHead>> AuditLogStore::audit_chain_heads() {
  return no_writer_chains("audit_chain_heads");
}

result<bool> AuditLogStore::put_chain_checkpoint(const AuditCheckpoint&) {
  return no_writer_chains("put_chain_checkpoint");
}

result<std::optional<AuditCheckpoint>> AuditLogStore::last_checkpoint() {
  auto all = checkpoints();
  if (!all) return std::move(all).err();
  if (all->empty()) return std::optional<AuditCheckpoint>{};
  return std::optional<AuditCheckpoint>{std::move(all->back())};
}

result<std::vector<std::pair<std::string, std::int64_t>>> Store::field_counts() {
  auto all = customers();
  if (!all) return std::move(all).err();
  std::map<std::string, std::int64_t, std::less<>> counts;
  for (const std::string& customer : *all) {
    auto held = get_fields(customer);
    if (!held) return std::move(held).err();
    for (const StoredField& f : *held)
      if (f.field != kManifestField) ++counts[f.field];
  }
  return std::vector<std::pair<std::string, std::int64_t>>(counts.begin(), counts.end());
}

}  // namespace consentry
