// each_store.hpp: running a vault test once on every store the library has.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/postgres_cluster.hpp"
#include "support/temp_dir.hpp"

namespace consentry::test {

/// drop_at_exit drops the PostgreSQL vault `url` when the test process exits (the vaults made
/// during a test case outlive it as return values).
inline void drop_at_exit(std::string url) {
  static std::mutex mu;
  static std::vector<std::string> urls;
  std::lock_guard lock(mu);
  if (urls.empty()) {
    std::atexit([] {
      std::lock_guard inner(mu);
      for (const std::string& u : urls) (void)drop_postgres_vault(u);
    });
  }
  urls.push_back(std::move(url));
}

/// on_each_store creates a vault under `policy`, `passphrase` and `options`: on the memory store
/// in one doctest subcase and on an SQLite file in `dir` in another, so the calling test case
/// runs once per store; in the PostgreSQL run (postgres_run()), on a schema of its own on the
/// test server instead. The test fails if the vault cannot be created.
inline Vault on_each_store(const TempDir& dir, const Policy& policy, std::string_view passphrase,
                           const VaultOptions& options) {
  result<Vault> v = make_error(errc::internal, "no store chosen");
  if (postgres_run()) {
    SUBCASE("on the PostgreSQL store") {
      const std::string url = with_schema(cluster_url(), fresh_schema_name());
      v = Vault::create(url, policy, passphrase, options);
      if (v) drop_at_exit(url);
    }
  } else {
    SUBCASE("on the memory store") {
      v = Vault::create_in(make_memory_store(), policy, passphrase, options);
    }
    SUBCASE("on the SQLite store") {
      v = Vault::create(dir.path() / "crm.vault", policy, passphrase, options);
    }
  }
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  return std::move(*v);
}

/// shared_location returns where a test keeps a vault that it opens more than once, as two
/// processes would: an SQLite file in `dir`, or, in the PostgreSQL run, a schema of its own on the
/// test server (dropped when the process exits). Vault::create and Vault::open take either.
inline std::filesystem::path shared_location(const TempDir& dir) {
  if (!postgres_run()) return dir.path() / "crm.vault";
  std::string url = with_schema(cluster_url(), fresh_schema_name());
  drop_at_exit(url);
  return url;
}

/// open_store_at opens the store at a location shared_location gave; fails as
/// open_sqlite_store or open_postgres_store.
inline result<std::unique_ptr<Store>> open_store_at(const std::filesystem::path& location, StoreMode mode) {
  if (is_postgres_url(location.native())) return open_postgres_store(location.native(), mode);
  return open_sqlite_store(location, mode);
}

}  // namespace consentry::test
