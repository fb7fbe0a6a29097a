// memory_store.cpp: a Store held in maps, with the SQLite store's semantics, for tests. Its calls
// come in the order of the roles (store/*.hpp).
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"

namespace consentry {
namespace {

class MemoryStore final : public Store {
 public:
  // ---- StoreTransactions ----

  result<void> begin() override {
    if (snapshot_) return make_error(errc::internal, "begin: a transaction is already open");
    // A full copy is the simplest exact rollback; test data sets are small.
    snapshot_ = state_;
    return ok();
  }

  result<void> commit() override {
    if (!snapshot_) return make_error(errc::internal, "commit: no transaction is open");
    snapshot_.reset();
    ++commits_;
    return ok();
  }

  result<void> rollback() override {
    if (!snapshot_) return make_error(errc::internal, "rollback: no transaction is open");
    // Restoring next_seq too matches SQLite, whose AUTOINCREMENT counter is rolled back as well.
    state_ = std::move(*snapshot_);
    snapshot_.reset();
    return ok();
  }

  // Nothing here outlives the process, so there is no disk to wait for.
  result<void> begin_unsynced() override { return begin(); }

  // Every call already sees the one state there is.
  result<void> begin_read() override {
    if (snapshot_) return make_error(errc::internal, "begin_read: a transaction is open");
    return ok();
  }
  void end_read() noexcept override {}
  // Every commit counts, and every change made outside a transaction: the store cannot tell
  // which of the objects sharing it made them.
  result<std::optional<std::uint64_t>> data_version() override {
    return std::optional<std::uint64_t>(commits_);
  }

  // ---- KeyFieldStore ----

  result<std::optional<bytes>> get_meta(std::string_view key) override {
    auto it = state_.meta.find(key);
    if (it == state_.meta.end()) return std::optional<bytes>();
    return std::optional<bytes>(it->second);
  }

  result<void> put_meta(std::string_view key, byte_view value) override {
    changed_outside_transaction();
    state_.meta.insert_or_assign(std::string(key), bytes(value.begin(), value.end()));
    return ok();
  }

  result<void> delete_meta(std::string_view key) override {
    changed_outside_transaction();
    if (auto it = state_.meta.find(key); it != state_.meta.end()) state_.meta.erase(it);
    return ok();
  }

  result<std::optional<StoredKey>> get_key(std::string_view customer) override {
    auto it = state_.keys.find(customer);
    if (it == state_.keys.end()) return std::optional<StoredKey>();
    return std::optional<StoredKey>(it->second);
  }

  result<void> put_key(const StoredKey& key) override {
    changed_outside_transaction();
    state_.keys.insert_or_assign(key.customer, key);
    return ok();
  }

  result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) override {
    auto c = state_.fields.find(customer);
    if (c == state_.fields.end()) return std::optional<StoredField>();
    auto f = c->second.find(field);
    if (f == c->second.end()) return std::optional<StoredField>();
    return std::optional<StoredField>(f->second);
  }

  result<std::vector<StoredField>> get_fields(std::string_view customer) override {
    std::vector<StoredField> out;
    auto c = state_.fields.find(customer);
    if (c == state_.fields.end()) return out;
    // The inner map is keyed by field name, so iteration is already in field-name order.
    for (const auto& [name, f] : c->second) out.push_back(f);
    return out;
  }

  result<void> put_field(const StoredField& f) override {
    changed_outside_transaction();
    state_.fields[f.customer].insert_or_assign(f.field, f);
    return ok();
  }

  result<void> put_lookup(const StoredLookup& entry) override {
    changed_outside_transaction();
    state_.lookups[entry.customer].insert_or_assign(entry.field, entry);
    return ok();
  }

  result<void> delete_lookup(std::string_view customer, std::string_view field) override {
    changed_outside_transaction();
    auto c = state_.lookups.find(customer);
    if (c == state_.lookups.end()) return ok();
    if (auto f = c->second.find(field); f != c->second.end()) c->second.erase(f);
    if (c->second.empty()) state_.lookups.erase(c);
    return ok();
  }

  // A scan: test data sets are small. Customers come out sorted, as the map holds them.
  result<std::vector<std::string>> find_lookup(std::string_view field, std::uint32_t key_version,
                                               std::int64_t index) override {
    std::vector<std::string> out;
    for (const auto& [customer, entries] : state_.lookups) {
      auto f = entries.find(field);
      if (f != entries.end() && f->second.key_version == key_version && f->second.index == index)
        out.push_back(customer);
    }
    return out;
  }

  result<std::vector<StoredLookup>> get_lookups(std::string_view customer) override {
    std::vector<StoredLookup> out;
    auto c = state_.lookups.find(customer);
    if (c == state_.lookups.end()) return out;
    for (const auto& [field, entry] : c->second) out.push_back(entry);
    return out;
  }

  result<std::vector<std::string>> customers() override {
    std::vector<std::string> out;
    out.reserve(state_.keys.size());
    for (const auto& [customer, key] : state_.keys) out.push_back(customer);
    return out;
  }

