// vault_lookup_test.cpp: Accessor::find, the search by a field's blind index: it finds across
// normalisations, never returns a false positive, is decided and audited like a read (purpose,
// accessor, consent), and its index follows the value's life (written, changed, erased,
// purged, moved to a new master key version). The same suite on every store.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/key_provider.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/shared_store.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::FakeClock;
using consentry::test::must;
using consentry::test::TempDir;
using Json = nlohmann::ordered_json;

namespace {

// lookup_policy is the retail policy with email searchable for service and marketing.email,
// phone for service, `bits` long indexes, and phone numbers read as British without a country
// code.
Policy lookup_policy(int bits = 16) {
  Json j = Json::parse(test::kRetailPolicy);
  j["default_region"] = "GB";
  j["fields"][0]["lookup"] = Json::array({"service", "marketing.email"});
  j["fields"][0]["lookup_bits"] = bits;
  j["fields"][2]["lookup"] = Json::array({"service"});
  j["fields"][2]["lookup_bits"] = bits;
  auto p = Policy::parse(j.dump(), "lookup");
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.err().message));
  return std::move(*p);
}

Vault each_store_vault(const FakeClock& clock, const TempDir& dir, int bits = 16) {
  return test::on_each_store(dir, lookup_policy(bits), test::kTestPassphrase,
                             test::test_vault_options(clock));
}

std::vector<std::string> ids(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

// lookups_after returns the lookup and access_denied entries appended after the first `skip`.
std::vector<AuditEntry> searches_after(const Vault& v, std::size_t skip) {
  auto all = must(v.audit_entries());
  REQUIRE(all.size() >= skip);
  std::vector<AuditEntry> out;
  for (auto it = all.begin() + static_cast<std::ptrdiff_t>(skip); it != all.end(); ++it)
    if (it->action == AuditAction::lookup || it->action == AuditAction::access_denied) out.push_back(*it);
  return out;
}

// ann_and_bob is a vault under lookup_policy() on `shared`, a memory store the test reaches
// under it, holding Ann's (C-1) and Bob's (C-2) email addresses.
Vault ann_and_bob(const std::shared_ptr<Store>& shared, const FakeClock& clock) {
  Vault v = must(Vault::create_in(std::make_unique<test::SharedStore>(shared), lookup_policy(),
                                  test::kTestPassphrase, test::test_vault_options(clock)));
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.put("C-2", "email", "bob@example.com"));
  return v;
}

// HeldEmail is a customer's stored email row and its index entry, as someone with the database
// would copy them to put back later.
struct HeldEmail {
  StoredField row;
  StoredLookup entry;
};

HeldEmail held_email(Store& store, const std::string& customer) {
  const auto row = must(store.get_field(customer, "email"));
  const auto entries = must(store.get_lookups(customer));
  REQUIRE(row.has_value());
  REQUIRE(entries.size() == 1);
  return HeldEmail{*row, entries[0]};
}

}  // namespace

TEST_CASE("find: a customer is found by email or phone however the value is written") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  must(v.put("C-1", "email", "Ann.Smith@Example.COM"));
  must(v.put("C-1", "phone", "+44 (0)7700 900382"));
  must(v.put("C-2", "email", "bob@example.com"));
  must(v.put("C-2", "phone", "020 7946 0018"));
  const Accessor desk = must(v.accessor("support-desk"));

  for (const char* email : {"ann.smith@example.com", "ANN.SMITH@EXAMPLE.COM", "Ann.Smith@example.com"}) {
    CAPTURE(email);
    CHECK(must(desk.find("service", "email", email)) == ids({"C-1"}));
  }
  for (const char* phone : {"07700 900382", "+447700900382", "+44 7700 900 382", "(07700) 900-382"}) {
    CAPTURE(phone);
    CHECK(must(desk.find("service", "phone", phone)) == ids({"C-1"}));
  }
  CHECK(must(desk.find("service", "phone", "+44 20 7946 0018")) == ids({"C-2"}));
  CHECK(must(desk.find("service", "email", "nobody@example.com")).empty());
  // A near miss is no match.
  CHECK(must(desk.find("service", "email", "ann.smith@example.co")).empty());
  CHECK(must(desk.find("service", "phone", "07700 900383")).empty());

  // A value that does not fit the field's type is refused before anything is looked up.
  const std::size_t before = must(v.audit_entries()).size();
  auto bad = desk.find("service", "phone", "call me maybe");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
  CHECK(bad.err().message.find("call me") == std::string::npos);
  CHECK(must(v.audit_entries()).size() == before);
}

