// cli_test.cpp: the consentry command, run as a separate process: exit codes, output formats,
// all-or-nothing imports, consent, tampering, and that no value leaks into output or onto disk.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";
/// kMinScanLength keeps short values (a 3-digit score) out of substring scans, where they could
/// match unrelated digits in a temporary path.
constexpr std::size_t kMinScanLength = 6;

using consentry::test::file_bytes;

std::vector<std::string> split(const std::string& line, char separator) {
  std::vector<std::string> parts;
  std::string part;
  std::istringstream in(line);
  while (std::getline(in, part, separator)) parts.push_back(part);
  if (!line.empty() && line.back() == separator) parts.emplace_back();
  return parts;
}

/// Customers maps customer -> field -> value, as written in an import fixture.
using Customers = std::map<std::string, std::map<std::string, std::string>>;

Customers read_jsonl(const fs::path& file) {
  Customers out;
  std::istringstream in(file_bytes(file));
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    for (const auto& [field, value] : j.at("fields").items()) {
      out[j.at("id").get<std::string>()][field] = value.get<std::string>();
    }
  }
  return out;
}

/// read_csv reads the fixtures' simple CSV (no quoting); id, source and collected_at are not fields.
Customers read_csv(const fs::path& file) {
  Customers out;
  std::istringstream in(file_bytes(file));
  std::string line;
  std::getline(in, line);
  std::vector<std::string> header = split(line, ',');
  while (std::getline(in, line)) {
    std::vector<std::string> cells = split(line, ',');
    for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) {
      if (header[i] == "id" || header[i] == "source" || header[i] == "collected_at" || cells[i].empty())
        continue;
      out[cells[0]][header[i]] = cells[i];
    }
  }
  return out;
}