  result<bool> knows(std::string_view customer) override {
    if (state_.keys.find(customer) != state_.keys.end()) return true;
    for (const auto& e : state_.events)
      if (e.customer == customer) return true;
    return false;
  }

  // ---- LedgerStore ----

  result<ConsentEvent> append_consent(const ConsentEvent& e) override {
    changed_outside_transaction();
    ConsentEvent stored = e;
    stored.seq = state_.next_seq++;
    state_.events.push_back(stored);
    return stored;
  }

  result<std::vector<ConsentEvent>> consent_history(std::string_view customer) override {
    std::vector<ConsentEvent> out;
    for (const auto& e : state_.events)
      if (e.customer == customer) out.push_back(e);
    return out;
  }

  result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) override {
    std::vector<ConsentEvent> out;
    for (const auto& e : state_.events)
      if (e.purpose == purpose) out.push_back(e);
    // events is in ledger order, so a stable sort by customer leaves each customer's in seq order.
    std::stable_sort(out.begin(), out.end(),
                     [](const ConsentEvent& a, const ConsentEvent& b) { return a.customer < b.customer; });
    return out;
  }

  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override {
    // events is in ledger order, so the last event seen for a customer is their last one.
    std::map<std::string_view, const ConsentEvent*> last;
    for (const auto& e : state_.events)
      if (e.purpose == purpose) last.insert_or_assign(e.customer, &e);
    for (const auto& [customer, key] : state_.keys) {
      PurposePosition position{customer, std::nullopt, std::nullopt, 0};
      if (auto it = last.find(customer); it != last.end()) {
        position.action = it->second->action;
        position.expires_at = it->second->expires_at;
        position.policy_version = it->second->policy_version;
      } else if (only_with_events) {
        continue;
      }
      if (!visit(position)) break;
    }
    return ok();
  }

  result<ContactEvent> append_contact(const ContactEvent& e) override {
    changed_outside_transaction();
    ContactEvent stored = e;
    stored.seq = ++state_.last_contact_seq;
    state_.contacts.push_back(stored);
    return stored;
  }

  result<std::vector<ContactEvent>> contacts(std::string_view customer) override {
    std::vector<ContactEvent> out;
    for (const ContactEvent& e : state_.contacts)
      if (e.customer == customer) out.push_back(e);
    return out;
  }

  result<ContactPreference> append_contact_preference(const ContactPreference& p) override {
    changed_outside_transaction();
    ContactPreference stored = p;
    stored.seq = ++state_.last_preference_seq;
    state_.preferences.push_back(stored);
    return stored;
  }

