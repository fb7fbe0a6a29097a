// store_postgres_test.cpp: what is the PostgreSQL store's own (docs/postgresql.md): connecting by
// URL, creating and checking the schema, and the transactions role as other connections see it. Runs on the
// cluster of the ctest fixture `postgres` (scripts/pg-cluster.sh): its URL is in the file
// CONSENTRY_PG_URL_FILE names, or in CONSENTRY_PG_URL. Each test case makes a schema of its own and drops it.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>

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

/// committed_rows counts the rows of `table` in `schema` as a new connection sees them.
long committed_rows(const std::string& url, const std::string& schema, const std::string& table) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, ("SELECT count(*) FROM \"" + schema + "\"." + table).c_str());
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  const long n = std::strtol(PQgetvalue(r, 0, 0), nullptr, 10);
  PQclear(r);
  PQfinish(c);
  return n;
}

/// committed_meta_rows counts the rows of `schema`'s meta table as a new connection sees them.
long committed_meta_rows(const std::string& url, const std::string& schema) {
  return committed_rows(url, schema, "meta");
}

/// run_sql runs `sql` on a connection of its own; false when the server refuses it.
bool run_sql(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, sql.c_str());
  const bool done = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
  PQclear(r);
  PQfinish(c);
  return done;
}

/// a_field is a sealed-value row of `customer` with a recognisable payload.
StoredField a_field(const std::string& customer, const std::string& field, std::uint8_t payload,
                    std::string source = "crm") {
  return StoredField{
      customer, field, bytes(24, payload), std::move(source), timestamp{std::chrono::seconds{1000}}, 2};
}

void put_meta_row(PostgresStore& s, const char* key) {
  must(s.exec_sql(std::string("INSERT INTO @S.meta(key, value) VALUES ('") + key + "', '\\x00')", "test"));
}

}  // namespace

TEST_CASE("postgres: a PostgreSQL vault is created once, then opened, in its own schema") {
  ScratchSchema schema;
  auto created = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  CHECK(created->schema() == schema.name);
  auto again = PostgresStore::connect(schema.url, StoreMode::create, schema.name);
  REQUIRE_FALSE(again);
  CHECK(again.err().code == errc::already_exists);
  CHECK(must(PostgresStore::connect(schema.url, StoreMode::open, schema.name)) != nullptr);
  auto missing = PostgresStore::connect(schema.url, StoreMode::open, schema.name + "_none");
  REQUIRE_FALSE(missing);
  CHECK(missing.err().code == errc::not_found);
}

TEST_CASE("postgres: a PostgreSQL connection failure is errc::io and does not quote the URL") {
  auto failed = PostgresStore::connect("postgresql:///nodb?host=/nonexistent-dir&password=planted-secret",
                                       StoreMode::open);
  REQUIRE_FALSE(failed);
  CHECK(failed.err().code == errc::io);
  CHECK(failed.err().message.find("planted-secret") == std::string::npos);
}

TEST_CASE("postgres: a PostgreSQL transaction commits all of its writes or, rolled back, none") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));

  {
    auto tx = must(Transaction::start(*store));
    put_meta_row(*store, "a");
    put_meta_row(*store, "b");
    CHECK(committed_meta_rows(schema.url, schema.name) == 0);  // not yet visible to others
    must(tx.commit());
  }
  CHECK(committed_meta_rows(schema.url, schema.name) == 2);

  {
    auto tx = must(Transaction::start(*store));
    put_meta_row(*store, "c");
  }  // destroyed uncommitted: rolled back
  CHECK(committed_meta_rows(schema.url, schema.name) == 2);
  CHECK_FALSE(store->in_transaction());
}

TEST_CASE("postgres: PostgreSQL transactions do not nest, and commit outside one is errc::internal") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  CHECK(store->commit().err().code == errc::internal);
  CHECK(store->rollback().err().code == errc::internal);
  must(store->begin());
  CHECK(store->begin().err().code == errc::internal);
  CHECK(store->begin_read().err().code == errc::internal);
  must(store->rollback());
  store->end_read();  // nothing open: does nothing
}

