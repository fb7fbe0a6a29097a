#include "consentry/policy_diff.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "support/must.hpp"
#include "support/retail_policy.hpp"

using namespace consentry;
using consentry::test::kRetailPolicy;
using consentry::test::must;
using consentry::test::retail_policy;

namespace {

// edited is the retail policy with the text `what` replaced by `with` (which must occur once).
Policy edited(std::string_view what, std::string_view with) {
  std::string text(kRetailPolicy);
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(what, at + 1) == std::string::npos);
  text.replace(at, what.size(), with);
  return must(Policy::parse(text, "edited"));
}

const PolicyChange* find(const PolicyDiff& d, PolicyChangeKind k) {
  for (const PolicyChange& c : d.changes)
    if (c.kind == k) return &c;
  return nullptr;
}

struct Row {
  const char* name;
  const char* what;
  const char* with;
  PolicyChangeKind kind;
  ChangeEffect effect;
  const char* field;
  const char* purpose;
  const char* accessor;
  std::vector<std::string> renew;
};

}  // namespace

TEST_CASE("the same policy has no changes") {
  CHECK(diff_policies(retail_policy(), retail_policy()).empty());
}

TEST_CASE("every kind of change is classified") {
  const std::vector<Row> rows = {
      {"field added",
       R"({"name": "notes", "type": "string")",
       R"({"name": "shoe_size", "type": "integer", "category": "preference", "access": {}},
          {"name": "notes", "type": "string")",
       PolicyChangeKind::field_added,
       ChangeEffect::neutral,
       "shoe_size",
       "",
       "",
       {}},
      {"field removed",
       R"(,
    {"name": "notes", "type": "string", "category": "service", "access": {"service": "redact"}})",
       "",
       PolicyChangeKind::field_removed,
       ChangeEffect::destructive,
       "notes",
       "",
       "",
       {}},
      {"field type changed",
       R"("name": "notes", "type": "string")",
       R"("name": "notes", "type": "integer")",
       PolicyChangeKind::field_type_changed,
       ChangeEffect::destructive,
       "notes",
       "",
       "",
       {}},
      {"field category changed",
       R"("category": "service")",
       R"("category": "support")",
       PolicyChangeKind::field_changed,
       ChangeEffect::neutral,
       "notes",
       "",
       "",
       {}},
      {"purpose added",
       R"({"id": "research")",
       R"({"id": "surveys", "basis": "consent"},
    {"id": "research")",
       PolicyChangeKind::purpose_added,
       ChangeEffect::neutral,
       "",
       "surveys",
       "",
       {}},
      {"purpose basis from consent",
       R"("id": "marketing", "basis": "consent")",
       R"("id": "marketing", "basis": "legitimate_interest")",
       PolicyChangeKind::purpose_changed,
       ChangeEffect::widening,
       "",
       "marketing",
       "",
       {}},
      {"purpose basis to consent",
       R"("id": "research", "basis": "legitimate_interest")",
       R"("id": "research", "basis": "consent")",
       PolicyChangeKind::purpose_changed,
       ChangeEffect::tightening,
       "",
       "research",
       "",
       {}},
      {"accessor added",
       R"({"id": "support-desk")",
       R"({"id": "auditor", "purposes": ["service"]},
    {"id": "support-desk")",
       PolicyChangeKind::accessor_added,
       ChangeEffect::neutral,
       "",
       "",
       "auditor",
       {}},
      {"accessor removed",
       R"({"id": "support-desk", "purposes": ["service"]},)",
       "",
       PolicyChangeKind::accessor_removed,
       ChangeEffect::tightening,
       "",
       "",
       "support-desk",
       {}},
      {"accessor purpose added",
       R"("purposes": ["service"]})",
       R"("purposes": ["service", "analytics"]})",
       PolicyChangeKind::accessor_purpose_added,
       ChangeEffect::widening,
       "",
       "analytics",
       "support-desk",
       {}},
      {"accessor purpose removed",
       R"("purposes": ["analytics", "research"])",
       R"("purposes": ["analytics"])",
       PolicyChangeKind::accessor_purpose_removed,
       ChangeEffect::tightening,
       "",
       "research",
       "bi-dashboard",
       {}},
      {"a form given to a consent purpose",
       R"("phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4"})",
       R"("phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4", "marketing": "mask:last2"})",
       PolicyChangeKind::form_added,
       ChangeEffect::widening,
       "phone",
       "marketing",
       "",
       {"marketing"}},
      {"form made more revealing",
       R"("service": "mask:last4")",
       R"("service": "clear")",
       PolicyChangeKind::form_widened,
       ChangeEffect::widening,
       "phone",
       "service",
       "",
       {}},
      {"form made less revealing",
       R"("analytics": "generalise:year")",
       R"("analytics": "generalise:decade")",
       PolicyChangeKind::form_tightened,
       ChangeEffect::tightening,
       "birth_date",
       "analytics",
       "",
       {}},
      {"a form of a consent purpose made less revealing",
       R"("marketing.email": "clear", "analytics")",
       R"("marketing.email": "mask:last4", "analytics")",
       PolicyChangeKind::form_tightened,
       ChangeEffect::tightening,
       "email",
       "marketing.email",
       "",
       {}},
      {"a form given to a purpose on another basis",
       R"("service": "redact")",
       R"("service": "redact", "analytics": "redact")",
       PolicyChangeKind::form_added,
       ChangeEffect::widening,
       "notes",
       "analytics",
       "",
       {}},
      {"form removed",
       R"("access": {"service": "redact"})",
       R"("access": {})",
       PolicyChangeKind::form_removed,
       ChangeEffect::tightening,
       "notes",
       "service",
       "",
       {}},
      {"retention shortened",
       R"("retention": "P3Y")",
       R"("retention": "P2Y")",
       PolicyChangeKind::retention_shortened,
       ChangeEffect::tightening,
       "email",
       "",
       "",
       {}},
      {"retention lengthened",
       R"("retention": "P3Y")",
       R"("retention": "P5Y")",
       PolicyChangeKind::retention_lengthened,
       ChangeEffect::widening,
       "email",
       "",
       "",
       {"marketing.email"}},
      {"retention removed",
       R"("retention": "P3Y",)",
       "",
       PolicyChangeKind::retention_lengthened,
       ChangeEffect::widening,
       "email",
       "",
       "",
       {"marketing.email"}},
      {"source added",
       R"("sources": ["credit-bureau"])",
       R"("sources": ["credit-bureau", "web-signup"])",
       PolicyChangeKind::source_added,
       ChangeEffect::widening,
       "credit_score",
       "",
       "",
       {}},
      {"source list emptied",
       R"("sources": ["credit-bureau"], )",
       "",
       PolicyChangeKind::source_added,
       ChangeEffect::widening,
       "credit_score",
       "",
       "",
       {}},
      {"controller changed",
       R"("name": "Acme Retail Ltd")",
       R"("name": "Acme Retail plc")",
       PolicyChangeKind::controller_changed,
       ChangeEffect::neutral,
       "",
       "",
       "",
       {}},
  };
  for (const Row& row : rows) {
    CAPTURE(row.name);
    const PolicyDiff d = diff_policies(retail_policy(), edited(row.what, row.with));
    REQUIRE(d.changes.size() == 1);
    const PolicyChange& c = d.changes.front();
    CHECK(to_string(c.kind) == to_string(row.kind));
    CHECK(to_string(c.effect) == to_string(row.effect));
    CHECK(c.field == row.field);
    CHECK(c.purpose == row.purpose);
    CHECK(c.accessor == row.accessor);
    CHECK(c.renew_consent == row.renew);
    CHECK(d.consent_to_renew() == row.renew);
    CHECK_FALSE(c.describe().empty());
  }
}

