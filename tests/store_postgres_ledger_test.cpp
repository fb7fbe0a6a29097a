// store_postgres_ledger_test.cpp: what the PostgreSQL store's ledger and audit log roles do
// beyond the shared behavioural suites (docs/postgresql.md): seqs taken by two connections at
// once, append-only tables refused UPDATE and DELETE by privileges, scans that page through the
// log, and an audit append that fails alone inside the caller's transaction. Runs on the cluster
// of the ctest fixture `postgres`; each test case makes a schema of its own and drops it.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "consentry/extension/store.hpp"
#include "store/postgres_store.hpp"
#include "support/must.hpp"
#include "support/postgres_cluster.hpp"
#include "support/postgres_scratch.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::cluster_url;
using consentry::test::fresh_schema_name;
using consentry::test::must;
using consentry::test::ScratchSchema;

namespace {

timestamp at(std::int64_t s) {
  return timestamp{std::chrono::seconds{s}};
}

ConsentEvent event_of(std::string customer, std::string purpose, ConsentAction action, std::int64_t when) {
  ConsentEvent e;
  e.customer = std::move(customer);
  e.purpose = std::move(purpose);
  e.action = action;
  e.at = at(when);
  e.channel = "web";
  e.notice = "privacy-2025-03";
  return e;
}

/// audit_entry_of is an entry at `seq` naming `customer`; its bytes and hash are made up (the
/// store keeps them as they are).
StoredAuditEntry audit_entry_of(std::int64_t seq, std::string customer) {
  StoredAuditEntry e;
  e.seq = seq;
  e.at = at(1700000000 + seq);
  e.customer = std::move(customer);
  const std::string text = "entry-" + std::to_string(seq);
  e.encoded.assign(text.begin(), text.end());
  e.hash.assign(32, static_cast<std::uint8_t>(seq % 251));
  e.hash[0] = static_cast<std::uint8_t>(seq >> 8);
  return e;
}

/// append_run appends entries first..last (inclusive) in batches of `batch`.
void append_run(Store& s, std::int64_t first, std::int64_t last, std::int64_t batch) {
  for (std::int64_t from = first; from <= last; from += batch) {
    std::vector<StoredAuditEntry> entries;
    for (std::int64_t seq = from; seq <= last && seq < from + batch; ++seq)
      entries.push_back(audit_entry_of(seq, "p-" + std::to_string(seq % 7)));
    must(s.append_audit(entries));
  }
}

std::vector<std::int64_t> audit_seqs(Store& s, std::int64_t from) {
  std::vector<std::int64_t> out;
  must(s.scan_audit(from, [&](const StoredAuditEntry& e) {
    out.push_back(e.seq);
    return true;
  }));
  return out;
}

/// refusal_of runs `sql` and returns the SQLSTATE a failed exec_sql names in its message ("" when it
/// succeeded).
std::string refusal_of(PostgresStore& s, const std::string& sql) {
  auto r = s.exec_sql(sql, "test");
  if (r) return "";
  const std::string& m = r.err().message;
  const auto p = m.find("SQLSTATE ");
  return p == std::string::npos ? m : m.substr(p + 9, 5);
}

/// with_user returns `url` with its user parameter replaced by (or set to) `user`.
std::string with_user(const std::string& url, const std::string& user) {
  const auto query = url.find('?');
  if (query == std::string::npos) return url + "?user=" + user;
  std::string out = url.substr(0, query + 1);
  std::string rest = url.substr(query + 1);
  bool first = true;
  for (std::size_t p = 0; p <= rest.size();) {
    std::size_t end = rest.find('&', p);
    if (end == std::string::npos) end = rest.size();
    const std::string param = rest.substr(p, end - p);
    if (!param.empty() && param.rfind("user=", 0) != 0) {
      out += (first ? "" : "&") + param;
      first = false;
    }
    p = end + 1;
  }
  return out + (first ? "" : "&") + "user=" + user;
}

/// OrdinaryRole is a login role without superuser rights, allowed to create schemas in the test
/// database; dropped at the end with what it owns.
struct OrdinaryRole {
  std::string admin_url = cluster_url();
  std::string name = "consentry_crm_" + std::to_string(std::random_device{}());
  std::string database;
  OrdinaryRole() {
    PGconn* c = PQconnectdb(admin_url.c_str());
    REQUIRE(PQstatus(c) == CONNECTION_OK);
    PGresult* db = PQexec(c, "SELECT current_database()");
    REQUIRE(PQresultStatus(db) == PGRES_TUPLES_OK);
    database = PQgetvalue(db, 0, 0);
    PQclear(db);
    for (const std::string& sql : {"CREATE ROLE " + name + " LOGIN NOSUPERUSER",
                                   "GRANT CREATE ON DATABASE \"" + database + "\" TO " + name}) {
      PGresult* r = PQexec(c, sql.c_str());
      INFO(sql);
      REQUIRE(PQresultStatus(r) == PGRES_COMMAND_OK);
      PQclear(r);
    }
    PQfinish(c);
  }
  ~OrdinaryRole() {
    PGconn* c = PQconnectdb(admin_url.c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);
    if (PQstatus(c) == CONNECTION_OK) {
      PQclear(PQexec(c, ("DROP OWNED BY " + name + " CASCADE").c_str()));
      PQclear(PQexec(c, ("DROP ROLE IF EXISTS " + name).c_str()));
    }
    PQfinish(c);
  }
  std::string url() const { return with_user(admin_url, name); }
};

}  // namespace

