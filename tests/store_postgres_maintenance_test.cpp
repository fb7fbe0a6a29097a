// store_postgres_maintenance_test.cpp: what the PostgreSQL store's keys-and-fields and maintenance
// roles do beyond the shared store suite (docs/postgresql.md): erasure followed by compact leaves no
// row of the customer readable through SQL, dead tuples included (Debian's pg_dirtyread extension
// reads them), what compact does while another session's snapshot holds them, backups refused,
// the text[] of get_named_fields, and rows the store cannot read back. Runs on the cluster of the
// ctest fixture `postgres`; each test case makes a schema of its own and drops it.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "consentry/extension/store.hpp"
#include "store/postgres_store.hpp"
#include "support/must.hpp"
#include "support/postgres_cluster.hpp"
#include "support/postgres_scratch.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::cluster_url;
using consentry::test::fresh_schema_name;
using consentry::test::must;
using consentry::test::ScratchSchema;

namespace {

/// Session is a plain libpq connection to the test server (another process's session).
struct Session {
  PGconn* conn;
  explicit Session(const std::string& url) : conn(PQconnectdb(url.c_str())) {
    REQUIRE(PQstatus(conn) == CONNECTION_OK);
  }
  ~Session() { PQfinish(conn); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  /// run runs `sql` and returns the first column of its first row ("" when none).
  std::string run(const std::string& sql) {
    PGresult* r = PQexec(conn, sql.c_str());
    const ExecStatusType status = PQresultStatus(r);
    std::string out;
    if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
    PQclear(r);
    REQUIRE_MESSAGE((status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK), sql);
    return out;
  }
};

timestamp at(std::int64_t seconds) {
  return timestamp{std::chrono::seconds{seconds}};
}

bytes planted(std::string_view s) {
  return bytes(s.begin(), s.end());
}

/// The tables of a customer's data, each with the columns pg_dirtyread reads (matched by name):
/// the customer, and the secret column where there is one.
struct Table {
  const char* name;
  const char* columns;
};
constexpr Table kCustomerTables[] = {
    {"data_keys", "customer text, wrapped bytea"}, {"fields", "customer text, sealed bytea"},
    {"consent_events", "customer text"},           {"contacts", "customer text"},
    {"contact_preferences", "customer text"},
};

/// fill puts one customer's key, two values, a consent event, a contact and a contact preference
/// (the last three as raw rows: they belong to the ledger role). The key and values hold
/// `secret` so that their bytes can be looked for.
void fill(PostgresStore& s, const std::string& customer, const std::string& secret) {
  must(s.put_key(StoredKey{customer, 1, planted("wrapped-" + secret)}));
  must(s.put_field(StoredField{customer, "email", planted("sealed-email-" + secret), "web", at(100), 2}));
  must(s.put_field(StoredField{customer, "phone", planted("sealed-phone-" + secret), "web", at(100), 2}));
  const std::string c = "'" + customer + "'";
  must(s.exec_sql(
      "INSERT INTO @S.consent_events(customer, seq, purpose, action, at, channel, notice) VALUES (" + c +
          ", 1, 'analytics', 'grant', 100, 'web', 'n1')",
      "test"));
  must(s.exec_sql("INSERT INTO @S.contacts(customer, seq, channel, purpose, at) VALUES (" + c +
                      ", 1, 'email', 'marketing', 100)",
                  "test"));
  must(
      s.exec_sql("INSERT INTO @S.contact_preferences(customer, seq, kind, purpose, channel, max, per, at) "
                 "VALUES (" +
                     c + ", 1, 'limit', 'marketing', 'email', 2, 'week', 100)",
                 "test"));
}

/// Dirty reads the tables of a schema through pg_dirtyread (live and dead tuples alike) as the
/// cluster's superuser, with autovacuum off on them so that only compact removes dead tuples.
struct Dirty {
  Session session;
  std::string schema;
  Dirty(const std::string& url, std::string schema_name) : session(url), schema(std::move(schema_name)) {
    session.run("CREATE EXTENSION IF NOT EXISTS pg_dirtyread");
    for (const Table& t : kCustomerTables)
      session.run("ALTER TABLE \"" + schema + "\"." + t.name + " SET (autovacuum_enabled = false)");
  }
  /// rows counts the tuples of `t` (dead ones included) of `customer` or holding `secret`.
  long rows(const Table& t, const std::string& customer, const std::string& secret) {
    std::string where = "customer = '" + customer + "'";
    const std::string cols = t.columns;
    if (cols.find("wrapped") != std::string::npos)
      where += " OR position('" + secret + "'::bytea in wrapped) > 0";
    if (cols.find("sealed") != std::string::npos)
      where += " OR position('" + secret + "'::bytea in sealed) > 0";
    return std::strtol(session
                           .run("SELECT count(*) FROM pg_dirtyread('\"" + schema + "\"." + t.name +
                                "') AS t(" + cols + ") WHERE " + where)
                           .c_str(),
                       nullptr, 10);
  }
  /// live counts the rows of `t` of `customer` as a plain SELECT sees them.
  long live(const Table& t, const std::string& customer) {
    return std::strtol(
        session
            .run("SELECT count(*) FROM \"" + schema + "\"." + t.name + " WHERE customer = '" + customer + "'")
            .c_str(),
        nullptr, 10);
  }
};

}  // namespace

TEST_CASE(
    "postgres: after erase_customer and compact no row of the customer is readable, dead tuples included") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  Dirty dirty(schema.url, schema.name);
  fill(*store, "C-erased", "secret-e1");
  fill(*store, "C-kept", "secret-k1");