TEST_CASE("a removed purpose is one tightening change and takes its forms with it") {
  // research is removed from the accessor, from the fields' access, and from the purposes.
  std::string text(kRetailPolicy);
  auto drop = [&](std::string_view what) {
    const auto at = text.find(what);
    REQUIRE(at != std::string::npos);
    text.erase(at, what.size());
  };
  drop(R"(,
    {"id": "research", "basis": "legitimate_interest", "description": "Product research"})");
  drop(R"(, "research")");
  drop(R"(,
                "research": "pseudonym")");
  const Policy to = must(Policy::parse(text, "edited"));
  const PolicyDiff d = diff_policies(retail_policy(), to);
  const PolicyChange* removed = find(d, PolicyChangeKind::purpose_removed);
  REQUIRE(removed);
  CHECK(removed->purpose == "research");
  CHECK(removed->effect == ChangeEffect::tightening);
  CHECK(find(d, PolicyChangeKind::accessor_purpose_removed));
  CHECK(find(d, PolicyChangeKind::form_removed));
  CHECK(d.of_effect(ChangeEffect::widening).empty());
  CHECK(d.consent_to_renew().empty());
}

TEST_CASE("a new field a consent purpose uses outdates that purpose's consents, not others'") {
  const Policy to = edited(R"({"name": "notes")",
                           R"({"name": "shoe_size", "type": "integer", "category": "preference",
       "access": {"marketing.email": "clear", "analytics": "clear", "service": "clear"}},
    {"name": "notes")");
  const PolicyDiff d = diff_policies(retail_policy(), to);
  CHECK(find(d, PolicyChangeKind::field_added));
  CHECK(d.of_effect(ChangeEffect::widening).size() == 3);  // a form for each purpose
  CHECK(d.consent_to_renew() == std::vector<std::string>{"marketing.email"});
}

