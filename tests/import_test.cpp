// import_test.cpp: JSON Lines and CSV parsing, with errors that name the line and never the value.
#include "consentry/import.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>
#include <streambuf>

using namespace consentry;

namespace {

result<std::vector<Record>> parse(const std::string& text, ImportFormat f, std::string_view source = "") {
  std::istringstream in(text);
  return parse_records(in, f, "in.file", source);
}

std::string error_of(const std::string& text, ImportFormat f) {
  auto r = parse(text, f);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  return r.err().message;
}

}  // namespace

TEST_CASE("JSON Lines records carry id, source, collection time, fields and their line") {
  auto r = parse(
      "{\"id\": \"C-1\", \"source\": \"web\", \"collected_at\": \"2025-05-01T10:00:00Z\", "
      "\"fields\": {\"email\": \"a@example.com\", \"credit_score\": 720, \"vip\": true, \"gone\": null}}\n"
      "\n"
      "{\"id\": \"C-2\", \"fields\": {}}\r\n",
      ImportFormat::jsonl, "default-src");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 2);
  const Record& a = (*r)[0];
  CHECK(a.customer == "C-1");
  CHECK(a.source == "web");
  CHECK(a.line == 1);
  REQUIRE(a.collected_at.has_value());
  CHECK(format_timestamp(*a.collected_at) == "2025-05-01T10:00:00Z");
  REQUIRE(a.fields.size() == 3);
  CHECK(a.fields[1] == std::pair<std::string, std::string>{"credit_score", "720"});
  CHECK(a.fields[2] == std::pair<std::string, std::string>{"vip", "true"});
  CHECK((*r)[1].line == 3);
  CHECK((*r)[1].source == "default-src");
}

TEST_CASE("malformed JSON Lines are refused naming the line, not the value") {
  const std::string good = "{\"id\": \"C-1\", \"fields\": {\"email\": \"a@example.com\"}}\n";
  CHECK(error_of(good + "{\"id\": \"C-2\", \"fields\": {\"email\": \"secret@x\"\n", ImportFormat::jsonl)
            .find("in.file:2:") != std::string::npos);
  CHECK(error_of(good + good + "[1,2]\n", ImportFormat::jsonl).find("in.file:3: $") != std::string::npos);
  CHECK(error_of("{\"fields\": {}}\n", ImportFormat::jsonl).find("$.id") != std::string::npos);
  CHECK(error_of("{\"id\": \"C-1\"}\n", ImportFormat::jsonl).find("$.fields") != std::string::npos);
  CHECK(error_of("{\"id\": \"C-1\", \"fields\": {}, \"extra\": 1}\n", ImportFormat::jsonl).find("$.extra") !=
        std::string::npos);
  CHECK(error_of("{\"id\": 7, \"fields\": {}}\n", ImportFormat::jsonl).find("$.id") != std::string::npos);
  CHECK(error_of("{\"id\": \"C-1\", \"fields\": {\"x\": [1]}}\n", ImportFormat::jsonl).find("$.fields.x") !=
        std::string::npos);
  CHECK(error_of("{\"id\": \"C-1\", \"fields\": {\"x\": 1.5}}\n", ImportFormat::jsonl).find("$.fields.x") !=
        std::string::npos);
  const std::string m = error_of("{\"id\": \"C-1\", \"collected_at\": \"yesterday-ish\", \"fields\": {}}\n",
                                 ImportFormat::jsonl);
  CHECK(m.find("collected_at") != std::string::npos);
  CHECK(m.find("yesterday-ish") == std::string::npos);
}

TEST_CASE("CSV follows RFC 4180: quotes, doubled quotes, commas and newlines inside cells") {
  auto r = parse(
      "id,source,email,notes\r\n"
      "C-1,web,a@example.com,\"likes \"\"tea\"\", not coffee\"\r\n"
      "C-2,,b@example.com,\"two\nlines\"\n"
      "\n"
      "C-3,crm,,\n",
      ImportFormat::csv, "fallback");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 3);
  CHECK((*r)[0].fields[1].second == "likes \"tea\", not coffee");
  CHECK((*r)[0].line == 2);
  CHECK((*r)[1].source == "fallback");
  CHECK((*r)[1].fields[1].second == "two\nlines");
  CHECK((*r)[1].line == 3);
  CHECK((*r)[2].line == 6);
  CHECK((*r)[2].fields.empty());
}

TEST_CASE("a CSV header may start with a UTF-8 byte order mark") {
  auto r = parse("\xEF\xBB\xBFid,email\nC-1,a@example.com\n", ImportFormat::csv);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 1);
  CHECK((*r)[0].customer == "C-1");
}

