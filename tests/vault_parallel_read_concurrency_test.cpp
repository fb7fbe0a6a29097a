// vault_parallel_read_concurrency_test.cpp: reads of one vault from several threads run side by
// side, each on a reader connection of its own (Store::open_reader: the SQLite file opened
// again; in the PostgreSQL run, a server connection of its own), and decide exactly as a read
// through the store's own connection does: a withdrawal or a policy version committed before a
// read begins, by this vault or another on the same store, is what that read decides under;
// data keys shared by readers stay valid while the cache drops them; and the policy in force is
// looked up on readers too, side by side.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/meeting_readers.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

using test::MeetingReaders;
using test::must;
using test::TempDir;

constexpr std::string_view kPass = test::kTestPassphrase;
constexpr int kThreads = 4;

std::string customer_id(int i) {
  return "C-" + std::to_string(i);
}
std::string email_of(const std::string& customer) {
  return customer + "@example.com";
}

// create_with makes a vault at `location` holding customers C-0 .. C-(n-1), each with an email and
// consent to email marketing, and closes it.
void create_with(const fs::path& location, int n) {
  Vault v = must(Vault::create(location, test::retail_policy(), kPass, test::test_vault_options()));
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.customer = customer_id(i);
    r.fields = {{"email", email_of(r.customer)}};
    records.push_back(std::move(r));
  }
  must(v.write(records));
  for (int i = 0; i < n; ++i)
    (void)must(v.record_consent(customer_id(i), "marketing.email", ConsentAction::grant));
}

// campaign_email reads a customer's email in one call through `campaigns` (email-campaigns),
// for marketing.email.
result<std::string> campaign_email(const Accessor& campaigns, const std::string& customer) {
  auto got = campaigns.read(customer, "marketing.email", {"email"});
  if (!got) return std::move(got).err();
  if (!got->front()) return std::move(got->front()).err();
  return got->front()->value;
}
result<std::string> campaign_email(const Vault& v, const std::string& customer) {
  auto campaigns = v.accessor("email-campaigns");
  if (!campaigns) return std::move(campaigns).err();
  return campaign_email(*campaigns, customer);
}

// on_threads runs `work(t)` on `count` threads at once and waits for them all.
template <typename Work>
void on_threads(Work work, int count = kThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < count; ++t) threads.emplace_back([&work, t] { work(t); });
  for (std::thread& thread : threads) thread.join();
}

// check_met_on_two_readers checks that two calls were inside two readers at once, and that
// none went through the store's own connection.
void check_met_on_two_readers(MeetingReaders& m) {
  CHECK(m.most_inside == 2);
  CHECK(m.readers_opened == 2);
  CHECK(m.main_reads == 0);
}

// Refusals counts what reads from several threads were told.
struct Refusals {
  std::atomic<int> refused{0};          // refused for the reason expected
  std::atomic<int> wrongly_allowed{0};  // answered
  std::atomic<int> otherwise{0};        // failed for another reason
};

// count_refusals reads, from kThreads threads at once, thread t's customers (customers(t)) and
// counts which reads were refused with `reason`.
template <typename Customers>
void count_refusals(const Vault& v, Customers customers, deny_reason reason, Refusals& out) {
  on_threads([&](int t) {
    for (const std::string& c : customers(t)) {
      auto got = campaign_email(v, c);
      if (got)
        ++out.wrongly_allowed;
      else if (got.err().code == errc::denied && got.err().reason == reason)
        ++out.refused;
      else
        ++out.otherwise;
    }
  });
}

// read_once_beside_another opens two vaults on `location`, as two processes would (the second's
// commits go through another connection), and reads once from every thread through the first,
// so that its readers are open and their statements prepared.
std::pair<Vault, Vault> read_once_beside_another(const fs::path& location) {
  Vault v = must(Vault::open(location, kPass, test::test_vault_options()));
  Vault other = must(Vault::open(location, kPass, test::test_vault_options()));
  std::atomic<int> allowed{0};
  on_threads([&](int t) {
    if (campaign_email(v, customer_id(t)).ok()) ++allowed;
  });
  REQUIRE(allowed == kThreads);
  return {std::move(v), std::move(other)};
}

// The retail policy without email-campaigns' sight of the email.
Policy policy_without_campaign_email() {
  std::string text(test::kRetailPolicy);
  const std::string clear = R"("marketing.email": "clear", "analytics")";
  const auto at = text.find(clear);
  REQUIRE(at != std::string::npos);
  text.replace(at, clear.size(), R"("analytics")");
  return must(Policy::parse(text, "narrowed"));
}

}  // namespace