TEST_CASE("postgres: a PostgreSQL commit after a failed statement reports the rollback") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(store->begin());
  put_meta_row(*store, "a");
  auto duplicate = store->exec_sql("INSERT INTO @S.meta(key, value) VALUES ('a', '\\x01')", "test");
  REQUIRE_FALSE(duplicate);
  CHECK(duplicate.err().code == errc::io);
  CHECK(duplicate.err().message.find("23505") != std::string::npos);  // the SQLSTATE, not the row
  auto committed = store->commit();
  REQUIRE_FALSE(committed);
  CHECK(committed.err().code == errc::io);
  CHECK_FALSE(store->in_transaction());
  CHECK(committed_meta_rows(schema.url, schema.name) == 0);
}

TEST_CASE("postgres: PostgreSQL data_version changes when another connection commits") {
  ScratchSchema schema;
  auto mine = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto other = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const auto before = must(mine->data_version());
  REQUIRE(before.has_value());
  CHECK(must(mine->data_version()) == before);  // nothing committed in between

  must(other->begin());
  put_meta_row(*other, "x");
  CHECK(must(mine->data_version()) == before);  // not committed yet
  must(other->commit());
  CHECK(must(mine->data_version()) != before);

  // A rolled-back transaction changes nothing.
  const auto after = must(mine->data_version());
  must(other->begin_unsynced());
  must(other->rollback());
  CHECK(must(mine->data_version()) == after);
}

TEST_CASE("postgres: a second connection connects as the first did, to the same vault") {
  ScratchSchema schema;
  const std::string url = schema.url + (schema.url.find('?') == std::string::npos ? "?" : "&") +
                          "application_name=consentry-companion-test";
  auto mine = must(PostgresStore::connect(url, StoreMode::create, schema.name));
  auto companion = must(mine->open_companion());
  REQUIRE(companion != nullptr);
  auto* pg = dynamic_cast<PostgresStore*>(companion.get());
  REQUIRE(pg != nullptr);
  CHECK(pg->schema() == schema.name);
  // The options the first connection was made with, not only the server's address.
  auto name = must(pg->exec_sql("SELECT current_setting('application_name')", "test"));
  CHECK(std::string(PQgetvalue(name.get(), 0, 0)) == "consentry-companion-test");
  // What one commits, the other sees.
  must(pg->begin());
  put_meta_row(*pg, "from-companion");
  must(pg->commit());
  CHECK(must(mine->get_meta("from-companion")).has_value());
}

TEST_CASE("postgres: a companion connects with one request, in UTF8, at its store's schema version") {
  ScratchSchema schema;
  auto mine = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // The store checked the schema under the schema lock; a companion (a reader among them) checks
  // only its version, and is started in UTF8 without a request of its own.
  const std::uint64_t before = PostgresStore::round_trips_in_process();
  auto companion = must(mine->open_reader());
  CHECK(PostgresStore::round_trips_in_process() - before == 1);
  auto* pg = dynamic_cast<PostgresStore*>(companion.get());
  REQUIRE(pg != nullptr);
  auto encoding = must(pg->exec_sql("SHOW client_encoding", "test"));
  CHECK(std::string(PQgetvalue(encoding.get(), 0, 0)) == "UTF8");
  // The URL's own client_encoding does not win over the UTF8 the store speaks.
  const std::string latin =
      schema.url + (schema.url.find('?') == std::string::npos ? "?" : "&") + "client_encoding=LATIN1";
  auto opened = must(PostgresStore::connect(latin, StoreMode::open, schema.name));
  auto shown = must(opened->exec_sql("SHOW client_encoding", "test"));
  CHECK(std::string(PQgetvalue(shown.get(), 0, 0)) == "UTF8");
}

