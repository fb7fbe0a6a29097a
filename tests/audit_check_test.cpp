// audit_check_test.cpp: check_audit_entry, the check of an entry's encoding that reads back only
// its lookup members, against decode_audit_entry; the stores' scan_audit_views; and verification
// of entries whose bytes only a full check of the encoding refuses.
#include <doctest/doctest.h>
#include <sodium.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

using consentry::test::must;

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

// Offsets into an encoding: the version byte, seq and at, then length-prefixed customer,
// accessor, purpose and action, the decision byte, the reason, the field count and the fields.
std::size_t offset_of_action(const AuditEntry& e) {
  return 1 + 8 + 8 + (4 + e.customer.size()) + (4 + e.accessor.size()) + (4 + e.purpose.size());
}
std::size_t offset_of_allowed(const AuditEntry& e) {
  return offset_of_action(e) + 4 + to_string(e.action).size();
}
std::size_t offset_of_field_count(const AuditEntry& e) {
  return offset_of_allowed(e) + 1 + 4 + e.reason.size();
}

// check_agrees checks that check_audit_entry accepts `encoded` exactly when decode_audit_entry
// does, refuses it with the same error, and otherwise reads the same seq, time and customer,
// pointing into `encoded`.
void check_agrees(byte_view encoded) {
  const auto full = decode_audit_entry(encoded);
  const auto lookup = check_audit_entry(encoded);
  REQUIRE(full.ok() == lookup.ok());
  if (!full) {
    CHECK(lookup.err().code == errc::integrity);
    CHECK(lookup.err().message == full.err().message);
    return;
  }
  CHECK(lookup->seq == full->seq);
  CHECK(lookup->at == full->at);
  CHECK(lookup->customer == full->customer);
  if (!lookup->customer.empty()) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(lookup->customer.data());
    CHECK(p >= encoded.data());
    CHECK(p + lookup->customer.size() <= encoded.data() + encoded.size());
  }
}

using consentry::test::TempDir;

constexpr std::int64_t kBaseTime = 1767225600;
constexpr std::int64_t kEntries = 50;

AuditEntry entry_for(std::int64_t seq) {
  AuditEntry e;
  e.seq = seq;
  e.at = at(kBaseTime + seq * 60);
  e.customer = "cust-" + std::to_string(seq % 3);
  e.accessor = seq % 2 ? "support-desk" : "email-campaigns";
  e.purpose = seq % 2 ? "service" : "marketing.email";
  e.allowed = seq % 5 != 0;
  e.action = e.allowed ? AuditAction::field_read : AuditAction::access_denied;
  e.reason = e.allowed ? "" : "withdrawn";
  e.fields = {"email:clear", "phone:mask:last4"};
  return e;
}

// Log is a 50-entry log appended through the Store API, checkpointed at 20 and 40, whose entry
// `bad_seq` is stored as `corrupt` makes its encoding. Every hash is computed over the bytes as
// stored, as someone rewriting the log would recompute them, and the lookup columns keep the
// entry's seq, time and customer: only a check of the whole encoding finds the damage.
struct Log {
  AuditSigner signer = AuditSigner::generate();

  Log(Store& s, std::int64_t bad_seq, const std::function<void(const AuditEntry&, bytes&)>& corrupt) {
    bytes previous(kAuditHashBytes, 0);
    std::vector<StoredAuditEntry> batch;
    for (std::int64_t seq = 1; seq <= kEntries; ++seq) {
      const AuditEntry e = entry_for(seq);
      StoredAuditEntry row;
      row.seq = seq;
      row.at = e.at;
      row.customer = e.customer;
      row.encoded = encode_audit_entry(e);
      if (seq == bad_seq) corrupt(e, row.encoded);
      row.hash = audit_chain_hash(previous, row.encoded);
      previous = row.hash;
      batch.push_back(row);
      if (seq == 20 || seq == 40 || seq == kEntries) {
        must(s.append_audit(batch));
        batch.clear();
      }
      if (seq == 20 || seq == 40) must(s.put_checkpoint(signer.sign(seq, row.hash, e.at)));
    }
  }
};

