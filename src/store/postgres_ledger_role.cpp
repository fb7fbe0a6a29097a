// postgres_ledger_role.cpp: the ledger role of the PostgreSQL store: consent events, contacts,
// contact preferences and privacy spends (docs/postgresql.md).
//
// Every ledger table's seq is global to the table and never reused, as SQLite's AUTOINCREMENT
// gives it: the last seq given out is a counter of the one `state` row (consent_seq, contact_seq,
// preference_seq, spend_seq), taken by the append's own statement inside the write transaction.
// The write transaction already holds that row (it is the write lock), so two connections never
// take the same seq, a rolled-back append gives its seq back, and an erasure does not make the
// next append reuse the seqs of the events it removed.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/postgres_store.hpp"
#include "store/signal_column.hpp"

namespace consentry::detail {
namespace {

// Each append is one statement: take the table's next seq from `state`, insert the row with it,
// and return it. Parameters are cast: an INSERT ... SELECT does not type them from the columns.
constexpr std::string_view kAppendConsent =
    "WITH next AS (UPDATE @S.state SET consent_seq = consent_seq + 1 WHERE id = 1 RETURNING consent_seq) "
    "INSERT INTO @S.consent_events(customer, seq, purpose, action, at, channel, notice, expires_at, "
    "policy_version, signal) "
    "SELECT $1::text, consent_seq, $2::text, $3::text, $4::bigint, $5::text, $6::text, $7::bigint, "
    "$8::bigint, $9::text "
    "FROM next RETURNING seq";
constexpr std::string_view kConsentHistory =
    "SELECT seq, purpose, action, at, channel, notice, expires_at, policy_version, signal "
    "FROM @S.consent_events WHERE customer = $1 ORDER BY seq";
constexpr std::string_view kPurposeHistory =
    "SELECT seq, customer, action, at, channel, notice, expires_at, policy_version, signal "
    "FROM @S.consent_events WHERE purpose = $1 ORDER BY customer, seq";
// scan_purpose_positions is one statement whose rows are read one at a time (exec_each_row):
// every event on the purpose $1 of a customer with a data key, in customer order and, within a
// customer, in seq order, so that the last row of a customer is their position. Both orders come
// from the indexes (data_keys' key, consent_events_by_purpose), so the server merges rather than
// sorts. The LEFT JOIN form also gives each customer without an event one row of NULLs.
constexpr std::string_view kPositionsWithEvents =
    "SELECT e.customer, e.action, e.expires_at, e.policy_version FROM @S.consent_events e "
    "WHERE e.purpose = $1 AND EXISTS (SELECT 1 FROM @S.data_keys k WHERE k.customer = e.customer) "
    "ORDER BY e.customer, e.seq";
constexpr std::string_view kPositionsOfAll =
    "SELECT k.customer, e.action, e.expires_at, e.policy_version FROM @S.data_keys k "
    "LEFT JOIN @S.consent_events e ON e.customer = k.customer AND e.purpose = $1 "
    "ORDER BY k.customer, e.seq";

constexpr std::string_view kAppendContact =
    "WITH next AS (UPDATE @S.state SET contact_seq = contact_seq + 1 WHERE id = 1 RETURNING contact_seq) "
    "INSERT INTO @S.contacts(customer, seq, channel, purpose, at) "
    "SELECT $1::text, contact_seq, $2::text, $3::text, $4::bigint FROM next RETURNING seq";
constexpr std::string_view kContacts =
    "SELECT seq, channel, purpose, at FROM @S.contacts WHERE customer = $1 ORDER BY seq";
constexpr std::string_view kAppendContactPreference =
    "WITH next AS (UPDATE @S.state SET preference_seq = preference_seq + 1 WHERE id = 1 "
    "RETURNING preference_seq) "
    "INSERT INTO @S.contact_preferences(customer, seq, kind, purpose, channel, max, per, at) "
    "SELECT $1::text, preference_seq, $2::text, $3::text, $4::text, $5::bigint, $6::text, $7::bigint "
    "FROM next RETURNING seq";
constexpr std::string_view kContactPreferences =
    "SELECT seq, kind, purpose, channel, max, per, at FROM @S.contact_preferences WHERE customer = $1 "
    "ORDER BY seq";
constexpr std::string_view kAppendPrivacySpend =
    "WITH next AS (UPDATE @S.state SET spend_seq = spend_seq + 1 WHERE id = 1 RETURNING spend_seq) "
    "INSERT INTO @S.privacy_spends(purpose, seq, query, micro_epsilon, at) "
    "SELECT $1::text, spend_seq, $2::text, $3::bigint, $4::bigint FROM next RETURNING seq";
constexpr std::string_view kPrivacySpent =
    "SELECT coalesce(sum(micro_epsilon), 0)::bigint FROM @S.privacy_spends WHERE purpose = $1";

// append runs an append statement (its seq counter's UPDATE and its INSERT, in one) in a write
// transaction and returns the seq its RETURNING gave; errc::integrity when it gave none (no state
// row: the schema is damaged).
result<std::int64_t> append(PostgresStore& store, std::string_view sql, const PgParams& params,
                            std::string_view operation) {
  std::int64_t seq = 0;
  CONSENTRY_TRY(store.write(operation, [&]() -> result<void> {
    auto r = store.exec(sql, params, operation);
    if (!r) return std::move(r).err();
    if (PQntuples(r->get()) != 1)
      return make_error(errc::integrity, std::string(operation) + ": the vault's state row is missing");
    auto got = pg_int(r->get(), 0, 0);
    if (!got) return std::move(got).err();
    seq = *got;
    return ok();
  }));
  return seq;
}

// pg_event_signal reads the signal column at `column` of a history row.
result<void> pg_event_signal(const PGresult* r, int row, int column, ConsentEvent& e,
                             std::string_view operation) {
  if (PQgetisnull(r, row, column)) return ok();
  auto signal = parse_signal_column(pg_text(r, row, column), operation);
  if (!signal) return std::move(signal).err();
  e.signal = std::move(*signal);
  return ok();
}

}  // namespace

result<void> pg_event_tail(const PGresult* r, int row, int first, ConsentEvent& e,
                           std::string_view operation) {
  auto action = parse_consent_action(pg_text(r, row, first));
  if (!action)
    return make_error(errc::integrity, std::string(operation) + ": consent_events row has an unknown action");
  e.action = *action;
  auto at = pg_int(r, row, first + 1);
  if (!at) return std::move(at).err();
  e.at = pg_time(*at);
  e.channel = std::string(pg_text(r, row, first + 2));
  e.notice = std::string(pg_text(r, row, first + 3));
  if (!PQgetisnull(r, row, first + 4)) {
    auto expires = pg_int(r, row, first + 4);
    if (!expires) return std::move(expires).err();
    e.expires_at = pg_time(*expires);
  }
  auto version = pg_int(r, row, first + 5);
  if (!version) return std::move(version).err();
  e.policy_version = *version;
  return ok();
}

// ---- consent ----

result<ConsentEvent> PostgresStore::append_consent(const ConsentEvent& e) {
  PgParams p;
  p.text(e.customer)
      .text(e.purpose)
      .text(to_string(e.action))
      .integer(pg_seconds(e.at))
      .text(e.channel)
      .text(e.notice);
  if (e.expires_at)
    p.integer(pg_seconds(*e.expires_at));
  else
    p.null();
  p.integer(e.policy_version);
  const std::string signal = e.signal ? signal_column(*e.signal) : std::string();
  if (e.signal)
    p.text(signal);
  else
    p.null();
  auto seq = append(*this, kAppendConsent, p, "append_consent");
  if (!seq) return std::move(seq).err();
  ConsentEvent stored = e;
  stored.seq = *seq;
  return stored;
}

result<std::vector<ConsentEvent>> PostgresStore::consent_history(std::string_view customer) {
  auto r = exec(kConsentHistory, PgParams{}.text(customer), "consent_history");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<ConsentEvent> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    ConsentEvent e;
    auto seq = pg_int(res, row, 0);
    if (!seq) return std::move(seq).err();
    e.seq = *seq;
    e.customer = std::string(customer);
    e.purpose = std::string(pg_text(res, row, 1));
    CONSENTRY_TRY(pg_event_tail(res, row, 2, e, "consent_history"));
    CONSENTRY_TRY(pg_event_signal(res, row, 8, e, "consent_history"));
    out.push_back(std::move(e));
  }
  return out;
}

