// postgres_scratch.hpp: a schema of its own on the test server for a test of the PostgreSQL
// store's internals (the tests that reach detail::PostgresStore), dropped at the end.
#pragma once

#include <libpq-fe.h>

#include <string>

#include "support/postgres_cluster.hpp"

namespace consentry::test {

/// ScratchSchema is a schema name no other test uses, on the test server, dropped (with its
/// tables) when it goes out of scope.
struct ScratchSchema {
  std::string url = cluster_url();
  std::string name = fresh_schema_name();
  ScratchSchema() = default;
  ScratchSchema(const ScratchSchema&) = delete;
  ScratchSchema& operator=(const ScratchSchema&) = delete;
  ~ScratchSchema() {
    PGconn* c = PQconnectdb(url.c_str());
    PQsetNoticeProcessor(
        c, [](void*, const char*) {}, nullptr);  // the cascade's list of tables
    if (PQstatus(c) == CONNECTION_OK)
      PQclear(PQexec(c, ("DROP SCHEMA IF EXISTS \"" + name + "\" CASCADE").c_str()));
    PQfinish(c);
  }
};

}  // namespace consentry::test
