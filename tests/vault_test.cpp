// vault_test.cpp: reads through views, consent re-checked per read, writes validated, and
// tampering with the vault file detected without leaking plaintext.
#include "consentry/vault.hpp"

#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

#include "consentry/anonymise/transform.hpp"
#include "consentry/import.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/files.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

using consentry::test::TempDir;

using consentry::test::FakeClock;

// each_store_vault runs the calling test once on each store (doctest subcases).
Vault each_store_vault(const FakeClock& clock, const TempDir& dir) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(clock));
}

void put_ann(Vault& v) {
  REQUIRE(v.put("C-1001", "email", "ann@example.com").ok());
  REQUIRE(v.put("C-1001", "birth_date", "1990-04-02").ok());
  REQUIRE(v.put("C-1001", "phone", "+44 7700 900123").ok());
  REQUIRE(v.put("C-1001", "notes", "prefers phone calls").ok());
}

std::string read_or_reason(Vault& v, const char* accessor, const char* customer, const char* purpose,
                           const char* field) {
  auto a = v.accessor(accessor);
  REQUIRE(a.ok());
  auto view = a->view(customer, purpose);
  if (!view) return "view:" + std::string(to_string(view.err().reason));
  auto r = view->get(field);
  if (!r) return std::string(to_string(r.err().code)) + ":" + std::string(to_string(r.err().reason));
  return r->value;
}

using consentry::test::file_bytes;

// Sql runs raw statements on a vault file, as someone with the file but not the key would.
struct Sql {
  sqlite3* db = nullptr;
  explicit Sql(const fs::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK); }
  ~Sql() { sqlite3_close(db); }
  void exec(const std::string& sql) {
    char* msg = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg);
    std::string m = msg ? msg : "";
    sqlite3_free(msg);
    REQUIRE_MESSAGE(rc == SQLITE_OK, m);
  }
};

}  // namespace

TEST_CASE("a consented read returns the value in the form the policy gives the purpose") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  CHECK(read_or_reason(v, "support-desk", "C-1001", "service", "email") == "ann@example.com");
  CHECK(read_or_reason(v, "support-desk", "C-1001", "service", "phone") == "*********0123");
  CHECK(read_or_reason(v, "support-desk", "C-1001", "service", "notes") == "");
  CHECK(read_or_reason(v, "bi-dashboard", "C-1001", "analytics", "birth_date") == "1990");
  auto view = v.accessor("support-desk")->view("C-1001", "service");
  REQUIRE(view.ok());
  auto r = view->get("phone");
  REQUIRE(r.ok());
  CHECK(r->form.to_string() == "mask:last4");
  CHECK(r->field == "phone");
}

TEST_CASE("pseudonyms are stable within a purpose and differ between purposes") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  REQUIRE(v.put("C-1002", "email", "bob@example.com").ok());
  const std::string a1 = read_or_reason(v, "bi-dashboard", "C-1001", "analytics", "email");
  const std::string a2 = read_or_reason(v, "bi-dashboard", "C-1001", "analytics", "email");
  const std::string b = read_or_reason(v, "bi-dashboard", "C-1002", "analytics", "email");
  const std::string r = read_or_reason(v, "bi-dashboard", "C-1001", "research", "email");
  CHECK(a1 == a2);
  CHECK(a1 != b);
  CHECK(a1 != r);
  CHECK(a1.find("ann") == std::string::npos);
  CHECK(a1.size() >= 2 * kPseudonymBytes);
}

TEST_CASE("a withdrawal between two reads of one view denies the second read") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  REQUIRE(v.record_consent("C-1001", "marketing.email", ConsentAction::grant, {"web", "notice-1", {}}).ok());
  auto view = v.accessor("email-campaigns")->view("C-1001", "marketing.email");
  REQUIRE(view.ok());
  auto first = view->get("email");
  REQUIRE(first.ok());
  CHECK(first->value == "ann@example.com");
  REQUIRE(v.record_consent("C-1001", "marketing.email", ConsentAction::withdraw).ok());
  auto second = view->get("email");
  REQUIRE_FALSE(second.ok());
  CHECK(second.err().code == errc::denied);
  CHECK(second.err().reason == deny_reason::withdrawn);
  CHECK(second.err().message.find("ann@") == std::string::npos);
}

