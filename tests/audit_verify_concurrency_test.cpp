// audit_verify_concurrency_test.cpp: verify_audit_log on logs long enough that it hashes their
// entries on a thread beside the scan (in chunks of 8,192 entries): the first problem is found
// wherever it lies, with the counts a pass that hashed every entry in turn would give. Also run
// under ThreadSanitizer by CI.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "consentry/audit.hpp"
#include "support/must.hpp"
#include "support/stored_audit.hpp"
#include "support/vector_log.hpp"
#include "support/verify_report.hpp"

using namespace consentry;

namespace {

using consentry::test::check_bad;
using consentry::test::check_intact;
using consentry::test::must;
using consentry::test::stored_of;
using consentry::test::VectorLog;

// kLongLog has more entries than two chunks, so that some are hashed on a thread of their own
// and the last ones on the calling thread.
constexpr std::int64_t kLongLog = 20000;
constexpr std::int64_t kFirstCheckpoint = 5000;

AuditEntry entry_at(std::int64_t seq, std::string accessor = "support-desk") {
  AuditEntry e;
  e.seq = seq;
  e.at = timestamp{std::chrono::seconds{1767225600 + seq}};
  e.customer = "cust-" + std::to_string(seq % 7);
  e.accessor = std::move(accessor);
  e.purpose = "service";
  e.action = AuditAction::field_read;
  e.fields = {"email:clear"};
  return e;
}

// LongLog is a one-chain log of kLongLog entries, checkpointed at kFirstCheckpoint and at its end.
struct LongLog {
  AuditSigner signer = AuditSigner::generate();
  VectorLog log;

  LongLog() {
    bytes previous(kAuditHashBytes, 0);
    for (std::int64_t seq = 1; seq <= kLongLog; ++seq) {
      log.entries.push_back(stored_of(entry_at(seq), previous));
      previous = log.entries.back().hash;
    }
    for (std::int64_t seq : {kFirstCheckpoint, kLongLog})
      log.stored_checkpoints.push_back(signer.sign(seq, log.entries[static_cast<std::size_t>(seq - 1)].hash,
                                                   entry_at(seq).at + std::chrono::seconds{1}));
  }
  // modify rewrites the bytes of entry `seq` (another accessor, the same lookup columns) and
  // leaves its stored hash, as someone editing the log without the key would.
  void modify(std::int64_t seq) {
    log.entries.at(static_cast<std::size_t>(seq - 1)).encoded =
        encode_audit_entry(entry_at(seq, "bi-dashboard"));
  }
  AuditVerification verify() { return must(verify_audit_log(log, signer.public_key())); }
};

}  // namespace

TEST_CASE("verify finds the first modified entry of a long log wherever it lies") {
  {
    LongLog whole;
    check_intact(whole.verify(), kLongLog, 2);
  }
  // At either end of each chunk, in the middle of one, and at the last entry.
  for (std::int64_t seq :
       {std::int64_t{1}, std::int64_t{3}, std::int64_t{8192}, std::int64_t{8193}, std::int64_t{12000},
        std::int64_t{16384}, std::int64_t{16385}, std::int64_t{19999}, kLongLog}) {
    CAPTURE(seq);
    LongLog damaged;
    damaged.modify(seq);
    const AuditVerification report = damaged.verify();
    check_bad(report, seq, "modified entry");
    // The counts stop where the log goes wrong.
    CHECK(report.entries == seq - 1);
    CHECK(report.checkpoints == (seq > kFirstCheckpoint ? 1 : 0));
  }
}

TEST_CASE("verify names the first problem of a long log when there are several, of any kind") {
  LongLog damaged;
  SUBCASE("two modified entries in different chunks") {
    damaged.modify(15000);
    damaged.modify(3000);
    check_bad(damaged.verify(), 3000, "modified entry");
  }
  SUBCASE("a modified entry before a deleted one") {
    damaged.modify(9000);
    damaged.log.entries.erase(damaged.log.entries.begin() + 14999);
    check_bad(damaged.verify(), 9000, "modified entry");
  }
  SUBCASE("a deleted entry before a modified one") {
    damaged.modify(15000);
    damaged.log.entries.erase(damaged.log.entries.begin() + 8999);
    const AuditVerification report = damaged.verify();
    check_bad(report, 9000, "missing");
    CHECK(report.entries == 8999);
  }
  SUBCASE("a modified entry where a checkpoint vouches for the chain") {
    // Its hash, not the checkpoint, is what is wrong there.
    damaged.modify(kFirstCheckpoint);
    const AuditVerification report = damaged.verify();
    check_bad(report, kFirstCheckpoint, "modified entry");
    CHECK(report.entries == kFirstCheckpoint - 1);
    CHECK(report.checkpoints == 0);
  }
  SUBCASE("a stored hash cut short") {
    damaged.log.entries[11999].hash.resize(kAuditHashBytes - 1);
    const AuditVerification report = damaged.verify();
    check_bad(report, 12000, "modified entry");
    CHECK(report.entries == 11999);
  }
  SUBCASE("a stored hash cut short after a modified entry") {
    damaged.modify(3000);
    damaged.log.entries[11999].hash.resize(kAuditHashBytes - 1);
    check_bad(damaged.verify(), 3000, "modified entry");
  }
  SUBCASE("a modified entry and a truncated tail") {
    damaged.modify(10000);
    damaged.log.entries.resize(18000);
    const AuditVerification report = damaged.verify();
    check_bad(report, 10000, "modified entry");
    CHECK(report.checkpoints == 1);
  }
  SUBCASE("an entry rewritten with every hash after it recomputed") {
    // Every entry's hash follows from the one before it; the checkpoint at the end no longer
    // matches.
    std::vector<StoredAuditEntry>& entries = damaged.log.entries;
    entries[11999] = stored_of(entry_at(12000, "bi-dashboard"), entries[11998].hash);
    for (std::size_t i = 12000; i < entries.size(); ++i)
      entries[i].hash = audit_chain_hash(entries[i - 1].hash, entries[i].encoded);
    const AuditVerification report = damaged.verify();
    check_bad(report, kLongLog, "does not match the chain (the log was rewritten up to it)");
    CHECK(report.entries == kLongLog);
    CHECK(report.checkpoints == 1);
  }
}

TEST_CASE("two threads verify long logs at once, each finding its own first problem") {
  LongLog first;
  LongLog second;
  second.modify(9000);
  AuditVerification first_report;
  AuditVerification second_report;
  std::thread other([&] { second_report = second.verify(); });
  first_report = first.verify();
  other.join();
  CHECK(first_report.ok);
  CHECK(first_report.entries == kLongLog);
  check_bad(second_report, 9000, "modified entry");
}