/// imported_values lists every value in every import fixture, including the ones of the file that
/// is rejected: no output of a failing command and no byte on disk may contain any of them.
const std::vector<std::string>& imported_values() {
  static const std::vector<std::string> values = [] {
    std::set<std::string> all;
    for (const auto& entry : fs::directory_iterator(kData)) {
      Customers customers;
      if (entry.path().extension() == ".jsonl") customers = read_jsonl(entry.path());
      if (entry.path().extension() == ".csv") customers = read_csv(entry.path());
      for (const auto& [customer, fields] : customers) {
        for (const auto& [field, value] : fields) {
          if (value.size() >= kMinScanLength) all.insert(value);
        }
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

std::string mask_last(const std::string& value, std::size_t keep) {
  if (value.size() <= keep) return value;
  return std::string(value.size() - keep, '*') + value.substr(value.size() - keep);
}

using Output = consentry::test::CliOutput;

using Env = consentry::test::CliEnv;

using consentry::test::TempDir;

/// run_cli starts the consentry binary with `args` and `env`, stdin from /dev/null (never a
/// terminal), and captures stdout and stderr. Every failing run is checked for leaked values.
Output run_cli(const fs::path& scratch, const std::vector<std::string>& args, const Env& env) {
  Output o = consentry::test::run_consentry(scratch, args, env);
  if (o.code != 0) {
    INFO("stderr: " << o.err);
    CHECK_MESSAGE(leaked_value(o.err).empty(), "a failing command printed an imported value on stderr");
    // A read that denies some fields (exit 3) still shows the fields it was allowed.
    if (o.code != 3) {
      CHECK_MESSAGE(leaked_value(o.out).empty(), "a failing command printed an imported value on stdout");
    }
  }
  return o;
}

/// Cli runs commands against one vault in a fresh directory.
class Cli {
 public:
  Cli() : vault_(dir_.path() / "crm.vault") {}

  const fs::path& vault() const { return vault_; }
  const fs::path& dir() const { return dir_.path(); }

  /// run passes the vault in CONSENTRY_VAULT and the passphrase in CONSENTRY_PASSPHRASE.
  Output run(const std::vector<std::string>& args,
             std::string passphrase = consentry::test::kTestPassphrase) const {
    return run_cli(dir_.path(), args,
                   {{"CONSENTRY_VAULT", vault_.string()}, {"CONSENTRY_PASSPHRASE", passphrase}});
  }
  /// run_env runs with exactly the CONSENTRY_ variables in `env`.
  Output run_env(const std::vector<std::string>& args, const Env& env) const {
    return run_cli(dir_.path(), args, env);
  }

  void init() const {
    Output o = run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
  }
  void import(const std::string& file, std::vector<std::string> extra = {}) const {
    std::vector<std::string> args{"import", (kData / file).string()};
    args.insert(args.end(), extra.begin(), extra.end());
    Output o = run(args);
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
  }

 private:
  TempDir dir_;
  fs::path vault_;
};

nlohmann::json policy_fixture() {
  return nlohmann::json::parse(file_bytes(kData / "policy.json"));
}

/// fields_for lists, in policy order, the fields the fixture policy gives `purpose` a form.
std::vector<std::string> fields_for(const std::string& purpose) {
  std::vector<std::string> names;
  const nlohmann::json policy = policy_fixture();
  for (const auto& f : policy.at("fields")) {
    if (f.at("access").contains(purpose)) names.push_back(f.at("name").get<std::string>());
  }
  return names;
}

/// Sqlite opens a vault file with the raw C API to alter it the way an attacker with the file could.
class Sqlite {
 public:
  explicit Sqlite(const fs::path& file) { REQUIRE(sqlite3_open(file.c_str(), &db_) == SQLITE_OK); }
  ~Sqlite() { sqlite3_close(db_); }
  Sqlite(const Sqlite&) = delete;
  Sqlite& operator=(const Sqlite&) = delete;

  std::string blob(const char* sql, const std::vector<std::string>& params) {
    sqlite3_stmt* stmt = prepare(sql, params);
    REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt, 0));
    std::string out(data, static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0)));
    sqlite3_finalize(stmt);
    return out;
  }
  /// update runs a statement whose first parameter is a blob and returns the rows it changed.
  int update(const char* sql, const std::string& blob, const std::vector<std::string>& params) {
    sqlite3_stmt* stmt = prepare(sql, {});
    REQUIRE(sqlite3_bind_blob(stmt, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT) ==
            SQLITE_OK);
    for (std::size_t i = 0; i < params.size(); ++i) {
      REQUIRE(sqlite3_bind_text(stmt, static_cast<int>(i + 2), params[i].c_str(), -1, SQLITE_TRANSIENT) ==
              SQLITE_OK);
    }
    REQUIRE(sqlite3_step(stmt) == SQLITE_DONE);
    sqlite3_finalize(stmt);
    return sqlite3_changes(db_);
  }

 private:
  sqlite3_stmt* prepare(const char* sql, const std::vector<std::string>& params) {
    sqlite3_stmt* stmt = nullptr;
    INFO(sqlite3_errmsg(db_));
    REQUIRE(sqlite3_prepare_v2(db_, sql, -1, &stmt, nullptr) == SQLITE_OK);
    for (std::size_t i = 0; i < params.size(); ++i) {
      REQUIRE(sqlite3_bind_text(stmt, static_cast<int>(i + 1), params[i].c_str(), -1, SQLITE_TRANSIENT) ==
              SQLITE_OK);
    }
    return stmt;
  }
  sqlite3* db_ = nullptr;
};

void swap_sealed(const fs::path& vault, const std::string& customer_a, const std::string& field_a,
                 const std::string& customer_b, const std::string& field_b) {
  Sqlite db(vault);
  const char* select = "SELECT sealed FROM fields WHERE customer = ? AND field = ?";
  const char* update = "UPDATE fields SET sealed = ? WHERE customer = ? AND field = ?";
  std::string a = db.blob(select, {customer_a, field_a});
  std::string b = db.blob(select, {customer_b, field_b});
  REQUIRE(a != b);
  REQUIRE(db.update(update, b, {customer_a, field_a}) == 1);
  REQUIRE(db.update(update, a, {customer_b, field_b}) == 1);
}

