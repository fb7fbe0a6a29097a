// postgres_audit_log_role.cpp: the audit log role of the PostgreSQL store: entries, chain heads
// and signed checkpoints (docs/postgresql.md). Schema version 2 keeps a hash chain per writer
// (docs/audit.md, "Many writers"): each Vault appends to its own chain in a transaction that
// takes no lock in common with other writers, moving the chain's head by compare-and-set.
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "encoding/framing.hpp"
#include "store/postgres_store.hpp"
#include "text/utf8.hpp"

namespace consentry::detail {
namespace {

// Chain 0 is the one chain of a vault written before schema version 2 (and of the store tests,
// which call audit_head and append_audit directly).
constexpr std::string_view kAuditHead =
    "SELECT seq, hash FROM @S.audit WHERE chain = 0 ORDER BY seq DESC LIMIT 1";
// A batch of entries in one statement and one round trip: each column is an array parameter
// (binary format), unnest turns them back into rows.
constexpr std::string_view kAppendAudit =
    "INSERT INTO @S.audit(chain, seq, at, customer, entry, hash) "
    "SELECT 0, * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::bytea[], $5::bytea[])";
constexpr std::string_view kMoveChainZero =
    "INSERT INTO @S.audit_chains(chain, head_seq, head_hash) VALUES (0, $1::bigint, $2) "
    "ON CONFLICT (chain) DO UPDATE SET head_seq = EXCLUDED.head_seq, head_hash = EXCLUDED.head_hash";
// An append to a writer's chain: the head moves by compare-and-set and the entries go in, in one
// statement; no entry goes in unless the head was where the writer left it. A chain's first
// append creates its head.
constexpr std::string_view kAppendToChain =
    "WITH moved AS (UPDATE @S.audit_chains SET head_seq = $4::bigint, head_hash = $5 "
    "WHERE chain = $1::bigint AND head_seq = $2::bigint AND head_hash = $3 RETURNING chain) "
    "INSERT INTO @S.audit(chain, seq, at, customer, entry, hash) SELECT moved.chain, e.* FROM moved, "
    "unnest($6::bigint[], $7::bigint[], $8::text[], $9::bytea[], $10::bytea[]) AS e";
constexpr std::string_view kStartChain =
    "WITH moved AS (INSERT INTO @S.audit_chains(chain, head_seq, head_hash) VALUES ($1::bigint, $2::bigint, "
    "$3) "
    "ON CONFLICT (chain) DO NOTHING RETURNING chain) "
    "INSERT INTO @S.audit(chain, seq, at, customer, entry, hash) SELECT moved.chain, e.* FROM moved, "
    "unnest($4::bigint[], $5::bigint[], $6::text[], $7::bytea[], $8::bytea[]) AS e";
constexpr std::string_view kChainHead =
    "SELECT head_seq, head_hash FROM @S.audit_chains WHERE chain = $1::bigint";
constexpr std::string_view kChainHeads =
    "SELECT chain, head_seq, head_hash FROM @S.audit_chains ORDER BY chain";
constexpr std::string_view kChains = "SELECT chain FROM @S.audit_chains ORDER BY chain";
// A chain is claimed with a session advisory lock: its writer holds it until its connection
// ends, so another claims it only after the writer has gone.
constexpr std::string_view kTryLockChain =
    "SELECT pg_try_advisory_lock($1::integer, ($2::bigint % 2147483647)::integer)";
// The chains tried before a new one is opened.
constexpr std::size_t kChainsTried = 64;
// One page of a scan: keyset pagination on the primary key, the next page after the last row.
constexpr std::string_view kScanAuditPage =
    "SELECT chain, seq, at, customer, entry, hash FROM @S.audit "
    "WHERE (chain, seq) > ($1::bigint, $2::bigint) AND seq >= $3::bigint ORDER BY chain, seq LIMIT "
    "$4::bigint";
constexpr std::int64_t kAuditPerPage = 1000;
// `customer <> ''` lets the planner use the partial index audit_by_customer whatever $1 is.
constexpr std::string_view kAuditForCustomer =
    "SELECT chain, seq, at, customer, entry, hash FROM @S.audit WHERE customer = $1 AND customer <> '' "
    "ORDER BY at, chain, seq";
constexpr std::string_view kPutCheckpoint =
    "INSERT INTO @S.audit_checkpoints(seq, head, at, signature) VALUES ($1::bigint, $2, $3::bigint, $4) "
    "ON CONFLICT (seq) DO NOTHING";
constexpr std::string_view kPutChainCheckpoint =
    "INSERT INTO @S.audit_checkpoints(seq, head, at, signature, heads, previous) "
    "VALUES ($1::bigint, ''::bytea, $2::bigint, $3, $4, $5) ON CONFLICT (seq) DO NOTHING";
constexpr std::string_view kCheckpoints =
    "SELECT seq, head, at, signature, heads, previous FROM @S.audit_checkpoints ORDER BY seq";
constexpr std::string_view kLastCheckpoint =
    "SELECT seq, head, at, signature, heads, previous FROM @S.audit_checkpoints ORDER BY seq DESC LIMIT 1";

// A checkpoint's heads are stored as one bytea: for each, chain and seq (8 bytes each,
// big-endian), then the hash, a BLAKE2b-256 (the audit layer's kAuditHashBytes; the store
// checks only that the stored bytes divide into heads, and verification checks the rest).
constexpr std::size_t kHeadHashBytes = 32;
constexpr std::size_t kStoredHeadBytes = 8 + 8 + kHeadHashBytes;

bytes encode_heads(const std::vector<AuditHead>& heads) {
  bytes out;
  out.reserve(heads.size() * kStoredHeadBytes);
  for (const AuditHead& h : heads) {
    detail::put_be64(out, static_cast<std::uint64_t>(h.chain));
    detail::put_be64(out, static_cast<std::uint64_t>(h.seq));
    out.insert(out.end(), h.hash.begin(), h.hash.end());
  }
  return out;
}

std::int64_t read_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return static_cast<std::int64_t>(v);
}

// read_checkpoint reads seq, head, at, signature, heads and previous (columns 0 to 5) of `row`.
result<AuditCheckpoint> read_checkpoint(const PGresult* res, int row) {
  auto seq = pg_int(res, row, 0);
  if (!seq) return std::move(seq).err();
  auto at = pg_int(res, row, 2);
  if (!at) return std::move(at).err();
  AuditCheckpoint cp{*seq, pg_bytes_copy(res, row, 1), pg_time(*at), pg_bytes_copy(res, row, 3), {}, {}};
  if (!PQgetisnull(res, row, 4)) {
    const byte_view heads = pg_bytes(res, row, 4);
    if (heads.empty() || heads.size() % kStoredHeadBytes != 0)
      return make_error(errc::integrity,
                        "checkpoint " + std::to_string(*seq) + ": its stored heads are malformed");
    for (std::size_t i = 0; i < heads.size(); i += kStoredHeadBytes) {
      const std::uint8_t* p = heads.data() + i;
      cp.heads.push_back(AuditHead{read_be64(p + 8), bytes(p + 16, p + kStoredHeadBytes), read_be64(p)});
    }
    cp.previous = pg_bytes_copy(res, row, 5);
  }
  return cp;
}

// read_entry_view views chain, seq, at, customer, entry and hash (columns 0 to 5) of `row`.
result<StoredAuditView> read_entry_view(const PGresult* r, int row) {
  auto chain = pg_int(r, row, 0);
  if (!chain) return std::move(chain).err();
  auto seq = pg_int(r, row, 1);
  if (!seq) return std::move(seq).err();
  auto at = pg_int(r, row, 2);
  if (!at) return std::move(at).err();
  return StoredAuditView{*seq,  pg_time(*at), pg_text(r, row, 3), pg_bytes(r, row, 4), pg_bytes(r, row, 5),
                         *chain};
}

// check_text refuses, before anything is sent, an entry whose customer PostgreSQL's text cannot
// hold: nothing may fail inside the caller's transaction once a statement is sent (a failed
// statement aborts the whole transaction).
result<void> check_text(std::string_view operation, const std::vector<StoredAuditEntry>& entries) {
  for (const auto& e : entries)
    if (!pg_is_text(e.customer))
      return make_error(errc::invalid_argument, std::string(operation) + ": entry seq " +
                                                    std::to_string(e.seq) +
                                                    " names a customer that is not text");
  return ok();
}

// EntryColumns holds the entries' columns as array parameters.
struct EntryColumns {
  explicit EntryColumns(const std::vector<StoredAuditEntry>& entries)
      : seqs(kPgInt8, entries.size()),
        ats(kPgInt8, entries.size()),
        customers(kPgText, entries.size()),
        encoded(kPgBytea, entries.size()),
        hashes(kPgBytea, entries.size()) {
    for (const auto& e : entries) {
      seqs.add_int8(e.seq);
      ats.add_int8(pg_seconds(e.at));
      customers.add(e.customer);
      encoded.add(e.encoded);
      hashes.add(e.hash);
    }
  }
  PgParams& add_to(PgParams& p) const {
    return p.binary(seqs.view())
        .binary(ats.view())
        .binary(customers.view())
        .binary(encoded.view())
        .binary(hashes.view());
  }
  PgArray seqs, ats, customers, encoded, hashes;
};

}  // namespace

