// crypto_store_test.cpp: one behavioural suite for every Store, plus the SQLite file's own rules.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "consentry/secret_bytes.hpp"
#include "consentry/store.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

// TempDir is a fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    REQUIRE(sodium_ready());
    char suffix[17];
    const std::uint64_t n = randombytes_random() | (std::uint64_t{randombytes_random()} << 32);
    std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(n));
    path_ = fs::temp_directory_path() / (std::string("consentry-store-test-") + suffix);
    REQUIRE(fs::create_directory(path_));
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

struct MemoryBackend {
  static constexpr const char* kName = "memory";
  std::unique_ptr<Store> store = make_memory_store();
};

struct SqliteBackend {
  static constexpr const char* kName = "sqlite";
  TempDir dir;
  fs::path file = dir.path() / "test.vault";
  std::unique_ptr<Store> store = open_or_fail(file);

  static std::unique_ptr<Store> open_or_fail(const fs::path& f) {
    auto s = open_sqlite_store(f, StoreMode::create);
    REQUIRE(s.ok());
    return std::move(s).value();
  }
};

bytes b(std::string_view s) {
  return bytes(s.begin(), s.end());
}

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

StoredField field_of(std::string customer, std::string field, std::string_view sealed,
                     std::int64_t when = 1700000000) {
  return StoredField{std::move(customer), std::move(field), b(sealed), "web-signup", at(when)};
}

ConsentEvent event_of(std::string customer, std::string purpose, ConsentAction action, std::int64_t when) {
  ConsentEvent e;
  e.customer = std::move(customer);
  e.purpose = std::move(purpose);
  e.action = action;
  e.at = at(when);
  e.channel = "web";
  e.notice = "privacy-2025-03";
  return e;
}

template <class T>
T must(result<T> r) {
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
}

void must(result<void> r) {
  if (!r) FAIL(r.err().message);
}

}  // namespace

#define STORE_BACKENDS MemoryBackend, SqliteBackend

TEST_CASE_TEMPLATE("meta values are absent until put, then replaced by later puts", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_meta("policy")).has_value());
  must(s.put_meta("policy", b("{\"v\":1}")));
  must(s.put_meta("empty", bytes{}));
  must(s.put_meta("policy", b("{\"v\":2}")));
  CHECK(must(s.get_meta("policy")) == std::optional<bytes>(b("{\"v\":2}")));
  // An empty value is a value, not an absence.
  CHECK(must(s.get_meta("empty")) == std::optional<bytes>(bytes{}));
}

TEST_CASE_TEMPLATE("data keys are stored per customer and replaced by put_key", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_key("C-1")).has_value());
  must(s.put_key(StoredKey{"C-1", 1, b("wrapped-1")}));
  must(s.put_key(StoredKey{"C-2", 1, b("wrapped-2")}));
  must(s.put_key(StoredKey{"C-1", 4000000000u, b("wrapped-1b")}));
  auto k1 = must(s.get_key("C-1"));
  REQUIRE(k1.has_value());
  CHECK(k1->customer == "C-1");
  CHECK(k1->version == 4000000000u);
  CHECK(k1->wrapped == b("wrapped-1b"));
  auto k2 = must(s.get_key("C-2"));
  REQUIRE(k2.has_value());
  CHECK(k2->wrapped == b("wrapped-2"));
}

TEST_CASE_TEMPLATE("fields are put, replaced and read back with their metadata", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK_FALSE(must(s.get_field("C-1", "email")).has_value());
  must(s.put_field(field_of("C-1", "email", "sealed-a", 1714557600)));
  StoredField replaced = field_of("C-1", "email", "sealed-b", 1714557601);
  replaced.source = "credit-bureau";
  must(s.put_field(replaced));
  must(s.put_field(field_of("C-2", "email", "other")));

  auto f = must(s.get_field("C-1", "email"));
  REQUIRE(f.has_value());
  CHECK(f->customer == "C-1");
  CHECK(f->field == "email");
  CHECK(f->sealed == b("sealed-b"));
  CHECK(f->source == "credit-bureau");
  CHECK(f->collected_at == at(1714557601));
  CHECK_FALSE(must(s.get_field("C-1", "phone")).has_value());
  CHECK_FALSE(must(s.get_field("C-3", "email")).has_value());
}

