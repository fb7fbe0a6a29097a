// vault_concurrency_test.cpp: two vaults open on one store (an SQLite file; in the PostgreSQL run,
// one schema: support/each_store.hpp's shared_location), as two processes would be: a
// writer never wraps a data key under a master key version that a rotation and retirement
// elsewhere destroyed, and what the ledger decides (erasure, consent to profiling) is decided
// against the ledger as committed when the write commits. Each race is run once in an exact
// order (a step of the other vault runs just before the write transaction begins) and then
// from threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kPass = test::kTestPassphrase;
constexpr std::string_view kNewPass = "a passphrase set by the retirement";
constexpr std::string_view kThirdPass = "the passphrase after that";

using test::HookedStore;
using test::must;
using test::TempDir;

VaultOptions fast() {
  return test::test_vault_options();
}

std::shared_ptr<KeyProvider> passphrase(std::string_view p) {
  return std::make_shared<PassphraseKeyProvider>(p, KdfStrength::minimum);
}

std::string email_of(const std::string& customer) {
  return customer + "@example.com";
}

// create_with makes a vault at `file` holding customers C-0 .. C-(n-1), with consent to
// profiling, and closes it.
void create_with(const fs::path& file, int n) {
  Vault v = must(Vault::create(file, test::retail_policy(), kPass, fast()));
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.customer = "C-" + std::to_string(i);
    r.fields = {{"email", email_of(r.customer)}};
    records.push_back(std::move(r));
  }
  must(v.write(records));
  for (int i = 0; i < n; ++i)
    (void)must(v.record_consent("C-" + std::to_string(i), "profiling", ConsentAction::grant));
}

// hooked opens `file` through a HookedStore, returned in `hooks`, kept alive by the vault.
Vault hooked(const fs::path& file, HookedStore*& hooks, std::string_view pass = kPass) {
  auto store = must(test::open_store_at(file, StoreMode::open));
  auto wrapper = std::make_unique<HookedStore>(std::move(store));
  hooks = wrapper.get();
  return must(Vault::open_in(std::move(wrapper), passphrase(pass), fast()));
}

// email reads a customer's email for the support desk.
result<std::string> email(const Vault& v, const std::string& customer) {
  auto desk = v.accessor("support-desk");
  if (!desk) return std::move(desk).err();
  auto view = desk->view(customer, "service");
  if (!view) return std::move(view).err();
  auto got = view->get("email");
  if (!got) return std::move(got).err();
  return got->value;
}

// check_all_readable reads every customer of `v` back (each wrote email_of(its id)).
void check_all_readable(const Vault& v, const std::vector<std::string>& customers) {
  for (const std::string& c : customers) {
    auto got = email(v, c);
    INFO("customer " << c);
    REQUIRE_MESSAGE(got.ok(), got.err().message);
    CHECK(*got == email_of(c));
  }
}

// check_keys_live: no data key is wrapped under a version that is not live, and the vault can
// rotate and retire again (a data key under a destroyed version blocks that).
void check_keys_live(Vault& v, std::string_view next_pass) {
  auto status = must(v.master_key_status());
  for (const auto& [held_version, held_count] : status.data_keys) {
    // INFO cannot name a structured binding in clang 14.
    const auto version = held_version;
    const auto count = held_count;
    INFO("data keys under version " << version << ": " << count);
    CHECK(std::find(status.versions.begin(), status.versions.end(), version) != status.versions.end());
  }
  (void)must(v.rotate_master_key());
  (void)must(v.retire_master_keys(passphrase(next_pass)));
}

bool holds_inference(const fs::path& file, const std::string& customer) {
  auto store = must(test::open_store_at(file, StoreMode::open));
  auto held = must(store->get_field(customer, "expecting_child"));
  return held.has_value();
}

}  // namespace

TEST_CASE(
    "a write through a vault opened before a rotation and retirement elsewhere wraps under no destroyed "
    "version") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 5);
  Vault writer = must(Vault::open(file, passphrase(kPass), fast()));
  {
    Vault admin = must(Vault::open(file, passphrase(kPass), fast()));
    (void)must(admin.rotate_master_key());
    (void)must(admin.retire_master_keys(passphrase(kNewPass)));
  }
  // The writer's passphrase no longer opens the current version: the write fails, whole.
  auto wrote = writer.put("C-NEW", "email", email_of("C-NEW"));
  REQUIRE_FALSE(wrote.ok());
  CHECK(wrote.err().code == errc::io);
  CHECK(wrote.err().message.find("master key changed while this command ran") != std::string::npos);
  CHECK(wrote.err().message.find("run the command again") != std::string::npos);

  Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
  CHECK_FALSE(must(after.contains("C-NEW")));
  check_all_readable(after, {"C-0", "C-1", "C-2", "C-3", "C-4"});
  check_keys_live(after, kThirdPass);
}