std::string service_read(const Cli& cli, const std::string& customer, Output& o) {
  o = cli.run({"read", customer, "--purpose", "service", "--as", "support-desk", "--json"});
  return o.out;
}

}  // namespace

TEST_CASE("init creates a vault whose policy show prints the policy it was given") {
  Cli cli;
  nlohmann::json policy = policy_fixture();
  Output init = cli.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
  REQUIRE(init.code == 0);
  std::string counts = std::to_string(policy["purposes"].size()) + " purposes, " +
                       std::to_string(policy["accessors"].size()) + " accessors, " +
                       std::to_string(policy["fields"].size()) + " fields";
  CHECK(init.out == "created " + cli.vault().string() + " (policy: " + counts + ")\n");
  CHECK(fs::exists(cli.vault()));

  Output json = cli.run({"policy", "show", "--json"});
  REQUIRE(json.code == 0);
  nlohmann::json shown = nlohmann::json::parse(json.out);
  for (const char* section : {"purposes", "accessors"}) {
    REQUIRE(shown[section].size() == policy[section].size());
    for (std::size_t i = 0; i < policy[section].size(); ++i)
      CHECK(shown[section][i]["id"] == policy[section][i]["id"]);
  }
  REQUIRE(shown["fields"].size() == policy["fields"].size());
  for (std::size_t i = 0; i < policy["fields"].size(); ++i) {
    CHECK(shown["fields"][i]["name"] == policy["fields"][i]["name"]);
    CHECK(shown["fields"][i]["access"] == policy["fields"][i]["access"]);
  }

  Output human = cli.run({"policy", "show"});
  REQUIRE(human.code == 0);
  for (const auto& p : policy["purposes"])
    CHECK(human.out.find(p["id"].get<std::string>()) != std::string::npos);
  for (const auto& a : policy["accessors"])
    CHECK(human.out.find(a["id"].get<std::string>()) != std::string::npos);
  for (const auto& f : policy["fields"])
    CHECK(human.out.find(f["name"].get<std::string>()) != std::string::npos);
  CHECK(human.out.find(policy["controller"]["name"].get<std::string>()) != std::string::npos);
}

TEST_CASE("init refuses an existing vault with exit 2 and leaves it usable") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  Output again =
      cli.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"}, "another one");
  CHECK(again.code == 2);
  CHECK(again.out.empty());
  CHECK(again.err.find("consentry: error: ") == 0);
  CHECK(again.err.find(cli.vault().string()) != std::string::npos);
  Output o;
  service_read(cli, "C-1001", o);
  CHECK(o.code == 0);
}

TEST_CASE("policy check accepts a good policy and names the JSON path of a bad one") {
  TempDir scratch;
  nlohmann::json policy = policy_fixture();
  std::string good = (kData / "policy.json").string();
  Output ok = run_cli(scratch.path(), {"policy", "check", good}, {});
  CHECK(ok.code == 0);
  CHECK(ok.out == good + ": valid (" + std::to_string(policy["purposes"].size()) + " purposes, " +
                      std::to_string(policy["accessors"].size()) + " accessors, " +
                      std::to_string(policy["fields"].size()) + " fields)\n");

  // The bad fixture is the good policy with one form replaced; find its JSON path from the data.
  nlohmann::json bad_policy = nlohmann::json::parse(file_bytes(kData / "bad_form_policy.json"));
  std::string path;
  for (std::size_t i = 0; i < bad_policy["fields"].size(); ++i) {
    for (const auto& [purpose, form] : bad_policy["fields"][i]["access"].items()) {
      if (form != policy["fields"][i]["access"][purpose])
        path = "$.fields[" + std::to_string(i) + "].access." + purpose;
    }
  }
  REQUIRE(!path.empty());
  std::string bad = (kData / "bad_form_policy.json").string();
  Output rejected = run_cli(scratch.path(), {"policy", "check", bad}, {});
  CHECK(rejected.code == 2);
  CHECK(rejected.out.empty());
  CHECK(rejected.err.find("consentry: error: ") == 0);
  CHECK(rejected.err.find(path) != std::string::npos);
  CHECK(rejected.err.find(bad) != std::string::npos);

  Output truncated =
      run_cli(scratch.path(), {"policy", "check", (kData / "truncated_policy.json").string()}, {});
  CHECK(truncated.code == 2);
  CHECK(truncated.err.find("truncated_policy.json") != std::string::npos);

  Output missing = run_cli(scratch.path(), {"policy", "check", (scratch.path() / "none.json").string()}, {});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("none.json") != std::string::npos);
}

