// store_read_customer_test.cpp: Store::read_customer, what one read of a customer needs in one
// request, on every store: it answers as the roles' own calls do, reads only what it is asked
// for, and runs outside transactions, or inside the read snapshot its caller holds.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "consentry/extension/store.hpp"
#include "support/consent_event.hpp"
#include "support/customer_read_checks.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"

using namespace consentry;
using consentry::test::check_same_fields;
using consentry::test::check_same_history;
using consentry::test::must;

namespace {

bytes b(std::string_view s) {
  return bytes(s.begin(), s.end());
}

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

// event_of is test::consent_event for `customer`, with a channel and a notice.
ConsentEvent event_of(std::string customer, std::string purpose, ConsentAction action, std::int64_t when) {
  ConsentEvent e = test::consent_event(std::move(purpose), action, at(when));
  e.customer = std::move(customer);
  e.channel = "web";
  e.notice = "privacy-2025-03";
  return e;
}

}  // namespace

TEST_CASE_TEMPLATE("read_customer answers in one call as the roles' own calls do", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const std::string ann = "C-1";
  must(s.put_key(StoredKey{ann, 7, b("wrapped-ann")}));
  must(s.put_key(StoredKey{"C-2", 1, b("wrapped-other")}));
  // Names an array literal would misread, and a customer whose events interleave with another's.
  for (const char* name : {"email", "a,b", "q\"uote", "{br}", "NULL", "sp ace", "#manifest"})
    must(s.put_field(
        StoredField{ann, name, b(std::string("sealed-") + name), "web-signup", at(1700000000), 2}));
  must(s.put_field(StoredField{"C-2", "email", b("sealed-other"), "import", at(1700000001)}));
  must(s.append_consent(event_of(ann, "offers", ConsentAction::grant, 1000)));
  must(s.append_consent(event_of("C-2", "offers", ConsentAction::grant, 1001)));
  auto expiring = event_of(ann, "analytics", ConsentAction::grant, 1002);
  expiring.expires_at = at(5000);
  expiring.policy_version = 3;
  must(s.append_consent(expiring));
  must(s.append_consent(event_of(ann, "offers", ConsentAction::withdraw, 1003)));

  must(s.put_meta("policy.version", b("7")));
  const std::vector<std::string_view> asked = {"email",  "a,b",       "q\"uote", "{br}", "NULL",
                                               "sp ace", "#manifest", "missing", "email"};
  auto read = must(s.read_customer(CustomerReadRequest{ann, "tag-ann", true, true, asked, "policy.version"}));
  CHECK(read.meta == b("7"));
  CHECK_FALSE(read.erased_at.has_value());
  REQUIRE(read.key.has_value());
  CHECK(read.key->customer == ann);
  CHECK(read.key->version == 7);
  CHECK(read.key->wrapped == b("wrapped-ann"));
  const auto history = must(s.consent_history(ann));
  REQUIRE(history.size() == 3);
  check_same_history(read.history, history);
  CHECK(std::is_sorted(read.history.begin(), read.history.end(),
                       [](const auto& x, const auto& y) { return x.seq < y.seq; }));
  check_same_fields(read.fields, must(s.get_named_fields(ann, asked)));
  CHECK(read.fields.size() == 7);  // each held name once; the missing one absent

  // The same request by parts, inside a snapshot, agrees.
  {
    auto snapshot = must(ReadSnapshot::open(s));
    auto parts =
        must(s.read_customer_parts(CustomerReadRequest{ann, "tag-ann", true, true, asked, "policy.version"}));
    CHECK(parts.meta == read.meta);
    CHECK(parts.key->wrapped == read.key->wrapped);
    check_same_history(parts.history, read.history);
    check_same_fields(parts.fields, read.fields);
  }
}