TEST_CASE("find: customers sharing an index entry are told apart by their values, with no false positive") {
  FakeClock clock;
  TempDir dir;
  // One bit: every value shares its index entry with about half of the others.
  Vault v = each_store_vault(clock, dir, 1);
  const int n = 24;
  for (int i = 0; i < n; ++i)
    must(v.put("C-" + std::to_string(i), "email", "person" + std::to_string(i) + "@example.com"));
  const Accessor desk = must(v.accessor("support-desk"));
  const std::size_t before = must(v.audit_entries()).size();
  for (int i = 0; i < n; ++i) {
    CAPTURE(i);
    CHECK(must(desk.find("service", "email", "person" + std::to_string(i) + "@example.com")) ==
          std::vector<std::string>{"C-" + std::to_string(i)});
  }
  // Each search logged one entry naming the customer found, with the candidates the index named
  // (more than one, with a one-bit index over 24 customers) and one match; never the value.
  const auto entries = searches_after(v, before);
  REQUIRE(entries.size() == static_cast<std::size_t>(n));
  std::size_t max_candidates = 0;
  for (const AuditEntry& e : entries) {
    CHECK(e.action == AuditAction::lookup);
    CHECK(e.accessor == "support-desk");
    CHECK(e.purpose == "service");
    CHECK(e.fields == std::vector<std::string>{"email"});
    CHECK_FALSE(e.customer.empty());
    CHECK(e.reason.find("example.com") == std::string::npos);
    const auto c = e.reason.find("candidates=");
    REQUIRE(c == 0);
    CHECK(e.reason.ends_with(" matches=1"));
    max_candidates = std::max<std::size_t>(max_candidates, std::stoul(e.reason.substr(11)));
  }
  CHECK(max_candidates > 1);
  // A value nobody holds finds nobody, even among candidates; one entry naming no customer.
  const std::size_t again = must(v.audit_entries()).size();
  CHECK(must(desk.find("service", "email", "stranger@example.com")).empty());
  const auto none = searches_after(v, again);
  REQUIRE(none.size() == 1);
  CHECK(none[0].customer.empty());
  CHECK(none[0].reason.ends_with(" matches=0"));
}

TEST_CASE("find: refused for a purpose, accessor or field the policy does not allow, and logged") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.put("C-1", "birth_date", "1990-04-02"));
  struct Case {
    const char* accessor;
    const char* purpose;
    const char* field;
    deny_reason reason;
  };
  for (const Case& c : {Case{"bi-dashboard", "analytics", "email", deny_reason::lookup_not_allowed},
                        Case{"support-desk", "service", "birth_date", deny_reason::lookup_not_allowed},
                        Case{"email-campaigns", "service", "email", deny_reason::accessor_not_registered},
                        Case{"support-desk", "sales", "email", deny_reason::unknown_purpose},
                        Case{"support-desk", "service", "shoe_size", deny_reason::unknown_field}}) {
    CAPTURE(c.accessor);
    CAPTURE(c.purpose);
    CAPTURE(c.field);
    const std::size_t before = must(v.audit_entries()).size();
    auto r = must(v.accessor(c.accessor)).find(c.purpose, c.field, "ann@example.com");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::denied);
    CHECK(r.err().reason == c.reason);
    CHECK(r.err().message.find("ann@") == std::string::npos);
    const auto logged = searches_after(v, before);
    REQUIRE(logged.size() == 1);
    CHECK(logged[0].action == AuditAction::access_denied);
    CHECK_FALSE(logged[0].allowed);
    CHECK(logged[0].reason == to_string(c.reason));
    CHECK(logged[0].customer.empty());
    CHECK(logged[0].fields == std::vector<std::string>{c.field});
  }
}

