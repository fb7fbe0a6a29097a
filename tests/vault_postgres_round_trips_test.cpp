// vault_postgres_round_trips_test.cpp: what a read costs in round trips to the PostgreSQL server
// (detail::PostgresStore::round_trips_in_process: the vault's own connection and its readers
// together): once the vault has followed the store, view() is one, a view's read one, and
// Accessor::read one for both, whatever other connections commit to the ledger; a policy version
// put in force by another connection costs the next read a snapshot in which the policy is
// followed, and nothing is missed. Audit off, so that only the read's own requests are counted;
// nothing else in the process talks to the server while a call is counted.
#include <doctest/doctest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "store/postgres_store.hpp"
#include "support/anonymise_policy.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/postgres_scratch.hpp"
#include "support/retail_policy.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::must;
using consentry::test::ScratchSchema;

namespace {

// CountedVault is a vault on a PostgreSQL store whose round trips the test reads: on its own
// connection with `max_readers` 0, else mostly on its readers.
struct CountedVault {
  PostgresStore* store = nullptr;
  Vault vault;

  static CountedVault create(const ScratchSchema& schema, Policy policy = test::retail_policy(),
                             std::size_t max_readers = VaultOptions{}.max_readers) {
    auto made = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
    PostgresStore* raw = made.get();
    VaultOptions options = test::test_vault_options();
    options.audit = AuditMode::off;
    options.max_readers = max_readers;
    return CountedVault{
        raw, must(Vault::create_in(std::move(made), std::move(policy), test::kTestPassphrase, options))};
  }
  /// cost runs `call` and gives the round trips it took, on every connection of the process.
  template <class F>
  std::uint64_t cost(F&& call) {
    const std::uint64_t before = PostgresStore::round_trips_in_process();
    call();
    return PostgresStore::round_trips_in_process() - before;
  }
  /// own_cost runs `call` and gives the round trips it took on the vault's own connection.
  template <class F>
  std::uint64_t own_cost(F&& call) {
    const std::uint64_t before = store->round_trips();
    call();
    return store->round_trips() - before;
  }
};

}  // namespace

TEST_CASE("postgres: a read through a view, or in one call, is one round trip per call") {
  // On a reader (the default), and on the vault's own connection (no reader allowed).
  for (std::size_t max_readers : {VaultOptions{}.max_readers, std::size_t{0}}) {
    CAPTURE(max_readers);
    ScratchSchema schema;
    CountedVault c = CountedVault::create(schema, test::retail_policy(), max_readers);
    must(c.vault.put("C-1", "email", "ann@example.com"));
    must(c.vault.put("C-1", "phone", "+44 7700 900123"));
    auto desk = must(c.vault.accessor("support-desk"));
    // The first read and view follow the store (the policy, the data key, the preparation of
    // each statement, one a view's opening and one a read), and open the reader.
    must(desk.read("C-1", "service", {"email"}));
    must(desk.view("C-1", "service"));

    CHECK(c.cost([&] { must(desk.read("C-1", "service", {"email", "phone"})); }) == 1);
    std::optional<View> view;
    CHECK(c.cost([&] { view = must(desk.view("C-1", "service")); }) == 1);
    CHECK(c.cost([&] { must(view->read({"email", "phone"})); }) == 1);
    CHECK(c.cost([&] { must(view->get("email")); }) == 1);
    // A refusal costs no more: it is decided from the same request.
    CHECK(c.cost([&] { CHECK_FALSE(desk.read("C-1", "analytics", {"email"}).ok()); }) == 1);
    // With a reader, the read leaves the vault's own connection alone.
    CHECK(c.own_cost([&] { must(desk.read("C-1", "service", {"email"})); }) == (max_readers == 0 ? 1 : 0));
  }
}