TEST_CASE("reads from several threads run side by side, each on a reader of its own") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, kThreads);
  MeetingReaders m(must(test::open_store_at(location, StoreMode::open)),
                   MeetingReaders::Hold::customer_reads);

  // Taken first, so that the readers meet in the reads of customers.
  const Accessor campaigns = must(m.vault->accessor("email-campaigns"));
  std::vector<result<std::string>> got(2, make_error(errc::internal, "not read"));
  on_threads([&](int t) { got[t] = campaign_email(campaigns, customer_id(t)); }, 2);

  check_met_on_two_readers(m);
  for (int t = 0; t < 2; ++t) {
    REQUIRE_MESSAGE(got[t].ok(), got[t].err().message);
    CHECK(*got[t] == email_of(customer_id(t)));
  }
  // The audit log, with both reads, verifies.
  CHECK(must(m.vault->verify_audit()).ok);
}

TEST_CASE("accessors for several threads are found side by side, each on a reader of its own") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, kThreads);
  MeetingReaders m(must(test::open_store_at(location, StoreMode::open)), MeetingReaders::Hold::meta_reads);

  std::vector<result<Accessor>> got;
  for (int t = 0; t < 2; ++t) got.push_back(make_error(errc::internal, "not found"));
  on_threads([&](int t) { got[t] = m.vault->accessor("email-campaigns"); }, 2);

  // Each looked up the policy version in force on a reader, beside the other.
  check_met_on_two_readers(m);
  for (int t = 0; t < 2; ++t) {
    REQUIRE_MESSAGE(got[t].ok(), got[t].err().message);
    CHECK(got[t]->id() == "email-campaigns");
  }
  CHECK(m.vault->accessor("no-such-feature").err().code == errc::not_found);
}

TEST_CASE("a vault allowed no reader takes turns on its own connection") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, kThreads);
  VaultOptions options = test::test_vault_options();
  options.max_readers = 0;
  MeetingReaders m(must(test::open_store_at(location, StoreMode::open)), MeetingReaders::Hold::customer_reads,
                   options);
  const Accessor campaigns = must(m.vault->accessor("email-campaigns"));
  std::atomic<int> right{0};
  on_threads([&](int t) {
    auto got = campaign_email(campaigns, customer_id(t));
    if (got && *got == email_of(customer_id(t))) ++right;
  });
  CHECK(right == kThreads);
  CHECK(m.readers_opened == 0);
  CHECK(m.main_reads == kThreads);
}

TEST_CASE("readers sharing a key cache of one key each open their own customer's value") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, 2 * kThreads);
  VaultOptions options = test::test_vault_options(AuditMode::batched);
  options.key_cache_size = 1;  // every read of another customer drops the key a reader may hold
  Vault v = must(Vault::open(location, kPass, options));
  std::atomic<int> wrong{0}, failed{0};
  on_threads([&](int t) {
    for (int i = 0; i < 100; ++i) {
      const std::string c = customer_id(2 * t + i % 2);
      auto got = campaign_email(v, c);
      if (!got)
        ++failed;
      else if (*got != email_of(c))
        ++wrong;
    }
  });
  CHECK(failed == 0);
  CHECK(wrong == 0);
  must(v.flush_audit());
  CHECK(must(v.verify_audit()).ok);
}

TEST_CASE("a withdrawal committed before a read begins is what every reader decides under") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, 2 * kThreads);
  auto [v, other] = read_once_beside_another(location);

  // Half withdrawn by this vault, half by the other one; then every thread reads both of its
  // customers again.
  for (int t = 0; t < kThreads; ++t) {
    (void)must(v.record_consent(customer_id(t), "marketing.email", ConsentAction::withdraw));
    (void)must(other.record_consent(customer_id(kThreads + t), "marketing.email", ConsentAction::withdraw));
  }
  Refusals r;
  count_refusals(
      v,
      [](int t) {
        return std::vector<std::string>{customer_id(t), customer_id(kThreads + t)};
      },
      deny_reason::withdrawn, r);
  CHECK(r.wrongly_allowed == 0);
  CHECK(r.otherwise == 0);
  CHECK(r.refused == 2 * kThreads);
}

TEST_CASE("a policy version another vault put in force is followed by the next read on a reader") {
  TempDir dir;
  const fs::path location = test::shared_location(dir);
  create_with(location, kThreads);
  auto [v, other] = read_once_beside_another(location);

  (void)must(other.update_policy(policy_without_campaign_email()));
  Refusals r;
  count_refusals(
      v, [](int t) { return std::vector<std::string>{customer_id(t)}; },
      deny_reason::purpose_not_allowed_for_field, r);
  CHECK(r.wrongly_allowed == 0);
  CHECK(r.otherwise == 0);
  CHECK(r.refused == kThreads);
  CHECK(v.policy_version() == 2);
}
