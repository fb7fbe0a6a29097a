// cli_log_test.cpp: `consentry log verify|checkpoint|show`, run as a separate process: what the
// audit log records, that it names customers only by pseudonym, and that every kind of tampering
// done with raw SQL on the vault file is caught at the right sequence number.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "consentry/audit.hpp"
#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";
/// kMinScanLength keeps short values out of substring scans, where they could match hex digits.
constexpr std::size_t kMinScanLength = 6;

using consentry::test::file_bytes;

using consentry::test::write_file;

/// imported_values lists the values of the import fixture that are long enough to scan for.
const std::vector<std::string>& imported_values() {
  static const std::vector<std::string> values = [] {
    std::set<std::string> all;
    std::istringstream in(file_bytes(kData / "customers.jsonl"));
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) continue;
      // The parsed line must outlive the loop: items() refers into it.
      const nlohmann::json record = nlohmann::json::parse(line);
      for (const auto& [field, value] : record.at("fields").items()) {
        if (value.get<std::string>().size() >= kMinScanLength) all.insert(value.get<std::string>());
      }
    }
    return std::vector<std::string>(all.begin(), all.end());
  }();
  return values;
}

/// leaked_value returns the first imported value found in `text`, or "" when there is none.
std::string leaked_value(const std::string& text) {
  for (const auto& v : imported_values()) {
    if (text.find(v) != std::string::npos) return v;
  }
  return "";
}

using Output = consentry::test::CliOutput;

using consentry::test::TempDir;

