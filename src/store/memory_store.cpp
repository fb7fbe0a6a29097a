// memory_store.cpp: a Store held in maps, with the SQLite store's semantics, for tests.
#include <map>
#include <optional>
#include <utility>

#include "consentry/store.hpp"

namespace consentry {
namespace {

class MemoryStore final : public Store {
 public:
  result<void> begin() override {
    if (snapshot_) return make_error(errc::internal, "begin: a transaction is already open");
    // A full copy is the simplest exact rollback; test data sets are small.
    snapshot_ = state_;
    return ok();
  }

  result<void> commit() override {
    if (!snapshot_) return make_error(errc::internal, "commit: no transaction is open");
    snapshot_.reset();
    return ok();
  }

  result<void> rollback() override {
    if (!snapshot_) return make_error(errc::internal, "rollback: no transaction is open");
    // Restoring next_seq too matches SQLite, whose AUTOINCREMENT counter is rolled back as well.
    state_ = std::move(*snapshot_);
    snapshot_.reset();
    return ok();
  }

  result<std::optional<bytes>> get_meta(std::string_view key) override {
    auto it = state_.meta.find(key);
    if (it == state_.meta.end()) return std::optional<bytes>();
    return std::optional<bytes>(it->second);
  }

  result<void> put_meta(std::string_view key, byte_view value) override {
    state_.meta.insert_or_assign(std::string(key), bytes(value.begin(), value.end()));
    return ok();
  }

  result<std::optional<StoredKey>> get_key(std::string_view customer) override {
    auto it = state_.keys.find(customer);
    if (it == state_.keys.end()) return std::optional<StoredKey>();
    return std::optional<StoredKey>(it->second);
  }

  result<void> put_key(const StoredKey& key) override {
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
    state_.fields[f.customer].insert_or_assign(f.field, f);
    return ok();
  }

  result<ConsentEvent> append_consent(const ConsentEvent& e) override {
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

 private:
  struct State {
    std::map<std::string, bytes, std::less<>> meta;
    std::map<std::string, StoredKey, std::less<>> keys;
    std::map<std::string, std::map<std::string, StoredField, std::less<>>, std::less<>> fields;
    std::vector<ConsentEvent> events;  // in ledger order
    std::int64_t next_seq = 1;         // SQLite's AUTOINCREMENT also starts at 1
  };
  State state_;
  std::optional<State> snapshot_;
};

}  // namespace

std::unique_ptr<Store> make_memory_store() {
  return std::make_unique<MemoryStore>();
}

}  // namespace consentry