  must(store->erase_customer("C-erased", "pseudo-e", at(200)));
  // Gone for SQL, but the deleted rows are still there as dead tuples: this is what compact is for.
  for (const Table& t : kCustomerTables) {
    CAPTURE(t.name);
    CHECK(dirty.live(t, "C-erased") == 0);
    CHECK(dirty.rows(t, "C-erased", "secret-e1") > 0);
  }

  must(store->compact());
  for (const Table& t : kCustomerTables) {
    CAPTURE(t.name);
    CHECK(dirty.rows(t, "C-erased", "secret-e1") == 0);
    // The other customer's rows are untouched, and have no dead copies either.
    CHECK(dirty.live(t, "C-kept") > 0);
    CHECK(dirty.rows(t, "C-kept", "secret-k1") == dirty.live(t, "C-kept"));
  }
}

TEST_CASE("postgres: a replaced or purged value leaves no dead tuple after compact") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  Dirty dirty(schema.url, schema.name);
  const Table& fields = kCustomerTables[1];
  fill(*store, "C-1", "old-value");
  must(store->put_field(StoredField{"C-1", "email", planted("sealed-new"), "web", at(300), 2}));
  must(store->delete_field("C-1", "phone"));
  CHECK(dirty.rows(fields, "nobody", "old-value") == 2);
  must(store->compact());
  CHECK(dirty.rows(fields, "nobody", "old-value") == 0);
  CHECK(dirty.rows(fields, "C-1", "sealed-new") == 1);
}

