// anonymise_column_operators_test.cpp: one form per column of a table ("email=pseudonym"),
// parsed from "column=form" texts and applied to every cell of the column.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "consentry/anonymise/column_operators.hpp"
#include "consentry/anonymise/transform.hpp"
#include "support/must.hpp"

using consentry::apply_column_operators;
using consentry::ColumnOperator;
using consentry::Dataset;
using consentry::errc;
using consentry::FormKind;
using consentry::parse_column_operators;
using consentry::SecretBytes;
using consentry::Tokeniser;
using consentry::test::must;

namespace {

// kPeople is a small table; its distinctive cells must never appear in a message.
constexpr std::string_view kPeople =
    "email,phone,note,city,birth,age,postcode\n"
    "ann@example.com,+447700900123,likes tea,London,1990-04-02,34,SW1A 1AA\n"
    "j\xc3\xb6rg@example.de,+4930901820,,Berlin,1985-12-31,41,10115\n"
    "bob.smith+crm@mail.example.org,,calls on Fridays,Paris,2001-07-15,7,75001\n";

const std::vector<std::string> kDistinctive = {"ann@example.com",
                                               "j\xc3\xb6rg@example.de",
                                               "bob.smith+crm@mail.example.org",
                                               "+447700900123",
                                               "+4930901820",
                                               "likes tea",
                                               "calls on Fridays",
                                               "London",
                                               "Berlin",
                                               "1990-04-02",
                                               "SW1A 1AA"};

Dataset people() {
  return must(consentry::parse_dataset(kPeople, ',', "people.csv"));
}

SecretBytes key_of(char fill, std::size_t n = 32) {
  return SecretBytes::copy_of(std::string(n, fill));
}

// column gives the cells of `name`, top to bottom.
std::vector<std::string> column(const Dataset& d, std::string_view name) {
  const std::size_t c = *d.column_index(name);
  std::vector<std::string> out;
  for (const auto& row : d.rows) out.push_back(row[c]);
  return out;
}

// applied runs "column=form" texts over the people table with the key 'k' and its tokeniser.
Dataset applied(const std::vector<std::string>& specs) {
  Dataset d = people();
  const SecretBytes key = key_of('k');
  const Tokeniser tokens = must(consentry::column_tokeniser(key));
  must(apply_column_operators(d, must(parse_column_operators(specs)), &key, &tokens));
  return d;
}

// names_no_cell checks that `message` quotes none of the people table's distinctive cells.
void names_no_cell(const std::string& message) {
  CAPTURE(message);
  for (const std::string& cell : kDistinctive) CHECK(message.find(cell) == std::string::npos);
}

// refused_spec checks that parsing `specs` fails as bad input with a message holding `part`.
std::string refused_spec(const std::vector<std::string>& specs, std::string_view part) {
  auto r = parse_column_operators(specs);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CAPTURE(r.err().message);
  CHECK(r.err().message.find(part) != std::string::npos);
  return r.err().message;
}

// refused_apply applies `specs` to the people table, checks that it fails as bad input with a
// message holding `part` and no cell, and that the table is untouched.
std::string refused_apply(const std::vector<std::string>& specs, std::string_view part,
                          const SecretBytes* key, const Tokeniser* tokens) {
  Dataset d = people();
  auto r = apply_column_operators(d, must(parse_column_operators(specs)), key, tokens);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CAPTURE(r.err().message);
  CHECK(r.err().message.find(part) != std::string::npos);
  names_no_cell(r.err().message);
  CHECK(d.rows == people().rows);
  CHECK(d.columns == people().columns);
  return r.err().message;
}

}  // namespace

