// vault_audit_test.cpp: every access leaves an entry; entries commit with their data or not at
// all; concurrent appends lose nothing; a killed process leaves a chain that verifies.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <thread>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/files.hpp"
#include "support/injected_faults.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kActor = "test-suite";  // the audit log names it; tests check

using consentry::test::TempDir;

// FailingStore passes everything to a memory store but can refuse audit appends, to show that a
// data operation does not survive the loss of its entry.
class FailingStore : public Store {
 public:
  explicit FailingStore(std::shared_ptr<std::atomic<bool>> fail) : fail_(std::move(fail)) {}
  result<void> begin() override { return s_->begin(); }
  result<void> commit() override { return s_->commit(); }
  result<void> rollback() override { return s_->rollback(); }
  result<void> begin_unsynced() override { return s_->begin_unsynced(); }
  result<void> begin_read() override { return s_->begin_read(); }
  void end_read() noexcept override { s_->end_read(); }
  result<std::optional<bytes>> get_meta(std::string_view k) override { return s_->get_meta(k); }
  result<void> put_meta(std::string_view k, byte_view v) override { return s_->put_meta(k, v); }
  result<std::optional<StoredKey>> get_key(std::string_view c) override { return s_->get_key(c); }
  result<void> put_key(const StoredKey& k) override { return s_->put_key(k); }
  result<std::optional<StoredField>> get_field(std::string_view c, std::string_view f) override {
    return s_->get_field(c, f);
  }
  result<std::vector<StoredField>> get_fields(std::string_view c) override { return s_->get_fields(c); }
  result<void> put_field(const StoredField& f) override { return s_->put_field(f); }
  result<void> put_lookup(const StoredLookup& l) override { return s_->put_lookup(l); }
  result<void> delete_lookup(std::string_view c, std::string_view f) override {
    return s_->delete_lookup(c, f);
  }
  result<std::vector<std::string>> find_lookup(std::string_view f, std::uint32_t version,
                                               std::int64_t index) override {
    return s_->find_lookup(f, version, index);
  }
  result<std::vector<StoredLookup>> get_lookups(std::string_view c) override { return s_->get_lookups(c); }
  result<ConsentEvent> append_consent(const ConsentEvent& e) override { return s_->append_consent(e); }
  result<std::vector<ConsentEvent>> consent_history(std::string_view c) override {
    return s_->consent_history(c);
  }
  result<std::vector<ConsentEvent>> purpose_history(std::string_view p) override {
    return s_->purpose_history(p);
  }
  result<std::vector<std::string>> customers() override { return s_->customers(); }
  result<bool> knows(std::string_view c) override { return s_->knows(c); }
  result<std::optional<AuditHead>> audit_head() override { return s_->audit_head(); }
  result<void> append_audit(const std::vector<StoredAuditEntry>& e) override {
    if (*fail_) return make_error(errc::io, "append_audit: disk full");
    return s_->append_audit(e);
  }
  result<void> scan_audit(std::int64_t from, const std::function<bool(const StoredAuditEntry&)>& v) override {
    return s_->scan_audit(from, v);
  }
  result<std::vector<StoredAuditEntry>> audit_for_customer(std::string_view c) override {
    return s_->audit_for_customer(c);
  }
  result<void> put_checkpoint(const AuditCheckpoint& cp) override { return s_->put_checkpoint(cp); }
  result<std::vector<AuditCheckpoint>> checkpoints() override { return s_->checkpoints(); }
  result<std::vector<StoredKey>> data_keys_after(std::string_view a, std::size_t n) override {
    return s_->data_keys_after(a, n);
  }
  result<std::vector<std::pair<std::uint32_t, std::int64_t>>> data_key_versions() override {
    return s_->data_key_versions();
  }
  result<void> delete_meta(std::string_view k) override { return s_->delete_meta(k); }
  result<std::vector<FieldTime>> fields_collected_before(std::string_view field, timestamp before,
                                                         std::string_view after, std::size_t limit) override {
    return s_->fields_collected_before(field, before, after, limit);
  }
  result<void> delete_field(std::string_view c, std::string_view f) override {
    return s_->delete_field(c, f);
  }
  result<ContactEvent> append_contact(const ContactEvent& e) override { return s_->append_contact(e); }
  result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) override {
    return s_->append_privacy_spend(s);
  }
  result<std::int64_t> privacy_spent(std::string_view p) override { return s_->privacy_spent(p); }
  result<std::vector<ContactEvent>> contacts(std::string_view c) override { return s_->contacts(c); }
  result<ContactPreference> append_contact_preference(const ContactPreference& p) override {
    return s_->append_contact_preference(p);
  }
  result<std::vector<ContactPreference>> contact_preferences(std::string_view c) override {
    return s_->contact_preferences(c);
  }
  result<void> erase_customer(std::string_view c, std::string_view tag, timestamp at) override {
    return s_->erase_customer(c, tag, at);
  }
  result<std::optional<timestamp>> erased_at(std::string_view tag) override { return s_->erased_at(tag); }
  result<void> compact() override { return s_->compact(); }
  result<void> backup_to(const std::filesystem::path& f) override { return s_->backup_to(f); }

 private:
  std::unique_ptr<Store> s_ = make_memory_store();
  std::shared_ptr<std::atomic<bool>> fail_;
};