TEST_CASE("find: a purpose resting on consent finds only customers who consent, from the next search") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  must(v.put("C-1", "email", "ann@example.com"));
  const Accessor campaigns = must(v.accessor("email-campaigns"));
  CHECK(must(campaigns.find("marketing.email", "email", "ann@example.com")).empty());
  must(v.record_consent("C-1", "marketing.email", ConsentAction::grant));
  CHECK(must(campaigns.find("marketing.email", "email", "ann@example.com")) == ids({"C-1"}));
  must(v.record_consent("C-1", "marketing.email", ConsentAction::withdraw));
  CHECK(must(campaigns.find("marketing.email", "email", "ann@example.com")).empty());
  // The contract purpose finds the customer whatever their marketing consent.
  CHECK(must(must(v.accessor("support-desk")).find("service", "email", "ann@example.com")) == ids({"C-1"}));
}

TEST_CASE("find: the index follows the value: changed, erased, purged past retention") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  const Accessor desk = must(v.accessor("support-desk"));
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.put("C-2", "email", "bob@example.com"));
  must(v.put("C-2", "phone", "07700 900123"));

  must(v.put("C-1", "email", "ann.new@example.com"));
  CHECK(must(desk.find("service", "email", "ann@example.com")).empty());
  CHECK(must(desk.find("service", "email", "ann.new@example.com")) == ids({"C-1"}));

  must(v.erase("C-2"));
  CHECK(must(desk.find("service", "email", "bob@example.com")).empty());
  CHECK(must(desk.find("service", "phone", "07700 900123")).empty());

  // Email is kept three years: past that, refused unread, then purged with its index entry.
  clock.advance(std::chrono::hours(24 * 365 * 3 + 24));
  CHECK(must(desk.find("service", "email", "ann.new@example.com")).empty());
  must(v.purge());
  CHECK(must(desk.find("service", "email", "ann.new@example.com")).empty());
  must(v.put("C-3", "email", "ann.new@example.com"));
  CHECK(must(desk.find("service", "email", "ann.new@example.com")) == ids({"C-3"}));
}

TEST_CASE("find: entries move to the new master key version with the data keys, and survive retirement") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  const Accessor desk = must(v.accessor("support-desk"));
  for (int i = 0; i < 5; ++i)
    must(v.put("C-" + std::to_string(i), "email", "p" + std::to_string(i) + "@example.com"));
  // Half way through a rotation, values indexed under either version are found.
  RotationOptions one;
  one.batch = 2;
  one.max_batches = 1;
  const RotationReport partial = must(v.rotate_master_key(one));
  CHECK_FALSE(partial.complete);
  must(v.put("C-9", "email", "p9@example.com"));
  for (int i : {0, 1, 2, 3, 4, 9}) {
    CAPTURE(i);
    CHECK(must(desk.find("service", "email", "p" + std::to_string(i) + "@example.com")) ==
          std::vector<std::string>{"C-" + std::to_string(i)});
  }
  CHECK(must(v.rotate_master_key()).complete);
  const auto retired = must(v.retire_master_keys(
      std::make_shared<PassphraseKeyProvider>("a new test passphrase", KdfStrength::minimum)));
  CHECK(retired == std::vector<std::uint32_t>{1});
  for (int i : {0, 1, 2, 3, 4, 9}) {
    CAPTURE(i);
    CHECK(must(desk.find("service", "email", "p" + std::to_string(i) + "@example.com")) ==
          std::vector<std::string>{"C-" + std::to_string(i)});
  }
}