TEST_CASE(
    "a vault opened before a rotation elsewhere writes under the new version and reads re-wrapped keys") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 5);
  Vault writer = must(Vault::open(file, passphrase(kPass), fast()));
  Vault admin = must(Vault::open(file, passphrase(kPass), fast()));
  (void)must(admin.rotate_master_key());

  // C-3's key is re-wrapped under version 2, which the writer did not load when it opened.
  check_all_readable(writer, {"C-3"});
  must(writer.put("C-NEW", "email", email_of("C-NEW")));
  auto status = must(writer.master_key_status());
  CHECK(status.current == 2);
  CHECK(status.data_keys == std::vector<std::pair<std::uint32_t, std::int64_t>>{{2, 6}});

  // Nothing holds the retirement back, and nothing is lost by it.
  (void)must(admin.retire_master_keys(passphrase(kNewPass)));
  Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
  check_all_readable(after, {"C-0", "C-1", "C-2", "C-3", "C-4", "C-NEW"});
  check_keys_live(after, kThirdPass);
}

TEST_CASE("a write that commits just before a retirement's transaction wraps under the version it keeps") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 5);
  Vault writer = must(Vault::open(file, passphrase(kPass), fast()));  // holds version 1 only
  HookedStore* hooks = nullptr;
  Vault admin = hooked(file, hooks);
  (void)must(admin.rotate_master_key());
  // The retirement has checked nothing yet when the write commits; it must see the new key.
  result<void> wrote = make_error(errc::internal, "not run");
  hooks->before_next_begin([&] { wrote = writer.put("C-NEW", "email", email_of("C-NEW")); });
  auto retired = admin.retire_master_keys(passphrase(kNewPass));
  REQUIRE(hooks->hook_ran());
  REQUIRE_MESSAGE(wrote.ok(), wrote.err().message);
  REQUIRE_MESSAGE(retired.ok(), retired.err().message);
  CHECK(*retired == std::vector<std::uint32_t>{1});

  Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
  check_all_readable(after, {"C-0", "C-1", "C-2", "C-3", "C-4", "C-NEW"});
  check_keys_live(after, kThirdPass);
}

TEST_CASE("a rotation started from a vault opened before another rotation numbers its version above it") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 5);
  Vault late = must(Vault::open(file, passphrase(kPass), fast()));  // holds version 1 only
  {
    Vault admin = must(Vault::open(file, passphrase(kPass), fast()));
    (void)must(admin.rotate_master_key());
  }
  // Reusing number 2 would overwrite the sealed version 2 that every data key is wrapped under.
  auto report = must(late.rotate_master_key());
  CHECK(report.version == 3);
  (void)must(late.retire_master_keys(passphrase(kNewPass)));
  Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
  check_all_readable(after, {"C-0", "C-1", "C-2", "C-3", "C-4"});
  CHECK(must(after.master_key_status()).versions == std::vector<std::uint32_t>{3});
}

TEST_CASE("a passphrase change from a vault opened before a rotation re-seals the version made since") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 3);
  Vault late = must(Vault::open(file, passphrase(kPass), fast()));
  {
    Vault admin = must(Vault::open(file, passphrase(kPass), fast()));
    (void)must(admin.rotate_master_key());
  }
  // Version 2 left sealed under the old passphrase only would open with neither passphrase.
  must(late.change_passphrase(kNewPass));
  Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
  check_all_readable(after, {"C-0", "C-1", "C-2"});
  CHECK(must(after.master_key_status()).versions == std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("a derive whose transaction begins after a withdrawal of consent to profiling is refused") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 2);
  HookedStore* hooks = nullptr;
  Vault model = hooked(file, hooks);
  Vault desk = must(Vault::open(file, passphrase(kPass), fast()));
  // The derive has checked that the customer is known; the withdrawal commits before its write.
  hooks->before_next_begin(
      [&] { (void)must(desk.record_consent("C-1", "profiling", ConsentAction::withdraw)); });
  auto derived = model.derive("C-1", "expecting_child", "true");
  REQUIRE(hooks->hook_ran());
  REQUIRE_FALSE(derived.ok());
  CHECK(derived.err().code == errc::denied);
  CHECK(derived.err().reason == deny_reason::inference_needs_profiling);
  CHECK_FALSE(holds_inference(file, "C-1"));
  // With the consent live the same call writes.
  must(model.derive("C-0", "expecting_child", "true"));
  CHECK(holds_inference(file, "C-0"));
}

