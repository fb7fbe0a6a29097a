// vault_token_test.cpp: the token form gives FF1 tokens that keep a value's shape, differ between
// fields, and turn back into the value only for a purpose that sees the field in clear; the
// HMAC-SHA256 pseudonym form is keyed per purpose. Every detokenisation is audited.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "consentry/vault.hpp"
#include "support/anonymise_policy.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::count_action;

namespace {

Vault make_vault(const test::TempDir& dir) {
  return test::on_each_store(dir, test::anonymise_policy(), test::kTestPassphrase,
                             test::test_vault_options(AuditMode::durable, "tester"));
}

std::string read_one(Vault& v, std::string_view accessor, std::string_view customer, std::string_view purpose,
                     std::string_view field) {
  auto a = v.accessor(accessor);
  REQUIRE(a.ok());
  auto view = a->view(customer, purpose);
  REQUIRE_MESSAGE(view.ok(), view.err().message);
  auto got = view->get(field);
  REQUIRE_MESSAGE(got.ok(), got.err().message);
  return got->value;
}

bool same_shape(std::string_view a, std::string_view b, bool letters) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto cls = [letters](char c) {
      if (c >= '0' && c <= '9') return 0;
      if (letters && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return 0;
      return 1;
    };
    if (cls(a[i]) != cls(b[i])) return false;
    if (cls(a[i]) == 1 && a[i] != b[i]) return false;  // the layout stays in place
  }
  return true;
}

}  // namespace

TEST_CASE("a token keeps the value's shape, differs between fields and turns back only for a clear purpose") {
  test::TempDir dir;
  Vault v = make_vault(dir);
  REQUIRE(v.put("C-1", "card_number", "4111111111111111").ok());
  REQUIRE(v.put("C-1", "account_number", "4111111111111111").ok());
  REQUIRE(v.put("C-1", "phone", "+447700900123").ok());
  REQUIRE(v.put("C-2", "card_number", "4111111111111112").ok());

  const std::string card = read_one(v, "bi-dashboard", "C-1", "analytics", "card_number");
  const std::string account = read_one(v, "bi-dashboard", "C-1", "analytics", "account_number");
  const std::string phone = read_one(v, "bi-dashboard", "C-1", "analytics", "phone");
  const std::string other = read_one(v, "bi-dashboard", "C-2", "analytics", "card_number");
  CHECK(same_shape(card, "4111111111111111", false));
  CHECK(card != "4111111111111111");
  // One number in two fields gives two tokens: the tweak is the field's.
  CHECK(account != card);
  CHECK(same_shape(phone, "+447700900123", false));
  CHECK(phone != "+447700900123");
  // Deterministic: the same value gives the same token on every read; a neighbour differs.
  CHECK(read_one(v, "bi-dashboard", "C-1", "analytics", "card_number") == card);
  CHECK(other != card);

  // The billing purpose sees card_number in clear, so its accessor may detokenise.
  auto billing = v.accessor("billing-desk");
  REQUIRE(billing.ok());
  const std::size_t before = count_action(v, AuditAction::detokenised);
  auto back = billing->detokenise("billing", "card_number", card);
  REQUIRE_MESSAGE(back.ok(), back.err().message);
  CHECK(*back == "4111111111111111");
  auto phone_back = billing->detokenise("billing", "phone", phone);
  REQUIRE(phone_back.ok());
  CHECK(*phone_back == "+447700900123");
  CHECK(count_action(v, AuditAction::detokenised) == before + 2);
  // A token of another field does not turn back into the value.
  auto crossed = billing->detokenise("billing", "account_number", card);
  REQUIRE(crossed.ok());
  CHECK(*crossed != "4111111111111111");

  // The analytics purpose sees only tokens: it may not reverse them, and the refusal is audited
  // without the token or the value.
  auto bi = v.accessor("bi-dashboard");
  REQUIRE(bi.ok());
  const std::size_t denied_before = count_action(v, AuditAction::access_denied);
  auto refused = bi->detokenise("analytics", "card_number", card);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::denied);
  CHECK(refused.err().reason == deny_reason::purpose_not_allowed_for_field);
  CHECK(refused.err().message.find(card) == std::string::npos);
  // An accessor not registered for the purpose, and an undeclared field, are refused too.
  CHECK(bi->detokenise("billing", "card_number", card).err().reason == deny_reason::accessor_not_registered);
  CHECK(billing->detokenise("billing", "no_such_field", card).err().reason == deny_reason::unknown_field);
  CHECK(billing->detokenise("no_such_purpose", "card_number", card).err().reason ==
        deny_reason::unknown_purpose);
  CHECK(count_action(v, AuditAction::access_denied) == denied_before + 4);
  auto entries = v.audit_entries();
  REQUIRE(entries.ok());
  for (const AuditEntry& e : *entries) {
    if (e.action != AuditAction::detokenised) continue;
    CHECK(e.customer.empty());
    CHECK(e.accessor == "billing-desk");
    for (const std::string& f : e.fields) CHECK(f.find("4111") == std::string::npos);
  }

  // Text that cannot be a token of the type is bad input, and names neither text nor value.
  auto garbage = billing->detokenise("billing", "card_number", "12");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.err().code == errc::bad_input);
}

