// store_test.cpp: one behavioural suite for every Store, plus the SQLite file's own rules.
#include "consentry/extension/store.hpp"

#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "consentry/secret_bytes.hpp"
#include "support/files.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

using consentry::test::TempDir;

using consentry::test::MemoryBackend;
using consentry::test::PostgresBackend;
using consentry::test::SqliteBackend;

bytes b(std::string_view s) {
  return bytes(s.begin(), s.end());
}

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

StoredField field_of(std::string customer, std::string field, std::string_view sealed,
                     std::int64_t when = 1700000000) {
  return StoredField{std::move(customer), std::move(field), b(sealed), "web-signup", at(when)};
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

using consentry::test::must;

}  // namespace

TEST_CASE_TEMPLATE("meta values are absent until put, then replaced by later puts", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_meta("policy")).has_value());
  must(s.put_meta("policy", b("{\"v\":1}")));
  must(s.put_meta("empty", bytes{}));
  must(s.put_meta("policy", b("{\"v\":2}")));
  CHECK(must(s.get_meta("policy")) == std::optional<bytes>(b("{\"v\":2}")));
  // An empty value is a value, not an absence.
  CHECK(must(s.get_meta("empty")) == std::optional<bytes>(bytes{}));
}

TEST_CASE_TEMPLATE("data keys are stored per customer and replaced by put_key", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_key("C-1")).has_value());
  must(s.put_key(StoredKey{"C-1", 1, b("wrapped-1")}));
  must(s.put_key(StoredKey{"C-2", 1, b("wrapped-2")}));
  must(s.put_key(StoredKey{"C-1", 4000000000u, b("wrapped-1b")}));
  auto k1 = must(s.get_key("C-1"));
  REQUIRE(k1.has_value());
  CHECK(k1->customer == "C-1");
  CHECK(k1->version == 4000000000u);
  CHECK(k1->wrapped == b("wrapped-1b"));
  auto k2 = must(s.get_key("C-2"));
  REQUIRE(k2.has_value());
  CHECK(k2->wrapped == b("wrapped-2"));
}

TEST_CASE_TEMPLATE("fields are put, replaced and read back with their metadata", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_field("C-1", "email")).has_value());
  must(s.put_field(field_of("C-1", "email", "sealed-a", 1714557600)));
  StoredField replaced = field_of("C-1", "email", "sealed-b", 1714557601);
  replaced.source = "credit-bureau";
  must(s.put_field(replaced));
  must(s.put_field(field_of("C-2", "email", "other")));

  auto f = must(s.get_field("C-1", "email"));
  REQUIRE(f.has_value());
  CHECK(f->customer == "C-1");
  CHECK(f->field == "email");
  CHECK(f->sealed == b("sealed-b"));
  CHECK(f->source == "credit-bureau");
  CHECK(f->collected_at == at(1714557601));
  CHECK_FALSE(must(s.get_field("C-1", "phone")).has_value());
  CHECK_FALSE(must(s.get_field("C-3", "email")).has_value());
}

TEST_CASE_TEMPLATE("put_new_key and put_new_field write rows that later puts in the transaction replace", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_key(StoredKey{"C-old", 1, b("wrapped-old")}));
  must(s.begin());
  // More rows than one batch of a store that sends its writes in batches.
  for (int i = 0; i < 1200; ++i) {
    const std::string customer = "C-" + std::to_string(i);
    must(s.put_new_key(StoredKey{customer, 1, b("wrapped-" + customer)}));
    must(s.put_new_field(field_of(customer, "email", "first-" + customer)));
    must(s.put_new_field(field_of(customer, "phone", "phone-" + customer)));
  }
  // Put again after the new rows, before anything else is sent: the later put wins.
  must(s.put_field(field_of("C-7", "email", "second")));
  must(s.put_key(StoredKey{"C-7", 2, b("wrapped-again")}));
  must(s.put_key(StoredKey{"C-old", 3, b("wrapped-old-3")}));
  must(s.commit());

  CHECK(must(s.get_field("C-7", "email"))->sealed == b("second"));
  CHECK(must(s.get_field("C-7", "phone"))->sealed == b("phone-C-7"));
  CHECK(must(s.get_key("C-7"))->version == 2);
  CHECK(must(s.get_key("C-7"))->wrapped == b("wrapped-again"));
  CHECK(must(s.get_key("C-old"))->wrapped == b("wrapped-old-3"));
  const auto last = must(s.get_field("C-1199", "email"));
  REQUIRE(last.has_value());
  CHECK(last->sealed == b("first-C-1199"));
  CHECK(last->source == "web-signup");
  CHECK(last->collected_at == at(1700000000));
  CHECK(must(s.customers()).size() == 1201);
}

TEST_CASE_TEMPLATE("get_fields returns one customer's fields ordered by field name", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* name : {"phone", "birth_date", "email", "credit_score"})
    must(s.put_field(field_of("C-1", name, std::string("v-") + name)));
  must(s.put_field(field_of("C-2", "address", "x")));
  auto fields = must(s.get_fields("C-1"));
  REQUIRE(fields.size() == 4);
  for (std::size_t i = 1; i < fields.size(); ++i) CHECK(fields[i - 1].field < fields[i].field);
  for (const auto& f : fields) {
    CHECK(f.customer == "C-1");
    CHECK(f.sealed == b("v-" + f.field));
  }
  CHECK(fields.front().field == "birth_date");
  CHECK(must(s.get_fields("C-9")).empty());
}

TEST_CASE_TEMPLATE("get_named_fields returns the named values a customer has, each once", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  // Twelve fields, more than one statement of the SQLite store names at once.
  std::vector<std::string> names;
  for (int i = 0; i < 12; ++i) names.push_back("f" + std::to_string(i));
  for (int i = 0; i < 12; i += 2)
    must(s.put_field(
        field_of("C-1", names[static_cast<std::size_t>(i)], "v-" + std::to_string(i), 1700000000 + i)));
  must(s.put_field(field_of("C-2", "f1", "other customer")));
  must(s.put_field(field_of("C-1", "f1'; --", "quote")));

  auto sorted = [](std::vector<StoredField> fields) {
    std::sort(fields.begin(), fields.end(), [](const auto& a, const auto& c) { return a.field < c.field; });
    return fields;
  };
  std::vector<std::string_view> all(names.begin(), names.end());
  auto got = sorted(must(s.get_named_fields("C-1", all)));
  REQUIRE(got.size() == 6);
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAPTURE(i);
    const int n = std::stoi(got[i].field.substr(1));
    CHECK(n % 2 == 0);
    CHECK(got[i].customer == "C-1");
    CHECK(got[i].sealed == b("v-" + std::to_string(n)));
    CHECK(got[i].source == "web-signup");
    CHECK(got[i].collected_at == at(1700000000 + n));
  }
  // A name given twice, within one statement's names and across two, comes back once.
  const std::vector<std::string_view> twice = {"f0", "f0", "f1", "f2", "f3", "f5", "f7", "f9", "f11", "f2"};
  got = sorted(must(s.get_named_fields("C-1", twice)));
  REQUIRE(got.size() == 2);
  CHECK(got[0].field == "f0");
  CHECK(got[1].field == "f2");
  // Only exact names match; another customer's values never come back.
  const std::vector<std::string_view> odd = {"f1", "f1'; --", "F0", "f"};
  got = must(s.get_named_fields("C-1", odd));
  REQUIRE(got.size() == 1);
  CHECK(got[0].sealed == b("quote"));
  CHECK(must(s.get_named_fields("C-2", all)).size() == 1);
  CHECK(must(s.get_named_fields("C-9", all)).empty());
  CHECK(must(s.get_named_fields("C-1", {})).empty());
}

