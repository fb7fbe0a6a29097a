// vault_receipt_test.cpp: signed consent receipts (consentry/receipt.hpp): issued for any ledger
// event, in the customer's export, checked offline with only the vault's public key; and every
// change to a receipt, another vault's key, or a malformed one refused.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "../src/text/hex.hpp"
#include "consentry/receipt.hpp"
#include "consentry/report.hpp"
#include "consentry/vault.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::must;

namespace {

using Json = nlohmann::json;

/// changed gives `receipt` with `change` applied to its JSON.
template <typename F>
std::string changed(const std::string& receipt, F change) {
  Json j = Json::parse(receipt);
  change(j);
  return j.dump();
}

}  // namespace

TEST_CASE("a consent receipt verifies offline with the vault's public key and says what was agreed") {
  test::TempDir dir;
  Vault v =
      test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase, test::test_vault_options());
  must(v.put("C-1", "email", "ann@example.com"));
  ConsentDetails web;
  web.channel = "web";
  web.notice = "privacy-2026-11";
  const ConsentEvent grant = must(v.record_consent("C-1", "marketing.email", ConsentAction::grant, web));
  const ConsentEvent object = must(v.record_consent("C-1", "analytics", ConsentAction::object));

  const std::size_t looks = test::count_action(v, AuditAction::staff_read);
  const std::string receipt = must(v.consent_receipt("C-1", grant.seq));
  CHECK(test::count_action(v, AuditAction::staff_read) == looks + 1);
  const ConsentReceipt r = must(verify_consent_receipt(receipt, v.audit_public_key()));
  CHECK(r.subject == "C-1");
  CHECK(r.purpose == "marketing.email");
  CHECK(r.action == "grant");
  CHECK(r.ledger_seq == grant.seq);
  CHECK(r.policy_version == 1);
  CHECK(r.controller == "Acme Retail Ltd");
  CHECK(r.receipt_id.size() == 32);
  const Json j = Json::parse(receipt);
  CHECK(j.at("collection_method") == "web");
  CHECK(j.at("notice") == "privacy-2026-11");
  CHECK(j.at("purpose").at("basis") == "consent");
  CHECK(j.at("purpose").at("expires_at").is_string());
  // The categories and fields the purpose reaches under the policy.
  CHECK(j.at("data_categories") == Json::array({"contact", "inferred"}));
  CHECK(j.at("fields") == Json::array({"email", "expecting_child"}));

  // The same event gives the same receipt id; another event another.
  CHECK(must(verify_consent_receipt(must(v.consent_receipt("C-1", grant.seq)), v.audit_public_key()))
            .receipt_id == r.receipt_id);
  const ConsentReceipt o =
      must(verify_consent_receipt(must(v.consent_receipt("C-1", object.seq)), v.audit_public_key()));
  CHECK(o.action == "object");
  CHECK(o.receipt_id != r.receipt_id);

  // Reformatted (indented, members reordered) it still verifies.
  CHECK(verify_consent_receipt(Json::parse(receipt).dump(4), v.audit_public_key()).ok());

  // The customer's export carries one verifiable receipt per ledger event.
  const SubjectReport report = must(v.export_subject("C-1"));
  REQUIRE(report.consent_receipts.size() == 2);
  for (const std::string& each : report.consent_receipts)
    CHECK(verify_consent_receipt(each, v.audit_public_key()).ok());
  const Json exported = Json::parse(export_json(report));
  REQUIRE(exported.at("consent_receipts").size() == 2);
  CHECK(verify_consent_receipt(exported.at("consent_receipts")[1].dump(), v.audit_public_key())->action ==
        "object");
  // The staff audit does not issue receipts.
  CHECK(must(v.describe_subject("C-1")).consent_receipts.empty());

  // An event the customer's ledger does not hold, and an unknown customer.
  CHECK(v.consent_receipt("C-1", 9999).err().code == errc::not_found);
  CHECK(v.consent_receipt("C-404", grant.seq).err().code == errc::not_found);
}

TEST_CASE("a changed, re-keyed or malformed consent receipt is refused") {
  test::TempDir dir;
  Vault v =
      test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase, test::test_vault_options());
  const ConsentEvent grant = must(v.record_consent("C-1", "marketing.email", ConsentAction::grant));
  const ConsentEvent withdrawal = must(v.record_consent("C-1", "marketing.email", ConsentAction::withdraw));
  const std::string receipt = must(v.consent_receipt("C-1", grant.seq));
  const std::string other = must(v.consent_receipt("C-1", withdrawal.seq));
  const bytes& key = v.audit_public_key();

  struct Change {
    const char* what;
    std::string text;
  };
  const Change forged[] = {
      {"the action changed", changed(receipt, [](Json& j) { j["action"] = "withdraw"; })},
      {"the subject changed", changed(receipt, [](Json& j) { j["subject"] = "C-2"; })},
      {"a nested member changed", changed(receipt, [](Json& j) { j["purpose"]["basis"] = "contract"; })},
      {"a category added", changed(receipt, [](Json& j) { j["data_categories"].push_back("financial"); })},
      {"a member added", changed(receipt, [](Json& j) { j["note"] = "x"; })},
      {"an optional member removed", changed(receipt, [](Json& j) { j.erase("notice"); })},
      {"another receipt's signature",
       changed(receipt, [&](Json& j) { j["signature"] = Json::parse(other).at("signature"); })},
  };
  for (const Change& c : forged) {
    INFO(c.what);
    auto checked = verify_consent_receipt(c.text, key);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.err().code == errc::integrity);
  }

  // Another vault's key: the receipt names a key other than the one given.
  test::TempDir other_dir;
  Vault elsewhere = test::on_each_store(other_dir, test::retail_policy(), test::kTestPassphrase,
                                        test::test_vault_options());
  CHECK(verify_consent_receipt(receipt, elsewhere.audit_public_key()).err().code == errc::integrity);
  // ... and re-labelled with that key, the signature fails.
  const std::string relabelled =
      changed(receipt, [&](Json& j) { j["public_key"] = detail::hex_encode(elsewhere.audit_public_key()); });
  CHECK(verify_consent_receipt(relabelled, elsewhere.audit_public_key()).err().code == errc::integrity);

  const Change malformed[] = {
      {"not JSON", "{\"receipt_version\":"},
      {"not an object", "[]"},
      {"another version", changed(receipt, [](Json& j) { j["receipt_version"] = "consentry-receipt-0"; })},
      {"no signature", changed(receipt, [](Json& j) { j.erase("signature"); })},
      {"a short signature", changed(receipt, [](Json& j) { j["signature"] = "00ff"; })},
      {"a subject that is a number", changed(receipt, [](Json& j) { j["subject"] = 7; })},
      {"no purpose id", changed(receipt, [](Json& j) { j["purpose"].erase("id"); })},
      {"a duplicate key", "{\"receipt_version\": \"consentry-receipt-1\", \"receipt_version\": \"x\"}"},
  };
  for (const Change& c : malformed) {
    INFO(c.what);
    auto checked = verify_consent_receipt(c.text, key);
    REQUIRE_FALSE(checked.ok());
    CHECK(checked.err().code == errc::bad_input);
    CHECK(checked.err().message.find("consent receipt") == 0);
  }
}
