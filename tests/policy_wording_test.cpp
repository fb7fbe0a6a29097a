// policy_wording_test.cpp: labels, descriptions and their translations, the default language and
// the declared sources of a policy: what parse accepts and refuses (naming the JSON path), how
// Wording::in chooses a language, and the canonical JSON (unchanged for a policy without them).
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/policy.hpp"
#include "consentry/policy_diff.hpp"
#include "consentry/wording.hpp"
#include "support/must.hpp"

using consentry::errc;
using consentry::Policy;
using consentry::Wording;
using consentry::test::must;
using Json = nlohmann::ordered_json;

namespace {

// A policy written before labels, translations and sources existed, with a description on every
// kind of object, free source ids and non-ASCII text.
constexpr std::string_view kOldPolicy = R"~({
  "consentry_policy": 1,
  "controller": {"name": "Zoë Ltd", "contact": "privacy@zoe.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account you opened"},
    {"id": "marketing.email", "basis": "consent", "description": "Offers by email — weekly",
     "consent_valid_for": "P24M", "contact_limit": {"max": 2, "per": "P7D"}},
    {"id": "analytics", "basis": "legitimate_interest", "privacy_budget": 0.5}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"], "description": "Customer support agents"},
    {"id": "bi-dashboard", "purposes": ["analytics", "service"]}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact", "description": "Where we write to you",
     "retention": "P3Y", "sources": ["web-signup", "Shop Till 3"],
     "access": {"service": "clear", "marketing.email": "clear", "analytics": "pseudonym"}},
    {"name": "credit_score", "type": "integer", "category": "financial",
     "access": {"analytics": "generalise:bucket:50"}}
  ]
})~";

// kOldCanonical is kOldPolicy's canonical JSON as the library wrote it before labels existed (a
// vault hashes this text for its policy versions, so it must never change).
constexpr std::string_view kOldCanonical = R"~({
  "consentry_policy": 1,
  "controller": {
    "name": "Zoë Ltd",
    "contact": "privacy@zoe.example"
  },
  "purposes": [
    {
      "id": "service",
      "basis": "contract",
      "description": "Run the account you opened"
    },
    {
      "id": "marketing.email",
      "basis": "consent",
      "description": "Offers by email — weekly",
      "consent_valid_for": "P24M",
      "contact_limit": {
        "max": 2,
        "per": "P7D"
      }
    },
    {
      "id": "analytics",
      "basis": "legitimate_interest",
      "privacy_budget": 0.5
    }
  ],
  "accessors": [
    {
      "id": "support-desk",
      "purposes": [
        "service"
      ],
      "description": "Customer support agents"
    },
    {
      "id": "bi-dashboard",
      "purposes": [
        "analytics",
        "service"
      ]
    }
  ],
  "fields": [
    {
      "name": "email",
      "type": "email",
      "category": "contact",
      "description": "Where we write to you",
      "retention": "P3Y",
      "sources": [
        "web-signup",
        "Shop Till 3"
      ],
      "access": {
        "analytics": "pseudonym",
        "marketing.email": "clear",
        "service": "clear"
      }
    },
    {
      "name": "credit_score",
      "type": "integer",
      "category": "financial",
      "access": {
        "analytics": "generalise:bucket:50"
      }
    }
  ]
}
)~";