TEST_CASE_TEMPLATE("the consent ledger assigns increasing seq and returns history in order", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  auto g = event_of("C-1", "marketing.email", ConsentAction::grant, 100);
  g.expires_at = at(100 + 86400);
  const ConsentEvent appended[] = {
      must(s.append_consent(g)),
      must(s.append_consent(event_of("C-2", "analytics", ConsentAction::object, 101))),
      must(s.append_consent(event_of("C-1", "marketing.email", ConsentAction::withdraw, 102))),
      must(s.append_consent(event_of("C-1", "profiling", ConsentAction::grant, 103))),
  };
  for (std::size_t i = 1; i < std::size(appended); ++i) CHECK(appended[i - 1].seq < appended[i].seq);
  CHECK(appended[0].seq > 0);

  auto history = must(s.consent_history("C-1"));
  REQUIRE(history.size() == 3);
  const ConsentEvent* expected[] = {&appended[0], &appended[2], &appended[3]};
  for (std::size_t i = 0; i < history.size(); ++i) {
    CAPTURE(i);
    CHECK(history[i].seq == expected[i]->seq);
    CHECK(history[i].customer == "C-1");
    CHECK(history[i].purpose == expected[i]->purpose);
    CHECK(history[i].action == expected[i]->action);
    CHECK(history[i].at == expected[i]->at);
    CHECK(history[i].channel == "web");
    CHECK(history[i].notice == "privacy-2025-03");
    CHECK(history[i].expires_at == expected[i]->expires_at);
  }
  CHECK(history[0].expires_at == std::optional<timestamp>(at(100 + 86400)));
  CHECK_FALSE(history[1].expires_at.has_value());
  CHECK(must(s.consent_history("C-2")).size() == 1);
  CHECK(must(s.consent_history("C-9")).empty());
}

TEST_CASE_TEMPLATE("customers lists key holders sorted, and knows sees keys or consent events", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK(must(s.customers()).empty());
  for (const char* c : {"C-300", "C-1", "C-20", "B-9"}) must(s.put_key(StoredKey{c, 1, b("w")}));
  must(s.append_consent(event_of("C-ledger-only", "analytics", ConsentAction::object, 5)));
  must(s.put_field(field_of("C-field-only", "email", "x")));

  const std::vector<std::string> expected = {"B-9", "C-1", "C-20", "C-300"};
  CHECK(must(s.customers()) == expected);
  CHECK(must(s.knows("C-20")));
  CHECK(must(s.knows("C-ledger-only")));
  CHECK_FALSE(must(s.knows("C-field-only")));
  CHECK_FALSE(must(s.knows("C-2")));
}

// Position is a visited Store::PurposePosition, copied out of the visit.
struct Position {
  std::string customer;
  std::optional<ConsentAction> action;
  std::optional<timestamp> expires_at;
  bool operator==(const Position&) const = default;
};

// positions collects what scan_purpose_positions visits; `by_default` calls Store's own
// implementation (built on customers() and purpose_history()) instead of the store's override.
std::vector<Position> positions(Store& s, std::string_view purpose, bool only_with_events,
                                bool by_default = false) {
  std::vector<Position> out;
  auto visit = [&](const Store::PurposePosition& p) {
    out.push_back(Position{std::string(p.customer), p.action, p.expires_at});
    return true;
  };
  must(by_default ? s.Store::scan_purpose_positions(purpose, only_with_events, visit)
                  : s.scan_purpose_positions(purpose, only_with_events, visit));
  return out;
}

TEST_CASE_TEMPLATE("scan_purpose_positions gives every key holder's last event on a purpose, by customer", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* c : {"C-3", "C-6", "C-1", "C-5", "C-2", "C-4"}) must(s.put_key(StoredKey{c, 1, b("w")}));
  auto grant = [&](const char* c, const char* purpose, std::optional<std::int64_t> expires) {
    auto e = event_of(c, purpose, ConsentAction::grant, 10);
    if (expires) e.expires_at = at(*expires);
    must(s.append_consent(e));
  };
  auto other = [&](const char* c, const char* purpose, ConsentAction action) {
    must(s.append_consent(event_of(c, purpose, action, 20)));
  };
  // Events of different customers interleave in the ledger.
  grant("C-1", "marketing.email", 500);
  grant("C-2", "marketing.email", std::nullopt);
  grant("C-10", "marketing.email", 600);  // no key; sorts between C-1 and C-2
  other("C-1", "marketing.email", ConsentAction::withdraw);
  other("C-3", "marketing.email", ConsentAction::object);
  grant("C-0", "marketing.email", 600);  // no key; sorts first
  other("C-2", "marketing.email", ConsentAction::withdraw);
  grant("C-1", "marketing.email", 900);  // granted again after the withdrawal
  grant("C-4", "profiling", 800);        // another purpose only
  grant("C-2", "analytics", 800);        // a later event of another purpose decides nothing here
  grant("C-5", "marketing.email", 700);
  grant("C-9", "marketing.email", 700);   // no key; sorts last
  grant("C-35", "marketing.email", 700);  // no key; sorts just before C-4, who has no event on it

  using A = ConsentAction;
  const std::vector<Position> every = {
      {"C-1", A::grant, at(900)},       {"C-2", A::withdraw, std::nullopt},
      {"C-3", A::object, std::nullopt}, {"C-4", std::nullopt, std::nullopt},
      {"C-5", A::grant, at(700)},       {"C-6", std::nullopt, std::nullopt},
  };
  const std::vector<Position> with_events = {every[0], every[1], every[2], every[4]};
  for (bool by_default : {false, true}) {
    CAPTURE(by_default);
    CHECK(positions(s, "marketing.email", false, by_default) == every);
    CHECK(positions(s, "marketing.email", true, by_default) == with_events);
    CHECK(positions(s, "analytics", true, by_default) == std::vector<Position>{{"C-2", A::grant, at(800)}});
    CHECK(positions(s, "marketing", true, by_default).empty());
    CHECK(positions(s, "marketing", false, by_default).size() == 6);
  }

  // The scan stops when a visit says so.
  int visits = 0;
  must(s.scan_purpose_positions("marketing.email", false,
                                [&](const Store::PurposePosition&) { return ++visits < 2; }));
  CHECK(visits == 2);

  // Erased customers are not visited; the others are unchanged.
  must(s.erase_customer("C-1", "pseudo-1", at(1000)));
  must(s.erase_customer("C-3", "pseudo-3", at(1000)));
  CHECK(positions(s, "marketing.email", true) == std::vector<Position>{every[1], every[4]});
  CHECK(positions(s, "marketing.email", false) ==
        std::vector<Position>{every[1], every[3], every[4], every[5]});
}

