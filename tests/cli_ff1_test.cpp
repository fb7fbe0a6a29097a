// cli_ff1_test.cpp: `consentry ff1 encrypt|decrypt` run as a separate process with values on stdin:
// the NIST samples, error lines, exit codes, and keys and tweaks given badly.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::write_file;

/// run_ff1 runs the consentry binary with `args` and `input` as its stdin, with no CONSENTRY_
/// variable in its environment.
CliOutput run_ff1(const fs::path& scratch, const std::vector<std::string>& args, const std::string& input) {
  return consentry::test::run_consentry(scratch, args, {}, input);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

/// spaced writes "0123" as "0 1 2 3" (the --radix form of decimal digits).
std::string spaced(const std::string& digits) {
  std::string out;
  for (char c : digits) {
    if (!out.empty()) out.push_back(' ');
    out.push_back(c);
  }
  return out;
}

constexpr const char* kKey = "2B7E151628AED2A6ABF7158809CF4F3C";
constexpr const char* kBase36 = "0123456789abcdefghijklmnopqrstuvwxyz";

}  // namespace

TEST_CASE("consentry ff1 encrypts and decrypts the NIST samples read from stdin") {
  consentry::test::TempDir dir("ff1-cli");
  std::ifstream in(fs::path(CONSENTRY_TEST_DATA) / "ff1" / "nist_ff1_samples.json");
  const auto doc = nlohmann::json::parse(in);
  std::size_t checked = 0;
  for (const auto& sample : doc.at("samples")) {
    CAPTURE(sample.at("sample").get<int>());
    const std::string key = sample.at("key");
    const std::string tweak = sample.at("tweak");
    const std::string pt = sample.at("pt");
    const std::string ct = sample.at("ct");
    std::vector<std::string> domain;
    std::string pt_line, ct_line;
    if (sample.at("radix") == 10) {
      domain = {"--radix", "10"};
      pt_line = spaced(pt);
      ct_line = spaced(ct);
    } else {
      domain = {"--alphabet", kBase36};
      pt_line = pt;
      ct_line = ct;
    }
    auto args = [&](const char* op) {
      std::vector<std::string> a{"ff1", op, "--key", key, "--tweak", tweak};
      a.insert(a.end(), domain.begin(), domain.end());
      return a;
    };
    // Two lines: each value is processed on its own.
    const CliOutput enc = run_ff1(dir.path(), args("encrypt"), pt_line + "\n" + pt_line + "\n");
    CHECK(enc.code == 0);
    CHECK(enc.out == ct_line + "\n" + ct_line + "\n");
    CHECK(enc.err == "");
    const CliOutput dec = run_ff1(dir.path(), args("decrypt"), ct_line + "\n");
    CHECK(dec.code == 0);
    CHECK(dec.out == pt_line + "\n");
    ++checked;
  }
  CHECK(checked == 9);
}

TEST_CASE("consentry ff1 without --tweak uses the empty tweak, and takes the key from --key-file") {
  consentry::test::TempDir dir("ff1-cli");
  // NIST sample 1: empty tweak.
  const CliOutput a =
      run_ff1(dir.path(), {"ff1", "encrypt", "--key", kKey, "--radix", "10"}, "0 1 2 3 4 5 6 7 8 9\n");
  CHECK(a.code == 0);
  CHECK(a.out == "2 4 3 3 4 7 7 4 8 4\n");
  const fs::path key_file = dir.path() / "ff1.key";
  write_file(key_file, std::string(kKey) + "\n");
  const CliOutput b =
      run_ff1(dir.path(), {"ff1", "encrypt", "--key-file", key_file.string(), "--radix", "10"},
              "0 1 2 3 4 5 6 7 8 9");
  CHECK(b.code == 0);
  CHECK(b.out == a.out);  // a last line without a newline is a value too
  // The global vault options are ignored: no vault is opened.
  const CliOutput c = run_ff1(dir.path(),
                              {"--vault", (dir.path() / "missing.vault").string(), "ff1", "decrypt", "--key",
                               kKey, "--alphabet", "0123456789"},
                              "2433477484\r\n");
  CHECK(c.code == 0);
  CHECK(c.out == "0123456789\n");
  for (const CliOutput* o : {&a, &b, &c}) {
    CHECK(o->out.find(kKey) == std::string::npos);
    CHECK(o->err.find(kKey) == std::string::npos);
  }
}

TEST_CASE("consentry ff1 writes an error line for a refused value, goes on, and exits 2") {
  consentry::test::TempDir dir("ff1-cli");
  const std::vector<std::string> args{"ff1", "encrypt", "--key", kKey, "--tweak", "", "--radix", "10"};
  const std::string input =
      "0 1 2 3 4 5 6 7 8 9\n"   // fine
      "7 3 1\n"                 // too short for radix 10
      "4 4 4 4 4 10\n"          // numeral 6 out of range
      "1 2  3 4 5 6\n"          // two spaces
      "1 2 3 4 5 x\n"           // not a number
      "\n"                      // empty
      "0 1 2 3 4 5 6 7 8 9\n";  // fine again
  const CliOutput o = run_ff1(dir.path(), args, input);
  CHECK(o.code == 2);
  const auto lines = lines_of(o.out);
  REQUIRE(lines.size() == 7);
  CHECK(lines[0] == "2 4 3 3 4 7 7 4 8 4");
  CHECK(lines[6] == lines[0]);
  for (std::size_t i = 1; i <= 5; ++i) {
    CAPTURE(lines[i]);
    CHECK(lines[i].rfind("error: line " + std::to_string(i + 1) + ": ", 0) == 0);
  }
  CHECK(lines[1].find("at least 6") != std::string::npos);
  CHECK(lines[1].find("7 3 1") == std::string::npos);
  CHECK(lines[2].find("numeral 6") != std::string::npos);
  CHECK(lines[2].find("4 4 4") == std::string::npos);
  CHECK(lines[3].find("numeral 3") != std::string::npos);
  CHECK(lines[4].find("numeral 6") != std::string::npos);
  CHECK(lines[4].find('x') == std::string::npos);
  CHECK(o.err.find("rejected") != std::string::npos);

  // With an alphabet: the position of the foreign character, never the character.
  const CliOutput a = run_ff1(dir.path(), {"ff1", "decrypt", "--key", kKey, "--alphabet", "0123456789"},
                              "98765Z3210\n2433477484\n");
  CHECK(a.code == 2);
  const auto alines = lines_of(a.out);
  REQUIRE(alines.size() == 2);
  CHECK(alines[0].rfind("error: line 1: ", 0) == 0);
  CHECK(alines[0].find("character 6") != std::string::npos);
  CHECK(alines[0].find('Z') == std::string::npos);
  CHECK(alines[0].find("98765") == std::string::npos);
  CHECK(alines[1] == "0123456789");
}