result<std::optional<AuditHead>> PostgresStore::audit_head() {
  auto r = exec(kAuditHead, PgParams{}, "audit_head");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<AuditHead>{};
  auto seq = pg_int(r->get(), 0, 0);
  if (!seq) return std::move(seq).err();
  return std::optional<AuditHead>(AuditHead{*seq, pg_bytes_copy(r->get(), 0, 1), 0});
}

result<void> PostgresStore::append_audit(const std::vector<StoredAuditEntry>& entries) {
  if (entries.empty()) return ok();
  CONSENTRY_TRY(check_text("append_audit", entries));
  // Inside write(), the write lock is held before the head is read: no other writer can append
  // to chain 0 between the check and the insert.
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
    const EntryColumns columns(entries);
    PgParams params;
    auto r = exec(kAppendAudit, columns.add_to(params), "append_audit");
    if (!r) return std::move(r).err();
    auto moved = exec(kMoveChainZero, PgParams{}.integer(entries.back().seq).binary(entries.back().hash),
                      "append_audit");
    if (!moved) return std::move(moved).err();
    return ok();
  });
}

result<std::int64_t> PostgresStore::claim_audit_chain() {
  const std::int32_t space = pg_name_hash("consentry audit chains " + schema_);
  const auto try_lock = [&](std::int64_t chain) -> result<bool> {
    auto r = exec(kTryLockChain, PgParams{}.integer(space).integer(chain), "claim_audit_chain");
    if (!r) return std::move(r).err();
    return PQntuples(r->get()) == 1 && PQgetlength(r->get(), 0, 0) == 1 && PQgetvalue(r->get(), 0, 0)[0] == 1;
  };
  auto chains = exec(kChains, PgParams{}, "claim_audit_chain");
  if (!chains) return std::move(chains).err();
  const int rows = PQntuples(chains->get());
  for (int row = 0; row < rows && static_cast<std::size_t>(row) < kChainsTried; ++row) {
    auto chain = pg_int(chains->get(), row, 0);
    if (!chain) return std::move(chain).err();
    auto locked = try_lock(*chain);
    if (!locked) return std::move(locked).err();
    if (*locked) return *chain;
  }
  // Every chain tried has a writer: a new one, a random id (never 0, the chain of version 1).
  for (;;) {
    std::uint64_t id = 0;
    randombytes_buf(&id, sizeof id);
    const auto chain = static_cast<std::int64_t>(id & 0x7fffffffffffffffULL);
    if (chain == 0) continue;
    auto locked = try_lock(chain);
    if (!locked) return std::move(locked).err();
    // A lock held already means a 31-bit collision with a chain in use: take another id.
    if (*locked) return chain;
  }
}

