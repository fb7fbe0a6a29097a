// vault_purge_test.cpp: values past retention are denied at read time, then purged in batches,
// each deletion audited; a purge killed with SIGKILL and run again leaves a consistent vault.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kActor = "retention-job";  // the audit log names it; tests check

using consentry::test::FakeClock;
using consentry::test::TempDir;

Vault each_store_vault(const FakeClock& clock, const TempDir& dir) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(clock, AuditMode::durable, kActor));
}

// retention is the retail policy's retention of email.
IsoDuration retention() {
  return *parse_iso_duration("P3Y");
}

// read_email reads a customer's email for service, as the support desk.
result<FieldValue> read_email(const Vault& v, const std::string& customer) {
  auto desk = v.accessor("support-desk");
  REQUIRE(desk.ok());
  auto view = desk->view(customer, "service");
  REQUIRE(view.ok());
  return view->get("email");
}

std::vector<AuditEntry> purge_entries(const Vault& v, const std::string& customer) {
  auto log = v.audit_entries(customer);
  REQUIRE(log.ok());
  std::vector<AuditEntry> out;
  for (const AuditEntry& e : *log)
    if (e.action == AuditAction::purge) out.push_back(e);
  return out;
}

bool holds_email(const Vault& v, const std::string& customer) {
  auto r = v.describe_subject(customer);
  REQUIRE(r.ok());
  return std::any_of(r->fields.begin(), r->fields.end(),
                     [](const HeldField& f) { return f.field == "email"; });
}

}  // namespace

TEST_CASE("a value one second past retention is denied, then purged, one a second short is kept") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  const timestamp now = *clock.t;
  // Ann's email reached the end of its retention one second ago; Bob's reaches it in one second.
  REQUIRE(v.put("C-ann", "email", "ann@example.com", "web", retention().before(now - 1s)).ok());
  REQUIRE(v.put("C-bob", "email", "bob@example.com", "web", retention().before(now + 1s)).ok());
  REQUIRE(v.put("C-ann", "phone", "+44 7700 900123", "web", retention().before(now - 24h * 400)).ok());

  auto denied = read_email(v, "C-ann");
  REQUIRE_FALSE(denied.ok());
  CHECK(denied.err().reason == deny_reason::retention_expired);
  CHECK(read_email(v, "C-bob").ok());

  auto dry = v.purge({.dry_run = true});
  REQUIRE_MESSAGE(dry.ok(), dry.err().message);
  CHECK(dry->values == 1);
  CHECK(holds_email(v, "C-ann"));            // a dry run deletes nothing ...
  CHECK(purge_entries(v, "C-ann").empty());  // ... and records nothing

  auto done = v.purge();
  REQUIRE_MESSAGE(done.ok(), done.err().message);
  CHECK(done->values == 1);
  CHECK(done->customers == 1);
  CHECK(done->complete);
  CHECK(done->fields == std::vector<std::pair<std::string, std::int64_t>>{{"email", 1}});
  CHECK_FALSE(holds_email(v, "C-ann"));
  auto gone = read_email(v, "C-ann");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::not_found);
  CHECK(read_email(v, "C-bob").ok());
  // The phone has no retention in the policy: kept however old.
  auto ann = v.describe_subject("C-ann");
  REQUIRE(ann.ok());
  REQUIRE(ann->fields.size() == 1);
  CHECK(ann->fields[0].field == "phone");

  const auto entries = purge_entries(v, "C-ann");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].fields == std::vector<std::string>{"email"});
  CHECK(entries[0].reason == "retention_expired");
  CHECK(entries[0].accessor == "retention-job");
  CHECK(purge_entries(v, "C-bob").empty());
  auto verified = v.verify_audit();
  REQUIRE(verified.ok());
  CHECK(verified->ok);

  // Nothing more to do until Bob's value runs out too.
  CHECK(v.purge()->values == 0);
  clock.advance(1s);
  CHECK_FALSE(read_email(v, "C-bob").ok());
  CHECK(v.purge()->values == 1);
  CHECK_FALSE(holds_email(v, "C-bob"));
}

