// cli_anonymise_columns_test.cpp: `consentry anonymise --column COL=FORM` run as a separate
// process: per-column forms alone or before the k-anonymity step, the key file, the report, and
// exit codes with nothing written on failure.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/anonymise/transform.hpp"
#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::file_bytes;
using consentry::test::write_file;

const fs::path kFixtures = fs::path(CONSENTRY_TEST_DATA) / "anonymise";

constexpr std::string_view kPeople =
    "email,phone,note,city\n"
    "ann@example.com,+447700900123,likes tea,London\n"
    "bob@example.org,+4930901820,,Paris\n";

// Cells of kPeople and hand.csv that no message may quote.
const std::vector<std::string> kCells = {"ann@example.com", "bob@example.org", "+447700900123", "+4930901820",
                                         "likes tea",       "London",          "Paris",         "semicolons"};

/// key_hex is the key of the tests, 32 bytes of 'k', as hex (key.hex; key.bin holds it raw).
std::string key_hex() {
  std::string hex;
  for (int i = 0; i < 32; ++i) hex += "6b";  // 'k'
  return hex;
}

std::string pseudonym_of(std::string_view value) {
  return consentry::pseudonym(consentry::SecretBytes::copy_of(std::string(32, 'k')), value);
}

/// Scratch is a directory holding people.csv and the key files, to run the command in.
class Scratch {
 public:
  Scratch() {
    write_file(people(), kPeople);
    write_file(dir() / "key.hex", key_hex() + "\n");
    write_file(dir() / "key.bin", std::string(32, 'k'));
  }
  const fs::path& dir() const { return dir_.path(); }
  fs::path people() const { return dir_.path() / "people.csv"; }
  fs::path out() const { return dir_.path() / "release.csv"; }
  std::string key(const char* name = "key.hex") const { return (dir_.path() / name).string(); }
  CliOutput run(std::vector<std::string> args) const {
    args.insert(args.begin(), "anonymise");
    return consentry::test::run_consentry(dir_.path(), args, {});
  }
  bool no_output() const { return !fs::exists(out()) && !consentry::test::has_staged_temporary(out()); }

 private:
  consentry::test::TempDir dir_{"anonymise-columns-cli"};
};

void quotes_no_cell(const CliOutput& o) {
  for (const std::string& cell : kCells) {
    CAPTURE(cell);
    CHECK(o.err.find(cell) == std::string::npos);
  }
}

}  // namespace

TEST_CASE("anonymise --column alone writes the table with each column's form applied") {
  Scratch s;
  CliOutput o = s.run({"--input", s.people().string(), "--column", "email=pseudonym", "--column",
                       "phone=mask:last4", "--column", "note=redact", "--column", "city=replace:REDACTED",
                       "--key-file", s.key(), "-o", s.out().string()});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  const std::string expected = "email,phone,note,city\n" + pseudonym_of("ann@example.com") +
                               ",*********0123,,REDACTED\n" + pseudonym_of("bob@example.org") +
                               ",*******1820,,REDACTED\n";
  CHECK(file_bytes(s.out()) == expected);
  struct stat st {};
  REQUIRE(::stat(s.out().c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(o.out.empty());
  CHECK(o.err.find("applied 4 column operators to 2 rows, no k-anonymity step: email pseudonym, phone "
                   "mask:last4, note redact, city replace") != std::string::npos);
  quotes_no_cell(o);

  // A raw 32-byte key file is the same key; without -o the release goes to stdout.
  o = s.run({"--input", s.people().string(), "--column", "email=pseudonym", "--column", "phone=mask:last4",
             "--column", "note=redact", "--column", "city=replace:REDACTED", "--key-file", s.key("key.bin")});
  REQUIRE(o.code == 0);
  CHECK(o.out == expected);

  // --json: the report lists the operators (a replace form without its text).
  fs::remove(s.out());
  o = s.run({"--input", s.people().string(), "--column", "city=replace:REDACTED", "--column",
             "email=mask:email", "--column", "note=mask:first3", "-o", s.out().string(), "--json"});
  REQUIRE(o.code == 0);
  CHECK(file_bytes(s.out()) ==
        "email,phone,note,city\n"
        "***@example.com,+447700900123,lik******,REDACTED\n"
        "***@example.org,+4930901820,,REDACTED\n");
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("rows") == 2);
  CHECK(report.at("output") == s.out().string());
  CHECK(report.at("operators") == nlohmann::json::parse(R"([{"column": "city", "form": "replace"},
      {"column": "email", "form": "mask:email"}, {"column": "note", "form": "mask:first3"}])"));
}

TEST_CASE("anonymise --column applies the operators before the k-anonymity step") {
  Scratch s;
  const std::string hand = (kFixtures / "hand.csv").string();
  CliOutput o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "2", "--column", "note=replace:X",
                       "--column", "disease=mask:first1"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out ==
        "age;zip;note;disease\n"
        "20-24;47677;X;f**\n"
        "20-24;47678;X;c***\n"
        "20-24;47677;X;f**\n"
        "20-24;47678;X;h**\n"
        "25-29;47905;X;c***\n"
        "25-29;47906;X;f**\n"
        "25-29;47905;X;c***\n"
        "25-29;47906;X;h**\n");
  CHECK(o.err.find("column operators: note replace, disease mask:first1") != std::string::npos);
  CHECK(o.err.find("levels: age 1/2, zip 0/2") != std::string::npos);

  o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "2", "--column", "note=redact", "-o",
             s.out().string(), "--json"});
  REQUIRE(o.code == 0);
  const auto report = nlohmann::json::parse(o.out);
  CHECK(report.at("k") == 2);
  CHECK(report.at("operators") == nlohmann::json::parse(R"([{"column": "note", "form": "redact"}])"));

  // A quasi-identifier cannot also have an operator: the k-anonymity step generalises it.
  fs::remove(s.out());
  o = s.run({"--input", hand, "--quasi", "age,zip", "--k", "2", "--column", "age=generalise:bucket:10", "-o",
             s.out().string()});
  CHECK(o.code == 2);
  CHECK(o.err.find("column 'age' is a quasi-identifier and has a --column operator") != std::string::npos);
  CHECK(s.no_output());
}

