// audit_log_test.cpp: the audit entry encoding, the hash chain, checkpoint signatures and
// checkpoints as JSON.
#include <doctest/doctest.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "consentry/audit.hpp"

using namespace consentry;

namespace {

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

AuditEntry sample_entry() {
  AuditEntry e;
  e.seq = 41;
  e.at = at(1767225600);
  e.customer = "9f86d081884c7d65";
  e.accessor = "email-campaigns";
  e.purpose = "marketing.email";
  e.action = AuditAction::access_denied;
  e.allowed = false;
  e.reason = "withdrawn";
  e.fields = {"email:clear", "birth_date:generalise:year"};
  return e;
}

AuditEntry decoded(byte_view encoded) {
  auto r = decode_audit_entry(encoded);
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
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
}

void check_refused(byte_view encoded) {
  auto r = decode_audit_entry(encoded);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
}

// offset_of_allowed is where the decision byte of `e`'s encoding sits: after the version, seq,
// at, and the length-prefixed customer, accessor, purpose and action.
std::size_t offset_of_allowed(const AuditEntry& e) {
  return 1 + 8 + 8 + (4 + e.customer.size()) + (4 + e.accessor.size()) + (4 + e.purpose.size()) +
         (4 + to_string(e.action).size());
}

bytes zero_hash() {
  return bytes(kAuditHashBytes, 0);
}

bytes flip_bit(bytes b, std::size_t bit) {
  b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
  return b;
}

}  // namespace

// ---- actions ----

TEST_CASE("every audit action spelling parses back to its action, and nothing else parses") {
  const AuditAction all[] = {AuditAction::view_opened,      AuditAction::field_read,
                             AuditAction::access_denied,    AuditAction::value_written,
                             AuditAction::consent_recorded, AuditAction::export_made,
                             AuditAction::erasure,          AuditAction::key_rotation,
                             AuditAction::policy_change,    AuditAction::purge};
  std::vector<std::string_view> spellings;
  for (AuditAction a : all) {
    CAPTURE(to_string(a));
    CHECK(parse_audit_action(to_string(a)) == a);
    for (auto s : spellings) CHECK(s != to_string(a));
    spellings.push_back(to_string(a));
  }
  CHECK(to_string(AuditAction::field_read) == "field_read");
  CHECK(to_string(AuditAction::consent_recorded) == "consent_recorded");
  const std::string_view bad_spellings[] = {"",      "Field_read", "field_read ",
                                            "field", "read",       std::string_view("purge\0", 6)};
  for (std::string_view bad : bad_spellings) CHECK_FALSE(parse_audit_action(bad).has_value());
}

// ---- encoding ----

TEST_CASE("an audit entry decodes to exactly the entry that was encoded") {
  const AuditEntry e = sample_entry();
  check_same(decoded(encode_audit_entry(e)), e);

  // Edge values: no fields, empty strings, a time before 1970, seq beyond 32 bits, NUL bytes.
  AuditEntry edge;
  edge.seq = (std::int64_t{1} << 40) + 3;
  edge.at = at(-86400 * 365);
  edge.customer = "";
  edge.accessor = std::string("cli\0x", 5);
  edge.action = AuditAction::purge;
  edge.allowed = true;
  check_same(decoded(encode_audit_entry(edge)), edge);

  AuditEntry empty_fields = e;
  empty_fields.fields = {"", ""};
  check_same(decoded(encode_audit_entry(empty_fields)), empty_fields);
}