TEST_CASE("a consent lapses after consent_valid_for, on a view opened while it was live") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto e = v.record_consent("C-1001", "marketing.email", ConsentAction::grant);
  REQUIRE(e.ok());
  REQUIRE(e->expires_at.has_value());
  auto view = v.accessor("email-campaigns")->view("C-1001", "marketing.email");
  REQUIRE(view.ok());
  CHECK(view->get("email").ok());
  clock.advance(std::chrono::duration_cast<std::chrono::seconds>(*e->expires_at - e->at) - 1s);
  CHECK(view->get("email").ok());
  clock.advance(1s);
  auto lapsed = view->get("email");
  REQUIRE_FALSE(lapsed.ok());
  CHECK(lapsed.err().reason == deny_reason::expired);
}

TEST_CASE("an objection stops legitimate-interest reads, contract reads go on") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  CHECK(read_or_reason(v, "bi-dashboard", "C-1001", "analytics", "birth_date") == "1990");
  REQUIRE(v.record_consent("C-1001", "analytics", ConsentAction::object).ok());
  CHECK(read_or_reason(v, "bi-dashboard", "C-1001", "analytics", "birth_date") == "denied:objected");
  CHECK(read_or_reason(v, "support-desk", "C-1001", "service", "birth_date") == "1990-04-02");
}

TEST_CASE("an accessor not registered for the purpose cannot open a view") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  CHECK(read_or_reason(v, "support-desk", "C-1001", "marketing.email", "email") ==
        "view:accessor_not_registered");
  CHECK(read_or_reason(v, "support-desk", "C-1001", "no.such.purpose", "email") == "view:unknown_purpose");
  auto unknown = v.accessor("shadow-profiler");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().code == errc::not_found);
}

TEST_CASE("consent events are refused where the basis has no consent to give or take") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  auto grant_contract = v.record_consent("C-1", "service", ConsentAction::grant);
  REQUIRE_FALSE(grant_contract.ok());
  CHECK(grant_contract.err().code == errc::bad_input);
  auto object_consent = v.record_consent("C-1", "marketing.email", ConsentAction::object);
  REQUIRE_FALSE(object_consent.ok());
  CHECK(object_consent.err().code == errc::bad_input);
  auto unknown = v.record_consent("C-1", "marketing.sms", ConsentAction::grant);
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().code == errc::bad_input);
  CHECK(v.consent_history("C-1")->empty());
}

TEST_CASE("the ledger keeps every event in order and derives the current state") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::grant, {"web", "n-1", {}}).ok());
  clock.advance(60s);
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::withdraw, {"phone", "", {}}).ok());
  clock.advance(60s);
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::grant, {"store", "n-2", {}}).ok());
  auto h = v.consent_history("C-1");
  REQUIRE(h.ok());
  REQUIRE(h->size() == 3);
  CHECK((*h)[0].action == ConsentAction::grant);
  CHECK((*h)[1].action == ConsentAction::withdraw);
  CHECK((*h)[1].channel == "phone");
  CHECK((*h)[2].notice == "n-2");
  CHECK((*h)[0].seq < (*h)[1].seq);
  CHECK((*h)[1].seq < (*h)[2].seq);
  CHECK(v.consent_state("C-1")->status("marketing.email", v.now()) == ConsentStatus::granted);
}