result<std::vector<ConsentEvent>> PostgresStore::purpose_history(std::string_view purpose) {
  auto r = exec(kPurposeHistory, PgParams{}.text(purpose), "purpose_history");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<ConsentEvent> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    ConsentEvent e;
    auto seq = pg_int(res, row, 0);
    if (!seq) return std::move(seq).err();
    e.seq = *seq;
    e.customer = std::string(pg_text(res, row, 1));
    e.purpose = std::string(purpose);
    CONSENTRY_TRY(pg_event_tail(res, row, 2, e, "purpose_history"));
    CONSENTRY_TRY(pg_event_signal(res, row, 8, e, "purpose_history"));
    out.push_back(std::move(e));
  }
  return out;
}

result<void> PostgresStore::scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                                   const std::function<bool(const PurposePosition&)>& visit) {
  // Each customer's rows arrive together, the last one being their position: it is kept until
  // a row of the next customer (or the end) shows it was the last.
  struct Held {
    std::string customer;
    std::optional<ConsentAction> action;
    std::optional<timestamp> expires_at;
    std::int64_t policy_version = 0;
  };
  std::optional<Held> held;
  bool stopped = false;
  auto hand_out = [&]() {
    if (!held) return;
    stopped = !visit(PurposePosition{held->customer, held->action, held->expires_at, held->policy_version});
    held.reset();
  };
  auto scanned =
      exec_each_row(only_with_events ? kPositionsWithEvents : kPositionsOfAll, PgParams{}.text(purpose),
                    "scan_purpose_positions", [&](const PGresult* res) -> result<bool> {
                      const std::string_view customer = pg_text(res, 0, 0);
                      if (held && held->customer != customer) hand_out();
                      if (stopped) return false;
                      if (!held) held.emplace().customer = std::string(customer);
                      if (PQgetisnull(res, 0, 1)) return true;  // a customer without an event on the purpose
                      const auto action = parse_consent_action(pg_text(res, 0, 1));
                      if (!action)
                        return make_error(errc::integrity,
                                          "scan_purpose_positions: consent_events row has an unknown action");
                      held->action = *action;
                      held->expires_at.reset();
                      if (!PQgetisnull(res, 0, 2)) {
                        auto expires = pg_int(res, 0, 2);
                        if (!expires) return std::move(expires).err();
                        held->expires_at = pg_time(*expires);
                      }
                      auto version = pg_int(res, 0, 3);
                      if (!version) return std::move(version).err();
                      held->policy_version = *version;
                      return true;
                    });
  if (!scanned) return scanned;
  if (!stopped) hand_out();
  return ok();
}