/// run_cli starts the consentry binary on `vault` with stdin from /dev/null and captures its
/// output. No output of any run, failing or not, may carry an imported value: the log commands
/// never print one.
Output run_cli(const fs::path& scratch, const fs::path& vault, const std::vector<std::string>& args) {
  Output o = consentry::test::run_consentry(
      scratch, args,
      {{"CONSENTRY_VAULT", vault.string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  if (!args.empty() && args[0] == "log") {
    INFO("stderr: " << o.err);
    CHECK_MESSAGE(leaked_value(o.out + o.err).empty(), "a log command printed an imported value");
  }
  return o;
}

/// Cli runs commands against one vault in a fresh directory.
class Cli {
 public:
  Cli() : vault_(dir_.path() / "crm.vault") {}

  const fs::path& vault() const { return vault_; }
  const fs::path& dir() const { return dir_.path(); }

  Output run(const std::vector<std::string>& args) const { return run_cli(dir_.path(), vault_, args); }
  /// must runs a command that has to exit with `code`.
  Output must(const std::vector<std::string>& args, int code = 0) const {
    Output o = run(args);
    INFO("command: " << args[0] << (args.size() > 1 ? " " + args[1] : std::string()));
    INFO("stderr: " << o.err);
    REQUIRE(o.code == code);
    return o;
  }

  void init() const { must({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"}); }

  /// activity imports the fixture, grants C-1001 e-mail marketing, then reads both customers'
  /// e-mail for marketing: C-1001's read is allowed, C-1002's denied (no consent).
  void activity() const {
    init();
    must({"import", (kData / "customers.jsonl").string()});
    must({"consent", "grant", "C-1001", "marketing.email"});
    marketing_read("C-1001", 0);
    marketing_read("C-1002", 3);
  }
  void marketing_read(const std::string& customer, int code) const {
    must({"read", customer, "--purpose", "marketing.email", "--as", "email-campaigns", "--fields", "email"},
         code);
  }

  /// entries runs `log show --json` with `extra` options and parses the array it prints.
  ojson entries(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"log", "show", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    Output o = must(args);
    ojson parsed = ojson::parse(o.out);
    REQUIRE(parsed.is_array());
    return parsed;
  }

 private:
  TempDir dir_;
  fs::path vault_;
};

std::vector<std::int64_t> seqs_of(const ojson& entries) {
  std::vector<std::int64_t> out;
  for (const auto& e : entries) out.push_back(e.at("seq").get<std::int64_t>());
  return out;
}

/// pseudonym_of returns the one customer name every entry of `entries` carries.
std::string pseudonym_of(const ojson& entries) {
  REQUIRE(!entries.empty());
  std::string p = entries[0].at("customer").get<std::string>();
  for (const auto& e : entries) CHECK(e.at("customer") == p);
  return p;
}

bool has_field(const ojson& entry, const std::string& name) {
  for (const auto& f : entry.at("fields")) {
    std::string s = f.get<std::string>();
    if (s == name || s.rfind(name + ":", 0) == 0) return true;
  }
  return false;
}

using EntryTest = std::function<bool(const ojson&)>;

/// in_order checks that `entries` holds entries matching `steps` in that order (others may lie
/// between them) and returns how many steps it found.
std::size_t in_order(const ojson& entries, const std::vector<EntryTest>& steps) {
  std::size_t found = 0;
  for (const auto& e : entries) {
    if (found < steps.size() && steps[found](e)) ++found;
  }
  return found;
}

EntryTest is(const std::string& customer, const std::string& action, const std::string& accessor = "",
             const std::string& purpose = "") {
  return [=](const ojson& e) {
    return e.at("customer") == customer && e.at("action") == action &&
           (accessor.empty() || e.at("accessor") == accessor) &&
           (purpose.empty() || e.at("purpose") == purpose);
  };
}

EntryTest both(EntryTest a, EntryTest b) {
  return [=](const ojson& e) { return a(e) && b(e); };
}

/// damaged_seq reads N from "consentry: error: audit log damaged at seq N: ...".
std::optional<std::int64_t> damaged_seq(const std::string& err) {
  static const std::regex pattern("^consentry: error: audit log damaged at seq ([0-9]+): .+\n$");
  std::smatch m;
  if (!std::regex_match(err, m, pattern)) return std::nullopt;
  return std::stoll(m[1].str());
}

/// Tamper opens a vault file with the raw SQLite API and alters its audit tables the way an
/// attacker holding the file would: it drops the append-only triggers first.
class Tamper {
 public:
  explicit Tamper(const fs::path& file) {
    REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK);
    std::vector<std::string> triggers;
    for (const auto& row : texts("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                                 "tbl_name IN ('audit', 'audit_checkpoints')")) {
      triggers.push_back(row);
    }
    REQUIRE_MESSAGE(!triggers.empty(), "the audit tables have no append-only triggers");
    for (const auto& name : triggers) exec("DROP TRIGGER \"" + name + "\"");
  }
  ~Tamper() { sqlite3_close(db_); }
  Tamper(const Tamper&) = delete;
  Tamper& operator=(const Tamper&) = delete;

  void exec(const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message);
    INFO("sql: " << sql << " -> " << (message ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
  }
  std::int64_t integer(const std::string& sql) {
    sqlite3_stmt* stmt = prepare(sql);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    std::int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    return v;
  }
  std::vector<std::string> texts(const std::string& sql) {
    sqlite3_stmt* stmt = prepare(sql);
    std::vector<std::string> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
      out.emplace_back(data ? data : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
    }
    sqlite3_finalize(stmt);
    return out;
  }
  std::string blob(const std::string& sql) {
    std::vector<std::string> rows = texts(sql);
    REQUIRE(rows.size() == 1);
    return rows[0];
  }
  /// set_blob runs an UPDATE whose only parameter is a blob; it must change one row.
  void set_blob(const std::string& sql, const std::string& value) { set(sql, value, false); }
  /// set_text does the same with a text parameter.
  void set_text(const std::string& sql, const std::string& value) { set(sql, value, true); }

 private:
  void set(const std::string& sql, const std::string& value, bool text) {
    sqlite3_stmt* stmt = prepare(sql);
    const int size = static_cast<int>(value.size());
    REQUIRE((text ? sqlite3_bind_text(stmt, 1, value.data(), size, SQLITE_TRANSIENT)
                  : sqlite3_bind_blob(stmt, 1, value.data(), size, SQLITE_TRANSIENT)) == SQLITE_OK);
    REQUIRE(sqlite3_step(stmt) == SQLITE_DONE);
    sqlite3_finalize(stmt);
    REQUIRE(sqlite3_changes(db_) == 1);
  }
  sqlite3_stmt* prepare(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    INFO("sql: " << sql << " -> " << sqlite3_errmsg(db_));
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK);
    return stmt;
  }
  sqlite3* db_ = nullptr;
};

std::string flip_last_byte(std::string s) {
  REQUIRE(!s.empty());
  s.back() = static_cast<char>(s.back() ^ 0x01);
  return s;
}

std::string to_text(const consentry::bytes& b) {
  return {b.begin(), b.end()};
}
consentry::bytes to_bytes(const std::string& s) {
  return {s.begin(), s.end()};
}

/// expect_damaged runs `log verify` (human and JSON) and checks both report damage at `seq`.
void expect_damaged(const Cli& cli, std::int64_t seq, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"log", "verify"};
  args.insert(args.end(), extra.begin(), extra.end());
  Output human = cli.run(args);
  INFO("stderr: " << human.err);
  CHECK(human.code == 4);
  CHECK(human.out.empty());
  CHECK(damaged_seq(human.err) == seq);

  args.push_back("--json");
  Output json = cli.run(args);
  CHECK(json.code == 4);
  ojson report = ojson::parse(json.out);
  CHECK(report["ok"] == false);
  CHECK(report["first_bad_seq"] == seq);
  CHECK(report["problem"].is_string());
  CHECK(!report["problem"].get<std::string>().empty());
}

}  // namespace

TEST_CASE("log show lists every access in order, by customer pseudonym and without any value") {
  Cli cli;
  cli.activity();
  ojson all = cli.entries();
  Output raw = cli.must({"log", "show", "--json"});
  CHECK(leaked_value(raw.out).empty());
  for (const char* id : {"C-1001", "C-1002"}) {
    CAPTURE(id);
    CHECK_MESSAGE(raw.out.find(id) == std::string::npos, "the log names a customer by id");
  }
  std::vector<std::int64_t> seqs = seqs_of(all);
  REQUIRE(!seqs.empty());
  CHECK(seqs.front() >= 1);
  CHECK(std::adjacent_find(seqs.begin(), seqs.end(), [](auto a, auto b) { return a >= b; }) == seqs.end());

  std::string ann = pseudonym_of(cli.entries({"--customer", "C-1001"}));
  std::string bob = pseudonym_of(cli.entries({"--customer", "C-1002"}));
  CHECK(!ann.empty());
  CHECK(ann != bob);

  auto allowed = [](const ojson& e) { return e.at("decision") == "allow"; };
  std::vector<EntryTest> steps = {
      both(is(ann, "value_written", "cli"), [](const ojson& e) { return has_field(e, "email"); }),
      both(is(bob, "value_written", "cli"), [](const ojson& e) { return has_field(e, "birth_date"); }),
      both(is(ann, "consent_recorded", "cli", "marketing.email"),
           [&](const ojson& e) { return allowed(e) && e.at("reason") == "grant"; }),
      both(is(ann, "view_opened", "email-campaigns", "marketing.email"), allowed),
      both(is(ann, "field_read", "email-campaigns", "marketing.email"),
           [&](const ojson& e) {
             return allowed(e) && std::find(e.at("fields").begin(), e.at("fields").end(), "email:clear") !=
                                      e.at("fields").end();
           }),
      is(bob, "view_opened", "email-campaigns", "marketing.email"),
      both(is(bob, "access_denied", "email-campaigns", "marketing.email"),
           [](const ojson& e) { return e.at("decision") == "deny" && e.at("reason") == "no_consent"; }),
  };
  INFO("log: " << all.dump());
  CHECK(in_order(all, steps) == steps.size());
  for (const auto& e : all) {
    CHECK(e.at("at").get<std::string>().size() == std::string("2025-05-01T10:00:00Z").size());
  }

  Output human = cli.must({"log", "show"});
  for (const char* text :
       {"SEQ", "field_read", "access_denied", "deny: no_consent", "email-campaigns", "email:clear"}) {
    CAPTURE(text);
    CHECK(human.out.find(text) != std::string::npos);
  }
  CHECK(human.out.find(ann) != std::string::npos);
}

TEST_CASE("a read of several fields leaves one view entry and one read entry naming them all") {
  Cli cli;
  cli.activity();
  const std::size_t before = cli.entries({"--customer", "C-1001"}).size();
  cli.must({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields",
            "email,phone,birth_date"});
  ojson mine = cli.entries({"--customer", "C-1001"});
  REQUIRE(mine.size() == before + 2);
  CHECK(mine[before].at("action") == "view_opened");
  const ojson& read = mine[before + 1];
  CHECK(read.at("action") == "field_read");
  CHECK(read.at("fields") == ojson::array({"email:clear", "phone:mask:last4", "birth_date:clear"}));
}

TEST_CASE("log show --customer lists only that customer's entries, an unknown customer exits 5") {
  Cli cli;
  cli.activity();
  ojson all = cli.entries();
  for (const char* id : {"C-1001", "C-1002"}) {
    CAPTURE(id);
    ojson mine = cli.entries({"--customer", id});
    std::string p = pseudonym_of(mine);
    std::vector<std::int64_t> expected;
    for (const auto& e : all) {
      if (e.at("customer") == p) expected.push_back(e.at("seq").get<std::int64_t>());
    }
    CHECK(seqs_of(mine) == expected);
    CHECK(mine.size() < all.size());

    Output human = cli.must({"log", "show", "--customer", id});
    CHECK(human.out.find("value_written") != std::string::npos);
  }
  Output unknown = cli.run({"log", "show", "--customer", "C-0000"});
  CHECK(unknown.code == 5);
  CHECK(unknown.out.empty());
  CHECK(unknown.err.find("C-0000") != std::string::npos);
}

TEST_CASE("log show --since keeps the entries from that time on and rejects a malformed time") {
  Cli cli;
  cli.activity();
  std::int64_t last_before = seqs_of(cli.entries()).back();
  // Entries carry whole seconds: wait for the next one so the later reads have a later time.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  cli.marketing_read("C-1001", 0);
  ojson all = cli.entries();
  std::string since;
  for (const auto& e : all) {
    if (e.at("seq").get<std::int64_t>() > last_before) {
      since = e.at("at").get<std::string>();
      break;
    }
  }
  REQUIRE(!since.empty());
  std::vector<std::int64_t> expected;
  for (const auto& e : all) {
    if (e.at("at").get<std::string>() >= since) expected.push_back(e.at("seq").get<std::int64_t>());
  }
  ojson later = cli.entries({"--since", since});
  CHECK(!later.empty());
  CHECK(later.size() < all.size());
  CHECK(seqs_of(later) == expected);

  // A date means midnight UTC; combined with --customer both filters apply.
  CHECK(seqs_of(cli.entries({"--since", "2000-01-01"})) == seqs_of(all));
  CHECK(cli.entries({"--since", "2999-12-31"}).empty());
  ojson ann_later = cli.entries({"--customer", "C-1001", "--since", since});
  CHECK(!ann_later.empty());
  for (const auto& e : ann_later) CHECK(e.at("at").get<std::string>() >= since);
  CHECK(ann_later.size() < cli.entries({"--customer", "C-1001"}).size());

  for (const char* bad : {"yesterday", "2025-02-30", "2025-05-01T25:00:00Z"}) {
    CAPTURE(bad);
    Output o = cli.run({"log", "show", "--since", bad});
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find("--since") != std::string::npos);
  }
}

TEST_CASE("log verify passes on an untouched log and counts its entries and checkpoints") {
  Cli cli;
  cli.activity();
  const auto entries = static_cast<std::int64_t>(cli.entries().size());
  Output json = cli.must({"log", "verify", "--json"});
  ojson report = ojson::parse(json.out);
  CHECK(report["ok"] == true);
  CHECK(report["entries"] == entries);
  CHECK(report["checkpoints"].get<std::int64_t>() >= 1);
  CHECK(report["first_bad_seq"].is_null());
  CHECK(report["problem"].is_null());

  Output human = cli.must({"log", "verify"});
  CHECK(human.out == "audit log verified: " + std::to_string(entries) + " entries, " +
                         std::to_string(report["checkpoints"].get<std::int64_t>()) + " checkpoints\n");
  CHECK(human.err.empty());
}

TEST_CASE("the audit tables refuse changes while their append-only triggers stand") {
  Cli cli;
  cli.activity();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(cli.vault().c_str(), &db) == SQLITE_OK);
  for (const char* sql : {"UPDATE audit SET entry = x'00' WHERE seq = 1", "DELETE FROM audit WHERE seq = 1",
                          "DELETE FROM audit_checkpoints"}) {
    CAPTURE(sql);
    CHECK(sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK);
  }
  sqlite3_close(db);
  cli.must({"log", "verify"});
}

TEST_CASE("each kind of tampering with the log is detected at its sequence number") {
  Cli cli;
  cli.activity();
  // An explicit checkpoint covers the head, so that a cut tail is provably missing.
  cli.must({"log", "checkpoint"});
  const std::int64_t last = seqs_of(cli.entries()).back();
  REQUIRE(last >= 6);
  cli.must({"log", "verify"});

  SUBCASE("a modified entry") {
    {
      Tamper db(cli.vault());
      db.set_blob("UPDATE audit SET entry = ? WHERE seq = 3",
                  flip_last_byte(db.blob("SELECT entry FROM audit WHERE seq = 3")));
    }
    expect_damaged(cli, 3);
  }
  SUBCASE("an entry re-encoded to say something else") {
    {
      Tamper db(cli.vault());
      auto entry = consentry::decode_audit_entry(to_bytes(db.blob("SELECT entry FROM audit WHERE seq = 3")));
      REQUIRE(entry);
      entry->accessor = "nobody";
      entry->allowed = !entry->allowed;
      db.set_blob("UPDATE audit SET entry = ? WHERE seq = 3", to_text(consentry::encode_audit_entry(*entry)));
    }
    expect_damaged(cli, 3);
  }
  SUBCASE("an entry moved to another customer's lookup column") {
    {
      Tamper db(cli.vault());
      std::string other = db.blob(
          "SELECT customer FROM audit WHERE customer <> (SELECT customer FROM audit WHERE "
          "seq = 3) AND customer <> '' LIMIT 1");
      db.set_text("UPDATE audit SET customer = ? WHERE seq = 3", other);
    }
    expect_damaged(cli, 3);
  }
  SUBCASE("a deleted entry") {
    Tamper(cli.vault()).exec("DELETE FROM audit WHERE seq = 4");
    expect_damaged(cli, 4);
  }
  SUBCASE("an inserted entry") {
    {
      Tamper db(cli.vault());
      // Make room at seq 4 and put a copy of entry 3 there.
      db.exec("UPDATE audit SET seq = seq + 1000000 WHERE seq >= 4");
      db.exec("UPDATE audit SET seq = seq - 999999 WHERE seq >= 1000000");
      db.exec(
          "INSERT INTO audit (seq, at, customer, entry, hash) SELECT 4, at, customer, entry, hash FROM audit "
          "WHERE seq = 3");
    }
    expect_damaged(cli, 4);
  }
  SUBCASE("two entries swapped") {
    {
      Tamper db(cli.vault());
      db.exec(
          "CREATE TEMP TABLE saved AS SELECT seq, at, customer, entry, hash FROM audit WHERE seq IN (2, 3)");
      db.exec("DELETE FROM audit WHERE seq IN (2, 3)");
      db.exec(
          "INSERT INTO audit (seq, at, customer, entry, hash) SELECT 5 - seq, at, customer, entry, hash "
          "FROM saved");
    }
    expect_damaged(cli, 2);
  }
  SUBCASE("a truncated tail") {
    Tamper(cli.vault()).exec("DELETE FROM audit WHERE seq >= " + std::to_string(last - 1));
    expect_damaged(cli, last - 1);
  }
  SUBCASE("a forged checkpoint signature") {
    std::int64_t cp_seq = 0;
    {
      Tamper db(cli.vault());
      cp_seq = db.integer("SELECT max(seq) FROM audit_checkpoints");
      std::string where = " WHERE seq = " + std::to_string(cp_seq);
      db.set_blob("UPDATE audit_checkpoints SET signature = ?" + where,
                  flip_last_byte(db.blob("SELECT signature FROM audit_checkpoints" + where)));
    }
    expect_damaged(cli, cp_seq);
  }
  SUBCASE("a checkpoint moved to another head") {
    std::int64_t cp_seq = 0;
    {
      Tamper db(cli.vault());
      cp_seq = db.integer("SELECT max(seq) FROM audit_checkpoints");
      db.set_blob("UPDATE audit_checkpoints SET head = ? WHERE seq = " + std::to_string(cp_seq),
                  db.blob("SELECT hash FROM audit WHERE seq = 1"));
    }
    expect_damaged(cli, cp_seq);
  }
  SUBCASE("an entry rewritten with the whole chain after it recomputed") {
    // BLAKE2b has no key, so an attacker can rebuild every hash; only the signed checkpoints,
    // whose key is wrapped under the master key, still disagree.
    std::int64_t covering = 0;
    {
      Tamper db(cli.vault());
      covering = db.integer("SELECT min(seq) FROM audit_checkpoints WHERE seq >= 3");
      REQUIRE(covering >= 3);
      auto entry = consentry::decode_audit_entry(to_bytes(db.blob("SELECT entry FROM audit WHERE seq = 3")));
      REQUIRE(entry);
      entry->accessor = "nobody";
      db.set_blob("UPDATE audit SET entry = ? WHERE seq = 3", to_text(consentry::encode_audit_entry(*entry)));
      consentry::bytes previous = to_bytes(db.blob("SELECT hash FROM audit WHERE seq = 2"));
      for (std::int64_t seq = 3; seq <= last; ++seq) {
        std::string where = " WHERE seq = " + std::to_string(seq);
        consentry::bytes encoded = to_bytes(db.blob("SELECT entry FROM audit" + where));
        previous = consentry::audit_chain_hash(previous, encoded);
        db.set_blob("UPDATE audit SET hash = ?" + where, to_text(previous));
      }
    }
    expect_damaged(cli, covering);
  }
}

TEST_CASE("a checkpoint kept outside the vault verifies later and catches a rolled-back log") {
  Cli cli;
  cli.activity();
  const std::int64_t head = seqs_of(cli.entries()).back();
  const fs::path cp_file = cli.dir() / "cp.json";
  Output written = cli.must({"log", "checkpoint", "-o", cp_file.string()});
  REQUIRE(fs::exists(cp_file));
  CHECK(written.out.find(cp_file.string()) != std::string::npos);
  const std::string saved = file_bytes(cp_file);
  ojson cp = ojson::parse(saved);
  CHECK(cp["seq"] == head);
  for (const char* member : {"head", "at", "signature", "public_key"}) {
    CAPTURE(member);
    CHECK(cp[member].is_string());
    CHECK(!cp[member].get<std::string>().empty());
  }

  // The same head printed to stdout carries the same key; an existing file is never replaced.
  Output printed = cli.must({"log", "checkpoint"});
  ojson again = ojson::parse(printed.out);
  CHECK(again["public_key"] == cp["public_key"]);
  CHECK(again["seq"] >= head);
  Output refused = cli.run({"log", "checkpoint", "-o", cp_file.string()});
  CHECK(refused.code == 2);
  CHECK(refused.err.find("cp.json") != std::string::npos);
  CHECK(file_bytes(cp_file) == saved);

  cli.marketing_read("C-1001", 0);
  cli.marketing_read("C-1002", 3);
  cli.must({"log", "verify", "--against", cp_file.string()});
  Output json = cli.must({"log", "verify", "--against", cp_file.string(), "--json"});
  CHECK(ojson::parse(json.out)["ok"] == true);

  // Roll the log back below the external checkpoint and remove every checkpoint in the vault.
  const std::int64_t cut = head - 1;
  {
    Tamper db(cli.vault());
    db.exec("DELETE FROM audit WHERE seq >= " + std::to_string(cut));
    db.exec("DELETE FROM audit_checkpoints");
  }
  // Nothing left inside the vault can tell; whatever it says, the external copy must.
  Output inside = cli.run({"log", "verify"});
  CHECK((inside.code == 0 || inside.code == 4));
  Output outside = cli.run({"log", "verify", "--against", cp_file.string()});
  INFO("stderr: " << outside.err);
  CHECK(outside.code == 4);
  std::optional<std::int64_t> bad = damaged_seq(outside.err);
  REQUIRE(bad.has_value());
  CHECK(*bad >= cut);
  CHECK(*bad <= head);
}

TEST_CASE("a checkpoint of another vault, or one altered, fails verification with exit 4") {
  Cli cli;
  cli.activity();
  Cli other;
  other.activity();
  const fs::path mine = cli.dir() / "mine.json";
  const fs::path theirs = other.dir() / "theirs.json";
  cli.must({"log", "checkpoint", "-o", mine.string()});
  other.must({"log", "checkpoint", "-o", theirs.string()});
  cli.must({"log", "verify", "--against", mine.string()});

  Output foreign = cli.run({"log", "verify", "--against", theirs.string()});
  CHECK(foreign.code == 4);
  CHECK(foreign.err.find("checkpoint signed by another key") != std::string::npos);

  // Claiming this vault's key for the other vault's signature does not help.
  ojson relabelled = ojson::parse(file_bytes(theirs));
  relabelled["public_key"] = ojson::parse(file_bytes(mine))["public_key"];
  write_file(cli.dir() / "relabelled.json", relabelled.dump());
  CHECK(cli.run({"log", "verify", "--against", (cli.dir() / "relabelled.json").string()}).code == 4);

  // A checkpoint whose time was changed no longer matches its signature.
  ojson moved = ojson::parse(file_bytes(mine));
  moved["at"] = "2001-01-01T00:00:00Z";
  REQUIRE(moved["at"] != ojson::parse(file_bytes(mine))["at"]);
  write_file(cli.dir() / "moved.json", moved.dump());
  Output o = cli.run({"log", "verify", "--against", (cli.dir() / "moved.json").string()});
  CHECK(o.code == 4);
  CHECK(o.err.find("consentry: error: ") == 0);
}

TEST_CASE("a malformed checkpoint file exits 2 and names the file and the JSON path") {
  Cli cli;
  cli.activity();
  const fs::path good = cli.dir() / "cp.json";
  cli.must({"log", "checkpoint", "-o", good.string()});
  const ojson cp = ojson::parse(file_bytes(good));

  struct Case {
    const char* name;
    std::function<void(ojson&)> damage;
    const char* path;
  };
  const std::vector<Case> cases = {
      {"seq.json", [](ojson& j) { j["seq"] = "forty"; }, "$.seq"},
      {"head.json", [](ojson& j) { j["head"] = "not hex"; }, "$.head"},
      {"signature.json", [](ojson& j) { j.erase("signature"); }, "$.signature"},
      {"key.json", [](ojson& j) { j["public_key"] = 7; }, "$.public_key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    ojson damaged = cp;
    c.damage(damaged);
    fs::path file = cli.dir() / c.name;
    write_file(file, damaged.dump());
    Output o = cli.run({"log", "verify", "--against", file.string()});
    CHECK(o.code == 2);
    CHECK(o.out.empty());
    CHECK(o.err.find(c.name) != std::string::npos);
    CHECK(o.err.find(c.path) != std::string::npos);
  }

  write_file(cli.dir() / "cut.json", file_bytes(good).substr(0, 20));
  Output cut = cli.run({"log", "verify", "--against", (cli.dir() / "cut.json").string()});
  CHECK(cut.code == 2);
  CHECK(cut.err.find("cut.json") != std::string::npos);
  Output missing = cli.run({"log", "verify", "--against", (cli.dir() / "none.json").string()});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("none.json") != std::string::npos);
}

TEST_CASE("log checkpoint on an empty log exits 5 and writes no file") {
  Cli cli;
  cli.init();
  {
    Tamper db(cli.vault());
    db.exec("DELETE FROM audit");
    db.exec("DELETE FROM audit_checkpoints");
  }
  Output o = cli.run({"log", "checkpoint"});
  CHECK(o.code == 5);
  CHECK(o.out.empty());
  const fs::path file = cli.dir() / "cp.json";
  CHECK(cli.run({"log", "checkpoint", "-o", file.string()}).code == 5);
  CHECK(!fs::exists(file));
}

TEST_CASE("log needs a subcommand and --help works on each of them") {
  Cli cli;
  CHECK(cli.run({"log"}).code == 1);
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"log"}, {"log", "verify"}, {"log", "checkpoint"}, {"log", "show"}}) {
    args.push_back("--help");
    CAPTURE(args.size());
    Output o = cli.run(args);
    CHECK(o.code == 0);
    CHECK(o.out.find("Usage:") != std::string::npos);
  }
}