TEST_CASE("postgres: compact waits for another session's older snapshot to end, and fails when it does not") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  Dirty dirty(schema.url, schema.name);
  const Table& fields = kCustomerTables[1];
  fill(*store, "C-1", "secret-1");
  fill(*store, "C-2", "secret-2");

  // Another session holds a snapshot taken before the erasure, for longer than compact waits.
  Session old_snapshot(schema.url);
  old_snapshot.run("BEGIN ISOLATION LEVEL REPEATABLE READ");
  old_snapshot.run("SELECT count(*) FROM \"" + schema.name + "\".fields");
  must(store->erase_customer("C-1", "pseudo-1", at(200)));
  auto held = store->compact();
  REQUIRE_FALSE(held.ok());
  CHECK(held.err().code == errc::io);
  CHECK(held.err().message.find("dead tuples") != std::string::npos);
  // The old snapshot still reads the customer's values, and so does pg_dirtyread.
  CHECK(old_snapshot.run("SELECT count(*) FROM \"" + schema.name + "\".fields WHERE customer = 'C-1'") ==
        "2");
  CHECK(dirty.rows(fields, "C-1", "secret-1") == 2);
  old_snapshot.run("COMMIT");
  must(store->compact());
  CHECK(dirty.rows(fields, "C-1", "secret-1") == 0);

  // A snapshot that ends while compact waits for it: compact vacuums again and succeeds.
  old_snapshot.run("BEGIN ISOLATION LEVEL REPEATABLE READ");
  old_snapshot.run("SELECT count(*) FROM \"" + schema.name + "\".fields");
  must(store->erase_customer("C-2", "pseudo-2", at(200)));
  std::thread ender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    PQclear(PQexec(old_snapshot.conn, "COMMIT"));
  });
  auto compacted = store->compact();
  ender.join();
  must(std::move(compacted));
  CHECK(dirty.rows(fields, "C-2", "secret-2") == 0);
}

TEST_CASE("postgres: compact refuses inside a read snapshot as inside a write transaction") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(store->begin_read());
  auto r = store->compact();
  store->end_read();
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
}

TEST_CASE(
    "postgres: backup_to is refused as an invalid argument, pointing to PostgreSQL's tools, and creates "
    "nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  test::TempDir dir;
  const auto file = dir.path() / "backup.vault";
  auto r = store->backup_to(file);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
  CHECK(r.err().message.find("pg_dump") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(file));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("postgres: a failed erasure inside a transaction undoes only itself, and the transaction commits") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  fill(*store, "C-1", "secret-1");
  must(store->begin());
  must(store->put_meta("before", planted("1")));
  // The tag cannot be stored (NUL), after the customer's rows were deleted: the savepoint puts
  // them back, and the caller's transaction is not aborted.
  auto failed = store->erase_customer("C-1", std::string("pseudo\0-1", 9), at(100));
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.err().code == errc::invalid_argument);
  must(store->put_meta("after", planted("2")));
  must(store->commit());
  CHECK(must(store->get_key("C-1")).has_value());
  CHECK(must(store->get_fields("C-1")).size() == 2);
  CHECK(must(store->knows("C-1")));
  CHECK(must(store->get_meta("before")).has_value());
  CHECK(must(store->get_meta("after")).has_value());
}

TEST_CASE("postgres: a text value with a NUL byte is an invalid argument, and nothing is written") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const std::string with_nul("a\0b", 3);
  auto key = store->put_key(StoredKey{with_nul, 1, planted("w")});
  REQUIRE_FALSE(key.ok());
  CHECK(key.err().code == errc::invalid_argument);
  auto field = store->put_field(StoredField{"C-1", "email", planted("s"), with_nul, at(1), 2});
  REQUIRE_FALSE(field.ok());
  CHECK(field.err().code == errc::invalid_argument);
  auto read = store->get_field(with_nul, "email");
  REQUIRE_FALSE(read.ok());
  CHECK(read.err().code == errc::invalid_argument);
  const std::string_view names[] = {"email", std::string_view(with_nul)};
  auto named = store->get_named_fields("C-1", names);
  REQUIRE_FALSE(named.ok());
  CHECK(named.err().code == errc::invalid_argument);
  CHECK(must(store->customers()).empty());
  CHECK_FALSE(must(store->get_field("C-1", "email")).has_value());
  CHECK_FALSE(store->in_transaction());
}

