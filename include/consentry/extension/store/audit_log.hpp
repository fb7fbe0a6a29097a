// extension/store/audit_log.hpp: the audit log role of a store: the hash-chained entries as stored, their
// head, and the signed checkpoints. What the entries mean and how the chain is checked is the
// audit layer's (audit.hpp); to the store they are rows.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "consentry/records.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// AuditLogStore keeps the audit log. Like the ledger, the log is append-only: no call changes
/// or removes an entry or a checkpoint. It is an AuditLogReader (records.hpp), the read side
/// verify_audit_log takes. Every call returns errc::io when the backend fails.
class AuditLogStore : public AuditLogReader {
 public:
  /// AuditHead is the last entry of the log (records.hpp).
  using AuditHead = ::consentry::AuditHead;

  /// audit_head returns the last audit entry's seq and hash; nullopt for an empty log.
  virtual result<std::optional<AuditHead>> audit_head() = 0;
  /// append_audit adds entries whose seq continue the log, all or none; errc::internal when
  /// their seqs do not continue the head.
  virtual result<void> append_audit(const std::vector<StoredAuditEntry>& entries) = 0;
  /// scan_audit calls `visit` for every entry with seq >= `from`, in seq order, until `visit`
  /// returns false.
  virtual result<void> scan_audit(std::int64_t from,
                                  const std::function<bool(const StoredAuditEntry&)>& visit) = 0;
  /// scan_audit_views is scan_audit without copying the entries: each view borrows the store's
  /// own memory and is valid only until `visit` returns, or until `visit` changes the store.
  /// Fails as scan_audit. The default views the entries scan_audit passes, which copies nothing
  /// where scan_audit hands out the store's own entries (the memory store); the SQLite store
  /// views the columns of each row in place.
  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override {
    return scan_audit(from, [&](const StoredAuditEntry& e) {
      return visit(StoredAuditView{e.seq, e.at, e.customer, e.encoded, e.hash});
    });
  }
  /// audit_for_customer returns the entries naming the customer pseudonym, in seq order; none
  /// for an empty pseudonym (entries that name no customer belong to no one).
  virtual result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view pseudonym) = 0;
  /// put_checkpoint stores a checkpoint; one already stored for the same seq is kept.
  virtual result<void> put_checkpoint(const AuditCheckpoint& cp) = 0;
  /// checkpoints returns every stored checkpoint, by seq.
  result<std::vector<AuditCheckpoint>> checkpoints() override = 0;

 protected:
  /// scan_audit_copying_views is scan_audit for a store that implements scan_audit_views itself:
  /// it copies each view into one entry whose buffers keep their capacity, so a long scan
  /// allocates only while they grow. Fails as scan_audit_views.
  result<void> scan_audit_copying_views(std::int64_t from,
                                        const std::function<bool(const StoredAuditEntry&)>& visit);
};

}  // namespace consentry