TEST_CASE("import of JSONL and CSV files is read back in the exact JSON shape") {
  Cli cli;
  cli.init();
  Output jsonl = cli.run({"import", (kData / "customers.jsonl").string()});
  REQUIRE(jsonl.code == 0);
  Customers from_jsonl = read_jsonl(kData / "customers.jsonl");
  std::size_t values = 0;
  for (const auto& [customer, fields] : from_jsonl) values += fields.size();
  CHECK(jsonl.out == "imported " + std::to_string(from_jsonl.size()) + " records (" + std::to_string(values) +
                         " values) from " + (kData / "customers.jsonl").string() + "\n");
  Output csv = cli.run({"import", (kData / "customers.csv").string()});
  REQUIRE(csv.code == 0);
  CHECK(csv.out.find("imported ") == 0);

  Customers all = from_jsonl;
  all.merge(read_csv(kData / "customers.csv"));
  REQUIRE(all.size() >= 4);
  const std::map<std::string, std::string> forms = {
      {"email", "clear"}, {"birth_date", "clear"}, {"phone", "mask:last4"}, {"credit_score", "clear"}};
  for (const auto& [id, fields] : all) {
    const std::string& customer = id;  // INFO and CAPTURE cannot name a structured binding in clang 14
    CAPTURE(customer);
    Output o;
    service_read(cli, customer, o);
    REQUIRE(o.code == 0);
    ojson expected_fields = ojson::object();
    for (const std::string& name : fields_for("service")) {
      auto it = fields.find(name);
      if (it == fields.end()) {
        expected_fields[name] = {{"absent", true}};
      } else {
        std::string shown = forms.at(name) == "mask:last4" ? mask_last(it->second, 4) : it->second;
        expected_fields[name] = {{"value", shown}, {"form", forms.at(name)}};
      }
    }
    ojson expected = {{"customer", customer},
                      {"purpose", "service"},
                      {"accessor", "support-desk"},
                      {"fields", expected_fields}};
    CHECK(ojson::parse(o.out) == expected);
    CHECK(o.out.back() == '\n');
  }

  // --fields narrows and orders the view; the human table shows the same values.
  const std::string customer = all.begin()->first;
  Output narrow = cli.run({"read", customer, "--purpose", "service", "--as", "support-desk", "--fields",
                           "birth_date,email", "--json"});
  REQUIRE(narrow.code == 0);
  ojson n = ojson::parse(narrow.out);
  REQUIRE(n["fields"].size() == 2);
  CHECK(n["fields"].begin().key() == "birth_date");
  CHECK(n["fields"]["email"]["value"] == all.at(customer).at("email"));

  Output table = cli.run({"read", customer, "--purpose", "service", "--as", "support-desk"});
  REQUIRE(table.code == 0);
  CHECK(table.out.find(all.at(customer).at("email")) != std::string::npos);
  CHECK(table.out.find("clear") != std::string::npos);
}