TEST_CASE("a purpose new in this version outdates no consent") {
  const Policy to = edited(R"({"id": "research")", R"({"id": "surveys", "basis": "consent"},
    {"id": "research")");
  const Policy wider = [&] {
    std::string text = to.to_json();
    const auto at = text.find(R"("redact")");
    REQUIRE(at != std::string::npos);
    text.insert(at + std::string_view(R"("redact")").size(), R"(, "surveys": "clear")");
    return must(Policy::parse(text, "edited"));
  }();
  const PolicyDiff d = diff_policies(retail_policy(), wider);
  CHECK(find(d, PolicyChangeKind::form_added));
  CHECK(d.consent_to_renew().empty());
}

TEST_CASE("a field whose type changes is one change, and its forms are still compared") {
  const Policy to = edited(R"("name": "phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4"})",
                           R"("name": "phone", "type": "string", "category": "contact",
     "access": {"service": "mask:last2"})");
  const PolicyDiff d = diff_policies(retail_policy(), to);
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].kind == PolicyChangeKind::field_type_changed);
  CHECK(d.changes[0].from == "phone");
  CHECK(d.changes[0].to == "string");
  CHECK(d.changes[1].kind == PolicyChangeKind::form_tightened);
  CHECK(d.changes[1].describe() ==
        "field 'phone': form_tightened for purpose 'service' (mask:last4 -> mask:last2) [tightening]");
}

TEST_CASE("forms compare by what they reveal") {
  auto f = [](const char* s) { return *parse_form(s); };
  CHECK(compare_forms(f("clear"), f("pseudonym")) == FormOrder::more);
  CHECK(compare_forms(f("redact"), f("pseudonym")) == FormOrder::less);
  CHECK(compare_forms(f("mask:last4"), f("mask:last2")) == FormOrder::more);
  CHECK(compare_forms(f("generalise:bucket:10"), f("generalise:bucket:100")) == FormOrder::more);
  CHECK(compare_forms(f("generalise:prefix:3"), f("generalise:prefix:5")) == FormOrder::less);
  CHECK(compare_forms(f("generalise:year"), f("generalise:month")) == FormOrder::less);
  CHECK(compare_forms(f("generalise:decade"), f("generalise:year")) == FormOrder::less);
  CHECK(compare_forms(f("pseudonym"), f("mask:last4")) == FormOrder::incomparable);
  CHECK(compare_forms(f("token"), f("token")) == FormOrder::same);
}

