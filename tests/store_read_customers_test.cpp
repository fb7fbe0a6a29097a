// store_read_customers_test.cpp: Store::read_customers, the reads of many customers in one
// request, on every store: each answer is what read_customer answers for its request, in the
// order asked (repeated, unknown and erased customers, keys asked of some and not others,
// requests that ask different things), all in the caller's read snapshot, and nothing is read
// outside one.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "consentry/extension/store.hpp"
#include "support/consent_event.hpp"
#include "support/customer_read_checks.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"

using namespace consentry;
using consentry::test::check_same_read;
using consentry::test::must;

namespace {

bytes b(std::string_view s) {
  return bytes(s.begin(), s.end());
}

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

ConsentEvent event_of(std::string customer, std::string purpose, ConsentAction action, std::int64_t when) {
  ConsentEvent e = test::consent_event(std::move(purpose), action, at(when));
  e.customer = std::move(customer);
  e.channel = "web";
  return e;
}

// in_snapshot is `r` marked as read inside the caller's snapshot.
CustomerReadRequest in_snapshot(CustomerReadRequest r) {
  r.in_snapshot = true;
  return r;
}

// fill gives three customers keys, fields and interleaved consent events, marks C-3 erased (its
// tag "tag-3") and puts a meta row.
void fill(Store& s) {
  for (const char* c : {"C-1", "C-2", "C-3"}) {
    must(s.put_key(StoredKey{c, 2, b(std::string("wrapped-") + c)}));
    for (const char* name : {"email", "a,b", "{br}", "#manifest", "phone"})
      must(
          s.put_field(StoredField{c, name, b(std::string(c) + "-" + name), "web-signup", at(1700000000), 2}));
  }
  must(s.append_consent(event_of("C-1", "offers", ConsentAction::grant, 1000)));
  must(s.append_consent(event_of("C-2", "offers", ConsentAction::grant, 1001)));
  auto expiring = event_of("C-1", "analytics", ConsentAction::grant, 1002);
  expiring.expires_at = at(5000);
  expiring.policy_version = 3;
  must(s.append_consent(expiring));
  must(s.append_consent(event_of("C-1", "offers", ConsentAction::withdraw, 1003)));
  must(s.append_consent(event_of("C-2", "offers", ConsentAction::object, 1004)));
  must(s.put_meta("policy.version", b("5")));
  must(s.erase_customer("C-3", "tag-3", at(4242)));
}

// another_store opens a second connection to the backend's store, as another process would.
std::unique_ptr<Store> another_store(const test::SqliteBackend& b) {
  return must(open_sqlite_store(b.file, StoreMode::open));
}
std::unique_ptr<Store> another_store(const test::PostgresBackend& b) {
  return must(open_postgres_store(b.url, StoreMode::open));
}

}  // namespace

TEST_CASE_TEMPLATE("read_customers answers each request as read_customer does, in the order asked", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  fill(s);
  const std::vector<std::string_view> asked = {"email", "a,b", "{br}", "#manifest", "missing", "email"};
  // The same things asked of each (what a bulk read asks), keys of some only: a customer twice,
  // one erased, one unknown, one with no tag.
  std::vector<CustomerReadRequest> alike;
  for (auto [customer, tag, key] :
       std::vector<std::tuple<std::string_view, std::string_view, bool>>{{"C-2", "tag-2", true},
                                                                         {"C-1", "tag-1", false},
                                                                         {"C-3", "tag-3", true},
                                                                         {"C-9", "tag-9", true},
                                                                         {"C-1", "", true},
                                                                         {"C-2", "tag-2", false}})
    alike.push_back(in_snapshot(CustomerReadRequest{customer, tag, key, true, asked, "policy.version"}));
  // Requests that ask different things of each.
  const std::vector<std::string_view> phone = {"phone"};
  std::vector<CustomerReadRequest> mixed = {
      in_snapshot(CustomerReadRequest{"C-1", "tag-1", true, false, phone, {}}),
      in_snapshot(CustomerReadRequest{"C-2", "tag-2", false, true, asked, "policy.version"}),
      in_snapshot(CustomerReadRequest{"C-3", "tag-3", false, false, {}, "no.such.row"}),
  };
  for (const auto* requests : {&alike, &mixed}) {
    auto snapshot = must(ReadSnapshot::open(s));
    const std::vector<CustomerRead> got = must(s.read_customers(*requests));
    REQUIRE(got.size() == requests->size());
    for (std::size_t i = 0; i < requests->size(); ++i) {
      CAPTURE(i);
      check_same_read(got[i], must(s.read_customer((*requests)[i])));
    }
  }
  // What the answers hold, beyond agreeing with read_customer.
  auto snapshot = must(ReadSnapshot::open(s));
  const std::vector<CustomerRead> got = must(s.read_customers(alike));
  REQUIRE(got[0].key.has_value());
  CHECK(got[0].key->wrapped == b("wrapped-C-2"));
  CHECK_FALSE(got[1].key.has_value());
  CHECK(got[1].history.size() == 3);
  CHECK(got[1].fields.size() == 4);
  CHECK(got[0].meta == b("5"));
  REQUIRE(got[2].erased_at.has_value());
  CHECK(*got[2].erased_at == at(4242));
  CHECK_FALSE(got[2].key.has_value());
  CHECK(got[2].fields.empty());
  CHECK_FALSE(got[3].key.has_value());
  CHECK(got[3].history.empty());
  CHECK_FALSE(got[4].erased_at.has_value());
  CHECK(got[4].key->wrapped == b("wrapped-C-1"));
  CHECK(must(s.read_customers({})).empty());
}

TEST_CASE_TEMPLATE("read_customers reads only inside the caller's snapshot", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  fill(s);
  const std::vector<std::string_view> email = {"email"};
  const std::vector<CustomerReadRequest> requests = {
      in_snapshot(CustomerReadRequest{"C-1", "tag-1", true, true, email, {}}),
      in_snapshot(CustomerReadRequest{"C-2", "tag-2", true, true, email, {}}),
  };
  if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
    // No snapshot open: refused, and the store goes on.
    auto refused = s.read_customers(requests);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::internal);
  }
  {
    auto snapshot = must(ReadSnapshot::open(s));
    // A request not marked in_snapshot: refused, and the snapshot goes on.
    std::vector<CustomerReadRequest> one_outside = requests;
    one_outside[1].in_snapshot = false;
    auto refused = s.read_customers(one_outside);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::internal);
    const CustomerRead before = must(s.read_customer(requests[1]));
    if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
      // Another connection withdraws C-2's consent and replaces its value: the snapshot sees neither.
      auto other = another_store(backend);
      must(other->append_consent(event_of("C-2", "offers", ConsentAction::withdraw, 1005)));
      must(other->put_field(StoredField{"C-2", "email", b("sealed-new"), "web", at(1700000001)}));
    }
    const std::vector<CustomerRead> got = must(s.read_customers(requests));
    REQUIRE(got.size() == 2);
    check_same_read(got[1], before);
  }
  if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
    // After it, a new snapshot reads the other connection's writes.
    auto snapshot = must(ReadSnapshot::open(s));
    const std::vector<CustomerRead> got = must(s.read_customers(requests));
    CHECK(got[1].history.size() == 3);
    REQUIRE(got[1].fields.size() == 1);
    CHECK(got[1].fields[0].sealed == b("sealed-new"));
  }
}