TEST_CASE("postgres: two PostgreSQL connections appending at once never share a seq nor lose an entry") {
  ScratchSchema schema;
  auto first = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto second = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  constexpr int kRounds = 60;

  struct Outcome {
    std::vector<std::int64_t> consent_seqs;
    std::vector<std::int64_t> contact_seqs;
    std::int64_t audit_entries = 0;
    std::vector<std::string> failures;
  };
  // Each round: a consent event and a contact of their own transactions, then one to three
  // audit entries chained on the head read inside the writer's transaction, as AuditTrail does.
  auto run = [&](PostgresStore& s, const std::string& who, Outcome& out) {
    for (int i = 0; i < kRounds; ++i) {
      const std::string customer = who + "-" + std::to_string(i % 4);
      auto e = s.append_consent(event_of(customer, "analytics", ConsentAction::grant, 100 + i));
      if (!e) {
        out.failures.push_back(e.err().message);
        continue;
      }
      out.consent_seqs.push_back(e->seq);
      auto c = s.append_contact(ContactEvent{0, customer, "email", "analytics", at(200 + i)});
      if (!c) {
        out.failures.push_back(c.err().message);
        continue;
      }
      out.contact_seqs.push_back(c->seq);
      auto appended = [&]() -> result<void> {
        auto tx = Transaction::start(s);
        if (!tx) return std::move(tx).err();
        auto head = s.audit_head();
        if (!head) return std::move(head).err();
        std::int64_t seq = *head ? (*head)->seq : 0;
        std::vector<StoredAuditEntry> entries;
        for (int k = 0; k <= i % 3; ++k) entries.push_back(audit_entry_of(++seq, who));
        CONSENTRY_TRY(s.append_audit(entries));
        CONSENTRY_TRY(tx->commit());
        out.audit_entries += static_cast<std::int64_t>(entries.size());
        return ok();
      }();
      if (!appended) out.failures.push_back(appended.err().message);
    }
  };
  Outcome a;
  Outcome b;
  std::thread ta([&] { run(*first, "A", a); });
  std::thread tb([&] { run(*second, "B", b); });
  ta.join();
  tb.join();

  for (const auto& f : a.failures) CHECK_MESSAGE(false, f);
  for (const auto& f : b.failures) CHECK_MESSAGE(false, f);
  REQUIRE(a.consent_seqs.size() == kRounds);
  REQUIRE(b.consent_seqs.size() == kRounds);

  // Every seq given out once; every event and contact stored.
  std::set<std::int64_t> consent(a.consent_seqs.begin(), a.consent_seqs.end());
  consent.insert(b.consent_seqs.begin(), b.consent_seqs.end());
  CHECK(consent.size() == 2 * kRounds);
  std::set<std::int64_t> contact(a.contact_seqs.begin(), a.contact_seqs.end());
  contact.insert(b.contact_seqs.begin(), b.contact_seqs.end());
  CHECK(contact.size() == 2 * kRounds);
  std::size_t events = 0;
  std::size_t contacts = 0;
  for (const char* who : {"A", "B"}) {
    for (int c = 0; c < 4; ++c) {
      const std::string customer = std::string(who) + "-" + std::to_string(c);
      const auto history = must(first->consent_history(customer));
      for (std::size_t i = 1; i < history.size(); ++i) CHECK(history[i - 1].seq < history[i].seq);
      events += history.size();
      contacts += must(second->contacts(customer)).size();
    }
  }
  CHECK(events == 2 * kRounds);
  CHECK(contacts == 2 * kRounds);

  // The audit log: 1, 2, ... without a gap or a repeat, and every writer's entries in it.
  const auto seqs = audit_seqs(*first, 1);
  REQUIRE(static_cast<std::int64_t>(seqs.size()) == a.audit_entries + b.audit_entries);
  for (std::size_t i = 0; i < seqs.size(); ++i) CHECK(seqs[i] == static_cast<std::int64_t>(i) + 1);
  CHECK(static_cast<std::int64_t>(must(first->audit_for_customer("A")).size()) == a.audit_entries);
  CHECK(static_cast<std::int64_t>(must(first->audit_for_customer("B")).size()) == b.audit_entries);
}

