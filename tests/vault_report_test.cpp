// vault_report_test.cpp: what the vault gathers for the customer's export, the staff audit and
// the record of processing: every value and its metadata, consents, accesses from the log; the
// export audited, refused for erased and unknown customers, and carried into a fresh vault.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/import.hpp"
#include "consentry/report.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kActor = "privacy-team";  // the audit log names it; tests check

using consentry::test::TempDir;

using consentry::test::FakeClock;

Vault each_store_vault(const FakeClock& clock, const TempDir& dir) {
  return test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase,
                             test::test_vault_options(clock, AuditMode::durable, kActor));
}

const HeldField* held(const SubjectReport& r, std::string_view field) {
  auto it =
      std::find_if(r.fields.begin(), r.fields.end(), [&](const HeldField& f) { return f.field == field; });
  return it == r.fields.end() ? nullptr : &*it;
}

const PurposeStanding* standing(const SubjectReport& r, std::string_view purpose) {
  auto it = std::find_if(r.purposes.begin(), r.purposes.end(),
                         [&](const PurposeStanding& p) { return p.purpose == purpose; });
  return it == r.purposes.end() ? nullptr : &*it;
}

std::size_t count_actions(const std::vector<AuditEntry>& log, AuditAction action) {
  return static_cast<std::size_t>(
      std::count_if(log.begin(), log.end(), [&](const AuditEntry& e) { return e.action == action; }));
}

// sample writes Ann's values from two sources, her consents, and one read by the support desk.
void sample(Vault& v, const FakeClock& clock) {
  const timestamp signup = *clock.t - 24h * 400;
  REQUIRE(v.put("C-1", "email", "ann@example.com", "web-signup", signup).ok());
  REQUIRE(v.put("C-1", "birth_date", "1990-04-02", "web-signup", signup).ok());
  REQUIRE(v.put("C-1", "phone", "+44 7700 900123", "store", *clock.t - 24h).ok());
  REQUIRE(v.put("C-1", "credit_score", "712", "credit-bureau", *clock.t - 24h * 30).ok());
  REQUIRE(v.record_consent("C-1", "marketing.email", ConsentAction::grant, {"web", "notice-7", {}}).ok());
  REQUIRE(v.record_consent("C-1", "profiling", ConsentAction::grant, {"web", "notice-7", {}}).ok());
  REQUIRE(v.put("C-1", "expecting_child", "false", "model-v2").ok());
  REQUIRE(v.record_consent("C-1", "analytics", ConsentAction::object, {"phone", "notice-7", {}}).ok());
  auto desk = v.accessor("support-desk");
  REQUIRE(desk.ok());
  auto view = desk->view("C-1", "service");
  REQUIRE(view.ok());
  REQUIRE(view->read({"email", "phone"}).ok());
}

}  // namespace

