// audit_verify_test.cpp: the stores' audit log and ledger queries, and verify_audit_log against
// each way someone holding the vault file can tamper with the log.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"
#include "support/stored_audit.hpp"
#include "support/temp_dir.hpp"
#include "support/vector_log.hpp"
#include "support/verify_report.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

using consentry::test::TempDir;

using consentry::test::check_bad;
using consentry::test::check_intact;
using consentry::test::must;
using consentry::test::stored_of;
using consentry::test::VectorLog;

constexpr std::int64_t kBaseTime = 1767225600;

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

timestamp time_of(std::int64_t seq) {
  return at(kBaseTime + seq * 60);
}

std::string customer_of(std::int64_t seq) {
  return "cust-" + std::to_string(seq % 3);
}

AuditEntry entry_for(std::int64_t seq) {
  AuditEntry e;
  e.seq = seq;
  e.at = time_of(seq);
  e.customer = customer_of(seq);
  e.accessor = seq % 2 ? "support-desk" : "email-campaigns";
  e.purpose = seq % 2 ? "service" : "marketing.email";
  e.allowed = seq % 5 != 0;
  e.action = e.allowed ? AuditAction::field_read : AuditAction::access_denied;
  e.reason = e.allowed ? "" : "withdrawn";
  e.fields = {"email:clear"};
  return e;
}

bool same_entry(const StoredAuditEntry& a, const StoredAuditEntry& b) {
  return a.seq == b.seq && a.at == b.at && a.customer == b.customer && a.encoded == b.encoded &&
         a.hash == b.hash;
}

// Chain builds a log through the Store API and remembers every entry it appended.
struct Chain {
  AuditSigner signer = AuditSigner::generate();
  std::vector<StoredAuditEntry> entries;  // entries[i] has seq i + 1

  const bytes& head(std::int64_t seq) const { return entries.at(static_cast<std::size_t>(seq - 1)).hash; }

  // append adds entries up to seq `last`, in batches of `batch` as a vault's group commit would.
  void append(Store& s, std::int64_t last, std::size_t batch = 7) {
    std::vector<StoredAuditEntry> pending;
    for (auto seq = static_cast<std::int64_t>(entries.size()) + 1; seq <= last; ++seq) {
      const bytes previous = entries.empty() ? bytes(kAuditHashBytes, 0) : entries.back().hash;
      entries.push_back(stored_of(entry_for(seq), previous));
      pending.push_back(entries.back());
      if (pending.size() == batch || seq == last) {
        must(s.append_audit(pending));
        pending.clear();
      }
    }
  }

  AuditCheckpoint sign(std::int64_t seq) const {
    return signer.sign(seq, head(seq), time_of(seq) + std::chrono::seconds{1});
  }

  AuditCheckpoint checkpoint(Store& s, std::int64_t seq) const {
    AuditCheckpoint cp = sign(seq);
    must(s.put_checkpoint(cp));
    return cp;
  }
};

std::vector<StoredAuditEntry> scan_all(Store& s, std::int64_t from = 1) {
  std::vector<StoredAuditEntry> out;
  must(s.scan_audit(from, [&](const StoredAuditEntry& e) {
    out.push_back(e);
    return true;
  }));
  return out;
}

void check_refused_append(Store& s, const std::vector<StoredAuditEntry>& batch) {
  auto r = s.append_audit(batch);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::internal);
}

}  // namespace

// ---- the store's audit log ----