TEST_CASE("postgres: get_named_fields sends names with commas, quotes, backslashes and braces as they are") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const std::vector<std::string> names = {"a,b",       "q\"uote", "back\\slash", "{brace}", "NULL",
                                          "two words", ""};
  for (const auto& n : names)
    must(store->put_field(StoredField{"C-1", n, planted("v-" + n), "web", at(1), 2}));
  must(store->put_field(StoredField{"C-1", "a", planted("v-a"), "web", at(1), 2}));
  must(store->put_field(StoredField{"C-1", "b", planted("v-b"), "web", at(1), 2}));
  std::vector<std::string_view> asked(names.begin(), names.end());
  asked.push_back("a,b");  // twice: returned once
  asked.push_back("missing");
  auto got = must(store->get_named_fields("C-1", asked));
  std::vector<std::string> fields;
  for (const auto& f : got) {
    CHECK(f.sealed == planted("v-" + f.field));
    fields.push_back(f.field);
  }
  std::sort(fields.begin(), fields.end());
  auto expected = names;
  std::sort(expected.begin(), expected.end());
  CHECK(fields == expected);  // not "a" nor "b", which "a,b" would be read as unquoted
}

TEST_CASE("postgres: customers and the keyset walks sort by bytes, whatever the database's collation") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  for (const char* c : {"b", "B", "a", "\xc3\xa9", "A"}) must(store->put_key(StoredKey{c, 1, planted("w")}));
  CHECK(must(store->customers()) == std::vector<std::string>{"A", "B", "a", "b", "\xc3\xa9"});
  const auto after = must(store->data_keys_after("B", 2));
  REQUIRE(after.size() == 2);
  CHECK(after[0].customer == "a");
  CHECK(after[1].customer == "b");
}

TEST_CASE(
    "postgres: a data key with a version out of range, or a value with a bad format, is errc::integrity") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // The schema's CHECK refuses a version out of range (2^32 here); a damaged or tampered schema may lack it.
  must(store->exec_sql("ALTER TABLE @S.data_keys DROP CONSTRAINT data_keys_version_check", "test"));
  must(store->exec_sql(
      "INSERT INTO @S.data_keys(customer, version, wrapped) VALUES ('C-1', 4294967296, '\\x00')", "test"));
  must(
      store->exec_sql("INSERT INTO @S.fields(customer, field, sealed, source, collected_at, format) "
                      "VALUES ('C-1', 'email', '\\x00', 'web', 1, -2)",
                      "test"));
  auto key = store->get_key("C-1");
  REQUIRE_FALSE(key.ok());
  CHECK(key.err().code == errc::integrity);
  auto walk = store->data_keys_after("", 10);
  REQUIRE_FALSE(walk.ok());
  CHECK(walk.err().code == errc::integrity);
  auto versions = store->data_key_versions();
  REQUIRE_FALSE(versions.ok());
  CHECK(versions.err().code == errc::integrity);
  auto field = store->get_field("C-1", "email");
  REQUIRE_FALSE(field.ok());
  CHECK(field.err().code == errc::integrity);
  auto fields = store->get_fields("C-1");
  REQUIRE_FALSE(fields.ok());
  CHECK(fields.err().code == errc::integrity);
  const std::string_view names[] = {"email"};
  auto named = store->get_named_fields("C-1", names);
  REQUIRE_FALSE(named.ok());
  CHECK(named.err().code == errc::integrity);
}

TEST_CASE("postgres: compact is refused when the session's role may not vacuum the vault's tables") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const std::string role = "consentry_reader_" + schema.name.substr(schema.name.size() - 8);
  Session admin(schema.url);
  admin.run("CREATE ROLE " + role + " LOGIN");
  admin.run("GRANT USAGE ON SCHEMA \"" + schema.name + "\" TO " + role);
  admin.run("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \"" + schema.name + "\" TO " +
            role);
  // The cluster's URL names its superuser; the same server as another role.
  std::string url = schema.url;
  const auto user = url.find("user=");
  REQUIRE(user != std::string::npos);
  const auto end = url.find('&', user);
  url.replace(user, end == std::string::npos ? std::string::npos : end - user, "user=" + role);
  {
    auto other = must(PostgresStore::connect(url, StoreMode::open, schema.name));
    auto r = other->compact();
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::io);
    CHECK(r.err().message.find("VACUUM") != std::string::npos);
  }
  admin.run("DROP OWNED BY " + role);
  admin.run("DROP ROLE " + role);
  must(store->compact());  // the owner may
}
