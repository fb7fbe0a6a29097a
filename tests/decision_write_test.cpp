// decision_write_test.cpp: decide_write() against a reference read from the policy's declared
// lists, for every field and source (declared or not) and every profiling position; and the one
// consent-status rule (consent_status) that ConsentState and the vault's ledger scans share.
#include <doctest/doctest.h>

#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "consentry/decision.hpp"
#include "support/anonymise_policy.hpp"
#include "support/consent_event.hpp"
#include "support/retail_policy.hpp"

using namespace consentry;
using namespace std::chrono_literals;

namespace {

using Json = nlohmann::ordered_json;

const timestamp kNow = timestamp{} + std::chrono::seconds(1'800'000'000);

constexpr std::array kStatuses = {ConsentStatus::none, ConsentStatus::granted, ConsentStatus::withdrawn,
                                  ConsentStatus::expired, ConsentStatus::objected};

// reference_decide_write follows decide_write()'s documented deny order over the policy's
// declared lists, without the policy's lookup tables.
Decision reference_decide_write(const Policy& policy, const std::string& field, const std::string& source,
                                ConsentStatus profiling) {
  const FieldSpec* f = nullptr;
  for (const FieldSpec& g : policy.fields())
    if (g.name == field) f = &g;
  if (!f) return Decision::deny(deny_reason::unknown_field);
  bool listed = f->sources.empty();
  for (const std::string& s : f->sources) listed = listed || s == source;
  if (!listed) return Decision::deny(deny_reason::source_not_permitted);
  if (f->category == "inferred" && profiling != ConsentStatus::granted)
    return Decision::deny(deny_reason::inference_needs_profiling);
  return Decision::allow(Form{});
}

bool same(const Decision& a, const Decision& b) {
  return a.allowed == b.allowed && a.reason == b.reason;
}

// variants lists `declared` plus ids no policy declares: the empty id, prefixes, extensions and
// case changes of the first few.
std::vector<std::string> variants(std::vector<std::string> declared) {
  std::vector<std::string> ids{"", "x", "import", "inference", std::string(200, 'a')};
  const std::size_t n = declared.size();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string id = declared[i];
    ids.push_back(id);
    if (i >= 4 || id.empty()) continue;
    ids.push_back(id.substr(0, id.size() - 1));
    ids.push_back(id + "x");
    std::string upper = id;
    upper[0] = static_cast<char>(upper[0] - 'a' + 'A');
    ids.push_back(upper);
  }
  return ids;
}

// check_against_reference compares decide_write() with the reference for every field x source x
// profiling position.
void check_against_reference(const Policy& policy) {
  std::vector<std::string> names, sources;
  for (const FieldSpec& f : policy.fields()) {
    names.push_back(f.name);
    for (const std::string& s : f.sources) sources.push_back(s);
  }
  const auto fields = variants(names);
  const auto all_sources = variants(sources);
  std::size_t checked = 0, refused_source = 0, refused_inference = 0;
  for (const std::string& f : fields) {
    for (const std::string& s : all_sources) {
      for (ConsentStatus profiling : kStatuses) {
        const Decision expected = reference_decide_write(policy, f, s, profiling);
        const Decision got = decide_write(policy, f, s, profiling);
        if (!same(got, expected)) {
          CAPTURE(f);
          CAPTURE(s);
          CAPTURE(to_string(profiling));
          CAPTURE(to_string(expected.reason));
          REQUIRE(same(got, expected));
        }
        ++checked;
        refused_source += expected.reason == deny_reason::source_not_permitted;
        refused_inference += expected.reason == deny_reason::inference_needs_profiling;
      }
    }
  }
  CHECK(checked > 0);
  // Each policy with a sourced field exercises the source rule, one with an inferred field the
  // profiling rule.
  if (!sources.empty()) CHECK(refused_source > 0);
  for (const FieldSpec& f : policy.fields())
    if (f.is_inferred()) {
      CHECK(refused_inference > 0);
      break;
    }
}

// generated_policy declares fields with source lists (some empty, some overlapping, one source
// a prefix of another) and inferred fields, drawn by `seed`.
Policy generated_policy(unsigned seed) {
  std::mt19937 rng(seed);
  static constexpr const char* kSources[] = {"web",     "web-signup", "crm",      "credit-bureau",
                                             "partner", "import",     "inference"};
  Json fields = Json::array();
  for (int f = 0; f < 30; ++f) {
    Json field{{"name", "field_" + std::to_string(f)}, {"type", "string"}};
    if (f % 4 == 3) {
      field["category"] = "inferred";
      field["derived_from"] = Json::array({"field_0"});
    } else {
      field["category"] = "contact";
    }
    if (rng() % 3 != 0) {
      Json list = Json::array();
      for (const char* s : kSources)
        if (rng() % 3 == 0) list.push_back(s);
      if (list.empty()) list.push_back(kSources[rng() % 7]);
      field["sources"] = list;
    }
    field["access"] = Json{{"service", "clear"}};
    fields.push_back(field);
  }
  Json root{{"consentry_policy", 1},
            {"purposes", Json::array({Json{{"id", "service"}, {"basis", "contract"}},
                                      Json{{"id", "profiling"}, {"basis", "consent"}}})},
            {"accessors", Json::array({Json{{"id", "app"}, {"purposes", Json::array({"service"})}}})},
            {"fields", fields}};
  auto p = Policy::parse(root.dump(), "generated");
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
  return std::move(*p);
}

}  // namespace

