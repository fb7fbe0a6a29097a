// vault_key_cache_test.cpp: the cache of unwrapped data keys holds at most
// VaultOptions::key_cache_size keys. Observed from outside: once every wrapped data key in the
// vault file is destroyed, only customers whose key is still cached can be read.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr int kCustomers = 10;

using consentry::test::TempDir;

std::string customer(int i) {
  return "C-" + std::to_string(3000 + i);
}

VaultOptions options_with_cache(std::size_t key_cache_size) {
  VaultOptions o = test::test_vault_options(AuditMode::off);
  o.key_cache_size = key_cache_size;
  return o;
}

/// make_vault_file writes kCustomers customers, each with an email, to a new SQLite vault.
fs::path make_vault_file(const TempDir& dir, const std::string& name = "crm.vault") {
  const fs::path file = dir.path() / name;
  auto vault = Vault::create(file, test::retail_policy(), test::kTestPassphrase, options_with_cache(4096));
  REQUIRE_MESSAGE(vault.ok(), vault.err().message);
  std::vector<Record> records;
  for (int i = 0; i < kCustomers; ++i) {
    Record r;
    r.customer = customer(i);
    r.source = "web-signup";
    r.fields = {{"email", "person" + std::to_string(i) + "@example.com"}};
    records.push_back(std::move(r));
  }
  REQUIRE(vault->write(records).ok());
  return file;
}

/// destroy_wrapped_keys overwrites every wrapped data key in the vault file with random bytes,
/// through a connection of its own, as the vault stays open.
void destroy_wrapped_keys(const fs::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  REQUIRE(sqlite3_exec(db, "UPDATE data_keys SET wrapped = randomblob(length(wrapped))", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
  CHECK(sqlite3_changes(db) == kCustomers);
  sqlite3_close(db);
}

/// Passes counts the customers whose email could be read: in a first pass with the keys
/// intact, and in a second pass after every wrapped key was destroyed.
struct Passes {
  int intact = 0;
  int destroyed = 0;
};

/// read_twice opens the vault with `key_cache_size`, reads every customer's email in order,
/// destroys the wrapped keys, and reads every customer again in the same order.
Passes read_twice(const fs::path& file, std::size_t key_cache_size) {
  auto vault = Vault::open(file, test::kTestPassphrase, options_with_cache(key_cache_size));
  REQUIRE_MESSAGE(vault.ok(), vault.err().message);
  auto desk = vault->accessor("support-desk");
  REQUIRE(desk.ok());
  auto pass = [&] {
    int read = 0;
    for (int i = 0; i < kCustomers; ++i) {
      auto view = desk->view(customer(i), "service");
      REQUIRE(view.ok());
      auto email = view->get("email");
      if (email) {
        CHECK(email->value == "person" + std::to_string(i) + "@example.com");
        ++read;
      } else {
        // A key that is not cached is unwrapped from the destroyed row: authentication fails.
        CHECK(email.err().code == errc::integrity);
      }
    }
    return read;
  };
  Passes passes;
  passes.intact = pass();
  destroy_wrapped_keys(file);
  passes.destroyed = pass();
  return passes;
}

}  // namespace

TEST_CASE("a key cache larger than the vault keeps every key it unwrapped") {
  // The control for the bounded cases: the second pass does see what the cache holds.
  TempDir dir;
  const fs::path file = make_vault_file(dir);
  Passes passes = read_twice(file, 4096);
  CHECK(passes.intact == kCustomers);
  CHECK(passes.destroyed == kCustomers);
}

TEST_CASE("the data key cache holds at most key_cache_size keys") {
  TempDir dir;
  for (std::size_t bound : {std::size_t{1}, std::size_t{4}, std::size_t{7}}) {
    INFO("key_cache_size " << bound);
    const fs::path file = make_vault_file(dir, "bound-" + std::to_string(bound) + ".vault");
    Passes passes = read_twice(file, bound);
    CHECK(passes.intact == kCustomers);
    // Once the rows are gone only cached keys open anything, and a read that fails caches
    // nothing, so what the second pass reads was cached when it began: at most `bound` keys.
    CHECK(passes.destroyed <= static_cast<int>(bound));
    CHECK(passes.destroyed >= 1);  // the last key read is always still cached
  }
}

TEST_CASE("a key cache of size 0 still works, holding one key at a time") {
  TempDir dir;
  const fs::path file = make_vault_file(dir);
  Passes passes = read_twice(file, 0);
  CHECK(passes.intact == kCustomers);
  CHECK(passes.destroyed <= 1);
}
