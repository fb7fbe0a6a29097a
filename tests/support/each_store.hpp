// each_store.hpp: running a vault test once on every store the library has.
#pragma once

#include <doctest/doctest.h>

#include <string_view>
#include <utility>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/temp_dir.hpp"

namespace consentry::test {

/// on_each_store creates a vault under `policy`, `passphrase` and `options`: on the memory store
/// in one doctest subcase and on an SQLite file in `dir` in another, so the calling test case
/// runs once per store. The test fails if the vault cannot be created.
inline Vault on_each_store(const TempDir& dir, const Policy& policy, std::string_view passphrase,
                           const VaultOptions& options) {
  result<Vault> v = make_error(errc::internal, "no store chosen");
  SUBCASE("on the memory store") {
    v = Vault::create_in(make_memory_store(), policy, passphrase, options);
  }
  SUBCASE("on the SQLite store") {
    v = Vault::create(dir.path() / "crm.vault", policy, passphrase, options);
  }
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  return std::move(*v);
}

}  // namespace consentry::test