TEST_CASE("postgres: a companion refuses a schema migrated since its store opened it, and migrates nothing") {
  ScratchSchema schema;
  // A store at schema version 1: its companion speaks version 1 and leaves the schema there.
  auto old = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name, 1));
  auto companion = must(old->open_companion());
  REQUIRE(companion != nullptr);
  auto version = must(old->exec_sql("SELECT schema_version FROM @S.state WHERE id = 1", "test"));
  CHECK(std::string(PQgetvalue(version.get(), 0, 0)) == "1");
  // Another process opens it and migrates it to this library's version: the old store's next
  // companion is refused, naming both versions, rather than reading a schema it does not know.
  must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  auto refused = old->open_reader();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::integrity);
  CHECK(refused.err().message.find("schema version " + std::to_string(detail::kPostgresSchemaVersion)) !=
        std::string::npos);
  CHECK(refused.err().message.find("not version 1") != std::string::npos);
}

TEST_CASE("postgres: a PostgreSQL read snapshot sees one committed state") {
  ScratchSchema schema;
  auto reader = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto writer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  {
    auto snapshot = must(ReadSnapshot::open(*reader));
    const auto seen = must(reader->data_version());
    const auto rows = must(reader->exec_sql("SELECT count(*) FROM @S.meta", "test"));
    CHECK(std::string(PQgetvalue(rows.get(), 0, 0)) == "0");
    auto tx = must(Transaction::start(*writer));
    put_meta_row(*writer, "y");
    must(tx.commit());
    // Still the snapshot's state: neither the row nor the version moved.
    CHECK(must(reader->data_version()) == seen);
    const auto again = must(reader->exec_sql("SELECT count(*) FROM @S.meta", "test"));
    CHECK(std::string(PQgetvalue(again.get(), 0, 0)) == "0");
  }
  CHECK_FALSE(reader->in_transaction());
  CHECK(committed_meta_rows(schema.url, schema.name) == 1);
}

TEST_CASE("postgres: a second PostgreSQL writer waits for the first and then sees its commit") {
  ScratchSchema schema;
  auto first = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto second = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  must(first->begin());
  put_meta_row(*first, "k");
  // The second writer's begin blocks on the write lock; give up after a short lock_timeout
  // instead of waiting for a commit this thread would only make later.
  must(second->exec_sql("SET lock_timeout = '200ms'", "test"));
  auto blocked = second->begin();
  REQUIRE_FALSE(blocked);
  CHECK(blocked.err().message.find("55P03") != std::string::npos);  // lock_not_available
  CHECK_FALSE(second->in_transaction());
  must(first->commit());
  must(second->begin());
  const auto rows = must(second->exec_sql("SELECT count(*) FROM @S.meta WHERE key = 'k'", "test"));
  CHECK(std::string(PQgetvalue(rows.get(), 0, 0)) == "1");
  must(second->commit());
}

TEST_CASE("postgres: a PostgreSQL unsynced transaction commits without waiting for the disk, and only it") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto setting = [&]() {
    const auto r = must(store->exec_sql("SHOW synchronous_commit", "test"));
    return std::string(PQgetvalue(r.get(), 0, 0));
  };
  must(store->begin_unsynced());
  CHECK(setting() == "off");
  put_meta_row(*store, "u");
  must(store->commit());
  CHECK(setting() == "on");  // SET LOCAL ends with the transaction
  CHECK(committed_meta_rows(schema.url, schema.name) == 1);
}

TEST_CASE("postgres: a PostgreSQL store reconnects at begin after losing its connection") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto killer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const auto pid = must(store->exec_sql("SELECT pg_backend_pid()", "test"));
  const std::string backend = PQgetvalue(pid.get(), 0, 0);
  must(killer->exec_sql("SELECT pg_terminate_backend(" + backend + ")", "test"));
  // The next statement finds the connection gone: errc::io.
  auto lost = store->exec_sql("SELECT 1", "test");
  REQUIRE_FALSE(lost);
  CHECK(lost.err().code == errc::io);
  // Outside one, begin opens the connection again (nothing was in flight).
  must(store->begin());
  put_meta_row(*store, "r");
  must(store->commit());
  CHECK(committed_meta_rows(schema.url, schema.name) == 1);
  CHECK(must(store->data_version()).has_value());
}