TEST_CASE("the encoding is a version byte, big-endian integers and length-prefixed strings") {
  AuditEntry e;
  e.seq = 0x0102030405060708;
  e.at = at(-2);
  e.customer = "c";
  e.accessor = "ab";
  e.purpose = "";
  e.action = AuditAction::purge;
  e.allowed = true;
  e.reason = "r";
  e.fields = {"f"};
  const bytes expected = {
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
  CHECK(encode_audit_entry(e) == expected);
}

TEST_CASE("entries that differ in any member, or only in where a boundary falls, encode differently") {
  const AuditEntry base = sample_entry();
  std::vector<AuditEntry> variants;
  auto add = [&](auto change) {
    AuditEntry v = base;
    change(v);
    variants.push_back(v);
  };
  add([](AuditEntry&) {});
  add([](AuditEntry& v) { v.seq += 1; });
  add([](AuditEntry& v) { v.at += std::chrono::seconds{1}; });
  add([](AuditEntry& v) { v.customer += "0"; });
  add([](AuditEntry& v) { v.accessor = "support-desk"; });
  add([](AuditEntry& v) { v.purpose = "service"; });
  add([](AuditEntry& v) { v.action = AuditAction::field_read; });
  add([](AuditEntry& v) { v.allowed = true; });
  add([](AuditEntry& v) { v.reason = ""; });
  add([](AuditEntry& v) { v.fields.pop_back(); });
  add([](AuditEntry& v) { v.fields = {"ab", "c"}; });
  add([](AuditEntry& v) { v.fields = {"a", "bc"}; });
  add([](AuditEntry& v) { v.fields = {"abc"}; });
  add([](AuditEntry& v) { v.fields = {"abc", ""}; });
  // Moving bytes across members must change the encoding too.
  add([](AuditEntry& v) {
    v.customer = "ab";
    v.accessor = "c";
  });
  add([](AuditEntry& v) {
    v.customer = "a";
    v.accessor = "bc";
  });
  add([](AuditEntry& v) {
    v.reason = "x";
    v.fields = {};
  });
  add([](AuditEntry& v) {
    v.reason = "";
    v.fields = {"x"};
  });
  std::vector<bytes> encodings;
  for (const auto& v : variants) encodings.push_back(encode_audit_entry(v));
  for (std::size_t i = 0; i < encodings.size(); ++i)
    for (std::size_t j = i + 1; j < encodings.size(); ++j) {
      CAPTURE(i);
      CAPTURE(j);
      CHECK(encodings[i] != encodings[j]);
    }
}

TEST_CASE("decoding refuses every truncation and any byte after the end") {
  const bytes encoded = encode_audit_entry(sample_entry());
  for (std::size_t n = 0; n < encoded.size(); ++n) {
    CAPTURE(n);
    check_refused(byte_view(encoded).first(n));
  }
  bytes extended = encoded;
  extended.push_back(0);
  check_refused(extended);
}

TEST_CASE("decoding refuses an unknown version, an unknown action and a decision byte other than 0 or 1") {
  const AuditEntry e = sample_entry();
  const bytes encoded = encode_audit_entry(e);

  for (std::uint8_t version : {0, 2, 0xff}) {
    bytes b = encoded;
    b[0] = version;
    check_refused(b);
  }

  // Same length as "access_denied", so only the spelling is wrong.
  bytes unknown_action = encoded;
  const std::size_t action_at = offset_of_allowed(e) - to_string(e.action).size();
  REQUIRE(std::string(unknown_action.begin() + static_cast<std::ptrdiff_t>(action_at),
                      unknown_action.begin() + static_cast<std::ptrdiff_t>(offset_of_allowed(e))) ==
          "access_denied");
  unknown_action[action_at] = 'A';
  check_refused(unknown_action);

  const std::size_t allowed_at = offset_of_allowed(e);
  REQUIRE(encoded[allowed_at] == 0);
  for (std::uint8_t allowed : {2, 0x80, 0xff}) {
    bytes b = encoded;
    b[allowed_at] = allowed;
    check_refused(b);
  }
  bytes one = encoded;
  one[allowed_at] = 1;
  CHECK(decoded(one).allowed);
}

TEST_CASE("decoding refuses garbage, including lengths and counts that point past the end") {
  check_refused(bytes{});
  check_refused(bytes(64, 0xff));
  check_refused(bytes(64, 0x00));
  bytes looks_like_v1(200, 0xff);
  looks_like_v1[0] = 1;
  check_refused(looks_like_v1);

  // A field count of four billion with no bytes behind it: refused without allocating for it.
  AuditEntry e = sample_entry();
  e.fields = {};
  bytes huge_count = encode_audit_entry(e);
  for (std::size_t i = huge_count.size() - 4; i < huge_count.size(); ++i) huge_count[i] = 0xff;
  check_refused(huge_count);

  // A string length one past what remains.
  bytes long_string = encode_audit_entry(e);
  long_string[1 + 8 + 8 + 3] = static_cast<std::uint8_t>(long_string[1 + 8 + 8 + 3] + 1);
  check_refused(long_string);

  // Deterministic pseudo-random inputs that start with the version byte.
  std::uint32_t x = 12345;
  for (int round = 0; round < 500; ++round) {
    bytes junk(1 + round % 97);
    for (auto& byte : junk) {
      x = x * 1664525u + 1013904223u;
      byte = static_cast<std::uint8_t>(x >> 24);
    }
    junk[0] = 1;
    check_refused(junk);
  }
}

// ---- chain ----

TEST_CASE("the chain hash is unkeyed BLAKE2b-256 over the previous hash then the encoded entry") {
  REQUIRE(sodium_ready());
  const bytes encoded = encode_audit_entry(sample_entry());
  bytes previous(kAuditHashBytes);
  for (std::size_t i = 0; i < previous.size(); ++i) previous[i] = static_cast<std::uint8_t>(i * 7);

  bytes joined = previous;
  joined.insert(joined.end(), encoded.begin(), encoded.end());
  bytes direct(kAuditHashBytes);
  REQUIRE(crypto_generichash(direct.data(), direct.size(), joined.data(), joined.size(), nullptr, 0) == 0);

  const bytes chained = audit_chain_hash(previous, encoded);
  CHECK(chained.size() == kAuditHashBytes);
  CHECK(chained == direct);
  CHECK(audit_chain_hash(zero_hash(), encoded) != chained);
  CHECK(audit_chain_hash(previous, encode_audit_entry(AuditEntry{})) != chained);
}

// ---- checkpoints ----

TEST_CASE("a checkpoint verifies under its signer's public key and carries what was signed") {
  const AuditSigner signer = AuditSigner::generate();
  CHECK(signer.public_key().size() == kAuditPublicKeyBytes);
  CHECK(signer.secret_key().size() == kAuditSecretKeyBytes);
  const bytes head = audit_chain_hash(zero_hash(), encode_audit_entry(sample_entry()));
  const AuditCheckpoint cp = signer.sign(41, head, at(1767225600));
  CHECK(cp.seq == 41);
  CHECK(cp.head == head);
  CHECK(cp.at == at(1767225600));
  CHECK(cp.signature.size() == kAuditSignatureBytes);
  CHECK(verify_checkpoint(cp, signer.public_key()));
}

TEST_CASE("a checkpoint signed by another key is refused") {
  const AuditSigner signer = AuditSigner::generate();
  const AuditSigner other = AuditSigner::generate();
  REQUIRE(signer.public_key() != other.public_key());
  const AuditCheckpoint cp = other.sign(7, zero_hash(), at(100));
  CHECK(verify_checkpoint(cp, other.public_key()));
  CHECK_FALSE(verify_checkpoint(cp, signer.public_key()));
}

TEST_CASE("a checkpoint with any one bit flipped, or any member changed, is refused") {
  const AuditSigner signer = AuditSigner::generate();
  bytes head(kAuditHashBytes, 0x5a);
  const AuditCheckpoint cp = signer.sign(1024, head, at(1767225600));
  REQUIRE(verify_checkpoint(cp, signer.public_key()));

  for (std::size_t bit = 0; bit < cp.signature.size() * 8; ++bit) {
    AuditCheckpoint bad = cp;
    bad.signature = flip_bit(cp.signature, bit);
    CAPTURE(bit);
    CHECK_FALSE(verify_checkpoint(bad, signer.public_key()));
  }
  for (std::size_t bit = 0; bit < cp.head.size() * 8; ++bit) {
    AuditCheckpoint bad = cp;
    bad.head = flip_bit(cp.head, bit);
    CAPTURE(bit);
    CHECK_FALSE(verify_checkpoint(bad, signer.public_key()));
  }
  for (std::size_t bit = 0; bit < signer.public_key().size() * 8; ++bit) {
    CAPTURE(bit);
    CHECK_FALSE(verify_checkpoint(cp, flip_bit(signer.public_key(), bit)));
  }
  for (int bit = 0; bit < 64; ++bit) {
    AuditCheckpoint seq = cp;
    seq.seq = static_cast<std::int64_t>(static_cast<std::uint64_t>(cp.seq) ^ (std::uint64_t{1} << bit));
    AuditCheckpoint when = cp;
    when.at = at(static_cast<std::int64_t>(static_cast<std::uint64_t>(cp.at.time_since_epoch().count()) ^
                                           (std::uint64_t{1} << bit)));
    CAPTURE(bit);
    CHECK_FALSE(verify_checkpoint(seq, signer.public_key()));
    CHECK_FALSE(verify_checkpoint(when, signer.public_key()));
  }
}

TEST_CASE("a checkpoint with a head, signature or public key of the wrong size is refused") {
  const AuditSigner signer = AuditSigner::generate();
  const bytes short_head(kAuditHashBytes - 1, 1);
  // Signed as given, so only the size rule can refuse it.
  CHECK_FALSE(verify_checkpoint(signer.sign(3, short_head, at(0)), signer.public_key()));
  const AuditCheckpoint cp = signer.sign(3, zero_hash(), at(0));
  AuditCheckpoint long_sig = cp;
  long_sig.signature.push_back(0);
  CHECK_FALSE(verify_checkpoint(long_sig, signer.public_key()));
  AuditCheckpoint no_sig = cp;
  no_sig.signature.clear();
  CHECK_FALSE(verify_checkpoint(no_sig, signer.public_key()));
  CHECK_FALSE(verify_checkpoint(cp, byte_view(signer.public_key()).first(kAuditPublicKeyBytes - 1)));
  CHECK_FALSE(verify_checkpoint(cp, bytes{}));
}

TEST_CASE("a checkpoint message is the domain, then seq, length-prefixed head and time, big-endian") {
  // Exported checkpoints outlive the code that signed them: the layout is fixed.
  const bytes head = {0xaa, 0xbb};
  const std::string domain = "consentry/v1/audit-checkpoint";
  bytes expected(domain.begin(), domain.end());
  const bytes rest = {0, 0,    0,    0,    0,    0,    1,    2,    0,    0,    0,
                      2, 0xaa, 0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfd};
  expected.insert(expected.end(), rest.begin(), rest.end());
  CHECK(checkpoint_message(0x0102, head, at(-3)) == expected);
}

TEST_CASE("checkpoint messages are domain-separated and differ in seq, head and time") {
  const bytes head(kAuditHashBytes, 3);
  const bytes m = checkpoint_message(5, head, at(9));
  const std::string domain = "consentry/v1/audit-checkpoint";
  REQUIRE(m.size() > domain.size());
  CHECK(std::string(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(domain.size())) == domain);
  CHECK(checkpoint_message(6, head, at(9)) != m);
  CHECK(checkpoint_message(5, bytes(kAuditHashBytes, 4), at(9)) != m);
  CHECK(checkpoint_message(5, head, at(10)) != m);
  CHECK(checkpoint_message(5, byte_view(head).first(kAuditHashBytes - 1), at(9)) != m);
}

TEST_CASE("a signer rebuilt from its secret key signs checkpoints its public key verifies") {
  const AuditSigner original = AuditSigner::generate();
  auto rebuilt = AuditSigner::from_secret_key(SecretBytes::copy_of(original.secret_key().reveal()));
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->public_key() == original.public_key());
  CHECK(rebuilt->secret_key().equals(original.secret_key()));
  const AuditCheckpoint cp = rebuilt->sign(12, zero_hash(), at(500));
  CHECK(verify_checkpoint(cp, original.public_key()));
}