// ---- contacts and contact preferences ----

result<ContactEvent> PostgresStore::append_contact(const ContactEvent& e) {
  auto seq = append(*this, kAppendContact,
                    PgParams{}.text(e.customer).text(e.channel).text(e.purpose).integer(pg_seconds(e.at)),
                    "append_contact");
  if (!seq) return std::move(seq).err();
  ContactEvent stored = e;
  stored.seq = *seq;
  return stored;
}

result<std::vector<ContactEvent>> PostgresStore::contacts(std::string_view customer) {
  auto r = exec(kContacts, PgParams{}.text(customer), "contacts");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<ContactEvent> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto seq = pg_int(res, row, 0);
    if (!seq) return std::move(seq).err();
    auto at = pg_int(res, row, 3);
    if (!at) return std::move(at).err();
    out.push_back({*seq, std::string(customer), std::string(pg_text(res, row, 1)),
                   std::string(pg_text(res, row, 2)), pg_time(*at)});
  }
  return out;
}

result<ContactPreference> PostgresStore::append_contact_preference(const ContactPreference& p) {
  auto seq = append(*this, kAppendContactPreference,
                    PgParams{}
                        .text(p.customer)
                        .text(to_string(p.kind))
                        .text(p.purpose)
                        .text(p.channel)
                        .integer(p.max)
                        .text(p.per.to_string())
                        .integer(pg_seconds(p.at)),
                    "append_contact_preference");
  if (!seq) return std::move(seq).err();
  ContactPreference stored = p;
  stored.seq = *seq;
  return stored;
}

result<std::vector<ContactPreference>> PostgresStore::contact_preferences(std::string_view customer) {
  auto r = exec(kContactPreferences, PgParams{}.text(customer), "contact_preferences");
  if (!r) return std::move(r).err();
  const PGresult* res = r->get();
  std::vector<ContactPreference> out;
  out.reserve(static_cast<std::size_t>(PQntuples(res)));
  for (int row = 0; row < PQntuples(res); ++row) {
    auto seq = pg_int(res, row, 0);
    auto max = pg_int(res, row, 4);
    auto at = pg_int(res, row, 6);
    const auto kind = parse_contact_preference_kind(pg_text(res, row, 1));
    const auto per = parse_iso_duration(pg_text(res, row, 5));
    if (!seq || !max || !at || !kind || !per || *max < 0 || *max > INT32_MAX)
      return make_error(errc::integrity, "contact_preferences: a row is malformed");
    ContactPreference p;
    p.seq = *seq;
    p.customer = std::string(customer);
    p.kind = *kind;
    p.purpose = std::string(pg_text(res, row, 2));
    p.channel = std::string(pg_text(res, row, 3));
    p.max = static_cast<int>(*max);
    p.per = *per;
    p.at = pg_time(*at);
    out.push_back(std::move(p));
  }
  return out;
}

// ---- the privacy budget ----

result<PrivacySpend> PostgresStore::append_privacy_spend(const PrivacySpend& s) {
  auto seq =
      append(*this, kAppendPrivacySpend,
             PgParams{}.text(s.purpose).text(s.query).integer(s.micro_epsilon).integer(pg_seconds(s.at)),
             "append_privacy_spend");
  if (!seq) return std::move(seq).err();
  PrivacySpend stored = s;
  stored.seq = *seq;
  return stored;
}

result<std::int64_t> PostgresStore::privacy_spent(std::string_view purpose) {
  auto r = exec(kPrivacySpent, PgParams{}.text(purpose), "privacy_spent");
  if (!r) return std::move(r).err();
  if (PQntuples(r->get()) != 1) return make_error(errc::integrity, "privacy_spent: no sum returned");
  return pg_int(r->get(), 0, 0);
}

}  // namespace consentry::detail