TEST_CASE("malformed CSV is refused naming the line") {
  CHECK(error_of("", ImportFormat::csv).find("header") != std::string::npos);
  CHECK(error_of("email,phone\na@example.com,1\n", ImportFormat::csv).find("'id'") != std::string::npos);
  CHECK(error_of("id,email,email\n", ImportFormat::csv).find("twice") != std::string::npos);
  CHECK(error_of("id,email\nC-1,a@example.com\nC-2\n", ImportFormat::csv).find("in.file:3:") !=
        std::string::npos);
  CHECK(error_of("id,email\nC-1,\"unterminated\n", ImportFormat::csv).find("in.file:2:") !=
        std::string::npos);
  CHECK(error_of("id,email\nC-1,ab\"c\n", ImportFormat::csv).find("in.file:2:") != std::string::npos);
  CHECK(error_of("id,email\n,a@example.com\n", ImportFormat::csv).find("id cell") != std::string::npos);
}

namespace {

/// CountingBuf gives `size` bytes of `fill` and counts the bytes taken from it, as a
/// file of one endless line would be read.
class CountingBuf : public std::streambuf {
 public:
  CountingBuf(std::size_t size, char fill) : left_(size), chunk_(4096, fill) {}
  std::size_t taken() const { return taken_; }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (left_ == 0) return traits_type::eof();
    const std::size_t n = std::min(left_, chunk_.size());
    left_ -= n;
    taken_ += n;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
    return traits_type::to_int_type(*gptr());
  }

 private:
  std::size_t left_;
  std::size_t taken_ = 0;
  std::string chunk_;
};

std::string expect_refused(const std::string& text, ImportFormat f, std::string_view what) {
  const std::string message = error_of(text, f);
  CAPTURE(message);
  CHECK(message.find(what) != std::string::npos);
  CHECK(message.find('\n') == std::string::npos);
  return message;
}

std::string deep(std::size_t levels) {
  return std::string(levels, '[') + std::string(levels, ']');
}

const std::string kExportField =
    R"({"name": "email", "value": "secret-ann@example.com", "source": "web", "collected_at": "2025-05-01T10:00:00Z"})";

std::string export_with(const std::string& fields_json) {
  return R"({"consentry_export": 1, "customer": "C-1", "fields": )" + fields_json + "}";
}

}  // namespace

TEST_CASE("a JSON Lines line with a duplicate key is refused naming line and key") {
  const std::string good = "{\"id\": \"Q-1\", \"fields\": {\"email\": \"a@example.com\"}}\n";
  CHECK(expect_refused(good + R"({"id":"Q-2","id":"Q-3","fields":{}})" + "\n", ImportFormat::jsonl,
                       "in.file:2: $.id: duplicate key 'id'") == "in.file:2: $.id: duplicate key 'id'");
  // A second "fields" object would replace the first.
  expect_refused(good + good + R"({"id":"Q-2","fields":{"email":"x@y"},"fields":{"phone":"1"}})" + "\n",
                 ImportFormat::jsonl, "in.file:3: $.fields: duplicate key 'fields'");
  expect_refused(R"({"id":"Q-2","fields":{"email":"secret@x","email":"other@x"}})", ImportFormat::jsonl,
                 "in.file:1: $.fields.email: duplicate key 'email'");
  CHECK(error_of(R"({"id":"Q-2","fields":{"email":"secret@x","email":"other@x"}})", ImportFormat::jsonl)
            .find("secret") == std::string::npos);
}

TEST_CASE("a JSON Lines line with a NUL byte is refused, whatever follows it") {
  const std::string line = std::string("{\"id\": \"C-1\", \"fields\": {}}\0 garbage\n", 37);
  expect_refused(line, ImportFormat::jsonl, "in.file:1: column 28: invalid JSON: a NUL byte");
  expect_refused(std::string("{\"id\": \"C-1\", \"fields\": {\"a\": \"x\0\"}}\n", 37), ImportFormat::jsonl,
                 "in.file:1: column 33: invalid JSON: a NUL byte");
}

TEST_CASE("a JSON Lines line nested 100,000 deep is refused, not a crash") {
  expect_refused("{\"id\": \"C-1\", \"x\": " + deep(100000) + ", \"fields\": {}}\n", ImportFormat::jsonl,
                 "in.file:1: column 83: JSON nested deeper than 64 levels");
  expect_refused("{\"id\": \"C-1\", \"fields\": {\"a\": " + deep(100000) + "}, \"y\": 1}\n",
                 ImportFormat::jsonl, "JSON nested deeper than 64 levels");
}

TEST_CASE("a JSON Lines syntax error names the line and column") {
  expect_refused("{\"id\": \"C-1\", \"fields\": {}}\n{\"id\": \"C-2\", oops}\n", ImportFormat::jsonl,
                 "in.file:2: column 15: invalid JSON");
}