TEST_CASE_TEMPLATE("scan_purpose_positions agrees with each customer's own ledger over many customers", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  // Keys and events arrive in a scrambled order, spread over many pages; a fifth of the
  // customers with events have no key.
  constexpr int kCustomers = 600;
  std::uint32_t seed = 42;
  auto next = [&seed](std::uint32_t n) {
    seed = seed * 1103515245u + 12345u;
    return (seed >> 8) % n;
  };
  std::vector<std::string> ids;
  for (int i = 0; i < kCustomers; ++i) ids.push_back("C-" + std::to_string((i * 7919) % kCustomers));
  const ConsentAction actions[] = {ConsentAction::grant, ConsentAction::withdraw, ConsentAction::object};
  for (int round = 0; round < 3; ++round) {
    for (const std::string& c : ids) {
      if (round == 0 && next(5) != 0) must(s.put_key(StoredKey{c, 1, b("w")}));
      if (next(3) == 0) continue;
      auto e = event_of(c, next(2) == 0 ? "marketing.email" : "analytics", actions[next(3)], 10);
      if (e.action == ConsentAction::grant && next(2) == 0) e.expires_at = at(1000 + next(100));
      must(s.append_consent(e));
    }
  }
  const auto keys = must(s.customers());
  for (std::string_view purpose : {"marketing.email", "analytics"}) {
    std::vector<Position> every;
    for (const std::string& c : keys) {
      Position p{c, std::nullopt, std::nullopt};
      for (const ConsentEvent& e : must(s.consent_history(c))) {
        if (e.purpose != purpose) continue;
        p.action = e.action;
        p.expires_at = e.expires_at;
      }
      every.push_back(p);
    }
    std::vector<Position> with_events;
    for (const Position& p : every)
      if (p.action) with_events.push_back(p);
    CAPTURE(purpose);
    REQUIRE(with_events.size() > 100);
    REQUIRE(with_events.size() < every.size());
    CHECK(positions(s, purpose, false) == every);
    CHECK(positions(s, purpose, true) == with_events);
    CHECK(positions(s, purpose, false, true) == every);
    CHECK(positions(s, purpose, true, true) == with_events);
  }
}

TEST_CASE_TEMPLATE("rollback discards every kind of write made in the transaction", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_meta("m", b("before")));
  const auto first = must(s.append_consent(event_of("C-1", "analytics", ConsentAction::grant, 1)));

  must(s.begin());
  must(s.put_meta("m", b("during")));
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(field_of("C-1", "email", "x")));
  must(s.append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 2)));
  must(s.append_consent(event_of("C-new", "analytics", ConsentAction::grant, 2)));
  CHECK(must(s.get_meta("m")) == std::optional<bytes>(b("during")));
  must(s.rollback());

  CHECK(must(s.get_meta("m")) == std::optional<bytes>(b("before")));
  CHECK_FALSE(must(s.get_key("C-1")).has_value());
  CHECK_FALSE(must(s.get_field("C-1", "email")).has_value());
  CHECK(must(s.consent_history("C-1")).size() == 1);
  CHECK_FALSE(must(s.knows("C-new")));
  CHECK(must(s.customers()).empty());
  // The ledger keeps increasing after a rollback.
  CHECK(must(s.append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 3))).seq > first.seq);
}

TEST_CASE_TEMPLATE("commit keeps the writes made in the transaction", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.begin());
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(field_of("C-1", "email", "x")));
  must(s.append_consent(event_of("C-1", "analytics", ConsentAction::grant, 2)));
  must(s.commit());
  CHECK(must(s.get_key("C-1")).has_value());
  CHECK(must(s.get_field("C-1", "email")).has_value());
  CHECK(must(s.consent_history("C-1")).size() == 1);
  // After commit the store is back outside a transaction.
  must(s.begin());
  must(s.rollback());
}

TEST_CASE_TEMPLATE("a Transaction rolls back when dropped and keeps its writes when committed", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  {
    auto tx = must(Transaction::start(s));
    must(s.put_key(StoredKey{"C-dropped", 1, b("w")}));
  }
  CHECK_FALSE(must(s.get_key("C-dropped")).has_value());
  {
    auto tx = must(Transaction::start(s));
    must(s.put_key(StoredKey{"C-kept", 1, b("w")}));
    must(tx.commit());
    auto again = tx.commit();
    REQUIRE_FALSE(again.ok());
    CHECK(again.err().code == errc::internal);
  }
  CHECK(must(s.get_key("C-kept")).has_value());
}

TEST_CASE_TEMPLATE("transactions do not nest, and commit or rollback need one open", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  auto no_commit = s.commit();
  REQUIRE_FALSE(no_commit.ok());
  CHECK(no_commit.err().code == errc::internal);
  auto no_rollback = s.rollback();
  REQUIRE_FALSE(no_rollback.ok());
  CHECK(no_rollback.err().code == errc::internal);

  must(s.begin());
  must(s.put_meta("k", b("v")));
  auto twice = s.begin();
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().code == errc::internal);
  auto nested = Transaction::start(s);
  REQUIRE_FALSE(nested.ok());
  // The failed begin left the outer transaction intact.
  must(s.rollback());
  CHECK_FALSE(must(s.get_meta("k")).has_value());
}

TEST_CASE_TEMPLATE("values with empty strings and binary bytes round-trip exactly", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const bytes binary = {0x00, 0xff, 0x00, 0x27, 0x22};
  StoredField f{"", "", binary, "", at(-1)};
  must(s.put_field(f));
  auto back = must(s.get_field("", ""));
  REQUIRE(back.has_value());
  CHECK(back->sealed == binary);
  CHECK(back->source.empty());
  CHECK(back->collected_at == at(-1));
  const std::string with_nul("a\0b", 3);
  if (std::string_view(B::kName) == "postgres") {
    // PostgreSQL's text holds no NUL byte: the store refuses such an id rather than cut it.
    auto refused = s.put_key(StoredKey{with_nul, 1, binary});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::invalid_argument);
    CHECK(must(s.customers()).empty());
  } else {
    must(s.put_key(StoredKey{with_nul, 1, binary}));
    CHECK(must(s.customers()) == std::vector<std::string>{with_nul});
  }
  CHECK_FALSE(must(s.knows("a")));
}