TEST_CASE("import --source labels records so that a field limited to that source accepts them") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  // credit_score accepts only the credit bureau: without --source the file is refused.
  Output unlabelled = cli.run({"import", (kData / "credit_scores.csv").string()});
  CHECK(unlabelled.code == 3);
  Output labelled = cli.run({"import", (kData / "credit_scores.csv").string(), "--source", "credit-bureau"});
  REQUIRE(labelled.code == 0);
  Customers scores = read_csv(kData / "credit_scores.csv");
  for (const auto& [customer, fields] : scores) {
    Output o = cli.run({"read", customer, "--purpose", "service", "--as", "support-desk", "--fields",
                        "credit_score", "--json"});
    REQUIRE(o.code == 0);
    CHECK(ojson::parse(o.out)["fields"]["credit_score"]["value"] == fields.at("credit_score"));
  }
}

TEST_CASE("an import with a bad line writes nothing and names the line") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  Customers before = read_jsonl(kData / "customers.jsonl");
  Customers bad = read_jsonl(kData / "bad_email.jsonl");
  std::string bad_file = (kData / "bad_email.jsonl").string();

  Output o = cli.run({"import", bad_file});
  CHECK(o.code == 2);
  CHECK(o.out.empty());
  CHECK(o.err.find(bad_file + ":3:") != std::string::npos);
  CHECK(o.err.find("email") != std::string::npos);

  for (const auto& [id, fields] : bad) {
    const std::string& customer = id;
    CAPTURE(customer);
    Output r;
    service_read(cli, customer, r);
    if (before.count(customer)) {
      // A customer already in the vault keeps the values they had before the failed import.
      REQUIRE(r.code == 0);
      CHECK(ojson::parse(r.out)["fields"]["email"]["value"] == before.at(customer).at("email"));
    } else {
      CHECK(r.code == 5);
      CHECK(r.out.empty());
    }
  }
}

TEST_CASE("import rejects a missing file with exit 2 and an unknown extension with exit 1") {
  Cli cli;
  cli.init();
  Output missing = cli.run({"import", (cli.dir() / "nowhere.jsonl").string()});
  CHECK(missing.code == 2);
  CHECK(missing.err.find("nowhere.jsonl") != std::string::npos);

  fs::path odd = cli.dir() / "customers.txt";
  fs::copy_file(kData / "customers.jsonl", odd);
  CHECK(cli.run({"import", odd.string()}).code == 1);
  Output forced = cli.run({"import", odd.string(), "--format", "jsonl"});
  CHECK(forced.code == 0);
}

TEST_CASE("a consent grant allows a read and a withdrawal denies it again") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  const std::string customer = "C-1001";
  const std::string email = read_jsonl(kData / "customers.jsonl").at(customer).at("email");
  const std::vector<std::string> read = {"read",  customer,          "--purpose", "marketing.email",
                                         "--as",  "email-campaigns", "--fields",  "email",
                                         "--json"};

  Output before = cli.run(read);
  CHECK(before.code == 3);
  CHECK(ojson::parse(before.out)["fields"]["email"] == ojson{{"denied", "no_consent"}});
  CHECK(before.out.find(email) == std::string::npos);

  Output grant = cli.run({"consent", "grant", customer, "marketing.email", "--notice", "privacy-2025-03"});
  REQUIRE(grant.code == 0);
  CHECK(grant.out.find("granted marketing.email for " + customer + " (expires ") == 0);

  Output allowed = cli.run(read);
  CHECK(allowed.code == 0);
  CHECK(ojson::parse(allowed.out)["fields"]["email"] == ojson{{"value", email}, {"form", "clear"}});

  Output withdraw = cli.run({"consent", "withdraw", customer, "marketing.email", "--channel", "web"});
  REQUIRE(withdraw.code == 0);
  CHECK(withdraw.out == "withdrew marketing.email for " + customer + "\n");

  Output denied = cli.run(read);
  CHECK(denied.code == 3);
  CHECK(ojson::parse(denied.out)["fields"]["email"] == ojson{{"denied", "withdrawn"}});
  CHECK(denied.out.find(email) == std::string::npos);

  Output table = cli.run(
      {"read", customer, "--purpose", "marketing.email", "--as", "email-campaigns", "--fields", "email"});
  CHECK(table.code == 3);
  CHECK(table.out.find("denied: withdrawn") != std::string::npos);
}