TEST_CASE(
    "writes refuse undeclared fields, mistyped values, unpermitted sources and unconsented inferences") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  auto undeclared = v.put("C-1", "shoe_size", "42");
  REQUIRE_FALSE(undeclared.ok());
  CHECK(undeclared.err().code == errc::bad_input);
  auto bad_email = v.put("C-1", "email", "not-an-address");
  REQUIRE_FALSE(bad_email.ok());
  CHECK(bad_email.err().code == errc::bad_input);
  CHECK(bad_email.err().message.find("not-an-address") == std::string::npos);
  CHECK_FALSE(v.put("C-1", "birth_date", "1990-02-30").ok());
  CHECK_FALSE(v.put("C-1", "credit_score", "seven hundred", "credit-bureau").ok());
  auto wrong_source = v.put("C-1", "credit_score", "720", "data-broker");
  REQUIRE_FALSE(wrong_source.ok());
  CHECK(wrong_source.err().reason == deny_reason::source_not_permitted);
  CHECK(v.put("C-1", "credit_score", "720", "credit-bureau").ok());
  auto inferred = v.put("C-1", "expecting_child", "true");
  REQUIRE_FALSE(inferred.ok());
  CHECK(inferred.err().reason == deny_reason::inference_needs_profiling);
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant).ok());
  CHECK(v.put("C-1", "expecting_child", "true").ok());
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "email") == "not_found:none");
}

TEST_CASE("a value past its field's retention is denied before it is decrypted") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "email") == "ann@example.com");
  clock.advance(std::chrono::seconds(3 * 366 * 86400));
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "email") == "denied:retention_expired");
}

TEST_CASE("a write with one bad record writes nothing") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  std::vector<Record> records(3);
  records[0] = {"C-1", "", {}, {{"email", "ann@example.com"}}, 1};
  records[1] = {"C-2", "", {}, {{"email", "bob@example.com"}}, 2};
  records[2] = {"C-3", "", {}, {{"email", "broken"}}, 3};
  auto r = v.write(records, "batch.jsonl");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find("batch.jsonl:3:") != std::string::npos);
  CHECK_FALSE(*v.contains("C-1"));
  CHECK_FALSE(*v.contains("C-2"));
  CHECK(v.customers()->empty());
}

TEST_CASE("a new customer written twice in one write keeps each field's last value") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  std::vector<Record> records(3);
  // A name given twice in one record, and the same new customer in a later record.
  records[0] = {"C-1",
                "",
                {},
                {{"email", "ann@example.com"}, {"phone", "+44 7700 900123"}, {"email", "ann@work.example"}},
                1};
  records[1] = {"C-2", "", {}, {{"email", "bob@example.com"}}, 2};
  records[2] = {"C-1", "", {}, {{"email", "ann@home.example"}, {"notes", "new"}}, 3};
  REQUIRE(v.write(records, "batch.jsonl").ok());
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "email") == "ann@home.example");
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "phone") == "*********0123");
  CHECK(read_or_reason(v, "support-desk", "C-2", "service", "email") == "bob@example.com");
  // The manifest lists every value: a read of all of them passes its check.
  auto view = v.accessor("support-desk")->view("C-1", "service");
  REQUIRE(view.ok());
  auto all = view->read({"email", "phone", "notes"});
  REQUIRE_MESSAGE(all.ok(), all.err().message);
  REQUIRE(all->size() == 3);
  for (const auto& value : *all) CHECK_MESSAGE(value.ok(), value.err().message);
  // Written again, no longer new: replaced.
  REQUIRE(v.write({Record{"C-1", "", {}, {{"email", "ann@later.example"}}, 1}}, "again.jsonl").ok());
  CHECK(read_or_reason(v, "support-desk", "C-1", "service", "email") == "ann@later.example");
}