TEST_CASE_TEMPLATE("read_customer reads only what it is asked for, and an unknown customer as empty", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(StoredField{"C-1", "email", b("sealed"), "web-signup", at(1700000000)}));
  must(s.append_consent(event_of("C-1", "offers", ConsentAction::grant, 1000)));

  must(s.put_meta("policy.version", b("2")));
  auto bare = must(s.read_customer(CustomerReadRequest{"C-1", "tag-1", false, false, {}, {}}));
  CHECK_FALSE(bare.meta.has_value());
  CHECK_FALSE(bare.key.has_value());
  CHECK(bare.history.empty());
  CHECK(bare.fields.empty());

  const std::vector<std::string_view> email = {"email"};
  auto nobody = must(s.read_customer(CustomerReadRequest{"C-9", "tag-9", true, true, email, {}}));
  CHECK_FALSE(nobody.key.has_value());
  CHECK(nobody.history.empty());
  CHECK(nobody.fields.empty());
  CHECK_FALSE(nobody.erased_at.has_value());
  // A meta row is read when asked for; one not held reads as none.
  CHECK(must(s.read_customer(CustomerReadRequest{"C-9", "", false, false, {}, "policy.version"})).meta ==
        b("2"));
  CHECK_FALSE(must(s.read_customer(CustomerReadRequest{"C-1", "", false, false, {}, "no.such.row"})).meta);
}

TEST_CASE_TEMPLATE("read_customer reads each choice of parts as the roles' own calls do", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const std::string ann = "C-1";
  must(s.put_key(StoredKey{ann, 3, b("wrapped-ann")}));
  must(s.put_field(StoredField{ann, "email", b("sealed-email"), "web-signup", at(1700000000), 2}));
  must(s.put_field(StoredField{ann, "phone", b("sealed-phone"), "import", at(1700000005), 1}));
  must(s.append_consent(event_of(ann, "offers", ConsentAction::grant, 1000)));
  auto expiring = event_of(ann, "analytics", ConsentAction::object, 1002);
  expiring.expires_at = at(5000);
  expiring.policy_version = 4;
  must(s.append_consent(expiring));
  must(s.put_meta("policy.version", b("4")));
  must(s.erase_customer("C-9", "tag-9", at(4242)));
  const auto history = must(s.consent_history(ann));
  const std::vector<std::string_view> asked = {"phone", "email"};
  const auto fields = must(s.get_named_fields(ann, asked));
  // Every one of the eight choices of key, history and fields, with and without a meta row and
  // an erasure mark: each part read is the whole of it, and nothing else is read.
  for (int parts = 0; parts < 8; ++parts) {
    for (const bool erased : {false, true}) {
      const bool key = parts & 1, with_history = parts & 2, with_fields = parts & 4;
      CAPTURE(parts);
      CAPTURE(erased);
      const std::string_view meta = erased ? "" : "policy.version";
      const auto read = must(s.read_customer(CustomerReadRequest{
          ann, erased ? "tag-9" : "tag-1", key, with_history,
          with_fields ? std::span<const std::string_view>(asked) : std::span<const std::string_view>(),
          meta}));
      CHECK(read.erased_at.has_value() == erased);
      if (erased) CHECK(*read.erased_at == at(4242));
      CHECK(read.meta.has_value() == !erased);
      if (!erased) CHECK(*read.meta == b("4"));
      REQUIRE(read.key.has_value() == key);
      if (key) {
        CHECK(read.key->version == 3);
        CHECK(read.key->wrapped == b("wrapped-ann"));
      }
      check_same_history(read.history, with_history ? history : std::vector<ConsentEvent>{});
      check_same_fields(read.fields, with_fields ? fields : std::vector<StoredField>{});
    }
  }
}

TEST_CASE_TEMPLATE("read_customer reports the erasure mark of the tag and finds nothing of the erased", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(StoredField{"C-1", "email", b("sealed"), "web-signup", at(1700000000)}));
  must(s.append_consent(event_of("C-1", "offers", ConsentAction::grant, 1000)));
  must(s.erase_customer("C-1", "tag-1", at(4242)));
  const std::vector<std::string_view> email = {"email"};
  auto read = must(s.read_customer(CustomerReadRequest{"C-1", "tag-1", true, true, email, {}}));
  REQUIRE(read.erased_at.has_value());
  CHECK(*read.erased_at == at(4242));
  CHECK_FALSE(read.key.has_value());
  CHECK(read.history.empty());
  CHECK(read.fields.empty());
  // Another tag is not erased, and no tag reads no mark.
  CHECK_FALSE(must(s.read_customer(CustomerReadRequest{"C-1", "tag-2", false, false, {}, {}})).erased_at);
  CHECK_FALSE(must(s.read_customer(CustomerReadRequest{"C-1", "", false, false, {}, {}})).erased_at);
}

