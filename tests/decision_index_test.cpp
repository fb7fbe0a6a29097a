// decision_index_test.cpp: the policy's derived lookup tables and the flat consent state agree
// with the slow path (the policy's declared lists and the consent history read directly).
#include <doctest/doctest.h>

#include <algorithm>
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

using consentry::test::consent_event;

// reference_status reads the history itself: the last event of the purpose decides.
ConsentStatus reference_status(const std::vector<ConsentEvent>& history, std::string_view purpose,
                               timestamp now) {
  const ConsentEvent* last = nullptr;
  for (const ConsentEvent& e : history)
    if (e.purpose == purpose) last = &e;
  if (!last) return ConsentStatus::none;
  if (last->action == ConsentAction::withdraw) return ConsentStatus::withdrawn;
  if (last->action == ConsentAction::object) return ConsentStatus::objected;
  if (last->expires_at && *last->expires_at <= now) return ConsentStatus::expired;
  return ConsentStatus::granted;
}

// reference_decide follows decide()'s documented deny order over the policy's declared lists,
// without the policy's lookup tables. An empty accessor means decide_for_purpose.
Decision reference_decide(const Policy& policy, const std::vector<ConsentEvent>& history,
                          const std::string& accessor, const std::string& purpose, const std::string& field,
                          bool with_accessor) {
  const Purpose* p = nullptr;
  for (const Purpose& q : policy.purposes())
    if (q.id == purpose) p = &q;
  if (!p) return Decision::deny(deny_reason::unknown_purpose);
  if (with_accessor) {
    bool registered = false;
    for (const AccessorSpec& a : policy.accessors())
      if (a.id == accessor)
        for (const std::string& ap : a.purposes) registered = registered || ap == purpose;
    if (!registered) return Decision::deny(deny_reason::accessor_not_registered);
  }
  const FieldSpec* f = nullptr;
  for (const FieldSpec& g : policy.fields())
    if (g.name == field) f = &g;
  if (!f) return Decision::deny(deny_reason::unknown_field);
  const Form* form = nullptr;
  for (const auto& [id, fm] : f->access)
    if (id == purpose) form = &fm;
  if (!form) return Decision::deny(deny_reason::purpose_not_allowed_for_field);
  if (f->category == "inferred" && reference_status(history, "profiling", kNow) != ConsentStatus::granted)
    return Decision::deny(deny_reason::inference_needs_profiling);
  const ConsentStatus status = reference_status(history, purpose, kNow);
  switch (p->basis) {
    case Basis::consent:
      switch (status) {
        case ConsentStatus::granted: return Decision::allow(*form);
        case ConsentStatus::none: return Decision::deny(deny_reason::no_consent);
        case ConsentStatus::withdrawn: return Decision::deny(deny_reason::withdrawn);
        case ConsentStatus::expired: return Decision::deny(deny_reason::expired);
        case ConsentStatus::objected: return Decision::deny(deny_reason::objected);
      }
      break;
    case Basis::legitimate_interest:
    case Basis::public_task:
      if (status == ConsentStatus::objected) return Decision::deny(deny_reason::objected);
      return Decision::allow(*form);
    default: return Decision::allow(*form);
  }
  return Decision::deny(deny_reason::no_consent);
}

bool same(const Decision& a, const Decision& b) {
  return a.allowed == b.allowed && a.reason == b.reason && (!a.allowed || a.form == b.form);
}

// history_for gives each of `purposes` a consent position chosen by `rng`, with some purposes
// changing their mind along the way, and a grant for a purpose no policy declares.
std::vector<ConsentEvent> history_for(const std::vector<std::string>& purposes, std::mt19937& rng) {
  std::vector<ConsentEvent> h;
  h.push_back(consent_event("undeclared.purpose", ConsentAction::grant, kNow - 100s));
  for (const std::string& p : purposes) {
    switch (rng() % 6) {
      case 0: break;
      case 1: h.push_back(consent_event(p, ConsentAction::grant, kNow - 50s, kNow + 1s)); break;
      case 2:
        h.push_back(consent_event(p, ConsentAction::grant, kNow - 50s));
        h.push_back(consent_event(p, ConsentAction::withdraw, kNow - 40s));
        break;
      case 3: h.push_back(consent_event(p, ConsentAction::grant, kNow - 50s, kNow)); break;
      case 4: h.push_back(consent_event(p, ConsentAction::object, kNow - 50s)); break;
      case 5:
        h.push_back(consent_event(p, ConsentAction::object, kNow - 50s));
        h.push_back(consent_event(p, ConsentAction::grant, kNow - 40s));
        break;
    }
  }
  // Interleave purposes so that a later event of one purpose follows other purposes' events.
  std::stable_sort(h.begin(), h.end(),
                   [](const ConsentEvent& a, const ConsentEvent& b) { return a.at < b.at; });
  return h;
}