// ---- SQLite file rules ----

namespace {

std::string sqlite_scalar(const fs::path& file, const char* sql, int* rc_out = nullptr) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      if (t) out = reinterpret_cast<const char*>(t);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc_out) *rc_out = rc;
  return out;
}

// query_plan gives the detail lines of EXPLAIN QUERY PLAN for `sql` on `file`, joined by '\n'.
std::string query_plan(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  const std::string explain = "EXPLAIN QUERY PLAN " + sql;
  const int rc = sqlite3_prepare_v2(db, explain.c_str(), -1, &st, nullptr);
  std::string out;
  while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
    if (const auto* t = sqlite3_column_text(st, 3))
      out += std::string(reinterpret_cast<const char*>(t)) + "\n";
  sqlite3_finalize(st);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
  return out;
}

}  // namespace

TEST_CASE("sqlite: create refuses an existing file and leaves it untouched") {
  TempDir dir;
  const fs::path file = dir.path() / "exists.vault";
  { std::ofstream(file) << "keep me"; }
  auto r = open_sqlite_store(file, StoreMode::create);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::already_exists);
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "keep me");
}

TEST_CASE("sqlite: open refuses a missing file and does not create it") {
  TempDir dir;
  const fs::path file = dir.path() / "missing.vault";
  auto r = open_sqlite_store(file, StoreMode::open);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::not_found);
  CHECK(r.err().message.find(file.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("sqlite: open refuses junk, an empty file and a plain SQLite database as not a vault") {
  TempDir dir;
  const fs::path junk = dir.path() / "junk.vault";
  { std::ofstream(junk) << std::string(4096, 'j'); }
  const fs::path short_junk = dir.path() / "short.vault";
  { std::ofstream(short_junk) << "hello"; }
  const fs::path empty = dir.path() / "empty.vault";
  { std::ofstream{empty}; }
  const fs::path plain = dir.path() / "plain.db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(plain.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
  }
  const fs::path wrong_version = dir.path() / "v2.vault";
  {
    auto created = open_sqlite_store(wrong_version, StoreMode::create);
    REQUIRE(created.ok());
  }
  int rc = 0;
  sqlite_scalar(wrong_version, "UPDATE meta SET value = CAST('2' AS BLOB) WHERE key = 'schema_version'", &rc);
  REQUIRE(rc == SQLITE_OK);

  for (const fs::path& f : {junk, short_junk, empty, plain, wrong_version}) {
    CAPTURE(f.string());
    auto r = open_sqlite_store(f, StoreMode::open);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
    CHECK(r.err().message.find("not a consentry vault") != std::string::npos);
  }
  std::ifstream in(junk);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == std::string(4096, 'j'));
}

TEST_CASE("sqlite: data survives closing and reopening the vault") {
  TempDir dir;
  const fs::path file = dir.path() / "reopen.vault";
  std::int64_t seq = 0;
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->put_meta("policy", b("p")));
    must(s->put_key(StoredKey{"C-1", 2, b("w")}));
    must(s->put_field(field_of("C-1", "email", "sealed", 1714557600)));
    seq = must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 9))).seq;
    // Left open: closing the store must roll this back.
    must(s->begin());
    must(s->put_key(StoredKey{"C-uncommitted", 1, b("w")}));
  }
  auto s = must(open_sqlite_store(file, StoreMode::open));
  CHECK(must(s->get_meta("policy")) == std::optional<bytes>(b("p")));
  auto key = must(s->get_key("C-1"));
  REQUIRE(key.has_value());
  CHECK(key->version == 2);
  auto f = must(s->get_field("C-1", "email"));
  REQUIRE(f.has_value());
  CHECK(f->collected_at == at(1714557600));
  auto history = must(s->consent_history("C-1"));
  REQUIRE(history.size() == 1);
  CHECK(history[0].seq == seq);
  CHECK_FALSE(must(s->get_key("C-uncommitted")).has_value());
  CHECK(must(s->append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 10))).seq > seq);
}

TEST_CASE("sqlite: the consent ledger refuses UPDATE and DELETE even through raw SQL") {
  TempDir dir;
  const fs::path file = dir.path() / "ledger.vault";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->append_consent(event_of("C-1", "marketing.email", ConsentAction::withdraw, 1)));
  }
  int rc = 0;
  sqlite_scalar(file, "UPDATE consent_events SET action = 'grant'", &rc);
  CHECK(rc != SQLITE_OK);
  sqlite_scalar(file, "DELETE FROM consent_events", &rc);
  CHECK(rc != SQLITE_OK);
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM consent_events") == "1");
  auto s = must(open_sqlite_store(file, StoreMode::open));
  auto history = must(s->consent_history("C-1"));
  REQUIRE(history.size() == 1);
  CHECK(history[0].action == ConsentAction::withdraw);
}

TEST_CASE("sqlite: the vault file is in WAL mode") {
  TempDir dir;
  const fs::path file = dir.path() / "wal.vault";
  auto s = must(open_sqlite_store(file, StoreMode::create));
  // journal_mode=WAL is recorded in the file, so a second connection reports it.
  CHECK(sqlite_scalar(file, "PRAGMA journal_mode") == "wal");
  CHECK(sqlite_scalar(file, "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
}

TEST_CASE("sqlite: a replaced sealed value leaves no trace in the vault file (secure_delete)") {
  // secure_delete is a per-connection setting that no other connection can read, so this checks
  // its effect: the bytes of the replaced value are overwritten, not left in free page space.
  // (Debian's SQLite also defaults to secure_delete, so this guards the property, not the PRAGMA.)
  TempDir dir;
  const fs::path file = dir.path() / "secure.vault";
  std::string old_value;
  for (int i = 0; i < 20; ++i) old_value += "OLD-SEALED-VALUE-";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->put_field(field_of("C-1", "email", old_value)));
  }
  auto read_file = [&] {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  // Closing checkpoints the WAL into the main file, so the value is there now.
  REQUIRE(read_file().find("OLD-SEALED-VALUE-") != std::string::npos);
  {
    auto s = must(open_sqlite_store(file, StoreMode::open));
    must(s->put_field(field_of("C-1", "email", "new")));
  }
  CHECK(read_file().find("OLD-SEALED-VALUE-") == std::string::npos);
}

// ---- Key walks, erasure, compaction and backups ----

namespace {

StoredAuditEntry audit_entry_of(std::int64_t seq, std::string pseudonym) {
  return StoredAuditEntry{seq, at(1700000000 + seq), std::move(pseudonym), b("entry"), b("hash")};
}

// fill_customer gives `customer` a key, two fields and two consent events.
void fill_customer(Store& s, const std::string& customer) {
  must(s.put_key(StoredKey{customer, 1, b("wrapped-" + customer)}));
  must(s.put_field(field_of(customer, "email", "sealed-email-" + customer)));
  must(s.put_field(field_of(customer, "phone", "sealed-phone-" + customer)));
  must(s.append_consent(event_of(customer, "analytics", ConsentAction::grant, 1)));
  must(s.append_consent(event_of(customer, "marketing.email", ConsentAction::grant, 2)));
}

}  // namespace

TEST_CASE_TEMPLATE("data_keys_after walks the keys in customer order, in batches, strictly after", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK(must(s.data_keys_after("", 10)).empty());
  for (const char* c : {"C-3", "C-1", "C-5", "C-2", "C-4"}) must(s.put_key(StoredKey{c, 1, b(c)}));
  std::vector<std::string> walked;
  std::string after;
  int batches = 0;
  for (;;) {
    auto batch = must(s.data_keys_after(after, 2));
    if (batch.empty()) break;
    CHECK(batch.size() <= 2);
    ++batches;
    for (const auto& k : batch) {
      CHECK(k.wrapped == b(k.customer));
      walked.push_back(k.customer);
    }
    after = batch.back().customer;
  }
  CHECK(batches == 3);
  CHECK(walked == std::vector<std::string>{"C-1", "C-2", "C-3", "C-4", "C-5"});
  // `after` itself is excluded, even when it names a customer; a limit of 0 returns nothing.
  auto rest = must(s.data_keys_after("C-4", 100));
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].customer == "C-5");
  CHECK(must(s.data_keys_after("", 0)).empty());
  CHECK(must(s.data_keys_after("", static_cast<std::size_t>(-1))).size() == 5);
}

