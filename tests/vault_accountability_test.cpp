// vault_accountability_test.cpp: who did what, in the audit log: the actor of staff actions, the
// reason, request and counts an erasure records (never a value), dry runs that change nothing,
// and staff reads of metadata (the staff audit, a customer's consent) that leave an entry.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/vault.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;

namespace {

constexpr std::string_view kActor = "dpo@example.org";

Vault new_vault(const test::TempDir& dir) {
  auto v = Vault::create(dir.path() / "crm.vault", test::retail_policy(), test::kTestPassphrase,
                         test::test_vault_options(AuditMode::durable, kActor));
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  return std::move(*v);
}

void put_customer(Vault& v, const std::string& customer) {
  REQUIRE(v.put(customer, "email", "ann.canary@example.com").ok());
  REQUIRE(v.put(customer, "phone", "+44 7700 900123").ok());
  REQUIRE(v.put(customer, "birth_date", "1990-04-02").ok());
  REQUIRE(v.record_consent(customer, "marketing.email", ConsentAction::grant).ok());
  REQUIRE(v.record_consent(customer, "marketing.email", ConsentAction::withdraw).ok());
}

std::vector<AuditEntry> entries_of(const Vault& v, AuditAction action) {
  auto all = v.audit_entries();
  REQUIRE(all.ok());
  std::vector<AuditEntry> out;
  std::copy_if(all->begin(), all->end(), std::back_inserter(out),
               [action](const AuditEntry& e) { return e.action == action; });
  return out;
}

}  // namespace

TEST_CASE("an erasure with a request records its reason, reference and counts, never a value") {
  test::TempDir dir;
  Vault v = new_vault(dir);
  put_customer(v, "C-1");
  ErasureRequest request;
  request.reason = "customer asked by e-mail";
  request.request = "TICKET-4711";
  auto report = v.erase("C-1", request);
  REQUIRE_MESSAGE(report.ok(), report.err().message);
  CHECK(report->values == 3);
  CHECK(report->fields == std::vector<std::string>{"birth_date", "email", "phone"});
  CHECK(report->consent_events == 2);
  CHECK_FALSE(report->dry_run);

  const auto erasures = entries_of(v, AuditAction::erasure);
  REQUIRE(erasures.size() == 1);
  const AuditEntry& e = erasures.front();
  CHECK(e.accessor == kActor);
  CHECK(e.reason == "customer asked by e-mail");
  const auto details = parse_erasure_details(e.fields);
  REQUIRE(details.has_value());
  CHECK(details->values == 3);
  CHECK(details->fields == 3);
  CHECK(details->consent_events == 2);
  CHECK(details->request == "TICKET-4711");
  for (const std::string& f : e.fields) CHECK(f.find("canary") == std::string::npos);
  CHECK(v.erased_at("C-1")->has_value());
  const auto verified = v.verify_audit();
  REQUIRE(verified.ok());
  CHECK_MESSAGE(verified->ok, verified->problem);
}

TEST_CASE("erase without a request still records the counts") {
  test::TempDir dir;
  Vault v = new_vault(dir);
  put_customer(v, "C-1");
  REQUIRE(v.erase("C-1").ok());
  const auto erasures = entries_of(v, AuditAction::erasure);
  REQUIRE(erasures.size() == 1);
  CHECK(erasures.front().reason.empty());
  const auto details = parse_erasure_details(erasures.front().fields);
  REQUIRE(details.has_value());
  CHECK(details->values == 3);
  CHECK(details->request.empty());
}

TEST_CASE("a dry-run erasure counts what would go and changes and records nothing") {
  test::TempDir dir;
  Vault v = new_vault(dir);
  put_customer(v, "C-1");
  const auto before = v.audit_entries();
  REQUIRE(before.ok());
  ErasureRequest request;
  request.dry_run = true;
  auto report = v.erase("C-1", request);
  REQUIRE_MESSAGE(report.ok(), report.err().message);
  CHECK(report->dry_run);
  CHECK(report->values == 3);
  CHECK(report->fields.size() == 3);
  CHECK(report->consent_events == 2);
  CHECK_FALSE(v.erased_at("C-1")->has_value());
  CHECK(v.audit_entries()->size() == before->size());
  CHECK(v.accessor("support-desk")->view("C-1", "service")->get("email").ok());

  CHECK(v.erase("C-404", request).err().code == errc::not_found);
  REQUIRE(v.erase("C-1").ok());
  CHECK(v.erase("C-1", request).err().code == errc::erased);
}

TEST_CASE("an erasure reason or reference that is too long or holds a control character is refused") {
  test::TempDir dir;
  Vault v = new_vault(dir);
  put_customer(v, "C-1");
  for (const auto& [reason, reference] :
       std::vector<std::pair<std::string, std::string>>{{std::string(kMaxErasureReasonBytes + 1, 'a'), ""},
                                                        {"line\nbreak", ""},
                                                        {"ok", std::string(kMaxErasureRequestBytes + 1, 'r')},
                                                        {"ok", "T\x1b[2J"}}) {
    ErasureRequest request;
    request.reason = reason;
    request.request = reference;
    const auto r = v.erase("C-1", request);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
  }
  CHECK_FALSE(v.erased_at("C-1")->has_value());
}

