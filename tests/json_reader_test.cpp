// json_reader_test.cpp: the one reader of outside JSON bounds nesting, refuses NUL bytes and
// duplicate keys at any depth, and says where a document is wrong without quoting it.
#include "../src/json/json_reader.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

using consentry::JsonProblem;
using consentry::kMaxJsonDepth;
using consentry::read_json;
using Json = nlohmann::ordered_json;

namespace {

/// problem_of reads `text` and returns why it was refused; the test fails if it was accepted.
JsonProblem problem_of(const std::string& text) {
  Json out;
  std::optional<JsonProblem> problem = read_json(text, out);
  REQUIRE(problem.has_value());
  return *problem;
}

/// accepted reads `text` and returns the document; the test fails if it was refused.
Json accepted(const std::string& text) {
  Json out;
  std::optional<JsonProblem> problem = read_json(text, out);
  REQUIRE_MESSAGE(!problem.has_value(), (problem ? problem->message() : std::string()));
  return out;
}

std::string nested_arrays(std::size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

std::string nested_objects(std::size_t depth) {
  std::string text;
  for (std::size_t i = 0; i < depth; ++i) text += "{\"k\":";
  text += "1";
  text += std::string(depth, '}');
  return text;
}

}  // namespace

TEST_CASE("a document keeps its members in order and its values' types") {
  const Json j = accepted(R"({"z": 1, "a": [true, null, -2, 18446744073709551615, 2.5, "x"], "m": {}})");
  REQUIRE(j.is_object());
  CHECK(j.begin().key() == "z");
  CHECK((++j.begin()).key() == "a");
  CHECK(j["a"][0] == true);
  CHECK(j["a"][1].is_null());
  CHECK(j["a"][2].get<std::int64_t>() == -2);
  CHECK(j["a"][3].is_number_unsigned());
  CHECK(j["a"][4].get<double>() == 2.5);
  CHECK(j["a"][5] == "x");
  CHECK(j["m"].is_object());
  CHECK(accepted("\"text\"") == "text");
  CHECK(accepted(" 7 ") == 7);
}

TEST_CASE("100,000 levels of nesting followed by another key are refused at the first level too deep") {
  const std::string text = "{\"x\":" + nested_arrays(100000) + ",\"y\":1}";
  const JsonProblem p = problem_of(text);
  CHECK(p.what == "JSON nested deeper than 64 levels");
  CHECK(p.line == 1);
  // The object is level 1, so the 64th '[' (column 5 + 64) is the 65th level.
  CHECK(p.column == 5 + kMaxJsonDepth);
  CHECK(p.path.empty());
  CHECK(p.message() == "line 1, column 69: JSON nested deeper than 64 levels");
}

TEST_CASE("arrays and objects may nest 64 levels deep, not 65") {
  CHECK(accepted(nested_arrays(kMaxJsonDepth)).is_array());
  CHECK(accepted(nested_objects(kMaxJsonDepth)).is_object());
  CHECK(problem_of(nested_arrays(kMaxJsonDepth + 1)).what == "JSON nested deeper than 64 levels");
  CHECK(problem_of(nested_objects(kMaxJsonDepth + 1)).what == "JSON nested deeper than 64 levels");
  // Mixed, and deep objects inside an array.
  std::string mixed;
  for (std::size_t i = 0; i < 100000; ++i) mixed += i % 2 == 0 ? "[" : "{\"a\":";
  CHECK(problem_of(mixed).what == "JSON nested deeper than 64 levels");
  CHECK(problem_of("[1, " + nested_objects(200000) + "]").what == "JSON nested deeper than 64 levels");
  // Unclosed brackets beyond the limit: the depth is what is reported, not the missing end.
  CHECK(problem_of(std::string(1000000, '[')).what == "JSON nested deeper than 64 levels");
}

TEST_CASE("a NUL byte is refused inside and outside strings, naming its line and column") {
  const std::string after = std::string("{\"a\": 1}\0garbage{{{", 19);
  JsonProblem p = problem_of(after);
  CHECK(p.what == "invalid JSON: a NUL byte");
  CHECK(p.line == 1);
  CHECK(p.column == 9);

  const std::string inside = std::string("{\n\"a\": \"x\0y\"}", 13);
  p = problem_of(inside);
  CHECK(p.what == "invalid JSON: a NUL byte");
  CHECK(p.line == 2);
  CHECK(p.column == 8);

  CHECK(problem_of(std::string("\0", 1)).what == "invalid JSON: a NUL byte");
  // The escape \u0000 is JSON's way to put a NUL in a string, and is kept.
  CHECK(accepted(R"({"a": "x\u0000y"})")["a"].get<std::string>() == std::string("x\0y", 3));
}

TEST_CASE("a key given twice is refused at any depth, naming its JSON path and line") {
  JsonProblem p = problem_of(R"({"id": "Q-2", "id": "Q-3", "fields": {}})");
  CHECK(p.path == "$.id");
  CHECK(p.what == "duplicate key 'id'");
  CHECK(p.line == 1);
  CHECK(p.message() == "$.id: duplicate key 'id' (line 1)");

  p = problem_of("{\n  \"a\": {\"b\": [\n    {\"c\": 1},\n    {\"c\": 1, \"d\": 2, \"c\": 2}\n  ]}\n}");
  CHECK(p.path == "$.a.b[1].c");
  CHECK(p.line == 4);

  // A second object under the same key is a duplicate, whatever it holds.
  CHECK(problem_of(R"({"fields": {"a": "1"}, "fields": {"b": "2"}})").path == "$.fields");
  // An escape spells the same key.
  CHECK(problem_of(R"({"a": 1, "\u0061": 2})").path == "$.a");
  // Keys that are not plain words are quoted with control bytes escaped.
  p = problem_of("{\"a b\\n\": 1, \"a b\\n\": 2}");
  CHECK(p.path == "$['a b\\x0a']");
  CHECK(p.message().find('\n') == std::string::npos);

  // The same key in different objects, and equal values, are fine.
  const Json j = accepted(R"([{"a": 1}, {"a": 2, "b": {"a": 3}}, ["a", "a"]])");
  CHECK(j[1]["b"]["a"] == 3);
}

TEST_CASE("a lone surrogate escape is refused, a surrogate pair is read as one character") {
  CHECK(problem_of(R"({"a": "\ud800"})").what == "invalid JSON");
  CHECK(problem_of(R"({"a": "\udc00x"})").what == "invalid JSON");
  CHECK(problem_of(R"({"\ud800": 1})").what == "invalid JSON");
  CHECK(accepted(R"({"a": "\ud83d\ude00"})")["a"] == "\xF0\x9F\x98\x80");
  // Invalid UTF-8 in a string is refused too.
  CHECK(problem_of("{\"a\": \"\xff\xfe\"}").what == "invalid JSON");
}

TEST_CASE("numbers beyond a double are refused, and big integers become doubles") {
  CHECK(problem_of("[1e400]").what == "invalid JSON: a number is out of range");
  CHECK(problem_of("{\"a\": -1e99999}").what == "invalid JSON: a number is out of range");
  const Json j = accepted("[123456789012345678901234567890, -9223372036854775809, 1e-400]");
  CHECK(j[0].is_number_float());
  CHECK(j[1].is_number_float());
  CHECK(j[2].get<double>() == 0.0);
}

TEST_CASE("a syntax error names its line and column, never the text") {
  JsonProblem p = problem_of("{\n  \"a\": 1,\n  secret-oops\n}");
  CHECK(p.line == 3);
  CHECK(p.column == 3);
  CHECK(p.what == "invalid JSON");
  CHECK(p.message() == "line 3, column 3: invalid JSON");
  CHECK(p.message().find("secret") == std::string::npos);

  CHECK(problem_of("").message() == "line 1, column 1: invalid JSON");
  CHECK(problem_of("{,}").message() == "line 1, column 2: invalid JSON");
  CHECK(problem_of("{} x").what == "invalid JSON");
  CHECK(problem_of("{\"a\": \"unterminated secret").message().find("secret") == std::string::npos);
  CHECK(problem_of("[1, 2").what == "invalid JSON");
  CHECK(problem_of("{\"a\" 1}").what == "invalid JSON");
}