TEST_CASE("postgres: PostgreSQL ledger seqs are global to each table and not reused after an erasure") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const auto one = must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 1)));
  const auto two = must(s->append_consent(event_of("C-2", "analytics", ConsentAction::grant, 2)));
  CHECK(one.seq == 1);
  CHECK(two.seq == 2);
  // A rolled-back append gives its seq back, as SQLite's AUTOINCREMENT does.
  must(s->begin());
  CHECK(must(s->append_consent(event_of("C-3", "analytics", ConsentAction::grant, 3))).seq == 3);
  must(s->rollback());
  // Removing the newest event (erasure deletes a customer's) does not bring its seq back: the
  // next is 3, the one the rollback gave back, not 2 (a max over the table would give 2).
  must(s->exec_sql("DELETE FROM @S.consent_events WHERE customer = 'C-2'", "test"));
  CHECK(must(s->append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 4))).seq == 3);
  // Each table counts on its own.
  CHECK(must(s->append_contact(ContactEvent{0, "C-1", "email", "analytics", at(5)})).seq == 1);
  ContactPreference p;
  p.customer = "C-1";
  p.kind = ContactPreferenceKind::opt_out;
  p.channel = "sms";
  p.at = at(6);
  CHECK(must(s->append_contact_preference(p)).seq == 1);
  CHECK(must(s->append_privacy_spend(PrivacySpend{0, "analytics", "sum income", 250000, at(7)})).seq == 1);
  CHECK(must(s->append_privacy_spend(PrivacySpend{0, "research", "count", 100000, at(8)})).seq == 2);
  CHECK(must(s->privacy_spent("analytics")) == 250000);
  CHECK(must(s->privacy_spent("none")) == 0);
}

TEST_CASE("postgres: the PostgreSQL audit log and ledger refuse UPDATE and DELETE to an ordinary role") {
  OrdinaryRole role;
  ScratchSchema schema;
  {
    // The ordinary role creates the vault, so it owns the tables: the schema's REVOKEs apply to it.
    auto s = must(PostgresStore::connect(role.url(), StoreMode::create, schema.name));
    const auto is_ordinary = must(
        s->exec_sql("SELECT count(*) FROM pg_roles WHERE rolname = current_user AND NOT rolsuper", "test"));
    REQUIRE(std::string(PQgetvalue(is_ordinary.get(), 0, 0)) == "1");

    // What the CRM does works: appends, the write lock, checkpoints.
    must(s->append_audit({audit_entry_of(1, "p-1"), audit_entry_of(2, "")}));
    must(s->put_checkpoint(AuditCheckpoint{2, bytes(32, 7), at(3), bytes(64, 9)}));
    must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 1)));
    must(s->append_contact(ContactEvent{0, "C-1", "email", "analytics", at(2)}));
    must(s->append_privacy_spend(PrivacySpend{0, "analytics", "count", 1000, at(3)}));
    CHECK(
        refusal_of(
            *s, "INSERT INTO @S.audit(seq, at, customer, entry, hash) VALUES (3, 0, '', '\\x00', '\\x00')") ==
        "");

    // What would rewrite history is refused (42501: insufficient_privilege).
    for (const char* sql : {"UPDATE @S.audit SET at = 0", "DELETE FROM @S.audit", "TRUNCATE @S.audit",
                            "UPDATE @S.audit_checkpoints SET at = 0", "DELETE FROM @S.audit_checkpoints",
                            "UPDATE @S.privacy_spends SET micro_epsilon = 1", "DELETE FROM @S.privacy_spends",
                            "UPDATE @S.consent_events SET action = 'withdraw'",
                            "UPDATE @S.contacts SET at = 0", "TRUNCATE @S.consent_events"}) {
      INFO(sql);
      CHECK(refusal_of(*s, sql) == "42501");
    }
    // Erasure's one delete stays allowed on the ledger.
    CHECK(refusal_of(*s, "DELETE FROM @S.consent_events WHERE customer = 'nobody'") == "");
    // Nothing was changed by the refused statements.
    CHECK(audit_seqs(*s, 1) == std::vector<std::int64_t>{1, 2, 3});
    CHECK(must(s->consent_history("C-1")).size() == 1);
  }
}