TEST_CASE_TEMPLATE("audit_head, scan_audit and audit_for_customer return what append_audit stored", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.audit_head()).has_value());
  CHECK(scan_all(s).empty());
  must(s.append_audit({}));
  CHECK_FALSE(must(s.audit_head()).has_value());

  Chain chain;
  chain.append(s, 40);
  auto head = must(s.audit_head());
  REQUIRE(head.has_value());
  CHECK(head->seq == 40);
  CHECK(head->hash == chain.head(40));

  const auto all = scan_all(s);
  REQUIRE(all.size() == 40);
  for (std::size_t i = 0; i < all.size(); ++i) {
    CAPTURE(i);
    CHECK(same_entry(all[i], chain.entries[i]));
  }
  const auto tail = scan_all(s, 31);
  REQUIRE(tail.size() == 10);
  CHECK(tail.front().seq == 31);
  CHECK(tail.back().seq == 40);
  CHECK(scan_all(s, 41).empty());
  CHECK(scan_all(s, -5).size() == 40);

  // The scan stops when the visitor says so.
  std::vector<std::int64_t> seen;
  must(s.scan_audit(10, [&](const StoredAuditEntry& e) {
    seen.push_back(e.seq);
    return seen.size() < 3;
  }));
  CHECK(seen == std::vector<std::int64_t>{10, 11, 12});

  const auto mine = must(s.audit_for_customer("cust-1"));
  REQUIRE(mine.size() == 14);
  for (std::size_t i = 0; i < mine.size(); ++i) {
    CAPTURE(i);
    const auto seq = static_cast<std::int64_t>(1 + 3 * i);
    CHECK(mine[i].seq == seq);
    CHECK(same_entry(mine[i], chain.entries[static_cast<std::size_t>(seq - 1)]));
  }
  CHECK(must(s.audit_for_customer("cust-9")).empty());
  CHECK(must(s.audit_for_customer("cust-")).empty());

  // A long batch (SQLite inserts whole runs of 32 in one statement, then the rest one by one)
  // lands whole and in order.
  chain.append(s, 110, 70);
  CHECK(must(s.audit_head())->seq == 110);
  const auto longer = scan_all(s);
  REQUIRE(longer.size() == 110);
  for (std::size_t i = 0; i < longer.size(); ++i) {
    CAPTURE(i);
    CHECK(same_entry(longer[i], chain.entries[i]));
  }
}

TEST_CASE_TEMPLATE("last_checkpoint gives the checkpoint of the highest seq, none before the first", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.last_checkpoint()).has_value());
  Chain chain;
  chain.append(s, 30);
  chain.checkpoint(s, 10);
  chain.checkpoint(s, 25);
  chain.checkpoint(s, 20);  // stored after, but older
  const auto last = must(s.last_checkpoint());
  REQUIRE(last.has_value());
  CHECK(last->seq == 25);
  CHECK(last->head == chain.head(25));
  CHECK(last->signature == chain.sign(25).signature);
  CHECK(last->seq == must(s.checkpoints()).back().seq);
}

TEST_CASE_TEMPLATE("append_audit refuses entries that do not continue the log and keeps none of the batch", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const bytes zero(kAuditHashBytes, 0);
  // An empty log starts at 1.
  check_refused_append(s, {stored_of(entry_for(2), zero)});
  check_refused_append(s, {stored_of(entry_for(0), zero)});
  CHECK_FALSE(must(s.audit_head()).has_value());

  Chain chain;
  chain.append(s, 5);
  const auto& h5 = chain.head(5);
  // A gap, a repeat, an old seq, and a batch that starts right but skips inside.
  check_refused_append(s, {stored_of(entry_for(7), h5)});
  check_refused_append(s, {stored_of(entry_for(5), h5)});
  check_refused_append(s, {stored_of(entry_for(1), h5)});
  const auto six = stored_of(entry_for(6), h5);
  check_refused_append(s, {six, stored_of(entry_for(8), six.hash)});
  check_refused_append(s, {six, six});
  CHECK(must(s.audit_head())->seq == 5);
  CHECK(scan_all(s).size() == 5);

  // Inside a transaction a refused batch leaves the transaction's earlier entries alone.
  must(s.begin());
  must(s.append_audit({six}));
  check_refused_append(s, {stored_of(entry_for(8), six.hash)});
  CHECK(must(s.audit_head())->seq == 6);
  must(s.commit());
  CHECK(must(s.audit_head())->seq == 6);
  CHECK(scan_all(s).size() == 6);
}

TEST_CASE_TEMPLATE(
    "audit entries appended in a rolled-back transaction are gone and the log goes on after the head", B,
    STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  Chain chain;
  chain.append(s, 3);
  must(s.begin());
  chain.append(s, 9);
  CHECK(must(s.audit_head())->seq == 9);
  must(s.rollback());
  CHECK(must(s.audit_head())->seq == 3);
  chain.entries.resize(3);
  chain.append(s, 4);
  CHECK(must(s.audit_head())->seq == 4);
  CHECK(must(verify_audit_log(s, chain.signer.public_key())).ok);
}

