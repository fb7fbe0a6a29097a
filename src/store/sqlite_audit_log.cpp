// sqlite_audit_log.cpp: the SQLite store's audit log role: the head, appends that must continue
// it, scans that view rows in place, the per-customer lookup and the checkpoints.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/sqlite_statement.hpp"
#include "store/sqlite_store.hpp"

namespace consentry::detail {
namespace {

// read_audit_row reads seq, at, customer, entry and hash (columns 0 to 4) into `out`.
void read_audit_row(const Bound& q, StoredAuditEntry& out) {
  out.seq = q.column_int(0);
  out.at = from_unix(q.column_int(1));
  q.column_text_into(2, out.customer);
  q.column_blob_into(3, out.encoded);
  q.column_blob_into(4, out.hash);
}

}  // namespace

result<std::optional<AuditHead>> SqliteStore::audit_head() {
  Bound q(stmt(Sql::audit_head));
  std::optional<AuditHead> out;
  CONSENTRY_TRY(for_each_row(q, "audit_head", [&](const Bound& row) {
    out = AuditHead{row.column_int(0), row.column_blob(1), 0};
    return false;
  }));
  return out;
}

result<void> SqliteStore::append_audit(const std::vector<StoredAuditEntry>& entries) {
  if (entries.empty()) return ok();
  // Outside a transaction, BEGIN IMMEDIATE takes the write lock before the head is read, so no
  // other writer can append between the check and the inserts. Inside the caller's transaction
  // (begin() is IMMEDIATE too) a savepoint makes this batch all or nothing on its own.
  if (!in_transaction()) {
    CONSENTRY_TRY(run(Sql::begin, "append_audit"));
    auto appended = insert_audit(entries);
    if (!appended) {
      (void)run(Sql::rollback, "append_audit");
      return appended;
    }
    return commit();
  }
  CONSENTRY_TRY(run(Sql::savepoint, "append_audit"));
  auto appended = insert_audit(entries);
  // ROLLBACK TO keeps the savepoint open; RELEASE closes it either way.
  if (!appended) (void)run(Sql::rollback_to, "append_audit");
  auto released = run(Sql::release, "append_audit");
  if (!appended) return appended;
  return released;
}

result<void> SqliteStore::insert_audit(const std::vector<StoredAuditEntry>& entries) {
  auto head = audit_head();
  if (!head) return std::move(head).err();
  std::int64_t expected = *head ? (*head)->seq + 1 : 1;
  for (const auto& e : entries) {
    if (e.seq != expected)
      return make_error(errc::internal, "append_audit: entry seq " + std::to_string(e.seq) +
                                            " does not continue the log (expected " +
                                            std::to_string(expected) + ")");
    ++expected;
  }
  // Whole runs of kAuditRowsPerInsert entries go in one statement each: a statement run costs
  // SQLite the same few allocations whatever its number of rows.
  std::size_t i = 0;
  for (; i + kAuditRowsPerInsert <= entries.size(); i += kAuditRowsPerInsert) {
    Bound q(stmt(Sql::append_audit_rows));
    for (std::size_t r = 0; r < kAuditRowsPerInsert; ++r) {
      const StoredAuditEntry& e = entries[i + r];
      const int first = static_cast<int>(r * 5);
      q.integer(first + 1, e.seq)
          .integer(first + 2, to_unix(e.at))
          .text(first + 3, e.customer)
          .blob(first + 4, e.encoded)
          .blob(first + 5, e.hash);
    }
    CONSENTRY_TRY(q.exec("append_audit"));
  }
  for (; i < entries.size(); ++i) {
    const StoredAuditEntry& e = entries[i];
    Bound q(stmt(Sql::append_audit));
    CONSENTRY_TRY(q.integer(1, e.seq)
                      .integer(2, to_unix(e.at))
                      .text(3, e.customer)
                      .blob(4, e.encoded)
                      .blob(5, e.hash)
                      .exec("append_audit"));
  }
  return ok();
}

result<void> SqliteStore::scan_audit(std::int64_t from,
                                     const std::function<bool(const StoredAuditEntry&)>& visit) {
  return scan_audit_copying_views(from, visit);
}

result<void> SqliteStore::scan_audit_views(std::int64_t from,
                                           const std::function<bool(const StoredAuditView&)>& visit) {
  sqlite3_stmt* s = stmt(Sql::scan_audit);
  // The statement is cached: a visit that scans again would reset the outer scan under it.
  if (sqlite3_stmt_busy(s)) return make_error(errc::internal, "scan_audit: called from inside a scan");
  Bound q(s);
  // Each view borrows SQLite's copy of the row's columns, which lives until the next step: the
  // hot loop of a verification copies nothing and allocates nothing.
  StoredAuditView view;
  return for_each_row(q.integer(1, from), "scan_audit", [&](const Bound& row) {
    view.seq = row.column_int(0);
    view.at = from_unix(row.column_int(1));
    view.customer = row.column_text_view(2);
    view.encoded = row.column_blob_view(3);
    view.hash = row.column_blob_view(4);
    return visit(view);
  });
}

result<std::vector<StoredAuditEntry>> SqliteStore::audit_for_customer(std::string_view pseudonym) {
  Bound q(stmt(Sql::audit_for_customer));
  std::vector<StoredAuditEntry> out;
  CONSENTRY_TRY(for_each_row(q.text(1, pseudonym), "audit_for_customer",
                             [&](const Bound& row) { read_audit_row(row, out.emplace_back()); }));
  return out;
}

result<void> SqliteStore::put_checkpoint(const AuditCheckpoint& cp) {
  Bound q(stmt(Sql::put_checkpoint));
  return q.integer(1, cp.seq)
      .blob(2, cp.head)
      .integer(3, to_unix(cp.at))
      .blob(4, cp.signature)
      .exec("put_checkpoint");
}

result<std::vector<AuditCheckpoint>> SqliteStore::checkpoints() {
  Bound q(stmt(Sql::checkpoints));
  std::vector<AuditCheckpoint> out;
  CONSENTRY_TRY(for_each_row(q, "checkpoints", [&](const Bound& row) {
    out.push_back(AuditCheckpoint{
        row.column_int(0), row.column_blob(1), from_unix(row.column_int(2)), row.column_blob(3), {}, {}});
  }));
  return out;
}

result<std::optional<AuditCheckpoint>> SqliteStore::last_checkpoint() {
  Bound q(stmt(Sql::last_checkpoint));
  std::optional<AuditCheckpoint> out;
  CONSENTRY_TRY(for_each_row(q, "last_checkpoint", [&](const Bound& row) {
    out = AuditCheckpoint{
        row.column_int(0), row.column_blob(1), from_unix(row.column_int(2)), row.column_blob(3), {}, {}};
  }));
  return out;
}

}  // namespace consentry::detail