TEST_CASE("a number too short for FF1's domain is not tokenised") {
  test::TempDir dir;
  Vault v = make_vault(dir);
  REQUIRE(v.put("C-1", "card_number", "12345").ok());
  REQUIRE(v.put("C-2", "card_number", "123456").ok());
  auto a = v.accessor("bi-dashboard");
  REQUIRE(a.ok());
  auto view = a->view("C-1", "analytics");
  REQUIRE(view.ok());
  auto got = view->get("card_number");
  REQUIRE_FALSE(got.ok());
  CHECK(got.err().reason == deny_reason::form_unavailable);
  CHECK(got.err().message.find("12345") == std::string::npos);
  // Six digits reach 10^6, the smallest domain FF1 allows.
  const std::string six = read_one(v, "bi-dashboard", "C-2", "analytics", "card_number");
  CHECK(six.size() == 6);
  CHECK(six != "123456");
}

TEST_CASE("HMAC-SHA256 pseudonyms are keyed per purpose and differ from the BLAKE2b pseudonyms") {
  test::TempDir dir;
  Vault v = make_vault(dir);
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  REQUIRE(v.put("C-2", "email", "bob@example.com").ok());
  REQUIRE(v.record_consent("C-1", "marketing", ConsentAction::grant).ok());
  const std::string analytics = read_one(v, "bi-dashboard", "C-1", "analytics", "email");
  const std::string research = read_one(v, "bi-dashboard", "C-1", "research", "email");
  const std::string blake = read_one(v, "campaigns", "C-1", "marketing", "email");
  CHECK(analytics.size() == 64);
  CHECK(analytics.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(blake.size() == 32);
  // Not joinable across purposes, nor between the two kinds of pseudonym.
  CHECK(analytics != research);
  CHECK(analytics.substr(0, 32) != blake);
  CHECK(read_one(v, "bi-dashboard", "C-1", "analytics", "email") == analytics);
  CHECK(read_one(v, "bi-dashboard", "C-2", "analytics", "email") != analytics);
}

TEST_CASE("tokens and pseudonyms stay the same after the master key is rotated") {
  test::TempDir dir;
  Vault v = make_vault(dir);
  REQUIRE(v.put("C-1", "card_number", "4111111111111111").ok());
  REQUIRE(v.put("C-1", "email", "ann@example.com").ok());
  const std::string token = read_one(v, "bi-dashboard", "C-1", "analytics", "card_number");
  const std::string hmac = read_one(v, "bi-dashboard", "C-1", "analytics", "email");
  REQUIRE(v.rotate_master_key().ok());
  CHECK(read_one(v, "bi-dashboard", "C-1", "analytics", "card_number") == token);
  CHECK(read_one(v, "bi-dashboard", "C-1", "analytics", "email") == hmac);
  auto billing = v.accessor("billing-desk");
  REQUIRE(billing.ok());
  auto back = billing->detokenise("billing", "card_number", token);
  REQUIRE(back.ok());
  CHECK(*back == "4111111111111111");
}
