// anonymise_dataset_test.cpp: delimited files (RFC 4180) read into a Dataset and written back,
// and generalisation hierarchies: malformed input is refused naming file and line, never a cell.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "consentry/anonymise/dataset.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using namespace consentry;

const fs::path kAdult = fs::path(CONSENTRY_TEST_DATA) / "adult";
const fs::path kFixtures = fs::path(CONSENTRY_TEST_DATA) / "anonymise";

/// refused checks that `r` failed with bad_input, naming `where` and not holding `secret`.
template <class T>
void refused(const result<T>& r, const std::string& where, const std::string& secret) {
  REQUIRE_FALSE(r.ok());
  INFO("message: " << r.err().message);
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message.find(where) != std::string::npos);
  if (!secret.empty()) CHECK(r.err().message.find(secret) == std::string::npos);
}

}  // namespace

TEST_CASE("a quoted field may hold the delimiter, quotes and line breaks") {
  const std::string text =
      "name,note\r\n"
      "\"Smith, Ann\",\"said \"\"hi\"\"\"\r\n"
      "Bob,\"two\nlines\"\n"
      "Cy,\n";
  auto d = parse_dataset(text, ',', "t.csv");
  REQUIRE(d.ok());
  REQUIRE(d->rows.size() == 3);
  CHECK(d->columns == std::vector<std::string>{"name", "note"});
  CHECK(d->rows[0] == std::vector<std::string>{"Smith, Ann", "said \"hi\""});
  CHECK(d->rows[1] == std::vector<std::string>{"Bob", "two\nlines"});
  CHECK(d->rows[2] == std::vector<std::string>{"Cy", ""});
  // A row after a quoted line break starts one line further down.
  CHECK(d->line_of(0) == 2);
  CHECK(d->line_of(1) == 3);
  CHECK(d->line_of(2) == 5);
  CHECK(d->column_index("note") == 1);
  CHECK_FALSE(d->column_index("Note").has_value());
}

TEST_CASE("format_dataset quotes what needs it and reads back to the same table") {
  Dataset d;
  d.columns = {"a", "b;c", "d"};
  d.rows = {{"x;y", "say \"no\"", " pad "}, {"", "line\nbreak", "cr\rhere"}, {"plain", "", "1"}};
  for (char delim : {',', ';', '\t'}) {
    CAPTURE(delim);
    const std::string text = format_dataset(d, delim);
    auto back = parse_dataset(text, delim, "round.csv");
    REQUIRE(back.ok());
    CHECK(back->columns == d.columns);
    CHECK(back->rows == d.rows);
  }
  // A one-column table whose cell is empty still reads back as a row.
  Dataset one;
  one.columns = {"only"};
  one.rows = {{""}, {"v"}};
  auto back = parse_dataset(format_dataset(one, ','), ',', "one.csv");
  REQUIRE(back.ok());
  CHECK(back->rows == one.rows);
}

TEST_CASE("a first column whose name starts with a byte order mark keeps it when written and read back") {
  // The text's own mark is dropped on reading; a second one belongs to the name.
  auto d = parse_dataset(
      "\xEF\xBB\xBF\xEF\xBB\xBF"
      "age,zip\n21,47677\n",
      ',', "bom.csv");
  REQUIRE(d.ok());
  REQUIRE(d->columns == std::vector<std::string>{"\xEF\xBB\xBF"
                                                 "age",
                                                 "zip"});
  auto back = parse_dataset(format_dataset(*d, ','), ',', "bom.csv");
  REQUIRE(back.ok());
  CHECK(back->columns == d->columns);
  CHECK(back->rows == d->rows);
}

TEST_CASE("malformed delimited text is refused naming the file and line, never a cell") {
  refused(parse_dataset("a,b\n1,2\nsecret-cell-x,2,3\n", ',', "ragged.csv"), "ragged.csv:3", "secret-cell-x");
  refused(parse_dataset("a,b\n1,2\nsecret-cell-y\n", ',', "short.csv"), "short.csv:3", "secret-cell-y");
  refused(parse_dataset("a,b\n1,\"secret-open\n2,3\n", ',', "open.csv"), "open.csv:2", "secret-open");
  refused(parse_dataset("a,b\n1,sec\"ret\n", ',', "quote.csv"), "quote.csv:2", "ret");
  refused(parse_dataset("a,b\n\"x\"secret-tail,2\n", ',', "tail.csv"), "tail.csv:2", "secret-tail");
  refused(parse_dataset("a,b\n1,2\r3,4\n", ',', "cr.csv"), "cr.csv:2", "");
  refused(parse_dataset("a,,c\n1,2,3\n", ',', "noname.csv"), "noname.csv:1", "");
  refused(parse_dataset("a,b,a\n1,2,3\n", ',', "twice.csv"), "twice.csv:1", "");
  refused(parse_dataset("", ',', "empty.csv"), "empty.csv:1", "");
  refused(parse_dataset("\n\n", ',', "blank.csv"), "blank.csv:1", "");
  // The line of an error after a multi-line quoted cell counts the embedded line breaks.
  refused(parse_dataset("a,b\n\"1\n2\n3\",x\nsecret-z\n", ',', "multi.csv"), "multi.csv:5", "secret-z");
}