// kWorded is a policy with every new key: a default language, labels and descriptions as strings
// and as translations, and declared sources that a field names.
constexpr std::string_view kWorded = R"~({
  "consentry_policy": 1,
  "default_language": "de",
  "controller": {"name": "Acme Handel GmbH"},
  "purposes": [
    {"id": "service", "basis": "contract", "label": {"de": "Ihr Konto", "en": "Your account"},
     "description": {"de": "Das Konto f\u00fchren,\ndas Sie er\u00f6ffnet haben", "en": "Run the account\nyou opened"}},
    {"id": "marketing.email", "basis": "consent", "label": "Angebote per E-Mail"}
  ],
  "accessors": [
    {"id": "email-campaigns", "purposes": ["marketing.email"],
     "label": {"de": "das Newsletter-Werkzeug", "en": "the newsletter tool", "pt-BR": "a ferramenta"},
     "description": "Versendet Newsletter"}
  ],
  "sources": [
    {"id": "credit-bureau", "label": {"de": "Auskunftei", "en": "Credit reference agency"},
     "description": {"de": "Eine Wirtschaftsauskunftei"}},
    {"id": "web-signup", "label": "Anmeldung auf der Website"}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact",
     "label": {"de": "E-Mail-Adresse", "en": "Email address"}, "sources": ["web-signup"],
     "access": {"service": "clear", "marketing.email": "clear"}},
    {"name": "credit_score", "type": "integer", "category": "financial", "label": "Bonit\u00e4t",
     "description": {"de": "Ein Wert von 0 bis 999", "en": "A score from 0 to 999"},
     "sources": ["credit-bureau"], "access": {"service": "clear"}}
  ]
})~";

// kBase is a small policy that the refusal cases change one thing of.
Json base() {
  return Json::parse(R"({
    "consentry_policy": 1,
    "purposes": [{"id": "service", "basis": "contract"}, {"id": "marketing.email", "basis": "consent"}],
    "accessors": [{"id": "support-desk", "purposes": ["service"]}],
    "fields": [
      {"name": "email", "type": "email", "category": "contact", "access": {"service": "clear"}},
      {"name": "credit_score", "type": "integer", "category": "financial", "sources": ["credit-bureau"],
       "access": {"service": "clear"}}
    ]
  })");
}

struct Case {
  const char* what;
  std::function<void(Json&)> mutate;
  const char* message;  // the start of the message after the origin: the JSON path and more
};

// refusal parses `j` and gives the error message, failing the test if it was accepted.
std::string refusal(const Json& j) {
  auto r = Policy::parse(j.dump(), "test.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  return r.err().message;
}

Json translations(std::initializer_list<std::pair<const char*, const char*>> entries) {
  Json out = Json::object();
  for (const auto& [tag, text] : entries) out[tag] = text;
  return out;
}

}  // namespace