TEST_CASE_TEMPLATE(
    "put_checkpoint keeps the checkpoint already stored for a seq, and checkpoints come by seq", B,
    STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK(must(s.checkpoints()).empty());
  Chain chain;
  chain.append(s, 30);
  const AuditCheckpoint thirty = chain.checkpoint(s, 30);
  const AuditCheckpoint ten = chain.checkpoint(s, 10);
  AuditCheckpoint later_ten = chain.signer.sign(10, chain.head(10), at(kBaseTime + 99999));
  must(s.put_checkpoint(later_ten));

  const auto cps = must(s.checkpoints());
  REQUIRE(cps.size() == 2);
  CHECK(cps[0].seq == 10);
  CHECK(cps[0].at == ten.at);
  CHECK(cps[0].head == ten.head);
  CHECK(cps[0].signature == ten.signature);
  CHECK(cps[1].seq == 30);
  CHECK(cps[1].signature == thirty.signature);
}

TEST_CASE_TEMPLATE("purpose_history returns a purpose's events ordered by customer, then in ledger order", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const auto event = [](std::string customer, std::string purpose, ConsentAction action, std::int64_t when) {
    ConsentEvent e;
    e.customer = std::move(customer);
    e.purpose = std::move(purpose);
    e.action = action;
    e.at = at(when);
    e.channel = "web";
    e.notice = "privacy-2025-03";
    return e;
  };
  // Later seqs carry earlier times: the order is the ledger's, not the clock's.
  auto g = event("C-2", "marketing.email", ConsentAction::grant, 500);
  g.expires_at = at(900);
  const ConsentEvent appended[] = {
      must(s.append_consent(g)),
      must(s.append_consent(event("C-10", "marketing.email", ConsentAction::grant, 400))),
      must(s.append_consent(event("C-1", "analytics", ConsentAction::object, 300))),
      must(s.append_consent(event("C-2", "marketing.email", ConsentAction::withdraw, 200))),
      must(s.append_consent(event("C-1", "marketing.email", ConsentAction::grant, 100))),
      must(s.append_consent(event("C-2", "marketing.email", ConsentAction::grant, 50))),
      must(s.append_consent(event("C-10", "marketing.emails", ConsentAction::grant, 40))),
  };
  const auto history = must(s.purpose_history("marketing.email"));
  // C-1 < C-10 < C-2 byte-wise.
  const std::vector<std::pair<std::string, std::int64_t>> expected = {
      {"C-1", appended[4].seq}, {"C-10", appended[1].seq}, {"C-2", appended[0].seq},
      {"C-2", appended[3].seq}, {"C-2", appended[5].seq},
  };
  REQUIRE(history.size() == expected.size());
  for (std::size_t i = 0; i < history.size(); ++i) {
    CAPTURE(i);
    CHECK(history[i].customer == expected[i].first);
    CHECK(history[i].seq == expected[i].second);
    CHECK(history[i].purpose == "marketing.email");
    CHECK(history[i].channel == "web");
    CHECK(history[i].notice == "privacy-2025-03");
  }
  CHECK(history[2].action == ConsentAction::grant);
  CHECK(history[2].expires_at == std::optional<timestamp>(at(900)));
  CHECK(history[3].action == ConsentAction::withdraw);
  CHECK(history[3].at == at(200));
  CHECK_FALSE(history[3].expires_at.has_value());
  CHECK(must(s.purpose_history("analytics")).size() == 1);
  CHECK(must(s.purpose_history("marketing")).empty());

  // A longer interleaved ledger, where an unstable sort by customer would scramble the seqs.
  for (int i = 0; i < 90; ++i)
    must(s.append_consent(event("D-" + std::to_string(i % 3), "profiling",
                                i % 2 ? ConsentAction::withdraw : ConsentAction::grant, 1000 - i)));
  const auto profiling = must(s.purpose_history("profiling"));
  REQUIRE(profiling.size() == 90);
  for (std::size_t i = 1; i < profiling.size(); ++i) {
    CAPTURE(i);
    const auto& a = profiling[i - 1];
    const auto& b = profiling[i];
    CHECK((a.customer < b.customer || (a.customer == b.customer && a.seq < b.seq)));
  }
}

// ---- verification of an intact log ----