TEST_CASE_TEMPLATE("get_fields returns one customer's fields ordered by field name", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* name : {"phone", "birth_date", "email", "credit_score"})
    must(s.put_field(field_of("C-1", name, std::string("v-") + name)));
  must(s.put_field(field_of("C-2", "address", "x")));
  auto fields = must(s.get_fields("C-1"));
  REQUIRE(fields.size() == 4);
  for (std::size_t i = 1; i < fields.size(); ++i) CHECK(fields[i - 1].field < fields[i].field);
  for (const auto& f : fields) {
    CHECK(f.customer == "C-1");
    CHECK(f.sealed == b("v-" + f.field));
  }
  CHECK(fields.front().field == "birth_date");
  CHECK(must(s.get_fields("C-9")).empty());
}

TEST_CASE_TEMPLATE("the consent ledger assigns increasing seq and returns history in order", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  auto g = event_of("C-1", "marketing.email", ConsentAction::grant, 100);
  g.expires_at = at(100 + 86400);
  const ConsentEvent appended[] = {
      must(s.append_consent(g)),
      must(s.append_consent(event_of("C-2", "analytics", ConsentAction::object, 101))),
      must(s.append_consent(event_of("C-1", "marketing.email", ConsentAction::withdraw, 102))),
      must(s.append_consent(event_of("C-1", "profiling", ConsentAction::grant, 103))),
  };
  for (std::size_t i = 1; i < std::size(appended); ++i) CHECK(appended[i - 1].seq < appended[i].seq);
  CHECK(appended[0].seq > 0);

  auto history = must(s.consent_history("C-1"));
  REQUIRE(history.size() == 3);
  const ConsentEvent* expected[] = {&appended[0], &appended[2], &appended[3]};
  for (std::size_t i = 0; i < history.size(); ++i) {
    CAPTURE(i);
    CHECK(history[i].seq == expected[i]->seq);
    CHECK(history[i].customer == "C-1");
    CHECK(history[i].purpose == expected[i]->purpose);
    CHECK(history[i].action == expected[i]->action);
    CHECK(history[i].at == expected[i]->at);
    CHECK(history[i].channel == "web");
    CHECK(history[i].notice == "privacy-2025-03");
    CHECK(history[i].expires_at == expected[i]->expires_at);
  }
  CHECK(history[0].expires_at == std::optional<timestamp>(at(100 + 86400)));
  CHECK_FALSE(history[1].expires_at.has_value());
  CHECK(must(s.consent_history("C-2")).size() == 1);
  CHECK(must(s.consent_history("C-9")).empty());
}

TEST_CASE_TEMPLATE("customers lists key holders sorted, and knows sees keys or consent events", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  CHECK(must(s.customers()).empty());
  for (const char* c : {"C-300", "C-1", "C-20", "B-9"}) must(s.put_key(StoredKey{c, 1, b("w")}));
  must(s.append_consent(event_of("C-ledger-only", "analytics", ConsentAction::object, 5)));
  must(s.put_field(field_of("C-field-only", "email", "x")));

  const std::vector<std::string> expected = {"B-9", "C-1", "C-20", "C-300"};
  CHECK(must(s.customers()) == expected);
  CHECK(must(s.knows("C-20")));
  CHECK(must(s.knows("C-ledger-only")));
  CHECK_FALSE(must(s.knows("C-field-only")));
  CHECK_FALSE(must(s.knows("C-2")));
}

TEST_CASE_TEMPLATE("rollback discards every kind of write made in the transaction", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.put_meta("m", b("before")));
  const auto first = must(s.append_consent(event_of("C-1", "analytics", ConsentAction::grant, 1)));

  must(s.begin());
  must(s.put_meta("m", b("during")));
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(field_of("C-1", "email", "x")));
  must(s.append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 2)));
  must(s.append_consent(event_of("C-new", "analytics", ConsentAction::grant, 2)));
  CHECK(must(s.get_meta("m")) == std::optional<bytes>(b("during")));
  must(s.rollback());

  CHECK(must(s.get_meta("m")) == std::optional<bytes>(b("before")));
  CHECK_FALSE(must(s.get_key("C-1")).has_value());
  CHECK_FALSE(must(s.get_field("C-1", "email")).has_value());
  CHECK(must(s.consent_history("C-1")).size() == 1);
  CHECK_FALSE(must(s.knows("C-new")));
  CHECK(must(s.customers()).empty());
  // The ledger keeps increasing after a rollback.
  CHECK(must(s.append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 3))).seq > first.seq);
}

