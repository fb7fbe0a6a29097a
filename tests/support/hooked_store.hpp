// hooked_store.hpp: a Store that forwards every call to another and can run a step of the test
// just before its next write transaction begins, to order two vaults' transactions exactly, or
// fail that transaction or a put of a value, or before each read of a customer or of a meta row;
// and that offers the second connection and the readers a test hands it.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "consentry/extension/store.hpp"

namespace consentry::test {

/// HookedStore forwards every call to `inner`. A hook set with before_next_begin() runs once,
/// inside the next begin() (or begin_unsynced()), before the inner store takes its write lock:
/// what the hook commits through another connection lands between the caller's earlier reads
/// and its transaction, as a concurrent process's commit would.
class HookedStore final : public Store {
 public:
  explicit HookedStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  /// before_next_begin arms `hook` for the next write transaction (one only).
  void before_next_begin(std::function<void()> hook) { hook_ = std::move(hook); }
  /// hook_ran says whether the armed hook has run.
  bool hook_ran() const { return !hook_; }
  /// fail_next_begin makes the next write transaction fail to begin with `e` (after the hook).
  void fail_next_begin(error e) { failure_ = std::move(e); }
  /// fail_field_put makes the `nth` put of a value from now on (put_field or put_new_field,
  /// counting from 1) fail with `e`, and the puts after it pass again.
  void fail_field_put(std::int64_t nth, error e) {
    field_puts_left_ = nth;
    field_failure_ = std::move(e);
  }
  /// offer_companion makes open_companion() call `open` (by default the store offers none).
  void offer_companion(std::function<result<std::unique_ptr<Store>>()> open) { companion_ = std::move(open); }
  /// offer_reader makes open_reader() call `open` (by default the store offers none).
  void offer_reader(std::function<result<std::unique_ptr<Store>>()> open) { reader_ = std::move(open); }
  /// on_read_customer makes every read_customer() run `hook` first (set before the store is
  /// shared between threads).
  void on_read_customer(std::function<void()> hook) { read_hook_ = std::move(hook); }
  /// on_get_meta makes every get_meta() run `hook` first (set before the store is shared
  /// between threads).
  void on_get_meta(std::function<void()> hook) { meta_hook_ = std::move(hook); }

  result<void> begin() override {
    CONSENTRY_TRY(run_hook());
    return inner_->begin();
  }
  result<void> commit() override { return inner_->commit(); }
  result<void> rollback() override { return inner_->rollback(); }
  result<void> begin_unsynced() override {
    CONSENTRY_TRY(run_hook());
    return inner_->begin_unsynced();
  }
  result<std::unique_ptr<Store>> open_companion() override {
    if (!companion_) return std::unique_ptr<Store>();
    return companion_();
  }
  result<std::unique_ptr<Store>> open_reader() override {
    if (!reader_) return std::unique_ptr<Store>();
    return reader_();
  }
  result<CustomerRead> read_customer(const CustomerReadRequest& request) override {
    if (read_hook_) read_hook_();
    return inner_->read_customer(request);
  }
  result<void> begin_read() override { return inner_->begin_read(); }
  void end_read() noexcept override { inner_->end_read(); }