TEST_CASE("consent show lists the state of every purpose and the whole history") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  REQUIRE(cli.run({"consent", "grant", "C-1001", "marketing.email", "--channel", "web", "--notice", "n-1"})
              .code == 0);
  REQUIRE(cli.run({"consent", "withdraw", "C-1001", "marketing.email"}).code == 0);
  Output object = cli.run({"consent", "object", "C-1001", "analytics"});
  REQUIRE(object.code == 0);
  CHECK(object.out == "objected to analytics for C-1001\n");

  Output o = cli.run({"consent", "show", "C-1001", "--json"});
  REQUIRE(o.code == 0);
  ojson shown = ojson::parse(o.out);
  CHECK(shown["customer"] == "C-1001");
  CHECK(shown["purposes"].size() == policy_fixture()["purposes"].size());
  CHECK(shown["purposes"]["marketing.email"]["status"] == "withdrawn");
  CHECK(shown["purposes"]["marketing.email"]["basis"] == "consent");
  CHECK(shown["purposes"]["analytics"]["status"] == "objected");
  REQUIRE(shown["history"].size() == 3);
  CHECK(shown["history"][0]["action"] == "grant");
  CHECK(shown["history"][0]["channel"] == "web");
  CHECK(shown["history"][0]["notice"] == "n-1");
  CHECK(shown["history"][1]["channel"] == "cli");
  CHECK(shown["history"][0]["seq"] < shown["history"][1]["seq"]);

  Output human = cli.run({"consent", "show", "C-1001"});
  REQUIRE(human.code == 0);
  CHECK(human.out.find("withdrawn") != std::string::npos);
  CHECK(human.out.find("n-1") != std::string::npos);

  CHECK(cli.run({"consent", "show", "C-0000"}).code == 5);
  CHECK(cli.run({"consent", "grant", "C-1001", "no.such.purpose"}).code == 2);
}

TEST_CASE("reading as an accessor not registered for the purpose exits 3") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  Output o = cli.run({"read", "C-1001", "--purpose", "service", "--as", "bi-dashboard", "--json"});
  CHECK(o.code == 3);
  CHECK(o.out.empty());
  CHECK(o.err.find("bi-dashboard") != std::string::npos);
  CHECK(leaked_value(o.out).empty());
}

TEST_CASE("reading an unknown customer exits 5") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  Output o;
  service_read(cli, "C-0000", o);
  CHECK(o.code == 5);
  CHECK(o.out.empty());
  CHECK(o.err.find("C-0000") != std::string::npos);
}

TEST_CASE("a wrong passphrase exits 4 and prints nothing on stdout") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  Output o =
      cli.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk"}, "not the passphrase");
  CHECK(o.code == 4);
  CHECK(o.out.empty());
  CHECK(o.err.find("consentry: error: ") == 0);
  CHECK(cli.run({"policy", "show"}, "not the passphrase").code == 4);
}

TEST_CASE("swapping the sealed values of two fields is detected and reveals neither") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  swap_sealed(cli.vault(), "C-1001", "email", "C-1001", "phone");
  Output o =
      cli.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email,phone"});
  CHECK(o.code == 4);
  CHECK(o.out.empty());
  CHECK(leaked_value(o.out + o.err).empty());
}

TEST_CASE("swapping the sealed values of two customers is detected and reveals neither") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  swap_sealed(cli.vault(), "C-1001", "email", "C-1002", "email");
  for (const char* customer : {"C-1001", "C-1002"}) {
    Output o;
    service_read(cli, customer, o);
    CHECK(o.code == 4);
    CHECK(o.out.empty());
    CHECK(leaked_value(o.out + o.err).empty());
  }
}

