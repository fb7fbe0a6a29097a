// vector_log.hpp: VectorLog, an audit log that is not a store, for tests of verify_audit_log.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "consentry/records.hpp"
#include "consentry/result.hpp"

namespace consentry::test {

/// VectorLog is an audit log that is not a store: entries and checkpoints held in vectors, read
/// through AuditLogReader alone, as verify_audit_log takes it. With fail_scan, scanning fails
/// with errc::io.
class VectorLog final : public AuditLogReader {
 public:
  std::vector<StoredAuditEntry> entries;
  std::vector<AuditCheckpoint> stored_checkpoints;
  bool fail_scan = false;

  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override {
    if (fail_scan) return make_error(errc::io, "scan_audit: the disk went away");
    for (const StoredAuditEntry& e : entries)
      if (e.seq >= from && !visit(StoredAuditView{e.seq, e.at, e.customer, e.encoded, e.hash, e.chain}))
        break;
    return ok();
  }
  result<std::vector<AuditCheckpoint>> checkpoints() override { return stored_checkpoints; }
};

}  // namespace consentry::test