TEST_CASE("from_secret_key refuses a key of the wrong size or whose public half does not match its seed") {
  const AuditSigner a = AuditSigner::generate();
  const AuditSigner b = AuditSigner::generate();
  for (std::size_t size :
       {std::size_t{0}, std::size_t{32}, kAuditSecretKeyBytes - 1, kAuditSecretKeyBytes + 1}) {
    CAPTURE(size);
    auto r = AuditSigner::from_secret_key(SecretBytes(size));
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
  }
  // a's seed with b's public key.
  SecretBytes mixed = SecretBytes::copy_of(a.secret_key().reveal());
  for (std::size_t i = 0; i < kAuditPublicKeyBytes; ++i)
    mixed.reveal()[kAuditSecretKeyBytes - kAuditPublicKeyBytes + i] = b.public_key()[i];
  auto r = AuditSigner::from_secret_key(std::move(mixed));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
  // One flipped bit in the seed half breaks the match too.
  SecretBytes flipped = SecretBytes::copy_of(a.secret_key().reveal());
  flipped.reveal()[0] ^= 1;
  CHECK_FALSE(AuditSigner::from_secret_key(std::move(flipped)).ok());
}

// ---- JSON ----

namespace {

struct Signed {
  AuditSigner signer = AuditSigner::generate();
  AuditCheckpoint cp = signer.sign(41, bytes(kAuditHashBytes, 0xab), at(1767225600));
};

result<AuditCheckpoint> from_json(const std::string& text) {
  bytes pk;
  return checkpoint_from_json(text, pk);
}

void check_json_error(const std::string& text, std::string_view path) {
  CAPTURE(text);
  auto r = from_json(text);
  REQUIRE_FALSE(r.ok());
  const std::string& message = r.err().message;
  CAPTURE(message);
  CHECK(r.err().code == errc::bad_input);
  CHECK(message.rfind(std::string(path) + ": ", 0) == 0);
}

const std::string kHead(64, 'a');
const std::string kSig(128, 'b');
const std::string kKey(64, 'c');

std::string json_with(std::string_view seq, std::string_view head, std::string_view when,
                      std::string_view sig, std::string_view key) {
  return std::string("{\"seq\":") + std::string(seq) + ",\"head\":" + std::string(head) +
         ",\"at\":" + std::string(when) + ",\"signature\":" + std::string(sig) +
         ",\"public_key\":" + std::string(key) + "}";
}

std::string json_quoted(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

}  // namespace

TEST_CASE("a checkpoint survives JSON with its public key, and still verifies") {
  Signed s;
  const std::string text = checkpoint_to_json(s.cp, s.signer.public_key());
  CHECK(text.find("\"seq\":41") != std::string::npos);
  CHECK(text.find("\"at\":\"2026-01-01T00:00:00Z\"") != std::string::npos);
  bytes pk;
  auto back = checkpoint_from_json(text, pk);
  REQUIRE(back.ok());
  CHECK(pk == s.signer.public_key());
  CHECK(back->seq == s.cp.seq);
  CHECK(back->head == s.cp.head);
  CHECK(back->at == s.cp.at);
  CHECK(back->signature == s.cp.signature);
  CHECK(verify_checkpoint(*back, pk));
}

TEST_CASE("well-formed JSON in the documented shape parses, with uppercase hex too") {
  std::string upper_head(64, 'A');
  auto r = from_json(json_with("1", json_quoted(upper_head), json_quoted("2026-01-01T00:00:00Z"),
                               json_quoted(kSig), json_quoted(kKey)));
  REQUIRE(r.ok());
  CHECK(r->head == bytes(kAuditHashBytes, 0xaa));
  CHECK(r->signature == bytes(kAuditSignatureBytes, 0xbb));
}

TEST_CASE("malformed checkpoint JSON is refused with the JSON path of the problem") {
  const std::string when = json_quoted("2026-01-01T00:00:00Z");
  check_json_error("", "$");
  check_json_error("{", "$");
  check_json_error("[1]", "$");
  check_json_error("\"text\"", "$");
  check_json_error(json_with("41", json_quoted(kHead), when, json_quoted(kSig), json_quoted(kKey)) + "x",
                   "$");

  // Members: unknown, missing, duplicated.
  std::string extra = json_with("41", json_quoted(kHead), when, json_quoted(kSig), json_quoted(kKey));
  extra.insert(1, "\"comment\":\"x\",");
  check_json_error(extra, "$.comment");
  std::string odd_key = json_with("41", json_quoted(kHead), when, json_quoted(kSig), json_quoted(kKey));
  odd_key.insert(1, "\"a b\":1,");
  check_json_error(odd_key, "$[\"a b\"]");
  check_json_error("{\"seq\":41,\"at\":" + when + ",\"signature\":" + json_quoted(kSig) +
                       ",\"public_key\":" + json_quoted(kKey) + "}",
                   "$.head");
  std::string twice = json_with("41", json_quoted(kHead), when, json_quoted(kSig), json_quoted(kKey));
  twice.insert(1, "\"seq\":40,");
  check_json_error(twice, "$.seq");

  // seq: wrong types, not positive, out of range.
  for (std::string_view seq : {"\"41\"", "41.0", "0", "-1", "true", "null", "18446744073709551615", "[41]"})
    check_json_error(json_with(seq, json_quoted(kHead), when, json_quoted(kSig), json_quoted(kKey)), "$.seq");

  // head, signature, public_key: not strings, not hex, wrong sizes.
  const std::string bad_hex = std::string(63, 'a') + "g";
  for (const std::string& head :
       {std::string("1"), json_quoted(bad_hex), json_quoted(std::string(62, 'a')),
        json_quoted(std::string(66, 'a')), json_quoted(std::string(63, 'a')), json_quoted("")})
    check_json_error(json_with("41", head, when, json_quoted(kSig), json_quoted(kKey)), "$.head");
  for (const std::string& sig :
       {std::string("null"), json_quoted(kHead), json_quoted(kSig + "00"), json_quoted(" " + kSig)})
    check_json_error(json_with("41", json_quoted(kHead), when, sig, json_quoted(kKey)), "$.signature");
  for (const std::string& key : {std::string("{}"), json_quoted(kSig), json_quoted(kKey.substr(2))})
    check_json_error(json_with("41", json_quoted(kHead), when, json_quoted(kSig), key), "$.public_key");

  // at: not a string, not a time.
  for (std::string_view bad_at : {"1767225600", "\"yesterday\"", "\"2026-02-30T00:00:00Z\"", "\"\""})
    check_json_error(json_with("41", json_quoted(kHead), bad_at, json_quoted(kSig), json_quoted(kKey)),
                     "$.at");
}

TEST_CASE("checkpoint JSON with a NUL byte, deep nesting or a nested duplicate key is refused") {
  Signed s;
  const std::string text = checkpoint_to_json(s.cp, s.signer.public_key());
  REQUIRE(from_json(text).ok());
  auto nul = from_json(text + std::string("\0garbage{{{", 11));
  REQUIRE_FALSE(nul.ok());
  CHECK(nul.err().code == errc::bad_input);
  CHECK(nul.err().message ==
        "$: line 1, column " + std::to_string(text.size() + 1) + ": invalid JSON: a NUL byte");

  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto nested = from_json("{\"x\":" + deep + "," + text.substr(1));
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.err().code == errc::bad_input);
  CHECK(nested.err().message == "$: line 1, column 69: JSON nested deeper than 64 levels");

  // A duplicate below the top level is refused before the unknown key that holds it.
  auto twice = from_json("{\"x\":{\"a\":1,\"a\":2}," + text.substr(1));
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().message == "$.x.a: duplicate key 'a' (line 1)");
}

TEST_CASE("checkpoint JSON errors name the path but not the text that was refused") {
  const std::string secretish = std::string(63, 'a') + "Z";
  auto r = from_json(json_with("41", json_quoted(secretish), json_quoted("2026-01-01T00:00:00Z"),
                               json_quoted(kSig), json_quoted(kKey)));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message.find(secretish) == std::string::npos);
  auto garbage = from_json("{\"seq\": 41, \"head\": \"zzzz-not-json");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.err().message.find("zzzz") == std::string::npos);
}