TEST_CASE("a data key copied from another customer is detected") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  {
    Sqlite db(cli.vault());
    std::string wrapped = db.blob("SELECT wrapped FROM data_keys WHERE customer = ?", {"C-1001"});
    REQUIRE(db.update("UPDATE data_keys SET wrapped = ? WHERE customer = ?", wrapped, {"C-1002"}) == 1);
  }
  Output o;
  service_read(cli, "C-1002", o);
  CHECK(o.code == 4);
  CHECK(o.out.empty());
  // The customer whose key was copied is untouched.
  service_read(cli, "C-1001", o);
  CHECK(o.code == 0);
}

TEST_CASE("after import neither the vault file nor its WAL holds an imported value") {
  Cli cli;
  cli.init();
  cli.import("customers.jsonl");
  cli.import("customers.csv");
  REQUIRE(!imported_values().empty());
  std::size_t scanned = 0;
  for (const char* suffix : {"", "-wal", "-journal", "-shm"}) {
    fs::path file = cli.vault().string() + suffix;
    if (!fs::exists(file)) continue;
    std::string bytes = file_bytes(file);
    scanned += bytes.size();
    CAPTURE(file);
    CHECK_MESSAGE(leaked_value(bytes).empty(), "an imported value is stored in clear");
  }
  CHECK(scanned > 0);
}

TEST_CASE("a missing vault option is a usage error and a missing vault file is not found") {
  Cli cli;
  Output o = cli.run_env({"read", "C-1001", "--purpose", "service", "--as", "support-desk"},
                         {{"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  CHECK(o.code == 1);
  CHECK(o.err.find("--vault") != std::string::npos);
  Output missing = cli.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk"});
  CHECK(missing.code == 5);
  CHECK(!fs::exists(cli.vault()));
  // --vault on the command line names the vault too, before or after the subcommand.
  cli.init();
  cli.import("customers.jsonl");
  for (bool before : {true, false}) {
    std::vector<std::string> args = {"policy", "show"};
    if (before) {
      args.insert(args.begin(), {"--vault", cli.vault().string()});
    } else {
      args.insert(args.end(), {"--vault", cli.vault().string()});
    }
    CHECK(cli.run_env(args, {{"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}}).code == 0);
  }
}

TEST_CASE("without CONSENTRY_PASSPHRASE and no terminal the command exits 1") {
  Cli cli;
  cli.init();
  Output o = cli.run_env({"policy", "show"}, {{"CONSENTRY_VAULT", cli.vault().string()}});
  CHECK(o.code == 1);
  CHECK(o.out.empty());
  CHECK(o.err == "consentry: error: no passphrase: set CONSENTRY_PASSPHRASE\n");
  Output init = cli.run_env({"init", "--policy", (kData / "policy.json").string()},
                            {{"CONSENTRY_VAULT", (cli.dir() / "second.vault").string()}});
  CHECK(init.code == 1);
  CHECK(!fs::exists(cli.dir() / "second.vault"));
}

TEST_CASE("usage errors exit 1 and --help works on every subcommand") {
  Cli cli;
  CHECK(cli.run({}).code == 1);
  CHECK(cli.run({"frobnicate"}).code == 1);
  CHECK(cli.run({"read", "C-1001"}).code == 1);
  CHECK(cli.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "feeble"}).code == 1);
  const std::vector<std::vector<std::string>> commands = {
      {},         {"init"},    {"policy"},           {"policy", "check"}, {"policy", "show"},
      {"import"}, {"consent"}, {"consent", "grant"}, {"consent", "show"}, {"read"},
  };
  for (auto args : commands) {
    args.push_back("--help");
    CAPTURE(args.size());
    Output o = cli.run(args);
    CHECK(o.code == 0);
    CHECK(o.out.find("Usage:") != std::string::npos);
  }
}
