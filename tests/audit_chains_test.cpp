// audit_chains_test.cpp: verify_audit_log on a log with a hash chain per writer, tied together by
// checkpoints over every chain's head (docs/audit.md, "Many writers"), against each way someone
// holding the database can tamper with it; and such checkpoints as JSON.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/records.hpp"
#include "support/must.hpp"

using namespace consentry;
using consentry::test::must;

namespace {

constexpr std::int64_t kBaseTime = 1767225600;

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

// ChainsLog is an AuditLogReader over entries held in memory, read in (chain, seq) order as a
// store reads them, so that a test can tamper with any row.
struct ChainsLog : AuditLogReader {
  std::vector<StoredAuditEntry> entries;
  std::vector<AuditCheckpoint> stored_checkpoints;

  result<void> scan_audit_views(std::int64_t from,
                                const std::function<bool(const StoredAuditView&)>& visit) override {
    std::vector<StoredAuditEntry> sorted = entries;
    std::stable_sort(sorted.begin(), sorted.end(), [](const StoredAuditEntry& a, const StoredAuditEntry& b) {
      return a.chain != b.chain ? a.chain < b.chain : a.seq < b.seq;
    });
    for (const StoredAuditEntry& e : sorted) {
      if (e.seq < from) continue;
      if (!visit(StoredAuditView{e.seq, e.at, e.customer, e.encoded, e.hash, e.chain})) break;
    }
    return ok();
  }
  result<std::vector<AuditCheckpoint>> checkpoints() override { return stored_checkpoints; }

  // find returns the entry of `chain` at `seq`.
  StoredAuditEntry& find(std::int64_t chain, std::int64_t seq) {
    auto it = std::find_if(entries.begin(), entries.end(),
                           [&](const StoredAuditEntry& e) { return e.chain == chain && e.seq == seq; });
    REQUIRE(it != entries.end());
    return *it;
  }
};

// Writers builds a log as several writers append to their own chains, and signs checkpoints
// over every chain's head as the vault's writers do.
struct Writers {
  AuditSigner signer = AuditSigner::generate();
  ChainsLog log;
  std::map<std::int64_t, AuditHead> heads;
  std::int64_t clock = kBaseTime;

  static AuditEntry entry(std::int64_t seq, std::int64_t when, std::int64_t chain) {
    AuditEntry e;
    e.seq = seq;
    e.at = at(when);
    e.customer = "cust-" + std::to_string((seq + chain) % 4);
    e.accessor = "support-desk";
    e.purpose = "service";
    e.fields = {"email:clear"};
    return e;
  }

  // append adds `n` entries to `chain`, hashed from its genesis or its head.
  void append(std::int64_t chain, int n) {
    auto found = heads.find(chain);
    AuditHead head = found != heads.end()
                         ? found->second
                         : AuditHead{0, audit_chain_genesis(signer.public_key(), chain), chain};
    for (int i = 0; i < n; ++i) {
      const AuditEntry e = entry(head.seq + 1, ++clock, chain);
      StoredAuditEntry s;
      s.seq = e.seq;
      s.at = e.at;
      s.customer = e.customer;
      s.encoded = encode_audit_entry(e);
      s.hash = audit_chain_hash(head.hash, s.encoded);
      s.chain = chain;
      head = AuditHead{s.seq, s.hash, chain};
      log.entries.push_back(std::move(s));
    }
    heads[chain] = head;
  }

  // checkpoint signs every chain's head, after the last stored checkpoint, and stores it.
  AuditCheckpoint checkpoint() {
    std::vector<AuditHead> now;
    for (const auto& [chain, head] : heads) now.push_back(head);
    const auto& stored = log.stored_checkpoints;
    AuditCheckpoint cp = signer.sign_heads(
        stored.empty() ? 1 : stored.back().seq + 1, now,
        stored.empty() ? bytes(kAuditHashBytes, 0) : checkpoint_hash(stored.back()), at(++clock));
    log.stored_checkpoints.push_back(cp);
    return cp;
  }

