// vault_erase_test.cpp: the right to erasure (reads, views, writes and consent answer erased; the
// audit log keeps its entries; no byte of the customer stays in the vault files) and backups.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/files.hpp"
#include "support/raw_sql.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kActor = "privacy-team";  // the audit log names it; tests check

using consentry::test::TempDir;

// each_store_vault runs the calling test once on each store (doctest subcases).
Vault each_store_vault(const TempDir& dir, AuditMode audit = AuditMode::durable) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(audit, kActor));
}

void put_customer(Vault& v, const std::string& customer, const std::string& tag) {
  REQUIRE(v.put(customer, "email", tag + "@example.com").ok());
  REQUIRE(v.put(customer, "birth_date", "1990-04-02").ok());
  REQUIRE(v.put(customer, "phone", "+44 7700 900123").ok());
  REQUIRE(v.record_consent(customer, "marketing.email", ConsentAction::grant).ok());
}

errc code_of(const result<void>& r) {
  return r ? errc::internal : r.err().code;
}

template <class T>
errc code_of(const result<T>& r) {
  return r ? errc::internal : r.err().code;
}

using consentry::test::file_bytes;

using consentry::test::vault_files;

using consentry::test::wrapped_key;

}  // namespace

TEST_CASE("after erasure the customer's views, writes and consent answer erased, others are unaffected") {
  TempDir dir;
  Vault v = each_store_vault(dir);
  put_customer(v, "C-1001", "ann");
  put_customer(v, "C-1002", "bob");
  REQUIRE(v.contains("C-1001").value());
  CHECK_FALSE(v.erased_at("C-1001").value().has_value());

  REQUIRE(v.erase("C-1001").ok());

  auto when = v.erased_at("C-1001");
  REQUIRE(when.ok());
  CHECK(when->has_value());
  CHECK_FALSE(v.contains("C-1001").value());
  CHECK(v.customers().value() == std::vector<std::string>{"C-1002"});
  for (const char* accessor_purpose : {"support-desk/service", "email-campaigns/marketing.email"}) {
    const std::string ap = accessor_purpose;
    const auto slash = ap.find('/');
    auto view = v.accessor(ap.substr(0, slash))->view("C-1001", ap.substr(slash + 1));
    REQUIRE_FALSE(view.ok());
    CHECK(view.err().code == errc::erased);
    CHECK(view.err().message == "customer was erased");
    CHECK(exit_code(view.err().code) == 5);
  }
  CHECK(code_of(v.put("C-1001", "email", "ann-again@example.com")) == errc::erased);
  Record r;
  r.customer = "C-1001";
  r.fields = {{"email", "ann-again@example.com"}};
  r.line = 7;
  auto written = v.write({r}, "customers.jsonl");
  REQUIRE_FALSE(written.ok());
  CHECK(written.err().code == errc::erased);
  CHECK(written.err().message == "customers.jsonl:7: customer was erased");
  CHECK(code_of(v.record_consent("C-1001", "marketing.email", ConsentAction::grant)) == errc::erased);
  CHECK(code_of(v.record_consent("C-1001", "analytics", ConsentAction::object)) == errc::erased);
  CHECK(code_of(v.consent_history("C-1001")) == errc::erased);
  CHECK(code_of(v.consent_state("C-1001")) == errc::erased);
  // Nothing of the refused write or consent was stored.
  CHECK_FALSE(v.contains("C-1001").value());

  // The neighbour reads, writes and consents as before.
  auto bob = v.accessor("support-desk")->view("C-1002", "service");
  REQUIRE(bob.ok());
  CHECK(bob->get("email")->value == "bob@example.com");
  CHECK(v.accessor("email-campaigns")->view("C-1002", "marketing.email")->get("email")->value ==
        "bob@example.com");
  CHECK(v.put("C-1002", "email", "bob2@example.com").ok());
  CHECK(v.consent_history("C-1002")->size() == 1);
}