TEST_CASE_TEMPLATE("data_key_versions counts the keys under each master key version", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK(must(s.data_key_versions()).empty());
  must(s.put_key(StoredKey{"C-1", 2, b("w")}));
  must(s.put_key(StoredKey{"C-2", 1, b("w")}));
  must(s.put_key(StoredKey{"C-3", 2, b("w")}));
  must(s.put_key(StoredKey{"C-4", 4000000000u, b("w")}));
  using Counts = std::vector<std::pair<std::uint32_t, std::int64_t>>;
  CHECK(must(s.data_key_versions()) == Counts{{1, 1}, {2, 2}, {4000000000u, 1}});
  // A re-wrap moves a key from one version to another.
  must(s.put_key(StoredKey{"C-2", 2, b("w")}));
  CHECK(must(s.data_key_versions()) == Counts{{2, 3}, {4000000000u, 1}});
}

TEST_CASE_TEMPLATE("delete_meta removes one metadata row and ignores an absent one", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_meta("rotation", b("v2")));
  must(s.put_meta("policy", b("p")));
  must(s.delete_meta("rotation"));
  must(s.delete_meta("rotation"));
  must(s.delete_meta("never-there"));
  CHECK_FALSE(must(s.get_meta("rotation")).has_value());
  CHECK(must(s.get_meta("policy")) == std::optional<bytes>(b("p")));
}

TEST_CASE_TEMPLATE("erase_customer removes one customer's key, values and ledger and records the tag", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  fill_customer(s, "C-1");
  fill_customer(s, "C-2");
  must(s.append_audit({audit_entry_of(1, "pseudo-1"), audit_entry_of(2, "pseudo-2")}));
  CHECK_FALSE(must(s.erased_at("pseudo-1")).has_value());

  must(s.erase_customer("C-1", "pseudo-1", at(1800000000)));

  CHECK_FALSE(must(s.get_key("C-1")).has_value());
  CHECK(must(s.get_fields("C-1")).empty());
  CHECK_FALSE(must(s.get_field("C-1", "email")).has_value());
  CHECK(must(s.consent_history("C-1")).empty());
  CHECK_FALSE(must(s.knows("C-1")));
  CHECK(must(s.customers()) == std::vector<std::string>{"C-2"});
  for (const auto& e : must(s.purpose_history("analytics"))) CHECK(e.customer != "C-1");
  CHECK(must(s.erased_at("pseudo-1")) == std::optional<timestamp>(at(1800000000)));
  // The tag is what is recorded: the id itself is not a tag.
  CHECK_FALSE(must(s.erased_at("C-1")).has_value());
  CHECK_FALSE(must(s.erased_at("pseudo-2")).has_value());
  // The other customer keeps everything, and the audit log is not touched.
  CHECK(must(s.get_key("C-2")).has_value());
  CHECK(must(s.get_fields("C-2")).size() == 2);
  CHECK(must(s.consent_history("C-2")).size() == 2);
  CHECK(must(s.audit_for_customer("pseudo-1")).size() == 1);
  // The ledger goes on after an erasure, with seq still increasing.
  auto next = must(s.append_consent(event_of("C-2", "analytics", ConsentAction::withdraw, 3)));
  CHECK(next.seq > 4);
}

TEST_CASE_TEMPLATE("a second erasure of a tag keeps the first erasure time", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  fill_customer(s, "C-1");
  must(s.erase_customer("C-1", "pseudo-1", at(100)));
  must(s.erase_customer("C-1", "pseudo-1", at(200)));
  CHECK(must(s.erased_at("pseudo-1")) == std::optional<timestamp>(at(100)));
}

TEST_CASE_TEMPLATE("erase_customer inside a transaction is undone by its rollback and kept by commit", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  fill_customer(s, "C-1");
  must(s.begin());
  must(s.erase_customer("C-1", "pseudo-1", at(100)));
  CHECK_FALSE(must(s.knows("C-1")));
  must(s.rollback());
  CHECK(must(s.get_key("C-1")).has_value());
  CHECK(must(s.get_fields("C-1")).size() == 2);
  CHECK(must(s.consent_history("C-1")).size() == 2);
  CHECK_FALSE(must(s.erased_at("pseudo-1")).has_value());

  must(s.begin());
  must(s.erase_customer("C-1", "pseudo-1", at(100)));
  must(s.commit());
  CHECK_FALSE(must(s.knows("C-1")));
  CHECK(must(s.erased_at("pseudo-1")).has_value());
}

TEST_CASE_TEMPLATE("compact refuses to run inside a transaction", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.begin());
  auto r = s.compact();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
  must(s.rollback());
  must(s.compact());
}

TEST_CASE("memory: backup_to is refused as an invalid argument and creates nothing") {
  TempDir dir;
  auto s = make_memory_store();
  auto r = s->backup_to(dir.path() / "copy.vault");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  CHECK_FALSE(fs::exists(dir.path() / "copy.vault"));
}

namespace {

using consentry::test::file_bytes;

std::string wal_of(const fs::path& file) {
  return file.string() + "-wal";
}

}  // namespace