  result<std::optional<bytes>> get_meta(std::string_view key) override {
    if (meta_hook_) meta_hook_();
    return inner_->get_meta(key);
  }
  result<void> put_meta(std::string_view key, byte_view value) override {
    return inner_->put_meta(key, value);
  }
  result<std::optional<StoredKey>> get_key(std::string_view customer) override {
    return inner_->get_key(customer);
  }
  result<void> put_key(const StoredKey& key) override { return inner_->put_key(key); }
  result<std::optional<StoredField>> get_field(std::string_view customer, std::string_view field) override {
    return inner_->get_field(customer, field);
  }
  result<std::vector<StoredField>> get_fields(std::string_view customer) override {
    return inner_->get_fields(customer);
  }
  result<std::vector<StoredField>> get_named_fields(std::string_view customer,
                                                    std::span<const std::string_view> fields) override {
    return inner_->get_named_fields(customer, fields);
  }
  result<void> put_field(const StoredField& f) override {
    if (field_failure_ && --field_puts_left_ == 0) {
      error e = std::move(*field_failure_);
      field_failure_.reset();
      return e;
    }
    return inner_->put_field(f);
  }
  result<void> put_lookup(const StoredLookup& l) override { return inner_->put_lookup(l); }
  result<void> delete_lookup(std::string_view c, std::string_view f) override {
    return inner_->delete_lookup(c, f);
  }
  result<std::vector<std::string>> find_lookup(std::string_view f, std::uint32_t version,
                                               std::int64_t index) override {
    return inner_->find_lookup(f, version, index);
  }
  result<std::vector<StoredLookup>> get_lookups(std::string_view c) override {
    return inner_->get_lookups(c);
  }
  result<ConsentEvent> append_consent(const ConsentEvent& e) override { return inner_->append_consent(e); }
  result<std::vector<ConsentEvent>> consent_history(std::string_view customer) override {
    return inner_->consent_history(customer);
  }
  result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) override {
    return inner_->purpose_history(purpose);
  }
  result<ContactEvent> append_contact(const ContactEvent& e) override { return inner_->append_contact(e); }
  result<std::vector<ContactEvent>> contacts(std::string_view customer) override {
    return inner_->contacts(customer);
  }
  result<ContactPreference> append_contact_preference(const ContactPreference& p) override {
    return inner_->append_contact_preference(p);
  }
  result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) override {
    return inner_->contact_preferences(customer);
  }
  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override {
    return inner_->append_privacy_spend(s);
  }
  result<std::int64_t> privacy_spent(std::string_view purpose) override {
    return inner_->privacy_spent(purpose);
  }
  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override {
    return inner_->scan_purpose_positions(purpose, only_with_events, visit);
  }
  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override {
    return inner_->fields_collected_before(field, before, after, limit);
  }
  result<void> delete_field(std::string_view customer, std::string_view field) override {
    return inner_->delete_field(customer, field);
  }
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override {
    return inner_->field_counts();
  }
  result<std::vector<StoredKey>> data_keys_after(std::string_view after, std::size_t limit) override {
    return inner_->data_keys_after(after, limit);
  }
  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override {
    return inner_->data_key_versions();
  }
  result<void> delete_meta(std::string_view key) override { return inner_->delete_meta(key); }
  result<void> erase_customer(std::string_view customer, std::string_view tag, timestamp at) override {
    return inner_->erase_customer(customer, tag, at);
  }
  result<std::optional<timestamp>> erased_at(std::string_view tag) override { return inner_->erased_at(tag); }
  result<void> compact() override { return inner_->compact(); }
  result<void> backup_to(const std::filesystem::path& file) override { return inner_->backup_to(file); }
  result<std::vector<std::string>> customers() override { return inner_->customers(); }
  result<bool> knows(std::string_view customer) override { return inner_->knows(customer); }
  result<std::optional<AuditHead>> audit_head() override { return inner_->audit_head(); }
  result<void> append_audit(const std::vector<StoredAuditEntry>& entries) override {
    return inner_->append_audit(entries);
  }
  result<void> scan_audit(std::int64_t from,
                          const std::function<bool(const StoredAuditEntry&)>& visit) override {
    return inner_->scan_audit(from, visit);
  }
  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override {
    return inner_->scan_audit_views(from, visit);
  }
  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) override {
    return inner_->audit_for_customer(pseudonym);
  }
  result<void> put_checkpoint(const AuditCheckpoint& cp) override { return inner_->put_checkpoint(cp); }
  result<std::vector<AuditCheckpoint>> checkpoints() override { return inner_->checkpoints(); }

 private:
  result<void> run_hook() {
    if (hook_) {
      auto hook = std::move(hook_);
      hook_ = nullptr;
      hook();
    }
    if (!failure_) return ok();
    error e = std::move(*failure_);
    failure_.reset();
    return e;
  }

  std::unique_ptr<Store> inner_;
  std::function<void()> hook_;
  std::optional<error> failure_;
  std::int64_t field_puts_left_ = 0;
  std::optional<error> field_failure_;
  std::function<result<std::unique_ptr<Store>>()> companion_;
  std::function<result<std::unique_ptr<Store>>()> reader_;
  std::function<void()> read_hook_;
  std::function<void()> meta_hook_;
};

}  // namespace consentry::test