TEST_CASE("a view opened before the erasure answers erased, not denied or absent, on its next get") {
  TempDir dir;
  Vault v = each_store_vault(dir);
  put_customer(v, "C-1001", "ann");
  auto service = v.accessor("support-desk")->view("C-1001", "service");
  auto marketing = v.accessor("email-campaigns")->view("C-1001", "marketing.email");
  REQUIRE(service.ok());
  REQUIRE(marketing.ok());
  // Both have read once, so the data key is cached.
  REQUIRE(service->get("email").ok());
  REQUIRE(marketing->get("email").ok());

  REQUIRE(v.erase("C-1001").ok());

  // service rests on contract: without the erased check the field would just be absent;
  // marketing.email rests on consent: it would be denied for want of consent.
  for (const View* view : {&*service, &*marketing}) {
    for (const char* field : {"email", "birth_date", "phone", "credit_score"}) {
      CAPTURE(field);
      auto got = view->get(field);
      REQUIRE_FALSE(got.ok());
      CHECK(got.err().code == errc::erased);
      CHECK(got.err().reason == deny_reason::erased);
    }
  }
}

TEST_CASE("erasing an unknown customer is not_found, erasing twice is erased, and the first time stays") {
  TempDir dir;
  Vault v = each_store_vault(dir);
  put_customer(v, "C-1001", "ann");
  CHECK(code_of(v.erase("C-9999")) == errc::not_found);
  CHECK(code_of(v.erase("")) == errc::invalid_argument);
  REQUIRE(v.erase("C-1001").ok());
  const auto first = v.erased_at("C-1001").value();
  REQUIRE(first.has_value());
  auto again = v.erase("C-1001");
  REQUIRE_FALSE(again.ok());
  CHECK(again.err().code == errc::erased);
  CHECK(exit_code(again.err().code) == 5);
  CHECK(v.erased_at("C-1001").value() == first);
  // A customer known only through consent can be erased too.
  REQUIRE(v.record_consent("C-2002", "marketing.email", ConsentAction::grant).ok());
  CHECK(v.erase("C-2002").ok());
  CHECK(code_of(v.consent_history("C-2002")) == errc::erased);
}

TEST_CASE("the audit log keeps the erased customer's entries, ends them with the erasure, and verifies") {
  TempDir dir;
  Vault v = each_store_vault(dir, AuditMode::batched);
  put_customer(v, "C-1001", "ann.canary");
  put_customer(v, "C-1002", "bob");
  // Read entries held back by batched mode must land before the erasure entry.
  REQUIRE(v.accessor("support-desk")->view("C-1001", "service")->get("email").ok());
  const auto before = v.audit_entries("C-1001");
  REQUIRE(before.ok());

  REQUIRE(v.erase("C-1001").ok());

  auto after = v.audit_entries("C-1001");
  REQUIRE(after.ok());
  REQUIRE(after->size() == before->size() + 1);
  for (std::size_t i = 0; i < before->size(); ++i) CHECK((*after)[i].seq == (*before)[i].seq);
  const AuditEntry& last = after->back();
  CHECK(last.action == AuditAction::erasure);
  CHECK(last.accessor == "privacy-team");
  CHECK(last.customer == v.audit_pseudonym("C-1001"));
  CHECK(last.seq > before->back().seq);
  // Entries name fields and forms, never values or the id.
  const auto all = v.audit_entries();
  REQUIRE(all.ok());
  for (const AuditEntry& e : *all) {
    CHECK(e.customer.find("C-1001") == std::string::npos);
    for (const std::string& f : e.fields) CHECK(f.find("canary") == std::string::npos);
    CHECK(e.reason.find("canary") == std::string::npos);
  }
  auto verified = v.verify_audit();
  REQUIRE(verified.ok());
  CHECK_MESSAGE(verified->ok, verified->problem);
  // A refused view of the erased customer is itself recorded.
  CHECK(code_of(v.accessor("support-desk")->view("C-1001", "service")) == errc::erased);
  auto refused = v.audit_entries("C-1001").value().back();
  CHECK(refused.action == AuditAction::access_denied);
  CHECK(refused.reason == "erased");
}

