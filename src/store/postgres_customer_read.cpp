// postgres_customer_read.cpp: Store::read_customer on the PostgreSQL store: what one read of a
// customer needs (a meta row, the erasure mark, the data key, the consent history, the named
// sealed values) in one statement, which PostgreSQL runs in one snapshot, so a read is one round
// trip instead of a snapshot's BEGIN, one statement per table and COMMIT (docs/postgresql.md).
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "store/postgres_store.hpp"

namespace consentry::detail {
namespace {

// One row per thing read, told apart by the first column; each kind has columns of its own, so
// that each is read by the same code as the store's single-table reads. Every table is searched
// by its key (state's one row, erased's tag, and the customer first for the other three).
enum Kind : int { kState = 0, kKey = 1, kEvent = 2, kField = 3 };
// state: erased_at, then the meta row in the data key's bytea column
constexpr int kStateColumn = 2;
constexpr int kMetaColumn = 4;
// data_keys: version, wrapped
constexpr int kKeyColumn = 3;
// consent_events: seq, purpose, then pg_event_tail's columns
constexpr int kEventColumn = 5;
// fields: field, then pg_field's columns
constexpr int kFieldColumn = 13;

// $1 customer, $2 tag, $3 whether to read the data key, $4 whether to read the history, $5 the
// field names (text[]), $6 the meta row's key. Rows come in no promised order (the history is
// sorted here). The state row is always there: its absence means a damaged schema.
constexpr std::string_view kReadCustomer =
    "SELECT 0, NULL::bigint, (SELECT x.at FROM @S.erased x WHERE x.tag = $2), NULL::bigint, "
    "(SELECT m.value FROM @S.meta m WHERE m.key = $6), NULL::bigint, NULL::text, NULL::text, NULL::bigint, "
    "NULL::text, NULL::text, "
    "NULL::bigint, NULL::bigint, NULL::text, NULL::bytea, NULL::text, NULL::bigint, NULL::bigint "
    "FROM @S.state s WHERE s.id = 1 "
    "UNION ALL "
    "SELECT 1, NULL, NULL, k.version, k.wrapped, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
    "NULL, NULL, NULL FROM @S.data_keys k WHERE $3::boolean AND k.customer = $1 "
    "UNION ALL "
    "SELECT 2, NULL, NULL, NULL, NULL, c.seq, c.purpose, c.action, c.at, c.channel, c.notice, c.expires_at, "
    "c.policy_version, NULL, NULL, NULL, NULL, NULL FROM @S.consent_events c "
    "WHERE $4::boolean AND c.customer = $1 "
    "UNION ALL "
    "SELECT 3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, f.field, f.sealed, "
    "f.source, f.collected_at, f.format FROM @S.fields f WHERE f.customer = $1 AND f.field = ANY($5::text[])";

}  // namespace

result<CustomerRead> PostgresStore::read_customer(const CustomerReadRequest& request) {
  constexpr std::string_view op = "read_customer";
  if (in_transaction() != request.in_snapshot)
    return make_error(errc::internal, request.in_snapshot ? "read_customer: no read snapshot is open"
                                                          : "read_customer: a transaction is open");
  auto names = pg_text_array(request.fields, op);
  if (!names) return std::move(names).err();
  auto r = exec(kReadCustomer,
                PgParams{}
                    .text(request.customer)
                    .text(request.tag)
                    .text(request.key ? "t" : "f")
                    .text(request.history ? "t" : "f")
                    .binary(names->view())
                    .text(request.meta),
                op);
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  CustomerRead out;
  bool stated = false;
  for (int row = 0; row < PQntuples(res); ++row) {
    auto kind = pg_int(res, row, 0);
    if (!kind) return std::move(kind).err();
    switch (*kind) {
      case kState: {
        if (!PQgetisnull(res, row, kStateColumn)) {
          auto at = pg_int(res, row, kStateColumn);
          if (!at) return std::move(at).err();
          out.erased_at = pg_time(*at);
        }
        if (!PQgetisnull(res, row, kMetaColumn)) out.meta = pg_bytes_copy(res, row, kMetaColumn);
        stated = true;
        break;
      }
      case kKey: {
        auto version = pg_unsigned(res, row, kKeyColumn, op, "data_keys row has an invalid version");
        if (!version) return std::move(version).err();
        out.key = StoredKey{std::string(request.customer), *version, pg_bytes_copy(res, row, kKeyColumn + 1)};
        break;
      }
      case kEvent: {
        ConsentEvent e;
        auto seq = pg_int(res, row, kEventColumn);
        if (!seq) return std::move(seq).err();
        e.seq = *seq;
        e.customer = std::string(request.customer);
        e.purpose = std::string(pg_text(res, row, kEventColumn + 1));
        CONSENTRY_TRY(pg_event_tail(res, row, kEventColumn + 2, e, op));
        out.history.push_back(std::move(e));
        break;
      }
      case kField: {
        auto f = pg_field(res, row, kFieldColumn + 1, std::string(request.customer),
                          std::string(pg_text(res, row, kFieldColumn)), op);
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
  if (!stated)
    return make_error(errc::integrity, "read_customer: schema '" + schema_ + "' is damaged: no state row");
  return out;
}

}  // namespace consentry::detail