TEST_CASE_TEMPLATE("an intact log verifies, counting every entry and checkpoint", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  Chain chain;
  auto empty = must(verify_audit_log(s, chain.signer.public_key()));
  CHECK(empty.ok);
  CHECK(empty.entries == 0);

  chain.append(s, 50);
  chain.checkpoint(s, 20);
  chain.checkpoint(s, 40);
  auto report = must(verify_audit_log(s, chain.signer.public_key()));
  CHECK(report.ok);
  CHECK(report.entries == 50);
  CHECK(report.checkpoints == 2);
  CHECK(report.first_bad_seq == 0);
  CHECK(report.problem.empty());

  // An external checkpoint at the head, or at a stored checkpoint's seq, verifies too.
  for (std::int64_t seq : {std::int64_t{50}, std::int64_t{40}, std::int64_t{1}}) {
    CAPTURE(seq);
    auto against = must(verify_audit_log(s, chain.signer.public_key(), chain.sign(seq)));
    CHECK(against.ok);
    CHECK(against.checkpoints == 3);
  }
}

TEST_CASE_TEMPLATE("a log whose checkpoints were signed by another key does not verify", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  Chain chain;
  chain.append(s, 10);
  chain.checkpoint(s, 10);
  const AuditSigner other = AuditSigner::generate();
  auto report = must(verify_audit_log(s, other.public_key()));
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 10);
  CHECK(report.problem.find("signature") != std::string::npos);
  // A public key of the wrong size verifies nothing either.
  CHECK_FALSE(must(verify_audit_log(s, bytes(kAuditPublicKeyBytes - 1, 0))).ok);
}

TEST_CASE_TEMPLATE("an external checkpoint past the end of the log reports a rollback", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  Chain chain;
  chain.append(s, 12);
  const AuditCheckpoint at_12 = chain.sign(12);
  // The log "before" the rollback had 12 entries; a store that only ever got 7 of them is
  // indistinguishable from one that lost 5.
  B shorter;
  Chain same_start;
  same_start.append(*shorter.store, 7);
  auto report = must(verify_audit_log(*shorter.store, chain.signer.public_key(), at_12));
  CHECK_FALSE(report.ok);
  CHECK(report.first_bad_seq == 8);
  CHECK(report.problem.find("rolled back") != std::string::npos);
  CHECK(report.entries == 7);
  // An empty log against any checkpoint has lost its first entry.
  B empty;
  auto none = must(verify_audit_log(*empty.store, chain.signer.public_key(), at_12));
  CHECK_FALSE(none.ok);
  CHECK(none.first_bad_seq == 1);
}

TEST_CASE("verify_audit_log reads any AuditLogReader, not only a store, and passes on its errors") {
  Chain chain;
  chain.append(*make_memory_store(), 30);  // builds the entries; the store is not kept
  VectorLog log;
  log.entries = chain.entries;
  log.stored_checkpoints = {chain.sign(10), chain.sign(30)};
  auto report = must(verify_audit_log(log, chain.signer.public_key()));
  CHECK(report.ok);
  CHECK(report.entries == 30);
  CHECK(report.checkpoints == 2);

  // The same damage a store's log would show: a lost entry in the middle.
  log.entries.erase(log.entries.begin() + 14);
  auto damaged = must(verify_audit_log(log, chain.signer.public_key()));
  CHECK_FALSE(damaged.ok);
  CHECK(damaged.first_bad_seq == 15);

  // A reader that cannot read is an error, not a report.
  log.fail_scan = true;
  auto failed = verify_audit_log(log, chain.signer.public_key());
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.err().code == errc::io);
}

// ---- tampering with the SQLite file ----