TEST_CASE_TEMPLATE("commit keeps the writes made in the transaction", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  must(s.begin());
  must(s.put_key(StoredKey{"C-1", 1, b("w")}));
  must(s.put_field(field_of("C-1", "email", "x")));
  must(s.append_consent(event_of("C-1", "analytics", ConsentAction::grant, 2)));
  must(s.commit());
  CHECK(must(s.get_key("C-1")).has_value());
  CHECK(must(s.get_field("C-1", "email")).has_value());
  CHECK(must(s.consent_history("C-1")).size() == 1);
  // After commit the store is back outside a transaction.
  must(s.begin());
  must(s.rollback());
}

TEST_CASE_TEMPLATE("a Transaction rolls back when dropped and keeps its writes when committed", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  {
    auto tx = must(Transaction::start(s));
    must(s.put_key(StoredKey{"C-dropped", 1, b("w")}));
  }
  CHECK_FALSE(must(s.get_key("C-dropped")).has_value());
  {
    auto tx = must(Transaction::start(s));
    must(s.put_key(StoredKey{"C-kept", 1, b("w")}));
    must(tx.commit());
    auto again = tx.commit();
    REQUIRE_FALSE(again.ok());
    CHECK(again.err().code == errc::internal);
  }
  CHECK(must(s.get_key("C-kept")).has_value());
}

TEST_CASE_TEMPLATE("transactions do not nest, and commit or rollback need one open", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  auto no_commit = s.commit();
  REQUIRE_FALSE(no_commit.ok());
  CHECK(no_commit.err().code == errc::internal);
  auto no_rollback = s.rollback();
  REQUIRE_FALSE(no_rollback.ok());
  CHECK(no_rollback.err().code == errc::internal);

  must(s.begin());
  must(s.put_meta("k", b("v")));
  auto twice = s.begin();
  REQUIRE_FALSE(twice.ok());
  CHECK(twice.err().code == errc::internal);
  auto nested = Transaction::start(s);
  REQUIRE_FALSE(nested.ok());
  // The failed begin left the outer transaction intact.
  must(s.rollback());
  CHECK_FALSE(must(s.get_meta("k")).has_value());
}

TEST_CASE_TEMPLATE("values with empty strings and binary bytes round-trip exactly", B, STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  const bytes binary = {0x00, 0xff, 0x00, 0x27, 0x22};
  StoredField f{"", "", binary, "", at(-1)};
  must(s.put_field(f));
  auto back = must(s.get_field("", ""));
  REQUIRE(back.has_value());
  CHECK(back->sealed == binary);
  CHECK(back->source.empty());
  CHECK(back->collected_at == at(-1));
  const std::string with_nul("a\0b", 3);
  must(s.put_key(StoredKey{with_nul, 1, binary}));
  CHECK(must(s.customers()) == std::vector<std::string>{with_nul});
  CHECK_FALSE(must(s.knows("a")));
}

// ---- SQLite file rules ----

namespace {

std::string sqlite_scalar(const fs::path& file, const char* sql, int* rc_out = nullptr) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  std::string out;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, nullptr);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      const auto* t = sqlite3_column_text(st, 0);
      if (t) out = reinterpret_cast<const char*>(t);
      rc = SQLITE_OK;
    } else if (rc == SQLITE_DONE) {
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  if (rc_out) *rc_out = rc;
  return out;
}

}  // namespace

TEST_CASE("sqlite: create refuses an existing file and leaves it untouched") {
  TempDir dir;
  const fs::path file = dir.path() / "exists.vault";
  { std::ofstream(file) << "keep me"; }
  auto r = open_sqlite_store(file, StoreMode::create);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::already_exists);
  std::ifstream in(file);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == "keep me");
}

TEST_CASE("sqlite: open refuses a missing file and does not create it") {
  TempDir dir;
  const fs::path file = dir.path() / "missing.vault";
  auto r = open_sqlite_store(file, StoreMode::open);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::not_found);
  CHECK(r.err().message.find(file.string()) != std::string::npos);
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("sqlite: open refuses junk, an empty file and a plain SQLite database as not a vault") {
  TempDir dir;
  const fs::path junk = dir.path() / "junk.vault";
  { std::ofstream(junk) << std::string(4096, 'j'); }
  const fs::path short_junk = dir.path() / "short.vault";
  { std::ofstream(short_junk) << "hello"; }
  const fs::path empty = dir.path() / "empty.vault";
  { std::ofstream{empty}; }
  const fs::path plain = dir.path() / "plain.db";
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(plain.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "CREATE TABLE t(x); INSERT INTO t VALUES(1);", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
  }
  const fs::path wrong_version = dir.path() / "v2.vault";
  {
    auto created = open_sqlite_store(wrong_version, StoreMode::create);
    REQUIRE(created.ok());
  }
  int rc = 0;
  sqlite_scalar(wrong_version, "UPDATE meta SET value = CAST('2' AS BLOB) WHERE key = 'schema_version'", &rc);
  REQUIRE(rc == SQLITE_OK);

  for (const fs::path& f : {junk, short_junk, empty, plain, wrong_version}) {
    CAPTURE(f.string());
    auto r = open_sqlite_store(f, StoreMode::open);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find("not a consentry vault") != std::string::npos);
  }
  std::ifstream in(junk);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(content == std::string(4096, 'j'));
}