TEST_CASE("column operators parse in order, the column before the first '='") {
  const auto ops = must(parse_column_operators(
      {"email=pseudonym", "phone=mask:last4", "note=redact", "city=replace:REDACTED", "x=replace:a=b",
       "postcode=mask:first3", "email2=mask:email", "age=generalise:bucket:10"}));
  REQUIRE(ops.size() == 8);
  CHECK(ops[0] == ColumnOperator{"email", *consentry::parse_form("pseudonym")});
  CHECK(ops[1].column == "phone");
  CHECK(ops[1].form.kind == FormKind::mask_last);
  CHECK(ops[1].form.n == 4);
  CHECK(ops[2].form.kind == FormKind::redact);
  CHECK(ops[3].form.kind == FormKind::replace);
  CHECK(ops[3].form.text == "REDACTED");
  CHECK(ops[4].column == "x");
  CHECK(ops[4].form.text == "a=b");
  CHECK(ops[5].form.kind == FormKind::mask_first);
  CHECK(ops[5].form.n == 3);
  CHECK(ops[6].form.kind == FormKind::mask_email);
  CHECK(ops[7].form.kind == FormKind::generalise_bucket);
  CHECK(must(parse_column_operators({})).empty());
  CHECK(consentry::form_name(ops[3].form) == "replace");
  CHECK(consentry::form_name(ops[1].form) == "mask:last4");
}

TEST_CASE("column operators that cannot be read name their position and the problem") {
  refused_spec({"email"}, "column operator 1: no '='");
  refused_spec({"email=clear", "=pseudonym"}, "column operator 2: the column before '=' is empty");
  refused_spec({"email=pseudonym", "phone=redact", "email=redact"},
               "column operator 3 (column 'email'): the column is given twice");
  refused_spec({"email=blur"}, "column operator 1 (column 'email'): the text after '=' is not a form");
  refused_spec({"email="}, "is not a form");
  refused_spec({"phone=mask:last0"}, "is not a form");
  refused_spec({"phone=mask:first1001"}, "is not a form");
  refused_spec({"note=replace:"}, "replace:TEXT needs 1 to 64 characters");
  refused_spec({"note=replace:" + std::string(65, 'x')}, "replace:TEXT needs 1 to 64 characters");
  // What follows '=' is never echoed: it may be a value typed in the wrong place.
  const std::string m = refused_spec({"email=ann@example.com"}, "column 'email'");
  CHECK(m.find("ann@example.com") == std::string::npos);
  const std::string t = refused_spec({"note=replace:secret\tstuff"}, "column operator 1 (column 'note')");
  CHECK(t.find("secret") == std::string::npos);
}

TEST_CASE("each form applied to the cells of its column, computed by hand") {
  const Dataset d = applied({"email=mask:email", "phone=mask:last4", "note=redact", "city=replace:REDACTED",
                             "birth=generalise:year", "age=generalise:bucket:10", "postcode=mask:first3"});
  CHECK(d.columns == people().columns);
  CHECK(column(d, "email") ==
        std::vector<std::string>{"***@example.com", "****@example.de", "*************@mail.example.org"});
  CHECK(column(d, "phone") == std::vector<std::string>{"*********0123", "*******1820", ""});
  CHECK(column(d, "note") == std::vector<std::string>{"", "", ""});
  // An empty cell stays empty, even under replace.
  CHECK(column(d, "city") == std::vector<std::string>{"REDACTED", "REDACTED", "REDACTED"});
  CHECK(column(d, "birth") == std::vector<std::string>{"1990", "1985", "2001"});
  CHECK(column(d, "age") == std::vector<std::string>{"30-39", "40-49", "0-9"});
  CHECK(column(d, "postcode") == std::vector<std::string>{"SW1*****", "101**", "750**"});

  const Dataset m = applied({"birth=generalise:month", "age=generalise:decade",
                             "postcode=generalise:prefix:2", "note=clear", "city=mask:first1"});
  CHECK(column(m, "birth") == std::vector<std::string>{"1990-04", "1985-12", "2001-07"});
  CHECK(column(m, "age") == std::vector<std::string>{"30-39", "40-49", "0-9"});
  CHECK(column(m, "postcode") == std::vector<std::string>{"SW", "10", "75"});
  CHECK(column(m, "note") == std::vector<std::string>{"likes tea", "", "calls on Fridays"});
  CHECK(column(m, "city") == std::vector<std::string>{"L*****", "B*****", "P****"});
  // generalise:decade reads a date cell as a date.
  CHECK(column(applied({"birth=generalise:decade"}), "birth") ==
        std::vector<std::string>{"1990s", "1980s", "2000s"});
}