TEST_CASE_TEMPLATE("read_customer with no tag reads no erasure mark and the rest as with one", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(StoredField{"C-1", "email", b("sealed"), "web-signup", at(1700000000)}));
  must(s.put_field(StoredField{"C-1", "phone", b("sealed-phone"), "web-signup", at(1700000000)}));
  must(s.append_consent(event_of("C-1", "offers", ConsentAction::grant, 1000)));
  const std::vector<std::string_view> email = {"email"};
  auto with_tag = must(s.read_customer(CustomerReadRequest{"C-1", "tag-1", true, true, email, {}}));
  auto without = must(s.read_customer(CustomerReadRequest{"C-1", "", true, true, email, {}}));
  CHECK_FALSE(without.erased_at.has_value());
  REQUIRE(without.key.has_value());
  CHECK(without.key->wrapped == with_tag.key->wrapped);
  check_same_history(without.history, with_tag.history);
  check_same_fields(without.fields, with_tag.fields);
  REQUIRE(without.fields.size() == 1);
  CHECK(without.fields[0].field == "email");
}

TEST_CASE_TEMPLATE("read_customer is refused inside a transaction, which stays usable", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  auto tx = must(Transaction::start(s));
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  auto refused = s.read_customer(CustomerReadRequest{"C-1", "tag-1", true, false, {}, {}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::internal);
  must(tx.commit());
  CHECK(must(s.read_customer(CustomerReadRequest{"C-1", "tag-1", true, false, {}, {}})).key.has_value());
}

namespace {

// another_store opens a second connection to the backend's store, as another process would.
std::unique_ptr<Store> another_store(const test::SqliteBackend& b) {
  return must(open_sqlite_store(b.file, StoreMode::open));
}
std::unique_ptr<Store> another_store(const test::PostgresBackend& b) {
  return must(open_postgres_store(b.url, StoreMode::open));
}

}  // namespace

TEST_CASE_TEMPLATE(
    "read_customer with in_snapshot reads in the caller's snapshot, one committed state for many", B,
    STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* c : {"C-1", "C-2"}) {
    must(s.put_key(StoredKey{c, 1, b(std::string("wrapped-") + c)}));
    must(s.put_field(StoredField{c, "email", b(std::string("sealed-") + c), "web", at(1700000000)}));
    must(s.append_consent(event_of(c, "offers", ConsentAction::grant, 1000)));
  }
  const std::vector<std::string_view> email{"email"};
  auto request = [&](std::string_view customer, bool in_snapshot) {
    CustomerReadRequest r{customer, "tag", true, true, email, {}};
    r.in_snapshot = in_snapshot;
    return r;
  };
  const CustomerRead alone = must(s.read_customer(request("C-2", false)));
  {
    auto snapshot = must(ReadSnapshot::open(s));
    const CustomerRead first = must(s.read_customer(request("C-1", true)));
    CHECK(first.key->wrapped == b("wrapped-C-1"));
    if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
      // Another connection withdraws C-2's consent and replaces the value between the two reads:
      // the second read, in the same snapshot, sees neither.
      auto other = another_store(backend);
      must(other->append_consent(event_of("C-2", "offers", ConsentAction::withdraw, 1001)));
      must(other->put_field(StoredField{"C-2", "email", b("sealed-new"), "web", at(1700000001)}));
    }
    const CustomerRead second = must(s.read_customer(request("C-2", true)));
    check_same_history(second.history, alone.history);
    check_same_fields(second.fields, alone.fields);
    if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
      // Without in_snapshot the read is refused inside the snapshot, which stays usable.
      auto refused = s.read_customer(request("C-1", false));
      REQUIRE_FALSE(refused.ok());
      CHECK(refused.err().code == errc::internal);
    }
    CHECK(must(s.read_customer(request("C-1", true))).fields.size() == 1);
  }
  if constexpr (!std::is_same_v<B, test::MemoryBackend>) {
    // After the snapshot the other connection's writes are read; in_snapshot with no snapshot
    // open is refused.
    const CustomerRead after = must(s.read_customer(request("C-2", false)));
    CHECK(after.history.size() == 2);
    REQUIRE(after.fields.size() == 1);
    CHECK(after.fields[0].sealed == b("sealed-new"));
    auto refused = s.read_customer(request("C-2", true));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::internal);
  }
}
