// audit_actor_test.cpp: AuditEntry::actor, the person or system behind an accessor's reads: its
// encoding (version 2, only when there is an actor, so every older entry keeps its bytes and its
// hash), its detection by verification when changed, and what a vault records.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/retail_policy.hpp"
#include "support/stored_audit.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::test::must;
using consentry::test::retail_policy;
using consentry::test::stored_of;
using consentry::test::TempDir;

namespace {

AuditEntry golden_entry() {
  AuditEntry e;
  e.seq = 0x0102030405060708;
  e.at = timestamp{std::chrono::seconds{-2}};
  e.customer = "c";
  e.accessor = "ab";
  e.purpose = "";
  e.action = AuditAction::purge;
  e.allowed = true;
  e.reason = "r";
  e.fields = {"f"};
  return e;
}

// kGoldenWithoutActor is golden_entry() as every entry was encoded before actors were recorded.
const bytes kGoldenWithoutActor = {
    1,                                                    // version
    1,    2,    3,    4,    5,    6,    7,    8,          // seq
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,       // at = -2
    0,    0,    0,    1,    'c',                          // customer
    0,    0,    0,    2,    'a',  'b',                    // accessor
    0,    0,    0,    0,                                  // purpose
    0,    0,    0,    5,    'p',  'u',  'r',  'g',  'e',  // action
    1,                                                    // allowed
    0,    0,    0,    1,    'r',                          // reason
    0,    0,    0,    1,                                  // field count
    0,    0,    0,    1,    'f',                          // field
};

// with_actor_bytes is kGoldenWithoutActor as version 2, followed by the length-prefixed actor.
bytes with_actor_bytes(std::string_view actor) {
  bytes b = kGoldenWithoutActor;
  b[0] = 2;
  const auto n = static_cast<std::uint32_t>(actor.size());
  for (int shift : {24, 16, 8, 0}) b.push_back(static_cast<std::uint8_t>(n >> shift));
  b.insert(b.end(), actor.begin(), actor.end());
  return b;
}

void check_same(const AuditEntry& a, const AuditEntry& b) {
  CHECK(a.seq == b.seq);
  CHECK(a.at == b.at);
  CHECK(a.customer == b.customer);
  CHECK(a.accessor == b.accessor);
  CHECK(a.purpose == b.purpose);
  CHECK(a.action == b.action);
  CHECK(a.allowed == b.allowed);
  CHECK(a.reason == b.reason);
  CHECK(a.fields == b.fields);
  CHECK(a.actor == b.actor);
}

AuditEntry read_entry(std::int64_t seq, std::string actor) {
  AuditEntry e;
  e.seq = seq;
  e.at = timestamp{std::chrono::seconds{1767225600 + seq}};
  e.customer = "cust";
  e.accessor = "support-desk";
  e.purpose = "service";
  e.action = AuditAction::field_read;
  e.fields = {"email:clear"};
  e.actor = std::move(actor);
  return e;
}

std::vector<AuditEntry> of_action(const Vault& v, AuditAction action) {
  std::vector<AuditEntry> out;
  for (AuditEntry& e : must(v.audit_entries()))
    if (e.action == action) out.push_back(std::move(e));
  return out;
}

}  // namespace

TEST_CASE("an entry without an actor encodes exactly as before actors were recorded") {
  CHECK(encode_audit_entry(golden_entry()) == kGoldenWithoutActor);
  const AuditEntry back = must(decode_audit_entry(kGoldenWithoutActor));
  check_same(back, golden_entry());
  CHECK(back.actor.empty());
  CHECK(must(check_audit_entry(kGoldenWithoutActor)).seq == golden_entry().seq);
}

TEST_CASE("an entry with an actor is version 2: version 1's members, then the actor") {
  AuditEntry e = golden_entry();
  e.actor = "alice";
  CHECK(encode_audit_entry(e) == with_actor_bytes("alice"));
  const AuditEntry back = must(decode_audit_entry(with_actor_bytes("alice")));
  check_same(back, e);
  CHECK(must(check_audit_entry(with_actor_bytes("alice"))).customer == "c");
  // Entries that differ only in their actor, or in having one, encode and hash differently.
  AuditEntry other = e;
  other.actor = "alicf";
  CHECK(encode_audit_entry(other) != encode_audit_entry(e));
  const bytes zero(kAuditHashBytes, 0);
  CHECK(audit_chain_hash(zero, encode_audit_entry(other)) != audit_chain_hash(zero, encode_audit_entry(e)));
  CHECK(audit_chain_hash(zero, encode_audit_entry(golden_entry())) !=
        audit_chain_hash(zero, encode_audit_entry(e)));
}