TEST_CASE("find: a customer found sees the search among the accesses to their data") {
  FakeClock clock;
  TempDir dir;
  Vault v = each_store_vault(clock, dir);
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.put("C-2", "email", "bob@example.com"));
  CHECK(must(must(v.accessor("support-desk")).find("service", "email", "ann@example.com")) == ids({"C-1"}));
  auto has_lookup = [&](const char* customer) {
    const SubjectReport r = must(v.export_subject(customer));
    return std::any_of(r.accesses.begin(), r.accesses.end(), [](const AccessRecord& a) {
      return a.action == AuditAction::lookup && a.accessor == "support-desk" && a.purpose == "service";
    });
  };
  CHECK(has_lookup("C-1"));
  CHECK_FALSE(has_lookup("C-2"));
  const auto logged = must(v.audit_entries());
  CHECK(std::none_of(logged.begin(), logged.end(), [](const AuditEntry& e) {
    return e.reason.find("ann@") != std::string::npos ||
           std::any_of(e.fields.begin(), e.fields.end(),
                       [](const std::string& f) { return f.find('@') != std::string::npos; });
  }));
}

TEST_CASE("find: a policy change that adds, resizes or drops a lookup indexes the values already held") {
  FakeClock clock;
  TempDir dir;
  Vault v =
      test::on_each_store(dir, test::retail_policy(), test::kTestPassphrase, test::test_vault_options(clock));
  must(v.put("C-1", "email", "ann@example.com"));
  must(v.put("C-2", "email", "bob@example.com"));
  must(v.put("C-3", "phone", "+44 7700 900123"));
  // Without "lookup" the field cannot be searched by.
  auto refused = must(v.accessor("support-desk")).find("service", "email", "ann@example.com");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().reason == deny_reason::lookup_not_allowed);

  const PolicyUpdate added = must(v.update_policy(lookup_policy()));
  CHECK(added.customers_reindexed == 3);
  const Accessor desk = must(v.accessor("support-desk"));
  CHECK(must(desk.find("service", "email", "ann@example.com")) == ids({"C-1"}));
  CHECK(must(desk.find("service", "email", "bob@example.com")) == ids({"C-2"}));
  CHECK(must(desk.find("service", "phone", "07700 900123")) == ids({"C-3"}));
  CHECK(must(v.reindex_lookups()) == 0);  // nothing left to build

  const PolicyUpdate resized = must(v.update_policy(lookup_policy(4)));
  CHECK(resized.customers_reindexed == 3);
  CHECK(must(desk.find("service", "email", "ann@example.com")) == ids({"C-1"}));
  CHECK(must(desk.find("service", "phone", "+447700900123")) == ids({"C-3"}));

  const PolicyUpdate dropped = must(v.update_policy(test::retail_policy()));
  CHECK(dropped.customers_reindexed == 3);
  auto gone = desk.find("service", "email", "ann@example.com");
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().reason == deny_reason::lookup_not_allowed);
  // Indexed again, the values are found again.
  must(v.update_policy(lookup_policy()));
  CHECK(must(desk.find("service", "email", "bob@example.com")) == ids({"C-2"}));
}

TEST_CASE("find: an index left half built is refused until reindex_lookups finishes it") {
  FakeClock clock;
  auto shared = std::shared_ptr<Store>(make_memory_store());
  Vault v = ann_and_bob(shared, clock);
  // As a policy update interrupted before its walk: the entries are not there, the walk is due.
  must(shared->delete_lookup("C-1", "email"));
  const std::string_view pending = "email";
  must(shared->put_meta("lookup.reindex",
                        byte_view(reinterpret_cast<const std::uint8_t*>(pending.data()), pending.size())));
  const Accessor desk = must(v.accessor("support-desk"));
  auto refused = desk.find("service", "email", "ann@example.com");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::io);
  CHECK(refused.err().message.find("reindex") != std::string::npos);
  // Other fields are searched as before.
  must(v.put("C-1", "phone", "07700 900123"));
  CHECK(must(desk.find("service", "phone", "+447700900123")) == ids({"C-1"}));

  CHECK(must(v.reindex_lookups(1)) == 2);
  CHECK(must(desk.find("service", "email", "ann@example.com")) == ids({"C-1"}));
  CHECK(must(v.reindex_lookups()) == 0);
  CHECK_FALSE(must(shared->get_meta("lookup.reindex")).has_value());
}