TEST_CASE("malformed labels, descriptions, languages and sources are refused naming the JSON path") {
  const std::string long_label(201, 'x');
  const std::string long_description(4001, 'x');
  const std::vector<Case> cases = {
      {"label a number", [](Json& j) { j["purposes"][0]["label"] = 3; },
       "$.purposes[0].label: must be a string or an object of translations"},
      {"label an array", [](Json& j) { j["accessors"][0]["label"] = Json::array({"Support"}); },
       "$.accessors[0].label: must be a string or an object of translations"},
      {"label null", [](Json& j) { j["fields"][0]["label"] = nullptr; },
       "$.fields[0].label: must be a string or an object of translations"},
      {"description a boolean", [](Json& j) { j["fields"][1]["description"] = true; },
       "$.fields[1].description: must be a string or an object of translations"},
      {"empty label", [](Json& j) { j["purposes"][1]["label"] = ""; },
       "$.purposes[1].label: must not be an empty string"},
      {"empty description", [](Json& j) { j["accessors"][0]["description"] = ""; },
       "$.accessors[0].description: must not be an empty string"},
      {"empty translations", [](Json& j) { j["fields"][0]["label"] = Json::object(); },
       "$.fields[0].label: must hold at least one translation"},
      {"empty translation",
       [](Json& j) {
         j["fields"][0]["label"] = translations({{"en", "Email"}, {"de", ""}});
       },
       "$.fields[0].label.de: must not be an empty string"},
      {"translation a number",
       [](Json& j) {
         j["fields"][0]["description"] = Json{{"en", 1}};
       },
       "$.fields[0].description.en: must be a string, not an integer"},
      {"tag with a space",
       [](Json& j) {
         j["fields"][1]["label"] = translations({{"en", "Score"}, {"e n", "x"}});
       },
       "$.fields[1].label['e n']: 'e n' is not a language tag"},
      {"tag a word",
       [](Json& j) {
         j["purposes"][0]["description"] = translations({{"english", "x"}});
       },
       "$.purposes[0].description.english: 'english' is not a language tag"},
      {"tag of one letter",
       [](Json& j) {
         j["purposes"][0]["label"] = translations({{"en", "x"}, {"e", "y"}});
       },
       "$.purposes[0].label.e: 'e' is not a language tag"},
      {"tag given twice in two cases",
       [](Json& j) {
         j["purposes"][0]["label"] = translations({{"en", "x"}, {"EN", "y"}});
       },
       "$.purposes[0].label.EN: language 'EN' is given twice"},
      {"no default language",
       [](Json& j) {
         j["purposes"][0]["label"] = translations({{"de", "Konto"}});
       },
       "$.purposes[0].label: no text in 'en', the policy's default_language"},
      {"only a regional English",
       [](Json& j) {
         j["fields"][0]["label"] = translations({{"en-GB", "Email"}});
       },
       "$.fields[0].label: no text in 'en', the policy's default_language"},
      {"no text in a declared default language",
       [](Json& j) {
         j["default_language"] = "de";
         j["accessors"][0]["description"] = translations({{"en", "Support"}, {"fr", "Assistance"}});
       },
       "$.accessors[0].description: no text in 'de', the policy's default_language"},
      {"tab in a label", [](Json& j) { j["fields"][0]["label"] = "Email\taddress"; },
       "$.fields[0].label: holds the control character U+0009; a label may hold none"},
      {"newline in a label",
       [](Json& j) {
         j["fields"][0]["label"] = translations({{"en", "Email\naddress"}});
       },
       "$.fields[0].label.en: holds the control character U+000A; a label may hold none"},
      {"escape in a label", [](Json& j) { j["purposes"][0]["label"] = "\x1b[31mred"; },
       "$.purposes[0].label: holds the control character U+001B"},
      {"DEL in a label", [](Json& j) { j["purposes"][0]["label"] = "a\x7f"; },
       "$.purposes[0].label: holds the control character U+007F"},
      {"C1 control in a label", [](Json& j) { j["purposes"][0]["label"] = "next\u0085line"; },
       "$.purposes[0].label: holds the control character U+0085"},
      {"tab in a description", [](Json& j) { j["fields"][1]["description"] = "one\ttwo"; },
       "$.fields[1].description: holds the control character U+0009; a description may hold none but "
       "newlines"},
      {"carriage return in a description", [](Json& j) { j["fields"][1]["description"] = "one\r\ntwo"; },
       "$.fields[1].description: holds the control character U+000D"},
      {"label too long", [&long_label](Json& j) { j["accessors"][0]["label"] = long_label; },
       "$.accessors[0].label: is 201 bytes long; a label may be at most 200 bytes"},
      {"description too long",
       [&long_description](Json& j) {
         j["purposes"][1]["description"] = translations({{"en", "Offers"}});
         j["purposes"][1]["description"]["de"] = long_description;
       },
       "$.purposes[1].description.de: is 4001 bytes long; a description may be at most 4000 bytes"},
      {"default_language not a tag", [](Json& j) { j["default_language"] = "english"; },
       "$.default_language: 'english' is not a language tag"},
      {"default_language empty", [](Json& j) { j["default_language"] = ""; },
       "$.default_language: '' is not a language tag"},
      {"default_language a number", [](Json& j) { j["default_language"] = 1; },
       "$.default_language: must be a string"},
      {"sources an object", [](Json& j) { j["sources"] = Json::object(); }, "$.sources: must be an array"},
      {"source a string", [](Json& j) { j["sources"] = Json::array({"credit-bureau"}); },
       "$.sources[0]: must be an object"},
      {"source without label", [](Json& j) { j["sources"] = Json::parse(R"([{"id": "credit-bureau"}])"); },
       "$.sources[0]: a source is missing required key 'label'"},
      {"source without id", [](Json& j) { j["sources"] = Json::parse(R"([{"label": "Credit agency"}])"); },
       "$.sources[0]: a source is missing required key 'id'"},
      {"source unknown key",
       [](Json& j) { j["sources"] = Json::parse(R"([{"id": "credit-bureau", "label": "x", "url": "y"}])"); },
       "$.sources[0].url: unknown key 'url' in a source"},
      {"source id not an id",
       [](Json& j) { j["sources"] = Json::parse(R"([{"id": "Credit Bureau", "label": "x"}])"); },
       "$.sources[0].id: 'Credit Bureau' does not match"},
      {"source label empty",
       [](Json& j) { j["sources"] = Json::parse(R"([{"id": "credit-bureau", "label": ""}])"); },
       "$.sources[0].label: must not be an empty string"},
      {"source label without the default language",
       [](Json& j) {
         j["sources"] = Json::parse(R"([{"id": "credit-bureau", "label": {"de": "Auskunftei"}}])");
       },
       "$.sources[0].label: no text in 'en', the policy's default_language"},
      {"duplicate source id",
       [](Json& j) {
         j["sources"] = Json::parse(
             R"([{"id": "credit-bureau", "label": "x"}, {"id": "web", "label": "y"}, {"id": "credit-bureau", "label": "z"}])");
       },
       "$.sources[2].id: duplicate source id 'credit-bureau'"},
      {"undeclared source",
       [](Json& j) {
         j["sources"] = Json::parse(R"([{"id": "web-signup", "label": "Our website"}])");
         j["fields"][0]["sources"] = Json::array({"web-signup"});
       },
       "$.fields[1].sources[0]: unknown source 'credit-bureau' (not declared in $.sources)"},
      {"undeclared source when none is declared", [](Json& j) { j["sources"] = Json::array(); },
       "$.fields[1].sources[0]: unknown source 'credit-bureau'"},
  };
  for (const Case& k : cases) {
    INFO(k.what);
    Json j = base();
    k.mutate(j);
    const std::string message = refusal(j);
    INFO(message);
    CHECK(message.rfind(std::string("test.json: ") + k.message, 0) == 0);
  }
}

