// store_postgres_distribution_test.cpp: the rules docs/postgresql.md sets the vault's schema so
// that a distributed engine can carry it ("Rules for the SQL", "The distribution key"), read back
// from the server's catalog: each table's distribution column leads its primary key, every
// unique index holds it, only the documented indexes start elsewhere, every key and index column
// of text is in the "C" collation, and the schema holds no trigger, rule, view, sequence, function
// or foreign key.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "consentry/extension/store.hpp"
#include "store/postgres_store.hpp"
#include "support/must.hpp"
#include "support/postgres_scratch.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::must;
using consentry::test::ScratchSchema;

namespace {

using Rows = std::vector<std::vector<std::string>>;

/// catalog runs `sql` with $1 = `schema` on a connection of its own and returns its rows.
Rows catalog(const std::string& url, const std::string& schema, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  const char* params[] = {schema.c_str()};
  PGresult* r = PQexecParams(c, sql.c_str(), 1, nullptr, params, nullptr, nullptr, 0);
  INFO(PQresultErrorMessage(r));
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  Rows rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int j = 0; j < PQnfields(r); ++j) row.emplace_back(PQgetvalue(r, i, j));
    rows.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(c);
  return rows;
}

/// How docs/postgresql.md places each table on a distributed engine: sharded by the named column,
/// or "" for a small table that does not grow with customers (a reference table).
const std::map<std::string, std::string> kPlacement = {
    {"data_keys", "customer"},
    {"fields", "customer"},
    {"lookups", "customer"},
    {"consent_events", "customer"},
    {"contacts", "customer"},
    {"contact_preferences", "customer"},
    {"erased", "tag"},
    {"audit", "chain"},
    {"state", ""},
    {"meta", ""},
    {"privacy_spends", ""},
    {"audit_chains", ""},
    {"audit_checkpoints", ""},
};

/// The indexes docs/postgresql.md names as not starting with their table's distribution column:
/// a walk or a search over every customer, which a distributed engine asks of every shard.
const std::set<std::string> kAcrossShards = {"fields_by_field", "lookups_by_value",
                                             "consent_events_by_purpose", "audit_by_customer"};

}  // namespace

TEST_CASE("postgres: every table is placed as docs/postgresql.md says, with its indexes") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));

  const Rows tables =
      catalog(schema.url, schema.name,
              "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1");
  std::set<std::string> found;
  for (const auto& row : tables) {
    INFO("table " << row[0]);
    CHECK(kPlacement.count(row[0]) == 1);  // a new table must be placed, here and in the docs
    found.insert(row[0]);
  }
  for (const auto& placed : kPlacement) {
    const std::string& table = placed.first;
    INFO("table " << table);
    CHECK(found.count(table) == 1);
  }

  // Each index with its table, whether it is the primary key or unique, and its columns in order.
  const Rows indexes = catalog(
      schema.url, schema.name,
      "SELECT t.relname, i.relname, x.indisprimary, x.indisunique, "
      "array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(num, ord) "
      "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.num ORDER BY k.ord), ',') "
      "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
      "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = $1 ORDER BY 1, 2");
  std::set<std::string> with_primary_key;
  std::set<std::string> across_found;
  for (const auto& row : indexes) {
    const std::string& table = row[0];
    const std::string& index = row[1];
    const bool primary = row[2] == "t";
    const bool unique = row[3] == "t";
    const std::string columns = "," + row[4] + ",";
    INFO("index " << index << " on " << table << " (" << row[4] << ")");
    const auto placed = kPlacement.find(table);
    REQUIRE(placed != kPlacement.end());
    if (primary) with_primary_key.insert(table);
    const std::string& column = placed->second;
    if (column.empty()) continue;  // a reference table: a copy on every node
    const bool leads = columns.rfind("," + column + ",", 0) == 0;
    if (primary) CHECK(leads);
    // A distributed engine can enforce uniqueness only within a shard.
    if (unique) CHECK(columns.find("," + column + ",") != std::string::npos);
    if (!leads) {
      CHECK(kAcrossShards.count(index) == 1);
      across_found.insert(index);
    }
  }
  CHECK(across_found == kAcrossShards);  // the docs' list holds no index that is gone
  for (const auto& placed : kPlacement) {
    const std::string& table = placed.first;
    INFO("table " << table);
    CHECK(with_primary_key.count(table) == 1);
  }
}

TEST_CASE("postgres: the schema holds plain tables only, their keys in the C collation") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto none = [&](const std::string& what, const std::string& sql) {
    const Rows rows = catalog(schema.url, schema.name, sql);
    for (const auto& row : rows) FAIL_CHECK(what << ": " << row[0]);
  };
  none("a view, sequence or other relation",
       "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
       "WHERE n.nspname = $1 AND c.relkind NOT IN ('r', 'p', 'i')");
  none("a trigger",
       "SELECT g.tgname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid "
       "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1");
  none("a rule", "SELECT rulename FROM pg_rules WHERE schemaname = $1");
  none("a function or procedure",
       "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1");
  none("a foreign key",
       "SELECT o.conname FROM pg_constraint o JOIN pg_namespace n ON n.oid = o.connamespace "
       "WHERE n.nspname = $1 AND o.contype = 'f'");
  // Keys and indexes are what the store sorts and walks by range (ORDER BY customer, customer >
  // $1): their text columns compare bytes, as SQLite's BINARY does, whatever the database's locale.
  none("an indexed text column not in the C collation",
       "SELECT DISTINCT c.relname || '.' || a.attname FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
       "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
       "AND a.attnum = ANY (x.indkey::int2[]) JOIN pg_collation l ON l.oid = a.attcollation "
       "WHERE n.nspname = $1 AND a.atttypid = 'text'::regtype AND l.collname <> 'C'");
  none("a column of a type other than text, bytea, bigint, integer or boolean",
       "SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) "
       "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
       "c.relnamespace "
       "WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped "
       "AND a.atttypid NOT IN ('text'::regtype, 'bytea'::regtype, 'bigint'::regtype, 'integer'::regtype, "
       "'boolean'::regtype)");
  // A check that the collation query sees indexed columns at all: those in the C collation.
  const Rows indexed_text = catalog(
      schema.url, schema.name,
      "SELECT count(DISTINCT (c.relname, a.attname)) FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid "
      "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid "
      "AND a.attnum = ANY (x.indkey::int2[]) JOIN pg_collation l ON l.oid = a.attcollation "
      "WHERE n.nspname = $1 AND a.atttypid = 'text'::regtype AND l.collname = 'C'");
  CHECK(std::stoi(indexed_text.at(0).at(0)) >= 10);
}