namespace {

/// terminate ends the server process behind `store`'s connection, as a server restart or an
/// administrator would, from another connection.
void terminate(PostgresStore& store, PostgresStore& killer) {
  const auto pid = must(store.exec_sql("SELECT pg_backend_pid()", "test"));
  const std::string backend = PQgetvalue(pid.get(), 0, 0);
  must(killer.exec_sql("SELECT pg_terminate_backend(" + backend + ")", "test"));
}

bytes bytes_of(std::string_view s) {
  return bytes(s.begin(), s.end());
}

}  // namespace

TEST_CASE("postgres: a read outside a transaction runs again on a new connection after losing its own") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto killer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  must(store->put_meta("k", bytes_of("v")));
  terminate(*store, *killer);
  const auto got = must(store->get_meta("k"));
  REQUIRE(got.has_value());
  CHECK(*got == bytes_of("v"));
}

TEST_CASE("postgres: a write transaction that loses its connection fails with io and commits nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto killer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  {
    auto tx = must(Transaction::start(*store));
    must(store->put_meta("a", bytes_of("1")));
    terminate(*store, *killer);
    // Inside a transaction nothing is run again: the rest of the transaction is gone.
    auto lost = store->put_meta("b", bytes_of("2"));
    REQUIRE_FALSE(lost);
    CHECK(lost.err().code == errc::io);
    auto committed = tx.commit();
    REQUIRE_FALSE(committed);
    CHECK(committed.err().code == errc::io);
  }
  CHECK_FALSE(store->in_transaction());
  CHECK(committed_meta_rows(schema.url, schema.name) == 0);
  // The next transaction runs on a new connection.
  must(store->put_meta("c", bytes_of("3")));
  CHECK(committed_meta_rows(schema.url, schema.name) == 1);
}

TEST_CASE("postgres: a transaction's data keys and sealed values go in batches, seen by its own reads") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  {
    auto tx = must(Transaction::start(*store));
    // More rows than one batch holds, so some are sent before the commit and some at it.
    for (int c = 0; c < 250; ++c) {
      const std::string customer = "C-" + std::to_string(c);
      must(store->put_key(StoredKey{customer, 1, bytes(40, 0x11)}));
      for (int f = 0; f < 10; ++f) must(store->put_field(a_field(customer, "f" + std::to_string(f), 0x21)));
    }
    // A second write of a queued row wins, as it would sent one at a time.
    must(store->put_field(a_field("C-7", "f3", 0x22)));
    must(store->put_key(StoredKey{"C-7", 2, bytes(40, 0x12)}));
    // The transaction's own reads see every call before them.
    auto read = must(store->get_field("C-249", "f9"));
    REQUIRE(read);
    CHECK(read->sealed == bytes(24, 0x21));
    CHECK(committed_rows(schema.url, schema.name, "fields") == 0);  // not yet visible to others
    must(store->put_field(a_field("C-1", "gone", 0x23)));
    must(store->delete_field("C-1", "gone"));  // sees the put queued before it
    must(tx.commit());
  }
  CHECK(committed_rows(schema.url, schema.name, "fields") == 2500);
  CHECK(committed_rows(schema.url, schema.name, "data_keys") == 250);
  CHECK(must(store->get_field("C-7", "f3"))->sealed == bytes(24, 0x22));
  CHECK(must(store->get_key("C-7"))->version == 2);
  CHECK_FALSE(must(store->get_field("C-1", "gone")));
}

TEST_CASE("postgres: a rolled-back transaction's queued writes are dropped, not sent with the next") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(store->begin());
  must(store->put_key(StoredKey{"C-1", 1, bytes(40, 0x11)}));
  must(store->put_field(a_field("C-1", "email", 0x21)));
  must(store->rollback());
  must(store->put_field(a_field("C-2", "email", 0x22)));  // a transaction of its own
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
  CHECK(committed_rows(schema.url, schema.name, "data_keys") == 0);
  CHECK_FALSE(must(store->get_field("C-1", "email")));
}