// ids_of lists the declared ids plus ids a policy does not declare: prefixes, extensions, case
// changes (of the first few), the empty id and a long one.
template <class T>
std::vector<std::string> ids_of(const std::vector<T>& items, std::string T::*key) {
  std::vector<std::string> ids{"", "x", "profiling", std::string(200, 'a'), "marketing", "marketing.e"};
  for (const T& item : items) ids.push_back(item.*key);
  for (std::size_t i = 0; i < items.size() && i < 4; ++i) {
    const std::string& id = items[i].*key;
    ids.push_back(id.substr(0, id.size() - 1));
    ids.push_back(id + "x");
    std::string upper = id;
    upper[0] = static_cast<char>(upper[0] - 'a' + 'A');
    ids.push_back(upper);
  }
  return ids;
}

// check_against_reference compares decide() and decide_for_purpose() with the reference for
// every accessor x purpose x field (declared or not) under several consent histories.
void check_against_reference(const Policy& policy, unsigned seed) {
  const auto accessors = ids_of(policy.accessors(), &AccessorSpec::id);
  const auto purposes = ids_of(policy.purposes(), &Purpose::id);
  const auto fields = ids_of(policy.fields(), &FieldSpec::name);
  std::mt19937 rng(seed);
  std::size_t checked = 0;
  for (int round = 0; round < 3; ++round) {
    const std::vector<ConsentEvent> history =
        round == 0 ? std::vector<ConsentEvent>{} : history_for(purposes, rng);
    const ConsentState state = ConsentState::from_history(history);
    for (const std::string& p : purposes) {
      CAPTURE(p);
      REQUIRE(state.status(p, kNow) == reference_status(history, p, kNow));
      for (const std::string& f : fields) {
        const Decision slow = reference_decide(policy, history, "", p, f, false);
        if (!same(decide_for_purpose(policy, state, p, f, kNow), slow)) {
          CAPTURE(f);
          REQUIRE(same(decide_for_purpose(policy, state, p, f, kNow), slow));
        }
        for (const std::string& a : accessors) {
          const Decision expected = reference_decide(policy, history, a, p, f, true);
          if (!same(decide(policy, state, a, p, f, kNow), expected)) {
            CAPTURE(f);
            CAPTURE(a);
            REQUIRE(same(decide(policy, state, a, p, f, kNow), expected));
          }
          ++checked;
        }
      }
    }
  }
  CHECK(checked > 0);
}

// generated_policy declares many purposes (some prefixes of others), accessors and fields with
// access drawn by `seed`. shuffle_seed != 0 permutes every list and object of the same policy.
std::string generated_policy(unsigned seed, unsigned shuffle_seed) {
  std::mt19937 rng(seed);
  std::vector<std::string> ids{"profiling",      "m", "m.e", "m.email", "m.email.x", "marketing",
                               "marketing.email"};
  for (int i = 0; i < 30; ++i) ids.push_back("p" + std::to_string(i));
  static constexpr const char* kBases[] = {
      "consent", "contract", "legal_obligation", "legitimate_interest", "vital_interest", "public_task"};
  static constexpr const char* kForms[] = {"clear", "redact", "pseudonym", "mask:last4",
                                           "generalise:prefix:3"};
  Json purposes = Json::array();
  for (std::size_t i = 0; i < ids.size(); ++i)
    purposes.push_back(Json{{"id", ids[i]}, {"basis", kBases[rng() % 6]}});
  Json accessors = Json::array();
  for (int a = 0; a < 12; ++a) {
    Json list = Json::array();
    for (const std::string& id : ids)
      if (rng() % 4 == 0) list.push_back(id);
    if (list.empty()) list.push_back(ids[rng() % ids.size()]);
    accessors.push_back(Json{{"id", "acc-" + std::to_string(a)}, {"purposes", list}});
  }
  Json fields = Json::array();
  for (int f = 0; f < 25; ++f) {
    Json access = Json::object();
    for (const std::string& id : ids)
      if (rng() % 3 == 0) access[id] = kForms[rng() % 5];
    Json field{{"name", "field_" + std::to_string(f)}, {"type", "string"}};
    if (f % 5 == 4) {
      field["category"] = "inferred";
      field["derived_from"] = Json::array({"field_0"});
    } else {
      field["category"] = "contact";
    }
    field["access"] = access;
    fields.push_back(field);
  }
  if (shuffle_seed != 0) {
    std::mt19937 shuffle(shuffle_seed);
    auto permute = [&shuffle](Json& array) {
      std::vector<Json> items(array.begin(), array.end());
      std::shuffle(items.begin(), items.end(), shuffle);
      array = Json(items);
    };
    permute(purposes);
    permute(accessors);
    for (Json& a : accessors) permute(a["purposes"]);
    permute(fields);
    for (Json& f : fields) {
      std::vector<std::pair<std::string, Json>> kept;
      for (const auto& item : f["access"].items()) kept.emplace_back(item.key(), item.value());
      std::shuffle(kept.begin(), kept.end(), shuffle);
      Json access = Json::object();
      for (auto& [k, v] : kept) access[k] = v;
      f["access"] = access;
    }
  }
  Json root{{"consentry_policy", 1}, {"purposes", purposes}, {"accessors", accessors}, {"fields", fields}};
  return root.dump();
}

