// wording.cpp: choosing the language of a piece of wording, and checking language tags.
#include "consentry/wording.hpp"

#include <algorithm>

namespace consentry {
namespace {

// primary_subtag gives "de" for "de-AT".
std::string_view primary_subtag(std::string_view tag) {
  return tag.substr(0, tag.find('-'));
}

// find_in looks up `language` exactly, then by its primary subtag; nullptr when neither exists.
const std::string* find_in(const std::map<std::string, std::string, std::less<>>& translations,
                           std::string_view language) {
  if (language.empty()) return nullptr;
  if (auto it = translations.find(language); it != translations.end()) return &it->second;
  if (auto it = translations.find(primary_subtag(language)); it != translations.end()) return &it->second;
  return nullptr;
}

bool alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool digit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

std::string_view Wording::in(std::string_view language, std::string_view fallback) const {
  if (const std::string* t = find_in(translations, language)) return *t;
  if (const std::string* t = find_in(translations, fallback)) return *t;
  return text;
}

bool valid_language_tag(std::string_view tag) noexcept {
  if (tag.size() > 35) return false;
  std::size_t start = 0;
  for (bool first = true;; first = false) {
    const std::size_t end = std::min(tag.find('-', start), tag.size());
    const std::string_view sub = tag.substr(start, end - start);
    if (first) {
      if (sub.size() < 2 || sub.size() > 3 || !std::all_of(sub.begin(), sub.end(), alpha)) return false;
    } else if (sub.size() < 2 || sub.size() > 8 ||
               !std::all_of(sub.begin(), sub.end(), [](char c) { return alpha(c) || digit(c); })) {
      return false;
    }
    if (end == tag.size()) return true;
    start = end + 1;
  }
}

}  // namespace consentry
