// sqlite_ledger.cpp: the SQLite store's ledger role: consent events, the contact log, contact
// preferences and privacy budget charges.
#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/signal_column.hpp"
#include "store/sqlite_statement.hpp"
#include "store/sqlite_store.hpp"

namespace consentry::detail {

result<void> read_event_tail(const Bound& q, int first, ConsentEvent& e, std::string_view operation) {
  auto action = parse_consent_action(q.column_text(first));
  if (!action)
    return make_error(errc::integrity, std::string(operation) + ": consent_events row has an unknown action");
  e.action = *action;
  e.at = from_unix(q.column_int(first + 1));
  e.channel = q.column_text(first + 2);
  e.notice = q.column_text(first + 3);
  if (!q.column_is_null(first + 4)) e.expires_at = from_unix(q.column_int(first + 4));
  e.policy_version = q.column_int(first + 5);
  return ok();
}

namespace {

// read_event_signal reads the signal column at `i` of a history row.
result<void> read_event_signal(const Bound& q, int i, ConsentEvent& e, std::string_view operation) {
  if (q.column_is_null(i)) return ok();
  auto signal = parse_signal_column(q.column_text(i), operation);
  if (!signal) return std::move(signal).err();
  e.signal = std::move(*signal);
  return ok();
}

}  // namespace

// ---- consent ----

result<ConsentEvent> SqliteStore::append_consent(const ConsentEvent& e) {
  Bound q(stmt(Sql::append_consent));
  q.text(1, e.customer)
      .text(2, e.purpose)
      .text(3, to_string(e.action))
      .integer(4, to_unix(e.at))
      .text(5, e.channel)
      .text(6, e.notice);
  if (e.expires_at)
    q.integer(7, to_unix(*e.expires_at));
  else
    q.null(7);
  q.integer(8, e.policy_version);
  const std::string signal = e.signal ? signal_column(*e.signal) : std::string();
  if (e.signal)
    q.text(9, signal);
  else
    q.null(9);
  CONSENTRY_TRY(q.exec("append_consent"));
  ConsentEvent stored = e;
  // seq is the INTEGER PRIMARY KEY, so it is the rowid of the row just inserted.
  stored.seq = sqlite3_last_insert_rowid(db_);
  return stored;
}

result<std::vector<ConsentEvent>> SqliteStore::consent_history(std::string_view customer) {
  Bound q(stmt(Sql::consent_history));
  std::vector<ConsentEvent> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "consent_history", [&](const Bound& row) -> result<void> {
    ConsentEvent e;
    e.seq = row.column_int(0);
    e.customer = std::string(customer);
    e.purpose = row.column_text(1);
    auto read = read_event_tail(row, 2, e, "consent_history");
    if (read) read = read_event_signal(row, 8, e, "consent_history");
    if (read) out.push_back(std::move(e));
    return read;
  }));
  return out;
}

result<std::vector<ConsentEvent>> SqliteStore::purpose_history(std::string_view purpose) {
  Bound q(stmt(Sql::purpose_history));
  std::vector<ConsentEvent> out;
  CONSENTRY_TRY(for_each_row(q.text(1, purpose), "purpose_history", [&](const Bound& row) -> result<void> {
    ConsentEvent e;
    e.seq = row.column_int(0);
    e.customer = row.column_text(1);
    e.purpose = std::string(purpose);
    auto read = read_event_tail(row, 2, e, "purpose_history");
    if (read) read = read_event_signal(row, 8, e, "purpose_history");
    if (read) out.push_back(std::move(e));
    return read;
  }));
  return out;
}