TEST_CASE("the fixture files with bad rows are refused naming file and line") {
  auto ragged = read_dataset(kFixtures / "ragged.csv");
  refused(ragged, (kFixtures / "ragged.csv").string() + ":4", "");
  auto missing = read_dataset(kFixtures / "no_such_file.csv");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.err().message.find("no_such_file.csv") != std::string::npos);
}

TEST_CASE("the delimiter is detected from the header") {
  CHECK(detect_delimiter("a;b;c\n1,2;3;4\n") == ';');
  CHECK(detect_delimiter("a,b,c\n") == ',');
  CHECK(detect_delimiter("a\tb\n") == '\t');
  CHECK(detect_delimiter("\"x;y;z\",b\n") == ',');
  CHECK(detect_delimiter("single\n") == ',');
}

TEST_CASE("the Adult file reads as 30162 rows of 9 columns") {
  auto d = read_dataset(kAdult / "adult.csv");
  REQUIRE(d.ok());
  CHECK(d->rows.size() == 30162);
  CHECK(d->columns == std::vector<std::string>{"sex", "age", "race", "marital-status", "education",
                                               "native-country", "workclass", "occupation", "salary-class"});
  CHECK(d->line_of(30161) == 30163);
}

TEST_CASE("write_dataset writes mode 0600 through a partial file and leaves nothing on failure") {
  consentry::test::TempDir dir("anonymise-write");
  Dataset d;
  d.columns = {"a", "b"};
  d.rows = {{"1", "x,y"}};
  const fs::path out = dir.path() / "out.csv";
  REQUIRE(write_dataset(d, out, ',').ok());
  CHECK(consentry::test::file_bytes(out) == "a,b\n1,\"x,y\"\n");
  struct stat st {};
  REQUIRE(::stat(out.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_FALSE(consentry::test::has_staged_temporary(out));

  const fs::path nowhere = dir.path() / "missing-dir" / "out.csv";
  auto failed = write_dataset(d, nowhere, ',');
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.err().code == errc::io);
  CHECK_FALSE(fs::exists(nowhere));
}

TEST_CASE("every Adult hierarchy parses with all its rows of one depth") {
  for (const char* column : {"sex", "age", "race", "marital-status", "education", "native-country",
                             "workclass", "occupation", "salary-class"}) {
    CAPTURE(column);
    auto h = read_hierarchy(hierarchy_file(kAdult, "adult", column), ';');
    REQUIRE(h.ok());
    CHECK(h->levels() >= 2);
    for (const auto& row : h->rows) CHECK(row.back() == "*");
  }
  CHECK(hierarchy_file("/d", "adult", "age") == fs::path("/d/adult_hierarchy_age.csv"));
}

TEST_CASE("malformed hierarchies are refused naming the file and line") {
  // Rows of unequal depth.
  refused(parse_hierarchy("a;x;*\nb;*\n", ';', "h.csv"), "h.csv:2", "");
  // A value listed twice.
  refused(parse_hierarchy("a;x;*\nb;x;*\na;y;*\n", ';', "dup.csv"), "dup.csv:3", "");
  // A label with two different generalisations: the levels would not form a tree.
  refused(parse_hierarchy("a;x;p;*\nb;x;q;*\n", ';', "tree.csv"), "tree.csv:2", "");
  // An empty label.
  refused(parse_hierarchy("a;;*\n", ';', "hole.csv"), "hole.csv:1", "");
  refused(parse_hierarchy("", ';', "none.csv"), "none.csv:1", "");
  auto fixture = read_hierarchy(kFixtures / "bad_hierarchy_depth.csv", ';');
  refused(fixture, "bad_hierarchy_depth.csv:3", "");
  auto absent = read_hierarchy(kFixtures / "absent_hierarchy.csv", ';');
  refused(absent, "absent_hierarchy.csv", "");
}