TEST_CASE("find: an index entry moved to another customer finds no one who does not hold the value") {
  FakeClock clock;
  auto shared = std::shared_ptr<Store>(make_memory_store());
  Vault v = ann_and_bob(shared, clock);
  // Someone with the database gives C-2 the entry of Ann's address, and deletes Ann's.
  const auto ann = must(shared->get_lookups("C-1"));
  REQUIRE(ann.size() == 1);
  StoredLookup moved = ann[0];
  moved.customer = "C-2";
  must(shared->put_lookup(moved));
  must(shared->delete_lookup("C-1", "email"));
  const Accessor desk = must(v.accessor("support-desk"));
  // C-2 is a candidate now, but its authenticated value is Bob's: not returned. Ann is hidden.
  CHECK(must(desk.find("service", "email", "ann@example.com")).empty());
  const auto logged = must(v.audit_entries());
  REQUIRE_FALSE(logged.empty());
  CHECK(logged.back().action == AuditAction::lookup);
  CHECK(logged.back().reason == "candidates=1 matches=0");
  // A sealed value moved between customers fails authentication rather than matching.
  const auto bob_row = must(shared->get_field("C-2", "email"));
  REQUIRE(bob_row.has_value());
  StoredField swapped = *bob_row;
  swapped.customer = "C-1";
  must(shared->put_field(swapped));
  must(shared->put_lookup(ann[0]));
  auto tampered_ann = desk.find("service", "email", "ann@example.com");
  REQUIRE_FALSE(tampered_ann.ok());
  CHECK(tampered_ann.err().code == errc::integrity);
}

TEST_CASE("find: an older value put back, which matches the search, fails the manifest check") {
  FakeClock clock;
  auto shared = std::shared_ptr<Store>(make_memory_store());
  Vault v = ann_and_bob(shared, clock);
  const HeldEmail ann = held_email(*shared, "C-1");
  must(v.put("C-1", "email", "ann.new@example.com"));
  const Accessor desk = must(v.accessor("support-desk"));
  CHECK(must(desk.find("service", "email", "ann@example.com")).empty());
  // Someone with the database puts back Ann's old address and its entry: it authenticates under
  // her key and matches, but her manifest vouches for the new one.
  must(shared->put_field(ann.row));
  must(shared->put_lookup(ann.entry));
  auto rolled_back = desk.find("service", "email", "ann@example.com");
  REQUIRE_FALSE(rolled_back.ok());
  CHECK(rolled_back.err().code == errc::integrity);
  CHECK(rolled_back.err().message.find("ann") == std::string::npos);
}

TEST_CASE("find: an erased customer's value and entry put back find no one, and fail no search") {
  FakeClock clock;
  auto shared = std::shared_ptr<Store>(make_memory_store());
  Vault v = ann_and_bob(shared, clock);
  const HeldEmail ann = held_email(*shared, "C-1");
  must(v.erase("C-1"));
  // The rows come back from a copy taken before the erasure; the data key that opened them does
  // not, and the erasure mark stays.
  must(shared->put_field(ann.row));
  must(shared->put_lookup(ann.entry));
  const Accessor desk = must(v.accessor("support-desk"));
  CHECK(must(desk.find("service", "email", "ann@example.com")).empty());
  CHECK(must(desk.find("service", "email", "bob@example.com")) == ids({"C-2"}));
}