result<void> SqliteStore::scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                                 const std::function<bool(const PurposePosition&)>& visit) {
  sqlite3_stmt* key_scan = stmt(Sql::position_keys);
  sqlite3_stmt* event_scan = stmt(Sql::purpose_positions);
  // The statements are cached: a visit that scans again would reset the outer scan under it.
  if (sqlite3_stmt_busy(key_scan) || sqlite3_stmt_busy(event_scan))
    return make_error(errc::internal, "scan_purpose_positions: called from inside a scan");
  // Two ordered scans merged by customer: the data keys' primary key index and the ledger's
  // (purpose, customer, seq) index. Each yields only narrow columns and nothing is copied; the
  // statements share the connection's read transaction, so both see one snapshot. A merge of two
  // cursors does not fit for_each_row's one loop, so this is the one query that steps by hand.
  Bound keys(key_scan);
  Bound events(event_scan);
  if (!events.text(1, purpose).ok()) return db_error(db_, "scan_purpose_positions");
  // event_customer is the customer of the current event row; valid until the next step.
  std::string_view event_customer;
  auto next_event = [&] {
    const int rc = events.step();
    event_customer = rc == SQLITE_ROW ? events.column_text_view(0) : std::string_view();
    return rc;
  };
  int event_rc = next_event();
  int key_rc = SQLITE_DONE;
  while (event_rc == SQLITE_ROW || event_rc == SQLITE_DONE) {
    if ((key_rc = keys.step()) != SQLITE_ROW) break;
    // Only customers with a data key are visited: when the events run out, so do the visits.
    if (only_with_events && event_rc != SQLITE_ROW) break;
    PurposePosition position{keys.column_text_view(0), std::nullopt, std::nullopt, 0};
    // Events of customers without a data key sort in between and are passed over.
    while (event_rc == SQLITE_ROW && event_customer < position.customer) event_rc = next_event();
    // The customer's events come in ledger order: the last one read decides.
    while (event_rc == SQLITE_ROW && event_customer == position.customer) {
      const auto action = parse_consent_action(events.column_text_view(1));
      if (!action)
        return make_error(errc::integrity,
                          "scan_purpose_positions: consent_events row has an unknown action");
      position.action = *action;
      position.expires_at =
          events.column_is_null(2) ? std::nullopt : std::optional<timestamp>(from_unix(events.column_int(2)));
      position.policy_version = events.column_int(3);
      event_rc = next_event();
    }
    if (only_with_events && !position.action) continue;
    if (!visit(position)) return ok();
  }
  if (event_rc != SQLITE_ROW && event_rc != SQLITE_DONE) return db_error(db_, "scan_purpose_positions");
  if (key_rc != SQLITE_ROW && key_rc != SQLITE_DONE) return db_error(db_, "scan_purpose_positions");
  return ok();
}

// ---- contacts and contact preferences ----

result<ContactEvent> SqliteStore::append_contact(const ContactEvent& e) {
  Bound q(stmt(Sql::append_contact));
  CONSENTRY_TRY(q.text(1, e.customer)
                    .text(2, e.channel)
                    .text(3, e.purpose)
                    .integer(4, to_unix(e.at))
                    .exec("append_contact"));
  ContactEvent stored = e;
  stored.seq = sqlite3_last_insert_rowid(db_);
  return stored;
}

result<std::vector<ContactEvent>> SqliteStore::contacts(std::string_view customer) {
  Bound q(stmt(Sql::contacts_of));
  std::vector<ContactEvent> out;
  CONSENTRY_TRY(for_each_row(q.text(1, customer), "contacts", [&](const Bound& row) {
    out.push_back({row.column_int(0), std::string(customer), row.column_text(1), row.column_text(2),
                   from_unix(row.column_int(3))});
  }));
  return out;
}

result<ContactPreference> SqliteStore::append_contact_preference(const ContactPreference& p) {
  Bound q(stmt(Sql::append_contact_preference));
  CONSENTRY_TRY(q.text(1, p.customer)
                    .text(2, to_string(p.kind))
                    .text(3, p.purpose)
                    .text(4, p.channel)
                    .integer(5, p.max)
                    .text(6, p.per.to_string())
                    .integer(7, to_unix(p.at))
                    .exec("append_contact_preference"));
  ContactPreference stored = p;
  stored.seq = sqlite3_last_insert_rowid(db_);
  return stored;
}

result<std::vector<ContactPreference>> SqliteStore::contact_preferences(std::string_view customer) {
  Bound q(stmt(Sql::contact_preferences_of));
  std::vector<ContactPreference> out;
  CONSENTRY_TRY(
      for_each_row(q.text(1, customer), "contact_preferences", [&](const Bound& row) -> result<void> {
        ContactPreference p;
        p.seq = row.column_int(0);
        p.customer = std::string(customer);
        const auto kind = parse_contact_preference_kind(row.column_text(1));
        const auto per = parse_iso_duration(row.column_text(5));
        const std::int64_t max = row.column_int(4);
        if (!kind || !per || max < 0 || max > INT32_MAX)
          return make_error(errc::integrity, "contact_preferences: a row is malformed");
        p.kind = *kind;
        p.purpose = row.column_text(2);
        p.channel = row.column_text(3);
        p.max = static_cast<int>(max);
        p.per = *per;
        p.at = from_unix(row.column_int(6));
        out.push_back(std::move(p));
        return ok();
      }));
  return out;
}

// ---- the privacy budget ----

result<PrivacySpend> SqliteStore::append_privacy_spend(const PrivacySpend& s) {
  Bound q(stmt(Sql::append_privacy_spend));
  CONSENTRY_TRY(q.text(1, s.purpose)
                    .text(2, s.query)
                    .integer(3, s.micro_epsilon)
                    .integer(4, to_unix(s.at))
                    .exec("append_privacy_spend"));
  PrivacySpend stored = s;
  stored.seq = sqlite3_last_insert_rowid(db_);
  return stored;
}

result<std::int64_t> SqliteStore::privacy_spent(std::string_view purpose) {
  Bound q(stmt(Sql::privacy_spent));
  CONSENTRY_TRY(q.text(1, purpose).expect_row("privacy_spent"));
  return q.column_int(0);
}

}  // namespace consentry::detail
