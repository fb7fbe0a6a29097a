// wording.hpp: text a person reads (a label, a description), in one language or in several.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace consentry {

/// Wording is text written for a person: either one untranslated string, or translations by
/// language tag (BCP 47, e.g. "en", "de", "pt-BR"). A policy writes it as a JSON string or as an
/// object of translations: `"label": {"en": "Email address", "de": "E-Mail-Adresse"}`.
struct Wording {
  std::string text;                                              ///< the untranslated string, if any
  std::map<std::string, std::string, std::less<>> translations;  ///< language tag -> text

  /// empty is true when there is no text in any language.
  bool empty() const noexcept { return text.empty() && translations.empty(); }
  /// in gives the text in `language` (exactly, then by its primary subtag: "de-AT" finds "de"),
  /// else in `fallback` the same way, else the untranslated text, else "". Never fails.
  std::string_view in(std::string_view language, std::string_view fallback = {}) const;
  /// translated_in is true when a translation for `language` exists (exact tag only).
  bool translated_in(std::string_view language) const { return translations.count(language) != 0; }

  bool operator==(const Wording&) const = default;
};

/// valid_language_tag is true for a well-formed BCP 47 tag of the simple kind policies use: a
/// primary subtag of 2 or 3 letters, then subtags of 2 to 8 letters or digits separated by '-'.
bool valid_language_tag(std::string_view tag) noexcept;

}  // namespace consentry