TEST_CASE("a write reports every bad record, a line each, with the first one's code") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-9", "email", "gone@example.com").ok());
  REQUIRE(v.erase("C-9").ok());
  std::vector<Record> records(5);
  records[0] = {"C-1", "", {}, {{"email", "broken"}}, 1};
  records[1] = {"C-2", "", {}, {{"email", "bob@example.com"}}, 2};
  records[2] = {"C-3", "", {}, {{"shoe_size", "44"}}, 3};
  records[3] = {"C-4", "", {}, {{"credit_score", "700"}}, 4};  // only from credit-bureau
  records[4] = {"C-9", "", {}, {{"email", "back@example.com"}}, 5};
  auto r = v.write(records, "batch.jsonl");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  const std::string& m = r.err().message;
  CHECK(m.find("batch.jsonl:1:") != std::string::npos);
  CHECK(m.find("batch.jsonl:2:") == std::string::npos);
  CHECK(m.find("batch.jsonl:3: field 'shoe_size' is not declared in the policy") != std::string::npos);
  CHECK(m.find("batch.jsonl:4: field 'credit_score' does not accept values from source 'import'") !=
        std::string::npos);
  // The erasure is checked inside the transaction, once the rest is well formed.
  CHECK(m.find("batch.jsonl:5:") == std::string::npos);
  CHECK(m.find("broken") == std::string::npos);
  CHECK(v.customers()->empty());

  records.erase(records.begin(), records.begin() + 1);
  records.erase(records.begin() + 1, records.begin() + 3);
  auto erased = v.write(records, "batch.jsonl");
  REQUIRE_FALSE(erased.ok());
  CHECK(erased.err().code == errc::erased);
  CHECK(erased.err().message.rfind("batch.jsonl:5: ", 0) == 0);
}

TEST_CASE("a dry-run write makes every check and writes and logs nothing") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-9", "email", "gone@example.com").ok());
  REQUIRE(v.erase("C-9").ok());
  const std::size_t logged = v.audit_entries()->size();
  std::vector<Record> records(2);
  records[0] = {"C-1", "", {}, {{"email", "ann@example.com"}}, 1};
  records[1] = {"C-2", "", {}, {{"email", "bob@example.com"}}, 2};
  WriteOptions dry;
  dry.dry_run = true;
  REQUIRE(v.write(records, "batch.jsonl", dry).ok());
  CHECK(v.customers()->empty());
  CHECK(v.audit_entries()->size() == logged);
  // A check made inside the transaction refuses the dry run too.
  records.push_back({"C-9", "", {}, {{"email", "back@example.com"}}, 3});
  auto erased = v.write(records, "batch.jsonl", dry);
  REQUIRE_FALSE(erased.ok());
  CHECK(erased.err().code == errc::erased);
  CHECK(v.customers()->empty());
  // The same records written for real.
  records.pop_back();
  REQUIRE(v.write(records, "batch.jsonl").ok());
  CHECK(*v.customers() == std::vector<std::string>{"C-1", "C-2"});
}