TEST_CASE("an export holds every value in clear with its metadata, consents and accesses") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  sample(v, clock);

  auto r = v.export_subject("C-1");
  REQUIRE_MESSAGE(r.ok(), r.err().message);
  CHECK(r->customer == "C-1");
  CHECK(r->with_values);
  CHECK(r->generated_at == *clock.t);
  CHECK(r->controller.contact == "privacy@acme.example");
  REQUIRE(r->fields.size() == 5);

  const HeldField* email = held(*r, "email");
  REQUIRE(email != nullptr);
  CHECK(email->value == "ann@example.com");
  CHECK(email->source == "web-signup");
  CHECK(email->collected_at == *clock.t - 24h * 400);
  CHECK(email->category == "contact");
  REQUIRE(email->retention.has_value());
  CHECK(email->retention->to_string() == "P3Y");
  REQUIRE(email->retained_until.has_value());
  CHECK(*email->retained_until == email->retention->after(email->collected_at));
  CHECK_FALSE(email->past_retention);
  CHECK_FALSE(email->inferred);
  CHECK_FALSE(email->third_party);
  std::vector<std::string> purposes;
  for (const FieldUse& u : email->uses) purposes.push_back(u.purpose + "=" + u.form.to_string());
  CHECK(purposes == std::vector<std::string>{"service=clear", "marketing.email=clear", "analytics=pseudonym",
                                             "research=pseudonym"});
  CHECK(email->uses[0].basis == Basis::contract);

  const HeldField* score = held(*r, "credit_score");
  REQUIRE(score != nullptr);
  CHECK(score->value == "712");
  CHECK(score->third_party);
  CHECK(score->source == "credit-bureau");
  CHECK_FALSE(score->retained_until.has_value());

  const HeldField* guess = held(*r, "expecting_child");
  REQUIRE(guess != nullptr);
  CHECK(guess->inferred);
  CHECK(guess->derived_from == std::vector<std::string>{"birth_date"});
  CHECK(guess->value == "false");

  CHECK(held(*r, "phone")->value == "+447700900123");  // unmasked, as stored (normalised)
  CHECK(held(*r, "notes") == nullptr);                 // nothing held, nothing listed

  // Every purpose of the policy, with where the customer stands on it.
  CHECK(r->purposes.size() == test::retail_policy().purposes().size());
  REQUIRE(standing(*r, "marketing.email") != nullptr);
  CHECK(standing(*r, "marketing.email")->status == ConsentStatus::granted);
  CHECK(standing(*r, "marketing.email")->expires_at.has_value());
  CHECK(standing(*r, "analytics")->status == ConsentStatus::objected);
  CHECK(standing(*r, "service")->status == ConsentStatus::none);
  CHECK(standing(*r, "service")->basis == Basis::contract);
  REQUIRE(r->consent_history.size() == 3);
  CHECK(r->consent_history[0].notice == "notice-7");
  CHECK(r->consent_history[2].action == ConsentAction::object);

  // The support desk's read is listed with its fields and forms; no entry names the pseudonym.
  auto read = std::find_if(r->accesses.begin(), r->accesses.end(),
                           [](const AccessRecord& a) { return a.action == AuditAction::field_read; });
  REQUIRE(read != r->accesses.end());
  CHECK(read->accessor == "support-desk");
  CHECK(read->purpose == "service");
  CHECK(read->fields == std::vector<std::string>{"email:clear", "phone:mask:last4"});
  CHECK(std::is_sorted(r->accesses.begin(), r->accesses.end(),
                       [](const AccessRecord& a, const AccessRecord& b) { return a.seq < b.seq; }));
}

TEST_CASE("an export is audited, and the next export lists the one before") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  sample(v, clock);
  auto before = v.audit_entries("C-1");
  REQUIRE(before.ok());
  REQUIRE(v.export_subject("C-1").ok());
  auto after = v.audit_entries("C-1");
  REQUIRE(after.ok());
  REQUIRE(after->size() == before->size() + 1);
  const AuditEntry& e = after->back();
  CHECK(e.action == AuditAction::export_made);
  CHECK(e.accessor == "privacy-team");
  CHECK(e.fields ==
        std::vector<std::string>{"birth_date", "credit_score", "email", "expecting_child", "phone"});

  auto again = v.export_subject("C-1");
  REQUIRE(again.ok());
  CHECK(std::count_if(again->accesses.begin(), again->accesses.end(),
                      [](const AccessRecord& a) { return a.action == AuditAction::export_made; }) == 1);
}

TEST_CASE("the staff description holds no value and is not an export") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  sample(v, clock);
  auto r = v.describe_subject("C-1");
  REQUIRE(r.ok());
  CHECK_FALSE(r->with_values);
  REQUIRE(r->fields.size() == 5);
  for (const HeldField& f : r->fields) CHECK(f.value.empty());
  CHECK(held(*r, "email")->source == "web-signup");
  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  CHECK(count_actions(*log, AuditAction::export_made) == 0);
}

TEST_CASE("values past retention are flagged, relative to the report's time") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  REQUIRE(v.put("C-1", "email", "ann@example.com", "web", *clock.t).ok());
  auto fresh = v.describe_subject("C-1");
  REQUIRE(fresh.ok());
  CHECK_FALSE(held(*fresh, "email")->past_retention);
  const timestamp until = *held(*fresh, "email")->retained_until;
  clock.advance(std::chrono::duration_cast<std::chrono::seconds>(until - *clock.t) - 1s);
  CHECK_FALSE(held(*v.describe_subject("C-1"), "email")->past_retention);
  clock.advance(1s);
  auto late = v.export_subject("C-1");
  REQUIRE(late.ok());
  CHECK(held(*late, "email")->past_retention);
  CHECK(held(*late, "email")->value == "ann@example.com");  // still held, so still shown
}

