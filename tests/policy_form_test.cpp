// policy_form_test.cpp: the policy spelling of forms.
#include <doctest/doctest.h>

#include <string>

#include "consentry/form.hpp"

using consentry::Form;
using consentry::FormKind;
using consentry::parse_form;

TEST_CASE("every form of the policy format parses") {
  struct Want {
    const char* text;
    FormKind kind;
    int n;
  };
  for (const Want& w :
       {Want{"clear", FormKind::clear, 0}, Want{"redact", FormKind::redact, 0},
        Want{"pseudonym", FormKind::pseudonym, 0}, Want{"token", FormKind::token, 0},
        Want{"pseudonym:hmac-sha256", FormKind::pseudonym_hmac, 0},
        Want{"mask:last4", FormKind::mask_last, 4}, Want{"mask:last1", FormKind::mask_last, 1},
        Want{"mask:last1000", FormKind::mask_last, 1000},
        Want{"generalise:year", FormKind::generalise_year, 0},
        Want{"generalise:month", FormKind::generalise_month, 0},
        Want{"generalise:decade", FormKind::generalise_decade, 0},
        Want{"generalise:prefix:3", FormKind::generalise_prefix, 3},
        Want{"generalise:bucket:10", FormKind::generalise_bucket, 10},
        Want{"generalise:bucket:999", FormKind::generalise_bucket, 999},
        Want{"mask:first1", FormKind::mask_first, 1}, Want{"mask:first4", FormKind::mask_first, 4},
        Want{"mask:first1000", FormKind::mask_first, 1000}, Want{"mask:email", FormKind::mask_email, 0}}) {
    CAPTURE(w.text);
    const auto f = parse_form(w.text);
    REQUIRE(f.has_value());
    CHECK(f->kind == w.kind);
    CHECK(f->n == w.n);
    CHECK(f->text.empty());
    CHECK(f->to_string() == w.text);
  }
}

TEST_CASE("replace:TEXT keeps its text, 1 to 64 characters without control characters") {
  for (const std::string& text :
       {std::string("REDACTED"), std::string("n/a"), std::string(" "), std::string("a=b:c"),
        std::string("replace:x"), std::string("gel\xc3\xb6scht"), std::string(64, 'x'),
        std::string("\xf0\x9f\x94\x92") + std::string(63, 'y')}) {
    CAPTURE(text);
    const auto f = parse_form("replace:" + text);
    REQUIRE(f.has_value());
    CHECK(f->kind == FormKind::replace);
    CHECK(f->n == 0);
    CHECK(f->text == text);
    CHECK(f->to_string() == "replace:" + text);
    CHECK(*parse_form(f->to_string()) == *f);
  }
  // Forms differ by their text, and the text counts in code points, not bytes.
  CHECK(*parse_form("replace:a") != *parse_form("replace:b"));
  CHECK_FALSE(parse_form("replace:" + std::string(65, 'x')).has_value());
  CHECK_FALSE(parse_form("replace:\xc3\xa9" + std::string(64, 'x')).has_value());
  for (const std::string& bad :
       {std::string("replace:"), std::string("replace"), std::string("replace:a\tb"),
        std::string("replace:a\nb"), std::string("replace:a\x7f"), std::string("replace:\xc2\x85"),
        std::string("replace:\xff"), std::string("replace:a\0b", 11), std::string("Replace:x")}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_form(bad).has_value());
  }
}

TEST_CASE("unknown forms and bad parameters are refused") {
  for (const char* bad : {"",
                          "blur",
                          "pseudonym:",
                          "pseudonym:hmac",
                          "pseudonym:hmac-sha512",
                          "pseudonym:HMAC-SHA256",
                          "Clear",
                          "clear ",
                          " clear",
                          "mask",
                          "mask:",
                          "mask:last",
                          "mask:last0",
                          "mask:last-1",
                          "mask:last+4",
                          "mask:last04",
                          "mask:last1001",
                          "mask:last99999999999",
                          "mask:last4x",
                          "mask:first",
                          "mask:first0",
                          "mask:first04",
                          "mask:first1001",
                          "mask:first-1",
                          "mask:email:",
                          "mask:emails",
                          "mask:Email",
                          "mask:last 4",
                          "generalise",
                          "generalise:",
                          "generalise:week",
                          "generalise:prefix",
                          "generalise:prefix:",
                          "generalise:prefix:0",
                          "generalise:prefix:1001",
                          "generalise:bucket:",
                          "generalise:bucket:0",
                          "generalise:bucket:1.5",
                          "generalise:bucket:10:2",
                          "generalise:year:1",
                          "generalize:year",
                          "pseudonym:1",
                          "token:ff1",
                          "redact\n",
                          "generalise:prefix:\xd9\xa3"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_form(bad).has_value());
  }
  CHECK_FALSE(parse_form(std::string_view("clear\0", 6)).has_value());
}

TEST_CASE("to_string and parse_form agree for every parameter") {
  for (int n = 1; n <= 1000; ++n) {
    for (FormKind k : {FormKind::mask_last, FormKind::mask_first, FormKind::generalise_prefix,
                       FormKind::generalise_bucket}) {
      const Form f{k, n};
      const auto back = parse_form(f.to_string());
      REQUIRE(back.has_value());
      CHECK(*back == f);
    }
  }
}
