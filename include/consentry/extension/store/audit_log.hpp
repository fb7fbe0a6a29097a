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

  // ---- a chain per writer (docs/audit.md, "Many writers") ----
  // A store shared by many processes at once can keep one hash chain per writer, so that their
  // appends need no lock in common. The calls below are used only when keeps_writer_chains() is
  // true; their defaults return errc::internal.

  /// keeps_writer_chains is true when the audit log keeps a chain per writer; false (the default)
  /// for one chain appended through audit_head and append_audit under the store's write lock.
  virtual bool keeps_writer_chains() const noexcept { return false; }
  /// claim_audit_chain picks the chain this store object appends to: one whose last writer has
  /// gone, or a new random id (not in the log until its first append). Claiming is a courtesy
  /// that keeps chains few; appends stay correct when two writers share a chain.
  virtual result<std::int64_t> claim_audit_chain();
  /// audit_chain_head returns the head of chain `chain`; nullopt when it has no entry.
  virtual result<std::optional<AuditHead>> audit_chain_head(std::int64_t chain);
  /// append_audit_chain adds `entries`, whose chain is previous.chain and whose seqs continue
  /// previous.seq (0 for a chain without entries), and moves the chain's head from `previous`
  /// to the last of them; inside the caller's transaction, which begin_append may have started.
  /// Returns false, changing nothing, when the chain's head is no longer `previous` (another
  /// writer appended); errc::internal when the entries do not continue `previous`.
  virtual result<bool> append_audit_chain(const AuditHead& previous,
                                          const std::vector<StoredAuditEntry>& entries);
  /// audit_chain_heads returns every chain's head, read at one moment, by chain.
  virtual result<std::vector<AuditHead>> audit_chain_heads();
  /// last_checkpoint returns the checkpoint with the highest seq; nullopt when there is none.
  /// The default takes the last of checkpoints().
  virtual result<std::optional<AuditCheckpoint>> last_checkpoint();
  /// put_chain_checkpoint stores a checkpoint over chain heads; false, storing nothing, when a
  /// checkpoint with its seq is stored already (another writer signed it first).
  virtual result<bool> put_chain_checkpoint(const AuditCheckpoint& cp);

 protected:
  /// scan_audit_copying_views is scan_audit for a store that implements scan_audit_views itself:
  /// it copies each view into one entry whose buffers keep their capacity, so a long scan
  /// allocates only while they grow. Fails as scan_audit_views.
  result<void> scan_audit_copying_views(std::int64_t from,
                                        const std::function<bool(const StoredAuditEntry&)>& visit);
};

}  // namespace consentry
