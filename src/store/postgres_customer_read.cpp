// postgres_customer_read.cpp: Store::read_customer on the PostgreSQL store: what one read of a
// customer needs (a meta row, the erasure mark, the data key, the consent history, the named
// sealed values) in one statement, which PostgreSQL runs in one snapshot, so a read is one round
// trip instead of a snapshot's BEGIN, one statement per table and COMMIT (docs/postgresql.md).
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "store/postgres_store.hpp"

namespace consentry::detail {
namespace {

// One row per thing read, told apart by the first column. The kinds share columns where their
// types agree, so that a row is narrow (the server builds, describes and sends every column of
// every row) and each kind is still read by the same code as the store's single-table reads:
//   1 bigint  the erasure time (state), the key's version, the event's seq
//   2 text    the event's purpose, the field's name
//   3-8       the event's action, at, channel, notice, expires_at, policy_version (pg_event_tail)
//   9 bytea   the meta row (state), the wrapped key, the sealed value (pg_field from here)
//   10-12     the field's source, collected_at, format
enum Kind : int { kState = 0, kKey = 1, kEvent = 2, kField = 3 };
constexpr int kNumberColumn = 1;
constexpr int kNameColumn = 2;
constexpr int kEventTailColumn = 3;
constexpr int kBytesColumn = 9;

// The state row is always there: the erasure mark of the tag ($1) and the meta row ($2). The
// other parts are in the statement only when asked for, so that the server neither plans nor
// starts a scan it would skip: $3 is the customer, $4 the field names (text[]). Every table is
// searched by its key. Rows come in no promised order (the history is sorted here).
constexpr std::string_view kStatePart =
    "SELECT 0, (SELECT x.at FROM @S.erased x WHERE x.tag = $1), NULL::text, NULL::text, NULL::bigint, "
    "NULL::text, NULL::text, NULL::bigint, NULL::bigint, (SELECT m.value FROM @S.meta m WHERE m.key = $2), "
    "NULL::text, NULL::bigint, NULL::bigint";
constexpr std::string_view kKeyPart =
    " UNION ALL SELECT 1, k.version, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.wrapped, NULL, NULL, NULL "
    "FROM @S.data_keys k WHERE k.customer = $3";
constexpr std::string_view kHistoryPart =
    " UNION ALL SELECT 2, c.seq, c.purpose, c.action, c.at, c.channel, c.notice, c.expires_at, "
    "c.policy_version, NULL, NULL, NULL, NULL FROM @S.consent_events c WHERE c.customer = $3";
constexpr std::string_view kFieldsPart =
    " UNION ALL SELECT 3, NULL, f.field, NULL, NULL, NULL, NULL, NULL, NULL, f.sealed, f.source, "
    "f.collected_at, f.format FROM @S.fields f WHERE f.customer = $3 AND f.field = ANY($4::text[])";

// The statement for each choice of parts: bit 0 the key, bit 1 the history, bit 2 the fields.
// Built once; the store prepares each by its text, which must outlive it.
const std::string& read_customer_sql(bool key, bool history, bool fields) {
  static const std::array<std::string, 8> statements = [] {
    std::array<std::string, 8> out;
    for (std::size_t parts = 0; parts < out.size(); ++parts) {
      out[parts] = kStatePart;
      if (parts & 1) out[parts] += kKeyPart;
      if (parts & 2) out[parts] += kHistoryPart;
      if (parts & 4) out[parts] += kFieldsPart;
    }
    return out;
  }();
  return statements[(key ? 1 : 0) | (history ? 2 : 0) | (fields ? 4 : 0)];
}

}  // namespace

result<CustomerRead> PostgresStore::read_customer(const CustomerReadRequest& request) {
  constexpr std::string_view op = "read_customer";
  if (in_transaction() != request.in_snapshot)
    return make_error(errc::internal, request.in_snapshot ? "read_customer: no read snapshot is open"
                                                          : "read_customer: a transaction is open");
  const bool fields = !request.fields.empty();
  auto names = pg_text_array(request.fields, op);
  if (!names) return std::move(names).err();
  PgParams params;
  params.text(request.tag).text(request.meta);
  if (request.key || request.history || fields) params.text(request.customer);
  if (fields) params.binary(names->view());
  auto r = exec(read_customer_sql(request.key, request.history, fields), params, op);
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  CustomerRead out;
  bool stated = false;
  for (int row = 0; row < PQntuples(res); ++row) {
    auto kind = pg_int(res, row, 0);
    if (!kind) return std::move(kind).err();
    switch (*kind) {
      case kState: {
        if (!PQgetisnull(res, row, kNumberColumn)) {
          auto at = pg_int(res, row, kNumberColumn);
          if (!at) return std::move(at).err();
          out.erased_at = pg_time(*at);
        }
        if (!PQgetisnull(res, row, kBytesColumn)) out.meta = pg_bytes_copy(res, row, kBytesColumn);
        stated = true;
        break;
      }
      case kKey: {
        auto version = pg_unsigned(res, row, kNumberColumn, op, "data_keys row has an invalid version");
        if (!version) return std::move(version).err();
        out.key = StoredKey{std::string(request.customer), *version, pg_bytes_copy(res, row, kBytesColumn)};
        break;
      }
      case kEvent: {
        ConsentEvent e;
        auto seq = pg_int(res, row, kNumberColumn);
        if (!seq) return std::move(seq).err();
        e.seq = *seq;
        e.customer = std::string(request.customer);
        e.purpose = std::string(pg_text(res, row, kNameColumn));
        CONSENTRY_TRY(pg_event_tail(res, row, kEventTailColumn, e, op));
        out.history.push_back(std::move(e));
        break;
      }
      case kField: {
        auto f = pg_field(res, row, kBytesColumn, std::string(request.customer),
                          std::string(pg_text(res, row, kNameColumn)), op);
        if (!f) return std::move(f).err();
        out.fields.push_back(std::move(*f));
        break;
      }
      default: return make_error(errc::internal, "read_customer: an unexpected row");
    }
  }
  // Rows come in the order the server found them: a bitmap scan, for one, follows the heap, where
  // concurrent writers put a customer's events in no particular order.
  std::sort(out.history.begin(), out.history.end(),
            [](const ConsentEvent& a, const ConsentEvent& b) { return a.seq < b.seq; });
  if (!stated) return make_error(errc::internal, "read_customer: the server sent no state row");
  return out;
}

}  // namespace consentry::detail