TEST_CASE("postgres: a PostgreSQL audit scan pages through a long log in seq order") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  constexpr std::int64_t kEntries = 2345;  // three pages of 1000
  append_run(*s, 1, kEntries, 400);

  const auto all = audit_seqs(*s, 1);
  REQUIRE(static_cast<std::int64_t>(all.size()) == kEntries);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i] == static_cast<std::int64_t>(i) + 1);
  const auto tail = audit_seqs(*s, 999);
  REQUIRE(tail.size() == kEntries - 998);
  CHECK(tail.front() == 999);
  CHECK(tail.back() == kEntries);
  CHECK(audit_seqs(*s, kEntries + 1).empty());

  // A visit that stops ends the scan where it stopped, also past a page.
  std::int64_t visited = 0;
  must(s->scan_audit(1, [&](const StoredAuditEntry&) { return ++visited < 1500; }));
  CHECK(visited == 1500);

  // The views hold the entries as appended, across the pages' boundaries.
  std::int64_t seen = 0;
  must(s->scan_audit_views(990, [&](const StoredAuditView& v) {
    const StoredAuditEntry want = audit_entry_of(v.seq, "p-" + std::to_string(v.seq % 7));
    CHECK(v.customer == want.customer);
    CHECK(bytes(v.encoded.begin(), v.encoded.end()) == want.encoded);
    CHECK(bytes(v.hash.begin(), v.hash.end()) == want.hash);
    CHECK(v.at == want.at);
    return ++seen < 30;
  }));
  CHECK(seen == 30);

  // The head and a customer's entries.
  const auto head = must(s->audit_head());
  REQUIRE(head.has_value());
  CHECK(head->seq == kEntries);
  CHECK(head->hash == audit_entry_of(kEntries, "").hash);
  const auto p3 = must(s->audit_for_customer("p-3"));
  CHECK(p3.size() == static_cast<std::size_t>((kEntries - 3) / 7 + 1));
  for (std::size_t i = 1; i < p3.size(); ++i) CHECK(p3[i - 1].seq < p3[i].seq);
  CHECK(must(s->audit_for_customer("")).empty());
}

TEST_CASE(
    "postgres: a PostgreSQL audit append that does not continue the log fails alone in the caller's "
    "transaction") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(s->append_audit({audit_entry_of(1, "p-1")}));

  // Outside a transaction: refused, nothing appended.
  auto gap = s->append_audit({audit_entry_of(3, "p-1")});
  REQUIRE_FALSE(gap);
  CHECK(gap.err().code == errc::internal);
  CHECK_FALSE(s->in_transaction());

  {
    auto tx = must(Transaction::start(*s));
    must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 10)));
    for (const std::vector<std::int64_t>& wrong :
         std::vector<std::vector<std::int64_t>>{{5}, {1}, {2, 4}, {2, 2}}) {
      std::vector<StoredAuditEntry> entries;
      for (const std::int64_t seq : wrong) entries.push_back(audit_entry_of(seq, "p-2"));
      auto refused = s->append_audit(entries);
      REQUIRE_FALSE(refused);
      CHECK(refused.err().code == errc::internal);
    }
    // The transaction goes on: a batch that continues the log, and the caller's other writes.
    must(s->append_audit({audit_entry_of(2, "p-2"), audit_entry_of(3, "p-2")}));
    must(s->append_contact(ContactEvent{0, "C-1", "email", "analytics", at(11)}));
    must(tx.commit());
  }
  CHECK(audit_seqs(*s, 1) == std::vector<std::int64_t>{1, 2, 3});
  CHECK(must(s->consent_history("C-1")).size() == 1);
  CHECK(must(s->contacts("C-1")).size() == 1);

  // A customer the server could not store is refused before anything is sent.
  must(s->begin());
  auto nul = s->append_audit({audit_entry_of(4, std::string("p\0x", 3))});
  REQUIRE_FALSE(nul);
  CHECK(nul.err().code == errc::invalid_argument);
  must(s->append_audit({audit_entry_of(4, "p-4")}));
  must(s->commit());
  CHECK(must(s->audit_head())->seq == 4);
}