namespace {

using Param = std::variant<std::int64_t, std::string, bytes>;

// RawDb is the vault file opened with plain SQLite, as someone who copied it would.
class RawDb {
 public:
  explicit RawDb(const fs::path& file) {
    REQUIRE(sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  ~RawDb() { sqlite3_close(db_); }

  // run executes one statement with `params` bound to ?1, ?2, ...; returns the SQLite code.
  int run(const std::string& sql, const std::vector<Param>& params = {}) {
    sqlite3_stmt* st = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) return rc;
    for (std::size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      if (const auto* n = std::get_if<std::int64_t>(&params[i])) sqlite3_bind_int64(st, index, *n);
      if (const auto* t = std::get_if<std::string>(&params[i]))
        sqlite3_bind_text(st, index, t->data(), static_cast<int>(t->size()), SQLITE_TRANSIENT);
      if (const auto* b = std::get_if<bytes>(&params[i]))
        sqlite3_bind_blob(st, index, b->data(), static_cast<int>(b->size()), SQLITE_TRANSIENT);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
  }
  void must_run(const std::string& sql, const std::vector<Param>& params = {}) {
    CAPTURE(sql);
    const int rc = run(sql, params);
    CAPTURE(sqlite3_errmsg(db_));
    REQUIRE(rc == SQLITE_OK);
  }
  std::string last_error() const { return sqlite3_errmsg(db_); }
  // text gives the first column of the first row of `sql` ("" when there is none).
  std::string text(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::string out;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != nullptr)
      out = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
  }

  // drop_guards removes the append-only triggers, which stop mistakes, not an attacker.
  void drop_guards() {
    for (const char* t :
         {"audit_no_update", "audit_no_delete", "audit_checkpoints_no_update", "audit_checkpoints_no_delete"})
      must_run(std::string("DROP TRIGGER IF EXISTS ") + t);
  }

 private:
  sqlite3* db_ = nullptr;
};

constexpr std::int64_t kEntries = 50;

// TamperedVault is a closed SQLite vault holding a 50-entry log with checkpoints at 20 and 40.
class TamperedVault {
 public:
  TamperedVault() {
    auto s = must(open_sqlite_store(file_, StoreMode::create));
    chain_.append(*s, kEntries);
    chain_.checkpoint(*s, 20);
    chain_.checkpoint(*s, 40);
  }

  const Chain& chain() const { return chain_; }
  const fs::path& file() const { return file_; }

  // attacker opens the file without the library and drops the append-only triggers.
  std::unique_ptr<RawDb> attacker() {
    auto db = std::make_unique<RawDb>(file_);
    db->drop_guards();
    return db;
  }

  AuditVerification verify(const std::optional<AuditCheckpoint>& against = std::nullopt) {
    auto s = must(open_sqlite_store(file_, StoreMode::open));
    return must(verify_audit_log(*s, chain_.signer.public_key(), against));
  }

  // rewrite_entry replaces the bytes of entry `seq` with `e` encoded, keeping the stored hash.
  void rewrite_entry(RawDb& db, const AuditEntry& e, std::int64_t seq) {
    db.must_run("UPDATE audit SET entry = ?1 WHERE seq = ?2", {encode_audit_entry(e), seq});
  }

 private:
  TempDir dir_;
  fs::path file_ = dir_.path() / "tampered.vault";
  Chain chain_;
};

}  // namespace

TEST_CASE("sqlite: the audit tables refuse UPDATE and DELETE") {
  TamperedVault v;
  RawDb db(v.file());
  for (const char* sql :
       {"UPDATE audit SET customer = 'x' WHERE seq = 3", "UPDATE audit SET seq = 99 WHERE seq = 50",
        "DELETE FROM audit WHERE seq = 50", "DELETE FROM audit", "UPDATE audit_checkpoints SET at = 0",
        "DELETE FROM audit_checkpoints WHERE seq = 40"}) {
    CAPTURE(sql);
    CHECK(db.run(sql) == SQLITE_CONSTRAINT);
    CHECK(db.last_error().find("append-only") != std::string::npos);
  }
  // A plain INSERT is how the log grows, so only the seq rule in append_audit guards it.
  CHECK(v.verify().ok);
  CHECK(v.verify().entries == kEntries);
}

TEST_CASE("sqlite: the audit log and its checkpoints survive closing and reopening the vault") {
  TamperedVault v;
  check_intact(v.verify(), kEntries, 2);
}

TEST_CASE("verify names a modified entry by its seq") {
  TamperedVault v;
  {
    auto db = v.attacker();
    AuditEntry e = entry_for(10);
    e.accessor = "bi-dashboard";
    v.rewrite_entry(*db, e, 10);
  }
  check_bad(v.verify(), 10, "modified");
}

TEST_CASE("verify names a denial turned into an allowed read by its seq") {
  TamperedVault v;
  AuditEntry e = entry_for(15);
  REQUIRE_FALSE(e.allowed);
  e.allowed = true;
  e.reason = "";
  {
    auto db = v.attacker();
    v.rewrite_entry(*db, e, 15);
  }
  check_bad(v.verify(), 15, "modified");
}

TEST_CASE("verify names an entry rewritten with a recomputed chain by the checkpoint that covers it") {
  TamperedVault v;
  {
    // The chain is unkeyed: whoever edits entry 12 can recompute every hash after it. Only the
    // signed checkpoint at 20 knows the old chain.
    auto db = v.attacker();
    bytes previous = v.chain().head(11);
    for (std::int64_t seq = 12; seq <= kEntries; ++seq) {
      AuditEntry e = entry_for(seq);
      if (seq == 12) e.fields = {"email:clear", "phone:clear"};
      const StoredAuditEntry forged = stored_of(e, previous);
      db->must_run("UPDATE audit SET entry = ?1, hash = ?2 WHERE seq = ?3",
                   {forged.encoded, forged.hash, seq});
      previous = forged.hash;
    }
  }
  check_bad(v.verify(), 20, "checkpoint at seq 20 does not match the chain");
}

TEST_CASE("verify names entry bytes that do not decode") {
  TamperedVault v;
  {
    auto db = v.attacker();
    db->must_run("UPDATE audit SET entry = ?1 WHERE seq = 33", {bytes{1, 2, 3, 4}});
  }
  check_bad(v.verify(), 33, "does not decode");
}

TEST_CASE("verify names an entry whose lookup columns do not match its bytes") {
  SUBCASE("customer") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit SET customer = 'cust-2' WHERE seq = 7");
    }
    check_bad(v.verify(), 7, "'customer'");
  }
  SUBCASE("at") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit SET at = at + 1 WHERE seq = 8");
    }
    check_bad(v.verify(), 8, "'at'");
  }
}

