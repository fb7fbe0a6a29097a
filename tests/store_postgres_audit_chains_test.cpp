// store_postgres_audit_chains_test.cpp: the PostgreSQL audit log with a hash chain per writer
// (docs/audit.md, "Many writers"): appends take no lock in common with other writers, a chain's
// head moves only by compare-and-set (also after a rolled-back transaction), a durable append is
// one statement sent once, chains are claimed and reused, many vaults on one schema keep one log
// that verifies, and a schema of version 1 is migrated with its log intact. Runs on the cluster
// of the ctest fixture `postgres`.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <future>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "audit/audit_trail.hpp"
#include "consentry/audit.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "store/postgres_store.hpp"
#include "support/must.hpp"
#include "support/postgres_cluster.hpp"
#include "support/postgres_scratch.hpp"
#include "support/retail_policy.hpp"
#include "support/stored_audit.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using consentry::detail::PostgresStore;
using consentry::test::must;
using consentry::test::ScratchSchema;

namespace {

constexpr std::int64_t kBaseTime = 1767225600;

AuditEntry entry_at(std::int64_t seq, const std::string& customer) {
  AuditEntry e;
  e.seq = seq;
  e.at = timestamp{std::chrono::seconds{kBaseTime + seq}};
  e.customer = customer;
  e.accessor = "support-desk";
  e.purpose = "service";
  e.fields = {"email:clear"};
  return e;
}

// rows_after gives `n` entries chained after `head` on its chain.
std::vector<StoredAuditEntry> rows_after(const AuditHead& head, int n) {
  std::vector<StoredAuditEntry> rows;
  bytes previous = head.hash;
  for (int i = 1; i <= n; ++i) {
    rows.push_back(
        test::stored_of(entry_at(head.seq + i, "cust-" + std::to_string(i % 3)), previous, head.chain));
    previous = rows.back().hash;
  }
  return rows;
}

AuditHead head_of(const std::vector<StoredAuditEntry>& rows) {
  return AuditHead{rows.back().seq, rows.back().hash, rows.back().chain};
}

// append_own claims a chain for `store` and appends `n` entries after its head, in an append
// transaction; returns the new head.
AuditHead append_own(PostgresStore& store, const AuditSigner& signer, int n) {
  const std::int64_t chain = must(store.claim_audit_chain());
  const auto found = must(store.audit_chain_head(chain));
  const AuditHead head =
      found ? *found : AuditHead{0, audit_chain_genesis(signer.public_key(), chain), chain};
  const auto rows = rows_after(head, n);
  must(store.begin_append(true));
  CHECK(must(store.append_audit_chain(head, rows)));
  must(store.commit());
  return head_of(rows);
}

/// sql_text runs `sql` on a connection of its own and gives the first column of its first row.
std::string sql_text(const std::string& url, const std::string& sql) {
  PGconn* c = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, sql.c_str());
  CAPTURE(PQresultErrorMessage(r));
  REQUIRE((PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK));
  std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  PQclear(r);
  PQfinish(c);
  return out;
}

}  // namespace

TEST_CASE("postgres: an audit append waits for no other writer's transaction") {
  ScratchSchema schema;
  auto writer = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto reader = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const AuditSigner signer = AuditSigner::generate();

  // The writer holds the vault's write lock in an open transaction.
  must(writer->begin());
  must(writer->put_meta("held", bytes{1}));
  // Another process's audit entries commit meanwhile.
  auto appended = std::async(std::launch::async, [&] { return append_own(*reader, signer, 3); });
  const bool finished = appended.wait_for(std::chrono::seconds(20)) == std::future_status::ready;
  CHECK_MESSAGE(finished, "the audit append waited for the write lock");
  must(writer->commit());
  const AuditHead head = appended.get();
  CHECK(head.seq == 3);
  CHECK(must(writer->audit_chain_heads()).size() == 1);
  CHECK(must(verify_audit_log(*writer, signer.public_key())).ok);
}

