// form.hpp: how a field is revealed to a purpose (clear, mask:last4, pseudonym, ...).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace consentry {

/// FormKind enumerates the forms of DESIGN.md.
enum class FormKind {
  clear,              ///< the value as stored
  mask_last,          ///< all but the last n characters replaced by '*'
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

/// Form is a parsed form: a kind and, for mask_last, prefix and bucket, its parameter n >= 1.
struct Form {
  FormKind kind = FormKind::clear;
  int n = 0;

  /// to_string gives the policy spelling ("mask:last4", "generalise:bucket:10").
  std::string to_string() const;
  bool operator==(const Form&) const = default;
};

/// parse_form reads a policy spelling. Returns nullopt for unknown forms and for parameters
/// that are missing, zero, negative or above 1000.
std::optional<Form> parse_form(std::string_view text);

}  // namespace consentry