TEST_CASE("sqlite: after an erasure the ledger still refuses UPDATE and DELETE through raw SQL") {
  TempDir dir;
  const fs::path file = dir.path() / "erase-ledger.vault";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    fill_customer(*s, "C-1");
    fill_customer(*s, "C-2");
    must(s->append_audit({audit_entry_of(1, "pseudo-1")}));
    must(s->erase_customer("C-1", "pseudo-1", at(100)));
    // A rolled-back erasure must restore the trigger along with the rows.
    must(s->begin());
    must(s->erase_customer("C-2", "pseudo-2", at(100)));
    must(s->rollback());
  }
  int rc = 0;
  sqlite_scalar(file, "DELETE FROM consent_events", &rc);
  CHECK(rc != SQLITE_OK);
  sqlite_scalar(file, "UPDATE consent_events SET action = 'withdraw'", &rc);
  CHECK(rc != SQLITE_OK);
  sqlite_scalar(file, "DELETE FROM audit", &rc);
  CHECK(rc != SQLITE_OK);
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM audit") == "1");
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM consent_events WHERE customer = 'C-2'") == "2");
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM consent_events WHERE customer = 'C-1'") == "0");
  CHECK(sqlite_scalar(file,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
                      "('consent_events', 'audit', 'audit_checkpoints')") == "6");
  CHECK(sqlite_scalar(file,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = "
                      "'privacy_spends'") == "2");
}

TEST_CASE("sqlite: erasure survives reopening, and a vault without the erased table gains it on open") {
  TempDir dir;
  const fs::path file = dir.path() / "old.vault";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    fill_customer(*s, "C-1");
  }
  // A vault made before erasure existed has no erased table.
  int rc = 0;
  sqlite_scalar(file, "DROP TABLE erased", &rc);
  REQUIRE(rc == SQLITE_OK);
  {
    auto s = must(open_sqlite_store(file, StoreMode::open));
    CHECK_FALSE(must(s->erased_at("pseudo-1")).has_value());
    must(s->erase_customer("C-1", "pseudo-1", at(1800000000)));
  }
  auto s = must(open_sqlite_store(file, StoreMode::open));
  CHECK(must(s->erased_at("pseudo-1")) == std::optional<timestamp>(at(1800000000)));
  CHECK_FALSE(must(s->knows("C-1")));
  CHECK(sqlite_scalar(file, "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
}

TEST_CASE("sqlite: a vault without the data keys' index gains it on open, and reads its keys through it") {
  TempDir dir;
  const fs::path file = dir.path() / "old.vault";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->put_key(StoredKey{"C-1", 1, b("wrapped-1")}));
    must(s->put_key(StoredKey{"C-2", 2, b("wrapped-2")}));
  }
  CHECK(sqlite_scalar(file,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                      "'data_keys_by_customer'") == "1");
  // A vault made before the index has only the primary key's.
  int rc = 0;
  sqlite_scalar(file, "DROP INDEX data_keys_by_customer", &rc);
  REQUIRE(rc == SQLITE_OK);
  auto s = must(open_sqlite_store(file, StoreMode::open));
  CHECK(sqlite_scalar(file,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                      "'data_keys_by_customer'") == "1");
  // The index holds each row whole: a key read from it alone, as get_key reads it.
  CHECK(query_plan(file,
                   "SELECT version, wrapped FROM data_keys INDEXED BY data_keys_by_customer "
                   "WHERE customer = 'C-2'")
            .find("COVERING INDEX data_keys_by_customer") != std::string::npos);
  const auto key = must(s->get_key("C-2"));
  REQUIRE(key.has_value());
  CHECK(key->version == 2);
  CHECK(key->wrapped == b("wrapped-2"));
  must(s->put_key(StoredKey{"C-2", 3, b("rewrapped-2")}));
  CHECK(must(s->get_key("C-2"))->wrapped == b("rewrapped-2"));
  must(s->erase_customer("C-1", "pseudo-1", at(1800000000)));
  CHECK_FALSE(must(s->get_key("C-1")).has_value());
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM data_keys INDEXED BY data_keys_by_customer") == "1");
  CHECK(sqlite_scalar(file, "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
}

namespace {

// shred_workload fills `s` (the vault file `file`) with 3,000 customers in random order, so that
// page splits move cells between pages, erases every 7th, compacts, and returns how many of the
// erased customers' canaries (key, email, replaced and current notes on overflow pages, consent
// notice) are still in the main file. It checks that the WAL is empty and the others intact.
int shred_workload(Store& s, const fs::path& file) {
  constexpr int kCustomers = 3000;
  constexpr int kEveryNth = 7;
  auto canary = [](int i, const char* what) {
    return "CANARY-" + std::string(what) + "-" + std::to_string(i) + "#" + std::string(100 + i % 50, 'v');
  };
  std::vector<int> order(kCustomers);
  for (int i = 0; i < kCustomers; ++i) order[i] = i;
  std::uint32_t seed = 99;
  for (int i = kCustomers - 1; i > 0; --i) {
    seed = seed * 1103515245u + 12345u;
    std::swap(order[i], order[(seed >> 8) % static_cast<std::uint32_t>(i + 1)]);
  }
  for (int i : order) {
    const std::string c = "C-" + std::to_string(100000 + i);
    must(s.put_key(StoredKey{c, 1, b(canary(i, "KEY"))}));
    must(s.put_field(field_of(c, "email", canary(i, "EMAIL"))));
    if (i % kEveryNth == 0) {
      // A replaced value and a value on overflow pages as well.
      must(s.put_field(field_of(c, "notes", canary(i, "OLD") + std::string(5000, 'n'))));
      must(s.put_field(field_of(c, "notes", canary(i, "NOTES") + std::string(5000, 'n'))));
      auto e = event_of(c, "analytics", ConsentAction::grant, 1);
      e.notice = canary(i, "NOTICE");
      must(s.append_consent(e));
    }
  }
  const std::string before = file_bytes(file) + file_bytes(wal_of(file));
  REQUIRE(before.find(canary(7, "EMAIL")) != std::string::npos);

  for (int i = 0; i < kCustomers; i += kEveryNth)
    must(s.erase_customer("C-" + std::to_string(100000 + i), "pseudo-" + std::to_string(i), at(100)));
  must(s.compact());

  CHECK(fs::file_size(wal_of(file)) == 0);
  CHECK_FALSE(fs::exists(file.string() + "-journal"));
  const std::string main = file_bytes(file);
  int found = 0;
  for (int i = 0; i < kCustomers; i += kEveryNth) {
    for (const char* what : {"KEY", "EMAIL", "OLD", "NOTES", "NOTICE"}) {
      // The "#" ends the number, so customer 7 does not match customer 70.
      if (main.find("CANARY-" + std::string(what) + "-" + std::to_string(i) + "#") != std::string::npos) {
        CAPTURE(what);
        CAPTURE(i);
        ++found;
      }
    }
  }
  // The others are intact, in the file and through the store.
  CHECK(main.find(canary(8, "EMAIL")) != std::string::npos);
  CHECK(main.find(canary(2999, "KEY")) != std::string::npos);
  CHECK(must(s.get_fields("C-100008")).size() == 1);
  CHECK(must(s.customers()).size() == kCustomers - (kCustomers + kEveryNth - 1) / kEveryNth);
  CHECK(sqlite_scalar(file, "PRAGMA integrity_check") == "ok");
  return found;
}

std::uint32_t be(const std::string& bytes, std::size_t at, int n) {
  std::uint32_t v = 0;
  for (int i = 0; i < n; ++i)
    v = (v << 8) | static_cast<unsigned char>(bytes[at + static_cast<std::size_t>(i)]);
  return v;
}

// unscrubbed_btree_pages counts the b-tree pages of the file (found with SQLite's dbstat table)
// whose gap between cell pointers and cell content holds a non-zero byte; `checked` gets how
// many b-tree pages there are.
int unscrubbed_btree_pages(const fs::path& file, int& checked) {
  const std::string bytes = file_bytes(file);
  const std::size_t page_size = std::stoul(sqlite_scalar(file, "PRAGMA page_size"));
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT pageno FROM dbstat WHERE pagetype IN ('internal', 'leaf')", -1, &st,
                             nullptr) == SQLITE_OK);
  int dirty = 0;
  checked = 0;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const auto page = static_cast<std::size_t>(sqlite3_column_int64(st, 0));
    const std::size_t start = (page - 1) * page_size + (page == 1 ? 100 : 0);
    REQUIRE(start + 12 <= bytes.size());
    const auto type = static_cast<unsigned char>(bytes[start]);
    const std::size_t header = (type == 2 || type == 5) ? 12 : 8;
    const std::size_t gap_start = start + header + 2 * be(bytes, start + 3, 2);
    std::size_t content = be(bytes, start + 5, 2);
    if (content == 0) content = 65536;
    const std::size_t gap_end = (page - 1) * page_size + content;
    ++checked;
    if (bytes.find_first_not_of('\0', gap_start) < gap_end) ++dirty;
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return dirty;
}

}  // namespace

