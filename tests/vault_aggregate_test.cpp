// vault_aggregate_test.cpp: private aggregates count only the customers a purpose may use, clamp
// their values, are paid for from the purpose's privacy budget (refused once it is spent, with
// nothing charged for a refused or failed query), and are audited without naming a customer.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>

#include "consentry/vault.hpp"
#include "support/anonymise_policy.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/must.hpp"
#include "support/seeded_random.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::count_action;

namespace {

VaultOptions options() {
  VaultOptions o = test::test_vault_options(AuditMode::durable, "analyst");
  o.random = std::make_shared<test::SeededRandom>(std::uint64_t{7});
  return o;
}

// A query whose noise is negligible: at epsilon 10^5 and sensitivity up to 10^3 the discrete
// Laplace scale is 0.01, and a draw other than 0 has probability about 2e^-100.
AggregateQuery exact(AggregateKind kind, std::int64_t lo = 0, std::int64_t hi = 1000) {
  AggregateQuery q;
  q.kind = kind;
  q.epsilon = 100000;
  q.lo = lo;
  q.hi = hi;
  return q;
}

AggregateQuery small(AggregateKind kind, double epsilon) {
  AggregateQuery q;
  q.kind = kind;
  q.epsilon = epsilon;
  q.lo = 0;
  q.hi = 1000;
  return q;
}

}  // namespace

TEST_CASE("an aggregate counts the customers the purpose may use and clamps their values") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::anonymise_policy(), test::kTestPassphrase, options());
  // research rests on legitimate interest: everyone counts but a customer who objected.
  REQUIRE(v.put("C-1", "income", "100").ok());
  REQUIRE(v.put("C-2", "income", "250").ok());
  REQUIRE(v.put("C-3", "income", "5000").ok());  // clamped to 1000
  REQUIRE(v.put("C-4", "income", "-40").ok());   // clamped to 0
  REQUIRE(v.put("C-5", "income", "700").ok());
  REQUIRE(v.put("C-6", "city", "Leeds").ok());  // no income: not counted
  REQUIRE(v.record_consent("C-5", "research", ConsentAction::object).ok());

  auto count = v.private_aggregate("research", "income", exact(AggregateKind::count));
  REQUIRE_MESSAGE(count.ok(), count.err().message);
  CHECK(*count->count == 4);
  auto sum = v.private_aggregate("research", "income", exact(AggregateKind::sum));
  REQUIRE(sum.ok());
  CHECK(*sum->sum == 100 + 250 + 1000 + 0);
  auto mean = v.private_aggregate("research", "income", exact(AggregateKind::mean));
  REQUIRE(mean.ok());
  CHECK(*mean->mean == doctest::Approx(1350.0 / 4));
  AggregateQuery h = exact(AggregateKind::histogram, 0, 999);
  h.bins = 4;  // 0-249, 250-499, 500-749, 750-999
  auto hist = v.private_aggregate("research", "income", h);
  REQUIRE(hist.ok());
  REQUIRE(hist->bins.size() == 4);
  CHECK(hist->bins[0].count == 2);  // 100, and -40 clamped to 0
  CHECK(hist->bins[1].count == 1);  // 250
  CHECK(hist->bins[2].count == 0);
  CHECK(hist->bins[3].count == 1);  // 5000 clamped to 999

  // Withdrawing takes effect at once: marketing rests on consent, so only live grants count.
  REQUIRE(v.record_consent("C-1", "marketing", ConsentAction::grant).ok());
  REQUIRE(v.record_consent("C-2", "marketing", ConsentAction::grant).ok());
  auto before = v.private_aggregate("marketing", "income", exact(AggregateKind::sum));
  REQUIRE(before.ok());
  CHECK(*before->sum == 350);
  REQUIRE(v.record_consent("C-2", "marketing", ConsentAction::withdraw).ok());
  auto after = v.private_aggregate("marketing", "income", exact(AggregateKind::sum));
  REQUIRE(after.ok());
  CHECK(*after->sum == 100);

  // Inferred values count only for customers who consent to profiling.
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant).ok());
  REQUIRE(v.derive("C-1", "churn_risk", "3").ok());
  REQUIRE(v.record_consent("C-2", "profiling", ConsentAction::grant).ok());
  REQUIRE(v.derive("C-2", "churn_risk", "5").ok());
  REQUIRE(v.record_consent("C-2", "profiling", ConsentAction::withdraw).ok());
  auto inferred = v.private_aggregate("research", "churn_risk", exact(AggregateKind::sum));
  REQUIRE(inferred.ok());
  CHECK(*inferred->sum == 3);
}

