// store_postgres_fork_test.cpp: a PostgreSQL connection carried across fork(). The child shares
// its parent's socket, so anything it sent would land in the parent's session: its use of the
// store must fail without reaching the server, and its closing the store must not end the
// parent's session. Runs on the cluster of the ctest fixture `postgres`.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>

#include "consentry/extension/store.hpp"
#include "store/postgres_store.hpp"
#include "support/forked_child.hpp"
#include "support/must.hpp"
#include "support/postgres_scratch.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::in_forked_child;
using consentry::test::must;
using consentry::test::refused_as_forked;
using consentry::test::ScratchSchema;

namespace {

/// committed_fields counts `schema`'s value rows as a new connection sees them.
long committed_fields(const std::string& url, const std::string& schema) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, ("SELECT count(*) FROM \"" + schema + "\".fields").c_str());
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  const long n = std::strtol(PQgetvalue(r, 0, 0), nullptr, 10);
  PQclear(r);
  PQfinish(c);
  return n;
}

StoredField a_field(const std::string& customer, std::uint8_t payload) {
  return StoredField{customer, "email", bytes(24, payload), "crm", timestamp{std::chrono::seconds{1000}}, 2};
}

}  // namespace

TEST_CASE("postgres: a forked child neither commits nor ends its parent's PostgreSQL transaction") {
  ScratchSchema schema;
  std::unique_ptr<PostgresStore> store =
      must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // The parent's transaction has a row on the server, not committed.
  must(store->begin());
  must(store->put_field(a_field("C-1", 0x21)));
  REQUIRE(must(store->get_field("C-1", "email")).has_value());
  REQUIRE(committed_fields(schema.url, schema.name) == 0);

  const std::string child = in_forked_child([&]() -> std::string {
    std::string report = refused_as_forked("get_field", store->get_field("C-1", "email"));
    // A put is queued in the child's memory; only the commit would send it.
    (void)store->put_field(a_field("C-2", 0x22));
    report += refused_as_forked("commit", store->commit());
    // Closing the store here must not say goodbye on the parent's session.
    store.reset();
    return report;
  });
  CHECK_MESSAGE(child.empty(), child);

  // Nothing the child did reached the server: the row is still the parent's, uncommitted, and
  // the parent's session goes on to commit it alone.
  CHECK(committed_fields(schema.url, schema.name) == 0);
  REQUIRE(must(store->get_field("C-1", "email")).has_value());
  CHECK_FALSE(must(store->get_field("C-2", "email")).has_value());
  must(store->commit());
  CHECK(committed_fields(schema.url, schema.name) == 1);
}

TEST_CASE("postgres: a forked child's read snapshot is not ended by the child") {
  ScratchSchema schema;
  std::unique_ptr<PostgresStore> store =
      must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  must(store->put_field(a_field("C-1", 0x21)));
  must(store->begin_read());
  REQUIRE(must(store->get_field("C-1", "email")).has_value());

  const std::string child = in_forked_child([&]() -> std::string {
    store->end_read();
    return refused_as_forked("get_field", store->get_field("C-1", "email"));
  });
  CHECK_MESSAGE(child.empty(), child);

  // The parent's snapshot is still open and its connection answers.
  CHECK(store->in_transaction());
  REQUIRE(must(store->get_field("C-1", "email")).has_value());
  store->end_read();
  must(store->put_field(a_field("C-2", 0x22)));
  CHECK(committed_fields(schema.url, schema.name) == 2);
}

TEST_CASE("postgres: a forked child opens no second connection of its parent's store") {
  ScratchSchema schema;
  std::unique_ptr<PostgresStore> store =
      must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  // In the parent, a reader connects with the options the store was made with.
  std::unique_ptr<Store> reader = must(store->open_reader());
  REQUIRE(reader != nullptr);
  must(store->put_field(a_field("C-1", 0x21)));
  CHECK(must(reader->get_field("C-1", "email")).has_value());

  // A connection made in the child would serve it as its parent's vault.
  const std::string child = in_forked_child([&]() -> std::string {
    return refused_as_forked("open_reader", store->open_reader()) +
           refused_as_forked("open_companion", store->open_companion());
  });
  CHECK_MESSAGE(child.empty(), child);
  CHECK(must(store->get_field("C-1", "email")).has_value());
}