TEST_CASE("sqlite: erase then compact leaves none of the customers' bytes in the main file or the WAL") {
  TempDir dir;
  const fs::path file = dir.path() / "shred.vault";
  auto s = must(open_sqlite_store(file, StoreMode::create));
  // A page rebuilt by a split or merge keeps stale copies of the cells it gave away in its
  // unallocated gap, which secure_delete never visits; the store writes its pages through the
  // scrubbing VFS, which zeroes that gap, so a checkpoint suffices (written as they are, pages
  // of this workload keep some of the erased customers' canaries after the checkpoint).
  CHECK(shred_workload(*s, file) == 0);
  // No rewrite ran: the pages the erasures freed are still on the free list.
  CHECK(std::stoi(sqlite_scalar(file, "PRAGMA freelist_count")) > 0);
  int checked = 0;
  CHECK(unscrubbed_btree_pages(file, checked) == 0);
  CHECK(checked > 50);
}

TEST_CASE("sqlite: a vault without the pages_scrubbed mark is rewritten in full by compact, then marked") {
  TempDir dir;
  const fs::path file = dir.path() / "old.vault";
  { auto s = must(open_sqlite_store(file, StoreMode::create)); }
  int rc = 0;
  // A vault created before the scrubbing VFS has no mark (and may have pages with stale gaps).
  sqlite_scalar(file, "DELETE FROM meta WHERE key = 'pages_scrubbed'", &rc);
  REQUIRE(rc == SQLITE_OK);
  auto s = must(open_sqlite_store(file, StoreMode::open));
  CHECK(shred_workload(*s, file) == 0);
  // VACUUM rebuilt the file: nothing left on the free list, and the mark is there.
  CHECK(sqlite_scalar(file, "PRAGMA freelist_count") == "0");
  CHECK(sqlite_scalar(file, "SELECT CAST(value AS TEXT) FROM meta WHERE key = 'pages_scrubbed'") == "1");
  int checked = 0;
  CHECK(unscrubbed_btree_pages(file, checked) == 0);
  CHECK(checked > 50);
}