TEST_CASE(
    "postgres: a value PostgreSQL's text cannot hold is refused at the call, the transaction going on") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto tx = must(Transaction::start(*store));
  must(store->put_field(a_field("C-1", "email", 0x21)));
  for (const std::string& bad :
       {std::string("C-\xff"), std::string("C-\xc3\x28"), std::string("C-\0-1", 5)}) {
    auto field = store->put_field(a_field(bad, "email", 0x22));
    REQUIRE_FALSE(field);
    CHECK(field.err().code == errc::invalid_argument);
    auto named = store->put_field(a_field("C-1", "e\xffmail", 0x22));
    REQUIRE_FALSE(named);
    CHECK(named.err().code == errc::invalid_argument);
    auto key = store->put_key(StoredKey{bad, 1, bytes(40, 0x11)});
    REQUIRE_FALSE(key);
    CHECK(key.err().code == errc::invalid_argument);
  }
  must(tx.commit());
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
}

TEST_CASE("postgres: a queued write the server refuses at commit fails the commit and commits nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // A rule only the server knows, so the refusal comes when the queue is sent.
  REQUIRE(run_sql(schema.url, "ALTER TABLE \"" + schema.name + "\".fields ADD CHECK (source <> 'refused')"));
  must(store->begin());
  put_meta_row(*store, "a");
  must(store->put_field(a_field("C-1", "email", 0x21)));
  must(store->put_field(a_field("C-1", "phone", 0x22, "refused")));
  auto committed = store->commit();
  REQUIRE_FALSE(committed);
  CHECK(committed.err().code == errc::io);
  CHECK(committed.err().message.find("put_field") != std::string::npos);
  CHECK(committed.err().message.find("23514") != std::string::npos);  // check_violation
  CHECK_FALSE(store->in_transaction());
  CHECK(committed_meta_rows(schema.url, schema.name) == 0);
  CHECK(committed_rows(schema.url, schema.name, "fields") == 0);
  must(store->put_field(a_field("C-1", "email", 0x21)));  // the store goes on
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
}

TEST_CASE("postgres: a put_new_ call for a row that exists fails the commit and commits nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(store->put_key(StoredKey{"C-1", 1, bytes(40, 0x11)}));
  must(store->put_field(a_field("C-1", "email", 0x21)));
  SUBCASE("a value") {
    must(store->begin());
    must(store->put_new_key(StoredKey{"C-2", 1, bytes(40, 0x12)}));
    must(store->put_new_field(a_field("C-2", "email", 0x22)));
    must(store->put_new_field(a_field("C-1", "email", 0x23)));  // C-1 has this row
    auto committed = store->commit();
    REQUIRE_FALSE(committed);
    CHECK(committed.err().code == errc::io);
    CHECK(committed.err().message.find("put_field") != std::string::npos);
    CHECK(committed.err().message.find("23505") != std::string::npos);  // unique_violation
  }
  SUBCASE("a data key") {
    must(store->begin());
    must(store->put_new_key(StoredKey{"C-2", 1, bytes(40, 0x12)}));
    must(store->put_new_key(StoredKey{"C-1", 2, bytes(40, 0x13)}));
    must(store->put_new_field(a_field("C-2", "email", 0x22)));
    auto read = store->get_field("C-2", "email");  // sends the queue
    REQUIRE_FALSE(read);
    CHECK(read.err().message.find("put_key") != std::string::npos);
    CHECK_FALSE(store->commit());
  }
  CHECK_FALSE(store->in_transaction());
  // Nothing of the transaction stays, and what was there is untouched.
  CHECK(committed_rows(schema.url, schema.name, "data_keys") == 1);
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
  CHECK(must(store->get_field("C-1", "email"))->sealed == bytes(24, 0x21));
  CHECK(must(store->get_key("C-1"))->version == 1);
}

TEST_CASE("postgres: put_new_key and put_new_field refuse a value PostgreSQL's text cannot hold") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto tx = must(Transaction::start(*store));
  auto key = store->put_new_key(StoredKey{"C-\xff", 1, bytes(40, 0x11)});
  REQUIRE_FALSE(key);
  CHECK(key.err().code == errc::invalid_argument);
  auto field = store->put_new_field(a_field("C-1", "e\xffmail", 0x22));
  REQUIRE_FALSE(field);
  CHECK(field.err().code == errc::invalid_argument);
  must(store->put_new_field(a_field("C-1", "email", 0x21)));
  must(tx.commit());
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
}