using consentry::test::file_bytes;

std::vector<AuditAction> actions(const std::vector<AuditEntry>& entries) {
  std::vector<AuditAction> out;
  for (const AuditEntry& e : entries) out.push_back(e.action);
  return out;
}

}  // namespace

TEST_CASE("every write, consent event, view, read and denial leaves one entry, in order") {
  auto v = Vault::create_in(make_memory_store(), test::retail_policy(), test::kTestPassphrase,
                            test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  REQUIRE(v->put("C-1", "email", "ann@example.com", "web").ok());
  REQUIRE(v->record_consent("C-1", "marketing.email", ConsentAction::grant).ok());
  auto view = v->accessor("email-campaigns")->view("C-1", "marketing.email");
  REQUIRE(view.ok());
  REQUIRE(view->get("email").ok());
  REQUIRE_FALSE(view->get("phone").ok());
  REQUIRE_FALSE(v->accessor("support-desk")->view("C-1", "marketing.email").ok());

  auto entries = v->audit_entries();
  REQUIRE(entries.ok());
  REQUIRE(entries->size() == 6);
  CHECK(actions(*entries) == std::vector<AuditAction>{AuditAction::value_written,
                                                      AuditAction::consent_recorded, AuditAction::view_opened,
                                                      AuditAction::field_read, AuditAction::access_denied,
                                                      AuditAction::access_denied});
  const auto& e = *entries;
  for (std::size_t i = 0; i < e.size(); ++i) CHECK(e[i].seq == static_cast<std::int64_t>(i + 1));
  CHECK(e[0].accessor == "test-suite");
  CHECK(e[0].fields == std::vector<std::string>{"email"});
  CHECK(e[0].reason == "web");
  CHECK(e[1].purpose == "marketing.email");
  CHECK(e[1].reason == "grant");
  CHECK(e[3].fields == std::vector<std::string>{"email:clear"});
  CHECK(e[3].accessor == "email-campaigns");
  CHECK_FALSE(e[4].allowed);
  CHECK(e[4].reason == "purpose_not_allowed_for_field");
  CHECK(e[5].reason == "accessor_not_registered");
  for (const AuditEntry& x : e) CHECK(x.customer == v->audit_pseudonym("C-1"));
  CHECK(v->audit_pseudonym("C-1") != v->audit_pseudonym("C-2"));
  CHECK(v->verify_audit()->ok);
}

TEST_CASE("the log names customers by pseudonym only and holds no value") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
    REQUIRE(v->put("CUST-CANARY-77", "email", "canary-audit@example.org").ok());
    auto view = v->accessor("support-desk")->view("CUST-CANARY-77", "service");
    REQUIRE(view->get("email").ok());
    auto entries = v->audit_entries(std::string_view("CUST-CANARY-77"));
    REQUIRE(entries.ok());
    CHECK(entries->size() == 3);
    for (const AuditEntry& e : *entries) {
      const std::string enc(reinterpret_cast<const char*>(encode_audit_entry(e).data()),
                            encode_audit_entry(e).size());
      CHECK(enc.find("CANARY") == std::string::npos);
      CHECK(enc.find("canary") == std::string::npos);
    }
  }
  // The audit table may hold the customer id nowhere: only the fields table keys by it.
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  CHECK(v->audit_entries(std::string_view("CUST-OTHER"))->empty());
}