TEST_CASE("consentry ff1 round-trips text over a non-ASCII alphabet") {
  consentry::test::TempDir dir("ff1-cli");
  const std::string alphabet = "αβγδεζηθικ";
  const std::vector<std::string> enc{"ff1",     "encrypt", "--key",      kKey,
                                     "--tweak", "0102",    "--alphabet", alphabet};
  std::vector<std::string> dec = enc;
  dec[1] = "decrypt";
  const std::string input = "αβγδεζηθ\nκκκκκκκκκκκκ\n";
  const CliOutput e = run_ff1(dir.path(), enc, input);
  REQUIRE(e.code == 0);
  CHECK(e.out != input);
  CHECK(lines_of(e.out).size() == 2);
  const CliOutput d = run_ff1(dir.path(), dec, e.out);
  CHECK(d.code == 0);
  CHECK(d.out == input);
}

TEST_CASE("consentry ff1 needs exactly one of --radix and --alphabet, and of --key and --key-file") {
  consentry::test::TempDir dir("ff1-cli");
  const std::string line = "0 1 2 3 4 5\n";
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"ff1", "encrypt", "--key", kKey},
           {"ff1", "encrypt", "--key", kKey, "--radix", "10", "--alphabet", "0123456789"},
           {"ff1", "encrypt", "--radix", "10"},
           {"ff1", "decrypt", "--key", kKey, "--key-file", "k", "--radix", "10"},
           {"ff1", "encrypt", "--key", kKey, "--radix", "ten"},
           {"ff1", "--key", kKey, "--radix", "10"},
       }) {
    const CliOutput o = run_ff1(dir.path(), args, line);
    CHECK(o.code == 1);
    CHECK(o.out == "");
  }
}

TEST_CASE("consentry ff1 refuses a bad key, tweak, radix or alphabet with exit 2 and no output") {
  consentry::test::TempDir dir("ff1-cli");
  const std::string line = "0 1 2 3 4 5\n";
  struct Case {
    std::vector<std::string> args;
    const char* names;
  };
  const std::string bad_file = (dir.path() / "none.key").string();
  for (const Case& c : std::vector<Case>{
           {{"--key", "2B7E151628AED2A6ABF7158809CF4F3", "--radix", "10"}, "--key"},         // odd
           {{"--key", "2B7E151628AED2A6ABF7158809CF4FZZ", "--radix", "10"}, "--key"},        // not hex
           {{"--key", "2B7E151628AED2A6ABF7158809CF4F", "--radix", "10"}, "15 bytes"},       // too short
           {{"--key", std::string(kKey) + "00", "--radix", "10"}, "17 bytes"},               // too long
           {{"--key", kKey, "--tweak", "abc", "--radix", "10"}, "--tweak"},                  // odd
           {{"--key", kKey, "--tweak", "zz", "--radix", "10"}, "--tweak"},                   // not hex
           {{"--key", kKey, "--tweak", std::string(514, 'a'), "--radix", "10"}, "--tweak"},  // 257 bytes
           {{"--key", kKey, "--radix", "1"}, "radix"},
           {{"--key", kKey, "--radix", "65537"}, "radix"},
           {{"--key", kKey, "--alphabet", "aa"}, "--alphabet"},
           {{"--key", kKey, "--alphabet", "a"}, "--alphabet"},
           {{"--key-file", bad_file, "--radix", "10"}, "key file"},
       }) {
    std::vector<std::string> args{"ff1", "encrypt"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    CAPTURE(c.names);
    const CliOutput o = run_ff1(dir.path(), args, line);
    CHECK(o.code == 2);
    CHECK(o.out == "");
    CHECK(o.err.find(c.names) != std::string::npos);
    CHECK(o.err.find("2B7E151628AED2A6") == std::string::npos);
  }
}

TEST_CASE("consentry ff1 --help explains the value formats and the key's visibility") {
  consentry::test::TempDir dir("ff1-cli");
  const CliOutput o = run_ff1(dir.path(), {"ff1", "encrypt", "--help"}, "");
  CHECK(o.code == 0);
  CHECK(o.out.find("--radix") != std::string::npos);
  CHECK(o.out.find("--alphabet") != std::string::npos);
  CHECK(o.out.find("process list") != std::string::npos);
  CHECK(o.out.find("--key-file") != std::string::npos);
  CHECK(o.out.find("error: line N") != std::string::npos);
}