TEST_CASE("the privacy budget is spent query by query and refuses once it cannot pay") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::anonymise_policy(), test::kTestPassphrase, options());
  REQUIRE(v.put("C-1", "income", "100").ok());
  // analytics has a budget of 1.0.
  CHECK(v.privacy_budget("analytics")->spent == 0);
  REQUIRE(v.private_aggregate("analytics", "income", small(AggregateKind::sum, 0.4)).ok());
  REQUIRE(v.private_aggregate("analytics", "income", small(AggregateKind::count, 0.4)).ok());
  CHECK(v.privacy_budget("analytics")->spent == doctest::Approx(0.8));
  CHECK(v.privacy_budget("analytics")->total == 1.0);
  const std::size_t made = count_action(v, AuditAction::aggregate_made);
  CHECK(made == 2);

  // 0.8 + 0.3 > 1.0: refused, audited, and nothing charged.
  auto refused = v.private_aggregate("analytics", "income", small(AggregateKind::sum, 0.3));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::denied);
  CHECK(refused.err().reason == deny_reason::privacy_budget_spent);
  CHECK(v.privacy_budget("analytics")->spent == doctest::Approx(0.8));
  CHECK(count_action(v, AuditAction::aggregate_made) == made);
  // Exactly what is left still pays.
  REQUIRE(v.private_aggregate("analytics", "income", small(AggregateKind::count, 0.2)).ok());
  CHECK(v.privacy_budget("analytics")->spent == doctest::Approx(1.0));
  CHECK_FALSE(v.private_aggregate("analytics", "income", small(AggregateKind::count, 0.000001)).ok());
  // Another purpose has its own budget.
  CHECK(v.private_aggregate("research", "income", small(AggregateKind::count, 0.5)).ok());

  auto entries = v.audit_entries();
  REQUIRE(entries.ok());
  for (const AuditEntry& e : *entries) {
    if (e.action != AuditAction::aggregate_made) continue;
    CHECK(e.customer.empty());
    CHECK(e.accessor == "analyst");
    REQUIRE(e.fields.size() == 1);
  }
}

TEST_CASE("a refused or failed aggregate charges nothing and decrypts nothing it need not") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::anonymise_policy(), test::kTestPassphrase, options());
  REQUIRE(v.put("C-1", "income", "100").ok());
  REQUIRE(v.put("C-1", "city", "Leeds").ok());
  auto spent = [&] { return v.privacy_budget("analytics")->spent; };

  // A sum of text, and a purpose that sees a field only generalised, cannot give values.
  auto text = v.private_aggregate("analytics", "city", small(AggregateKind::sum, 0.1));
  REQUIRE_FALSE(text.ok());
  CHECK(text.err().reason == deny_reason::form_unavailable);
  auto bucketed = v.private_aggregate("billing", "income", small(AggregateKind::sum, 0.1));
  REQUIRE_FALSE(bucketed.ok());
  CHECK(bucketed.err().reason == deny_reason::form_unavailable);
  // ...but they can be counted.
  CHECK(v.private_aggregate("analytics", "city", small(AggregateKind::count, 0.1)).ok());
  CHECK(spent() == doctest::Approx(0.1));
  // No form for the purpose at all.
  auto none = v.private_aggregate("analytics", "churn_risk", small(AggregateKind::count, 0.1));
  REQUIRE_FALSE(none.ok());
  CHECK(none.err().reason == deny_reason::purpose_not_allowed_for_field);
  // Bad parameters and undeclared names.
  AggregateQuery inverted = small(AggregateKind::sum, 0.1);
  inverted.lo = 10;
  inverted.hi = 0;
  CHECK(v.private_aggregate("analytics", "income", inverted).err().code == errc::invalid_argument);
  CHECK(v.private_aggregate("analytics", "income", small(AggregateKind::sum, 0)).err().code ==
        errc::invalid_argument);
  CHECK(v.private_aggregate("analytics", "income", small(AggregateKind::sum, -1)).err().code ==
        errc::invalid_argument);
  CHECK(v.private_aggregate("nope", "income", small(AggregateKind::sum, 0.1)).err().code == errc::bad_input);
  CHECK(v.private_aggregate("analytics", "nope", small(AggregateKind::sum, 0.1)).err().code ==
        errc::bad_input);
  CHECK(v.privacy_budget("nope").err().code == errc::bad_input);
  CHECK(spent() == doctest::Approx(0.1));
}

