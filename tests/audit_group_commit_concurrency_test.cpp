// audit_group_commit_concurrency_test.cpp: a durable group commit's leader waits for the entries
// callers announced, so that concurrent reads share one commit instead of each waiting for the next.
#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_trail.hpp"
#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"

using namespace consentry;
using consentry::test::HookedStore;
using consentry::test::must;

namespace {

using namespace std::chrono_literals;

AuditEntry read_of(const std::string& customer) {
  AuditEntry e;
  e.at = timestamp{std::chrono::seconds{1'767'225'600}};
  e.customer = customer;
  e.accessor = "support-desk";
  e.purpose = "service";
  e.fields = {"email:clear"};
  return e;
}

// A durable trail on a memory store that counts the write transactions it begins.
struct CountedTrail {
  explicit CountedTrail(std::optional<std::chrono::steady_clock::duration> gather_limit)
      : store(make_memory_store()), trail(store, store_mu, AuditSigner::generate(), options(gather_limit)) {
    count = [this] {
      ++begins;
      store.before_next_begin(count);
    };
    store.before_next_begin(count);
  }

  static AuditTrailOptions options(std::optional<std::chrono::steady_clock::duration> gather_limit) {
    AuditTrailOptions o;
    o.commit = AuditCommit::durable;
    o.gather_limit = gather_limit;
    return o;
  }

  std::vector<std::string> logged() {
    std::vector<std::string> customers;
    must(store.scan_audit(1, [&](const StoredAuditEntry& e) {
      customers.push_back(e.customer);
      return true;
    }));
    return customers;
  }

  HookedStore store;
  detail::WriterFirstMutex store_mu;
  AuditTrail trail;
  std::function<void()> count;
  int begins = 0;  // store_mu held by the trail when it changes
};

}  // namespace

TEST_CASE("two announced reads share one durable commit, whichever records first") {
  // The limit is far beyond any scheduling delay: only the announcements decide.
  CountedTrail t(std::chrono::hours(1));
  for (int round = 0; round < 20; ++round) {
    const int before = t.begins;
    auto first = t.trail.announce();
    auto second = t.trail.announce();
    result<void> from_thread = ok();
    std::thread reader([&] { from_thread = t.trail.record({read_of("cust-a")}, std::move(first)); });
    const result<void> from_here = t.trail.record({read_of("cust-b")}, std::move(second));
    reader.join();
    CHECK(from_thread.ok());
    CHECK(from_here.ok());
    CHECK(t.begins == before + 1);
  }
  CHECK(t.logged().size() == 40);
}

TEST_CASE("a leader waits for as many callers as its last commit served") {
  CountedTrail t(std::chrono::hours(1));
  {
    auto a = t.trail.announce();
    auto b = t.trail.announce();
    auto c = t.trail.announce();
    std::thread ta([&] { must(t.trail.record({read_of("cust-a")}, std::move(a))); });
    std::thread tb([&] { must(t.trail.record({read_of("cust-b")}, std::move(b))); });
    must(t.trail.record({read_of("cust-c")}, std::move(c)));
    ta.join();
    tb.join();
  }
  CHECK(t.begins == 1);
  // Three callers come back unannounced: the first to record waits for the other two.
  std::thread ta([&] { must(t.trail.record({read_of("cust-a")})); });
  std::thread tb([&] { must(t.trail.record({read_of("cust-b")})); });
  must(t.trail.record({read_of("cust-c")}));
  ta.join();
  tb.join();
  CHECK(t.begins == 2);
  CHECK(t.logged().size() == 6);
}

TEST_CASE("an announcement dropped unrecorded lets the waiting leader commit") {
  CountedTrail t(std::chrono::hours(1));
  std::thread reader;
  const auto started = std::chrono::steady_clock::now();
  {
    auto dropped = t.trail.announce();  // a read that failed before it had an entry to record
    reader = std::thread([&] { must(t.trail.record({read_of("cust-a")})); });
    std::this_thread::sleep_for(20ms);  // the reader leads and waits for `dropped` (or not yet)
  }
  reader.join();
  // Without the withdrawal the leader would wait the hour out.
  CHECK(std::chrono::steady_clock::now() - started < 10min);
  CHECK(t.begins == 1);
  CHECK(t.logged() == std::vector<std::string>{"cust-a"});
}

TEST_CASE("a leader waits no longer than its gather limit for an announced read") {
  CountedTrail t(50ms);
  auto late = t.trail.announce();
  const auto started = std::chrono::steady_clock::now();
  must(t.trail.record({read_of("cust-a")}));  // leads, waits for `late`, then commits alone
  CHECK(std::chrono::steady_clock::now() - started >= 50ms);
  CHECK(t.begins == 1);
  must(t.trail.record({read_of("cust-b")}, std::move(late)));
  CHECK(t.begins == 2);
  CHECK(t.logged() == std::vector<std::string>{"cust-a", "cust-b"});
}

TEST_CASE("announcing does nothing for a batched trail or one that is off") {
  for (AuditCommit mode : {AuditCommit::batched, AuditCommit::off}) {
    auto store = make_memory_store();
    detail::WriterFirstMutex store_mu;
    AuditTrailOptions o;
    o.commit = mode;
    o.gather_limit = std::chrono::hours(1);
    AuditTrail trail(*store, store_mu, AuditSigner::generate(), o);
    auto kept = trail.announce();  // held to the end: nothing may wait for it
    must(trail.record({read_of("cust-a")}, trail.announce()));
    must(trail.flush());
    std::int64_t entries = 0;
    must(store->scan_audit(1, [&](const StoredAuditEntry&) {
      ++entries;
      return true;
    }));
    CHECK(entries == (mode == AuditCommit::off ? 0 : 1));
  }
}

TEST_CASE("a caller that recorded several entries counts as one caller") {
  CountedTrail t(std::chrono::hours(1));
  must(t.trail.record({read_of("cust-a"), read_of("cust-b"), read_of("cust-c")}));
  // Counted by entries, this leader would wait the hour for two more callers.
  must(t.trail.record({read_of("cust-d")}));
  CHECK(t.begins == 2);
  CHECK(t.logged().size() == 4);
}