TEST_CASE("the staff audit and a review of consent are audited as staff reads naming no value") {
  test::TempDir dir;
  Vault v = new_vault(dir);
  put_customer(v, "C-1");
  REQUIRE(entries_of(v, AuditAction::staff_read).empty());

  REQUIRE(v.describe_subject("C-1").ok());
  auto reads = entries_of(v, AuditAction::staff_read);
  REQUIRE(reads.size() == 1);
  CHECK(reads[0].accessor == kActor);
  CHECK(reads[0].customer == v.audit_pseudonym("C-1"));
  CHECK(parse_staff_view(reads[0].reason) == StaffView::subject_audit);
  CHECK(reads[0].fields == std::vector<std::string>{"birth_date", "email", "phone"});

  auto history = v.review_consent("C-1");
  REQUIRE(history.ok());
  CHECK(history->size() == 2);
  reads = entries_of(v, AuditAction::staff_read);
  REQUIRE(reads.size() == 2);
  CHECK(parse_staff_view(reads[1].reason) == StaffView::consent);
  CHECK(reads[1].fields.empty());

  // The next staff audit lists the earlier looks among the accesses.
  auto report = v.describe_subject("C-1");
  REQUIRE(report.ok());
  CHECK(std::count_if(report->accesses.begin(), report->accesses.end(),
                      [](const AccessRecord& a) { return a.action == AuditAction::staff_read; }) == 2);

  CHECK(v.review_consent("C-404").err().code == errc::not_found);
  REQUIRE(v.erase("C-1").ok());
  CHECK(v.review_consent("C-1").err().code == errc::erased);
  const auto verified = v.verify_audit();
  REQUIRE(verified.ok());
  CHECK_MESSAGE(verified->ok, verified->problem);
}

TEST_CASE("the staff-read and erasure vocabulary reads back what it writes") {
  for (StaffView view : {StaffView::subject_audit, StaffView::consent})
    CHECK(parse_staff_view(to_string(view)) == view);
  CHECK(to_string(StaffView::subject_audit) == "subject_audit");
  CHECK(to_string(StaffView::consent) == "consent");
  CHECK_FALSE(parse_staff_view("").has_value());
  CHECK(to_string(AuditAction::staff_read) == "staff_read");
  CHECK(parse_audit_action("staff_read") == AuditAction::staff_read);

  ErasureDetails d;
  d.values = 4;
  d.fields = 3;
  d.consent_events = 0;
  d.request = "REQ-1";
  const auto fields = format_erasure_details(d);
  CHECK(fields == std::vector<std::string>{"values=4", "fields=3", "consent_events=0", "request=REQ-1"});
  const auto back = parse_erasure_details(fields);
  REQUIRE(back.has_value());
  CHECK(back->values == 4);
  CHECK(back->fields == 3);
  CHECK(back->consent_events == 0);
  CHECK(back->request == "REQ-1");
  // An erasure entry written before the details existed has none.
  const auto legacy = parse_erasure_details({});
  REQUIRE(legacy.has_value());
  CHECK_FALSE(legacy->values.has_value());
  CHECK(legacy->request.empty());
  CHECK_FALSE(parse_erasure_details({"values=-1"}).has_value());
  CHECK_FALSE(parse_erasure_details({"values=x"}).has_value());
  CHECK_FALSE(parse_erasure_details({"values=1", "values=2"}).has_value());
  CHECK_FALSE(parse_erasure_details({"email"}).has_value());
}

TEST_CASE("an audit entry of a staff read encodes and decodes like any other") {
  AuditEntry e;
  e.seq = 7;
  e.customer = "ab12";
  e.accessor = std::string(kActor);
  e.action = AuditAction::staff_read;
  e.reason = std::string(to_string(StaffView::consent));
  const auto decoded = decode_audit_entry(encode_audit_entry(e));
  REQUIRE(decoded.ok());
  CHECK(decoded->action == AuditAction::staff_read);
  CHECK(decoded->reason == "consent");
  CHECK(decoded->accessor == kActor);
}

TEST_CASE("erasure entries of a vault written before erasures carried details parse as having none") {
  test::TempDir dir;
  const auto copy = dir.path() / "v1.vault";
  std::filesystem::copy_file(std::filesystem::path(CONSENTRY_TEST_DATA) / "legacy" / "v1.vault", copy);
  VaultOptions options;
  options.kdf = KdfStrength::minimum;
  auto v = Vault::open(copy, "legacy-vault-passphrase", options);
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  const auto erasures = entries_of(*v, AuditAction::erasure);
  REQUIRE_FALSE(erasures.empty());
  for (const AuditEntry& e : erasures) {
    const auto details = parse_erasure_details(e.fields);
    REQUIRE(details.has_value());
    CHECK_FALSE(details->values.has_value());
    CHECK(details->request.empty());
    CHECK(e.reason.empty());
  }
}