  AuditVerification verify(const std::optional<AuditCheckpoint>& against = std::nullopt) {
    return must(verify_audit_log(log, signer.public_key(), against));
  }
};

constexpr std::int64_t kA = 1001;
constexpr std::int64_t kB = 2002;
constexpr std::int64_t kC = 3003;

// three_writers is a log of three chains, interleaved, with checkpoints after each round.
Writers three_writers() {
  Writers w;
  w.append(kA, 5);
  w.append(kB, 3);
  w.checkpoint();
  w.append(kA, 2);
  w.append(kC, 4);
  w.append(kB, 4);
  w.checkpoint();
  w.append(kC, 3);
  w.checkpoint();
  return w;
}

void check_bad(const AuditVerification& r, std::int64_t chain, std::int64_t seq,
               std::string_view problem_part) {
  CAPTURE(r.problem);
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_chain == chain);
  CHECK(r.first_bad_seq == seq);
  CHECK(r.problem.find(problem_part) != std::string::npos);
}

}  // namespace

TEST_CASE("a log with a chain per writer verifies, counting every entry and vouched head") {
  Writers w = three_writers();
  const AuditVerification r = w.verify();
  CAPTURE(r.problem);
  CHECK(r.ok);
  CHECK(r.entries == 21);
  // Checkpoint 1 vouches for 2 heads, checkpoint 2 and 3 for 3 each.
  CHECK(r.checkpoints == 8);
}

TEST_CASE("a chain's genesis binds it to its vault's key and its id") {
  const AuditSigner one = AuditSigner::generate();
  const AuditSigner other = AuditSigner::generate();
  CHECK(audit_chain_genesis(one.public_key(), 0) == bytes(kAuditHashBytes, 0));
  CHECK(audit_chain_genesis(one.public_key(), 7) != audit_chain_genesis(one.public_key(), 8));
  CHECK(audit_chain_genesis(one.public_key(), 7) != audit_chain_genesis(other.public_key(), 7));
  CHECK(audit_chain_genesis(one.public_key(), 7).size() == kAuditHashBytes);
}

TEST_CASE("chains: a modified entry is named by its chain and seq") {
  Writers w = three_writers();
  AuditEntry changed = Writers::entry(3, kBaseTime + 3, kB);
  changed.allowed = false;
  StoredAuditEntry& e = w.log.find(kB, 3);
  changed.at = e.at;
  changed.customer = e.customer;
  e.encoded = encode_audit_entry(changed);
  check_bad(w.verify(), kB, 3, "modified entry");
}

TEST_CASE("chains: a chain rewritten and rehashed is caught by the checkpoint over its head") {
  Writers w = three_writers();
  // Rebuild chain B with its second entry changed, every later hash recomputed.
  std::vector<StoredAuditEntry> b;
  for (const auto& e : w.log.entries)
    if (e.chain == kB) b.push_back(e);
  std::sort(b.begin(), b.end(), [](const auto& x, const auto& y) { return x.seq < y.seq; });
  bytes previous = audit_chain_genesis(w.signer.public_key(), kB);
  for (auto& row : b) {
    AuditEntry e = must(decode_audit_entry(row.encoded));
    if (e.seq == 2) e.purpose = "marketing.email";
    row.encoded = encode_audit_entry(e);
    row.hash = audit_chain_hash(previous, row.encoded);
    previous = row.hash;
    w.log.find(kB, row.seq) = row;
  }
  check_bad(w.verify(), kB, 3, "does not match the chain (the log was rewritten up to it)");
}

TEST_CASE("chains: an entry deleted from the middle of a chain is named") {
  Writers w = three_writers();
  auto& entries = w.log.entries;
  entries.erase(std::find_if(entries.begin(), entries.end(),
                             [](const auto& e) { return e.chain == kC && e.seq == 2; }));
  check_bad(w.verify(), kC, 2, "entry 2 is missing");
}