Policy parsed(const std::string& text) {
  auto p = Policy::parse(text, "generated");
  REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
  return std::move(*p);
}

}  // namespace

TEST_CASE("decide agrees with the declared lists for the test and example policies") {
  check_against_reference(test::retail_policy(), 1);
  check_against_reference(test::anonymise_policy(), 2);
  const auto data = std::filesystem::path(CONSENTRY_TEST_DATA) / "policies";
  const auto examples = std::filesystem::path(CONSENTRY_SOURCE_DIR) / "examples" / "policies";
  unsigned seed = 3;
  for (const auto& file : {data / "valid_retail.json", data / "valid_clinic.json", examples / "retail.json",
                           examples / "clinic.json"}) {
    CAPTURE(file.string());
    auto p = Policy::load(file);
    REQUIRE_MESSAGE(p.ok(), (p.ok() ? "" : p.err().message));
    check_against_reference(*p, seed++);
  }
}

TEST_CASE("decide agrees with the declared lists whatever order the policy declares them in") {
  const Policy plain = parsed(generated_policy(7, 0));
  check_against_reference(plain, 11);
  for (unsigned shuffle = 1; shuffle <= 3; ++shuffle) {
    CAPTURE(shuffle);
    const Policy permuted = parsed(generated_policy(7, shuffle));
    auto order = [](const Policy& p) {
      std::vector<std::string> ids;
      for (const Purpose& q : p.purposes()) ids.push_back(q.id);
      return ids;
    };
    REQUIRE(order(permuted) != order(plain));
    check_against_reference(permuted, 11 + shuffle);
    // The same policy in another order decides the same, purpose by purpose.
    const ConsentState granted_all = [&] {
      ConsentState s;
      for (const Purpose& p : plain.purposes()) s.apply(consent_event(p.id, ConsentAction::grant, kNow - 1s));
      return s;
    }();
    for (const AccessorSpec& a : plain.accessors())
      for (const Purpose& p : plain.purposes())
        for (const FieldSpec& f : plain.fields())
          REQUIRE(same(decide(plain, granted_all, a.id, p.id, f.name, kNow),
                       decide(permuted, granted_all, a.id, p.id, f.name, kNow)));
  }
}

TEST_CASE("a copied or moved policy keeps lookups that match its own lists") {
  Policy copy = test::retail_policy();
  {
    const Policy original = parsed(generated_policy(5, 0));
    copy = original;
  }
  check_against_reference(copy, 21);
  Policy moved = std::move(copy);
  check_against_reference(moved, 22);
  const Policy copied_again(moved);
  check_against_reference(copied_again, 23);
  for (std::size_t i = 0; i < moved.purposes().size(); ++i) {
    CHECK(moved.purpose_index(moved.purposes()[i].id) == i);
    CHECK(moved.purpose(moved.purposes()[i].id) == &moved.purposes()[i]);
  }
}