TEST_CASE("decide_write agrees with the declared lists for the test and example policies") {
  check_against_reference(test::retail_policy());
  check_against_reference(test::anonymise_policy());
  const auto data = std::filesystem::path(CONSENTRY_TEST_DATA) / "policies";
  const auto examples = std::filesystem::path(CONSENTRY_SOURCE_DIR) / "examples" / "policies";
  for (const auto& file : {data / "valid_retail.json", data / "valid_clinic.json", examples / "retail.json",
                           examples / "clinic.json"}) {
    CAPTURE(file.string());
    auto p = Policy::load(file);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
    check_against_reference(*p);
  }
}

TEST_CASE("decide_write agrees with the declared lists for generated source lists") {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAPTURE(seed);
    check_against_reference(generated_policy(seed));
  }
}

TEST_CASE("decide_write refuses the source before the missing profiling consent") {
  const Policy policy = generated_policy(1);
  for (const FieldSpec& f : policy.fields()) {
    if (!f.is_inferred() || f.sources.empty()) continue;
    const Decision d = decide_write(policy, f.name, "no-such-source", ConsentStatus::withdrawn);
    CHECK_FALSE(d.allowed);
    CHECK(d.reason == deny_reason::source_not_permitted);
    CHECK(decide_write(policy, f.name, f.sources.front(), ConsentStatus::withdrawn).reason ==
          deny_reason::inference_needs_profiling);
    CHECK(decide_write(policy, f.name, f.sources.front(), ConsentStatus::granted).allowed);
  }
  CHECK(decide_write(policy, "undeclared", "web", ConsentStatus::granted).reason ==
        deny_reason::unknown_field);
}

TEST_CASE("consent_status is the rule ConsentState applies to a purpose's deciding event") {
  using test::consent_event;
  CHECK(consent_status(std::nullopt, std::nullopt, kNow) == ConsentStatus::none);
  CHECK(consent_status(ConsentAction::grant, std::nullopt, kNow) == ConsentStatus::granted);
  CHECK(consent_status(ConsentAction::grant, kNow + 1s, kNow) == ConsentStatus::granted);
  CHECK(consent_status(ConsentAction::grant, kNow, kNow) == ConsentStatus::expired);
  CHECK(consent_status(ConsentAction::withdraw, std::nullopt, kNow) == ConsentStatus::withdrawn);
  CHECK(consent_status(ConsentAction::object, std::nullopt, kNow) == ConsentStatus::objected);
  for (ConsentAction action : {ConsentAction::grant, ConsentAction::withdraw, ConsentAction::object}) {
    for (std::optional<timestamp> expires :
         {std::optional<timestamp>{}, std::optional<timestamp>{kNow - 1s}, std::optional<timestamp>{kNow},
          std::optional<timestamp>{kNow + 1s}}) {
      const ConsentState state =
          ConsentState::from_history({consent_event("p", action, kNow - 10s, expires)});
      CHECK(state.status("p", kNow) == consent_status(action, expires, kNow));
    }
  }
  CHECK(ConsentState{}.status("p", kNow) == consent_status(std::nullopt, std::nullopt, kNow));
}