TEST_CASE("verify names an entry deleted from the middle of the log") {
  TamperedVault v;
  {
    auto db = v.attacker();
    db->must_run("DELETE FROM audit WHERE seq = 25");
  }
  check_bad(v.verify(), 25, "missing");
}

TEST_CASE("verify names the first entry cut from a tail that a checkpoint covers") {
  TamperedVault v;
  {
    auto db = v.attacker();
    db->must_run("DELETE FROM audit WHERE seq >= 36");
  }
  const auto r = v.verify();
  check_bad(r, 36, "truncated");
  CHECK(r.entries == 35);
}

TEST_CASE("a tail cut after the last checkpoint is only caught by an external checkpoint") {
  TamperedVault v;
  const AuditCheckpoint exported = v.chain().sign(kEntries);
  {
    auto db = v.attacker();
    db->must_run("DELETE FROM audit WHERE seq >= 45");
  }
  CHECK(v.verify().ok);
  check_bad(v.verify(exported), 45, "rolled back");
}

TEST_CASE("verify names the entry after one inserted into the middle of the log") {
  TamperedVault v;
  {
    // Make room at seq 30, then insert an entry with a correct chain hash after entry 29.
    auto db = v.attacker();
    db->must_run("UPDATE audit SET seq = -seq WHERE seq >= 30");
    db->must_run("UPDATE audit SET seq = 1 - seq WHERE seq < 0");
    AuditEntry forged = entry_for(30);
    forged.accessor = "intruder";
    const StoredAuditEntry row = stored_of(forged, v.chain().head(29));
    db->must_run("INSERT INTO audit(seq, at, customer, entry, hash) VALUES(?1, ?2, ?3, ?4, ?5)",
                 {row.seq, row.at.time_since_epoch().count(), row.customer, row.encoded, row.hash});
  }
  check_bad(v.verify(), 31, "inserted or duplicated");
}

TEST_CASE("verify names a duplicated entry") {
  TamperedVault v;
  {
    auto db = v.attacker();
    db->must_run(
        "INSERT INTO audit(seq, at, customer, entry, hash) SELECT 51, at, customer, entry, hash "
        "FROM audit WHERE seq = 50");
  }
  check_bad(v.verify(), 51, "inserted or duplicated");
}

TEST_CASE("verify names the first of two swapped entries") {
  TamperedVault v;
  {
    auto db = v.attacker();
    db->must_run("UPDATE audit SET seq = -12 WHERE seq = 12");
    db->must_run("UPDATE audit SET seq = 12 WHERE seq = 13");
    db->must_run("UPDATE audit SET seq = 13 WHERE seq = -12");
  }
  check_bad(v.verify(), 12, "reordered");
}