TEST_CASE("a version 2 entry without an actor, truncated or with trailing bytes is refused alike") {
  bytes empty_actor = with_actor_bytes("");
  bytes truncated = with_actor_bytes("alice");
  truncated.pop_back();
  bytes trailing = with_actor_bytes("alice");
  trailing.push_back(0);
  bytes v1_as_v2 = kGoldenWithoutActor;
  v1_as_v2[0] = 2;
  for (const bytes* b : std::initializer_list<const bytes*>{&empty_actor, &truncated, &trailing, &v1_as_v2}) {
    auto decoded = decode_audit_entry(*b);
    auto checked = check_audit_entry(*b);
    REQUIRE_FALSE(decoded.ok());
    REQUIRE_FALSE(checked.ok());
    CHECK(decoded.err().code == errc::integrity);
    CHECK(decoded.err().message == checked.err().message);
  }
  CHECK(decode_audit_entry(empty_actor).err().message.find("names no actor") != std::string::npos);
  for (std::uint8_t version : {0, 3, 0xff}) {
    bytes b = with_actor_bytes("alice");
    b[0] = version;
    CHECK_FALSE(decode_audit_entry(b).ok());
  }
}

TEST_CASE("verification finds an actor changed in a stored entry") {
  std::vector<StoredAuditEntry> chain;
  bytes previous(kAuditHashBytes, 0);
  for (std::int64_t seq = 1; seq <= 4; ++seq) {
    chain.push_back(stored_of(read_entry(seq, seq % 2 ? "alice" : ""), previous));
    previous = chain.back().hash;
  }
  const AuditSigner signer = AuditSigner::generate();
  {
    auto store = make_memory_store();
    must(store->append_audit(chain));
    const AuditVerification clean = must(verify_audit_log(*store, signer.public_key()));
    CHECK(clean.ok);
    CHECK(clean.entries == 4);
  }
  for (const std::string& forged : {std::string("mallory"), std::string("")}) {
    std::vector<StoredAuditEntry> tampered = chain;
    tampered[2].encoded = encode_audit_entry(read_entry(3, forged));  // the hash is left as it was
    auto store = make_memory_store();
    must(store->append_audit(tampered));
    const AuditVerification found = must(verify_audit_log(*store, signer.public_key()));
    CHECK_FALSE(found.ok);
    CHECK(found.first_bad_seq == 3);
  }
}

TEST_CASE("a vault records its actor beside the accessor on view opens, reads and refusals") {
  TempDir dir;
  Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase,
                                test::test_vault_options(AuditMode::durable, "alice"));
  must(v.put("c1", "email", "ada@example.com"));
  auto support = must(v.accessor("support-desk"));
  auto view = must(support.view("c1", "service"));
  CHECK(must(view.get("email")).value == "ada@example.com");
  CHECK_FALSE(view.get("expecting_child").ok());
  CHECK_FALSE(support.view("c1", "analytics").ok());

  for (AuditAction action : {AuditAction::view_opened, AuditAction::field_read, AuditAction::access_denied}) {
    const auto entries = of_action(v, action);
    REQUIRE_FALSE(entries.empty());
    for (const AuditEntry& e : entries) {
      CHECK(e.accessor == "support-desk");
      CHECK(e.actor == "alice");
    }
  }
  // A staff action names the actor as its accessor, as before, and no actor beside it.
  const auto writes = of_action(v, AuditAction::value_written);
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].accessor == "alice");
  CHECK(writes[0].actor.empty());
  CHECK(must(v.verify_audit()).ok);

  // The staff audit shows the actor; the log's pseudonym stays out of it.
  const SubjectReport staff = must(v.describe_subject("c1"));
  bool shown = false;
  for (const AccessRecord& a : staff.accesses)
    if (a.action == AuditAction::field_read) shown = shown || a.actor == "alice";
  CHECK(shown);
}

TEST_CASE("a vault records no actor when none was named, or when it is the accessor itself") {
  for (std::string_view actor : {kLibraryActor, std::string_view("support-desk")}) {
    CAPTURE(actor);
    TempDir dir;
    Vault v = test::on_each_store(dir, retail_policy(), test::kTestPassphrase,
                                  test::test_vault_options(AuditMode::durable, actor));
    must(v.put("c1", "email", "ada@example.com"));
    auto support = must(v.accessor("support-desk"));
    CHECK(must(must(support.view("c1", "service")).get("email")).value == "ada@example.com");
    for (const AuditEntry& e : must(v.audit_entries())) CHECK(e.actor.empty());
  }
}