TEST_CASE("erasure leaves none of the customer's values or wrapped key bytes in the vault files") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  std::vector<Record> records;
  constexpr int kCustomers = 400;
  auto canary = [](int i) { return "canary" + std::to_string(i) + "x"; };
  for (int i = 0; i < kCustomers; ++i) {
    Record r;
    r.customer = "C-" + std::to_string(5000 + (i * 7919) % kCustomers);  // not in key order
    r.fields = {{"email", canary(i) + "@example.com"}, {"phone", "+44 7700 9" + std::to_string(10000 + i)}};
    records.push_back(std::move(r));
  }
  const std::string victim = records[123].customer;
  const std::string victim_email = canary(123) + "@example.com";
  std::string victim_key;
  {
    auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                           test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
    REQUIRE(v->write(records, "canaries.jsonl").ok());
    REQUIRE(
        v->record_consent(victim, "marketing.email", ConsentAction::grant, {"web", "canary-notice-77", {}})
            .ok());
    // Closing checkpoints the WAL, so the sealed values and keys are in the main file now.
  }
  victim_key = wrapped_key(file, victim);
  REQUIRE(victim_key.size() >= 32);
  REQUIRE(vault_files(file).find(victim_key) != std::string::npos);
  REQUIRE(vault_files(file).find("canary-notice-77") != std::string::npos);
  {
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
    REQUIRE(v.ok());
    REQUIRE(v->accessor("support-desk")->view(victim, "service")->get("email")->value == victim_email);
    REQUIRE(v->erase(victim).ok());

    // Scanned while the vault is still open: compaction already ran.
    const std::string files = vault_files(file);
    CHECK(files.find(victim_key) == std::string::npos);
    CHECK(files.find("canary-notice-77") == std::string::npos);
    CHECK(files.find(victim) == std::string::npos);
    // The values are sealed, so their plaintext was never on disk; the key bytes were.
    CHECK(files.find(victim_email) == std::string::npos);
    // Every other customer's sealed data still opens.
    for (int i = 0; i < kCustomers; ++i) {
      if (records[i].customer == victim) continue;
      auto got = v->accessor("support-desk")->view(records[i].customer, "service")->get("email");
      REQUIRE(got.ok());
      CHECK(got->value == canary(i) + "@example.com");
    }
  }
  // And after closing (which appends a checkpoint) and reopening.
  const std::string files = vault_files(file);
  CHECK(files.find(victim_key) == std::string::npos);
  CHECK(files.find("canary-notice-77") == std::string::npos);
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  CHECK(code_of(v->accessor("support-desk")->view(victim, "service")) == errc::erased);
  CHECK(v->accessor("support-desk")->view(records[0].customer, "service")->get("email")->value ==
        canary(0) + "@example.com");
}

TEST_CASE("a second vault on the same file, with the key cached, answers erased after another erases") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  auto a = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(a.ok());
  put_customer(*a, "C-1001", "ann");
  auto b = Vault::open(file, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(b.ok());
  auto view = b->accessor("support-desk")->view("C-1001", "service");
  REQUIRE(view.ok());
  REQUIRE(view->get("email").ok());  // b now caches the data key
  // b's connection holds no snapshot between calls, so a's compaction can run.
  REQUIRE(a->erase("C-1001").ok());
  CHECK(code_of(view->get("email")) == errc::erased);
  CHECK(code_of(b->put("C-1001", "email", "ann@example.com")) == errc::erased);
  CHECK(code_of(b->erase("C-1001")) == errc::erased);
}