TEST_CASE("postgres: a batch refused while the caller went on fails the next call, and commits nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  REQUIRE(run_sql(schema.url, "ALTER TABLE \"" + schema.name + "\".fields ADD CHECK (source <> 'refused')"));
  must(store->begin());
  must(store->put_field(a_field("C-0", "email", 0x21, "refused")));
  // The first full batch is sent without waiting; its answer is read when the next is sent.
  result<void> put = ok();
  int calls = 1;
  while (put && calls < 5000) put = store->put_field(a_field("C-" + std::to_string(calls++), "email", 0x22));
  REQUIRE_FALSE(put);
  CHECK(calls > 1000);
  CHECK(put.err().code == errc::io);
  CHECK(put.err().message.find("put_field") != std::string::npos);
  CHECK(put.err().message.find("23514") != std::string::npos);  // check_violation
  CHECK_FALSE(store->commit());
  CHECK_FALSE(store->in_transaction());
  CHECK(committed_rows(schema.url, schema.name, "fields") == 0);
  // The connection is ready for the next transaction.
  must(store->put_field(a_field("C-1", "email", 0x21)));
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
}

TEST_CASE("postgres: a write transaction that loses its connection with a batch in flight commits nothing") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto killer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const auto pid = must(store->exec_sql("SELECT pg_backend_pid()", "test"));
  const std::string backend = PQgetvalue(pid.get(), 0, 0);
  {
    auto tx = must(Transaction::start(*store));
    for (int c = 0; c < 1500; ++c) must(store->put_field(a_field("C-" + std::to_string(c), "email", 0x21)));
    must(killer->exec_sql("SELECT pg_terminate_backend(" + backend + ")", "test"));
    auto committed = tx.commit();
    REQUIRE_FALSE(committed);
    CHECK(committed.err().code == errc::io);
  }
  CHECK_FALSE(store->in_transaction());
  CHECK(committed_rows(schema.url, schema.name, "fields") == 0);
  must(store->put_field(a_field("C-1", "email", 0x21)));  // on a new connection
  CHECK(committed_rows(schema.url, schema.name, "fields") == 1);
}

TEST_CASE("postgres: a read snapshot reads data_version as it begins, and its end leaves nothing open") {
  ScratchSchema schema;
  auto reader = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto writer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const auto pid = must(reader->exec_sql("SELECT pg_backend_pid()", "test"));
  const std::string activity =
      "SELECT state || '/' || (backend_xmin IS NULL) || '/' || (backend_xid IS NULL) "
      "FROM pg_stat_activity WHERE pid = " +
      std::string(PQgetvalue(pid.get(), 0, 0));
  auto server_side = [&]() {
    PGconn* c = PQconnectdb(schema.url.c_str());
    REQUIRE(PQstatus(c) == CONNECTION_OK);
    PGresult* r = PQexec(c, activity.c_str());
    REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
    REQUIRE(PQntuples(r) == 1);
    std::string state = PQgetvalue(r, 0, 0);
    PQclear(r);
    PQfinish(c);
    return state;
  };
  for (int round = 0; round < 3; ++round) {
    std::optional<std::uint64_t> seen;
    {
      auto snapshot = must(ReadSnapshot::open(*reader));
      seen = must(reader->data_version());
      REQUIRE(seen);
      must(writer->put_meta("k" + std::to_string(round), as_bytes("v")));
      CHECK(must(reader->data_version()) == seen);  // the snapshot's, not the commit's after it
    }
    // The snapshot's end is not waited for, but the next call finds it ended and sees the commit.
    CHECK(*must(reader->data_version()) > *seen);
    CHECK(server_side() == "idle/true/true");
  }
  {
    auto snapshot = must(ReadSnapshot::open(*reader));
    (void)must(reader->data_version());
  }
  must(reader->put_meta("after", as_bytes("v")));  // a write right after a snapshot's end
  CHECK(committed_meta_rows(schema.url, schema.name) == 4);
}