TEST_CASE("SQLite vault: reopen, wrong passphrase, and tampering are all caught") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  FakeClock clock;
  {
    auto v =
        Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE_MESSAGE(v.ok(), v.err().message);
    put_ann(*v);
    REQUIRE(v->put("C-1002", "email", "bob@example.com").ok());
    REQUIRE(v->put("C-1002", "phone", "+44 7700 900456").ok());
  }
  SUBCASE("reopening with the passphrase reads the values back") {
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE(v.ok());
    CHECK(read_or_reason(*v, "support-desk", "C-1002", "service", "email") == "bob@example.com");
    CHECK(v->customers()->size() == 2);
  }
  SUBCASE("a wrong passphrase opens nothing and changes nothing") {
    const std::string before = file_bytes(file);
    auto v = Vault::open(file, "wrong horse", test::test_vault_options(clock));
    REQUIRE_FALSE(v.ok());
    CHECK(v.err().code == errc::integrity);
    CHECK(file_bytes(file) == before);
  }
  SUBCASE("a sealed value moved to another field fails authentication") {
    Sql(file).exec(
        "UPDATE fields SET sealed = (SELECT sealed FROM fields WHERE customer='C-1001' AND field='phone') "
        "WHERE customer='C-1001' AND field='email'");
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE(v.ok());
    auto r = v->accessor("support-desk")->view("C-1001", "service")->get("email");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
    CHECK(r.err().message.find("7700") == std::string::npos);
  }
  SUBCASE("a sealed value moved to another customer fails authentication") {
    Sql(file).exec(
        "UPDATE fields SET sealed = (SELECT sealed FROM fields WHERE customer='C-1002' AND field='email') "
        "WHERE customer='C-1001' AND field='email'");
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE(v.ok());
    auto r = v->accessor("support-desk")->view("C-1001", "service")->get("email");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
    CHECK(r.err().message.find("bob") == std::string::npos);
  }
  SUBCASE("a data key copied from another customer fails authentication") {
    Sql(file).exec(
        "UPDATE data_keys SET wrapped = (SELECT wrapped FROM data_keys WHERE customer='C-1002') "
        "WHERE customer='C-1001'");
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE(v.ok());
    auto r = v->accessor("support-desk")->view("C-1001", "service")->get("email");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
  }
  SUBCASE("a denied field is not decrypted, so its tampering shows as a denial") {
    Sql(file).exec("UPDATE fields SET sealed = zeroblob(60) WHERE customer='C-1001' AND field='email'");
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE(v.ok());
    CHECK(read_or_reason(*v, "email-campaigns", "C-1001", "marketing.email", "email") == "denied:no_consent");
    CHECK(read_or_reason(*v, "support-desk", "C-1001", "service", "email") == "integrity:none");
  }
  SUBCASE("a policy edited in the file fails authentication at open") {
    Sql(file).exec("UPDATE meta SET value = CAST('{}' AS BLOB) WHERE key = 'policy.sealed'");
    auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE_FALSE(v.ok());
    CHECK(v.err().code == errc::integrity);
  }
}

TEST_CASE("after an import the vault files hold none of the imported values in clear") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  FakeClock clock;
  auto v = Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  REQUIRE(v.ok());
  std::ostringstream jsonl;
  std::vector<std::string> planted;
  for (int i = 0; i < 200; ++i) {
    const std::string email = "canary" + std::to_string(1000 + i) + "@example.org";
    const std::string phone = "+4477009" + std::to_string(10000 + i);
    const std::string note = "canary-note-" + std::to_string(7000 + i);
    planted.insert(planted.end(), {email, phone, note});
    jsonl << R"({"id": "C-)" << i << R"(", "fields": {"email": ")" << email << R"(", "phone": ")" << phone
          << R"(", "notes": ")" << note << "\"}}\n";
  }
  std::istringstream in(jsonl.str());
  auto records = parse_records(in, ImportFormat::jsonl, "canaries.jsonl");
  REQUIRE(records.ok());
  REQUIRE(v->write(*records, "canaries.jsonl").ok());
  // Scan while the vault is open, so the WAL has not been checkpointed away.
  const std::string main_bytes = file_bytes(file);
  const std::string wal_bytes = file_bytes(file.string() + "-wal");
  CHECK(main_bytes.size() + wal_bytes.size() > 200 * 3 * 16);
  int found = 0;
  for (const std::string& value : planted) {
    if (main_bytes.find(value) != std::string::npos || wal_bytes.find(value) != std::string::npos) ++found;
    if (main_bytes.find("canary") != std::string::npos || wal_bytes.find("canary") != std::string::npos)
      ++found;
  }
  CHECK(found == 0);
  CHECK(read_or_reason(*v, "support-desk", "C-7", "service", "email") == "canary1007@example.org");
}

namespace {

// entries_after returns the audit entries appended after the first `skip`.
std::vector<AuditEntry> entries_after(const Vault& v, std::size_t skip) {
  auto all = v.audit_entries();
  REQUIRE_MESSAGE(all.ok(), all.err().message);
  REQUIRE(all->size() >= skip);
  return {all->begin() + static_cast<std::ptrdiff_t>(skip), all->end()};
}

}  // namespace