TEST_CASE("a write whose audit entry cannot be stored does not happen") {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  auto v = Vault::create_in(std::make_unique<FailingStore>(fail), test::retail_policy(),
                            test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  REQUIRE(v->put("C-1", "email", "ann@example.com").ok());
  *fail = true;
  auto w = v->put("C-1", "email", "changed@example.com");
  REQUIRE_FALSE(w.ok());
  CHECK(w.err().code == errc::io);
  auto c = v->record_consent("C-1", "marketing.email", ConsentAction::grant);
  REQUIRE_FALSE(c.ok());
  // A read whose entry cannot be stored returns no value.
  auto view = v->accessor("support-desk")->view("C-1", "service");
  REQUIRE_FALSE(view.ok());
  *fail = false;
  CHECK(v->consent_history("C-1")->empty());
  auto r = v->accessor("support-desk")->view("C-1", "service")->get("email");
  REQUIRE(r.ok());
  CHECK(r->value == "ann@example.com");
  CHECK(v->verify_audit()->ok);
}

TEST_CASE("a value is not returned when its read cannot be recorded") {
  auto fail = std::make_shared<std::atomic<bool>>(false);
  auto v = Vault::create_in(std::make_unique<FailingStore>(fail), test::retail_policy(),
                            test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  REQUIRE(v->put("C-1", "email", "ann@example.com").ok());
  auto view = v->accessor("support-desk")->view("C-1", "service");
  REQUIRE(view.ok());
  *fail = true;
  auto r = view->get("email");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::io);
  CHECK(r.err().message.find("ann@") == std::string::npos);
}

TEST_CASE("a durable read whose entry cannot be synced is refused, and the entry is logged once") {
  TempDir dir;
  auto v = Vault::create(dir.path() / "crm.vault", test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  REQUIRE(v->put("C-1", "email", "ann@example.com").ok());
  auto desk = v->accessor("support-desk");
  REQUIRE(desk.ok());
  const std::size_t before = v->audit_entries()->size();
  {
    // Every sync fails: the read's entry is committed (the log may show it) but cannot be made
    // durable, so the value is not handed out.
    test::FaultPlan plan;
    plan.ops = test::FileOp::file_sync;
    plan.fail_at = 1;
    plan.persistent = true;
    test::InjectedFaults failing(plan);
    auto refused = desk->read("C-1", "service", {"email"});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.err().code == errc::io);
    CHECK(refused.err().message.find("ann@") == std::string::npos);
    CHECK(plan.failed.load() >= 1);
  }
  auto read = desk->read("C-1", "service", {"email"});
  REQUIRE(read.ok());
  REQUIRE(read->size() == 1);
  CHECK((*read)[0]->value == "ann@example.com");
  // The refused read's entry is there at most once, the served one's once, and the chain holds.
  const std::size_t after = v->audit_entries()->size();
  CHECK(after >= before + 1);
  CHECK(after <= before + 2);
  auto report = v->verify_audit();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("eight threads reading through one vault lose no entry and the chain verifies") {
  TempDir dir;
  auto v = Vault::create(dir.path() / "crm.vault", test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  for (int c = 0; c < 8; ++c)
    REQUIRE(v->put("C-" + std::to_string(c), "email", "t" + std::to_string(c) + "@example.com").ok());
  constexpr int kReads = 60;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto view = v->accessor("support-desk")->view("C-" + std::to_string(t), "service");
      if (!view) {
        ++failures;
        return;
      }
      for (int i = 0; i < kReads; ++i) {
        auto r = view->get("email");
        if (!r || r->value != "t" + std::to_string(t) + "@example.com") ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto entries = v->audit_entries();
  REQUIRE(entries.ok());
  // 8 writes, 8 views, 8 x kReads reads.
  CHECK(entries->size() == 8 + 8 + 8 * kReads);
  for (int t = 0; t < 8; ++t) {
    auto mine = v->audit_entries(std::string_view("C-" + std::to_string(t)));
    CHECK(mine->size() == 1 + 1 + kReads);
  }
  auto report = v->verify_audit();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->entries == static_cast<std::int64_t>(entries->size()));
}

TEST_CASE("eight vaults on one file appending at once keep one linear chain") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
  }
  constexpr int kWrites = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
      if (!v) {
        ++failures;
        return;
      }
      for (int i = 0; i < kWrites; ++i)
        if (!v->record_consent("C-" + std::to_string(t), "marketing.email", ConsentAction::grant)) ++failures;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failures == 0);
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  auto report = v->verify_audit();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->entries == 8 * kWrites);
}