TEST_CASE("a JSON Lines line longer than 1 MiB is refused after reading little more than 1 MiB of it") {
  // Eight MiB without a line break, as /dev/zero would give: the reader stops at the limit.
  CountingBuf endless(std::size_t{8} << 20, '\0');
  std::istream in(&endless);
  auto r = parse_records(in, ImportFormat::jsonl, "zero");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::bad_input);
  CHECK(r.err().message == "zero:1: line longer than 1 MiB");
  CHECK(endless.taken() < (std::size_t{1} << 20) + 8192);

  // A line of exactly 1 MiB, with or without "\r", is still read.
  std::string line = "{\"id\": \"C-1\", \"fields\": {\"note\": \"";
  line += std::string((std::size_t{1} << 20) - line.size() - 3, 'n');
  line += "\"}}";
  REQUIRE(line.size() == std::size_t{1} << 20);
  auto ok = parse(line + "\r\n" + line + "\n", ImportFormat::jsonl);
  REQUIRE_MESSAGE(ok.ok(), ok.err().message);
  CHECK(ok->size() == 2);
  CHECK(error_of(line + " \n", ImportFormat::jsonl) == "in.file:1: line longer than 1 MiB");
}

TEST_CASE("an export with a duplicate key, a NUL byte or deep nesting is refused naming where") {
  REQUIRE(parse(export_with("[" + kExportField + "]"), ImportFormat::export_json).ok());
  const std::string twice = R"({"name": "email", "value": "secret-ann", "value": "other", "source": "web", )"
                            R"("collected_at": "2025-05-01T10:00:00Z"})";
  CHECK(expect_refused(export_with("[" + kExportField + ",\n" + twice + "]"), ImportFormat::export_json,
                       "in.file: $.fields[1].value: duplicate key 'value' (line 2)")
            .find("secret") == std::string::npos);
  expect_refused(R"({"consentry_export": 1, "customer": "C-1", "customer": "C-2", "fields": []})",
                 ImportFormat::export_json, "in.file: $.customer: duplicate key 'customer' (line 1)");
  expect_refused(export_with("[" + kExportField + "]") + std::string("\0{{{", 4), ImportFormat::export_json,
                 "in.file: line 1, column ");
  expect_refused(export_with("[" + kExportField + "]") + std::string("\0{{{", 4), ImportFormat::export_json,
                 ": invalid JSON: a NUL byte");
  expect_refused("{\"x\": " + deep(100000) + ", " + export_with("[]").substr(1), ImportFormat::export_json,
                 "in.file: line 1, column 70: JSON nested deeper than 64 levels");
  expect_refused("{\"consentry_export\": 1,\n oops}", ImportFormat::export_json,
                 "in.file: line 2, column 2: invalid JSON");
}

TEST_CASE("every bad JSON Lines line is reported, a line each, and none of the good ones kept") {
  const std::string text =
      "{\"id\": \"C-1\", \"fields\": {\"email\": \"a@example.com\"}}\n"
      "{\"id\": \"C-2\", \"fields\": {\"email\": \"b@example.com\"}\n"  // no closing brace
      "{\"id\": \"C-3\", \"fields\": {}}\n"
      "{\"id\": 4, \"fields\": {}}\n"
      "{\"id\": \"C-5\", \"collected_at\": \"yesterday\", \"fields\": {}}\n";
  const std::string message = error_of(text, ImportFormat::jsonl);
  std::vector<std::string> lines;
  std::istringstream split(message);
  for (std::string l; std::getline(split, l);) lines.push_back(l);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].rfind("in.file:2: ", 0) == 0);
  CHECK(lines[1] == "in.file:4: $.id: must be a string");
  CHECK(lines[2].rfind("in.file:5: ", 0) == 0);
  CHECK(message.find("b@example.com") == std::string::npos);
}

TEST_CASE("every bad CSV row is reported up to the limit, then counted") {
  std::string text = "id,email,collected_at\n";
  for (int i = 0; i < 25; ++i) text += ",x" + std::to_string(i) + "@example.com,\n";  // no id
  text += "C-1,a@example.com,not a time\n";
  text += "C-2,b@example.com\n";  // a cell short
  const std::string message = error_of(text, ImportFormat::csv);
  std::vector<std::string> lines;
  std::istringstream split(message);
  for (std::string l; std::getline(split, l);) lines.push_back(l);
  REQUIRE(lines.size() == kMaxReportedBadLines + 1);
  CHECK(lines[0] == "in.file:2: the id cell is empty");
  CHECK(lines[19] == "in.file:21: the id cell is empty");
  CHECK(lines.back() == "in.file: 27 bad lines in all; the first 20 are shown");
}

TEST_CASE("a CSV row with broken quoting ends the reading, and the count says at least") {
  const std::string message = error_of("id,email\n,a@example.com\nC-2,\"b@example.com\n", ImportFormat::csv);
  CHECK(message ==
        "in.file:2: the id cell is empty\nin.file:3: unterminated quoted cell\n"
        "in.file: at least 2 bad lines in all; the first 2 are shown");
  // One bad line alone is reported as before: its own message.
  CHECK(error_of("id,email\n,a@example.com\n", ImportFormat::csv) == "in.file:2: the id cell is empty");
}