TEST_CASE("mask:firstN, mask:email and replace:TEXT compare by what they reveal") {
  auto f = [](const char* s) { return *parse_form(s); };
  CHECK(compare_forms(f("mask:first4"), f("mask:first2")) == FormOrder::more);
  CHECK(compare_forms(f("mask:first2"), f("mask:first4")) == FormOrder::less);
  CHECK(compare_forms(f("mask:first3"), f("mask:first3")) == FormOrder::same);
  CHECK(compare_forms(f("mask:first3"), f("mask:last3")) == FormOrder::incomparable);
  CHECK(compare_forms(f("mask:first3"), f("generalise:prefix:3")) == FormOrder::incomparable);
  CHECK(compare_forms(f("clear"), f("mask:first3")) == FormOrder::more);
  CHECK(compare_forms(f("mask:first3"), f("redact")) == FormOrder::more);
  // mask:email: only clear and the forms that reveal nothing order it.
  CHECK(compare_forms(f("mask:email"), f("mask:email")) == FormOrder::same);
  CHECK(compare_forms(f("clear"), f("mask:email")) == FormOrder::more);
  CHECK(compare_forms(f("mask:email"), f("clear")) == FormOrder::less);
  CHECK(compare_forms(f("redact"), f("mask:email")) == FormOrder::less);
  CHECK(compare_forms(f("mask:email"), f("replace:x")) == FormOrder::more);
  CHECK(compare_forms(f("mask:email"), f("pseudonym")) == FormOrder::incomparable);
  CHECK(compare_forms(f("mask:email"), f("mask:last4")) == FormOrder::incomparable);
  CHECK(compare_forms(f("mask:first4"), f("mask:email")) == FormOrder::incomparable);
  CHECK(compare_forms(f("token"), f("mask:email")) == FormOrder::incomparable);
  // replace reveals nothing, like redact, whatever its text.
  CHECK(compare_forms(f("replace:REDACTED"), f("redact")) == FormOrder::same);
  CHECK(compare_forms(f("redact"), f("replace:REDACTED")) == FormOrder::same);
  CHECK(compare_forms(f("replace:a"), f("replace:b")) == FormOrder::same);
  CHECK(compare_forms(f("replace:a"), f("pseudonym")) == FormOrder::less);
  CHECK(compare_forms(f("generalise:decade"), f("replace:a")) == FormOrder::more);
  CHECK(compare_forms(f("clear"), f("replace:a")) == FormOrder::more);
  CHECK(compare_forms(f("replace:a"), f("clear")) == FormOrder::less);
}

TEST_CASE("the new forms in a policy diff: tightening, widening, and a neutral form_changed") {
  // pseudonym to replace tightens; to mask:email it is neither more nor less: a widening.
  PolicyDiff d = diff_policies(retail_policy(), edited(R"("analytics": "pseudonym",
                "research")",
                                                       R"("analytics": "replace:HIDDEN",
                "research")"));
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_tightened);
  CHECK(d.changes[0].to == "replace:HIDDEN");
  d = diff_policies(retail_policy(), edited(R"("analytics": "pseudonym",
                "research")",
                                            R"("analytics": "mask:email",
                "research")"));
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_widened);
  CHECK(d.changes[0].effect == ChangeEffect::widening);

  // One replace text for another: recorded, neutral, no consent to renew.
  const Policy a = edited(R"("analytics": "pseudonym",
                "research")",
                          R"("analytics": "replace:HIDDEN",
                "research")");
  const Policy b = edited(R"("analytics": "pseudonym",
                "research")",
                          R"("analytics": "replace:WITHHELD",
                "research")");
  d = diff_policies(a, b);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_changed);
  CHECK(d.changes[0].effect == ChangeEffect::neutral);
  CHECK(d.changes[0].renew_consent.empty());
  CHECK(d.changes[0].describe() ==
        "field 'email': form_changed for purpose 'analytics' (replace:HIDDEN -> replace:WITHHELD) [neutral]");
  CHECK(diff_policies(a, a).empty());

  // mask:first2 to mask:first5 widens.
  const Policy first2 = edited(R"("analytics": "pseudonym",
                "research")",
                               R"("analytics": "mask:first2",
                "research")");
  const Policy first5 = edited(R"("analytics": "pseudonym",
                "research")",
                               R"("analytics": "mask:first5",
                "research")");
  d = diff_policies(first2, first5);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_widened);
  d = diff_policies(first5, first2);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_tightened);
}