TEST_CASE("a refusal never quotes the text of a label or description") {
  Json j = base();
  j["fields"][0]["label"] = "secret-looking text\x01";
  const std::string message = refusal(j);
  CHECK(message.find("secret-looking") == std::string::npos);
}

TEST_CASE("labels and descriptions are accepted as strings or translations, within their limits") {
  Json j = base();
  j["purposes"][0]["label"] = "Your account";
  j["purposes"][0]["description"] = "Runs the account\nyou opened";  // a newline is fine here
  j["purposes"][1]["label"] = translations({{"en", "Offers by email"}, {"de", "Angebote per E-Mail"}});
  j["accessors"][0]["label"] = std::string(200, 'x');         // exactly the limit
  j["accessors"][0]["description"] = std::string(4000, 'y');  // likewise
  std::string umlauts;
  for (int i = 0; i < 100; ++i) umlauts += "\u00e4";  // 200 bytes, 100 characters
  j["fields"][0]["label"] =
      translations({{"en", "Email"}, {"de-AT", umlauts.c_str()}, {"zh-Hant", "\u96fb\u90f5"}});
  j["fields"][1]["description"] = "Zo\u00eb's \u5c71\u7530 score";
  const Policy p = must(Policy::parse(j.dump(), "test.json"));
  CHECK(p.default_language() == "en");
  CHECK(p.sources().empty());
  CHECK(p.purpose("service")->label.text == "Your account");
  CHECK(p.purpose("service")->description.text == "Runs the account\nyou opened");
  CHECK(p.purpose("marketing.email")->label.translations.size() == 2);
  CHECK(p.purpose("marketing.email")->label.in("de") == "Angebote per E-Mail");
  CHECK(p.accessor("support-desk")->label.text.size() == 200);
  CHECK(p.field("email")->label.in("de-AT") == umlauts);
  CHECK(p.field("email")->label.in("zh-Hant") == "\u96fb\u90f5");
  // Without a "sources" list a field's sources stay free ids, as before.
  CHECK(p.field("credit_score")->sources == std::vector<std::string>{"credit-bureau"});
  CHECK(p.source("credit-bureau") == nullptr);
}

