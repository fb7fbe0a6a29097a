// policy_test.cpp: Policy::parse validates completely and names the JSON path of each problem.
#include "consentry/policy.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

using consentry::Basis;
using consentry::errc;
using consentry::FieldType;
using consentry::FormKind;
using consentry::Policy;
using Json = nlohmann::ordered_json;

namespace {

const std::filesystem::path kData = std::filesystem::path(CONSENTRY_TEST_DATA) / "policies";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The retail policy: purposes service, marketing.email, analytics, profiling; accessors
// support-desk, email-campaigns, bi-dashboard, propensity-model; fields email, birth_date,
// phone, credit_score, expecting_child.
Json retail() {
  return Json::parse(read_text(kData / "valid_retail.json"));
}

// refusal parses `text` and returns the error message, failing the test if it was accepted.
std::string refusal(const std::string& text) {
  auto r = Policy::parse(text, "test.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  return r.err().message;
}

struct Case {
  const char* what;
  std::function<void(Json&)> mutate;
  const char* path;     // the JSON path the message must name
  const char* mention;  // a word the message must also contain
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("malformed policies are refused with the JSON path of the problem") {
  const std::vector<Case> cases = {
      {"unknown root key", [](Json& j) { j["colour"] = "blue"; }, "$.colour", "unknown key"},
      {"missing consentry_policy", [](Json& j) { j.erase("consentry_policy"); }, "$", "consentry_policy"},
      {"format version 2", [](Json& j) { j["consentry_policy"] = 2; }, "$.consentry_policy", "must be 1"},
      {"format version as text", [](Json& j) { j["consentry_policy"] = "1"; }, "$.consentry_policy",
       "must be 1"},
      {"format version as float", [](Json& j) { j["consentry_policy"] = 1.0; }, "$.consentry_policy",
       "must be 1"},
      {"controller not an object", [](Json& j) { j["controller"] = "Acme"; }, "$.controller", "object"},
      {"controller unknown key", [](Json& j) { j["controller"]["phone"] = "0"; }, "$.controller.phone",
       "unknown key"},
      {"controller without name", [](Json& j) { j["controller"].erase("name"); }, "$.controller", "name"},
      {"missing purposes", [](Json& j) { j.erase("purposes"); }, "$", "purposes"},
      {"purposes not an array", [](Json& j) { j["purposes"] = Json::object(); }, "$.purposes", "array"},
      {"purpose not an object", [](Json& j) { j["purposes"][3] = "profiling"; }, "$.purposes[3]", "object"},
      {"purpose unknown key", [](Json& j) { j["purposes"][1]["colour"] = 1; }, "$.purposes[1].colour",
       "unknown key"},
      {"purpose without basis", [](Json& j) { j["purposes"][2].erase("basis"); }, "$.purposes[2]", "basis"},
      {"purpose without id", [](Json& j) { j["purposes"][0].erase("id"); }, "$.purposes[0]", "id"},
      {"purpose id uppercase", [](Json& j) { j["purposes"][0]["id"] = "Service"; }, "$.purposes[0].id",
       "match"},
      {"purpose id too long", [](Json& j) { j["purposes"][0]["id"] = std::string(65, 'a'); },
       "$.purposes[0].id", "match"},
      {"purpose id a number", [](Json& j) { j["purposes"][0]["id"] = 7; }, "$.purposes[0].id", "string"},
      {"duplicate purpose id", [](Json& j) { j["purposes"][2]["id"] = "service"; }, "$.purposes[2].id",
       "duplicate"},
      {"unknown basis", [](Json& j) { j["purposes"][1]["basis"] = "implied"; }, "$.purposes[1].basis",
       "unknown basis"},
      {"empty duration", [](Json& j) { j["purposes"][1]["consent_valid_for"] = "P"; },
       "$.purposes[1].consent_valid_for", "duration"},
      {"zero duration", [](Json& j) { j["purposes"][1]["consent_valid_for"] = "P0D"; },
       "$.purposes[1].consent_valid_for", "zero"},
      {"contact_limit.per in hours without T",
       [](Json& j) { j["purposes"][1]["contact_limit"]["per"] = "P1H"; }, "$.purposes[1].contact_limit.per",
       "duration"},
      {"contact_limit.max zero", [](Json& j) { j["purposes"][1]["contact_limit"]["max"] = 0; },
       "$.purposes[1].contact_limit.max", "1"},
      {"contact_limit.max negative", [](Json& j) { j["purposes"][1]["contact_limit"]["max"] = -3; },
       "$.purposes[1].contact_limit.max", "1"},
      {"contact_limit.max fractional", [](Json& j) { j["purposes"][1]["contact_limit"]["max"] = 1.5; },
       "$.purposes[1].contact_limit.max", "integer"},
      {"contact_limit.max text", [](Json& j) { j["purposes"][1]["contact_limit"]["max"] = "2"; },
       "$.purposes[1].contact_limit.max", "integer"},
      {"contact_limit.max too large", [](Json& j) { j["purposes"][1]["contact_limit"]["max"] = 1ULL << 40; },
       "$.purposes[1].contact_limit.max", "integer"},
      {"contact_limit unknown key", [](Json& j) { j["purposes"][1]["contact_limit"]["window"] = "P1D"; },
       "$.purposes[1].contact_limit.window", "unknown key"},
      {"contact_limit without per", [](Json& j) { j["purposes"][1]["contact_limit"].erase("per"); },
       "$.purposes[1].contact_limit", "per"},
      {"privacy_budget zero", [](Json& j) { j["purposes"][2]["privacy_budget"] = 0; },
       "$.purposes[2].privacy_budget", "greater than zero"},
      {"privacy_budget negative", [](Json& j) { j["purposes"][2]["privacy_budget"] = -0.5; },
       "$.purposes[2].privacy_budget", "greater than zero"},
      {"privacy_budget text", [](Json& j) { j["purposes"][2]["privacy_budget"] = "1"; },
       "$.purposes[2].privacy_budget", "number"},
      {"automated_decision text", [](Json& j) { j["purposes"][0]["automated_decision"] = "yes"; },
       "$.purposes[0].automated_decision", "boolean"},
      {"automated decision on legitimate interest",
       [](Json& j) { j["purposes"][2]["automated_decision"] = true; }, "$.purposes[2].automated_decision",
       "consent or contract"},
      {"purpose description not text", [](Json& j) { j["purposes"][0]["description"] = 3; },
       "$.purposes[0].description", "string"},
      {"missing accessors", [](Json& j) { j.erase("accessors"); }, "$", "accessors"},
      {"accessor unknown key", [](Json& j) { j["accessors"][0]["role"] = "admin"; }, "$.accessors[0].role",
       "unknown key"},
      {"accessor without purposes", [](Json& j) { j["accessors"][1].erase("purposes"); }, "$.accessors[1]",
       "purposes"},
      {"accessor id with a space", [](Json& j) { j["accessors"][0]["id"] = "support desk"; },
       "$.accessors[0].id", "match"},
      {"duplicate accessor id", [](Json& j) { j["accessors"][3]["id"] = "support-desk"; },
       "$.accessors[3].id", "duplicate"},
      {"accessor names an undeclared purpose",
       [](Json& j) { j["accessors"][1]["purposes"][0] = "marketing"; }, "$.accessors[1].purposes[0]",
       "unknown purpose"},
      {"accessor names a purpose twice", [](Json& j) { j["accessors"][0]["purposes"].push_back("service"); },
       "$.accessors[0].purposes[1]", "duplicate"},
      {"accessor with no purposes", [](Json& j) { j["accessors"][0]["purposes"] = Json::array(); },
       "$.accessors[0].purposes", "at least one"},
      {"accessor purposes not a list", [](Json& j) { j["accessors"][0]["purposes"] = "service"; },
       "$.accessors[0].purposes", "array"},
      {"missing fields", [](Json& j) { j.erase("fields"); }, "$", "fields"},
      {"field not an object", [](Json& j) { j["fields"][2] = Json::array(); }, "$.fields[2]", "object"},
      {"field unknown key", [](Json& j) { j["fields"][0]["encrypt"] = false; }, "$.fields[0].encrypt",
       "unknown key"},
      {"field without type", [](Json& j) { j["fields"][1].erase("type"); }, "$.fields[1]", "type"},
      {"field without category", [](Json& j) { j["fields"][1].erase("category"); }, "$.fields[1]",
       "category"},
      {"field without access", [](Json& j) { j["fields"][3].erase("access"); }, "$.fields[3]", "access"},
      {"field name with a dash", [](Json& j) { j["fields"][1]["name"] = "birth-date"; }, "$.fields[1].name",
       "match"},
      {"field name empty", [](Json& j) { j["fields"][1]["name"] = ""; }, "$.fields[1].name", "match"},
      {"duplicate field name", [](Json& j) { j["fields"][2]["name"] = "email"; }, "$.fields[2].name",
       "duplicate"},
      {"unknown field type", [](Json& j) { j["fields"][0]["type"] = "url"; }, "$.fields[0].type",
       "unknown type"},
      {"category uppercase", [](Json& j) { j["fields"][0]["category"] = "Contact"; }, "$.fields[0].category",
       "match"},
      {"access not an object", [](Json& j) { j["fields"][0]["access"] = Json::array(); },
       "$.fields[0].access", "object"},
      {"access for an undeclared purpose", [](Json& j) { j["fields"][1]["access"]["marketing"] = "clear"; },
       "$.fields[1].access.marketing", "unknown purpose"},
      {"access for an undeclared dotted purpose",
       [](Json& j) { j["fields"][1]["access"]["marketing.sms"] = "clear"; },
       "$.fields[1].access['marketing.sms']", "unknown purpose"},
      {"unknown form", [](Json& j) { j["fields"][1]["access"]["analytics"] = "blur"; },
       "$.fields[1].access.analytics", "unknown form 'blur'"},
      {"mask without length", [](Json& j) { j["fields"][2]["access"]["service"] = "mask:last"; },
       "$.fields[2].access.service", "unknown form"},
      {"mask of zero", [](Json& j) { j["fields"][2]["access"]["service"] = "mask:last0"; },
       "$.fields[2].access.service", "unknown form"},
      {"form a number", [](Json& j) { j["fields"][2]["access"]["service"] = 4; },
       "$.fields[2].access.service", "string"},
      {"year of an email", [](Json& j) { j["fields"][0]["access"]["analytics"] = "generalise:year"; },
       "$.fields[0].access.analytics", "does not fit"},
      {"month of a phone", [](Json& j) { j["fields"][2]["access"]["service"] = "generalise:month"; },
       "$.fields[2].access.service", "does not fit"},
      {"bucket of a date", [](Json& j) { j["fields"][1]["access"]["analytics"] = "generalise:bucket:10"; },
       "$.fields[1].access.analytics", "does not fit"},
      {"negative retention", [](Json& j) { j["fields"][0]["retention"] = "-P1D"; }, "$.fields[0].retention",
       "duration"},
      {"fractional retention", [](Json& j) { j["fields"][0]["retention"] = "P1.5Y"; },
       "$.fields[0].retention", "duration"},
      {"retention a number", [](Json& j) { j["fields"][0]["retention"] = 3; }, "$.fields[0].retention",
       "string"},
      {"sources not a list", [](Json& j) { j["fields"][3]["sources"] = "credit-bureau"; },
       "$.fields[3].sources", "array"},
      {"sources empty", [](Json& j) { j["fields"][3]["sources"] = Json::array(); }, "$.fields[3].sources",
       "empty"},
      {"source empty string", [](Json& j) { j["fields"][3]["sources"].push_back(""); },
       "$.fields[3].sources[1]", "empty"},
      {"source repeated", [](Json& j) { j["fields"][3]["sources"].push_back("credit-bureau"); },
       "$.fields[3].sources[1]", "duplicate"},
      {"source not text", [](Json& j) { j["fields"][3]["sources"].push_back(5); }, "$.fields[3].sources[1]",
       "string"},
      {"derived_from on a collected field",
       [](Json& j) { j["fields"][0]["derived_from"] = Json::array({"phone"}); }, "$.fields[0].derived_from",
       "inferred"},
      {"inferred without derived_from", [](Json& j) { j["fields"][4].erase("derived_from"); }, "$.fields[4]",
       "derived_from"},
      {"inferred with empty derived_from", [](Json& j) { j["fields"][4]["derived_from"] = Json::array(); },
       "$.fields[4].derived_from", "empty"},
      {"derived from an unknown field",
       [](Json& j) {
         j["fields"][4]["derived_from"] = Json::array({"birth_date", "income"});
       },
       "$.fields[4].derived_from[1]", "unknown field"},
      {"derived from an inferred field",
       [](Json& j) {
         j["fields"].push_back(Json{{"name", "likely_parent"},
                                    {"type", "boolean"},
                                    {"category", "inferred"},
                                    {"derived_from", Json::array({"expecting_child"})},
                                    {"access", Json::object()}});
       },
       "$.fields[5].derived_from[0]", "inferred"},
      {"inferred field without a profiling purpose",
       [](Json& j) {
         j["purposes"][3]["id"] = "predictions";
         j["accessors"][3]["purposes"][0] = "predictions";
         j["fields"][4]["access"].erase("profiling");
       },
       "$.fields[4].category", "profiling"},
      {"field description not text", [](Json& j) { j["fields"][0]["description"] = Json::object(); },
       "$.fields[0].description", "string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Json j = retail();
    c.mutate(j);
    const std::string msg = refusal(j.dump());
    CAPTURE(msg);
    CHECK(starts_with(msg, std::string("test.json: ") + c.path + ": "));
    CHECK(msg.find(c.mention) != std::string::npos);
  }
  CHECK(cases.size() >= 20);
}

TEST_CASE("a root that is not an object is refused at $") {
  for (const char* text : {"[]", "1", "\"policy\"", "null", "true"}) {
    CAPTURE(text);
    CHECK(starts_with(refusal(text), "test.json: $: must be an object"));
  }
}

TEST_CASE("a key given twice in one object is refused at its path") {
  Json j = retail();
  std::string text = j.dump();
  const std::string from = "\"basis\":\"consent\"";
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.insert(at + from.size(), ",\"basis\":\"contract\"");
  const std::string msg = refusal(text);
  CHECK(msg == "test.json: $.purposes[1].basis: duplicate key 'basis' (line 1)");

  // Inside an array the path counts elements that were objects, arrays and scalars.
  const std::string nested =
      R"({"consentry_policy":1,"purposes":[{"id":"a","basis":"contract"}],"accessors":[],)"
      R"("fields":[{"name":"x","type":"string","category":"c","access":{"a":"clear","a":"redact"}}]})";
  CHECK(starts_with(refusal(nested), "test.json: $.fields[0].access.a: duplicate key 'a'"));
}

TEST_CASE("a policy nested 100,000 deep before another key is refused, not a crash") {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  CHECK(refusal("{\"x\":" + deep + ",\"y\":1}") ==
        "test.json: line 1, column 69: JSON nested deeper than 64 levels");
  // Inside a field, on a later line.
  Json j = retail();
  std::string text = j.dump(2);
  const auto at = text.find("\"access\"");
  REQUIRE(at != std::string::npos);
  text.insert(at, "\"deep\": " + deep + ",\n");
  const std::string msg = refusal(text);
  CHECK(starts_with(msg, "test.json: line "));
  CHECK(msg.find("JSON nested deeper than 64 levels") != std::string::npos);
}

TEST_CASE("a policy followed by a NUL byte and garbage is refused") {
  const std::string text = read_text(kData / "valid_retail.json");
  REQUIRE(Policy::parse(text, "test.json").ok());
  const std::string msg = refusal(text + std::string("\0garbage{{{", 11));
  CHECK(starts_with(msg, "test.json: line "));
  CHECK(msg.find("invalid JSON: a NUL byte") != std::string::npos);
  // A NUL inside a string is refused the same way.
  std::string inside = text;
  inside.insert(inside.find("Acme"), std::string("\0", 1));
  CHECK(refusal(inside).find("invalid JSON: a NUL byte") != std::string::npos);
}

TEST_CASE("a directory given as a policy file is refused naming it") {
  auto dir = Policy::load(kData);
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.err().code == errc::bad_input);
  CHECK(dir.err().message == kData.string() + ": is a directory, not a policy file");
}

TEST_CASE("invalid JSON is refused with a line and column, never with the text") {
  const std::string text = "{\n  \"consentry_policy\": 1,\n  oops\n}\n";
  const std::string msg = refusal(text);
  CHECK(starts_with(msg, "test.json: line 3, column "));
  CHECK(msg.find("invalid JSON") != std::string::npos);
  CHECK(msg.find("oops") == std::string::npos);

  const std::string first_line = refusal("{,}");
  CHECK(starts_with(first_line, "test.json: line 1, column 2: invalid JSON"));
}

TEST_CASE("adversarial inputs are refused without crashing") {
  CHECK(starts_with(refusal(""), "test.json: line 1, column 1: invalid JSON"));
  CHECK(refusal(std::string("{\"consentry_policy\": 1\0}", 24)).find("invalid JSON") != std::string::npos);
  CHECK(refusal("{\"consentry_policy\": \"\xff\xfe\"}").find("invalid JSON") != std::string::npos);
  CHECK(refusal("{\"consentry_policy\": 1e999}").find("invalid JSON") != std::string::npos);
  CHECK(refusal(std::string(200000, '[') + std::string(200000, ']')) ==
        "test.json: line 1, column 65: JSON nested deeper than 64 levels");
  CHECK(refusal(std::string(100000, '{')).find("invalid JSON") != std::string::npos);
  CHECK(refusal(std::string(5 * 1024 * 1024, ' ')).find("larger than") != std::string::npos);
  // Control characters in a key cannot break the message onto a new line.
  Json j = retail();
  j["bad\nkey"] = 1;
  const std::string msg = refusal(j.dump());
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(msg.find("\\x0a") != std::string::npos);
}

TEST_CASE("the shipped example policies load") {
  for (const char* name : {"valid_retail.json", "valid_clinic.json"}) {
    CAPTURE(name);
    auto p = Policy::load(kData / name);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
    CHECK_FALSE(p->fields().empty());
  }
  const auto examples = std::filesystem::path(CONSENTRY_SOURCE_DIR) / "examples" / "policies";
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(examples)) {
    if (entry.path().extension() != ".json") continue;
    CAPTURE(entry.path().string());
    auto p = Policy::load(entry.path());
    CHECK_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
    ++loaded;
  }
  CHECK(loaded >= 2);
}

TEST_CASE("load names the file and reports unreadable files as io") {
  auto missing = Policy::load(kData / "no_such_policy.json");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().code == errc::io);
  CHECK(missing.err().message.find("no_such_policy.json") != std::string::npos);

  auto bad = Policy::load(kData / "bad_form.json");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.err().code == errc::bad_input);
  CHECK(
      starts_with(bad.err().message, (kData / "bad_form.json").string() + ": $.fields[2].access.service: "));