TEST_CASE("erased and unknown customers get no export, and an erased one's refusal is audited") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  sample(v, clock);
  auto unknown = v.export_subject("C-404");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.err().code == errc::not_found);
  CHECK(v.describe_subject("C-404").err().code == errc::not_found);
  CHECK(v.export_subject("").err().code == errc::invalid_argument);

  REQUIRE(v.erase("C-1").ok());
  auto gone = v.export_subject("C-1");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::erased);
  CHECK(v.describe_subject("C-1").err().code == errc::erased);
  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  const AuditEntry& last = log->back();
  CHECK(last.action == AuditAction::access_denied);
  CHECK(last.reason == "erased");
  CHECK(last.fields == std::vector<std::string>{"export"});
}

TEST_CASE("a value moved to another customer's row fails the export, which then shows nothing") {
  TempDir dir;
  FakeClock clock;
  auto made = Vault::create(dir.path() / "crm.vault", test::retail_policy(), test::kTestPassphrase,
                            test::test_vault_options(clock, AuditMode::durable, kActor));
  REQUIRE(made.ok());
  Vault v = std::move(*made);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  REQUIRE(v.put("C-2", "email", "bob@example.com").ok());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open((dir.path() / "crm.vault").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "UPDATE fields SET sealed = (SELECT sealed FROM fields WHERE customer = 'C-2' AND "
                         "field = 'email') WHERE customer = 'C-1' AND field = 'email'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto r = v.export_subject("C-1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
  CHECK(r.err().message.find("bob") == std::string::npos);
  auto log = v.audit_entries("C-1");
  REQUIRE(log.ok());
  CHECK(count_actions(*log, AuditAction::export_made) == 0);
}

TEST_CASE("a JSON export imports into a fresh vault with the same values, sources and times") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  sample(v, clock);
  auto first = v.export_subject("C-1");
  REQUIRE(first.ok());
  std::istringstream text(export_json(*first));
  auto records = parse_records(text, ImportFormat::export_json, "ann.json");
  REQUIRE_MESSAGE(records.ok(), records.err().message);
  CHECK(records->size() == 4);  // web-signup, store, credit-bureau and model-v2 at their times

  auto other = Vault::create_in(make_memory_store(), test::retail_policy(), test::kTestPassphrase,
                                test::test_vault_options(clock, AuditMode::durable, kActor));
  REQUIRE(other.ok());
  // The inferred value needs profiling consent in the new vault too.
  REQUIRE(other->record_consent("C-1", "profiling", ConsentAction::grant).ok());
  REQUIRE_MESSAGE(other->write(*records, "ann.json").ok(), other->write(*records, "ann.json").err().message);
  auto second = other->export_subject("C-1");
  REQUIRE(second.ok());
  REQUIRE(second->fields.size() == first->fields.size());
  for (std::size_t i = 0; i < first->fields.size(); ++i) {
    CAPTURE(first->fields[i].field);
    CHECK(second->fields[i].field == first->fields[i].field);
    CHECK(second->fields[i].value == first->fields[i].value);
    CHECK(second->fields[i].source == first->fields[i].source);
    CHECK(second->fields[i].collected_at == first->fields[i].collected_at);
  }
}

TEST_CASE("a malformed export is refused naming the JSON path, never a value") {
  auto parse = [](std::string text) {
    std::istringstream in(text);
    return parse_records(in, ImportFormat::export_json, "ann.json");
  };
  const std::string good_field =
      R"({"name": "email", "value": "secret-ann@example.com", "source": "web", "collected_at": "2025-05-01T10:00:00Z"})";
  CHECK(parse(R"({"consentry_export": 1, "customer": "C-1", "fields": [)" + good_field + "]}").ok());

  struct Bad {
    std::string text, path;
  };
  const std::vector<Bad> cases = {
      {"not json", "ann.json: line 1, column 2: invalid JSON"},
      {"[]", "ann.json: $: must be an object"},
      {R"({"customer": "C-1", "fields": []})", "$.consentry_export"},
      {R"({"consentry_export": 2, "customer": "C-1", "fields": []})", "$.consentry_export"},
      {R"({"consentry_export": 1, "fields": []})", "$.customer"},
      {R"({"consentry_export": 1, "customer": "C-1"})", "$.fields"},
      {R"({"consentry_export": 1, "customer": "C-1", "fields": [)" + good_field + R"(, 3]})", "$.fields[1]"},
      {R"({"consentry_export": 1, "customer": "C-1", "fields": [)" + good_field + ", " + good_field + "]}",
       "$.fields[1].name"},
      {R"({"consentry_export": 1, "customer": "C-1", "fields": [{"name": "email", "value": 7, "source": "web", "collected_at": "2025-05-01"}]})",
       "$.fields[0].value"},
      {R"({"consentry_export": 1, "customer": "C-1", "fields": [{"name": "email", "value": "secret-ann", "source": "web", "collected_at": "yesterday"}]})",
       "$.fields[0].collected_at"},
  };
  for (const Bad& b : cases) {
    CAPTURE(b.text);
    auto r = parse(b.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find(b.path) != std::string::npos);
    CHECK(r.err().message.find("secret-ann") == std::string::npos);
  }
}

