// json_shape.hpp: what the JSON targets need to know about a text independently of the code
// under test: whether it holds a NUL byte, and whether it is JSON that gives a key twice in one
// object at any depth. Both must be refused by every reader of JSON input.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace consentry::fuzz {

/// has_nul is true when `text` holds a NUL byte, which JSON allows nowhere unescaped.
inline bool has_nul(std::string_view text) noexcept {
  return text.find('\0') != std::string_view::npos;
}

/// has_duplicate_key is true when `text` is one JSON document with an object that gives a key
/// twice. nlohmann's SAX parser walks the text without recursion, so any depth is fine.
inline bool has_duplicate_key(std::string_view text) {
  struct Handler : nlohmann::json::json_sax_t {
    std::vector<std::set<std::string>> objects;
    bool duplicate = false;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override {
      objects.emplace_back();
      return true;
    }
    bool key(string_t& k) override {
      if (!objects.back().insert(k).second) duplicate = true;
      return true;
    }
    bool end_object() override {
      objects.pop_back();
      return true;
    }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override {
      return false;
    }
  } handler;
  const bool valid = nlohmann::json::sax_parse(text.begin(), text.end(), &handler,
                                               nlohmann::json::input_format_t::json, /*strict=*/true,
                                               /*ignore_comments=*/false);
  return valid && handler.duplicate;
}

}  // namespace consentry::fuzz