  auto syntax = Policy::load(kData / "syntax_error.json");
  REQUIRE_FALSE(syntax.ok());
  CHECK(syntax.err().message.find(": line 4, column ") != std::string::npos);
}

TEST_CASE("every malformed policy file in tests/data is refused") {
  int refused = 0;
  for (const auto& entry : std::filesystem::directory_iterator(kData)) {
    const std::string name = entry.path().filename().string();
    if (!starts_with(name, "bad_")) continue;
    CAPTURE(name);
    auto p = Policy::load(entry.path());
    CHECK_FALSE(p.ok());
    ++refused;
  }
  CHECK(refused >= 8);
}

TEST_CASE("to_json round-trips through parse") {
  for (const char* name : {"valid_retail.json", "valid_clinic.json"}) {
    CAPTURE(name);
    auto p = Policy::load(kData / name);
    REQUIRE(p.ok());
    const std::string once = p->to_json();
    auto again = Policy::parse(once, "round-trip");
    REQUIRE_MESSAGE(again.ok(), (again.ok() ? "" : again.err().message));
    CHECK(again->to_json() == once);
    // The canonical text says the same as the original file, key for key.
    CHECK(Json::parse(once) == Json::parse(Policy::parse(read_text(kData / name))->to_json()));
    REQUIRE(again->fields().size() == p->fields().size());
    for (std::size_t i = 0; i < p->fields().size(); ++i) {
      const auto& a = p->fields()[i];
      const auto& b = again->fields()[i];
      CHECK(a.name == b.name);
      CHECK(a.type == b.type);
      CHECK(a.category == b.category);
      CHECK(a.retention == b.retention);
      CHECK(a.sources == b.sources);
      CHECK(a.derived_from == b.derived_from);
      CHECK(a.access == b.access);
      CHECK(a.description == b.description);
    }
    REQUIRE(again->purposes().size() == p->purposes().size());
    for (std::size_t i = 0; i < p->purposes().size(); ++i) {
      const auto& a = p->purposes()[i];
      const auto& b = again->purposes()[i];
      CHECK(a.id == b.id);
      CHECK(a.basis == b.basis);
      CHECK(a.consent_valid_for == b.consent_valid_for);
      CHECK(a.contact_limit.has_value() == b.contact_limit.has_value());
      if (a.contact_limit && b.contact_limit) {
        CHECK(a.contact_limit->max == b.contact_limit->max);
        CHECK(a.contact_limit->per == b.contact_limit->per);
      }
      CHECK(a.automated_decision == b.automated_decision);
      CHECK(a.privacy_budget == b.privacy_budget);
      CHECK(a.description == b.description);
    }
    CHECK(again->controller().name == p->controller().name);
    CHECK(again->controller().contact == p->controller().contact);
  }
}

