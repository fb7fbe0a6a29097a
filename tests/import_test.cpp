// import_test.cpp: JSON Lines and CSV parsing, with errors that name the line and never the value.
#include "consentry/import.hpp"

#include <doctest/doctest.h>

#include <sstream>

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