TEST_CASE(
    "postgres: another connection's consent is decided on in the one request; its policy in a snapshot") {
  ScratchSchema schema;
  CountedVault c = CountedVault::create(schema);
  must(c.vault.put("C-1", "email", "ann@example.com"));
  auto campaigns = must(c.vault.accessor("email-campaigns"));
  auto other = must(Vault::open(test::with_schema(schema.url, schema.name), test::kTestPassphrase,
                                test::test_vault_options()));
  must(other.record_consent("C-1", "marketing.email", ConsentAction::grant));
  must(campaigns.read("C-1", "marketing.email", {"email"}));
  CHECK(c.cost([&] { must(campaigns.read("C-1", "marketing.email", {"email"})); }) == 1);

  // The one request reads the ledger as committed now and the policy version with it: another
  // connection's withdrawal costs the next read nothing more, and decides it.
  must(other.record_consent("C-1", "marketing.email", ConsentAction::withdraw));
  std::vector<result<FieldValue>> got;
  CHECK(c.cost([&] { got = must(campaigns.read("C-1", "marketing.email", {"email"})); }) == 1);
  REQUIRE(got.size() == 1);
  REQUIRE_FALSE(got[0].ok());
  CHECK(got[0].err().reason == deny_reason::withdrawn);

  // A policy version another connection puts in force is seen in that request: the read is made
  // again in a snapshot that follows the policy first, and is decided under the new version.
  must(other.record_consent("C-1", "marketing.email", ConsentAction::grant));
  auto j = nlohmann::json::parse(test::kRetailPolicy);
  j["fields"][0]["access"].erase("marketing.email");
  must(other.update_policy(must(Policy::parse(j.dump(), "no email for campaigns"))));
  CHECK(c.cost([&] { got = must(campaigns.read("C-1", "marketing.email", {"email"})); }) > 1);
  REQUIRE(got.size() == 1);
  REQUIRE_FALSE(got[0].ok());
  CHECK(got[0].err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(c.vault.policy_version() == 2);
  CHECK(c.cost([&] { (void)campaigns.read("C-1", "marketing.email", {"email"}); }) == 1);
}

TEST_CASE("postgres: writing many customers' indexed values costs no round trip per index entry") {
  ScratchSchema schema;
  auto j = nlohmann::json::parse(test::kRetailPolicy);
  j["fields"][0]["lookup"] = nlohmann::json::array({"service"});
  CountedVault c = CountedVault::create(schema, must(Policy::parse(j.dump(), "lookup")));
  auto records = [](int first, int count) {
    std::vector<Record> out;
    for (int i = first; i < first + count; ++i)
      out.push_back(
          Record{"C-" + std::to_string(i), "", {}, {{"email", "c" + std::to_string(i) + "@example.com"}}});
    return out;
  };
  must(c.vault.write(records(0, 5)));
  // Keys, values and index entries are queued and sent a batch of each per transaction, so that
  // 120 customers cost what 20 do.
  const std::uint64_t few = c.cost([&] { must(c.vault.write(records(100, 20))); });
  const std::uint64_t many = c.cost([&] { must(c.vault.write(records(200, 120))); });
  CHECK(many <= few + 1);
  auto desk = must(c.vault.accessor("support-desk"));
  CHECK(must(desk.find("service", "email", "c250@example.com")) == std::vector<std::string>{"C-250"});
  CHECK(must(desk.find("service", "email", "c110@example.com")) == std::vector<std::string>{"C-110"});
}

TEST_CASE("postgres: a bulk read costs round trips per run of customers, not per customer") {
  ScratchSchema schema;
  CountedVault c = CountedVault::create(schema);
  std::vector<Record> records;
  std::vector<std::string> ids;
  for (int i = 0; i < 128; ++i) {
    ids.push_back("C-" + std::to_string(i));
    records.push_back(Record{ids.back(), "", {}, {{"email", "c" + std::to_string(i) + "@example.com"}}});
  }
  must(c.vault.write(records));
  auto desk = must(c.vault.accessor("support-desk"));
  must(desk.read("C-0", "service", {"email"}));
  const std::vector<std::string_view> email{"email"};
  std::vector<std::string> got;
  const std::uint64_t cost = c.cost([&] {
    must(desk.read_each(ids, "service", email,
                        [&](const std::string&, CustomerAnswer& answer) -> result<void> {
                          got.push_back(must(std::move(must(std::move(answer)).front())).value);
                          return ok();
                        }));
  });
  // Each run of customers is read in one snapshot with one request: 128 customers cost a few
  // round trips, where one request each cost at least 128.
  CHECK(cost < ids.size() / 8);
  REQUIRE(got.size() == ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) CHECK(got[i] == "c" + std::to_string(i) + "@example.com");
}

TEST_CASE("postgres: a private aggregate costs round trips per run of customers, not per customer") {
  ScratchSchema schema;
  CountedVault c = CountedVault::create(schema, test::anonymise_policy());
  std::vector<Record> records;
  for (int i = 0; i < 600; ++i)
    records.push_back(Record{"C-" + std::to_string(i), "", {}, {{"income", std::to_string(i % 1000)}}});
  must(c.vault.write(records));
  AggregateQuery q;
  q.kind = AggregateKind::count;
  q.epsilon = 100000;  // noise negligible: the count is exact
  q.lo = 0;
  q.hi = 1000;
  std::optional<PrivateAnswer> answer;
  const std::uint64_t cost =
      c.cost([&] { answer = must(c.vault.private_aggregate("research", "income", q)); });
  // Each run of customers is read with one request (their history, key and value): 600
  // customers cost a few round trips, where reading each alone cost at least 600.
  CHECK(cost < records.size() / 8);
  CHECK(*answer->count == 600);
}