TEST_CASE("postgres: a chain's head moves only from where the writer left it") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const AuditSigner signer = AuditSigner::generate();
  const AuditHead head = append_own(*store, signer, 4);

  // An append after an older head changes nothing, and says so.
  const AuditHead stale{2, must(store->audit_chain_head(head.chain))->hash, head.chain};
  CHECK_FALSE(must(store->append_audit_chain(stale, rows_after(stale, 2))));
  // So does a head with the right seq and another hash (a writer whose transaction rolled back).
  AuditHead forked = head;
  forked.hash[0] ^= 1;
  CHECK_FALSE(must(store->append_audit_chain(forked, rows_after(forked, 1))));
  // A chain started twice starts once.
  const std::int64_t fresh = 777;
  const AuditHead genesis{0, audit_chain_genesis(signer.public_key(), fresh), fresh};
  CHECK(must(store->append_audit_chain(genesis, rows_after(genesis, 1))));
  CHECK_FALSE(must(store->append_audit_chain(genesis, rows_after(genesis, 1))));

  std::int64_t entries = 0;
  must(store->scan_audit(1, [&](const StoredAuditEntry&) { return ++entries, true; }));
  CHECK(entries == 5);
  CHECK(must(store->audit_chain_head(head.chain))->seq == 4);
  CHECK(must(verify_audit_log(*store, signer.public_key())).ok);

  // Entries that do not continue the head given are a caller's bug.
  auto wrong = store->append_audit_chain(head, rows_after(stale, 1));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.err().code == errc::internal);
}

TEST_CASE(
    "postgres: a durable append is one statement of its own, run once even when the connection is lost") {
  ScratchSchema schema;
  const AuditSigner signer = AuditSigner::generate();
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  auto killer = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const std::int64_t chain = must(store->claim_audit_chain());
  const AuditHead genesis{0, audit_chain_genesis(signer.public_key(), chain), chain};
  const auto first = rows_after(genesis, 3);
  CHECK(must(store->append_audit_chain_durably(genesis, first)));
  // Committed when it returns: another connection sees it.
  CHECK(sql_text(schema.url, "SELECT count(*) FROM \"" + schema.name + "\".audit") == "3");
  // After a head that moved since, it changes nothing.
  CHECK_FALSE(must(store->append_audit_chain_durably(genesis, first)));

  // Inside a transaction it is a caller's bug.
  must(store->begin_append(true));
  auto inside = store->append_audit_chain_durably(head_of(first), rows_after(head_of(first), 1));
  REQUIRE_FALSE(inside);
  CHECK(inside.err().code == errc::internal);
  must(store->rollback());

  // A lost connection: the statement is not sent again on a new one, and the error says the
  // outcome is unknown (here nothing reached the server).
  const auto pid = must(store->exec_sql("SELECT pg_backend_pid()", "test"));
  const std::string backend = PQgetvalue(pid.get(), 0, 0);
  must(killer->exec_sql("SELECT pg_terminate_backend(" + backend + ")", "test"));
  auto lost = store->append_audit_chain_durably(head_of(first), rows_after(head_of(first), 2));
  REQUIRE_FALSE(lost);
  CHECK(lost.err().code == errc::io);
  CHECK(lost.err().message.find("unknown") != std::string::npos);
  CHECK(sql_text(schema.url, "SELECT count(*) FROM \"" + schema.name + "\".audit") == "3");
  // The next append reconnects, and goes on after the head.
  CHECK(must(store->append_audit_chain_durably(head_of(first), rows_after(head_of(first), 2))));
  CHECK(must(verify_audit_log(*store, signer.public_key())).ok);
}

TEST_CASE("postgres: writers claim chains of their own, and a chain whose writer has gone is claimed again") {
  ScratchSchema schema;
  const AuditSigner signer = AuditSigner::generate();
  auto first = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  const AuditHead first_head = append_own(*first, signer, 2);
  auto second = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const AuditHead second_head = append_own(*second, signer, 2);
  CHECK(first_head.chain != second_head.chain);
  CHECK(first_head.chain > 0);

  // The first writer goes; its chain is taken up by the next, after its head.
  first.reset();
  auto third = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  const AuditHead third_head = append_own(*third, signer, 3);
  CHECK(third_head.chain == first_head.chain);
  CHECK(third_head.seq == 5);
  CHECK(must(third->audit_chain_heads()).size() == 2);
  CHECK(must(verify_audit_log(*third, signer.public_key())).ok);
}