TEST_CASE("verify names the first of two entries whose contents were swapped under their seqs") {
  TamperedVault v;
  {
    auto db = v.attacker();
    const auto& e12 = v.chain().entries[11];
    const auto& e13 = v.chain().entries[12];
    const std::string sql = "UPDATE audit SET at = ?1, customer = ?2, entry = ?3, hash = ?4 WHERE seq = ?5";
    db->must_run(sql,
                 {e13.at.time_since_epoch().count(), e13.customer, e13.encoded, e13.hash, std::int64_t{12}});
    db->must_run(sql,
                 {e12.at.time_since_epoch().count(), e12.customer, e12.encoded, e12.hash, std::int64_t{13}});
  }
  check_bad(v.verify(), 12, "reordered");
}

TEST_CASE("verify names a checkpoint signed by another key") {
  const AuditSigner forger = AuditSigner::generate();
  SUBCASE("replacing a stored checkpoint") {
    TamperedVault v;
    {
      auto db = v.attacker();
      const AuditCheckpoint forged = forger.sign(20, v.chain().head(20), at(kBaseTime));
      db->must_run("DELETE FROM audit_checkpoints WHERE seq = 20");
      db->must_run("INSERT INTO audit_checkpoints(seq, head, at, signature) VALUES(?1, ?2, ?3, ?4)",
                   {forged.seq, forged.head, forged.at.time_since_epoch().count(), forged.signature});
    }
    check_bad(v.verify(), 20, "signature");
  }
  SUBCASE("added for an entry that has none") {
    TamperedVault v;
    {
      auto db = v.attacker();
      const AuditCheckpoint forged = forger.sign(45, v.chain().head(45), at(kBaseTime));
      db->must_run("INSERT INTO audit_checkpoints(seq, head, at, signature) VALUES(?1, ?2, ?3, ?4)",
                   {forged.seq, forged.head, forged.at.time_since_epoch().count(), forged.signature});
    }
    check_bad(v.verify(), 45, "signature");
  }
}

TEST_CASE("verify names a checkpoint whose head or time was altered") {
  SUBCASE("head") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit_checkpoints SET head = ?1 WHERE seq = 20", {v.chain().head(19)});
    }
    check_bad(v.verify(), 20, "signature");
  }
  SUBCASE("time") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit_checkpoints SET at = at - 3600 WHERE seq = 40");
    }
    check_bad(v.verify(), 40, "signature");
  }
}

TEST_CASE("a checkpoint deleted with the tail it covered is caught only by an external checkpoint") {
  TamperedVault v;
  // The checkpoint at 40 as the CRM exported it, carried as JSON.
  bytes public_key;
  const std::string exported = checkpoint_to_json(v.chain().sign(40), v.chain().signer.public_key());
  const AuditCheckpoint against = must(checkpoint_from_json(exported, public_key));
  REQUIRE(public_key == v.chain().signer.public_key());
  CHECK(v.verify(against).ok);
  {
    auto db = v.attacker();
    db->must_run("DELETE FROM audit_checkpoints WHERE seq = 40");
    db->must_run("DELETE FROM audit WHERE seq >= 36");
  }
  const auto alone = v.verify();
  CHECK(alone.ok);
  CHECK(alone.entries == 35);
  check_bad(v.verify(against), 36, "rolled back");
}

TEST_CASE("an external checkpoint that does not match the chain, or is signed by another key, is named") {
  TamperedVault v;
  SUBCASE("a head from another history, signed by the vault's key") {
    const AuditCheckpoint other = v.chain().signer.sign(30, v.chain().head(29), at(kBaseTime));
    check_bad(v.verify(other), 30, "external checkpoint at seq 30 does not match the chain");
  }
  SUBCASE("the right head, signed by another key") {
    const AuditCheckpoint forged = AuditSigner::generate().sign(30, v.chain().head(30), at(kBaseTime));
    check_bad(v.verify(forged), 30, "signature");
  }
}

TEST_CASE("verify reports the earliest of several problems") {
  SUBCASE("an entry modified before a forged checkpoint") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit_checkpoints SET at = 0 WHERE seq = 40");
      AuditEntry e = entry_for(33);
      e.purpose = "profiling";
      v.rewrite_entry(*db, e, 33);
    }
    check_bad(v.verify(), 33, "modified");
  }
  SUBCASE("a forged checkpoint before a modified entry") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("UPDATE audit_checkpoints SET at = 0 WHERE seq = 20");
      AuditEntry e = entry_for(33);
      e.purpose = "profiling";
      v.rewrite_entry(*db, e, 33);
    }
    check_bad(v.verify(), 20, "signature");
  }
  SUBCASE("a truncated tail before a forged checkpoint beyond it") {
    TamperedVault v;
    {
      auto db = v.attacker();
      db->must_run("DELETE FROM audit WHERE seq >= 30");
      const AuditCheckpoint forged = AuditSigner::generate().sign(45, v.chain().head(45), at(kBaseTime));
      db->must_run("INSERT INTO audit_checkpoints(seq, head, at, signature) VALUES(?1, ?2, ?3, ?4)",
                   {forged.seq, forged.head, forged.at.time_since_epoch().count(), forged.signature});
    }
    check_bad(v.verify(), 30, "truncated");
  }
}