TEST_CASE("a regional default language is satisfied by its primary language") {
  Json j = base();
  j["default_language"] = "de-AT";
  j["purposes"][0]["label"] = translations({{"de", "Ihr Konto"}, {"en", "Your account"}});
  const Policy p = must(Policy::parse(j.dump()));
  CHECK(p.default_language() == "de-AT");
  CHECK(p.purpose("service")->label.in(p.default_language()) == "Ihr Konto");
}

TEST_CASE("declared sources are read with their labels, and fields may name them") {
  const Policy p = must(Policy::parse(kWorded, "worded.json"));
  CHECK(p.default_language() == "de");
  REQUIRE(p.sources().size() == 2);
  CHECK(p.sources()[0].id == "credit-bureau");
  CHECK(p.sources()[1].id == "web-signup");
  const consentry::SourceSpec* bureau = p.source("credit-bureau");
  REQUIRE(bureau != nullptr);
  CHECK(bureau->label.in("en") == "Credit reference agency");
  CHECK(bureau->label.in("fr", p.default_language()) == "Auskunftei");
  CHECK(bureau->description.in("de") == "Eine Wirtschaftsauskunftei");
  CHECK(p.source("web-signup")->label.text == "Anmeldung auf der Website");
  CHECK(p.source("web-signup")->description.empty());
  CHECK(p.source("shop") == nullptr);
  CHECK(p.field("credit_score")->sources == std::vector<std::string>{"credit-bureau"});
  CHECK(p.accessor("email-campaigns")->label.in("pt-BR") == "a ferramenta");
  CHECK(p.purpose("service")->description.in("en") == "Run the account\nyou opened");
}

TEST_CASE("Wording::in chooses the exact tag, then the primary language, then the fallback, then the text") {
  Wording w;
  w.translations = {{"de", "E-Mail-Adresse"}, {"en", "Email address"}, {"pt-BR", "Endere\u00e7o de e-mail"}};
  CHECK(w.in("de") == "E-Mail-Adresse");
  CHECK(w.in("pt-BR") == "Endere\u00e7o de e-mail");
  CHECK(w.in("de-AT") == "E-Mail-Adresse");          // primary subtag
  CHECK(w.in("fr", "en") == "Email address");        // the fallback language
  CHECK(w.in("fr-CA", "en-GB") == "Email address");  // the fallback's primary subtag
  CHECK(w.in("pt", "de") == "E-Mail-Adresse");       // "pt" does not find "pt-BR"
  CHECK(w.in("fr").empty());                         // no text, no fallback
  CHECK(w.in("").empty());
  CHECK(w.translated_in("pt-BR"));
  CHECK_FALSE(w.translated_in("pt"));

  Wording untranslated;
  untranslated.text = "Email address";
  CHECK(untranslated.in("de") == "Email address");  // untranslated text in any language
  CHECK(untranslated.in("de", "en") == "Email address");
  CHECK_FALSE(untranslated.translated_in("en"));

  Wording both = w;
  both.text = "untranslated";
  CHECK(both.in("fr") == "untranslated");  // after every translation failed
  CHECK(both.in("de") == "E-Mail-Adresse");

  const Wording nothing;
  CHECK(nothing.empty());
  CHECK(nothing.in("en", "de").empty());
}

