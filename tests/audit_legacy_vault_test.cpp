// audit_legacy_vault_test.cpp: a vault written by an earlier consentry (tests/data/legacy/v1.vault,
// made by tests/data/legacy/make_vault.sh) still opens and verifies, every entry re-encodes to the
// bytes it was stored as, and every reason and read field in it parses with audit.hpp's
// vocabulary: the spellings the chain hashes have not changed.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "consentry/audit.hpp"
#include "consentry/consent.hpp"
#include "consentry/contact.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/form.hpp"
#include "consentry/vault.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
using consentry::test::must;

namespace {

constexpr std::string_view kLegacyPassphrase = "legacy-vault-passphrase";

std::filesystem::path legacy_vault() {
  return std::filesystem::path(CONSENTRY_TEST_DATA) / "legacy" / "v1.vault";
}

/// copy_legacy_vault copies the checked-in vault into `dir`, so that opening it changes no
/// checked-in file.
std::filesystem::path copy_legacy_vault(const std::filesystem::path& dir) {
  const auto copy = dir / "v1.vault";
  std::filesystem::copy_file(legacy_vault(), copy);
  return copy;
}

}  // namespace

TEST_CASE("a vault written before the audit vocabulary moved verifies after it") {
  test::TempDir dir;
  const auto file = copy_legacy_vault(dir.path());
  VaultOptions options;
  options.kdf = KdfStrength::minimum;
  Vault vault = must(Vault::open(file, kLegacyPassphrase, options));
  const AuditVerification report = must(vault.verify_audit());
  CHECK_MESSAGE(report.ok, report.problem);
  CHECK(report.entries > 20);
}

TEST_CASE("every entry of a vault written before the audit vocabulary moved parses with it") {
  test::TempDir dir;
  const auto file = copy_legacy_vault(dir.path());
  auto store = must(open_sqlite_store(file, StoreMode::open));
  std::map<AuditAction, int> actions;
  std::set<PurgeReason> purges;
  int read_fields = 0;
  int absent_fields = 0;
  int entries = 0;
  must(store->scan_audit(1, [&](const StoredAuditEntry& stored) {
    ++entries;
    const AuditEntry e = must(decode_audit_entry(stored.encoded));
    CAPTURE(e.seq);
    CHECK(encode_audit_entry(e) == stored.encoded);
    ++actions[e.action];
    if (!e.allowed) {
      CHECK_MESSAGE((parse_deny_reason(e.reason) || e.reason == kIntegrityReason), e.reason);
      return true;
    }
    switch (e.action) {
      case AuditAction::field_read:
        for (const std::string& text : e.fields) {
          const auto read = parse_read_field(text);
          REQUIRE(read.has_value());
          CHECK(format_read_field(read->field, read->form) == text);
          if (read->absent()) {
            ++absent_fields;
          } else {
            CHECK(parse_form(read->form).has_value());
            ++read_fields;
          }
        }
        CHECK(e.reason.empty());
        break;
      case AuditAction::consent_recorded:
        CHECK((parse_consent_action(e.reason) || parse_contact_preference_kind(e.reason)));
        break;
      case AuditAction::purge: {
        const auto reason = parse_purge_reason(e.reason);
        REQUIRE(reason.has_value());
        CHECK(to_string(*reason) == e.reason);
        purges.insert(*reason);
        break;
      }
      case AuditAction::aggregate_made:
        CHECK(e.reason.rfind(epsilon_reason(""), 0) == 0);
        CHECK(e.reason == epsilon_reason(e.reason.substr(epsilon_reason("").size())));
        break;
      default: break;
    }
    return true;
  }));
  // The file holds every kind of entry whose reason or fields follow the vocabulary.
  CHECK(entries > 20);
  for (AuditAction a : {AuditAction::view_opened, AuditAction::field_read, AuditAction::access_denied,
                        AuditAction::value_written, AuditAction::consent_recorded, AuditAction::export_made,
                        AuditAction::erasure, AuditAction::key_rotation, AuditAction::purge,
                        AuditAction::contact_made, AuditAction::aggregate_made}) {
    CAPTURE(to_string(a));
    CHECK(actions[a] > 0);
  }
  CHECK(purges.count(PurgeReason::profiling_withdrawn) == 1);
  CHECK(purges.count(PurgeReason::retention_expired) == 1);
  CHECK(read_fields > 0);
  CHECK(absent_fields > 0);
}

TEST_CASE("the audit vocabulary reads back what it writes") {
  for (PurgeReason r :
       {PurgeReason::retention_expired, PurgeReason::profiling_withdrawn, PurgeReason::profiling_lapsed})
    CHECK(parse_purge_reason(to_string(r)) == r);
  CHECK_FALSE(parse_purge_reason("").has_value());
  CHECK_FALSE(parse_purge_reason("Retention_Expired").has_value());
  // A purge past retention is spelt as the read refused past retention.
  CHECK(to_string(PurgeReason::retention_expired) == to_string(deny_reason::retention_expired));

  CHECK(format_read_field("email", "mask:last4") == "email:mask:last4");
  const auto read = parse_read_field("email:mask:last4");
  REQUIRE(read.has_value());
  CHECK(read->field == "email");
  CHECK(read->form == "mask:last4");
  CHECK_FALSE(read->absent());
  const std::string absent_text = format_read_field("phone", kAbsentForm);
  CHECK(absent_text == "phone:absent");
  const auto absent = parse_read_field(absent_text);
  REQUIRE(absent.has_value());
  CHECK(absent->field == "phone");
  CHECK(absent->absent());
  CHECK_FALSE(parse_read_field("email").has_value());

  CHECK(epsilon_reason("0.5") == "epsilon=0.5");
  for (int i = 0; i <= static_cast<int>(deny_reason::privacy_budget_spent); ++i) {
    const auto r = static_cast<deny_reason>(i);
    CHECK(parse_deny_reason(to_string(r)) == r);
  }
  CHECK_FALSE(parse_deny_reason("integrity").has_value());
}