TEST_CASE("sqlite: pages written without the store keep stale bytes in their gaps, which the check finds") {
  // The control for unscrubbed_btree_pages: the same kind of rows written by plain SQLite.
  TempDir dir;
  const fs::path file = dir.path() / "plain.db";
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) ==
          SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "PRAGMA secure_delete = ON; CREATE TABLE t(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  std::uint32_t seed = 7;
  REQUIRE(sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  for (int i = 0; i < 3000; ++i) {
    seed = seed * 1103515245u + 12345u;
    const std::string sql = "INSERT OR REPLACE INTO t VALUES('k" + std::to_string(seed >> 8) + "', '" +
                            std::string(100 + i % 50, 'v') + "')";
    REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  REQUIRE(sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  int checked = 0;
  CHECK(unscrubbed_btree_pages(file, checked) > 0);
  CHECK(checked > 50);
}

TEST_CASE("sqlite: compact answers io while another connection holds a read snapshot of the WAL") {
  TempDir dir;
  const fs::path file = dir.path() / "busy.vault";
  auto s = must(open_sqlite_store(file, StoreMode::create));
  fill_customer(*s, "C-1");
  sqlite3* reader = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &reader, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_exec(reader, "BEGIN", nullptr, nullptr, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_prepare_v2(reader, "SELECT count(*) FROM fields", -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  // More commits after the reader's snapshot, so the WAL cannot be reset under it.
  fill_customer(*s, "C-2");
  auto r = s->compact();
  sqlite3_finalize(st);
  sqlite3_exec(reader, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(reader);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::io);
  CHECK(r.err().message.find("another connection") != std::string::npos);
  must(s->compact());
  CHECK(fs::file_size(wal_of(file)) == 0);
}

TEST_CASE("sqlite: backup_to writes a private, consistent copy that opens as a vault in WAL mode") {
  TempDir dir;
  const fs::path file = dir.path() / "live.vault";
  const fs::path copy = dir.path() / "copy.vault";
  auto s = must(open_sqlite_store(file, StoreMode::create));
  fill_customer(*s, "C-1");
  must(s->erase_customer("C-1", "pseudo-1", at(100)));
  fill_customer(*s, "C-2");
  must(s->append_audit({audit_entry_of(1, "pseudo-2")}));
  // Another connection's uncommitted write is not in the copy; the backup does not wait for it.
  sqlite3* writer = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &writer, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_exec(writer, "BEGIN IMMEDIATE; INSERT INTO meta(key, value) VALUES('pending', x'00')",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  must(s->backup_to(copy));
  sqlite3_exec(writer, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(writer);

  CHECK((fs::status(copy).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(sqlite_scalar(copy, "PRAGMA journal_mode") == "wal");
  CHECK(sqlite_scalar(copy, "PRAGMA integrity_check") == "ok");
  CHECK(sqlite_scalar(copy, "SELECT count(*) FROM meta WHERE key = 'pending'") == "0");
  auto c = must(open_sqlite_store(copy, StoreMode::open));
  CHECK(must(c->customers()) == std::vector<std::string>{"C-2"});
  CHECK(must(c->get_fields("C-2")).size() == 2);
  CHECK(must(c->consent_history("C-2")).size() == 2);
  CHECK(must(c->erased_at("pseudo-1")).has_value());
  CHECK(must(c->audit_head()).has_value());
  // The copy is a vault of its own: writing to it leaves the original alone, and its ledger is
  // still append-only.
  fill_customer(*c, "C-3");
  CHECK_FALSE(must(s->knows("C-3")));
  int rc = 0;
  sqlite_scalar(copy, "DELETE FROM consent_events", &rc);
  CHECK(rc != SQLITE_OK);
}

TEST_CASE("sqlite: backup_to refuses an existing file, and a backup inside a transaction") {
  TempDir dir;
  const fs::path file = dir.path() / "live.vault";
  const fs::path existing = dir.path() / "existing";
  {
    std::ofstream out(existing, std::ios::binary);
    out << "keep me";
  }
  auto s = must(open_sqlite_store(file, StoreMode::create));
  fill_customer(*s, "C-1");
  auto r = s->backup_to(existing);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::already_exists);
  CHECK(file_bytes(existing) == "keep me");
  r = s->backup_to(file);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::already_exists);

  must(s->begin());
  r = s->backup_to(dir.path() / "in-transaction.vault");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
  CHECK_FALSE(fs::exists(dir.path() / "in-transaction.vault"));
  must(s->rollback());
  // A directory that does not exist is an io failure that leaves nothing behind.
  r = s->backup_to(dir.path() / "missing" / "copy.vault");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::io);
}

// ---- Read snapshots and unsynced transactions ----

TEST_CASE_TEMPLATE("begin_read refuses inside a transaction, end_read without a snapshot does nothing", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  s.end_read();
  must(s.begin());
  auto r = s.begin_read();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
  must(s.rollback());
  {
    auto snapshot = must(ReadSnapshot::open(s));
    CHECK(must(s.get_field("C-1", "email")) == std::nullopt);
  }
  // After the snapshot a write transaction can begin again.
  must(s.begin());
  must(s.commit());
}

TEST_CASE_TEMPLATE("an unsynced transaction keeps its writes on commit and discards them on rollback", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  {
    auto txn = must(Transaction::start_unsynced(s));
    must(s.put_field(field_of("C-1", "email", "kept")));
    must(txn.commit());
  }
  {
    auto txn = must(Transaction::start_unsynced(s));
    must(s.put_field(field_of("C-2", "email", "dropped")));
  }
  CHECK(must(s.get_field("C-1", "email")).has_value());
  CHECK_FALSE(must(s.get_field("C-2", "email")).has_value());
  must(s.begin());
  auto nested = s.begin_unsynced();
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.err().code == errc::internal);
  must(s.rollback());
  // Ordinary transactions go on working after unsynced ones.
  must(s.begin());
  must(s.put_field(field_of("C-3", "email", "later")));
  must(s.commit());
  CHECK(must(s.get_field("C-3", "email")).has_value());
}

TEST_CASE("sqlite: a read snapshot sees one state until it ends, whatever another connection commits") {
  TempDir dir;
  const fs::path file = dir.path() / "snapshot.vault";
  auto reader = must(open_sqlite_store(file, StoreMode::create));
  must(reader->put_field(field_of("C-1", "email", "before")));
  auto writer = must(open_sqlite_store(file, StoreMode::open));
  {
    auto snapshot = must(ReadSnapshot::open(*reader));
    CHECK(must(reader->get_field("C-1", "email"))->sealed == b("before"));
    must(writer->put_field(field_of("C-1", "email", "after")));
    must(writer->put_field(field_of("C-2", "email", "new")));
    CHECK(must(reader->get_field("C-1", "email"))->sealed == b("before"));
    CHECK_FALSE(must(reader->get_field("C-2", "email")).has_value());
  }
  CHECK(must(reader->get_field("C-1", "email"))->sealed == b("after"));
  CHECK(must(reader->get_field("C-2", "email")).has_value());
}

TEST_CASE_TEMPLATE("scan_purpose_positions stops when visit says so, and the store goes on", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (int i = 0; i < 50; ++i) {
    const std::string c = "C-" + std::to_string(100 + i);
    must(s.put_key(StoredKey{c, 1, b("w")}));
    must(s.append_consent(event_of(c, "marketing.email", ConsentAction::grant, 10)));
  }
  for (const bool only_with_events : {true, false}) {
    std::vector<std::string> seen;
    must(s.scan_purpose_positions("marketing.email", only_with_events, [&](const Store::PurposePosition& p) {
      seen.emplace_back(p.customer);
      return seen.size() < 3;
    }));
    CHECK(seen == std::vector<std::string>{"C-100", "C-101", "C-102"});
    CHECK(must(s.customers()).size() == 50);  // the connection is ready for the next request
  }
}

TEST_CASE_TEMPLATE("with_data_keys and erased_among answer for many customers at once, each once", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  // Names that an array literal would misread: commas, quotes, braces, spaces, NULL.
  const std::vector<std::string> ids = {"C-1", "C,2", "C\"3", "{C-4}", "NULL", "C 5", "C\\7"};
  for (std::size_t i = 0; i < ids.size(); i += 2) must(s.put_key(StoredKey{ids[i], 1, b("w")}));
  std::vector<std::string_view> asked(ids.begin(), ids.end());
  asked.push_back("C-1");
  asked.push_back("nobody");
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const std::vector<std::string> keyed = sorted({ids[0], ids[2], ids[4], ids[6]});
  CHECK(sorted(must(s.with_data_keys(asked))) == keyed);
  CHECK(sorted(must(s.KeyFieldStore::with_data_keys(asked))) == keyed);  // Store's own default agrees
  CHECK(must(s.with_data_keys({})).empty());

  must(s.erase_customer(ids[0], "tag-0", at(1000)));
  must(s.erase_customer(ids[2], "tag,\"2", at(1000)));
  const std::vector<std::string_view> tags = {"tag-0", "tag,\"2", "tag-x", "tag-0"};
  const std::vector<std::string> erased = sorted({"tag-0", "tag,\"2"});
  CHECK(sorted(must(s.erased_among(tags))) == erased);
  CHECK(sorted(must(s.MaintenanceStore::erased_among(tags))) == erased);
  CHECK(must(s.erased_among({})).empty());
  CHECK(sorted(must(s.with_data_keys(asked))) == sorted({ids[4], ids[6]}));
}