TEST_CASE("lookups find what the policy declares and nothing else") {
  auto p = Policy::load(kData / "valid_retail.json");
  REQUIRE(p.ok());
  const auto* m = p->purpose("marketing.email");
  REQUIRE(m != nullptr);
  CHECK(m->basis == Basis::consent);
  REQUIRE(m->consent_valid_for.has_value());
  CHECK(m->consent_valid_for->months == 24);
  REQUIRE(m->contact_limit.has_value());
  CHECK(m->contact_limit->max == 2);
  CHECK(m->contact_limit->per.days == 7);
  CHECK(p->purpose("marketing") == nullptr);
  CHECK(p->purpose("") == nullptr);
  REQUIRE(p->purpose("analytics") != nullptr);
  CHECK(p->purpose("analytics")->privacy_budget == 1.0);

  const auto* email = p->field("email");
  REQUIRE(email != nullptr);
  CHECK(email->type == FieldType::email);
  REQUIRE(email->retention.has_value());
  CHECK(email->retention->years == 3);
  REQUIRE(email->form_for("analytics") != nullptr);
  CHECK(email->form_for("analytics")->kind == FormKind::pseudonym);
  CHECK(email->form_for("profiling") == nullptr);
  CHECK(email->form_for("marketing") == nullptr);
  const auto* phone = p->field("phone");
  REQUIRE(phone != nullptr);
  REQUIRE(phone->form_for("service") != nullptr);
  CHECK(phone->form_for("service")->kind == FormKind::mask_last);
  CHECK(phone->form_for("service")->n == 4);
  CHECK(p->field("Email") == nullptr);
  CHECK(p->field("nope") == nullptr);

  const auto* child = p->field("expecting_child");
  REQUIRE(child != nullptr);
  CHECK(child->is_inferred());
  CHECK(child->derived_from == std::vector<std::string>{"birth_date"});
  CHECK_FALSE(email->is_inferred());
  REQUIRE(p->field("credit_score") != nullptr);
  CHECK(p->field("credit_score")->sources == std::vector<std::string>{"credit-bureau"});

  REQUIRE(p->accessor("support-desk") != nullptr);
  CHECK(p->accessor("support-desk")->purposes == std::vector<std::string>{"service"});
  CHECK(p->accessor("support") == nullptr);
  CHECK(p->controller().name == "Acme Retail Ltd");

  // A copy keeps working lookups (the indexes hold positions, not pointers).
  const Policy copy = *p;
  REQUIRE(copy.field("email") != nullptr);
  CHECK(copy.field("email")->name == "email");
}