TEST_CASE("mask:email fits only an email field") {
  auto refused =
      Policy::parse(std::string(kRetailPolicy)
                        .replace(std::string(kRetailPolicy).find(R"("analytics": "generalise:year")"),
                                 std::string_view(R"("analytics": "generalise:year")").size(),
                                 R"("analytics": "mask:email")"),
                    "edited");
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().message.find("form mask:email does not fit a field of type date") != std::string::npos);
}

TEST_CASE("an incomparable form change counts as widening") {
  const Policy to = edited(R"("analytics": "pseudonym",
                "research")",
                           R"("analytics": "mask:last4",
                "research")");
  const PolicyDiff d = diff_policies(retail_policy(), to);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::form_widened);
}

TEST_CASE("labels and descriptions changed anywhere are neutral changes that name what changed") {
  struct Wordy {
    const char* what;
    const char* with;
    PolicyChangeKind kind;
    const char* changed;  // "label" or "description"
    const char* describe;
  };
  const std::vector<Wordy> rows = {
      {R"("basis": "contract", "description": "Run the account you opened")",
       R"("basis": "contract", "label": "Your account", "description": "Run the account you opened")",
       PolicyChangeKind::purpose_changed, "label", "purpose 'service': purpose_changed (label) [neutral]"},
      {R"("description": "Offers by email")", R"("description": {"en": "Offers by email", "de": "Angebote"})",
       PolicyChangeKind::purpose_changed, "description",
       "purpose 'marketing.email': purpose_changed (description) [neutral]"},
      {R"({"id": "support-desk", "purposes": ["service"]})",
       R"({"id": "support-desk", "purposes": ["service"], "label": "our support team"})",
       PolicyChangeKind::accessor_changed, "label",
       "accessor 'support-desk': accessor_changed (label) [neutral]"},
      {R"({"id": "email-campaigns", "purposes": ["marketing.email"]})",
       R"({"id": "email-campaigns", "purposes": ["marketing.email"], "description": "Sends newsletters"})",
       PolicyChangeKind::accessor_changed, "description",
       "accessor 'email-campaigns': accessor_changed (description) [neutral]"},
      {R"("category": "identity",)",
       R"("category": "identity", "label": {"en": "Date of birth", "de": "Geburtsdatum"},)",
       PolicyChangeKind::field_changed, "label", "field 'birth_date': field_changed (label) [neutral]"},
      {R"("category": "financial",)", R"("category": "financial", "description": "A score from 0 to 999",)",
       PolicyChangeKind::field_changed, "description",
       "field 'credit_score': field_changed (description) [neutral]"},
  };
  for (const Wordy& row : rows) {
    INFO(row.with);
    const PolicyDiff d = diff_policies(retail_policy(), edited(row.what, row.with));
    REQUIRE(d.changes.size() == 1);
    const PolicyChange& c = d.changes[0];
    CHECK(c.kind == row.kind);
    CHECK(c.effect == ChangeEffect::neutral);
    CHECK(c.from == row.changed);
    CHECK(c.to == row.changed);
    CHECK(c.renew_consent.empty());
    CHECK(c.describe() == row.describe);
    CHECK(d.consent_to_renew().empty());
  }
}

TEST_CASE("a translation added to a label is a change of that label") {
  const Policy labelled =
      edited(R"("category": "identity",)", R"("category": "identity", "label": "Date of birth",)");
  const Policy translated =
      edited(R"("category": "identity",)",
             R"("category": "identity", "label": {"en": "Date of birth", "de": "Geburtsdatum"},)");
  const PolicyDiff d = diff_policies(labelled, translated);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::field_changed);
  CHECK(d.changes[0].field == "birth_date");
  CHECK(d.changes[0].from == "label");
  CHECK(diff_policies(translated, translated).empty());
}

