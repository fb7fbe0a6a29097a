// text_table_test.cpp: the one text-table printer (src/text/text_table.hpp) and the UTF-8 codec
// under it (src/text/utf8.hpp): columns line up by characters, not bytes, and a cell cannot
// drive the terminal.
#include "../src/text/text_table.hpp"

#include <doctest/doctest.h>

#include <string>

#include "../src/text/utf8.hpp"

using namespace consentry;

TEST_CASE("a table without headings aligns multibyte cells by characters") {
  detail::TextTable t;
  t.add({"FIELD", "VALUE"});
  t.add({"city", "Zürich"});
  t.add({"name", "Åsa"});
  t.add({"ab", "x"});
  // "Zürich" is 7 bytes and 6 characters: a width counted in bytes would pad "Bern" by one
  // space too many.
  detail::TextTable u;
  u.add({"Zürich", "1"});
  u.add({"Bern", "2"});
  CHECK(u.render("") == "Zürich  1\nBern    2\n");
  CHECK(t.render("  ") == "  FIELD  VALUE\n  city   Zürich\n  name   Åsa\n  ab     x\n");
}

TEST_CASE("a table escapes control characters, C1 controls and bytes that are not UTF-8") {
  detail::TextTable t;
  t.add({"a\x1b[2Jb", "line\nbreak"});
  t.add(
      {"c\xc2\x9b"
       "d",
       "e\xff"});
  const std::string out = t.render("");
  CHECK(out.find('\x1b') == std::string::npos);
  CHECK(out == "a\\x1b[2Jb   line\\x0abreak\nc\\xc2\\x9bd  e\\xff\n");
}

TEST_CASE("a table without headings keeps a line's trailing spaces and one with headings trims them") {
  detail::TextTable bare;
  bare.add({"x", "value "});
  bare.add({"longer", ""});
  CHECK(bare.render("") == "x       value \nlonger  \n");
  detail::TextTable headed({"A", "B"});
  headed.add({"x", "value "});
  CHECK(headed.render(0) == "A  B\n-  ------\nx  value\n");
}

TEST_CASE("utf8_decode reads code points and refuses ill-formed sequences") {
  using detail::utf8_decode;
  CHECK(utf8_decode("A", 0) == std::pair<char32_t, std::size_t>{U'A', 1});
  CHECK(utf8_decode("\xc3\xbc", 0) == std::pair<char32_t, std::size_t>{U'\u00fc', 2});
  CHECK(utf8_decode("\xe2\x82\xac", 0) == std::pair<char32_t, std::size_t>{U'\u20ac', 3});
  CHECK(utf8_decode("\xf0\x9f\x98\x80", 0) == std::pair<char32_t, std::size_t>{U'\U0001F600', 4});
  for (std::string_view bad :
       {"\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82", "\xff"}) {
    CHECK(utf8_decode(bad, 0).second == 0);
    CHECK(!detail::utf8_valid(bad));
  }
  CHECK(detail::utf8_valid("plain, Zürich, \xe2\x82\xac, \xf0\x9f\x98\x80"));
}

TEST_CASE("utf8_encode writes what utf8_decode reads") {
  for (char32_t cp :
       {U'\0', U'A', U'\u007f', U'\u0080', U'\u07ff', U'\u0800', U'\uffff', U'\U00010000', U'\U0010FFFF'}) {
    std::string s;
    detail::utf8_encode(cp, s);
    const auto decoded = detail::utf8_decode(s, 0);
    CHECK(decoded.first == cp);
    CHECK(decoded.second == s.size());
  }
}