TEST_CASE("postgres: a checkpoint over every head is stored once per number") {
  ScratchSchema schema;
  const AuditSigner signer = AuditSigner::generate();
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  append_own(*store, signer, 2);
  const auto heads = must(store->audit_chain_heads());
  const AuditCheckpoint cp =
      signer.sign_heads(1, heads, bytes(kAuditHashBytes, 0), timestamp{std::chrono::seconds{kBaseTime}});
  CHECK(must(store->put_chain_checkpoint(cp)));
  CHECK_FALSE(must(store->put_chain_checkpoint(cp)));
  const auto last = must(store->last_checkpoint());
  REQUIRE(last);
  CHECK(last->seq == 1);
  CHECK(last->heads.size() == 1);
  CHECK(last->previous == cp.previous);
  CHECK(last->signature == cp.signature);
  CHECK(verify_checkpoint(*last, signer.public_key()));
  const AuditVerification r = must(verify_audit_log(*store, signer.public_key()));
  CHECK(r.ok);
  CHECK(r.checkpoints == 1);
}

TEST_CASE("postgres: a schema of version 1 is migrated when opened, its log verifying before and after") {
  ScratchSchema schema;
  const AuditSigner signer = AuditSigner::generate();
  std::vector<StoredAuditEntry> old_rows;
  {
    auto v1 = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name, 1));
    CHECK(sql_text(schema.url, "SELECT schema_version FROM \"" + schema.name + "\".state") == "1");
    // Version 1's log, written as version 1 wrote it: one chain, no chain column.
    old_rows = rows_after(AuditHead{0, bytes(kAuditHashBytes, 0), 0}, 6);
    for (const auto& e : old_rows) {
      must(v1->exec(
          "INSERT INTO @S.audit(seq, at, customer, entry, hash) VALUES ($1::bigint, $2::bigint, $3, $4, $5)",
          detail::PgParams{}
              .integer(e.seq)
              .integer(detail::pg_seconds(e.at))
              .text(e.customer)
              .binary(e.encoded)
              .binary(e.hash),
          "test"));
    }
    const AuditCheckpoint cp = signer.sign(4, old_rows[3].hash, timestamp{std::chrono::seconds{kBaseTime}});
    must(v1->exec(
        "INSERT INTO @S.audit_checkpoints(seq, head, at, signature) VALUES ($1::bigint, $2, $3::bigint, $4)",
        detail::PgParams{}.integer(cp.seq).binary(cp.head).integer(kBaseTime).binary(cp.signature), "test"));
  }

  auto v2 = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  CHECK(sql_text(schema.url, "SELECT schema_version FROM \"" + schema.name + "\".state") ==
        std::to_string(detail::kPostgresSchemaVersion));
  // "Who accessed my data" is indexed by the customer alone (version 5), and still answers in
  // time order.
  CHECK(sql_text(schema.url, "SELECT indexdef FROM pg_indexes WHERE schemaname = '" + schema.name +
                                 "' AND indexname = 'audit_by_customer'")
            .find("(customer) WHERE") != std::string::npos);
  const auto cust1 = must(v2->audit_for_customer("cust-1"));
  REQUIRE(cust1.size() == 2);
  CHECK(cust1[0].seq == 1);
  CHECK(cust1[1].seq == 4);
  const AuditVerification migrated = must(verify_audit_log(*v2, signer.public_key()));
  CAPTURE(migrated.problem);
  CHECK(migrated.ok);
  CHECK(migrated.entries == 6);
  CHECK(migrated.checkpoints == 1);
  // The old chain is chain 0, with its head; the next writer takes it up where it ended.
  const auto heads = must(v2->audit_chain_heads());
  REQUIRE(heads.size() == 1);
  CHECK(heads[0].chain == 0);
  CHECK(heads[0].seq == 6);
  const AuditHead next = append_own(*v2, signer, 2);
  CHECK(next.chain == 0);
  CHECK(next.seq == 8);
  CHECK(must(verify_audit_log(*v2, signer.public_key())).ok);

  // Opening again migrates nothing more.
  auto again = must(PostgresStore::connect(schema.url, StoreMode::open, schema.name));
  CHECK(sql_text(schema.url, "SELECT count(*) FROM \"" + schema.name + "\".audit") == "8");

  // A schema of a version this library does not know is refused, naming it.
  sql_text(schema.url, "UPDATE \"" + schema.name + "\".state SET schema_version = 9");
  auto newer = PostgresStore::connect(schema.url, StoreMode::open, schema.name);
  REQUIRE_FALSE(newer);
  CHECK(newer.err().code == errc::integrity);
  CHECK(newer.err().message.find("version 9") != std::string::npos);
}