TEST_CASE("sqlite: data survives closing and reopening the vault") {
  TempDir dir;
  const fs::path file = dir.path() / "reopen.vault";
  std::int64_t seq = 0;
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->put_meta("policy", b("p")));
    must(s->put_key(StoredKey{"C-1", 2, b("w")}));
    must(s->put_field(field_of("C-1", "email", "sealed", 1714557600)));
    seq = must(s->append_consent(event_of("C-1", "analytics", ConsentAction::grant, 9))).seq;
    // Left open: closing the store must roll this back.
    must(s->begin());
    must(s->put_key(StoredKey{"C-uncommitted", 1, b("w")}));
  }
  auto s = must(open_sqlite_store(file, StoreMode::open));
  CHECK(must(s->get_meta("policy")) == std::optional<bytes>(b("p")));
  auto key = must(s->get_key("C-1"));
  REQUIRE(key.has_value());
  CHECK(key->version == 2);
  auto f = must(s->get_field("C-1", "email"));
  REQUIRE(f.has_value());
  CHECK(f->collected_at == at(1714557600));
  auto history = must(s->consent_history("C-1"));
  REQUIRE(history.size() == 1);
  CHECK(history[0].seq == seq);
  CHECK_FALSE(must(s->get_key("C-uncommitted")).has_value());
  CHECK(must(s->append_consent(event_of("C-1", "analytics", ConsentAction::withdraw, 10))).seq > seq);
}

TEST_CASE("sqlite: the consent ledger refuses UPDATE and DELETE even through raw SQL") {
  TempDir dir;
  const fs::path file = dir.path() / "ledger.vault";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->append_consent(event_of("C-1", "marketing.email", ConsentAction::withdraw, 1)));
  }
  int rc = 0;
  sqlite_scalar(file, "UPDATE consent_events SET action = 'grant'", &rc);
  CHECK(rc != SQLITE_OK);
  sqlite_scalar(file, "DELETE FROM consent_events", &rc);
  CHECK(rc != SQLITE_OK);
  CHECK(sqlite_scalar(file, "SELECT count(*) FROM consent_events") == "1");
  auto s = must(open_sqlite_store(file, StoreMode::open));
  auto history = must(s->consent_history("C-1"));
  REQUIRE(history.size() == 1);
  CHECK(history[0].action == ConsentAction::withdraw);
}

TEST_CASE("sqlite: the vault file is in WAL mode") {
  TempDir dir;
  const fs::path file = dir.path() / "wal.vault";
  auto s = must(open_sqlite_store(file, StoreMode::create));
  // journal_mode=WAL is recorded in the file, so a second connection reports it.
  CHECK(sqlite_scalar(file, "PRAGMA journal_mode") == "wal");
  CHECK(sqlite_scalar(file, "SELECT value FROM meta WHERE key = 'schema_version'") == "1");
}

TEST_CASE("sqlite: a replaced sealed value leaves no trace in the vault file (secure_delete)") {
  // secure_delete is a per-connection setting that no other connection can read, so this checks
  // its effect: the bytes of the replaced value are overwritten, not left in free page space.
  // (Debian's SQLite also defaults to secure_delete, so this guards the property, not the PRAGMA.)
  TempDir dir;
  const fs::path file = dir.path() / "secure.vault";
  std::string old_value;
  for (int i = 0; i < 20; ++i) old_value += "OLD-SEALED-VALUE-";
  {
    auto s = must(open_sqlite_store(file, StoreMode::create));
    must(s->put_field(field_of("C-1", "email", old_value)));
  }
  auto read_file = [&] {
    std::ifstream in(file, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  // Closing checkpoints the WAL into the main file, so the value is there now.
  REQUIRE(read_file().find("OLD-SEALED-VALUE-") != std::string::npos);
  {
    auto s = must(open_sqlite_store(file, StoreMode::open));
    must(s->put_field(field_of("C-1", "email", "new")));
  }
  CHECK(read_file().find("OLD-SEALED-VALUE-") == std::string::npos);
}
