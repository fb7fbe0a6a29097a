// policy_lookup_test.cpp: the policy's blind index settings ("lookup", "lookup_bits" on a field)
// and its "default_region" for phone numbers: read, checked with the JSON path of each problem,
// written back by to_json, and compared by the policy diff.
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "consentry/policy.hpp"
#include "consentry/policy_diff.hpp"
#include "support/retail_policy.hpp"

using consentry::errc;
using consentry::FieldSpec;
using consentry::Policy;
using Json = nlohmann::ordered_json;

namespace {

// The retail policy of support/retail_policy.hpp: fields email (0), birth_date (1), phone (2),
// credit_score (3), notes (4), expecting_child (5).
Json retail() {
  return Json::parse(consentry::test::kRetailPolicy);
}

Policy parsed(const Json& j) {
  auto p = Policy::parse(j.dump(), "test.json");
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? std::string() : p.err().message));
  return std::move(*p);
}

}  // namespace

TEST_CASE("a field's lookup lists the purposes that may search by it, with the index length") {
  Json j = retail();
  j["default_region"] = "GB";
  j["fields"][0]["lookup"] = Json::array({"service", "marketing.email"});
  j["fields"][2]["lookup"] = Json::array({"service"});
  j["fields"][2]["lookup_bits"] = 20;
  const Policy p = parsed(j);
  CHECK(p.default_region() == "GB");
  const FieldSpec& email = *p.field("email");
  CHECK(email.is_indexed());
  CHECK(email.lookup == std::vector<std::string>{"service", "marketing.email"});
  CHECK(email.lookup_bits == FieldSpec::kDefaultLookupBits);
  CHECK(email.lookup_allowed("service"));
  CHECK_FALSE(email.lookup_allowed("analytics"));  // sees it pseudonymised, may not search by it
  CHECK(p.field("phone")->lookup_bits == 20);
  CHECK_FALSE(p.field("birth_date")->is_indexed());

  // Written back and read again, the same; a policy without them keeps its old canonical text.
  const Policy again = parsed(Json::parse(p.to_json()));
  CHECK(again.to_json() == p.to_json());
  CHECK(again.field("phone")->lookup_bits == 20);
  CHECK(again.default_region() == "GB");
  const Json text = Json::parse(p.to_json());
  CHECK(text["fields"][0]["lookup"] == Json::array({"service", "marketing.email"}));
  CHECK_FALSE(text["fields"][0].contains("lookup_bits"));
  const std::string plain = parsed(retail()).to_json();
  CHECK(plain.find("lookup") == std::string::npos);
  CHECK(plain.find("default_region") == std::string::npos);
  CHECK(parsed(retail()).default_region().empty());
}

TEST_CASE("bad lookup settings and default regions are refused with their JSON path") {
  struct Case {
    const char* what;
    std::function<void(Json&)> mutate;
    const char* path;
    const char* mention;
  };
  const std::vector<Case> cases = {
      {"lookup not a list", [](Json& j) { j["fields"][0]["lookup"] = "service"; }, "$.fields[0].lookup",
       "array"},
      {"lookup empty", [](Json& j) { j["fields"][0]["lookup"] = Json::array(); }, "$.fields[0].lookup",
       "empty"},
      {"lookup by a purpose without a form",
       [](Json& j) {
         j["fields"][1]["lookup"] = Json::array({"service", "marketing.email"});
       },
       "$.fields[1].lookup[1]", "sees it"},
      {"lookup by an undeclared purpose", [](Json& j) { j["fields"][0]["lookup"] = Json::array({"sales"}); },
       "$.fields[0].lookup[0]", "sales"},
      {"lookup repeated",
       [](Json& j) {
         j["fields"][0]["lookup"] = Json::array({"service", "service"});
       },
       "$.fields[0].lookup[1]", "duplicate"},
      {"lookup on a boolean", [](Json& j) { j["fields"][5]["lookup"] = Json::array({"profiling"}); },
       "$.fields[5].lookup", "boolean"},
      {"lookup_bits without lookup", [](Json& j) { j["fields"][0]["lookup_bits"] = 16; },
       "$.fields[0].lookup_bits", "without lookup"},
      {"lookup_bits zero",
       [](Json& j) {
         j["fields"][0]["lookup"] = Json::array({"service"});
         j["fields"][0]["lookup_bits"] = 0;
       },
       "$.fields[0].lookup_bits", "from 1 to 32"},
      {"lookup_bits too many",
       [](Json& j) {
         j["fields"][0]["lookup"] = Json::array({"service"});
         j["fields"][0]["lookup_bits"] = 33;
       },
       "$.fields[0].lookup_bits", "from 1 to 32"},
      {"lookup_bits as text",
       [](Json& j) {
         j["fields"][0]["lookup"] = Json::array({"service"});
         j["fields"][0]["lookup_bits"] = "16";
       },
       "$.fields[0].lookup_bits", "integer"},
      {"lookup_bits a fraction",
       [](Json& j) {
         j["fields"][0]["lookup"] = Json::array({"service"});
         j["fields"][0]["lookup_bits"] = 16.5;
       },
       "$.fields[0].lookup_bits", "integer"},
      {"region lowercase", [](Json& j) { j["default_region"] = "gb"; }, "$.default_region", "region code"},
      {"region unknown", [](Json& j) { j["default_region"] = "XX"; }, "$.default_region", "region code"},
      {"region of three letters", [](Json& j) { j["default_region"] = "GBR"; }, "$.default_region",
       "region code"},
      {"region a number", [](Json& j) { j["default_region"] = 44; }, "$.default_region", "string"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    Json j = retail();
    c.mutate(j);
    auto r = Policy::parse(j.dump(), "test.json");
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    const std::string msg = r.err().message;
    CAPTURE(msg);
    CHECK(msg.rfind(std::string("test.json: ") + c.path + ": ", 0) == 0);
    CHECK(msg.find(c.mention) != std::string::npos);
  }
}

TEST_CASE("the policy diff names a lookup added, removed or resized, and a new default region") {
  const Policy before = parsed(retail());
  Json j = retail();
  j["fields"][0]["lookup"] = Json::array({"service"});
  j["default_region"] = "GB";
  const Policy with_lookup = parsed(j);
  j["fields"][0]["lookup_bits"] = 24;
  const Policy resized = parsed(j);

  auto described = [](const Policy& a, const Policy& b) {
    std::vector<std::string> out;
    for (const auto& c : consentry::diff_policies(a, b).changes) out.push_back(c.describe());
    return out;
  };
  CHECK(described(before, with_lookup) ==
        std::vector<std::string>{"field 'email': field_changed (lookup none -> lookup service) [neutral]",
                                 "policy: default_region_changed (none -> GB) [neutral]"});
  CHECK(
      described(with_lookup, resized) ==
      std::vector<std::string>{"field 'email': field_changed (lookup_bits 16 -> lookup_bits 24) [neutral]"});
  CHECK(described(resized, before) ==
        std::vector<std::string>{"field 'email': field_changed (lookup service -> lookup none) [neutral]",
                                 "policy: default_region_changed (GB -> none) [neutral]"});
  CHECK(described(resized, resized).empty());
}