TEST_CASE("valid_language_tag takes the simple BCP 47 tags policies use") {
  for (const char* good :
       {"en", "de", "deu", "pt-BR", "zh-Hant", "zh-Hant-TW", "es-419", "de-AT-1996", "EN"}) {
    INFO(good);
    CHECK(consentry::valid_language_tag(good));
  }
  for (const char* bad : {"", "e", "english", "e n", "en-", "-en", "en--GB", "en_GB", "1en", "en-G",
                          "en-abcdefghi", "d\u00e9"}) {
    INFO(bad);
    CHECK_FALSE(consentry::valid_language_tag(bad));
  }
}

TEST_CASE("a policy with every new key round-trips through its canonical JSON") {
  const Policy p = must(Policy::parse(kWorded, "worded.json"));
  const std::string once = p.to_json();
  const Policy q = must(Policy::parse(once, "canonical"));
  CHECK(q.to_json() == once);
  CHECK(consentry::diff_policies(p, q).empty());
  CHECK(q.default_language() == "de");
  REQUIRE(q.sources().size() == 2);
  CHECK(q.sources()[0].label == p.sources()[0].label);
  CHECK(q.sources()[0].description == p.sources()[0].description);
  CHECK(q.sources()[1].label == p.sources()[1].label);
  for (std::size_t i = 0; i < p.purposes().size(); ++i) {
    CHECK(q.purposes()[i].label == p.purposes()[i].label);
    CHECK(q.purposes()[i].description == p.purposes()[i].description);
  }
  CHECK(q.accessors()[0].label == p.accessors()[0].label);
  CHECK(q.accessors()[0].description == p.accessors()[0].description);
  for (std::size_t i = 0; i < p.fields().size(); ++i) {
    CHECK(q.fields()[i].label == p.fields()[i].label);
    CHECK(q.fields()[i].description == p.fields()[i].description);
    CHECK(q.fields()[i].sources == p.fields()[i].sources);
  }

  // Untranslated text is written as a string, translations as an object; the default language
  // and the sources appear at the top.
  const Json j = Json::parse(once);
  CHECK(j["default_language"] == "de");
  CHECK(j["purposes"][1]["label"] == "Angebote per E-Mail");
  CHECK(j["purposes"][0]["label"] == Json::parse(R"({"de": "Ihr Konto", "en": "Your account"})"));
  CHECK(j["sources"][1] == Json::parse(R"({"id": "web-signup", "label": "Anmeldung auf der Website"})"));
  CHECK(j["fields"][1]["label"] == "Bonit\u00e4t");
}

TEST_CASE("a policy without the new keys keeps its canonical JSON byte for byte") {
  const Policy p = must(Policy::parse(kOldPolicy, "old.json"));
  CHECK(p.to_json() == kOldCanonical);
  CHECK(must(Policy::parse(kOldCanonical, "canonical")).to_json() == kOldCanonical);
  // Free source ids stay free, whatever their spelling.
  CHECK(p.field("email")->sources == std::vector<std::string>{"web-signup", "Shop Till 3"});
  CHECK(p.purpose("service")->description.text == "Run the account you opened");
  CHECK(p.purpose("service")->label.empty());
}

TEST_CASE("an English default language and an empty source list are left out of the canonical JSON") {
  Json j = base();
  j["default_language"] = "en";
  j["sources"] = Json::array();
  j["fields"][1].erase("sources");
  const Policy p = must(Policy::parse(j.dump()));
  const Json canonical = Json::parse(p.to_json());
  CHECK_FALSE(canonical.contains("default_language"));
  CHECK_FALSE(canonical.contains("sources"));
  j.erase("default_language");
  j.erase("sources");
  CHECK(must(Policy::parse(j.dump())).to_json() == p.to_json());
}