  result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) override {
    std::vector<ContactPreference> out;
    for (const ContactPreference& p : state_.preferences)
      if (p.customer == customer) out.push_back(p);
    return out;
  }

  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override {
    changed_outside_transaction();
    PrivacySpend stored = s;
    stored.seq = static_cast<std::int64_t>(state_.privacy_spends.size()) + 1;
    state_.privacy_spends.push_back(stored);
    return stored;
  }

  result<std::int64_t> privacy_spent(std::string_view purpose) override {
    std::int64_t sum = 0;
    for (const PrivacySpend& s : state_.privacy_spends)
      if (s.purpose == purpose) sum += s.micro_epsilon;
    return sum;
  }

  // ---- AuditLogStore ----

  result<std::optional<AuditHead>> audit_head() override {
    if (state_.audit.empty()) return std::optional<AuditHead>();
    const StoredAuditEntry& last = state_.audit.back();
    return std::optional<AuditHead>(AuditHead{last.seq, last.hash, 0});
  }

  result<void> append_audit(const std::vector<StoredAuditEntry>& entries) override {
    changed_outside_transaction();
    // Check the whole batch first, so that a refused batch leaves the log as it was.
    std::int64_t expected = state_.audit.empty() ? 1 : state_.audit.back().seq + 1;
    for (const auto& e : entries) {
      if (e.seq != expected)
        return make_error(errc::internal, "append_audit: entry seq " + std::to_string(e.seq) +
                                              " does not continue the log (expected " +
                                              std::to_string(expected) + ")");
      ++expected;
    }
    state_.audit.insert(state_.audit.end(), entries.begin(), entries.end());
    return ok();
  }

  result<void> scan_audit(std::int64_t from,
                          const std::function<bool(const StoredAuditEntry&)>& visit) override {
    // Hold the entries by index: a visit that appends may reallocate the vector.
    auto first = std::lower_bound(state_.audit.begin(), state_.audit.end(), from,
                                  [](const StoredAuditEntry& e, std::int64_t seq) { return e.seq < seq; });
    for (auto i = static_cast<std::size_t>(first - state_.audit.begin()); i < state_.audit.size(); ++i)
      if (!visit(state_.audit[i])) break;
    return ok();
  }

  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) override {
    std::vector<StoredAuditEntry> out;
    if (pseudonym.empty()) return out;
    for (const auto& e : state_.audit)
      if (e.customer == pseudonym) out.push_back(e);
    return out;
  }

  result<void> put_checkpoint(const AuditCheckpoint& cp) override {
    changed_outside_transaction();
    state_.checkpoints.try_emplace(cp.seq, cp);
    return ok();
  }

  result<std::vector<AuditCheckpoint>> checkpoints() override {
    std::vector<AuditCheckpoint> out;
    out.reserve(state_.checkpoints.size());
    for (const auto& [seq, cp] : state_.checkpoints) out.push_back(cp);
    return out;
  }

  // ---- MaintenanceStore ----

  result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) override {
    changed_outside_transaction();
    if (auto it = state_.keys.find(customer); it != state_.keys.end()) state_.keys.erase(it);
    if (auto it = state_.fields.find(customer); it != state_.fields.end()) state_.fields.erase(it);
    if (auto it = state_.lookups.find(customer); it != state_.lookups.end()) state_.lookups.erase(it);
    std::erase_if(state_.events, [&](const ConsentEvent& e) { return e.customer == customer; });
    std::erase_if(state_.contacts, [&](const ContactEvent& e) { return e.customer == customer; });
    std::erase_if(state_.preferences, [&](const ContactPreference& p) { return p.customer == customer; });
    // A second erasure of the same tag keeps the first time, as the SQLite store does.
    state_.erased.try_emplace(std::string(tag), at);
    return ok();
  }

  result<std::optional<timestamp>> erased_at(std::string_view tag) override {
    auto it = state_.erased.find(tag);
    if (it == state_.erased.end()) return std::optional<timestamp>();
    return std::optional<timestamp>(it->second);
  }

  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override {
    std::vector<FieldTime> out;
    for (auto c = state_.fields.upper_bound(after); c != state_.fields.end() && out.size() < limit; ++c) {
      auto f = c->second.find(field);
      if (f != c->second.end() && f->second.collected_at <= before)
        out.push_back({c->first, f->second.collected_at});
    }
    return out;
  }

  result<void> delete_field(std::string_view customer, std::string_view field) override {
    changed_outside_transaction();
    CONSENTRY_TRY(delete_lookup(customer, field));
    auto c = state_.fields.find(customer);
    if (c == state_.fields.end()) return ok();
    if (auto f = c->second.find(field); f != c->second.end()) c->second.erase(f);
    if (c->second.empty()) state_.fields.erase(c);
    return ok();
  }

  result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) override {
    std::vector<StoredKey> out;
    for (auto it = state_.keys.upper_bound(after); it != state_.keys.end() && out.size() < limit; ++it)
      out.push_back(it->second);
    return out;
  }

  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override {
    std::map<std::uint32_t, std::int64_t> counts;
    for (const auto& [customer, key] : state_.keys) ++counts[key.version];
    return std::vector<std::pair<std::uint32_t, std::int64_t>>(counts.begin(), counts.end());
  }

  result<void> compact() override {
    // Nothing is on disk; the transaction rule still holds so that callers behave the same here.
    if (snapshot_) return make_error(errc::internal, "compact: a transaction is open");
    return ok();
  }

  result<void> backup_to(const std::filesystem::path&) override {
    return make_error(errc::invalid_argument, "backup: an in-memory store has no file to copy");
  }

 private:
  struct State {
    std::map<std::string, bytes, std::less<>> meta;
    std::map<std::string, StoredKey, std::less<>> keys;
    std::map<std::string, std::map<std::string, StoredField, std::less<>>, std::less<>> fields;
    // Blind index entries by customer, then field (the SQLite table's primary key).
    std::map<std::string, std::map<std::string, StoredLookup, std::less<>>, std::less<>> lookups;
    std::vector<ConsentEvent> events;                      // in ledger order
    std::int64_t next_seq = 1;                             // SQLite's AUTOINCREMENT also starts at 1
    std::vector<StoredAuditEntry> audit;                   // by seq: append_audit keeps it consecutive
    std::map<std::int64_t, AuditCheckpoint> checkpoints;   // by seq
    std::map<std::string, timestamp, std::less<>> erased;  // by pseudonym tag
    std::vector<ContactEvent> contacts;                    // in log order
    std::vector<ContactPreference> preferences;            // in log order
    std::int64_t last_contact_seq = 0;
    std::vector<PrivacySpend> privacy_spends;  // in charge order
    std::int64_t last_preference_seq = 0;
  };
  // changed_outside_transaction counts a change made outside a transaction as a commit.
  void changed_outside_transaction() noexcept {
    if (!snapshot_) ++commits_;
  }

  State state_;
  std::optional<State> snapshot_;
  std::uint64_t commits_ = 0;  // data_version: commits and changes outside a transaction
};

}  // namespace

std::unique_ptr<Store> make_memory_store() {
  return std::make_unique<MemoryStore>();
}

}  // namespace consentry