TEST_CASE("a purge goes in batches and a stopped one goes on where it stopped") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  const timestamp old = retention().before(*clock.t - 24h);
  for (int i = 0; i < 7; ++i)
    REQUIRE(v.put("C-" + std::to_string(i), "email", "x@example.com", "web", old).ok());
  REQUIRE(v.put("C-new", "email", "new@example.com", "web", *clock.t).ok());

  std::vector<std::int64_t> progress;
  auto first =
      v.purge({.batch = 2, .max_batches = 2, .on_batch = [&](std::int64_t n) { progress.push_back(n); }});
  REQUIRE(first.ok());
  CHECK(first->values == 4);
  CHECK_FALSE(first->complete);
  CHECK(progress == std::vector<std::int64_t>{2, 4});
  auto rest = v.purge({.batch = 2});
  REQUIRE(rest.ok());
  CHECK(rest->values == 3);
  CHECK(rest->complete);
  for (int i = 0; i < 7; ++i) CHECK_FALSE(holds_email(v, "C-" + std::to_string(i)));
  CHECK(holds_email(v, "C-new"));
  CHECK(v.purge({.batch = 0}).err().code == errc::invalid_argument);
}

TEST_CASE("a purge killed with SIGKILL leaves a consistent vault, and running it again finishes") {
  TempDir dir;
  FakeClock clock;
  const fs::path file = dir.path() / "crm.vault";
  constexpr int kExpired = 300;
  constexpr int kFresh = 40;
  auto name = [](int i) { return "C-" + std::to_string(1000 + i); };
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(clock, AuditMode::off, kActor));
    REQUIRE(v.ok());
    std::vector<Record> records;
    for (int i = 0; i < kExpired + kFresh; ++i) {
      Record r;
      r.customer = name(i);
      r.source = "web";
      r.collected_at = i < kExpired ? retention().before(*clock.t - 1s) : *clock.t;
      r.fields = {{"email", "someone@example.com"}};
      records.push_back(std::move(r));
    }
    REQUIRE(v->write(records).ok());
  }
  // kill_after: batches the child reports before the parent kills it; the delay lets the kill
  // land inside a later batch's transaction rather than between two.
  const std::pair<int, int> kill_points[] = {{0, 0}, {2, 0}, {5, 400}, {12, 0}};
  for (const auto& [batches, delay] : kill_points) {
    const int kill_after = batches;  // CAPTURE cannot name a structured binding in clang 14
    const int delay_us = delay;
    CAPTURE(kill_after);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      int code = 0;
      {
        auto v = Vault::open(file, test::kTestPassphrase,
                             test::test_vault_options(clock, AuditMode::durable, kActor));
        if (!v) ::_exit(10);
        PurgeOptions options;
        options.batch = 7;
        options.on_batch = [&](std::int64_t) { (void)!::write(pipe_fds[1], "b", 1); };
        code = v->purge(options) ? 0 : 11;
      }
      ::_exit(code);
    }
    ::close(pipe_fds[1]);
    char c = 0;
    int seen = 0;
    while (seen < kill_after && ::read(pipe_fds[0], &c, 1) == 1) ++seen;
    if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    ::close(pipe_fds[0]);
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

    // Consistent: the log verifies, and every value is either still held or purged with an
    // entry, never both, never neither.
    auto v =
        Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock, AuditMode::durable, kActor));
    REQUIRE(v.ok());
    auto verified = v->verify_audit();
    REQUIRE(verified.ok());
    CHECK(verified->ok);
    for (int i = 0; i < kExpired; i += 13) {
      CAPTURE(name(i));
      CHECK(holds_email(*v, name(i)) != (purge_entries(*v, name(i)).size() == 1));
    }
  }
  auto v =
      Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock, AuditMode::durable, kActor));
  REQUIRE(v.ok());
  auto last = v->purge({.batch = 50});
  REQUIRE(last.ok());
  CHECK(last->complete);
  for (int i = 0; i < kExpired + kFresh; i += 11) {
    CAPTURE(name(i));
    CHECK(holds_email(*v, name(i)) == (i >= kExpired));
    CHECK(purge_entries(*v, name(i)).size() == (i < kExpired ? 1u : 0u));
  }
  CHECK(v->purge()->values == 0);
}
