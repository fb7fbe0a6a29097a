// vault_bulk_read_test.cpp: Accessor::read_each reads many customers as read() reads each one,
// logs one entry per customer, commits a batch's entries before any of its values is handed out,
// and lets a withdrawal or erasure committed mid-walk decide the customers read after it.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/injected_faults.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
using consentry::test::count_action;

namespace {

constexpr std::string_view kPassphrase = "bulk read passphrase";

VaultOptions quick_options(AuditMode audit = AuditMode::durable) {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.audit = audit;
  return o;
}

/// customers_named gives C-00 … C-(n-1), each with an email and (for even ones) a birth date.
std::vector<std::string> customers_named(Vault& v, int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    std::string id = "C-" + std::string(i < 10 ? "0" : "") + std::to_string(i);
    REQUIRE(v.put(id, "email", "person" + std::to_string(i) + "@example.com").ok());
    if (i % 2 == 0) REQUIRE(v.put(id, "birth_date", "1980-01-0" + std::to_string(1 + i % 9)).ok());
    ids.push_back(std::move(id));
  }
  return ids;
}

/// reads_of counts the entries naming reads of fields (field_read) in the log.
std::size_t reads_of(const Vault& v) {
  return count_action(v, AuditAction::field_read);
}

const std::vector<std::string_view> kFields{"email", "birth_date"};

}  // namespace

TEST_CASE("read_each answers every customer as read() does, with one entry each and no view") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  const std::vector<std::string> ids = customers_named(v, 7);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());

  std::vector<std::string> seen;
  std::vector<std::vector<std::string>> values;
  BulkReadOptions options;
  options.batch = 3;
  std::vector<std::int64_t> progress;
  options.on_batch = [&](std::int64_t done, std::int64_t total) {
    CHECK(total == 7);
    progress.push_back(done);
  };
  auto done = as->read_each(
      ids, "analytics", kFields,
      [&](const std::string& customer, CustomerAnswer& answer) -> result<void> {
        REQUIRE_MESSAGE(answer.ok(), answer.err().message);
        seen.push_back(customer);
        std::vector<std::string> row;
        for (auto& f : *answer) row.push_back(f ? f->value : std::string(to_string(f.err().code)));
        values.push_back(std::move(row));
        return ok();
      },
      options);
  REQUIRE_MESSAGE(done.ok(), done.err().message);
  CHECK(*done == 7);
  CHECK(seen == ids);
  CHECK(progress == std::vector<std::int64_t>{3, 6, 7});
  CHECK(reads_of(v) == 7);
  CHECK(count_action(v, AuditAction::view_opened) == 0);

  // The same answers as one read() per customer.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto one = as->read(ids[i], "analytics", kFields);
    REQUIRE(one.ok());
    std::vector<std::string> row;
    for (auto& f : *one) row.push_back(f ? f->value : std::string(to_string(f.err().code)));
    CHECK(row == values[i]);
  }
  CHECK(values[1][1] == "not_found");  // an odd customer has no birth date
  CHECK(values[0][1] == "1980");       // generalised to the year for analytics
}

TEST_CASE("read_each commits a batch's entries before it hands out any of its values") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  const std::vector<std::string> ids = customers_named(v, 6);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());
  std::vector<std::size_t> logged_when_handed;
  BulkReadOptions options;
  options.batch = 4;
  auto done = as->read_each(
      ids, "analytics", kFields,
      [&](const std::string&, CustomerAnswer&) -> result<void> {
        logged_when_handed.push_back(reads_of(v));
        return ok();
      },
      options);
  REQUIRE_MESSAGE(done.ok(), done.err().message);
  // The whole first batch is in the log when its first customer is handed out, and the second
  // batch is logged before its customers are.
  CHECK(logged_when_handed == std::vector<std::size_t>{4, 4, 4, 4, 6, 6});
}

TEST_CASE("read_each lets a withdrawal or erasure made mid-walk decide the customers read after it") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  const std::vector<std::string> ids = customers_named(v, 6);
  for (const std::string& id : ids)
    REQUIRE(v.record_consent(id, "marketing.email", ConsentAction::grant).ok());
  auto as = v.accessor("email-campaigns");
  REQUIRE(as.ok());
  std::vector<std::string> answers;
  BulkReadOptions options;
  options.batch = 2;
  const std::vector<std::string_view> email{"email"};
  auto done = as->read_each(
      ids, "marketing.email", email,
      [&](const std::string& customer, CustomerAnswer& answer) -> result<void> {
        if (!answer) {
          answers.push_back(std::string(to_string(answer.err().code)));
        } else if (!answer->front()) {
          answers.push_back(std::string(to_string(answer->front().err().reason)));
        } else {
          answers.push_back("read");
        }
        // While the first batch is handed out, C-03 withdraws (its batch is read after this)
        // and C-05 is erased; C-01, in this batch, withdraws after it was read.
        if (customer == "C-00") {
          REQUIRE(v.record_consent("C-03", "marketing.email", ConsentAction::withdraw).ok());
          REQUIRE(v.record_consent("C-01", "marketing.email", ConsentAction::withdraw).ok());
          REQUIRE(v.erase("C-05").ok());
        }
        return ok();
      },
      options);
  REQUIRE_MESSAGE(done.ok(), done.err().message);
  CHECK(answers == std::vector<std::string>{"read", "read", "read", "withdrawn", "read", "erased"});
  CHECK(count_action(v, AuditAction::access_denied) == 2);
}

