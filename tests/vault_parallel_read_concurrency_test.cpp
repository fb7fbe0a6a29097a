// vault_parallel_read_concurrency_test.cpp: reads of one vault from several threads run side by
// side, each on a reader connection of its own (Store::open_reader), and decide exactly as a
// read through the store's own connection does: a withdrawal or a policy version committed
// before a read begins, by this vault or another on the same file, is what that read decides
// under; data keys shared by readers stay valid while the cache drops them; and the policy in
// force is looked up on readers too, side by side.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

using test::HookedStore;
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

// create_with makes a vault at `file` holding customers C-0 .. C-(n-1), each with an email and
// consent to email marketing, and closes it.
void create_with(const fs::path& file, int n) {
  Vault v = must(Vault::create(file, test::retail_policy(), kPass, test::test_vault_options()));
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

// on_threads runs `work(t)` on kThreads threads at once and waits for them all.
template <typename Work>
void on_threads(Work work) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back([&work, t] { work(t); });
  for (std::thread& thread : threads) thread.join();
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

// read_once_beside_another opens two vaults on `file`, as two processes would (the second's
// commits go through another connection), and reads once from every thread through the first,
// so that its readers are open and their statements prepared.
std::pair<Vault, Vault> read_once_beside_another(const fs::path& file) {
  Vault v = must(Vault::open(file, kPass, test::test_vault_options()));
  Vault other = must(Vault::open(file, kPass, test::test_vault_options()));
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

// MeetingReaders opens a vault whose readers each hold a read (of a customer, or of a meta row)
// until another reader is inside one too, or five seconds have passed: reads that took turns
// would never meet there. It counts the readers opened and the same reads made through the
// store's own connection.
struct MeetingReaders {
  enum class Hold { customer_reads, meta_reads };

  MeetingReaders(const fs::path& file, Hold hold) {
    auto main_store = std::make_unique<HookedStore>(must(open_sqlite_store(file, StoreMode::open)));
    HookedStore& hooks = *main_store;
    hooks.offer_reader([this, file, hold]() -> result<std::unique_ptr<Store>> {
      auto inner = open_sqlite_store(file, StoreMode::open);
      if (!inner) return std::move(inner).err();
      auto reader = std::make_unique<HookedStore>(std::move(*inner));
      if (hold == Hold::customer_reads)
        reader->on_read_customer([this] { meet(); });
      else
        reader->on_get_meta([this] { meet(); });
      std::lock_guard lk(mu);
      ++readers_opened;
      return std::unique_ptr<Store>(std::move(reader));
    });
    vault.emplace(must(Vault::open_in(std::move(main_store),
                                      std::make_shared<PassphraseKeyProvider>(kPass, KdfStrength::minimum),
                                      test::test_vault_options())));
    if (hold == Hold::customer_reads)
      hooks.on_read_customer([this] { ++main_reads; });
    else
      hooks.on_get_meta([this] { ++main_reads; });
  }

  void meet() {
    std::unique_lock lk(mu);
    ++inside;
    most_inside = std::max(most_inside, inside);
    cv.notify_all();
    cv.wait_for(lk, 5s, [&] { return most_inside >= 2; });
    --inside;
  }

  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, most_inside = 0, readers_opened = 0;  // mu held
  std::atomic<int> main_reads{0};
  std::optional<Vault> vault;
};

}  // namespace

TEST_CASE("reads from several threads run side by side, each on a reader of its own") {
  TempDir dir;
  const fs::path file = dir.path() / "parallel.vault";
  create_with(file, kThreads);
  MeetingReaders m(file, MeetingReaders::Hold::customer_reads);

  // Taken first, so that the readers meet in the reads of customers.
  const Accessor campaigns = must(m.vault->accessor("email-campaigns"));
  std::vector<result<std::string>> got(2, make_error(errc::internal, "not read"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t)
    threads.emplace_back([&, t] { got[t] = campaign_email(campaigns, customer_id(t)); });
  for (std::thread& thread : threads) thread.join();

  CHECK(m.most_inside == 2);
  CHECK(m.readers_opened == 2);
  CHECK(m.main_reads == 0);
  for (int t = 0; t < 2; ++t) {
    REQUIRE_MESSAGE(got[t].ok(), got[t].err().message);
    CHECK(*got[t] == email_of(customer_id(t)));
  }
  // The audit log, with both reads, verifies.
  CHECK(must(m.vault->verify_audit()).ok);
}

TEST_CASE("accessors for several threads are found side by side, each on a reader of its own") {
  TempDir dir;
  const fs::path file = dir.path() / "accessors.vault";
  create_with(file, kThreads);
  MeetingReaders m(file, MeetingReaders::Hold::meta_reads);

  std::vector<result<Accessor>> got;
  for (int t = 0; t < 2; ++t) got.push_back(make_error(errc::internal, "not found"));
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) threads.emplace_back([&, t] { got[t] = m.vault->accessor("email-campaigns"); });
  for (std::thread& thread : threads) thread.join();

  // Each looked up the policy version in force on a reader, beside the other.
  CHECK(m.most_inside == 2);
  CHECK(m.readers_opened == 2);
  CHECK(m.main_reads == 0);
  for (int t = 0; t < 2; ++t) {
    REQUIRE_MESSAGE(got[t].ok(), got[t].err().message);
    CHECK(got[t]->id() == "email-campaigns");
  }
  CHECK(m.vault->accessor("no-such-feature").err().code == errc::not_found);
}

TEST_CASE("readers sharing a key cache of one key each open their own customer's value") {
  TempDir dir;
  const fs::path file = dir.path() / "keys.vault";
  create_with(file, 2 * kThreads);
  VaultOptions options = test::test_vault_options(AuditMode::batched);
  options.key_cache_size = 1;  // every read of another customer drops the key a reader may hold
  Vault v = must(Vault::open(file, kPass, options));
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
  const fs::path file = dir.path() / "withdraw.vault";
  create_with(file, 2 * kThreads);
  auto [v, other] = read_once_beside_another(file);

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
  const fs::path file = dir.path() / "policy.vault";
  create_with(file, kThreads);
  auto [v, other] = read_once_beside_another(file);

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
