// cli_policy_wording_test.cpp: labels, translations, the default language and declared sources
// through `consentry policy check`, `policy show` and `policy diff`, run as separate processes.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";

using Output = consentry::test::CliOutput;

std::string read_text(const fs::path& file) {
  std::ifstream in(file);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool contains(const std::string& s, std::string_view what) {
  return s.find(what) != std::string::npos;
}

/// Session is a scratch directory with a vault made from tests/data/cli/policy.json.
class Session {
 public:
  Output run(const std::vector<std::string>& args) {
    return consentry::test::run_consentry(dir_.path(), args,
                                          {{"CONSENTRY_VAULT", (dir_.path() / "crm.vault").string()},
                                           {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  }

  /// policy writes the test policy with `what` replaced by `with` (each pair in turn), and gives
  /// the file's path.
  std::string policy(const std::string& name, const std::vector<std::pair<std::string, std::string>>& edits) {
    std::string text = read_text(kData / "policy.json");
    for (const auto& [what, with] : edits) {
      const auto at = text.find(what);
      REQUIRE(at != std::string::npos);
      text.replace(at, what.size(), with);
    }
    const fs::path file = dir_.path() / name;
    std::ofstream(file) << text;
    return file.string();
  }

 private:
  consentry::test::TempDir dir_{"consentry-cli-wording"};
};

// The edits that give the test policy German as its default language, labels in two languages
// and declared sources.
const std::vector<std::pair<std::string, std::string>> kWorded = {
    {R"("consentry_policy": 1,)", R"("consentry_policy": 1, "default_language": "de",)"},
    {R"("basis": "contract", "description": "Run the account you opened")",
     R"("basis": "contract", "label": {"de": "Ihr Konto", "en": "Your account"},
     "description": "Das Konto, das Sie er\u00f6ffnet haben")"},
    {R"({"id": "email-campaigns", "purposes": ["marketing.email"]})",
     R"({"id": "email-campaigns", "purposes": ["marketing.email"],
     "label": {"de": "das Newsletter-Werkzeug", "fr": "l'outil de lettre d'information"}})"},
    {R"("fields": [)",
     R"("sources": [{"id": "credit-bureau", "label": {"de": "Auskunftei", "en": "Credit agency"}}],
  "fields": [)"},
    {R"("category": "identity",)", R"("category": "identity", "label": "Geburtsdatum",)"},
};

}  // namespace

TEST_CASE("policy check refuses a bad label with exit 2, naming the file and the JSON path") {
  Session s;
  const std::string bad = s.policy(
      "bad.json", {{R"("category": "identity",)", R"("category": "identity", "label": {"e n": "Birth"},)"}});
  Output o = s.run({"policy", "check", bad});
  CHECK(o.code == 2);
  CHECK(o.out.empty());
  INFO(o.err);
  CHECK(contains(o.err, "bad.json: $.fields[1].label['e n']: 'e n' is not a language tag"));

  const std::string missing = s.policy(
      "missing.json",
      {{R"("category": "identity",)", R"("category": "identity", "label": {"de": "Geburtsdatum"},)"}});
  o = s.run({"policy", "check", missing});
  CHECK(o.code == 2);
  CHECK(contains(o.err, "missing.json: $.fields[1].label: no text in 'en', the policy's default_language"));

  const std::string undeclared = s.policy(
      "undeclared.json", {{R"("fields": [)", R"("sources": [{"id": "web-signup", "label": "Our website"}],
  "fields": [)"}});
  o = s.run({"policy", "check", undeclared});
  CHECK(o.code == 2);
  CHECK(contains(o.err, "undeclared.json: $.fields[3].sources[0]: unknown source 'credit-bureau'"));

  // init refuses it the same way, and makes no vault.
  o = s.run({"init", "--policy", bad, "--kdf", "minimum"});
  CHECK(o.code == 2);
  CHECK(contains(o.err, "$.fields[1].label['e n']"));
}

TEST_CASE("policy check accepts labels, translations and declared sources, and show prints them") {
  Session s;
  const std::string worded = s.policy("worded.json", kWorded);
  Output check = s.run({"policy", "check", worded});
  INFO(check.err);
  CHECK(check.code == 0);
  CHECK(contains(check.out, "valid"));

  Output init = s.run({"init", "--policy", worded, "--kdf", "minimum"});
  REQUIRE_MESSAGE(init.code == 0, init.err);
  Output show = s.run({"policy", "show"});
  REQUIRE_MESSAGE(show.code == 0, show.err);
  INFO(show.out);
  CHECK(contains(show.out, "languages: de (default), en, fr\n"));
  CHECK(contains(show.out, "Ihr Konto"));  // labels in the default language
  CHECK_FALSE(contains(show.out, "Your account"));
  CHECK(contains(show.out, "das Newsletter-Werkzeug"));
  CHECK(contains(show.out, "Geburtsdatum"));
  CHECK(contains(show.out, "Das Konto, das Sie er\u00f6ffnet haben"));
  CHECK(contains(show.out, "sources (1):"));
  CHECK(contains(show.out, "Auskunftei"));

  Output json = s.run({"policy", "show", "--json"});
  REQUIRE(json.code == 0);
  CHECK(contains(json.out, R"("default_language": "de")"));  // the canonical JSON, indented
  CHECK(contains(json.out, R"("sources": [)"));
}

TEST_CASE("policy show of a policy without labels says only the default language") {
  Session s;
  Output init = s.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
  REQUIRE_MESSAGE(init.code == 0, init.err);
  Output show = s.run({"policy", "show"});
  REQUIRE(show.code == 0);
  CHECK(contains(show.out, "languages: en (default)\n"));
  CHECK_FALSE(contains(show.out, "sources ("));
}

TEST_CASE("policy show prints a description's newlines as spaces") {
  Session s;
  const std::string worded = s.policy(
      "newline.json", {{R"("description": "Offers by email")", R"("description": "Offers\nby email")"}});
  Output init = s.run({"init", "--policy", worded, "--kdf", "minimum"});
  REQUIRE_MESSAGE(init.code == 0, init.err);
  Output show = s.run({"policy", "show"});
  REQUIRE(show.code == 0);
  CHECK(contains(show.out, "Offers by email"));
}

TEST_CASE("a change of labels is a neutral policy update the diff names") {
  Session s;
  Output init = s.run({"init", "--policy", (kData / "policy.json").string(), "--kdf", "minimum"});
  REQUIRE_MESSAGE(init.code == 0, init.err);
  const std::string worded = s.policy("worded.json", kWorded);
  Output update = s.run({"policy", "update", worded});
  INFO(update.err);
  REQUIRE(update.code == 0);
  CHECK(contains(update.out, "policy updated to version 2"));
  CHECK(contains(update.out, "purpose 'service': purpose_changed (label) [neutral]"));
  CHECK(contains(update.out, "accessor 'email-campaigns': accessor_changed (label) [neutral]"));
  CHECK(contains(update.out, "source 'credit-bureau': declared_source_added [neutral]"));
  CHECK(contains(update.out, "field 'birth_date': field_changed (label) [neutral]"));
  CHECK(contains(update.out, "policy: default_language_changed (en -> de) [neutral]"));
  CHECK_FALSE(contains(update.out, "consents given before this version must be renewed"));

  Output diff = s.run({"policy", "diff", "1", "2", "--json"});
  REQUIRE(diff.code == 0);
  CHECK(contains(diff.out, R"("kind":"declared_source_added")"));
  CHECK(contains(diff.out, R"("kind":"default_language_changed")"));
}