TEST_CASE("read_each answers a bad customer id or a refusal for that customer alone") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  customers_named(v, 2);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());
  const std::vector<std::string> ids{"C-00", "", "C-01"};
  std::vector<std::string> codes;
  auto done = as->read_each(ids, "analytics", kFields, [&](const std::string&, CustomerAnswer& answer) {
    codes.push_back(answer ? "ok" : std::string(to_string(answer.err().code)));
    return ok();
  });
  REQUIRE(done.ok());
  CHECK(codes == std::vector<std::string>{"ok", "invalid_argument", "ok"});
  CHECK(reads_of(v) == 2);

  // An accessor not registered for the purpose is refused per customer, and each refusal logged.
  codes.clear();
  auto support = v.accessor("support-desk");
  REQUIRE(support.ok());
  const std::vector<std::string> two{"C-00", "C-01"};
  done = support->read_each(two, "analytics", kFields, [&](const std::string&, CustomerAnswer& answer) {
    codes.push_back(answer ? "ok" : std::string(to_string(answer.err().reason)));
    return ok();
  });
  REQUIRE(done.ok());
  CHECK(codes == std::vector<std::string>{"accessor_not_registered", "accessor_not_registered"});
  CHECK(count_action(v, AuditAction::access_denied) == 2);
}

TEST_CASE("read_each stops at the error its callback returns, and refuses bad options") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  const std::vector<std::string> ids = customers_named(v, 5);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());
  int calls = 0;
  auto stopped = as->read_each(ids, "analytics", kFields, [&](const std::string& customer, CustomerAnswer&) {
    ++calls;
    return customer == "C-02" ? result<void>(make_error(errc::io, "the caller's disk is full")) : ok();
  });
  REQUIRE(!stopped.ok());
  CHECK(stopped.err().message == "the caller's disk is full");
  CHECK(calls == 3);

  auto none = as->read_each(ids, "analytics", {}, [](const std::string&, CustomerAnswer&) { return ok(); });
  REQUIRE(!none.ok());
  CHECK(none.err().code == errc::bad_input);
  BulkReadOptions zero;
  zero.batch = 0;
  auto empty = as->read_each(
      ids, "analytics", kFields, [](const std::string&, CustomerAnswer&) { return ok(); }, zero);
  REQUIRE(!empty.ok());
  CHECK(empty.err().code == errc::invalid_argument);
}

TEST_CASE("read_each shares one durable commit among a batch's entries") {
  test::TempDir dir;
  auto made = Vault::create(dir.path() / "crm.vault", test::retail_policy(), kPassphrase, quick_options());
  REQUIRE(made.ok());
  Vault v = std::move(*made);
  const std::vector<std::string> ids = customers_named(v, 40);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());
  auto syncs_of = [&](auto&& work) {
    test::FaultPlan plan;
    plan.ops = test::FileOp::file_sync;
    test::InjectedFaults counting(plan);
    work();
    return plan.seen.load();
  };
  const std::int64_t one_by_one = syncs_of([&] {
    for (const std::string& id : ids) REQUIRE(as->read(id, "analytics", kFields).ok());
  });
  BulkReadOptions options;
  options.batch = 20;
  const std::int64_t bulk = syncs_of([&] {
    auto done = as->read_each(
        ids, "analytics", kFields, [](const std::string&, CustomerAnswer&) { return ok(); }, options);
    REQUIRE(done.ok());
  });
  CHECK(one_by_one >= 40);
  CHECK(bulk * 10 <= one_by_one);
}

TEST_CASE("read_each hands out nothing of a batch whose entries cannot be committed") {
  test::TempDir dir;
  auto made = Vault::create(dir.path() / "crm.vault", test::retail_policy(), kPassphrase, quick_options());
  REQUIRE(made.ok());
  Vault v = std::move(*made);
  const std::vector<std::string> ids = customers_named(v, 6);
  auto as = v.accessor("bi-dashboard");
  REQUIRE(as.ok());
  const std::size_t logged_before = reads_of(v);
  int handed = 0;
  {
    test::FaultPlan plan;
    plan.ops = test::FileOp::file_write | test::FileOp::file_sync;
    plan.fail_at = 1;
    plan.persistent = true;
    test::InjectedFaults failing(plan);
    BulkReadOptions options;
    options.batch = 3;
    auto done = as->read_each(
        ids, "analytics", kFields,
        [&](const std::string&, CustomerAnswer&) {
          ++handed;
          return ok();
        },
        options);
    REQUIRE(!done.ok());
    CHECK(done.err().code == errc::io);
  }
  CHECK(handed == 0);
  CHECK(reads_of(v) == logged_before);
}