TEST_CASE("postgres: PostgreSQL checkpoints keep the first one stored for a seq") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  CHECK(must(s->checkpoints()).empty());
  must(s->put_checkpoint(AuditCheckpoint{5, bytes(32, 1), at(100), bytes(64, 2)}));
  must(s->begin());
  must(s->put_checkpoint(AuditCheckpoint{5, bytes(32, 3), at(200), bytes(64, 4)}));  // no failure
  must(s->put_checkpoint(AuditCheckpoint{2, bytes(32, 5), at(50), bytes(64, 6)}));
  must(s->commit());
  const auto all = must(s->checkpoints());
  REQUIRE(all.size() == 2);
  CHECK(all[0].seq == 2);
  CHECK(all[1].seq == 5);
  CHECK(all[1].head == bytes(32, 1));
  CHECK(all[1].at == at(100));
  CHECK(all[1].signature == bytes(64, 2));
}

TEST_CASE("postgres: PostgreSQL purpose positions page through the customers with a data key") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // 2100 customers with a data key, C-00001 ... C-02100 (three pages of positions).
  must(s->exec_sql(
      "INSERT INTO @S.data_keys(customer, version, wrapped) SELECT 'C-' || lpad(g::text, 5, '0'), "
      "1, '\\x00' FROM generate_series(1, 2100) g",
      "test"));
  auto name = [](int i) {
    std::string n = std::to_string(i);
    return "C-" + std::string(5 - n.size(), '0') + n;
  };
  // Events: the last one on the purpose decides; other purposes and key-less customers do not count.
  must(s->append_consent(event_of(name(1), "analytics", ConsentAction::grant, 1)));
  must(s->append_consent(event_of(name(1), "analytics", ConsentAction::withdraw, 2)));
  auto expiring = event_of(name(1000), "analytics", ConsentAction::grant, 3);
  expiring.expires_at = at(1000);
  expiring.policy_version = 4;
  must(s->append_consent(expiring));
  must(s->append_consent(event_of(name(1001), "analytics", ConsentAction::object, 4)));
  must(s->append_consent(event_of(name(1001), "marketing", ConsentAction::grant, 5)));
  must(s->append_consent(event_of(name(2100), "analytics", ConsentAction::grant, 6)));
  must(s->append_consent(event_of("C-00000-no-key", "analytics", ConsentAction::grant, 7)));
  must(s->append_consent(event_of("D-no-key", "analytics", ConsentAction::grant, 8)));
  must(s->append_consent(event_of(name(1500), "marketing", ConsentAction::grant, 9)));

  struct Seen {
    std::string customer;
    std::optional<ConsentAction> action;
    std::optional<timestamp> expires_at;
    std::int64_t policy_version;
  };
  auto scan = [&](bool only_with_events, std::size_t stop_after) {
    std::vector<Seen> out;
    must(s->scan_purpose_positions("analytics", only_with_events, [&](const Store::PurposePosition& p) {
      out.push_back({std::string(p.customer), p.action, p.expires_at, p.policy_version});
      return out.size() < stop_after;
    }));
    return out;
  };

  const auto all = scan(false, SIZE_MAX);
  REQUIRE(all.size() == 2100);
  for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].customer == name(static_cast<int>(i) + 1));
  CHECK(all[0].action == std::optional<ConsentAction>(ConsentAction::withdraw));
  CHECK(all[999].action == std::optional<ConsentAction>(ConsentAction::grant));
  CHECK(all[999].expires_at == std::optional<timestamp>(at(1000)));
  CHECK(all[999].policy_version == 4);
  CHECK(all[1000].action == std::optional<ConsentAction>(ConsentAction::object));
  CHECK_FALSE(all[1000].expires_at.has_value());
  CHECK_FALSE(all[1499].action.has_value());  // an event on another purpose only
  CHECK_FALSE(all[1].action.has_value());
  CHECK(all[2099].action == std::optional<ConsentAction>(ConsentAction::grant));

  const auto with_events = scan(true, SIZE_MAX);
  REQUIRE(with_events.size() == 4);
  CHECK(with_events[0].customer == name(1));
  CHECK(with_events[1].customer == name(1000));
  CHECK(with_events[2].customer == name(1001));
  CHECK(with_events[3].customer == name(2100));

  CHECK(scan(false, 1234).size() == 1234);
  CHECK(scan(true, 2).size() == 2);

  // purpose_history: by customer, then ledger order, key-less customers included.
  const auto history = must(s->purpose_history("analytics"));
  REQUIRE(history.size() == 7);
  CHECK(history[0].customer == "C-00000-no-key");
  CHECK(history[1].customer == name(1));
  CHECK(history[1].action == ConsentAction::grant);
  CHECK(history[2].action == ConsentAction::withdraw);
  CHECK(history[3].expires_at == std::optional<timestamp>(at(1000)));
  CHECK_FALSE(history[2].expires_at.has_value());
  CHECK(history[6].customer == "D-no-key");
}

