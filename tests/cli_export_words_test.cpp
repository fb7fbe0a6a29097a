// cli_export_words_test.cpp: `consentry export --lang` and `--template`, run as a separate process:
// bad options refused before the vault is touched, a controller's template rendered with its
// values escaped, the language carried into the JSON export.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/cli_vault_dir.hpp"

namespace {

using consentry::test::CliOutput;
using consentry::test::VaultDir;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

void write(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

/// exports_logged counts the export_made entries about C-1001 in the audit log.
std::size_t exports_logged(const VaultDir& v) {
  const CliOutput log = v.must({"log", "show", "--customer", "C-1001", "--action", "export_made", "--json"});
  const nlohmann::json entries = nlohmann::json::parse(log.out);
  return entries.size();
}

}  // namespace

TEST_CASE("export refuses a bad --lang or --template with exit 2, before anything is read or audited") {
  VaultDir v;
  v.init();
  v.import();
  const std::size_t before = exports_logged(v);
  write(v.path("bad.mustache"), "<p>{{#fields}}{{label}}</p>");
  std::filesystem::create_directory(v.path("dir.mustache"));
  write(v.path("ok.mustache"), "{{#fields}}[{{label}}]{{/fields}}");

  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"export", "C-1001", "--lang", "e n"}, "--lang: 'e n' is not a language tag"},
      {{"export", "C-1001", "--lang", "english"}, "is not a language tag"},
      {{"export", "C-1001", "--format", "html", "--template", v.path("missing.mustache").string()},
       "no such file"},
      {{"export", "C-1001", "--format", "html", "--template", v.path("dir.mustache").string()},
       "a directory, not a template"},
      {{"export", "C-1001", "--format", "html", "--template", v.path("bad.mustache").string()},
       "bad.mustache: not a valid template"},
      {{"export", "C-1001", "--format", "json", "--template", v.path("ok.mustache").string()},
       "--template applies to --format html only"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.message);
    const CliOutput o = v.run(c.args);
    CHECK(o.code == 2);
    CHECK(contains(o.err, c.message));
    CHECK(o.out.empty());
  }
  CHECK(exports_logged(v) == before);
}

TEST_CASE(
    "export --template renders the controller's template with values escaped, and --lang reaches the JSON") {
  VaultDir v;
  v.init();
  v.import();
  write(v.path("mine.mustache"),
        "<ul>{{#fields}}<li>{{label}}: {{value}}</li>{{/fields}}</ul><p>{{controller.name}}</p>");
  const CliOutput html =
      v.must({"export", "C-1001", "--format", "html", "--template", v.path("mine.mustache").string()});
  CHECK(html.out.starts_with("<ul>"));
  CHECK(contains(html.out, "<li>email: ann@example.com</li>"));
  CHECK(contains(html.out, "<li>birth date: 2 April 1990</li>"));  // no label in the fixture policy
  CHECK_FALSE(contains(html.out, "<!DOCTYPE"));

  const CliOutput json = v.must({"export", "C-1001", "--lang", "de"});
  const nlohmann::json exported = nlohmann::json::parse(json.out);
  CHECK(exported.at("language") == "de");
  CHECK(exported.at("fields")[0].contains("label"));

  // The built-in template, with no option: one page, labels (here the ids) and no reason code.
  const CliOutput page = v.must({"export", "C-1001", "--format", "html"});
  CHECK(page.out.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
  CHECK(contains(page.out, "2 April 1990"));
}

TEST_CASE("export of a vault under a labelled policy speaks the customer's language, in words") {
  VaultDir v;
  const std::filesystem::path retail =
      std::filesystem::path(CONSENTRY_SOURCE_DIR) / "examples/policies/retail.json";
  v.must({"init", "--policy", retail.string(), "--kdf", "minimum"});
  v.must({"import", consentry::test::kCliData.string() + "/customers.jsonl"});
  v.must({"read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email,birth_date"});
  const CliOutput refused =
      v.run({"read", "C-1001", "--purpose", "marketing.email", "--as", "email-campaigns"});
  CHECK(refused.code == 3);

  const CliOutput de = v.must({"export", "C-1001", "--format", "html", "--lang", "de"});
  for (const char* label :
       {"Geburtsdatum", "E-Mail-Adresse", "Das Newsletter-Werkzeug", "Unser Kundenservice",
        "Angebote per E-Mail", "Das Anmeldeformular auf unserer Website"})
    CHECK_MESSAGE(contains(de.out, label), label);
  CHECK(contains(de.out, "Refused, because you had not agreed to this use."));
  CHECK(contains(de.out, "2 April 1990"));
  for (const char* id : {"birth_date", "marketing.email", "email-campaigns", "support-desk", "no_consent"})
    CHECK_MESSAGE(!contains(de.out, id), id);

  const CliOutput en = v.must({"export", "C-1001", "--format", "html"});
  CHECK(contains(en.out, "Date of birth"));
  CHECK(contains(en.out, "The newsletter tool"));
}