TEST_CASE("empty cells stay empty under every form") {
  const Dataset d = applied({"note=replace:X"});
  CHECK(column(d, "note") == std::vector<std::string>{"X", "", "X"});
  for (const char* form : {"pseudonym", "pseudonym:hmac-sha256", "mask:last2", "mask:first2", "redact",
                           "generalise:prefix:1", "clear"}) {
    CAPTURE(form);
    CHECK(column(applied({std::string("note=") + form}), "note")[1].empty());
  }
}

TEST_CASE("masks count UTF-8 code points") {
  Dataset d = must(consentry::parse_dataset(
      "name,mail\n"
      "Fran\xc3\xa7ois,\xc3\xa9l\xc3\xa8ve@\xc3\xa9"
      "cole.fr\n"
      "\xc3\xa9t\xc3\xa9,\"\"\"a@b\"\"@example.com\"\n"
      "ab,x@y\n"
      "\xf0\x9f\x98\x80\xf0\x9f\x98\x81\xf0\x9f\x98\x82,\xf0\x9f\x98\x80@example.com\n",
      ',', "utf8.csv"));
  must(apply_column_operators(d, must(parse_column_operators({"name=mask:first2", "mail=mask:email"})),
                              nullptr, nullptr));
  CHECK(column(d, "name") ==
        std::vector<std::string>{"Fr******", "\xc3\xa9t*", "**", "\xf0\x9f\x98\x80\xf0\x9f\x98\x81*"});
  // The local part ends at the last '@'; one star per code point of it.
  CHECK(column(d, "mail") == std::vector<std::string>{"*****@\xc3\xa9"
                                                      "cole.fr",
                                                      "*****@example.com", "*@y", "*@example.com"});
}

TEST_CASE("mask:email refuses a cell without '@', local part or domain, naming no cell") {
  const std::vector<std::string> bad = {"no-at-sign.example.com", "@example.com", "ann@"};
  for (const std::string& cell : bad) {
    CAPTURE(cell);
    Dataset d = must(consentry::parse_dataset("id,mail\n1,a@b.c\n2," + cell + "\n", ',', "mail.csv"));
    const Dataset before = d;
    auto r = apply_column_operators(d, must(parse_column_operators({"mail=mask:email"})), nullptr, nullptr);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CAPTURE(r.err().message);
    CHECK(r.err().message.find("mail.csv:3: column 'mail': mask:email does not fit the cell") !=
          std::string::npos);
    CHECK(r.err().message.find(cell) == std::string::npos);
    CHECK(d.rows == before.rows);
  }
  // apply_form itself: denied, form_unavailable, as for other forms that do not fit a value.
  const SecretBytes key = key_of('k');
  const auto form = *consentry::parse_form("mask:email");
  for (const std::string& cell : bad) {
    auto r = consentry::apply_form(form, consentry::FieldType::email, cell, key);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::denied);
    CHECK(r.err().reason == consentry::deny_reason::form_unavailable);
  }
  CHECK_FALSE(consentry::apply_form(form, consentry::FieldType::string, "ann@example.com", key).ok());
}

TEST_CASE("pseudonyms are consentry::pseudonym and hmac_pseudonym under the given key") {
  const Dataset d = applied({"email=pseudonym", "phone=pseudonym:hmac-sha256"});
  const SecretBytes key = key_of('k');
  CHECK(column(d, "email") ==
        std::vector<std::string>{consentry::pseudonym(key, "ann@example.com"),
                                 consentry::pseudonym(key, "j\xc3\xb6rg@example.de"),
                                 consentry::pseudonym(key, "bob.smith+crm@mail.example.org")});
  CHECK(column(d, "phone") == std::vector<std::string>{consentry::hmac_pseudonym(key, "+447700900123"),
                                                       consentry::hmac_pseudonym(key, "+4930901820"), ""});
}