TEST_CASE("the inventory counts holders and reads per purpose in the window, and names unused fields") {
  TempDir dir;
  FakeClock clock;
  Vault v = each_store_vault(clock, dir);
  for (int i = 0; i < 3; ++i) REQUIRE(v.put("C-" + std::to_string(i), "email", "a@example.com").ok());
  REQUIRE(v.put("C-0", "phone", "+44 7700 900123").ok());
  REQUIRE(v.put("C-1", "birth_date", "1990-04-02").ok());
  auto desk = v.accessor("support-desk");
  auto bi = v.accessor("bi-dashboard");
  REQUIRE(desk.ok());
  REQUIRE(bi.ok());
  // An old read of the phone (40 days ago), then recent reads of the email.
  REQUIRE(desk->view("C-0", "service")->read({"phone"}).ok());
  clock.advance(24h * 40);
  REQUIRE(desk->view("C-0", "service")->read({"email"}).ok());
  REQUIRE(desk->view("C-1", "service")->read({"email"}).ok());
  REQUIRE(bi->view("C-2", "analytics")->read({"email"}).ok());
  // A read that found no value is no read of the field; a denied one neither.
  REQUIRE(desk->view("C-2", "service")->read({"birth_date"}).ok());
  REQUIRE(desk->view("C-2", "service")->read({"expecting_child"}).ok());

  auto inv = v.inventory(*parse_iso_duration("P30D"), *parse_iso_duration("P90D"));
  REQUIRE_MESSAGE(inv.ok(), inv.err().message);
  CHECK(inv->generated_at == *clock.t);
  REQUIRE(inv->fields.size() == test::retail_policy().fields().size());
  auto field = [&](std::string_view name) -> const InventoryField& {
    auto it = std::find_if(inv->fields.begin(), inv->fields.end(),
                           [&](const InventoryField& f) { return f.field == name; });
    REQUIRE(it != inv->fields.end());
    return *it;
  };
  CHECK(field("email").customers == 3);
  CHECK(field("phone").customers == 1);
  CHECK(field("birth_date").customers == 1);
  CHECK(field("notes").customers == 0);
  CHECK(field("email").reads.at("service") == 2);
  CHECK(field("email").reads.at("analytics") == 1);
  CHECK(field("phone").reads.empty());  // its read is older than the 30-day window
  REQUIRE(field("phone").last_read.has_value());
  CHECK(*field("phone").last_read == *clock.t - 24h * 40);
  CHECK_FALSE(field("birth_date").last_read.has_value());
  CHECK(field("credit_score").sources == std::vector<std::string>{"credit-bureau"});
  CHECK(field("email").uses.size() == 4);
  // Read within 90 days: email and phone. Everything else is a candidate for minimisation.
  CHECK(inv->unused == std::vector<std::string>{"birth_date", "credit_score", "notes", "expecting_child"});

  // Without the hint there is no list; a shorter window drops the phone's read from "used".
  auto plain = v.inventory(*parse_iso_duration("P30D"));
  REQUIRE(plain.ok());
  CHECK(plain->unused.empty());
  auto recent = v.inventory(*parse_iso_duration("P30D"), *parse_iso_duration("P7D"));
  REQUIRE(recent.ok());
  CHECK(std::find(recent->unused.begin(), recent->unused.end(), "phone") != recent->unused.end());
  CHECK(std::find(recent->unused.begin(), recent->unused.end(), "email") == recent->unused.end());
}
