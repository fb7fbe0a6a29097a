// postgres_ledger_role.cpp: the ledger role of the PostgreSQL store: consent events, contacts, contact preferences and privacy spends
// (docs/postgresql.md).
#include "store/postgres_store.hpp"

namespace consentry::detail {

result<ConsentEvent> PostgresStore::append_consent(const ConsentEvent& e) {
  return make_error(errc::internal, "append_consent: not implemented yet on PostgreSQL");
}

result<std::vector<ConsentEvent>> PostgresStore::consent_history(std::string_view customer) {
  return make_error(errc::internal, "consent_history: not implemented yet on PostgreSQL");
}

result<std::vector<ConsentEvent>> PostgresStore::purpose_history(std::string_view purpose) {
  return make_error(errc::internal, "purpose_history: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::scan_purpose_positions(std::string_view purpose, bool only_with_events, const std::function<bool(const PurposePosition&)>& visit) {
  return make_error(errc::internal, "scan_purpose_positions: not implemented yet on PostgreSQL");
}

result<ContactEvent> PostgresStore::append_contact(const ContactEvent& e) {
  return make_error(errc::internal, "append_contact: not implemented yet on PostgreSQL");
}

result<std::vector<ContactEvent>> PostgresStore::contacts(std::string_view customer) {
  return make_error(errc::internal, "contacts: not implemented yet on PostgreSQL");
}

result<ContactPreference> PostgresStore::append_contact_preference(const ContactPreference& p) {
  return make_error(errc::internal, "append_contact_preference: not implemented yet on PostgreSQL");
}

result<std::vector<ContactPreference>> PostgresStore::contact_preferences(std::string_view customer) {
  return make_error(errc::internal, "contact_preferences: not implemented yet on PostgreSQL");
}

result<PrivacySpend> PostgresStore::append_privacy_spend(const PrivacySpend& s) {
  return make_error(errc::internal, "append_privacy_spend: not implemented yet on PostgreSQL");
}

result<std::int64_t> PostgresStore::privacy_spent(std::string_view purpose) {
  return make_error(errc::internal, "privacy_spent: not implemented yet on PostgreSQL");
}

}  // namespace consentry::detail
