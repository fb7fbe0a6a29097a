// postgres_audit_log_role.cpp: the audit log role of the PostgreSQL store: entries, their head,
// and signed checkpoints (docs/postgresql.md). Version 1: one hash chain, appended under the
// store's write lock by one writer at a time.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres_store.hpp"
#include "text/utf8.hpp"

namespace consentry::detail {
namespace {

constexpr std::string_view kAuditHead = "SELECT seq, hash FROM @S.audit ORDER BY seq DESC LIMIT 1";
// A batch of entries in one statement and one round trip: each column is an array parameter
// (binary format), unnest turns them back into rows.
constexpr std::string_view kAppendAudit =
    "INSERT INTO @S.audit(seq, at, customer, entry, hash) "
    "SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[], $5::bytea[])";
// One page of a scan: keyset pagination on the primary key, the next page from the last seq + 1.
constexpr std::string_view kScanAuditPage =
    "SELECT seq, at, customer, entry, hash FROM @S.audit WHERE seq >= $1::bigint ORDER BY seq LIMIT "
    "$2::bigint";
constexpr std::int64_t kAuditPerPage = 1000;
// `customer <> ''` lets the planner use the partial index audit_by_customer whatever $1 is.
constexpr std::string_view kAuditForCustomer =
    "SELECT seq, at, customer, entry, hash FROM @S.audit WHERE customer = $1 AND customer <> '' ORDER BY seq";
constexpr std::string_view kPutCheckpoint =
    "INSERT INTO @S.audit_checkpoints(seq, head, at, signature) VALUES ($1::bigint, $2, $3::bigint, $4) "
    "ON CONFLICT (seq) DO NOTHING";
constexpr std::string_view kCheckpoints =
    "SELECT seq, head, at, signature FROM @S.audit_checkpoints ORDER BY seq";

// read_entry_view views seq, at, customer, entry and hash (columns 0 to 4) of `row`.
result<StoredAuditView> read_entry_view(const PGresult* r, int row) {
  auto seq = pg_int(r, row, 0);
  if (!seq) return std::move(seq).err();
  auto at = pg_int(r, row, 1);
  if (!at) return std::move(at).err();
  return StoredAuditView{*seq, pg_time(*at), pg_text(r, row, 2), pg_bytes(r, row, 3), pg_bytes(r, row, 4)};
}

}  // namespace

result<std::optional<AuditHead>> PostgresStore::audit_head() {
  auto r = exec(kAuditHead, PgParams{}, "audit_head");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<AuditHead>{};
  auto seq = pg_int(r->get(), 0, 0);
  if (!seq) return std::move(seq).err();
  const byte_view hash = pg_bytes(r->get(), 0, 1);
  return std::optional<AuditHead>(AuditHead{*seq, bytes(hash.begin(), hash.end())});
}

result<void> PostgresStore::append_audit(const std::vector<StoredAuditEntry>& entries) {
  if (entries.empty()) return ok();
  // Nothing may fail inside the caller's transaction once a statement is sent (a failed statement
  // aborts the whole transaction): what the server would refuse is refused here first.
  for (const auto& e : entries)
    if (e.customer.find('\0') != std::string::npos || !utf8_valid(e.customer))
      return make_error(errc::invalid_argument, "append_audit: entry seq " + std::to_string(e.seq) +
                                                    " names a customer that is not text");
  // Inside write(), the write lock is held before the head is read: no other writer can append
  // between the check and the insert, so the insert cannot meet a seq already taken.
  return write("append_audit", [&]() -> result<void> {
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
    PgArray seqs(kPgInt8, entries.size());
    PgArray ats(kPgInt8, entries.size());
    PgArray customers(kPgText, entries.size());
    PgArray encoded(kPgBytea, entries.size());
    PgArray hashes(kPgBytea, entries.size());
    for (const auto& e : entries) {
      seqs.add_int8(e.seq);
      ats.add_int8(pg_seconds(e.at));
      customers.add(e.customer);
      encoded.add(e.encoded);
      hashes.add(e.hash);
    }
    auto r = exec(kAppendAudit,
                  PgParams{}
                      .binary(seqs.view())
                      .binary(ats.view())
                      .binary(customers.view())
                      .binary(encoded.view())
                      .binary(hashes.view()),
                  "append_audit");
    if (!r) return std::move(r).err();
    return ok();
  });
}

result<void> PostgresStore::scan_audit(std::int64_t from,
                                       const std::function<bool(const StoredAuditEntry&)>& visit) {
  return scan_audit_copying_views(from, visit);
}

result<void> PostgresStore::scan_audit_views(std::int64_t from,
                                             const std::function<bool(const StoredAuditView&)>& visit) {
  // Pages of kAuditPerPage rows, so a long log is never held in memory at once. Each view
  // borrows the page's result, which lives until the next page is read. Outside a read snapshot
  // each page sees the log as it is when it is read: later pages may hold entries appended
  // during the scan, which continue the earlier ones.
  for (;;) {
    auto r = exec(kScanAuditPage, PgParams{}.integer(from).integer(kAuditPerPage), "scan_audit");
    if (!r) return std::move(r).err();
    const PGresult* res = r->get();
    const int rows = PQntuples(res);
    for (int row = 0; row < rows; ++row) {
      auto view = read_entry_view(res, row);
      if (!view) return std::move(view).err();
      if (!visit(*view)) return ok();
      from = view->seq + 1;
    }
    if (rows < kAuditPerPage) return ok();
  }
}

result<std::vector<StoredAuditEntry>> PostgresStore::audit_for_customer(std::string_view pseudonym) {
  std::vector<StoredAuditEntry> out;
  // Entries that name no customer belong to no one.
  if (pseudonym.empty()) return out;
  auto r = exec(kAuditForCustomer, PgParams{}.text(pseudonym), "audit_for_customer");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto view = read_entry_view(res, row);
    if (!view) return std::move(view).err();
    out.push_back(StoredAuditEntry{view->seq, view->at, std::string(view->customer),
                                   bytes(view->encoded.begin(), view->encoded.end()),
                                   bytes(view->hash.begin(), view->hash.end())});
  }
  return out;
}

result<void> PostgresStore::put_checkpoint(const AuditCheckpoint& cp) {
  return write("put_checkpoint", [&]() -> result<void> {
    auto r = exec(kPutCheckpoint,
                  PgParams{}.integer(cp.seq).binary(cp.head).integer(pg_seconds(cp.at)).binary(cp.signature),
                  "put_checkpoint");
    if (!r) return std::move(r).err();
    return ok();
  });
}

result<std::vector<AuditCheckpoint>> PostgresStore::checkpoints() {
  auto r = exec(kCheckpoints, PgParams{}, "checkpoints");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<AuditCheckpoint> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto seq = pg_int(res, row, 0);
    if (!seq) return std::move(seq).err();
    auto at = pg_int(res, row, 2);
    if (!at) return std::move(at).err();
    const byte_view head = pg_bytes(res, row, 1);
    const byte_view signature = pg_bytes(res, row, 3);
    out.push_back(AuditCheckpoint{*seq, bytes(head.begin(), head.end()), pg_time(*at),
                                  bytes(signature.begin(), signature.end())});
  }
  return out;
}

}  // namespace consentry::detail
