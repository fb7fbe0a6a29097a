// shared_store.hpp: a Store that passes every call to a store the test keeps a handle on, so
// that the test can reach under an open vault (as someone with the database would) and can
// open the same memory store again after closing the vault.
#pragma once

#include <memory>
#include <utility>

#include "consentry/extension/store.hpp"

namespace consentry::test {

/// SharedStore passes every call to `inner`, which the test may hold too.
class SharedStore final : public Store {
 public:
  explicit SharedStore(std::shared_ptr<Store> inner) : s_(std::move(inner)) {}

  result<void> begin() override { return s_->begin(); }
  result<void> commit() override { return s_->commit(); }
  result<void> rollback() override { return s_->rollback(); }
  result<void> begin_unsynced() override { return s_->begin_unsynced(); }
  result<void> begin_read() override { return s_->begin_read(); }
  void end_read() noexcept override { s_->end_read(); }
  result<std::optional<bytes>> get_meta(std::string_view k) override { return s_->get_meta(k); }
  result<void> put_meta(std::string_view k, byte_view v) override { return s_->put_meta(k, v); }
  result<std::optional<StoredKey>> get_key(std::string_view c) override { return s_->get_key(c); }
  result<void> put_key(const StoredKey& k) override { return s_->put_key(k); }
  result<std::optional<StoredField>> get_field(std::string_view c, std::string_view f) override {
    return s_->get_field(c, f);
  }
  result<std::vector<StoredField>> get_fields(std::string_view c) override { return s_->get_fields(c); }
  result<std::vector<StoredField>> get_named_fields(std::string_view c,
                                                    std::span<const std::string_view> f) override {
    return s_->get_named_fields(c, f);
  }
  result<void> put_field(const StoredField& f) override { return s_->put_field(f); }
  result<void> put_lookup(const StoredLookup& l) override { return s_->put_lookup(l); }
  result<void> delete_lookup(std::string_view c, std::string_view f) override {
    return s_->delete_lookup(c, f);
  }
  result<std::vector<std::string>> find_lookup(std::string_view f, std::uint32_t version,
                                               std::int64_t index) override {
    return s_->find_lookup(f, version, index);
  }
  result<std::vector<StoredLookup>> get_lookups(std::string_view c) override { return s_->get_lookups(c); }
  result<ConsentEvent> append_consent(const ConsentEvent& e) override { return s_->append_consent(e); }
  result<std::vector<ConsentEvent>> consent_history(std::string_view c) override {
    return s_->consent_history(c);
  }
  result<std::vector<ConsentEvent>> purpose_history(std::string_view p) override {
    return s_->purpose_history(p);
  }
  result<void> scan_purpose_positions(std::string_view p, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& v) override {
    return s_->scan_purpose_positions(p, only_with_events, v);
  }
  result<std::vector<std::string>> customers() override { return s_->customers(); }
  result<bool> knows(std::string_view c) override { return s_->knows(c); }
  result<std::optional<AuditHead>> audit_head() override { return s_->audit_head(); }
  result<void> append_audit(const std::vector<StoredAuditEntry>& e) override { return s_->append_audit(e); }
  result<void> scan_audit(std::int64_t from, const std::function<bool(const StoredAuditEntry&)>& v) override {
    return s_->scan_audit(from, v);
  }
  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& v) override {
    return s_->scan_audit_views(from, v);
  }
  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view c) override {
    return s_->audit_for_customer(c);
  }
  result<void> put_checkpoint(const AuditCheckpoint& cp) override { return s_->put_checkpoint(cp); }
  result<std::vector<AuditCheckpoint>> checkpoints() override { return s_->checkpoints(); }
  result<std::vector<StoredKey>> data_keys_after(std::string_view a, std::size_t n) override {
    return s_->data_keys_after(a, n);
  }
  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override {
    return s_->data_key_versions();
  }
  result<void> delete_meta(std::string_view k) override { return s_->delete_meta(k); }
  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override {
    return s_->fields_collected_before(field, before, after, limit);
  }
  result<void> delete_field(std::string_view c, std::string_view f) override {
    return s_->delete_field(c, f);
  }
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override {
    return s_->field_counts();
  }
  result<ContactEvent> append_contact(const ContactEvent& e) override { return s_->append_contact(e); }
  result<std::vector<ContactEvent>> contacts(std::string_view c) override { return s_->contacts(c); }
  result<ContactPreference> append_contact_preference(const ContactPreference& p) override {
    return s_->append_contact_preference(p);
  }
  result<std::vector<ContactPreference>> contact_preferences(std::string_view c) override {
    return s_->contact_preferences(c);
  }
  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override {
    return s_->append_privacy_spend(s);
  }
  result<std::int64_t> privacy_spent(std::string_view p) override { return s_->privacy_spent(p); }
  result<void> erase_customer(std::string_view c, std::string_view tag, timestamp at) override {
    return s_->erase_customer(c, tag, at);
  }
  result<std::optional<timestamp>> erased_at(std::string_view tag) override { return s_->erased_at(tag); }
  result<void> compact() override { return s_->compact(); }
  result<void> backup_to(const std::filesystem::path& f) override { return s_->backup_to(f); }

 private:
  std::shared_ptr<Store> s_;
};

}  // namespace consentry::test
