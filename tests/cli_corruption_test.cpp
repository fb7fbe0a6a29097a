// cli_corruption_test.cpp: the consentry command on damaged vault files: a flipped byte anywhere,
// a damaged b-tree page, a missing table, a file that is not a vault. Damage is corrupt data, exit
// 4 with a message that says so, never exit 2 (bad input or I/O) and never a wrong value.
#include <doctest/doctest.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::file_bytes;
using consentry::test::write_file;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

/// Damaged is a directory with a vault made by the command (customers, a consent, reads), whose
/// file can be replaced by a damaged copy of itself.
class Damaged {
 public:
  Damaged() {
    must(run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"}));
    must(run({"import", (kData / "customers.jsonl").string()}));
    must(run({"consent", "grant", "C-1001", "marketing.email", "--channel", "web"}));
    must(run({"read", "C-1001", "--purpose", "service", "--as", "support-desk"}));
    // The last connection checkpointed the WAL into the file and removed it.
    REQUIRE_FALSE(fs::exists(vault().string() + "-wal"));
    pristine_ = file_bytes(vault());
    REQUIRE(pristine_.size() > 4096);
  }

  fs::path vault() const { return dir_.path() / "crm.vault"; }
  const fs::path& dir() const { return dir_.path(); }
  const std::string& pristine() const { return pristine_; }

  /// use puts `bytes` in place of the vault file, with no WAL beside it.
  void use(const std::string& bytes) const {
    for (const char* suffix : {"-wal", "-shm"}) fs::remove(vault().string() + suffix);
    write_file(vault(), bytes);
  }

  CliOutput run(const std::vector<std::string>& args) const {
    return consentry::test::run_consentry(
        dir_.path(), args,
        {{"CONSENTRY_VAULT", vault().string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }

 private:
  static void must(const CliOutput& o) {
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
  }

  consentry::test::TempDir dir_{"consentry-cli-corruption"};
  std::string pristine_;
};

/// values_of maps field -> value of a `read --json` or of a JSON export ({} when it is not JSON).
std::map<std::string, std::string> values_of(const std::string& out) {
  std::map<std::string, std::string> values;
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("fields")) return values;
  if (j["fields"].is_object()) {
    for (const auto& [field, entry] : j["fields"].items())
      if (entry.contains("value")) values[field] = entry["value"].get<std::string>();
  } else {
    for (const auto& entry : j["fields"])
      if (entry["value"].is_string())
        values[entry["name"].get<std::string>()] = entry["value"].get<std::string>();
  }
  return values;
}

/// sql runs one statement on `file` with the raw C API and returns the first column of its first
/// row as an integer (0 when it has none).
long long sql(const fs::path& file, const char* statement) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(file.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  INFO(sqlite3_errmsg(db));
  REQUIRE(sqlite3_prepare_v2(db, statement, -1, &st, nullptr) == SQLITE_OK);
  const int rc = sqlite3_step(st);
  REQUIRE((rc == SQLITE_ROW || rc == SQLITE_DONE));
  const long long out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("a file that is not a vault exits 4 saying so, and is left as it was") {
  consentry::test::TempDir dir("consentry-cli-not-a-vault");
  const fs::path junk = dir.path() / "junk.vault";
  write_file(junk, std::string(8192, 'j'));
  const fs::path empty = dir.path() / "empty.vault";
  write_file(empty, "");
  const fs::path plain = dir.path() / "plain.db";
  sql(plain, "CREATE TABLE t(x)");
  for (const fs::path& file : {junk, empty, plain}) {
    CAPTURE(file.string());
    const std::string before = file_bytes(file);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"keys", "status"},
                                                 {"read", "C-1", "--purpose", "service", "--as", "desk"},
                                                 {"log", "verify"}}) {
      const CliOutput o = consentry::test::run_consentry(
          dir.path(), args,
          {{"CONSENTRY_VAULT", file.string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
      CHECK(o.code == 4);
      CHECK(o.err ==
            "consentry: error: '" + file.string() + "' is not a consentry vault, or it is damaged\n");
      CHECK(o.out.empty());
    }
    CHECK(file_bytes(file) == before);
  }
}

TEST_CASE("a vault whose table is missing exits 4 naming the schema") {
  Damaged d;
  sql(d.vault(), "ALTER TABLE consent_events RENAME TO consent_events_gone");
  const CliOutput o = d.run({"keys", "status"});
  CHECK(o.code == 4);
  CHECK(o.err.find("the vault's tables do not match its schema") != std::string::npos);
}

TEST_CASE("a damaged b-tree page of a vault exits 4 saying the file is damaged") {
  Damaged d;
  const long long page_size = sql(d.vault(), "PRAGMA page_size");
  const long long root = sql(d.vault(), "SELECT rootpage FROM sqlite_master WHERE name = 'fields'");
  REQUIRE(root > 1);
  std::string bytes = d.pristine();
  // Byte 0 of a b-tree page is its type (2, 5, 10 or 13); 0x42 is none of them.
  bytes[static_cast<std::size_t>((root - 1) * page_size)] = 0x42;
  d.use(bytes);
  const CliOutput o = d.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk"});
  CHECK(o.code == 4);
  CHECK(o.err.find("the vault file is damaged (database disk image is malformed)") != std::string::npos);
  CHECK(o.out.empty());
}

TEST_CASE("a flipped byte anywhere in a vault gives exit 0, 3, 4 or 5, and never a wrong value") {
  Damaged d;
  const std::string& pristine = d.pristine();
  const CliOutput read = d.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--json"});
  const CliOutput exported = d.run({"export", "C-1001"});
  REQUIRE(read.code == 0);
  REQUIRE(exported.code == 0);
  const std::map<std::string, std::string> read_values = values_of(read.out);
  const std::map<std::string, std::string> export_values = values_of(exported.out);
  REQUIRE(read_values.size() == 3);
  REQUIRE(export_values.size() == 3);

  // One position in the header of every page (where the b-tree structure is), then as many at
  // random anywhere; each flip is an XOR with a random non-zero byte.
  const std::size_t page_size = 4096;
  REQUIRE(pristine.size() % page_size == 0);
  std::mt19937_64 random(14);
  std::vector<std::size_t> positions;
  for (std::size_t page = 0; page < pristine.size() / page_size; ++page)
    positions.push_back(page * page_size + (page == 0 ? 100 : 0) + random() % 12);
  const std::size_t structural = positions.size();
  for (std::size_t i = 0; i < structural; ++i) positions.push_back(random() % pristine.size());

  const std::vector<std::vector<std::string>> commands = {
      {"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--json"},
      {"export", "C-1001"},
      {"consent", "show", "C-1001"},
      {"log", "verify"},
  };
  std::map<int, int> codes;
  int damaged_messages = 0;
  for (std::size_t position : positions) {
    std::string bytes = pristine;
    const auto mask = static_cast<char>(1 + random() % 255);
    bytes[position] = static_cast<char>(bytes[position] ^ mask);
    d.use(bytes);
    for (const auto& args : commands) {
      const CliOutput o = d.run(args);
      CAPTURE(position);
      CAPTURE(args[0]);
      INFO("stderr: " << o.err);
      ++codes[o.code];
      CHECK((o.code == 0 || o.code == 3 || o.code == 4 || o.code == 5));
      if (o.err.find("damaged") != std::string::npos ||
          o.err.find("not a consentry vault") != std::string::npos)
        ++damaged_messages;
      // Whatever a command shows of a value is the value: damage hides values, it never changes one.
      const std::map<std::string, std::string>& expected = args[0] == "read" ? read_values : export_values;
      for (const auto& entry : values_of(o.out)) {
        const std::string& field = entry.first;
        const std::string& value = entry.second;
        CAPTURE(field);
        CHECK(expected.count(field) == 1);
        if (expected.count(field) == 1) CHECK(value == expected.at(field));
      }
    }
  }
  std::string summary;
  for (const auto& [code, n] : codes) summary += " exit " + std::to_string(code) + ": " + std::to_string(n);
  MESSAGE(positions.size() << " flips;" << summary);
  // The flips found damage that SQLite reports, not only values that fail authentication.
  CHECK(damaged_messages > 0);
  CHECK(codes[4] > 0);
}
