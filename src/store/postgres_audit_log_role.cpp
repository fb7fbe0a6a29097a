// postgres_audit_log_role.cpp: the audit log role of the PostgreSQL store: entries, their head, and signed checkpoints
// (docs/postgresql.md).
#include "store/postgres_store.hpp"

namespace consentry::detail {

result<std::optional<AuditHead>> PostgresStore::audit_head() {
  return make_error(errc::internal, "audit_head: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::append_audit(const std::vector<StoredAuditEntry>& entries) {
  return make_error(errc::internal, "append_audit: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::scan_audit(std::int64_t from, const std::function<bool(const StoredAuditEntry&)>& visit) {
  return make_error(errc::internal, "scan_audit: not implemented yet on PostgreSQL");
}

result<std::vector<StoredAuditEntry>> PostgresStore::audit_for_customer(std::string_view pseudonym) {
  return make_error(errc::internal, "audit_for_customer: not implemented yet on PostgreSQL");
}

result<void> PostgresStore::put_checkpoint(const AuditCheckpoint& cp) {
  return make_error(errc::internal, "put_checkpoint: not implemented yet on PostgreSQL");
}

result<std::vector<AuditCheckpoint>> PostgresStore::checkpoints() {
  return make_error(errc::internal, "checkpoints: not implemented yet on PostgreSQL");
}

}  // namespace consentry::detail