// ---- finding a customer's entries in a long log ----

namespace {

// append_mixed appends entries `first`..`last`: customers cust-0, cust-1 and cust-2 in turn, and
// every 11th entry naming no customer (as aggregates and detokenisations do).
void append_mixed(Store& s, std::vector<StoredAuditEntry>& log, std::int64_t last) {
  std::vector<StoredAuditEntry> pending;
  for (auto seq = static_cast<std::int64_t>(log.size()) + 1; seq <= last; ++seq) {
    AuditEntry e = entry_for(seq);
    if (seq % 11 == 0) e.customer.clear();
    log.push_back(stored_of(e, log.empty() ? bytes(kAuditHashBytes, 0) : log.back().hash));
    pending.push_back(log.back());
    if (pending.size() == 256 || seq == last) {
      must(s.append_audit(pending));
      pending.clear();
    }
  }
}

void check_customer_entries(Store& s, const std::vector<StoredAuditEntry>& log) {
  for (const std::string customer : {"cust-0", "cust-1", "cust-2"}) {
    CAPTURE(customer);
    std::vector<StoredAuditEntry> expected;
    for (const auto& e : log)
      if (e.customer == customer) expected.push_back(e);
    const auto found = must(s.audit_for_customer(customer));
    REQUIRE(found.size() == expected.size());
    for (std::size_t i = 0; i < found.size(); ++i) {
      CAPTURE(i);
      CHECK(same_entry(found[i], expected[i]));
    }
  }
  CHECK(must(s.audit_for_customer("")).empty());
  CHECK(must(s.audit_for_customer("cust-3")).empty());
}

std::string audit_indexes(RawDb& db) {
  return db.text(
      "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'index' "
      "AND tbl_name = 'audit' ORDER BY name)");
}

}  // namespace

TEST_CASE_TEMPLATE("audit_for_customer finds every entry of a customer across many blocks of the log", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  std::vector<StoredAuditEntry> log;
  // 3,500 entries span four blocks of 1,024; the first and last blocks are partly filled.
  append_mixed(s, log, 1);
  check_customer_entries(s, log);
  append_mixed(s, log, 1023);
  append_mixed(s, log, 1025);
  check_customer_entries(s, log);
  append_mixed(s, log, 3500);
  check_customer_entries(s, log);
}

TEST_CASE("sqlite: a vault with the earlier audit index is given audit_by_block when it opens") {
  TempDir dir;
  const fs::path file = dir.path() / "old-index.vault";
  std::vector<StoredAuditEntry> log;
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    append_mixed(*s, log, 2100);
  }
  {
    RawDb db(file);
    CHECK(audit_indexes(db) == "audit_by_block");
    // The index vaults were created with before audit_by_block.
    db.must_run("DROP INDEX audit_by_block");
    db.must_run("CREATE INDEX audit_by_customer ON audit(customer, seq)");
  }
  auto s = must(open_sqlite_store(file, StoreMode::open));
  {
    RawDb db(file);
    CHECK(audit_indexes(db) == "audit_by_block");
  }
  check_customer_entries(*s, log);
  append_mixed(*s, log, 2300);
  check_customer_entries(*s, log);
}

TEST_CASE("sqlite: opening an indexed vault writes nothing, so it opens while another connection writes") {
  TempDir dir;
  const fs::path file = dir.path() / "busy.vault";
  std::vector<StoredAuditEntry> log;
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    append_mixed(*s, log, 40);
  }
  RawDb writer(file);
  writer.must_run("BEGIN IMMEDIATE");
  auto s = open_sqlite_store(file, StoreMode::open);
  // Had the open taken the write lock, it would have waited out the busy timeout and failed.
  REQUIRE(s.ok());
  check_customer_entries(**s, log);
  writer.must_run("ROLLBACK");
}
