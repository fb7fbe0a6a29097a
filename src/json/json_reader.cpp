// json_reader.cpp: a SAX handler that builds an ordered_json document while bounding its depth
// and refusing duplicate keys. nlohmann's SAX parser keeps its own state in a vector, so neither
// parsing nor building recurses; the handler stops the parser at the first problem.
#include "json/json_reader.hpp"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <unordered_set>
#include <utility>
#include <vector>

namespace consentry {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxQuoted = 80;

// nlohmann's exception id for a number that does not fit a double ("1e999").
constexpr int kNumberOverflow = 406;

bool plain_key(std::string_view k) {
  if (k.empty()) return false;
  const auto first = static_cast<unsigned char>(k.front());
  if (!(std::isalpha(first) || k.front() == '_')) return false;
  return std::all_of(k.begin(), k.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x80 && (std::isalnum(u) || c == '_' || c == '-');
  });
}

// line_column turns a 1-based byte position into a line and a column (in bytes).
std::pair<std::size_t, std::size_t> line_column(std::string_view text, std::size_t byte) {
  const std::size_t idx = std::min(byte == 0 ? 0 : byte - 1, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < idx; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, idx - line_start + 1};
}

// CountingIterator walks the text for nlohmann's lexer and keeps, where the handler can read it,
// how many bytes the lexer has taken: the 1-based position of the last byte it read. The lexer
// reads no further than the end of a token before it reports the token, so at a key or at the
// start of an array or object this names the key's closing quote or the bracket.
class CountingIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = char;
  using difference_type = std::ptrdiff_t;
  using pointer = const char*;
  using reference = const char&;

  CountingIterator(const char* at, std::size_t* taken) : at_(at), taken_(taken) {}
  reference operator*() const { return *at_; }
  CountingIterator& operator++() {
    ++at_;
    ++*taken_;
    return *this;
  }
  CountingIterator operator++(int) {
    CountingIterator before = *this;
    ++*this;
    return before;
  }
  bool operator==(const CountingIterator& other) const { return at_ == other.at_; }
  bool operator!=(const CountingIterator& other) const { return at_ != other.at_; }

 private:
  const char* at_;
  std::size_t* taken_;
};

// Builder receives nlohmann's SAX events and builds the document itself: every value is appended
// to the innermost open array or object, whose address stays valid while it is open because
// nothing is appended to its parent until it closes.
class Builder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  Builder(std::string_view text, const std::size_t& taken, Json& root)
      : text_(text), taken_(taken), root_(root) {}

  bool null() { return place(Json(nullptr)) != nullptr; }
  bool boolean(bool v) { return place(Json(v)) != nullptr; }
  bool number_integer(number_integer_t v) { return place(Json(v)) != nullptr; }
  bool number_unsigned(number_unsigned_t v) { return place(Json(v)) != nullptr; }
  bool number_float(number_float_t v, const string_t&) { return place(Json(v)) != nullptr; }
  bool string(string_t& v) { return place(Json(std::move(v))) != nullptr; }
  bool binary(binary_t&) { return refuse(taken_, "invalid JSON"); }  // JSON text has no binary values

  bool start_object(std::size_t) { return open(Json::value_t::object); }
  bool start_array(std::size_t) { return open(Json::value_t::array); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(string_t& k) {
    Frame& top = stack_.back();
    if (!top.keys.insert(k).second) {
      problem_ = at(taken_, "duplicate key " + quote_json_text(k));
      problem_->path = json_key_path(open_path(), k);
      return false;
    }
    top.key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // The exception's text quotes the input; only its kind is used.
    return refuse(position,
                  e.id == kNumberOverflow ? "invalid JSON: a number is out of range" : "invalid JSON");
  }

  std::optional<JsonProblem>& problem() { return problem_; }

 private:
  struct Frame {
    Json* node;
    std::string key;  // the member being read, in an object
    std::unordered_set<std::string> keys;
  };

  JsonProblem at(std::size_t position, std::string what) const {
    const auto [line, column] = line_column(text_, position);
    JsonProblem p;
    p.line = line;
    p.column = column;
    p.what = std::move(what);
    return p;
  }

  bool refuse(std::size_t position, std::string what) {
    if (!problem_) problem_ = at(position, std::move(what));
    return false;
  }

  Json* place(Json&& v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return &root_;
    }
    Frame& top = stack_.back();
    if (top.node->is_array()) {
      auto& items = top.node->get_ref<Json::array_t&>();
      items.push_back(std::move(v));
      return &items.back();
    }
    // Appended directly: the key is known to be new, and ordered_map's own insert would search.
    auto& members = top.node->get_ref<Json::object_t&>();
    members.emplace_back(std::move(top.key), std::move(v));
    return &members.back().second;
  }

  bool open(Json::value_t type) {
    if (stack_.size() >= kMaxJsonDepth)
      return refuse(taken_, "JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
    Json* node = place(Json(type));
    stack_.push_back(Frame{node, {}, {}});
    return true;
  }

  bool close() {
    stack_.pop_back();
    return true;
  }

  // open_path is the JSON path of the innermost open array or object.
  std::string open_path() const {
    std::string p = "$";
    for (std::size_t i = 0; i + 1 < stack_.size(); ++i) {
      const Json& node = *stack_[i].node;
      if (node.is_array()) {
        p += "[" + std::to_string(node.size() - 1) + "]";
      } else {
        p = json_key_path(p, node.get_ref<const Json::object_t&>().back().first);
      }
    }
    return p;
  }

  std::string_view text_;
  const std::size_t& taken_;
  Json& root_;
  std::vector<Frame> stack_;
  std::optional<JsonProblem> problem_;
};

}  // namespace

std::string JsonProblem::message() const {
  if (!path.empty()) return path + ": " + what + " (line " + std::to_string(line) + ")";
  return "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + what;
}

std::string quote_json_text(std::string_view text) {
  std::string out = "'";
  std::size_t n = 0;
  for (char ch : text) {
    if (++n > kMaxQuoted) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7F || c == '\'' || c == '\\') {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += ch;
    }
  }
  out += '\'';
  return out;
}

std::string json_key_path(const std::string& parent, std::string_view key) {
  if (plain_key(key)) return parent + "." + std::string(key);
  return parent + "[" + quote_json_text(key) + "]";
}

std::optional<JsonProblem> read_json(std::string_view text, nlohmann::ordered_json& out) {
  out = Json();
  // nlohmann's lexer takes a NUL byte for the end of the input and would ignore what follows.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos) {
    const auto [line, column] = line_column(text, nul + 1);
    JsonProblem p;
    p.line = line;
    p.column = column;
    p.what = "invalid JSON: a NUL byte";
    return p;
  }
  std::size_t taken = 0;
  Json root;
  Builder builder(text, taken, root);
  const bool parsed = Json::sax_parse(CountingIterator(text.data(), &taken),
                                      CountingIterator(text.data() + text.size(), &taken), &builder,
                                      nlohmann::detail::input_format_t::json, /*strict=*/true);
  if (builder.problem()) return std::move(builder.problem());
  if (!parsed) {
    JsonProblem p;
    p.what = "invalid JSON";
    return p;
  }
  out = std::move(root);
  return std::nullopt;
}

}  // namespace consentry