TEST_CASE("a pseudonym without a key, or a token without a tokeniser, is refused before any cell") {
  refused_apply({"city=replace:X", "email=pseudonym"}, "column 'email': pseudonym needs a pseudonym key",
                nullptr, nullptr);
  refused_apply({"email=pseudonym:hmac-sha256"}, "(--key-file)", nullptr, nullptr);
  const SecretBytes short_key = key_of('k', 15);
  refused_apply({"email=pseudonym"}, "16 to 64 bytes", &short_key, nullptr);
  const SecretBytes key = key_of('k');
  refused_apply({"email=token"}, "column 'email': token needs a key", &key, nullptr);
  CHECK(consentry::column_tokeniser(short_key).err().code == errc::invalid_argument);
}

TEST_CASE("token enciphers letters and digits per column, and turns back with the column's tweak") {
  const SecretBytes key = key_of('k');
  const Dataset d = applied({"email=token", "postcode=token"});
  const auto emails = column(d, "email");
  const auto original = column(people(), "email");
  for (std::size_t i = 0; i < emails.size(); ++i) {
    CHECK(emails[i] != original[i]);
    CHECK(emails[i].size() == original[i].size());
    CHECK(emails[i].find('@') == original[i].find('@'));
  }
  CHECK(applied({"email=token"}).rows == applied({"email=token"}).rows);  // deterministic
  const Tokeniser tokens = must(consentry::column_tokeniser(key));
  const std::string tweak = "consentry/token/email";
  const std::span<const std::uint8_t> t(reinterpret_cast<const std::uint8_t*>(tweak.data()), tweak.size());
  CHECK(must(tokens.detokenise(consentry::FieldType::string, emails[0], t)) == "ann@example.com");
  // The token key is derived: not the pseudonym key itself.
  const Tokeniser raw = must(Tokeniser::create(key));
  CHECK(must(raw.tokenise(consentry::FieldType::string, "ann@example.com", t)) != emails[0]);
  // One value in two columns gives two tokens.
  Dataset twice = must(consentry::parse_dataset("a,b\nABCD1234,ABCD1234\n", ',', "twice.csv"));
  must(apply_column_operators(twice, must(parse_column_operators({"a=token", "b=token"})), &key, &tokens));
  CHECK(twice.rows[0][0] != twice.rows[0][1]);
  // A cell too short to tokenise is refused, naming the line and the column.
  refused_apply({"age=token"}, "people.csv:2: column 'age': token does not fit the cell", &key, &tokens);
}

TEST_CASE("an unknown column, a column given twice or a cell the form does not fit changes nothing") {
  const SecretBytes key = key_of('k');
  refused_apply({"email=redact", "mail=redact"}, "people.csv:1: no column 'mail'", &key, nullptr);
  // A cell the second operator does not fit, after the first one succeeded on every row.
  refused_apply({"email=pseudonym", "note=generalise:year"},
                "people.csv:2: column 'note': generalise:year does not fit the cell", &key, nullptr);
  refused_apply({"city=replace:X", "postcode=generalise:bucket:10"},
                "people.csv:2: column 'postcode': generalise:bucket:10 does not fit the cell", &key, nullptr);
  refused_apply({"phone=generalise:decade"}, "people.csv:2: column 'phone': generalise:decade", &key,
                nullptr);

  Dataset d = people();
  const std::vector<ColumnOperator> twice = {{"email", *consentry::parse_form("redact")},
                                             {"email", *consentry::parse_form("clear")}};
  auto r = apply_column_operators(d, twice, &key, nullptr);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message.find("people.csv:1: column 'email' is given two forms") != std::string::npos);
  CHECK(d.rows == people().rows);

  // A cell that is not UTF-8 is refused under any form, replace included; the replace text is
  // not named.
  Dataset bad = must(consentry::parse_dataset("a,b\n1,\xff\xfe\n", ',', "bad.csv"));
  const Dataset before = bad;
  auto u = apply_column_operators(
      bad, must(parse_column_operators({"a=replace:SECRETTEXT", "b=replace:OTHER"})), nullptr, nullptr);
  REQUIRE_FALSE(u.ok());
  CHECK(u.err().code == errc::bad_input);
  CAPTURE(u.err().message);
  CHECK(u.err().message.find("bad.csv:2: column 'b': replace does not fit the cell") != std::string::npos);
  CHECK(u.err().message.find("OTHER") == std::string::npos);
  CHECK(bad.rows == before.rows);
}