std::vector<StoredAuditEntry> scan_all(Store& s, std::int64_t from) {
  std::vector<StoredAuditEntry> out;
  must(s.scan_audit(from, [&](const StoredAuditEntry& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}

}  // namespace

// ---- check_audit_entry ----

TEST_CASE("check_audit_entry reads seq, time and customer of every entry decode_audit_entry reads") {
  check_agrees(encode_audit_entry(sample_entry()));
  AuditEntry edge;
  edge.seq = -(std::int64_t{1} << 40);
  edge.at = at(-86400 * 365);
  edge.customer = "";
  edge.accessor = std::string("cli\0x", 5);
  edge.action = AuditAction::purge;
  check_agrees(encode_audit_entry(edge));
  AuditEntry nul_customer = sample_entry();
  nul_customer.customer = std::string("a\0b", 3);
  nul_customer.fields = {"", ""};
  check_agrees(encode_audit_entry(nul_customer));
  for (std::int64_t seq = 1; seq <= 10; ++seq) check_agrees(encode_audit_entry(entry_for(seq)));
}

TEST_CASE("check_audit_entry refuses exactly the encodings decode_audit_entry refuses, with its error") {
  const AuditEntry e = sample_entry();
  const bytes encoded = encode_audit_entry(e);

  // Every truncation, and bytes after the end.
  for (std::size_t n = 0; n <= encoded.size(); ++n) {
    CAPTURE(n);
    check_agrees(byte_view(encoded).first(n));
  }
  bytes extended = encoded;
  extended.push_back(0);
  check_agrees(extended);

  // Each member that only a full decoder interprets: the version, the action spelling, the
  // decision byte, the reason, the field count and the field lengths.
  for (int version = 0; version < 256; ++version) {
    bytes b = encoded;
    b[0] = static_cast<std::uint8_t>(version);
    check_agrees(b);
  }
  for (std::size_t i = offset_of_action(e); i < offset_of_allowed(e); ++i)
    for (std::uint8_t v : {0x00, 0x41, 0x5f, 0x61, 0xff}) {
      CAPTURE(i);
      bytes b = encoded;
      b[i] = v;
      check_agrees(b);
    }
  for (int allowed = 0; allowed < 256; ++allowed) {
    bytes b = encoded;
    b[offset_of_allowed(e)] = static_cast<std::uint8_t>(allowed);
    check_agrees(b);
  }
  for (std::size_t i = offset_of_allowed(e) + 1; i < encoded.size(); ++i)
    for (std::uint8_t delta : {1, 0x80}) {
      CAPTURE(i);
      bytes b = encoded;
      b[i] = static_cast<std::uint8_t>(b[i] + delta);
      check_agrees(b);
    }

  // Every single bit flipped anywhere.
  for (std::size_t bit = 0; bit < encoded.size() * 8; ++bit) {
    CAPTURE(bit);
    bytes b = encoded;
    b[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    check_agrees(b);
  }

  // A field count of four billion with nothing behind it.
  AuditEntry no_fields = e;
  no_fields.fields = {};
  bytes huge_count = encode_audit_entry(no_fields);
  for (std::size_t i = huge_count.size() - 4; i < huge_count.size(); ++i) huge_count[i] = 0xff;
  check_agrees(huge_count);

  // Garbage, and deterministic pseudo-random inputs that start with the version byte.
  check_agrees(bytes{});
  check_agrees(bytes(64, 0xff));
  check_agrees(bytes(64, 0x00));
  std::uint32_t x = 12345;
  for (int round = 0; round < 2000; ++round) {
    bytes junk(1 + round % 131);
    for (auto& byte : junk) {
      x = x * 1664525u + 1013904223u;
      byte = static_cast<std::uint8_t>(x >> 24);
    }
    junk[0] = 1;
    check_agrees(junk);
  }
}

// ---- scan_audit_views ----

TEST_CASE_TEMPLATE("scan_audit_views passes the entries scan_audit passes, and stops when told", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const Log log(s, 0, [](const AuditEntry&, bytes&) {});
  for (std::int64_t from : {std::int64_t{-3}, std::int64_t{1}, std::int64_t{31}, kEntries, kEntries + 1}) {
    CAPTURE(from);
    const auto copies = scan_all(s, from);
    std::size_t i = 0;
    must(s.scan_audit_views(from, [&](const StoredAuditView& v) {
      REQUIRE(i < copies.size());
      const StoredAuditEntry& c = copies[i++];
      CHECK(v.seq == c.seq);
      CHECK(v.at == c.at);
      CHECK(v.customer == c.customer);
      CHECK(bytes(v.encoded.begin(), v.encoded.end()) == c.encoded);
      CHECK(bytes(v.hash.begin(), v.hash.end()) == c.hash);
      return true;
    }));
    CHECK(i == copies.size());
  }

  std::vector<std::int64_t> seen;
  must(s.scan_audit_views(10, [&](const StoredAuditView& v) {
    seen.push_back(v.seq);
    return seen.size() < 3;
  }));
  CHECK(seen == std::vector<std::int64_t>{10, 11, 12});
  // The scan can run again after stopping early.
  CHECK(scan_all(s, 1).size() == static_cast<std::size_t>(kEntries));
}

TEST_CASE("sqlite: a scan of the audit log inside another is refused, in either form") {
  consentry::test::SqliteBackend backend;
  Store& s = *backend.store;
  const Log log(s, 0, [](const AuditEntry&, bytes&) {});
  result<void> inner = ok();
  must(s.scan_audit_views(1, [&](const StoredAuditView&) {
    inner = s.scan_audit(1, [](const StoredAuditEntry&) { return true; });
    return false;
  }));
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.err().code == errc::internal);
  must(s.scan_audit(1, [&](const StoredAuditEntry&) {
    inner = s.scan_audit_views(1, [](const StoredAuditView&) { return true; });
    return false;
  }));
  REQUIRE_FALSE(inner.ok());
  CHECK(inner.err().code == errc::internal);
}

// ---- verification of entries only a full check of the encoding refuses ----

TEST_CASE_TEMPLATE(
    "verify names entry bytes that do not decode at their seq, even rehashed and after the last "
    "checkpoint",
    B, STORE_BACKENDS) {
  struct Damage {
    const char* what;
    std::function<void(const AuditEntry&, bytes&)> corrupt;
  };
  const Damage damages[] = {
      {"an unknown version", [](const AuditEntry&, bytes& b) { b[0] = 2; }},
      {"an unknown action of the same length",
       [](const AuditEntry& e, bytes& b) { b[offset_of_action(e) + 4] = 'F'; }},
      {"a decision byte of 2", [](const AuditEntry& e, bytes& b) { b[offset_of_allowed(e)] = 2; }},
      {"a field count one too high",
       [](const AuditEntry& e, bytes& b) { ++b[offset_of_field_count(e) + 3]; }},
      {"a field count one too low", [](const AuditEntry& e, bytes& b) { --b[offset_of_field_count(e) + 3]; }},
      {"a field length past the end",
       [](const AuditEntry& e, bytes& b) { ++b[offset_of_field_count(e) + 7]; }},
      {"a reason length past the end",
       [](const AuditEntry& e, bytes& b) { b[offset_of_allowed(e) + 1] = 0x7f; }},
      {"a byte after the end", [](const AuditEntry&, bytes& b) { b.push_back(0); }},
      {"the last byte cut", [](const AuditEntry&, bytes& b) { b.pop_back(); }},
  };
  for (const Damage& d : damages) {
    for (std::int64_t bad : {std::int64_t{1}, std::int64_t{12}, std::int64_t{45}, kEntries}) {
      CAPTURE(d.what);
      CAPTURE(bad);
      B backend;
      Store& s = *backend.store;
      const Log log(s, bad, d.corrupt);
      // The damage is in bytes the lookup columns do not copy.
      const auto stored = scan_all(s, bad);
      REQUIRE_FALSE(stored.empty());
      REQUIRE_FALSE(decode_audit_entry(stored.front().encoded).ok());
      const auto report = must(verify_audit_log(s, log.signer.public_key()));
      CAPTURE(report.problem);
      CHECK_FALSE(report.ok);
      CHECK(report.first_bad_seq == bad);
      CHECK(report.problem.find("entry " + std::to_string(bad) + " does not decode") != std::string::npos);
      CHECK(report.entries == bad - 1);
    }
  }
}