TEST_CASE("postgres: vaults reading at once on one schema keep one log that verifies and lists by time") {
  ScratchSchema schema;
  const std::string location = test::with_schema(schema.url, schema.name);
  {
    Vault setup = must(Vault::create(location, test::retail_policy(), test::kTestPassphrase,
                                     test::test_vault_options(AuditMode::durable, "setup")));
    must(setup.put("C-1", "email", "ann@example.com"));
  }
  constexpr int kVaults = 3;
  constexpr int kReads = 20;
  std::vector<std::thread> threads;
  for (int v = 0; v < kVaults; ++v) {
    threads.emplace_back([&] {
      Vault vault = must(Vault::open(location, test::kTestPassphrase, test::test_vault_options()));
      for (int i = 0; i < kReads; ++i) {
        auto view = must(vault.accessor("support-desk")->view("C-1", "service"));
        (void)must(view.get("email"));
      }
    });
  }
  for (auto& t : threads) t.join();

  Vault vault = must(Vault::open(location, test::kTestPassphrase, test::test_vault_options()));
  const AuditCheckpoint cp = must(vault.checkpoint_audit());
  // Every chain that holds an entry is under the checkpoint: the setup vault's and the readers'.
  std::set<std::int64_t> chains;
  std::int64_t reads = 0;
  const auto entries = must(vault.audit_entries());
  for (const AuditEntry& e : entries) {
    chains.insert(e.chain);
    if (e.action == AuditAction::field_read) ++reads;
  }
  CHECK(reads == kVaults * kReads);
  CHECK(chains.size() >= 2);
  CHECK(cp.heads.size() == chains.size());
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].at <= entries[i].at);
  const AuditVerification verified = must(vault.verify_audit(cp));
  CHECK_MESSAGE(verified.ok, verified.problem);
  // The customer's own entries (the only customer) are one lookup across every chain.
  const auto named =
      std::count_if(entries.begin(), entries.end(), [](const AuditEntry& e) { return !e.customer.empty(); });
  CHECK(must(vault.audit_entries("C-1")).size() == static_cast<std::size_t>(named));
}

TEST_CASE(
    "postgres: an audit trail whose transaction rolled back after its append appends after the real head") {
  ScratchSchema schema;
  auto store = must(PostgresStore::connect(schema.url, StoreMode::create, schema.name));
  detail::WriterFirstMutex store_mu;
  AuditTrail trail(*store, store_mu, AuditSigner::generate(), AuditTrailOptions{});
  must(trail.record({entry_at(0, "cust-1"), entry_at(0, "cust-2")}));
  {
    // A write whose transaction rolls back after its entries were appended to the chain: the
    // trail's idea of its head is now ahead of the log.
    std::lock_guard lock(store_mu);
    must(store->begin());
    std::vector<AuditEntry> rolled_back{entry_at(0, "cust-3"), entry_at(0, "cust-4"), entry_at(0, "cust-5")};
    must(trail.append_in_transaction(rolled_back));
    must(store->rollback());
  }
  std::vector<AuditEntry> next{entry_at(0, "cust-6")};
  must(trail.record(next));
  {
    std::lock_guard lock(store_mu);
    const auto heads = must(store->audit_chain_heads());
    REQUIRE(heads.size() == 1);
    CHECK(heads[0].seq == 3);
    std::vector<std::string> customers;
    must(store->scan_audit(1,
                           [&](const StoredAuditEntry& e) { return customers.push_back(e.customer), true; }));
    CHECK(customers == std::vector<std::string>{"cust-1", "cust-2", "cust-6"});
    CHECK(must(verify_audit_log(*store, trail.public_key())).ok);
  }
}
