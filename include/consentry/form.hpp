// form.hpp: how a field is revealed to a purpose (clear, mask:last4, pseudonym, ...).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace consentry {

/// FormKind enumerates the forms of DESIGN.md.
enum class FormKind {
  clear,              ///< the value as stored
  mask_last,          ///< all but the last n characters replaced by '*'
  mask_first,         ///< all but the first n characters replaced by '*'
  mask_email,         ///< an email address's local part replaced by '*', its domain kept
  replace,            ///< a fixed text in place of the value; reveals nothing of it
  redact,             ///< the field exists; its value is withheld
  generalise_year,    ///< a date reduced to its year
  generalise_month,   ///< a date reduced to year and month
  generalise_decade,  ///< a date or number reduced to its decade
  generalise_prefix,  ///< the first n characters
  generalise_bucket,  ///< an integer reduced to the range [k*n, k*n+n-1]
  pseudonym,          ///< a keyed hash under the purpose's own key
  pseudonym_hmac,     ///< HMAC-SHA256 under the purpose's own key, for systems that need it
  token,              ///< an FF1 format-preserving token
};

/// kMaxReplaceText bounds the text of a replace form, in code points.
inline constexpr std::size_t kMaxReplaceText = 64;

/// Form is a parsed form: a kind and, for mask_last, mask_first, prefix and bucket, its parameter
/// n >= 1; for replace, the fixed text that stands in for every value (empty for other kinds).
struct Form {
  FormKind kind = FormKind::clear;
  int n = 0;
  std::string text{};

  /// to_string gives the policy spelling ("mask:last4", "generalise:bucket:10", "replace:N/A").
  std::string to_string() const;
  bool operator==(const Form&) const = default;
};

/// parse_form reads a policy spelling. Returns nullopt for unknown forms, for parameters that are
/// missing, zero, negative or above 1000, and for a replace text that is empty, longer than
/// kMaxReplaceText code points, not valid UTF-8 or holding a control character.
std::optional<Form> parse_form(std::string_view text);

}  // namespace consentry
