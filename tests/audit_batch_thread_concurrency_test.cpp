// audit_batch_thread_concurrency_test.cpp: a batched trail whose store offers a second connection
// commits its full batches there, on a thread of its own, while the readers who filled them go on;
// nothing is lost, the chain stays whole, and a failed commit keeps its entries for the next.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_trail.hpp"
#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
using consentry::test::HookedStore;
using consentry::test::must;
using consentry::test::TempDir;

namespace {

using namespace std::chrono_literals;

constexpr std::size_t kBatch = 4;

AuditEntry read_of(int n) {
  AuditEntry e;
  e.at = timestamp{std::chrono::seconds{1'767'225'600 + n}};
  e.customer = "cust-" + std::to_string(n);
  e.accessor = "support-desk";
  e.purpose = "service";
  e.fields = {"email:clear"};
  return e;
}

// Gate holds a thread at wait() until open() is called, and tells whether one is waiting.
class Gate {
 public:
  void wait() {
    std::unique_lock lk(mu_);
    waiting_ = true;
    cv_.notify_all();
    cv_.wait(lk, [&] { return open_; });
  }
  bool wait_for_arrival(std::chrono::milliseconds limit) {
    std::unique_lock lk(mu_);
    return cv_.wait_for(lk, limit, [&] { return waiting_; });
  }
  void open() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool waiting_ = false;
  bool open_ = false;
};

// A batched trail on an SQLite vault file whose store offers a second connection: a HookedStore
// over the same file, kept here so that the test can hold or fail its transactions.
struct BatchedTrail {
  BatchedTrail()
      : store(must(open_sqlite_store(dir.path() / "audit.vault", StoreMode::create))),
        trail(store, store_mu, keeping_key(AuditSigner::generate()), options()) {
    store.offer_companion([this]() -> result<std::unique_ptr<Store>> {
      ++companions_opened;
      auto inner = open_sqlite_store(dir.path() / "audit.vault", StoreMode::open);
      if (!inner) return std::move(inner).err();
      auto hooked = std::make_unique<HookedStore>(std::move(*inner));
      companion.store(hooked.get());
      if (prepare_companion) prepare_companion(*hooked);
      return std::unique_ptr<Store>(std::move(hooked));
    });
  }

  static AuditTrailOptions options() {
    AuditTrailOptions o;
    o.commit = AuditCommit::batched;
    o.batch = kBatch;
    return o;
  }
  AuditSigner keeping_key(AuditSigner s) {
    public_key = s.public_key();
    return s;
  }

  // The entries committed, as the first connection sees them.
  std::vector<StoredAuditEntry> logged() {
    std::lock_guard lock(store_mu);
    std::vector<StoredAuditEntry> out;
    must(store.scan_audit(1, [&](const StoredAuditEntry& e) {
      out.push_back(e);
      return true;
    }));
    return out;
  }
  // Waits, up to ten seconds, until `n` entries are committed.
  bool wait_for_logged(std::size_t n) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (logged().size() < n)
      if (std::chrono::steady_clock::now() > until) return false;
    return true;
  }
  bool verifies() {
    std::lock_guard lock(store_mu);
    auto report = must(verify_audit_log(store, public_key));
    CAPTURE(report.problem);
    return report.ok;
  }

  TempDir dir;
  bytes public_key;
  HookedStore store;
  detail::WriterFirstMutex store_mu;
  std::function<void(HookedStore&)> prepare_companion;  // runs on the companion as it opens
  std::atomic<HookedStore*> companion{nullptr};
  std::atomic<int> companions_opened{0};
  AuditTrail trail;
};

}  // namespace

TEST_CASE("a full batch is committed on the second connection while its readers go on") {
  BatchedTrail t;
  Gate held;
  t.prepare_companion = [&](HookedStore& c) { c.before_next_begin([&] { held.wait(); }); };
  for (int i = 1; i <= static_cast<int>(kBatch); ++i) must(t.trail.record({read_of(i)}));
  // The batch thread has the batch and waits, inside its transaction's beginning, at the gate.
  REQUIRE(held.wait_for_arrival(10s));
  CHECK(t.companions_opened == 1);
  // Readers are not held up by the commit: they record more, and return.
  for (int i = static_cast<int>(kBatch) + 1; i < static_cast<int>(2 * kBatch); ++i)
    must(t.trail.record({read_of(i)}));
  CHECK(t.logged().empty());
  held.open();
  REQUIRE(t.wait_for_logged(kBatch));
  // The rest is held back until flushed; the first connection then sees every entry, in order.
  CHECK(t.logged().size() == kBatch);
  must(t.trail.flush());
  const auto logged = t.logged();
  REQUIRE(logged.size() == 2 * kBatch - 1);
  for (std::size_t i = 0; i < logged.size(); ++i) {
    CHECK(logged[i].seq == static_cast<std::int64_t>(i + 1));
    CHECK(logged[i].customer == "cust-" + std::to_string(i + 1));
  }
  CHECK(t.companions_opened == 1);
  CHECK(t.verifies());
}

TEST_CASE("a batch the second connection fails to commit stays queued, and the next reader hears of it") {
  BatchedTrail t;
  t.prepare_companion = [](HookedStore& c) { c.fail_next_begin(make_error(errc::io, "disk full")); };
  for (int i = 1; i <= static_cast<int>(kBatch); ++i) must(t.trail.record({read_of(i)}));
  // The failure reaches the first record() after it; until then records succeed.
  result<void> heard = ok();
  int n = static_cast<int>(kBatch);
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (heard.ok() && std::chrono::steady_clock::now() < until) {
    heard = t.trail.record({read_of(++n)});
    if (heard.ok()) std::this_thread::sleep_for(1ms);
  }
  REQUIRE_FALSE(heard.ok());
  CHECK(heard.err().code == errc::io);
  CHECK(heard.err().message == "disk full");
  // Told once: the next reader records normally.
  must(t.trail.record({read_of(++n)}));
  // Nothing was lost: the flush commits the failed batch and everything after it.
  must(t.trail.flush());
  const auto logged = t.logged();
  REQUIRE(logged.size() == static_cast<std::size_t>(n));
  for (std::size_t i = 0; i < logged.size(); ++i)
    CHECK(logged[i].customer == "cust-" + std::to_string(i + 1));
  CHECK(t.verifies());
}

TEST_CASE("many readers through a batched trail with a second connection lose no entry") {
  BatchedTrail t;
  constexpr int kThreads = 4;
  constexpr int kEach = 250;
  std::vector<std::thread> readers;
  for (int r = 0; r < kThreads; ++r)
    readers.emplace_back([&, r] {
      for (int i = 0; i < kEach; ++i) must(t.trail.record({read_of(r * kEach + i + 1)}));
    });
  for (std::thread& reader : readers) reader.join();
  must(t.trail.flush());
  const auto logged = t.logged();
  REQUIRE(logged.size() == static_cast<std::size_t>(kThreads * kEach));
  std::vector<bool> seen(kThreads * kEach + 1, false);
  for (const StoredAuditEntry& e : logged) seen[std::stoi(e.customer.substr(5))] = true;
  CHECK(std::count(seen.begin() + 1, seen.end(), true) == kThreads * kEach);
  CHECK(t.companions_opened == 1);
  CHECK(t.verifies());
}

TEST_CASE("a batched trail whose store offers no second connection commits full batches itself") {
  auto store = make_memory_store();
  detail::WriterFirstMutex store_mu;
  AuditTrail trail(*store, store_mu, AuditSigner::generate(), BatchedTrail::options());
  for (int i = 1; i <= static_cast<int>(kBatch); ++i) must(trail.record({read_of(i)}));
  // Committed by the record() that filled the batch, before it returned.
  std::int64_t entries = 0;
  must(store->scan_audit(1, [&](const StoredAuditEntry&) {
    ++entries;
    return true;
  }));
  CHECK(entries == static_cast<std::int64_t>(kBatch));
}
