// json_reader.hpp: the one reader of JSON from outside the library (policies, imports,
// checkpoints). It bounds nesting without recursion, refuses NUL bytes and duplicate keys at any
// depth, and says where a document is wrong without quoting it.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace consentry {

/// kMaxJsonDepth is how deeply arrays and objects may nest in a JSON input. Policies, import
/// lines, exports and checkpoints nest four levels or fewer; a deeper document is a mistake or an
/// attack on code that walks documents recursively.
inline constexpr std::size_t kMaxJsonDepth = 64;

/// JsonProblem says why read_json refused a text and where, in words that never quote the text.
struct JsonProblem {
  std::size_t line = 1;    ///< 1-based line of the offending byte
  std::size_t column = 1;  ///< 1-based column of the offending byte, counted in bytes
  std::string path;        ///< JSON path of a duplicate key ("$.fields.email"); empty otherwise
  std::string what;        ///< "invalid JSON", "duplicate key 'email'", ...

  /// message renders the problem: "line 3, column 7: invalid JSON", or for a duplicate key
  /// "$.fields.email: duplicate key 'email' (line 3)".
  std::string message() const;
};

/// read_json parses `text` as one JSON document into `out`, keeping the order of object members.
/// Returns the problem instead when the text is not JSON (a syntax error, invalid UTF-8, a lone
/// surrogate escape, a number beyond a double), holds a NUL byte, nests arrays and objects deeper
/// than kMaxJsonDepth, or gives a key twice in one object. Nothing in the returned problem quotes
/// the text except a duplicate key, quoted with control bytes escaped and long keys cut.
std::optional<JsonProblem> read_json(std::string_view text, nlohmann::ordered_json& out);

/// json_key_path appends an object member to a JSON path: "$.fields", "$.access['marketing.email']"
/// (control bytes escaped, long keys cut, so a hostile key cannot forge lines in a message).
std::string json_key_path(const std::string& parent, std::string_view key);

/// quote_json_text renders a string of a JSON document (a key, an id) for a message: single-quoted, control
/// bytes, quotes and backslashes as \xNN, cut after 80 bytes.
std::string quote_json_text(std::string_view text);

}  // namespace consentry