result<std::optional<AuditHead>> PostgresStore::audit_chain_head(std::int64_t chain) {
  auto r = exec(kChainHead, PgParams{}.integer(chain), "audit_chain_head");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<AuditHead>{};
  auto seq = pg_int(r->get(), 0, 0);
  if (!seq) return std::move(seq).err();
  return std::optional<AuditHead>(AuditHead{*seq, pg_bytes_copy(r->get(), 0, 1), chain});
}

namespace {

// check_chain_rows refuses entries that do not continue `previous` on its chain, and customers
// that are not text, before anything is sent.
result<void> check_chain_rows(const AuditHead& previous, const std::vector<StoredAuditEntry>& entries) {
  CONSENTRY_TRY(check_text("append_audit", entries));
  for (std::size_t i = 0; i < entries.size(); ++i)
    if (entries[i].chain != previous.chain ||
        entries[i].seq != previous.seq + 1 + static_cast<std::int64_t>(i))
      return make_error(errc::internal, "append_audit: entry seq " + std::to_string(entries[i].seq) +
                                            " does not continue its chain");
  return ok();
}

}  // namespace

result<bool> PostgresStore::send_chain_append(const AuditHead& previous,
                                              const std::vector<StoredAuditEntry>& entries, bool once) {
  const EntryColumns columns(entries);
  PgParams params;
  if (previous.seq == 0) {
    params.integer(previous.chain).integer(entries.back().seq).binary(entries.back().hash);
  } else {
    params.integer(previous.chain)
        .integer(previous.seq)
        .binary(previous.hash)
        .integer(entries.back().seq)
        .binary(entries.back().hash);
  }
  columns.add_to(params);
  const std::string_view sql = previous.seq == 0 ? kStartChain : kAppendToChain;
  auto r = once ? exec_once(sql, params, "append_audit") : exec(sql, params, "append_audit");
  if (!r) return std::move(r).err();
  return std::string_view(PQcmdTuples(r->get())) == std::to_string(entries.size());
}

