// store_backends.hpp: the stores a store-level test case runs on, as doctest template types:
// TEST_CASE_TEMPLATE("...", B, STORE_BACKENDS) makes one test case per store, named
// "...<MemoryBackend>", "...<SqliteBackend>" and "...<PostgresBackend>". The PostgreSQL cases run
// in the PostgreSQL run only (test_main.cpp leaves them out of every other run).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "consentry/extension/store.hpp"
#include "support/must.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_dir.hpp"

namespace consentry::test {

/// MemoryBackend is a fresh memory store.
struct MemoryBackend {
  static constexpr const char* kName = "memory";
  std::unique_ptr<Store> store = make_memory_store();
};

/// SqliteBackend is a fresh SQLite vault file in a temporary directory.
struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  TempDir dir;
  std::filesystem::path file = dir.path() / "test.vault";
  std::unique_ptr<Store> store = must(open_sqlite_store(file, StoreMode::create));
};

/// PostgresBackend is a fresh vault in a schema of its own on the test server, dropped at the end.
struct PostgresBackend {
  static constexpr const char* kName = "postgres";
  std::string url = with_schema(cluster_url(), fresh_schema_name());
  std::unique_ptr<Store> store = must(open_postgres_store(url, StoreMode::create));
  PostgresBackend() = default;
  PostgresBackend(const PostgresBackend&) = delete;
  PostgresBackend& operator=(const PostgresBackend&) = delete;
  ~PostgresBackend() {
    store.reset();
    (void)drop_postgres_vault(url);
  }
};

}  // namespace consentry::test

TYPE_TO_STRING_AS("MemoryBackend", consentry::test::MemoryBackend);
TYPE_TO_STRING_AS("SqliteBackend", consentry::test::SqliteBackend);
TYPE_TO_STRING_AS("PostgresBackend", consentry::test::PostgresBackend);

#define STORE_BACKENDS \
  consentry::test::MemoryBackend, consentry::test::SqliteBackend, consentry::test::PostgresBackend
