// postgres_customer_read.cpp: Store::read_customer on the PostgreSQL store: what one read of a
// customer needs (a meta row, the erasure mark, the data key, the consent history, the named
// sealed values) in one statement, which PostgreSQL runs in one snapshot, so a read is one round
// trip instead of a snapshot's BEGIN, one statement per table and COMMIT (docs/postgresql.md);
// and Store::read_customers, the same for many customers in one statement.
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

// read_customers' statement: the same parts and columns for several customers at once, each row
// ending with the 1-based position of its customer in the request (column kBatchIndexColumn).
// $1 the customers, $2 their tags (text[]), $3 whether each one's key is read (bigint[] of 0
// and 1), $4 the meta row, $5 the field names. Each part joins the requests to its table by the
// table's key, so the server searches each table once per customer, as read_customer does.
constexpr int kBatchIndexColumn = 13;
constexpr std::string_view kBatchRequests =
    "WITH r(customer, tag, want_key, i) AS "
    "(SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) WITH ORDINALITY) ";
constexpr std::string_view kBatchStatePart =
    "SELECT 0, x.at, NULL::text, NULL::text, NULL::bigint, NULL::text, NULL::text, NULL::bigint, "
    "NULL::bigint, (SELECT m.value FROM @S.meta m WHERE m.key = $4), NULL::text, NULL::bigint, "
    "NULL::bigint, r.i FROM r LEFT JOIN @S.erased x ON x.tag = r.tag";
constexpr std::string_view kBatchKeyPart =
    " UNION ALL SELECT 1, k.version, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.wrapped, NULL, NULL, NULL, "
    "r.i FROM r JOIN @S.data_keys k ON k.customer = r.customer WHERE r.want_key = 1";
constexpr std::string_view kBatchHistoryPart =
    " UNION ALL SELECT 2, c.seq, c.purpose, c.action, c.at, c.channel, c.notice, c.expires_at, "
    "c.policy_version, NULL, NULL, NULL, NULL, r.i FROM r JOIN @S.consent_events c ON c.customer = "
    "r.customer";
constexpr std::string_view kBatchFieldsPart =
    " UNION ALL SELECT 3, NULL, f.field, NULL, NULL, NULL, NULL, NULL, NULL, f.sealed, f.source, "
    "f.collected_at, f.format, r.i FROM r JOIN @S.fields f ON f.customer = r.customer "
    "AND f.field = ANY($5::text[])";

// The batch statement for each choice of parts, as read_customer_sql.
const std::string& read_customers_sql(bool key, bool history, bool fields) {
  static const std::array<std::string, 8> statements = [] {
    std::array<std::string, 8> out;
    for (std::size_t parts = 0; parts < out.size(); ++parts) {
      out[parts] = std::string(kBatchRequests) + std::string(kBatchStatePart);
      if (parts & 1) out[parts] += kBatchKeyPart;
      if (parts & 2) out[parts] += kBatchHistoryPart;
      if (parts & 4) out[parts] += kBatchFieldsPart;
    }
    return out;
  }();
  return statements[(key ? 1 : 0) | (history ? 2 : 0) | (fields ? 4 : 0)];
}

// take_row adds row `row` of `res` (a read_customer or read_customers result) to `out`, the
// read of `customer`; `stated` is set by its state row.
result<void> take_row(const PGresult* res, int row, std::string_view customer, CustomerRead& out,
                      bool& stated) {
  constexpr std::string_view op = "read_customer";
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
      return ok();
    }
    case kKey: {
      auto version = pg_unsigned(res, row, kNumberColumn, op, "data_keys row has an invalid version");
      if (!version) return std::move(version).err();
      out.key = StoredKey{std::string(customer), *version, pg_bytes_copy(res, row, kBytesColumn)};
      return ok();
    }
    case kEvent: {
      ConsentEvent e;
      auto seq = pg_int(res, row, kNumberColumn);
      if (!seq) return std::move(seq).err();
      e.seq = *seq;
      e.customer = std::string(customer);
      e.purpose = std::string(pg_text(res, row, kNameColumn));
      CONSENTRY_TRY(pg_event_tail(res, row, kEventTailColumn, e, op));
      out.history.push_back(std::move(e));
      return ok();
    }
    case kField: {
      auto f = pg_field(res, row, kBytesColumn, std::string(customer),
                        std::string(pg_text(res, row, kNameColumn)), op);
      if (!f) return std::move(f).err();
      out.fields.push_back(std::move(*f));
      return ok();
    }
    default: return make_error(errc::internal, "read_customer: an unexpected row");
  }
}