result<bool> PostgresStore::append_audit_chain(const AuditHead& previous,
                                               const std::vector<StoredAuditEntry>& entries) {
  if (entries.empty()) return true;
  CONSENTRY_TRY(check_chain_rows(previous, entries));
  bool moved = false;
  CONSENTRY_TRY(append_write("append_audit", [&]() -> result<void> {
    auto sent = send_chain_append(previous, entries, false);
    if (!sent) return std::move(sent).err();
    moved = *sent;
    return ok();
  }));
  return moved;
}

result<bool> PostgresStore::append_audit_chain_durably(const AuditHead& previous,
                                                       const std::vector<StoredAuditEntry>& entries) {
  if (in_transaction())
    return make_error(errc::internal, "append_audit: a durable append inside a transaction");
  if (entries.empty()) return true;
  CONSENTRY_TRY(check_chain_rows(previous, entries));
  CONSENTRY_TRY(reconnect_if_lost("append_audit"));
  auto sent = send_chain_append(previous, entries, true);
  if (!sent && PQstatus(conn_) == CONNECTION_BAD)
    return make_error(errc::io,
                      "append_audit: the connection to the PostgreSQL vault was lost; whether the audit "
                      "entries were committed is unknown");
  return sent;
}

result<std::vector<AuditHead>> PostgresStore::audit_chain_heads() {
  auto r = exec(kChainHeads, PgParams{}, "audit_chain_heads");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<AuditHead> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto chain = pg_int(res, row, 0);
    if (!chain) return std::move(chain).err();
    auto seq = pg_int(res, row, 1);
    if (!seq) return std::move(seq).err();
    out.push_back(AuditHead{*seq, pg_bytes_copy(res, row, 2), *chain});
  }
  return out;
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
  std::int64_t after_chain = -1;
  std::int64_t after_seq = 0;
  for (;;) {
    auto r = exec(kScanAuditPage,
                  PgParams{}.integer(after_chain).integer(after_seq).integer(from).integer(kAuditPerPage),
                  "scan_audit");
    if (!r) return std::move(r).err();
    const PGresult* res = r->get();
    const int rows = PQntuples(res);
    for (int row = 0; row < rows; ++row) {
      auto view = read_entry_view(res, row);
      if (!view) return std::move(view).err();
      if (!visit(*view)) return ok();
      after_chain = view->chain;
      after_seq = view->seq;
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
                                   bytes(view->hash.begin(), view->hash.end()), view->chain});
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

result<bool> PostgresStore::put_chain_checkpoint(const AuditCheckpoint& cp) {
  for (const AuditHead& h : cp.heads)
    if (h.hash.size() != kHeadHashBytes || h.chain < 0)
      return make_error(errc::internal,
                        "put_checkpoint: a head of checkpoint " + std::to_string(cp.seq) + " is malformed");
  bool stored = false;
  CONSENTRY_TRY(append_write("put_checkpoint", [&]() -> result<void> {
    const bytes heads = encode_heads(cp.heads);
    auto r = exec(kPutChainCheckpoint,
                  PgParams{}
                      .integer(cp.seq)
                      .integer(pg_seconds(cp.at))
                      .binary(cp.signature)
                      .binary(heads)
                      .binary(cp.previous),
                  "put_checkpoint");
    if (!r) return std::move(r).err();
    stored = std::string_view(PQcmdTuples(r->get())) == "1";
    return ok();
  }));
  return stored;
}

result<std::vector<AuditCheckpoint>> PostgresStore::checkpoints() {
  auto r = exec(kCheckpoints, PgParams{}, "checkpoints");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<AuditCheckpoint> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto cp = read_checkpoint(res, row);
    if (!cp) return std::move(cp).err();
    out.push_back(std::move(*cp));
  }
  return out;
}

result<std::optional<AuditCheckpoint>> PostgresStore::last_checkpoint() {
  auto r = exec(kLastCheckpoint, PgParams{}, "checkpoints");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) == 0) return std::optional<AuditCheckpoint>{};
  auto cp = read_checkpoint(r->get(), 0);
  if (!cp) return std::move(cp).err();
  return std::optional<AuditCheckpoint>{std::move(*cp)};
}

}  // namespace consentry::detail
