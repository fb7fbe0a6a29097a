// cli_newuser_test.cpp: the consentry command as a new user meets it, run as a separate process:
// consent for an unknown customer, imports from stdin and of a customer's export, plain FF1
// values, a noisy count said to be noisy, what a retirement means for backups per kind of key,
// --version, `help COMMAND`, suggestions for mistyped words, and the environment and exit codes
// in --help.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/cli_vault_dir.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::Env;
using consentry::test::file_bytes;
using consentry::test::VaultDir;

const fs::path kData = consentry::test::kCliData;
constexpr const char* kNewPassphrase = "a new passphrase for the retirement";

/// field_names lists the names of the fields of a JSON export.
std::vector<std::string> field_names(const std::string& export_text) {
  std::vector<std::string> names;
  const nlohmann::json exported = nlohmann::json::parse(export_text);  // kept alive for the loop
  for (const auto& f : exported.at("fields")) names.push_back(f.at("name").get<std::string>());
  return names;
}

bool holds(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

// ---- consent for a customer the vault does not hold ----

TEST_CASE("consent grant, withdraw and object for an unknown customer exit 5 unless --create") {
  VaultDir v;
  v.init();
  v.import();
  const std::vector<std::vector<std::string>> events = {
      {"grant", "marketing.email"}, {"withdraw", "marketing.email"}, {"object", "analytics"}};
  for (const std::vector<std::string>& event : events) {
    CAPTURE(event[0]);
    const CliOutput refused = v.run({"consent", event[0], "C-4O4-TYPO", event[1]});
    CHECK(refused.code == 5);
    CHECK(refused.out.empty());
    CHECK(refused.err.find("--create") != std::string::npos);
    CHECK(refused.err.find("C-4O4-TYPO") == std::string::npos);
  }
  // Nothing was recorded: the customer is still unknown.
  CHECK(v.run({"consent", "show", "C-4O4-TYPO"}).code == 5);

  // A known customer needs no --create; a new one is recorded with it.
  CHECK(v.run({"consent", "grant", "C-1001", "marketing.email"}).code == 0);
  const CliOutput created = v.run({"consent", "grant", "C-2001", "marketing.email", "--create"});
  INFO("stderr: " << created.err);
  CHECK(created.code == 0);
  CHECK(created.out.find("granted marketing.email for C-2001") == 0);
  CHECK(v.run({"consent", "show", "C-2001"}).code == 0);
  // Known now, through its consent events.
  CHECK(v.run({"consent", "withdraw", "C-2001", "marketing.email"}).code == 0);
  CHECK(v.run({"consent", "grant", "--help"}).out.find("--create") != std::string::npos);
}

// ---- import from stdin, and of a customer's export ----

TEST_CASE("import - reads JSON Lines, or another format named by --format, from standard input") {
  VaultDir v;
  v.init();
  const std::string lines = file_bytes(kData / "customers.jsonl");
  const CliOutput o = v.run({"import", "-"}, lines);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("from stdin") != std::string::npos);
  CHECK(v.run({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email"}).code ==
        0);

  const CliOutput csv = v.run({"import", "-", "--format", "csv"}, file_bytes(kData / "customers.csv"));
  INFO("stderr: " << csv.err);
  CHECK(csv.code == 0);
  // Errors name stdin and the line.
  const CliOutput bad = v.run({"import", "-"}, "{\"id\": \"Q-1\", \"fields\": {}}\nnot json\n");
  CHECK(bad.code == 2);
  CHECK(bad.err.find("stdin:2:") != std::string::npos);
  CHECK(v.run({"import", "--help"}).out.find("standard input") != std::string::npos);
}

TEST_CASE(
    "an export imports without --format export, from a file or stdin, skipping inferences without "
    "consent to profiling") {
  VaultDir v;
  v.init();
  v.import();
  v.must({"consent", "grant", "C-1001", "profiling"});
  v.must({"derive", "C-1001", "expecting_child", "true"});
  v.must({"export", "C-1001", "--format", "json", "-o", v.path("ann.json").string()});
  const std::vector<std::string> exported = field_names(file_bytes(v.path("ann.json")));
  REQUIRE(holds(exported, "expecting_child"));
  REQUIRE(exported.size() >= 2);

  // Another vault, where the customer has not consented to profiling: the rest is imported and
  // the inferred field named as skipped. A dry run names it too, and writes nothing.
  v.init("other.vault");
  const CliOutput dry =
      v.run({"import", v.path("ann.json").string(), "--dry-run"}, std::nullopt, "other.vault");
  INFO("stderr: " << dry.err);
  REQUIRE(dry.code == 0);
  CHECK(dry.out.find("would skip inferred field expecting_child") != std::string::npos);
  CHECK(dry.out.find("nothing was written") != std::string::npos);
  CHECK(v.run({"export", "C-1001", "--format", "json"}, std::nullopt, "other.vault").code != 0);
  const CliOutput o = v.run({"import", v.path("ann.json").string()}, std::nullopt, "other.vault");
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("skipped inferred field expecting_child") != std::string::npos);
  CHECK(o.out.find("profiling") != std::string::npos);
  CHECK(o.err.find("not valid JSON") == std::string::npos);
  const CliOutput again = v.run({"export", "C-1001", "--format", "json"}, std::nullopt, "other.vault");
  REQUIRE(again.code == 0);
  const std::vector<std::string> imported = field_names(again.out);
  CHECK(imported.size() == exported.size() - 1);
  CHECK_FALSE(holds(imported, "expecting_child"));

  // With consent to profiling the inference comes too, and nothing is skipped; from stdin as well.
  v.init("third.vault");
  REQUIRE(v.run({"consent", "grant", "C-1001", "profiling", "--create"}, std::nullopt, "third.vault").code ==
          0);
  const CliOutput piped = v.run({"import", "-"}, file_bytes(v.path("ann.json")), "third.vault");
  INFO("stderr: " << piped.err);
  REQUIRE(piped.code == 0);
  CHECK(piped.out.find("skipped") == std::string::npos);
  const CliOutput third = v.run({"export", "C-1001", "--format", "json"}, std::nullopt, "third.vault");
  REQUIRE(third.code == 0);
  CHECK(field_names(third.out) == exported);

  // An export on one line is recognised too.
  v.init("fourth.vault");
  const std::string one_line = nlohmann::json::parse(file_bytes(v.path("ann.json"))).dump() + "\n";
  const CliOutput compact = v.run({"import", "-"}, one_line, "fourth.vault");
  INFO("stderr: " << compact.err);
  CHECK(compact.code == 0);
  CHECK(compact.out.find("skipped inferred field expecting_child") != std::string::npos);
}

TEST_CASE("a JSON Lines file that is neither records nor an export is still refused naming line 1") {
  VaultDir v;
  v.init();
  const fs::path broken = v.path("broken.json");
  consentry::test::write_file(broken, "{\n  \"consentry_export\": 1,\n  oops\n}\n");
  const CliOutput o = v.run({"import", broken.string()});
  CHECK(o.code == 2);
  CHECK(o.err.find(broken.string() + ":1:") != std::string::npos);
}

// ---- FF1 with plain digit strings ----

TEST_CASE("ff1 --radix up to 36 takes a plain string and answers in kind, and numerals still work") {
  VaultDir v;
  const std::vector<std::string> enc{"ff1",     "encrypt", "--key", "2B7E151628AED2A6ABF7158809CF4F3C",
                                     "--radix", "10"};
  std::vector<std::string> dec = enc;
  dec[1] = "decrypt";
  // NIST SP 800-38G sample 1, written plainly and as numerals.
  const CliOutput plain = v.run_env(enc, {}, "0123456789\n0 1 2 3 4 5 6 7 8 9\n");
  INFO("stderr: " << plain.err);
  CHECK(plain.code == 0);
  CHECK(plain.out == "2433477484\n2 4 3 3 4 7 7 4 8 4\n");

  const CliOutput card = v.run_env(enc, {}, "4111111111111111\n");
  REQUIRE(card.code == 0);
  REQUIRE(card.out.size() == 17);
  CHECK(card.out.find_first_not_of("0123456789\n") == std::string::npos);
  CHECK(v.run_env(dec, {}, card.out).out == "4111111111111111\n");

  // Radix 16: digits, then lower-case letters; a character beyond the radix is refused by position.
  std::vector<std::string> hex = enc;
  hex.back() = "16";
  const CliOutput h = v.run_env(hex, {}, "3f9a0c\n3f9g0c\n");
  CHECK(h.code == 2);
  std::istringstream lines(h.out);
  std::string first, second;
  std::getline(lines, first);
  std::getline(lines, second);
  CHECK(first.size() == 6);
  CHECK(first.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(second.rfind("error: line 2: ", 0) == 0);
  CHECK(second.find("character 4") != std::string::npos);

  // Above radix 36 a value is numerals only.
  std::vector<std::string> wide = enc;
  wide.back() = "100";
  const CliOutput w = v.run_env(wide, {}, "4111\n");
  CHECK(w.code == 2);
  CHECK(v.run_env({"ff1", "encrypt", "--help"}, {}).out.find("4111111111111111") != std::string::npos);
}

// ---- stats says its answer is noisy ----

TEST_CASE("stats says in its text output that the answer is noisy, with the standard deviation") {
  VaultDir v;
  v.init();
  v.import();
  const CliOutput o = v.run({"stats", "count", "birth_date", "--purpose", "analytics", "--epsilon", "0.5"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("noisy") != std::string::npos);
  // Discrete Laplace noise of scale 1/0.5 = 2: a standard deviation near 2 * sqrt(2).
  const std::size_t at = o.out.find("standard deviation ");
  REQUIRE(at != std::string::npos);
  const double stddev = std::stod(o.out.substr(at + 19));
  CHECK(stddev > 2.5);
  CHECK(stddev < 3.0);
  CHECK(o.out.find(" for the count") != std::string::npos);
  CHECK(o.out.find("negative") != std::string::npos);
}

// ---- what a retirement means for backups ----

TEST_CASE("keys rotate --retire says earlier backups still open with the old passphrase, and they do") {
  VaultDir v;
  v.init();
  v.import();
  std::filesystem::copy_file(v.path("crm.vault"), v.path("backup.vault"));
  Env env = v.env();
  env["CONSENTRY_NEW_PASSPHRASE"] = kNewPassphrase;
  const CliOutput o = v.run_env({"keys", "rotate", "--retire", "--kdf", "minimum"}, env);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("can no longer be decrypted") == std::string::npos);
  CHECK(o.out.find("still open with the old passphrase") != std::string::npos);
  // As it says: the backup opens with the old passphrase.
  CHECK(v.run({"keys", "status"}, std::nullopt, "backup.vault").code == 0);
  CHECK(v.run({"keys", "rotate", "--help"}).out.find("old passphrase") != std::string::npos);
}

TEST_CASE("keys rotate --retire on a key-file vault says earlier backups can no longer be decrypted") {
  VaultDir v;
  v.use_key_file();
  v.init();
  v.import();
  std::filesystem::copy_file(v.path("crm.vault"), v.path("backup.vault"));
  const CliOutput o = v.run({"keys", "rotate", "--retire"});
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(o.out.find("can no longer be decrypted") != std::string::npos);
  CHECK(v.run({"keys", "status"}, std::nullopt, "backup.vault").code == 4);
}

// ---- finding one's way ----

TEST_CASE("consentry --version prints the version") {
  VaultDir v;
  const CliOutput o = v.run_env({"--version"}, {});
  CHECK(o.code == 0);
  CHECK(o.out.rfind("consentry ", 0) == 0);
  CHECK(o.out.find('.') != std::string::npos);
}

TEST_CASE("consentry help [COMMAND] prints the help of the command") {
  VaultDir v;
  const CliOutput top = v.run_env({"help"}, {});
  CHECK(top.code == 0);
  CHECK(top.out.find("Usage:") != std::string::npos);
  const CliOutput exp = v.run_env({"help", "export"}, {});
  CHECK(exp.code == 0);
  CHECK(exp.out.find("Usage:") != std::string::npos);
  CHECK(exp.out.find("--format") != std::string::npos);
  const CliOutput rotate = v.run_env({"help", "keys", "rotate"}, {});
  CHECK(rotate.code == 0);
  CHECK(rotate.out.find("--retire") != std::string::npos);
  const CliOutput unknown = v.run_env({"help", "exprot"}, {});
  CHECK(unknown.code == 1);
  CHECK(unknown.err.find("did you mean 'export'?") != std::string::npos);
}

TEST_CASE("a mistyped subcommand or option gets a suggestion, not 'A subcommand is required'") {
  VaultDir v;
  const CliOutput command = v.run_env({"exprot", "C-1001"}, {});
  CHECK(command.code == 1);
  CHECK(command.err.find("'exprot' is not a consentry command; did you mean 'export'?") != std::string::npos);
  CHECK(command.err.find("A subcommand is required") == std::string::npos);

  const CliOutput nested = v.run_env({"keys", "rotat"}, {});
  CHECK(nested.code == 1);
  CHECK(nested.err.find("did you mean 'rotate'?") != std::string::npos);

  const CliOutput option =
      v.run_env({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--feilds", "email"}, {});
  CHECK(option.code == 1);
  CHECK(option.err.find("did you mean '--fields'?") != std::string::npos);

  const CliOutput global = v.run_env({"--vualt", "x.vault", "keys", "status"}, {});
  CHECK(global.code == 1);
  CHECK(global.err.find("did you mean '--vault'?") != std::string::npos);

  // Nothing near: no suggestion, still a usage error naming the word.
  const CliOutput far = v.run_env({"zzzzzzzz"}, {});
  CHECK(far.code == 1);
  CHECK(far.err.find("did you mean") == std::string::npos);
  CHECK(far.err.find("'zzzzzzzz' is not a consentry command") != std::string::npos);
}

TEST_CASE("consentry --help names the environment variables and the exit codes") {
  VaultDir v;
  const CliOutput o = v.run_env({"--help"}, {});
  CHECK(o.code == 0);
  for (const char* text :
       {"CONSENTRY_VAULT", "CONSENTRY_KEY_FILE", "CONSENTRY_PASSPHRASE", "CONSENTRY_NEW_PASSPHRASE",
        "CONSENTRY_ACTOR", "Exit codes", "5  not found", "consentry help COMMAND"}) {
    CAPTURE(text);
    CHECK(o.out.find(text) != std::string::npos);
  }
}