TEST_CASE("accessor_may_use matches purposes exactly") {
  const std::string text = R"({
    "consentry_policy": 1,
    "purposes": [{"id": "marketing", "basis": "consent"},
                 {"id": "marketing.email", "basis": "consent"},
                 {"id": "service", "basis": "contract"}],
    "accessors": [{"id": "campaigns", "purposes": ["marketing.email"]},
                  {"id": "broadcast", "purposes": ["marketing", "service"]}],
    "fields": []
  })";
  auto p = Policy::parse(text);
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
  CHECK(p->accessor_may_use("campaigns", "marketing.email"));
  CHECK_FALSE(p->accessor_may_use("campaigns", "marketing"));
  CHECK_FALSE(p->accessor_may_use("campaigns", "marketing.e"));
  CHECK(p->accessor_may_use("broadcast", "marketing"));
  CHECK(p->accessor_may_use("broadcast", "service"));
  CHECK_FALSE(p->accessor_may_use("broadcast", "marketing.email"));
  CHECK_FALSE(p->accessor_may_use("unknown", "marketing"));
  CHECK_FALSE(p->accessor_may_use("", ""));
}

TEST_CASE("parse_basis and to_string agree on every basis") {
  for (Basis b : {Basis::consent, Basis::contract, Basis::legal_obligation, Basis::legitimate_interest,
                  Basis::vital_interest, Basis::public_task}) {
    const auto parsed = consentry::parse_basis(consentry::to_string(b));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == b);
  }
  CHECK_FALSE(consentry::parse_basis("Consent").has_value());
  CHECK_FALSE(consentry::parse_basis("").has_value());
  CHECK_FALSE(consentry::parse_basis("legitimate interest").has_value());
}

TEST_CASE("optional parts may be left out") {
  const std::string text = R"({"consentry_policy": 1, "purposes": [], "accessors": [], "fields": []})";
  auto p = Policy::parse(text);
  REQUIRE(p.ok());
  CHECK(p->purposes().empty());
  CHECK(p->controller().name.empty());
  auto again = Policy::parse(p->to_json());
  CHECK(again.ok());
  // The default origin names the policy.
  auto bad = Policy::parse("[]");
  REQUIRE_FALSE(bad.ok());
  CHECK(starts_with(bad.err().message, "policy: $: "));
}