TEST_CASE("chains: an entry inserted into a chain is named") {
  Writers w = three_writers();
  StoredAuditEntry extra = w.log.find(kA, 2);
  extra.seq = 3;
  // Entries 3 and on move up one, as an insertion that renumbers the rest would leave them.
  for (auto& e : w.log.entries)
    if (e.chain == kA && e.seq >= 3) ++e.seq;
  w.log.entries.push_back(extra);
  check_bad(w.verify(), kA, 3, "entry 2 again (inserted or duplicated entry)");
}

TEST_CASE("chains: an entry moved from one chain to another, rehashed there, is caught") {
  Writers w = three_writers();
  // The last entry of chain A is moved to the end of chain C and given C's next seq and hash.
  StoredAuditEntry moved = w.log.find(kA, 7);
  w.log.entries.erase(std::find_if(w.log.entries.begin(), w.log.entries.end(),
                                   [](const auto& e) { return e.chain == kA && e.seq == 7; }));
  AuditEntry e = must(decode_audit_entry(moved.encoded));
  e.seq = 8;
  moved.chain = kC;
  moved.seq = 8;
  moved.encoded = encode_audit_entry(e);
  moved.hash = audit_chain_hash(w.heads[kC].hash, moved.encoded);
  w.log.entries.push_back(moved);
  // Chain A no longer reaches the head a checkpoint vouched for.
  check_bad(w.verify(), kA, 7, "a checkpoint covers seq 7 (truncated tail)");
}

TEST_CASE("chains: a chain renamed to another id fails its genesis binding") {
  Writers w = three_writers();
  w.log.stored_checkpoints.clear();  // only the binding is at stake here
  for (auto& e : w.log.entries)
    if (e.chain == kC) e.chain = 4004;
  check_bad(w.verify(), 4004, 1, "its hash does not match the chain");
}

TEST_CASE("chains: a chain deleted whole is named by the checkpoint that listed it") {
  Writers w = three_writers();
  std::erase_if(w.log.entries, [](const auto& e) { return e.chain == kB; });
  check_bad(w.verify(), kB, 1, "chain 2002 is missing");
}

TEST_CASE("chains: a chain cut below its checkpointed head is a truncated tail") {
  Writers w = three_writers();
  std::erase_if(w.log.entries, [](const auto& e) { return e.chain == kC && e.seq >= 6; });
  check_bad(w.verify(), kC, 6, "the log ends at seq 5 but a checkpoint covers seq 7 (truncated tail)");
}

TEST_CASE("chains: a checkpoint deleted from the middle, or two reordered, break the checkpoints' chain") {
  SUBCASE("deleted") {
    Writers w = three_writers();
    w.log.stored_checkpoints.erase(w.log.stored_checkpoints.begin() + 1);
    check_bad(w.verify(), kA, 1, "does not follow the checkpoint stored before it");
  }
  SUBCASE("reordered") {
    Writers w = three_writers();
    std::swap(w.log.stored_checkpoints[0], w.log.stored_checkpoints[1]);
    CHECK_FALSE(w.verify().ok);
  }
}

TEST_CASE("chains: a checkpoint altered or signed by another key is named") {
  SUBCASE("a head altered") {
    Writers w = three_writers();
    w.log.stored_checkpoints[1].heads[0].seq = 6;
    check_bad(w.verify(), kA, 1, "its signature does not verify (forged or altered)");
  }
  SUBCASE("another key") {
    Writers w = three_writers();
    Writers forger;
    const AuditCheckpoint& real = w.log.stored_checkpoints.back();
    w.log.stored_checkpoints.back() = forger.signer.sign_heads(real.seq, real.heads, real.previous, real.at);
    check_bad(w.verify(), kA, 1, "its signature does not verify");
  }
}