TEST_CASE("read returns several fields in the order named, each in its form, under one audit entry") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  const std::size_t before = v.audit_entries()->size();
  auto view = v.accessor("support-desk")->view("C-1001", "service");
  REQUIRE(view.ok());
  auto got = view->read({"phone", "email", "notes", "credit_score", "email"});
  REQUIRE_MESSAGE(got.ok(), got.err().message);
  REQUIRE(got->size() == 5);
  CHECK((*got)[0]->value == "*********0123");
  CHECK((*got)[0]->field == "phone");
  CHECK((*got)[1]->value == "ann@example.com");
  CHECK((*got)[2]->value == "");
  CHECK((*got)[2]->form.to_string() == "redact");
  REQUIRE_FALSE((*got)[3].ok());
  CHECK((*got)[3].err().code == errc::not_found);
  CHECK((*got)[4]->value == "ann@example.com");
  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].action == AuditAction::view_opened);
  CHECK(entries[1].action == AuditAction::field_read);
  CHECK(entries[1].allowed);
  CHECK(entries[1].fields == std::vector<std::string>{"phone:mask:last4", "email:clear", "notes:redact",
                                                      "credit_score:absent", "email:clear"});
}

TEST_CASE("read refuses fields one by one, reads none it refuses, and logs one entry per reason") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  const std::size_t before = v.audit_entries()->size();
  auto view = v.accessor("bi-dashboard")->view("C-1001", "analytics");
  REQUIRE(view.ok());
  auto got = view->read({"phone", "email", "notes", "birth_date", "no_such_field"});
  REQUIRE_MESSAGE(got.ok(), got.err().message);
  REQUIRE(got->size() == 5);
  REQUIRE_FALSE((*got)[0].ok());
  CHECK((*got)[0].err().code == errc::denied);
  CHECK((*got)[1]->form.to_string() == "pseudonym");
  CHECK((*got)[1]->value.find("ann") == std::string::npos);
  REQUIRE_FALSE((*got)[2].ok());
  CHECK((*got)[2].err().code == errc::denied);
  CHECK((*got)[3]->value == "1990");
  REQUIRE_FALSE((*got)[4].ok());
  CHECK((*got)[4].err().code == errc::denied);
  CHECK((*got)[4].err().reason != (*got)[0].err().reason);

  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 4);  // view, one denial per reason, the fields revealed
  CHECK(entries[1].action == AuditAction::access_denied);
  CHECK_FALSE(entries[1].allowed);
  CHECK(entries[1].reason == to_string((*got)[0].err().reason));
  CHECK(entries[1].fields == std::vector<std::string>{"phone", "notes"});
  CHECK(entries[2].action == AuditAction::access_denied);
  CHECK(entries[2].reason == to_string((*got)[4].err().reason));
  CHECK(entries[2].fields == std::vector<std::string>{"no_such_field"});
  CHECK(entries[3].action == AuditAction::field_read);
  CHECK(entries[3].fields == std::vector<std::string>{"email:pseudonym", "birth_date:generalise:year"});
}

TEST_CASE("read past one field's retention refuses that field and returns the others") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  clock.advance(std::chrono::seconds(3 * 366 * 86400));
  auto got = v.accessor("support-desk")->view("C-1001", "service")->read({"email", "birth_date"});
  REQUIRE(got.ok());
  REQUIRE_FALSE((*got)[0].ok());
  CHECK((*got)[0].err().reason == deny_reason::retention_expired);
  CHECK((*got)[1]->value == "1990-04-02");
}

TEST_CASE("read names no field: bad_input, and nothing is logged") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto view = v.accessor("support-desk")->view("C-1001", "service");
  REQUIRE(view.ok());
  const std::size_t before = v.audit_entries()->size();
  auto got = view->read(std::span<const std::string_view>());
  REQUIRE_FALSE(got.ok());
  CHECK(got.err().code == errc::bad_input);
  CHECK(v.audit_entries()->size() == before);
}