// batched_vault creates a vault at `file` whose audit is AuditMode::batched, holding C-1's email.
Vault batched_vault(const fs::path& file) {
  auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::batched, kActor));
  REQUIRE(v.ok());
  REQUIRE(v->put("C-1", "email", "ann@example.com").ok());
  return std::move(*v);
}

// committed_entries counts the audit entries committed to the vault at `file`, as another
// connection sees them.
std::size_t committed_entries(const fs::path& file) {
  auto other = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::off, kActor));
  REQUIRE(other.ok());
  return other->audit_entries()->size();
}

// committed_soon waits, up to ten seconds, until at least `n` entries are committed to the vault
// at `file` (a full batch is committed by the vault's batch thread, shortly after it fills), and
// gives the count.
std::size_t committed_soon(const fs::path& file, std::size_t n) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::size_t seen = committed_entries(file);
  while (seen < n && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    seen = committed_entries(file);
  }
  return seen;
}

TEST_CASE("batched entries are committed at the batch size, on flush and on close") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    Vault v = batched_vault(file);
    auto view = v.accessor("support-desk")->view("C-1", "service");
    for (std::size_t i = 0; i < kAuditBatch + 10; ++i) REQUIRE(view->get("email").ok());
    // A second connection sees what is committed: the write and at least one full batch.
    const std::size_t seen = committed_soon(file, 1 + kAuditBatch);
    CHECK(seen >= 1 + kAuditBatch);
    CHECK(seen <= 1 + 1 + kAuditBatch + 10);
    REQUIRE(v.flush_audit().ok());
    auto other = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::off, kActor));
    CHECK(other->audit_entries()->size() == 1 + 1 + kAuditBatch + 10);
    REQUIRE(view->get("email").ok());
  }
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  CHECK(v->audit_entries()->size() == 1 + 1 + kAuditBatch + 11);
  auto report = v->verify_audit();
  CHECK(report->ok);
  CHECK(report->checkpoints >= 1);
}

TEST_CASE("flush_audit syncs a full batch committed unsynced, with nothing left held back") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  Vault v = batched_vault(file);
  auto view = v.accessor("support-desk")->view("C-1", "service");
  REQUIRE(view.ok());
  // The view's entry and kAuditBatch - 1 reads fill one batch exactly: it is committed without
  // waiting for the disk, and nothing stays held back.
  for (std::size_t i = 0; i + 1 < kAuditBatch; ++i) REQUIRE(view->get("email").ok());
  REQUIRE(committed_soon(file, 1 + kAuditBatch) == 1 + kAuditBatch);
  {
    // The batch is not durable until synced: flush_audit must sync it, and say so when it cannot.
    test::FaultPlan plan;
    plan.ops = test::FileOp::file_sync;
    plan.fail_at = 1;
    plan.persistent = true;
    test::InjectedFaults failing(plan);
    auto flushed = v.flush_audit();
    REQUIRE_FALSE(flushed.ok());
    CHECK(flushed.err().code == errc::io);
    CHECK(plan.failed.load() >= 1);
  }
  test::FaultPlan counting;
  counting.ops = test::FileOp::file_sync;
  {
    test::InjectedFaults watching(counting);
    REQUIRE(v.flush_audit().ok());
    CHECK(counting.seen.load() >= 1);
    // Once synced, a flush with nothing new to sync does not sync again.
    const auto seen = counting.seen.load();
    REQUIRE(v.flush_audit().ok());
    CHECK(counting.seen.load() == seen);
  }
  auto report = v.verify_audit();
  REQUIRE(report.ok());
  CHECK(report->ok);
}