TEST_CASE("a write whose transaction begins after an erasure answers erased and brings nothing back") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 2);
  HookedStore* hooks = nullptr;
  Vault importer = hooked(file, hooks);
  Vault privacy = must(Vault::open(file, passphrase(kPass), fast()));
  hooks->before_next_begin([&] { must(privacy.erase("C-1")); });
  auto wrote = importer.put("C-1", "email", "back@example.com");
  REQUIRE(hooks->hook_ran());
  REQUIRE_FALSE(wrote.ok());
  CHECK(wrote.err().code == errc::erased);
  CHECK_FALSE(must(importer.contains("C-1")));

  // A consent event would bring the customer's id back into the ledger: refused the same way.
  hooks->before_next_begin([&] {
    auto again = privacy.erase("C-0");
    CHECK(again.ok());
  });
  auto consent = importer.record_consent("C-0", "profiling", ConsentAction::withdraw);
  REQUIRE_FALSE(consent.ok());
  CHECK(consent.err().code == errc::erased);
  CHECK_FALSE(must(importer.contains("C-0")));
  CHECK(must(importer.verify_audit()).ok);
}

TEST_CASE("erasing one customer from two vaults at once erases once and answers erased once") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  create_with(file, 2);
  HookedStore* hooks = nullptr;
  Vault first = hooked(file, hooks);
  Vault second = must(Vault::open(file, passphrase(kPass), fast()));
  result<void> inner = make_error(errc::internal, "not run");
  hooks->before_next_begin([&] { inner = second.erase("C-1"); });
  auto outer = first.erase("C-1");
  REQUIRE(hooks->hook_ran());
  CHECK(inner.ok());
  REQUIRE_FALSE(outer.ok());
  CHECK(outer.err().code == errc::erased);
  auto entries = must(first.audit_entries());
  CHECK(std::count_if(entries.begin(), entries.end(),
                      [](const AuditEntry& e) { return e.action == AuditAction::erasure; }) == 1);
}

TEST_CASE("writers and a rotation with retirement in two vaults on one file lose no customer") {
  // Each round: a writer (opened before the rotation) adds customers one transaction at a time
  // while another vault rotates and retires under a new passphrase. A write either lands under a
  // live version or fails whole, saying the master key changed.
  for (int round = 0; round < 3; ++round) {
    CAPTURE(round);
    TempDir dir;
    const fs::path file = test::shared_location(dir);
    create_with(file, 10);
    Vault writer = must(Vault::open(file, passphrase(kPass), fast()));
    Vault admin = must(Vault::open(file, passphrase(kPass), fast()));
    std::atomic<bool> go{false};
    std::vector<std::string> written;
    std::vector<error> write_failures;
    result<void> rotated = make_error(errc::internal, "not run");
    std::thread w([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < 30; ++i) {
        const std::string c = "W-" + std::to_string(i);
        auto r = writer.put(c, "email", email_of(c));
        if (!r) {
          write_failures.push_back(r.err());
          break;
        }
        written.push_back(c);
      }
    });
    std::thread a([&] {
      while (!go.load()) std::this_thread::yield();
      auto report = admin.rotate_master_key();
      if (!report) {
        rotated = report.err();
        return;
      }
      auto retired = admin.retire_master_keys(passphrase(kNewPass));
      rotated = retired ? ok() : result<void>(retired.err());
    });
    go = true;
    w.join();
    a.join();
    REQUIRE_MESSAGE(rotated.ok(), rotated.err().message);
    for (const error& e : write_failures) {
      CHECK(e.code == errc::io);
      CHECK(e.message.find("master key changed") != std::string::npos);
    }
    Vault after = must(Vault::open(file, passphrase(kNewPass), fast()));
    check_all_readable(after, written);
    check_all_readable(after, {"C-0", "C-9"});
    check_keys_live(after, kThirdPass);
  }
}

TEST_CASE("derives and withdrawals of consent to profiling from two vaults never leave an inference behind") {
  TempDir dir;
  const fs::path file = test::shared_location(dir);
  constexpr int kCustomers = 30;
  create_with(file, kCustomers);
  Vault model = must(Vault::open(file, passphrase(kPass), fast()));
  Vault desk = must(Vault::open(file, passphrase(kPass), fast()));
  std::atomic<int> started{0};
  std::vector<error> derive_failures;
  std::vector<error> withdraw_failures;
  std::thread d([&] {
    ++started;
    while (started.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kCustomers; ++i) {
      auto r = model.derive("C-" + std::to_string(i), "expecting_child", "true");
      if (!r) derive_failures.push_back(r.err());
    }
  });
  std::thread w([&] {
    ++started;
    while (started.load() < 2) std::this_thread::yield();
    for (int i = 0; i < kCustomers; ++i) {
      auto r = desk.record_consent("C-" + std::to_string(i), "profiling", ConsentAction::withdraw);
      if (!r) withdraw_failures.push_back(r.err());
    }
  });
  d.join();
  w.join();
  for (const error& e : withdraw_failures) CHECK_MESSAGE(false, e.message);
  for (const error& e : derive_failures) CHECK(e.reason == deny_reason::inference_needs_profiling);
  // Every withdrawal committed after or before each derive; either way nothing inferred stays.
  for (int i = 0; i < kCustomers; ++i) {
    CAPTURE(i);
    CHECK_FALSE(holds_inference(file, "C-" + std::to_string(i)));
  }
}