TEST_CASE("a backup opens with the passphrase and reads the same values, it refuses an existing file") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path copy = dir.path() / "backup.vault";
  auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::batched, kActor));
  REQUIRE(v.ok());
  put_customer(*v, "C-1001", "ann");
  put_customer(*v, "C-1002", "bob");
  REQUIRE(v->accessor("support-desk")->view("C-1002", "service")->get("email").ok());  // held back
  REQUIRE(v->backup(copy).ok());
  CHECK((fs::status(copy).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(code_of(v->backup(copy)) == errc::already_exists);
  CHECK(code_of(v->backup(file)) == errc::already_exists);
  // The original goes on after the backup, and erases.
  REQUIRE(v->erase("C-1001").ok());

  auto b = Vault::open(copy, test::kTestPassphrase, test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE_MESSAGE(b.ok(), b.err().message);
  CHECK(b->accessor("support-desk")->view("C-1002", "service")->get("email")->value == "bob@example.com");
  CHECK(b->consent_history("C-1002")->size() == 1);
  // The held-back read entry was flushed into the copy.
  bool saw_read = false;
  const auto bob_entries = b->audit_entries("C-1002");
  REQUIRE(bob_entries.ok());
  for (const AuditEntry& e : *bob_entries) saw_read = saw_read || e.action == AuditAction::field_read;
  CHECK(saw_read);
  CHECK(b->verify_audit()->ok);
  // The erasure window: the backup predates the erasure, so it still holds the customer.
  CHECK(b->accessor("support-desk")->view("C-1001", "service")->get("email")->value == "ann@example.com");
  CHECK(code_of(Vault::open(copy, "wrong passphrase",
                            test::test_vault_options(AuditMode::durable, kActor))) == errc::integrity);
}

TEST_CASE("a vault on the memory store cannot be backed up") {
  TempDir dir;
  auto v = Vault::create_in(make_memory_store(), test::retail_policy(), test::kTestPassphrase,
                            test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE(v.ok());
  CHECK(code_of(v->backup(dir.path() / "copy.vault")) == errc::invalid_argument);
  CHECK_FALSE(fs::exists(dir.path() / "copy.vault"));
}

TEST_CASE("a batch write refuses it whole when any record's customer was erased, naming that record") {
  TempDir dir;
  Vault v = each_store_vault(dir);
  put_customer(v, "C-1001", "ann");
  put_customer(v, "C-1002", "bob");
  REQUIRE(v.erase("C-1002").ok());
  auto record = [](std::string customer, std::string email, std::size_t line) {
    Record r;
    r.customer = std::move(customer);
    r.fields = {{"email", std::move(email)}};
    r.line = line;
    return r;
  };
  // A new customer, one with a data key, the erased one, and the new one again.
  auto written = v.write({record("C-2001", "cy@example.com", 1), record("C-1001", "ann2@example.com", 2),
                          record("C-1002", "bob2@example.com", 3), record("C-2001", "cy2@example.com", 4)},
                         "batch.jsonl");
  REQUIRE_FALSE(written.ok());
  CHECK(written.err().code == errc::erased);
  CHECK(written.err().message == "batch.jsonl:3: customer was erased");
  CHECK_FALSE(v.contains("C-2001").value());
  CHECK(v.accessor("support-desk")->view("C-1001", "service")->get("email")->value == "ann@example.com");

  // Without the erased record the same batch goes in whole: the existing customer keeps their
  // data key, and a customer twice in the batch gets one key and their last value.
  REQUIRE(v.write({record("C-2001", "cy@example.com", 1), record("C-1001", "ann2@example.com", 2),
                   record("C-2001", "cy2@example.com", 4)},
                  "batch.jsonl")
              .ok());
  CHECK(v.accessor("support-desk")->view("C-1001", "service")->get("email")->value == "ann2@example.com");
  CHECK(v.accessor("support-desk")->view("C-2001", "service")->get("email")->value == "cy2@example.com");
  CHECK(v.customers().value() == std::vector<std::string>{"C-1001", "C-2001"});
}