TEST_CASE("declaring, dropping and relabelling a source are neutral changes") {
  const Policy declared =
      edited(R"("fields": [)", R"("sources": [{"id": "credit-bureau", "label": "Credit agency"},
                {"id": "web-signup", "label": "Our website"}],
  "fields": [)");
  PolicyDiff d = diff_policies(retail_policy(), declared);
  REQUIRE(d.changes.size() == 2);
  for (const PolicyChange& c : d.changes) {
    CHECK(c.kind == PolicyChangeKind::declared_source_added);
    CHECK(c.effect == ChangeEffect::neutral);
    CHECK(c.field.empty());
  }
  CHECK(d.changes[0].source == "credit-bureau");
  CHECK(d.changes[1].source == "web-signup");
  CHECK(d.changes[0].describe() == "source 'credit-bureau': declared_source_added [neutral]");
  CHECK(to_string(PolicyChangeKind::declared_source_added) == "declared_source_added");

  d = diff_policies(declared, retail_policy());
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].kind == PolicyChangeKind::declared_source_removed);
  CHECK(d.changes[0].effect == ChangeEffect::neutral);
  CHECK(d.changes[0].describe() == "source 'credit-bureau': declared_source_removed [neutral]");

  const Policy relabelled =
      edited(R"("fields": [)", R"("sources": [{"id": "credit-bureau", "label": "Credit reference agency",
                 "description": "Tells us how likely a loan is repaid"},
                {"id": "web-signup", "label": "Our website"}],
  "fields": [)");
  d = diff_policies(declared, relabelled);
  REQUIRE(d.changes.size() == 2);
  CHECK(d.changes[0].kind == PolicyChangeKind::declared_source_changed);
  CHECK(d.changes[0].source == "credit-bureau");
  CHECK(d.changes[0].from == "label");
  CHECK(d.changes[1].kind == PolicyChangeKind::declared_source_changed);
  CHECK(d.changes[1].from == "description");
  CHECK(d.changes[1].describe() == "source 'credit-bureau': declared_source_changed (description) [neutral]");
  CHECK(d.of_effect(ChangeEffect::neutral).size() == 2);
  CHECK(d.consent_to_renew().empty());
}

TEST_CASE("a field's own sources still widen and tighten when sources are declared") {
  const Policy declared =
      edited(R"("fields": [)", R"("sources": [{"id": "credit-bureau", "label": "Credit agency"},
                {"id": "web-signup", "label": "Our website"}],
  "fields": [)");
  std::string text = declared.to_json();
  const std::string what = R"("credit-bureau"
      ],)";
  const auto at = text.find(what);
  REQUIRE(at != std::string::npos);
  text.replace(at, what.size(), R"("credit-bureau", "web-signup"],)");
  const PolicyDiff d = diff_policies(declared, must(Policy::parse(text, "edited")));
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::source_added);
  CHECK(d.changes[0].effect == ChangeEffect::widening);
  CHECK(d.changes[0].field == "credit_score");
  CHECK(d.changes[0].describe() == "field 'credit_score': source_added 'web-signup' [widening]");
}

TEST_CASE("a new default language is a neutral change of the policy") {
  const Policy german =
      edited(R"("consentry_policy": 1,)", R"("consentry_policy": 1, "default_language": "de",)");
  const PolicyDiff d = diff_policies(retail_policy(), german);
  REQUIRE(d.changes.size() == 1);
  CHECK(d.changes[0].kind == PolicyChangeKind::default_language_changed);
  CHECK(d.changes[0].effect == ChangeEffect::neutral);
  CHECK(d.changes[0].from == "en");
  CHECK(d.changes[0].to == "de");
  CHECK(d.changes[0].describe() == "policy: default_language_changed (en -> de) [neutral]");
  CHECK(to_string(PolicyChangeKind::default_language_changed) == "default_language_changed");
  CHECK(diff_policies(german, german).empty());
}