TEST_CASE("closing a vault signs a checkpoint of the head, checkpoints follow the interval") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(AuditMode::batched, kActor));
    REQUIRE(v.ok());
    // The first write reaches the interval and is checkpointed; the next five are covered at close.
    std::vector<Record> records;
    for (int i = 0; i < kCheckpointInterval + 5; ++i)
      records.push_back(
          {"C-" + std::to_string(i), "", {}, {{"email", "x" + std::to_string(i) + "@example.com"}}, 0});
    const auto split = records.begin() + kCheckpointInterval;
    REQUIRE(v->write(std::vector<Record>(records.begin(), split)).ok());
    REQUIRE(v->write(std::vector<Record>(split, records.end())).ok());
  }
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  auto report = v->verify_audit();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->entries == kCheckpointInterval + 5);
  CHECK(report->checkpoints == 2);  // one at the interval, one at close
  auto cp = v->checkpoint_audit();
  REQUIRE(cp.ok());
  CHECK(cp->seq == kCheckpointInterval + 5);
  CHECK(verify_checkpoint(*cp, v->audit_public_key()));
}

TEST_CASE("a process killed during a batch of reads leaves a chain that verifies") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
    for (int c = 0; c < 20; ++c) REQUIRE(v->put("C-" + std::to_string(c), "email", "k@example.com").ok());
  }
  for (AuditMode mode : {AuditMode::durable, AuditMode::batched}) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The child reads until it is killed; it never returns into the test runner.
      auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(mode, kActor));
      if (!v) _exit(3);
      for (int i = 0;; ++i) {
        auto view = v->accessor("support-desk")->view("C-" + std::to_string(i % 20), "service");
        if (!view || !view->get("email")) _exit(4);
      }
    }
    // Let it get going, wait for it to have committed entries, then kill it mid-batch.
    std::int64_t seen = 0;
    for (int tries = 0; tries < 500 && seen < 200; ++tries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      auto probe = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::off, kActor));
      if (probe) seen = static_cast<std::int64_t>(probe->audit_entries()->size());
    }
    REQUIRE(kill(child, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
    auto report = v->verify_audit();
    REQUIRE(report.ok());
    CAPTURE(report->problem);
    CHECK(report->ok);
    CHECK(report->entries >= 200);
  }
}

TEST_CASE("verify_audit reports its progress against the number of entries the log holds") {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.audit = AuditMode::batched;
  auto made = Vault::create_in(make_memory_store(), test::retail_policy(), "progress passphrase", o);
  REQUIRE(made.ok());
  Vault v = std::move(*made);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  auto as = v.accessor("support-desk");
  REQUIRE(as.ok());
  for (int i = 0; i < 9000; ++i) REQUIRE(as->read("C-1", "service", {"email"}).ok());
  REQUIRE(v.flush_audit().ok());
  const std::int64_t held = static_cast<std::int64_t>(v.audit_entries()->size());
  std::vector<std::pair<std::int64_t, std::int64_t>> calls;
  auto report = v.verify_audit(
      std::nullopt, [&](std::int64_t checked, std::int64_t total) { calls.emplace_back(checked, total); });
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->entries == held);
  REQUIRE(calls.size() == static_cast<std::size_t>(held / kAuditProgressEvery));
  CHECK(calls.front() == std::pair<std::int64_t, std::int64_t>{kAuditProgressEvery, held});
  CHECK(calls.back().first == calls.size() * kAuditProgressEvery);
}