TEST_CASE("read of a customer erased after the view opened fails whole and logs the refusal") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  put_ann(v);
  auto view = v.accessor("support-desk")->view("C-1001", "service");
  REQUIRE(view.ok());
  REQUIRE(v.erase("C-1001").ok());
  const std::size_t before = v.audit_entries()->size();
  auto got = view->read({"email", "phone"});
  REQUIRE_FALSE(got.ok());
  CHECK(got.err().code == errc::erased);
  const auto entries = entries_after(v, before);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].action == AuditAction::access_denied);
  CHECK(entries[0].reason == "erased");
  CHECK(entries[0].fields == std::vector<std::string>{"email", "phone"});
}

TEST_CASE("SQLite vault: a tampered field fails alone in a read, a refused tampered field stays refused") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  FakeClock clock;
  {
    auto v =
        Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options(clock));
    REQUIRE_MESSAGE(v.ok(), v.err().message);
    put_ann(*v);
  }
  Sql(file).exec(
      "UPDATE fields SET sealed = zeroblob(60) WHERE customer='C-1001' AND field IN ('email', 'phone')");
  auto v = Vault::open(file, test::kTestPassphrase, test::test_vault_options(clock));
  REQUIRE(v.ok());
  const std::size_t before = v->audit_entries()->size();
  SUBCASE("allowed: the tampered field answers integrity, the others their values") {
    auto got = v->accessor("support-desk")->view("C-1001", "service")->read({"email", "birth_date"});
    REQUIRE(got.ok());
    REQUIRE_FALSE((*got)[0].ok());
    CHECK((*got)[0].err().code == errc::integrity);
    CHECK((*got)[1]->value == "1990-04-02");
    const auto entries = entries_after(*v, before);
    REQUIRE(entries.size() == 3);
    CHECK(entries[1].action == AuditAction::access_denied);
    CHECK(entries[1].reason == "integrity");
    CHECK(entries[1].fields == std::vector<std::string>{"email"});
    CHECK(entries[2].fields == std::vector<std::string>{"birth_date:clear"});
  }
  SUBCASE("refused: never decrypted, so the tampering shows as the refusal") {
    auto got = v->accessor("bi-dashboard")->view("C-1001", "analytics")->read({"phone", "birth_date"});
    REQUIRE(got.ok());
    REQUIRE_FALSE((*got)[0].ok());
    CHECK((*got)[0].err().code == errc::denied);
    CHECK((*got)[1]->value == "1990");
  }
}

TEST_CASE("a value from a source the field does not accept is refused naming the line, nothing is written") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  std::istringstream lines(
      R"({"id": "C-1", "source": "credit-bureau", "fields": {"credit_score": 700}})"
      "\n"
      R"({"id": "C-2", "source": "credit-bureau", "fields": {"credit_score": 650, "email": "bob@example.com"}})"
      "\n"
      R"({"id": "C-3", "source": "data-broker", "fields": {"credit_score": 610}})"
      "\n");
  auto records = parse_records(lines, ImportFormat::jsonl, "scores.jsonl");
  REQUIRE(records.ok());
  auto written = v.write(*records, "scores.jsonl");
  REQUIRE_FALSE(written.ok());
  CHECK(written.err().code == errc::denied);
  CHECK(written.err().reason == deny_reason::source_not_permitted);
  CHECK(written.err().message.find("scores.jsonl:3:") != std::string::npos);
  CHECK(written.err().message.find("data-broker") != std::string::npos);
  CHECK(written.err().message.find("610") == std::string::npos);
  for (const char* c : {"C-1", "C-2", "C-3"}) CHECK_FALSE(*v.contains(c));

  // From the declared source the same file goes in, and each value keeps its source and time.
  (*records)[2].source = "credit-bureau";
  REQUIRE(v.write(*records, "scores.jsonl").ok());
  auto report = v.describe_subject("C-2");
  REQUIRE(report.ok());
  for (const HeldField& f : report->fields) {
    CHECK(f.source == "credit-bureau");
    CHECK(f.collected_at == *clock.t);
  }
  CHECK(report->fields.size() == 2);
}