TEST_CASE("postgres: PostgreSQL ledger rows that cannot be read back are errc::integrity") {
  ScratchSchema schema;
  auto s = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(
      s->exec_sql("INSERT INTO @S.data_keys(customer, version, wrapped) VALUES ('C-1', 1, '\\x00')", "test"));
  must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 1)));
  ContactPreference p;
  p.customer = "C-1";
  p.kind = ContactPreferenceKind::limit;
  p.purpose = "analytics";
  p.max = 2;
  p.per = *parse_iso_duration("P7D");
  p.at = at(2);
  must(s->append_contact_preference(p));
  const auto read_back = must(s->contact_preferences("C-1"));
  REQUIRE(read_back.size() == 1);
  CHECK(read_back[0].max == 2);
  CHECK(read_back[0].per.to_string() == "P7D");

  // Someone with SQL access (here past the CHECK constraints) writes what the store never would.
  must(
      s->exec_sql("ALTER TABLE @S.consent_events DROP CONSTRAINT consent_events_action_check; "
                  "INSERT INTO @S.consent_events(customer, seq, purpose, action, at, channel, notice) "
                  "VALUES ('C-1', 99, 'analytics', 'revoke', 3, '', '')",
                  "test"));
  CHECK(s->consent_history("C-1").err().code == errc::integrity);
  CHECK(s->purpose_history("analytics").err().code == errc::integrity);
  auto scanned =
      s->scan_purpose_positions("analytics", false, [](const Store::PurposePosition&) { return true; });
  REQUIRE_FALSE(scanned);
  CHECK(scanned.err().code == errc::integrity);
  must(s->exec_sql("UPDATE @S.contact_preferences SET per = 'a week'", "test"));
  CHECK(s->contact_preferences("C-1").err().code == errc::integrity);
}

TEST_CASE(
    "postgres: read_customer gives the history in ledger order whatever order the server finds rows in") {
  ScratchSchema schema;
  // Without index scans the events come in heap order, which here is the reverse of seq order,
  // as concurrent writers can leave it.
  const std::string url = schema.url + (schema.url.find('?') == std::string::npos ? "?" : "&") +
                          "options=-c%20enable_indexscan%3Doff%20-c%20enable_indexonlyscan%3Doff";
  auto store = must(PostgresStore::connect(url, StoreMode::create, schema.name));
  for (int seq = 9; seq >= 1; --seq)
    must(
        store->exec_sql("INSERT INTO @S.consent_events(customer, seq, purpose, action, at, channel, notice, "
                        "expires_at, policy_version) VALUES ('C-1', " +
                            std::to_string(seq) + ", 'offers', '" + (seq % 2 ? "grant" : "withdraw") + "', " +
                            std::to_string(1000 + seq) + ", 'web', 'n', NULL, 1)",
                        "test"));
  const auto read = must(store->read_customer(CustomerReadRequest{"C-1", "tag-1", false, true, {}, {}}));
  REQUIRE(read.history.size() == 9);
  for (std::size_t i = 0; i < read.history.size(); ++i)
    CHECK(read.history[i].seq == static_cast<std::int64_t>(i + 1));
  CHECK(read.history.back().action == ConsentAction::grant);
}