TEST_CASE("anonymise --column refuses bad specs and cells with exit 2, naming no cell, writing nothing") {
  Scratch s;
  struct Case {
    std::vector<std::string> columns;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"email"}, "--column: column operator 1: no '='"},
      {{"email=redact", "=clear"}, "column operator 2: the column before '=' is empty"},
      {{"email=redact", "email=clear"}, "column operator 2 (column 'email'): the column is given twice"},
      {{"email=blur"}, "column operator 1 (column 'email'): the text after '=' is not a form"},
      {{"email=London"}, "is not a form"},
      {{"city=replace:"}, "replace:TEXT needs 1 to 64 characters"},
      {{"nope=redact"}, "people.csv:1: no column 'nope'"},
      {{"city=generalise:year"}, "people.csv:2: column 'city': generalise:year does not fit the cell"},
      {{"note=redact", "phone=mask:email"}, "people.csv:2: column 'phone': mask:email does not fit the cell"},
      {{"city=token"}, "--column city=token needs a key: give --key-file"},
      {{"city=redact", "email=pseudonym"}, "--column email=pseudonym needs a key: give --key-file"},
      {{"email=pseudonym:hmac-sha256"}, "needs a key: give --key-file"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--input", s.people().string(), "-o", s.out().string()};
    for (const std::string& col : c.columns) {
      args.push_back("--column");
      args.push_back(col);
    }
    CliOutput o = s.run(args);
    CAPTURE(c.message);
    INFO("stderr: " << o.err);
    CHECK(o.code == 2);
    CHECK(o.err.find(c.message) != std::string::npos);
    CHECK(s.no_output());
    quotes_no_cell(o);
  }
}

TEST_CASE("anonymise --key-file must hold 32 raw bytes or 64 hex digits") {
  Scratch s;
  write_file(s.dir() / "short.key", "6b6b6b");
  write_file(s.dir() / "bad.key", std::string(63, '6') + "x\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {s.key("short.key"), "a key file holds 32 raw bytes, or 64 hex digits"},
      {s.key("bad.key"), "is not hexadecimal at character 64"},
      {s.key("absent.key"), "absent.key: no such file"},
      {s.dir().string(), "a directory, not a key file"},
  };
  for (const auto& c : cases) {
    CliOutput o = s.run({"--input", s.people().string(), "--column", "email=pseudonym", "--key-file", c.first,
                         "-o", s.out().string()});
    CAPTURE(c.first);
    INFO("stderr: " << o.err);
    CHECK(o.code == 2);
    CHECK(o.err.find(c.second) != std::string::npos);
    CHECK(o.err.find("6b6b6b") == std::string::npos);
    CHECK(s.no_output());
  }
}

TEST_CASE("anonymise without --k or --column, or with k-anonymity options and no --k, is a usage error") {
  Scratch s;
  CliOutput o = s.run({"--input", s.people().string()});
  CHECK(o.code == 1);
  CHECK(o.err.find("--k is required") != std::string::npos);
  o = s.run({"--input", s.people().string(), "--column", "note=redact", "--quasi", "city"});
  CHECK(o.code == 1);
  CHECK(o.err.find("give --k too") != std::string::npos);
  // A --key-file that no operator needs is refused: it is not the vault's key file.
  o = s.run({"--input", s.people().string(), "--column", "note=redact", "--key-file", s.key()});
  CHECK(o.code == 1);
  CHECK(o.err.find("the vault's key file goes before the command") != std::string::npos);
  CHECK(s.no_output());

  o = consentry::test::run_consentry(s.dir(), {"anonymise", "--help"}, {});
  CHECK(o.code == 0);
  CHECK(o.out.find("--column") != std::string::npos);
  CHECK(o.out.find("--key-file") != std::string::npos);
  CHECK(o.out.find("mask:email") != std::string::npos);
}