// Rows come in the order the server found them: a bitmap scan, for one, follows the heap, where
// concurrent writers put a customer's events in no particular order.
void sort_history(CustomerRead& read) {
  std::sort(read.history.begin(), read.history.end(),
            [](const ConsentEvent& a, const ConsentEvent& b) { return a.seq < b.seq; });
}

// same_shape is true when `a` and `b` ask the same of their customers: the same history, meta
// row and fields (read_customers' statement takes one of each for all).
bool same_shape(const CustomerReadRequest& a, const CustomerReadRequest& b) {
  return a.history == b.history && a.meta == b.meta &&
         std::equal(a.fields.begin(), a.fields.end(), b.fields.begin(), b.fields.end());
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
  for (int row = 0; row < PQntuples(res); ++row)
    CONSENTRY_TRY(take_row(res, row, request.customer, out, stated));
  sort_history(out);
  if (!stated) return make_error(errc::internal, "read_customer: the server sent no state row");
  return out;
}

result<std::vector<CustomerRead>> PostgresStore::read_customers(
    std::span<const CustomerReadRequest> requests) {
  constexpr std::string_view op = "read_customers";
  if (requests.size() <= 1 ||
      !std::all_of(requests.begin(), requests.end(),
                   [&](const CustomerReadRequest& r) { return same_shape(r, requests.front()); }))
    return Store::read_customers(requests);
  if (!in_transaction() || std::any_of(requests.begin(), requests.end(),
                                       [](const CustomerReadRequest& r) { return !r.in_snapshot; }))
    return make_error(errc::internal, "read_customers: no read snapshot is open");
  const CustomerReadRequest& shape = requests.front();
  std::vector<std::string_view> customers;
  std::vector<std::string_view> tags;
  PgArray want_key(kPgInt8, requests.size());
  bool any_key = false;
  for (const CustomerReadRequest& r : requests) {
    customers.push_back(r.customer);
    tags.push_back(r.tag);
    want_key.add_int8(r.key ? 1 : 0);
    any_key = any_key || r.key;
  }
  auto customer_array = pg_text_array(customers, op);
  if (!customer_array) return std::move(customer_array).err();
  auto tag_array = pg_text_array(tags, op);
  if (!tag_array) return std::move(tag_array).err();
  const bool fields = !shape.fields.empty();
  auto names = pg_text_array(shape.fields, op);
  if (!names) return std::move(names).err();
  PgParams params;
  params.binary(customer_array->view()).binary(tag_array->view()).binary(want_key.view()).text(shape.meta);
  if (fields) params.binary(names->view());
  auto r = exec(read_customers_sql(any_key, shape.history, fields), params, op);
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<CustomerRead> out(requests.size());
  std::vector<bool> stated(requests.size(), false);
  for (int row = 0; row < PQntuples(res); ++row) {
    auto index = pg_int(res, row, kBatchIndexColumn);
    if (!index) return std::move(index).err();
    if (*index < 1 || static_cast<std::uint64_t>(*index) > requests.size())
      return make_error(errc::internal, "read_customers: a row of no customer asked for");
    const std::size_t i = static_cast<std::size_t>(*index - 1);
    bool state_row = false;
    CONSENTRY_TRY(take_row(res, row, requests[i].customer, out[i], state_row));
    if (state_row) stated[i] = true;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!stated[i]) return make_error(errc::internal, "read_customers: the server sent no state row");
    sort_history(out[i]);
  }
  return out;
}

}  // namespace consentry::detail