TEST_CASE("position lookups agree with the id lookups and refuse what is not declared") {
  const Policy policy = test::retail_policy();
  for (std::size_t a = 0; a < policy.accessors().size(); ++a) {
    CHECK(policy.accessor_index(policy.accessors()[a].id) == a);
    CHECK(policy.accessor(policy.accessors()[a].id) == &policy.accessors()[a]);
    for (std::size_t p = 0; p < policy.purposes().size(); ++p)
      CHECK(policy.accessor_permits(a, p) ==
            policy.accessor_may_use(policy.accessors()[a].id, policy.purposes()[p].id));
    CHECK_FALSE(policy.accessor_permits(a, Policy::kNoIndex));
    CHECK_FALSE(policy.accessor_permits(a, policy.purposes().size()));
  }
  for (std::size_t f = 0; f < policy.fields().size(); ++f) {
    const FieldSpec& spec = policy.fields()[f];
    CHECK(policy.field_index(spec.name) == f);
    for (std::size_t p = 0; p < policy.purposes().size(); ++p) {
      const Form* slow = spec.form_for(policy.purposes()[p].id);
      const Form* fast = policy.form_at(f, p);
      REQUIRE((slow == nullptr) == (fast == nullptr));
      if (slow) CHECK(*slow == *fast);
    }
    CHECK(policy.form_at(f, Policy::kNoIndex) == nullptr);
  }
  CHECK_FALSE(policy.accessor_permits(Policy::kNoIndex, 0));
  CHECK(policy.form_at(Policy::kNoIndex, 0) == nullptr);
  CHECK(policy.form_at(policy.fields().size(), 0) == nullptr);
  CHECK(policy.purpose_index("") == Policy::kNoIndex);
  CHECK(policy.purpose_index("marketing.emai") == Policy::kNoIndex);
  CHECK(policy.field_index("Email") == Policy::kNoIndex);
  CHECK(policy.accessor_index(std::string(1000, 'e')) == Policy::kNoIndex);
}

TEST_CASE("an empty policy finds nothing and denies an unknown purpose") {
  const Policy empty;
  CHECK(empty.purpose_index("service") == Policy::kNoIndex);
  CHECK(empty.accessor_index("support-desk") == Policy::kNoIndex);
  CHECK(empty.field_index("email") == Policy::kNoIndex);
  CHECK(empty.purpose("service") == nullptr);
  CHECK_FALSE(empty.accessor_may_use("support-desk", "service"));
  const Decision d = decide(empty, ConsentState{}, "support-desk", "service", "email", kNow);
  CHECK_FALSE(d.allowed);
  CHECK(d.reason == deny_reason::unknown_purpose);
}

TEST_CASE("a later consent event of a purpose overrides the earlier ones") {
  ConsentState s;
  s.apply(consent_event("marketing.email", ConsentAction::grant, kNow - 30s));
  s.apply(consent_event("marketing", ConsentAction::object, kNow - 25s));
  CHECK(s.status("marketing.email", kNow) == ConsentStatus::granted);
  s.apply(consent_event("marketing.email", ConsentAction::withdraw, kNow - 20s));
  CHECK(s.status("marketing.email", kNow) == ConsentStatus::withdrawn);
  s.apply(consent_event("marketing.email", ConsentAction::object, kNow - 15s));
  CHECK(s.status("marketing.email", kNow) == ConsentStatus::objected);
  s.apply(consent_event("marketing.email", ConsentAction::grant, kNow - 10s, kNow + 5s));
  CHECK(s.status("marketing.email", kNow) == ConsentStatus::granted);
  REQUIRE(s.last("marketing.email") != nullptr);
  CHECK(s.last("marketing.email")->at == kNow - 10s);
  CHECK(s.last("marketing.email")->action == ConsentAction::grant);
  // The other purpose, a prefix of the first, keeps its own position.
  CHECK(s.status("marketing", kNow) == ConsentStatus::objected);
  REQUIRE(s.last("marketing") != nullptr);
  CHECK(s.last("marketing")->at == kNow - 25s);
}

TEST_CASE("a grant expires at exactly its expiry instant") {
  const ConsentState s =
      ConsentState::from_history({consent_event("marketing.email", ConsentAction::grant, kNow - 10s, kNow)});
  CHECK(s.status("marketing.email", kNow - 1s) == ConsentStatus::granted);
  CHECK(s.status("marketing.email", kNow) == ConsentStatus::expired);
  CHECK(s.status("marketing.email", kNow + 1s) == ConsentStatus::expired);
  const ConsentState open =
      ConsentState::from_history({consent_event("service", ConsentAction::grant, kNow - 10s)});
  CHECK(open.status("service", kNow + std::chrono::days(36500)) == ConsentStatus::granted);
}

TEST_CASE("a purpose without events has no consent position") {
  const ConsentState s =
      ConsentState::from_history({consent_event("marketing.email", ConsentAction::grant, kNow - 10s),
                                  consent_event("analytics", ConsentAction::object, kNow)});
  for (std::string_view unknown :
       {"marketing", "marketing.emai", "marketing.email.x", "", "Analytics", "profiling"}) {
    CAPTURE(unknown);
    CHECK(s.status(unknown, kNow) == ConsentStatus::none);
    CHECK(s.last(unknown) == nullptr);
  }
  CHECK(ConsentState{}.status("analytics", kNow) == ConsentStatus::none);
  CHECK(ConsentState{}.last("analytics") == nullptr);
}
