// postgres_cluster.hpp: the PostgreSQL server the tests run on, and vault schemas of their own on
// it. The server is the throwaway cluster of the ctest fixture `postgres` (scripts/pg-cluster.sh,
// its URL in the file CONSENTRY_PG_URL_FILE names), or the one CONSENTRY_PG_URL names.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <string_view>

namespace consentry::test {

/// postgres_run is true when this run of the tests is the PostgreSQL run (ctest's `postgres.*`
/// tests set CONSENTRY_TEST_STORES=postgres): the behavioural suites then run on PostgreSQL only.
inline bool postgres_run() {
  const char* stores = std::getenv("CONSENTRY_TEST_STORES");
  return stores != nullptr && std::string_view(stores) == "postgres";
}

/// cluster_url returns the test server's URL; fails the test when there is none.
inline std::string cluster_url() {
  if (const char* url = std::getenv("CONSENTRY_PG_URL"); url != nullptr && *url != '\0') return url;
  const char* file = std::getenv("CONSENTRY_PG_URL_FILE");
  REQUIRE_MESSAGE(file != nullptr,
                  "neither CONSENTRY_PG_URL nor CONSENTRY_PG_URL_FILE is set (run through ctest)");
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  REQUIRE_MESSAGE(!url.empty(), "no URL in CONSENTRY_PG_URL_FILE: did postgres.cluster_start run?");
  return url;
}

/// fresh_schema_name returns a schema name no other test uses.
inline std::string fresh_schema_name() {
  std::random_device rd;
  return "consentry_test_" + std::to_string(rd()) + "_" + std::to_string(rd());
}

/// with_schema returns `url` with the parameter consentry_schema=`schema` added.
inline std::string with_schema(const std::string& url, const std::string& schema) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "consentry_schema=" + schema;
}

}  // namespace consentry::test