TEST_CASE("a value moved to another customer's row fails the aggregate, which releases and charges nothing") {
  test::TempDir dir;
  auto created =
      Vault::create(dir.path() / "crm.vault", test::anonymise_policy(), test::kTestPassphrase, options());
  REQUIRE(created.ok());
  Vault& v = *created;
  REQUIRE(v.put("C-1", "income", "100").ok());
  REQUIRE(v.put("C-2", "income", "900").ok());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "crm.vault").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "UPDATE fields SET sealed = (SELECT sealed FROM fields WHERE customer = 'C-2' AND "
                         "field = 'income') WHERE customer = 'C-1' AND field = 'income'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto r = v.private_aggregate("analytics", "income", small(AggregateKind::sum, 0.5));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
  CHECK(v.privacy_budget("analytics")->spent == 0);
  // A count decrypts nothing, but checks every value against its customer's list of values,
  // which a moved row fails too.
  auto count = v.private_aggregate("analytics", "income", small(AggregateKind::count, 0.5));
  REQUIRE_FALSE(count.ok());
  CHECK(count.err().code == errc::integrity);
  CHECK(v.privacy_budget("analytics")->spent == 0);
}

TEST_CASE("the spent budget is kept in the vault across openings") {
  test::TempDir dir;
  const auto file = dir.path() / "crm.vault";
  {
    auto created = Vault::create(file, test::anonymise_policy(), test::kTestPassphrase, options());
    REQUIRE(created.ok());
    Vault& v = *created;
    REQUIRE(v.put("C-1", "income", "100").ok());
    REQUIRE(v.private_aggregate("analytics", "income", small(AggregateKind::sum, 0.75)).ok());
  }
  auto v = Vault::open(file, test::kTestPassphrase, options());
  REQUIRE(v.ok());
  CHECK(v->privacy_budget("analytics")->spent == doctest::Approx(0.75));
  CHECK(v->private_aggregate("analytics", "income", small(AggregateKind::sum, 0.5)).err().reason ==
        deny_reason::privacy_budget_spent);
  // The charges are append-only: an attempt to refund them in the file is refused.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "DELETE FROM privacy_spends", nullptr, nullptr, nullptr) != SQLITE_OK);
  CHECK(sqlite3_exec(db, "UPDATE privacy_spends SET micro_epsilon = 1", nullptr, nullptr, nullptr) !=
        SQLITE_OK);
  sqlite3_close(db);
}

TEST_CASE("an aggregate reports its progress over the eligible customers, and the count it gives") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::anonymise_policy(), test::kTestPassphrase, options());
  // 2,100 customers with an income, and one who objects: 2,100 eligible for research.
  std::vector<Record> records;
  for (int i = 0; i < 2101; ++i)
    records.push_back(Record{"C-" + std::to_string(10000 + i), "", std::nullopt, {{"income", "100"}}, 0});
  REQUIRE(v.write(records).ok());
  REQUIRE(v.record_consent("C-10000", "research", ConsentAction::object).ok());
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  auto count =
      v.private_aggregate("research", "income", exact(AggregateKind::count),
                          [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); });
  REQUIRE_MESSAGE(count.ok(), count.err().message);
  CHECK(*count->count == 2100);
  using Call = std::pair<std::int64_t, std::int64_t>;
  CHECK(calls == std::vector<Call>{{1024, 2100}, {2048, 2100}, {2100, 2100}});
  // A refusal before any customer is decided reports nothing.
  calls.clear();
  auto refused =
      v.private_aggregate("research", "city", exact(AggregateKind::sum),
                          [&](std::int64_t done, std::int64_t total) { calls.emplace_back(done, total); });
  CHECK_FALSE(refused.ok());
  CHECK(calls.empty());
}

TEST_CASE("an aggregate reads values whose keys another vault wrapped under a master key it never loaded") {
  test::TempDir dir;
  const std::filesystem::path location = test::shared_location(dir);
  Vault a = test::must(Vault::create(location, test::anonymise_policy(), test::kTestPassphrase, options()));
  Vault b = test::must(Vault::open(location, test::kTestPassphrase, options()));
  REQUIRE(a.put("C-1", "income", "100").ok());
  REQUIRE(a.put("C-2", "income", "250").ok());
  auto before = b.private_aggregate("research", "income", exact(AggregateKind::sum));
  REQUIRE_MESSAGE(before.ok(), before.err().message);
  CHECK(*before->sum == 350);
  // Every data key is wrapped anew under a version b has not loaded, and C-3's key is new.
  REQUIRE(a.rotate_master_key().ok());
  REQUIRE(a.put("C-3", "income", "600").ok());
  auto after = b.private_aggregate("research", "income", exact(AggregateKind::sum));
  REQUIRE_MESSAGE(after.ok(), after.err().message);
  CHECK(*after->sum == 950);
}
