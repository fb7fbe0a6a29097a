// policy_signals_test.cpp: the policy's "signals" mapping (docs/consent-signals.md): what it
// accepts, what it refuses with the JSON path of the problem, and its canonical form.
#include <doctest/doctest.h>

#include <string>

#include "consentry/policy.hpp"
#include "consentry/policy_diff.hpp"
#include "support/retail_policy.hpp"

using namespace consentry;

namespace {

/// with_signals is the retail policy with `signals` as its "signals" member.
std::string with_signals(const std::string& signals) {
  std::string text(test::kRetailPolicy);
  text.replace(text.rfind('}'), 1, ",\n  \"signals\": " + signals + "\n}");
  return text;
}

}  // namespace

TEST_CASE("a signals mapping is read, kept in the canonical form, and read back the same") {
  auto p = Policy::parse(with_signals(R"({
    "tcf": {"vendor_id": 755, "purposes": {"marketing.email": [1, 4], "profiling": [1, 3]}},
    "gpp_usnat": {"sale_opt_out": ["marketing"], "targeted_advertising_opt_out": ["marketing", "analytics"]},
    "gpc": ["marketing", "research"]})"));
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  const SignalMapping& m = p->signals();
  REQUIRE(m.tcf.has_value());
  CHECK(m.tcf->vendor_id == 755);
  REQUIRE(m.tcf->purposes.size() == 2);
  CHECK(m.tcf->purposes[0].first == "marketing.email");
  CHECK(m.tcf->purposes[0].second == std::vector<int>{1, 4});
  REQUIRE(m.gpp_usnat.size() == 2);
  CHECK(m.gpp_usnat[0].first == "sale_opt_out");
  CHECK(m.gpc == std::vector<std::string>{"marketing", "research"});
  auto again = Policy::parse(p->to_json());
  REQUIRE(again.ok());
  CHECK(again->to_json() == p->to_json());
  CHECK(again->signals().tcf->purposes == m.tcf->purposes);
  CHECK(again->signals().gpp_usnat == m.gpp_usnat);

  // A policy without signals maps none, and its canonical form has no "signals".
  auto plain = Policy::parse(test::kRetailPolicy);
  REQUIRE(plain.ok());
  CHECK(plain->signals().empty());
  CHECK(plain->to_json().find("signals") == std::string::npos);
}

TEST_CASE("a signals mapping that names the wrong purposes or values is refused at its JSON path") {
  struct Case {
    const char* signals;
    const char* path;
    const char* says;
  };
  const Case cases[] = {
      {R"([])", "$.signals", "must be an object"},
      {R"({"iab": {}})", "$.signals.iab", "unknown key"},
      {R"({"tcf": {"purposes": {"marketing": [1]}}})", "$.signals.tcf", "vendor_id"},
      {R"({"tcf": {"vendor_id": 0, "purposes": {"marketing": [1]}}})", "$.signals.tcf.vendor_id",
       "1 to 65535"},
      {R"({"tcf": {"vendor_id": 70000, "purposes": {"marketing": [1]}}})", "$.signals.tcf.vendor_id",
       "1 to 65535"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {}}})", "$.signals.tcf.purposes", "at least one purpose"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"newsletter": [1]}}})", "$.signals.tcf.purposes.newsletter",
       "unknown purpose"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"analytics": [1]}}})", "$.signals.tcf.purposes.analytics",
       "rests on legitimate_interest"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"marketing": []}}})", "$.signals.tcf.purposes.marketing",
       "at least one TCF purpose"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"marketing": [25]}}})", "$.signals.tcf.purposes.marketing[0]",
       "1 to 24"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"marketing": [1, "2"]}}})",
       "$.signals.tcf.purposes.marketing[1]", "1 to 24"},
      {R"({"tcf": {"vendor_id": 7, "purposes": {"marketing": [1, 1]}}})",
       "$.signals.tcf.purposes.marketing[1]", "duplicate TCF purpose 1"},
      {R"({"gpp_usnat": {"sale": ["marketing"]}})", "$.signals.gpp_usnat.sale", "unknown key"},
      {R"({"gpp_usnat": {"sale_opt_out": []}})", "$.signals.gpp_usnat.sale_opt_out", "must not be empty"},
      {R"({"gpp_usnat": {"sale_opt_out": ["service"]}})", "$.signals.gpp_usnat.sale_opt_out[0]",
       "rests on contract"},
      {R"({"gpc": ["marketing", "marketing"]})", "$.signals.gpc[1]", "duplicate"},
      {R"({"gpc": ["nobody"]})", "$.signals.gpc[0]", "unknown purpose"},
  };
  for (const Case& c : cases) {
    INFO(c.signals);
    auto p = Policy::parse(with_signals(c.signals), "p.json");
    REQUIRE_FALSE(p.ok());
    CHECK(p.err().code == errc::bad_input);
    CHECK(p.err().message.find(std::string("p.json: ") + c.path + ":") != std::string::npos);
    CHECK(p.err().message.find(c.says) != std::string::npos);
  }
}

TEST_CASE("a change of the signals mapping alone is a neutral policy change") {
  auto plain = Policy::parse(test::kRetailPolicy);
  auto mapped = Policy::parse(with_signals(R"({"gpc": ["marketing"]})"));
  auto remapped = Policy::parse(with_signals(R"({"gpc": ["marketing", "analytics"]})"));
  REQUIRE((plain.ok() && mapped.ok() && remapped.ok()));
  for (const auto& [a, b] :
       {std::pair{&*plain, &*mapped}, std::pair{&*mapped, &*remapped}, std::pair{&*mapped, &*plain}}) {
    const PolicyDiff d = diff_policies(*a, *b);
    REQUIRE(d.changes.size() == 1);
    CHECK(d.changes[0].kind == PolicyChangeKind::signals_changed);
    CHECK(d.changes[0].effect == ChangeEffect::neutral);
    CHECK(d.changes[0].describe().find("policy: signals_changed") == 0);
    CHECK(d.consent_to_renew().empty());
  }
  CHECK(diff_policies(*mapped, *mapped).empty());
}
