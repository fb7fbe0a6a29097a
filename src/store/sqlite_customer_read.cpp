// sqlite_customer_read.cpp: Store::read_customer on the SQLite store: what one read of a customer
// needs (a meta row, the erasure mark, the data key, the consent history, the named sealed
// values) in one statement (kReadCustomer). A statement outside a transaction is one implicit
// read transaction, so the read pays the WAL read lock once, and no BEGIN or COMMIT of its own;
// and Store::read_customers, reads of many customers inside the caller's read snapshot.
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include "store/sqlite_schema.hpp"
#include "store/sqlite_statement.hpp"
#include "store/sqlite_store.hpp"

namespace consentry::detail {
namespace {

enum Kind : std::int64_t { kState = 0, kKey = 1, kEvent = 2, kField = 3 };

}  // namespace

result<CustomerRead> SqliteStore::read_customer(const CustomerReadRequest& request) {
  constexpr std::string_view op = "read_customer";
  if (in_transaction() != request.in_snapshot)
    return make_error(errc::internal, request.in_snapshot ? "read_customer: no read snapshot is open"
                                                          : "read_customer: a transaction is open");
  Bound q(stmt(Sql::read_customer));
  q.text(1, request.customer)
      .text(2, request.meta)
      .text(3, request.tag)
      .integer(4, request.key ? 1 : 0)
      .integer(5, request.history ? 1 : 0)
      .integer(6, request.fields.empty() ? 0 : 1);
  CustomerRead out;
  bool stated = false;
  CONSENTRY_TRY(for_each_row(q, op, [&](const Bound& row) -> result<void> {
    switch (row.column_int(0)) {
      case kState:
        if (!row.column_is_null(1)) out.meta = row.column_blob(1);
        if (!request.tag.empty() && !row.column_is_null(2)) out.erased_at = from_unix(row.column_int(2));
        stated = true;
        return ok();
      case kKey: {
        const std::int64_t version = row.column_int(1);
        if (version < 0 || version > static_cast<std::int64_t>(UINT32_MAX))
          return make_error(errc::integrity, "read_customer: data_keys row has an invalid version");
        out.key =
            StoredKey{std::string(request.customer), static_cast<std::uint32_t>(version), row.column_blob(2)};
        return ok();
      }
      case kEvent: {
        ConsentEvent e;
        e.seq = row.column_int(1);
        e.customer = std::string(request.customer);
        e.purpose = row.column_text(2);
        auto tail = read_event_tail(row, 3, e, op);
        if (tail) out.history.push_back(std::move(e));
        return tail;
      }
      case kField: {
        // The customer's rows are walked and the named ones kept: a customer has tens of fields,
        // and the walk reads them from a few neighbouring pages (as get_named_fields does).
        const std::string_view field = row.column_text_view(1);
        if (std::find(request.fields.begin(), request.fields.end(), field) == request.fields.end())
          return ok();
        auto format = format_of(row, 5, op);
        if (!format) return std::move(format).err();
        out.fields.push_back(StoredField{std::string(request.customer), std::string(field),
                                         row.column_blob(2), row.column_text(3), from_unix(row.column_int(4)),
                                         *format});
        return ok();
      }
      default: return make_error(errc::internal, "read_customer: an unexpected row");
    }
  }));
  if (!stated) return make_error(errc::internal, "read_customer: the statement returned no state row");
  // The ledger's index is by customer and seq, so the events come in ledger order; sorted here
  // all the same, since a compound SELECT promises no order.
  std::sort(out.history.begin(), out.history.end(),
            [](const ConsentEvent& a, const ConsentEvent& b) { return a.seq < b.seq; });
  return out;
}

result<std::vector<CustomerRead>> SqliteStore::read_customers(std::span<const CustomerReadRequest> requests) {
  if (!in_transaction() || std::any_of(requests.begin(), requests.end(),
                                       [](const CustomerReadRequest& r) { return !r.in_snapshot; }))
    return make_error(errc::internal, "read_customers: no read snapshot is open");
  // Inside the caller's snapshot the roles' own statements need no transaction of their own, and
  // a few named fields are found by their keys instead of walking all of a customer's rows.
  std::vector<CustomerRead> out;
  out.reserve(requests.size());
  for (const CustomerReadRequest& r : requests) {
    auto got = read_customer_parts(r);
    if (!got) return std::move(got).err();
    out.push_back(std::move(*got));
  }
  return out;
}

}  // namespace consentry::detail