TEST_CASE("chains: the newest checkpoints deleted with what they covered are caught only from outside") {
  Writers w = three_writers();
  const AuditCheckpoint external = w.log.stored_checkpoints.back();
  // Roll back: the last checkpoint and chain C's entries after the one before go.
  w.log.stored_checkpoints.pop_back();
  std::erase_if(w.log.entries, [](const auto& e) { return e.chain == kC && e.seq > 4; });
  CHECK(w.verify().ok);
  check_bad(w.verify(external), kC, 5, "the external checkpoint covers seq 7 (rolled back)");
}

TEST_CASE("chains: a chain that no checkpoint lists yet verifies on its own hashes") {
  Writers w = three_writers();
  w.append(5005, 3);  // a writer that started after the last checkpoint
  CHECK(w.verify().ok);
  w.log.find(5005, 2).hash[0] ^= 1;
  check_bad(w.verify(), 5005, 2, "its hash does not match the chain");
}

TEST_CASE("chains: chain 0 with one-chain checkpoints, then writers' chains, verify together") {
  // A vault migrated to a chain per writer: its old entries are chain 0, with checkpoints over
  // that one chain; new ones follow on writers' chains, with checkpoints over every head.
  Writers w;
  w.append(0, 6);
  const AuditHead& zero = w.heads[0];
  w.log.stored_checkpoints.push_back(w.signer.sign(zero.seq, zero.hash, at(kBaseTime)));
  w.append(kA, 3);
  w.append(kB, 2);
  w.checkpoint();
  const AuditVerification r = w.verify();
  CAPTURE(r.problem);
  CHECK(r.ok);
  CHECK(r.entries == 11);
  // Chain 0's entries are checked as before: a deleted one is named without a chain.
  std::erase_if(w.log.entries, [](const auto& e) { return e.chain == 0 && e.seq == 4; });
  check_bad(w.verify(), 0, 4, "entry 4 is missing");
}

TEST_CASE("chains: a checkpoint over many heads survives JSON, and malformed ones are named by path") {
  Writers w = three_writers();
  const AuditCheckpoint cp = w.log.stored_checkpoints.back();
  const std::string json = checkpoint_to_json(cp, w.signer.public_key());
  bytes key;
  const AuditCheckpoint back = must(checkpoint_from_json(json, key));
  CHECK(key == w.signer.public_key());
  CHECK(back.seq == cp.seq);
  CHECK(back.previous == cp.previous);
  REQUIRE(back.heads.size() == cp.heads.size());
  for (std::size_t i = 0; i < cp.heads.size(); ++i) {
    CHECK(back.heads[i].chain == cp.heads[i].chain);
    CHECK(back.heads[i].seq == cp.heads[i].seq);
    CHECK(back.heads[i].hash == cp.heads[i].hash);
  }
  CHECK(verify_checkpoint(back, key));
  CHECK(w.verify(back).ok);

  const auto error_of = [](const std::string& text) {
    bytes k;
    auto r = checkpoint_from_json(text, k);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    return r.err().message;
  };
  std::string swapped = json;
  const auto first = swapped.find("\"chain\":1001");
  const auto second = swapped.find("\"chain\":2002");
  REQUIRE(first != std::string::npos);
  REQUIRE(second != std::string::npos);
  swapped.replace(second, 12, "\"chain\":1001");
  CHECK(error_of(swapped).find("$.heads[1].chain") != std::string::npos);
  std::string no_previous = json;
  const auto previous = no_previous.find(",\"previous\"");
  no_previous.erase(previous, no_previous.find(",\"at\"") - previous);
  CHECK(error_of(no_previous).find("$.previous") != std::string::npos);
  std::string bad_head = json;
  bad_head.replace(bad_head.find("\"head\":\"") + 8, 2, "zz");
  CHECK(error_of(bad_head).find("$.heads[0].head") != std::string::npos);
  CHECK(
      error_of(
          R"({"seq":1,"heads":[],"previous":"","at":"2026-01-01T00:00:00Z","signature":"","public_key":""})")
          .find("$.heads") != std::string::npos);
}
