// anonymise/column_operators.hpp: one form per column of a table ("email=pseudonym",
// "phone=mask:last4"), applied to every cell of the column, with or without a k-anonymity step
// after it.
#pragma once

#include <string>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/token.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// ColumnOperator is a form to apply to every cell of one column of a Dataset.
struct ColumnOperator {
  std::string column;  ///< the column's name in the header
  Form form;           ///< a form of the policy format (form.hpp)

  bool operator==(const ColumnOperator&) const = default;
};

/// form_name names `form` in messages and reports: its policy spelling, except that a replace
/// form is named "replace" without its text.
std::string form_name(const Form& form);

/// parse_column_operators reads "column=form" texts, in order: the column is what comes before
/// the first '=', the form (parse_form's spelling) what follows it. Returns errc::bad_input naming
/// the text's position (from 1) and the problem: no '=', an empty column, a column given twice, or
/// not a form. The message names the column, never the text after '=' (an unknown form is not
/// echoed: it may be a value typed in the wrong place).
result<std::vector<ColumnOperator>> parse_column_operators(const std::vector<std::string>& specs);

/// apply_column_operators replaces every non-empty cell of each operator's column by its form
/// (apply_form); an empty cell stays empty. A cell is read as the type its form needs:
/// a date (YYYY-MM-DD) for generalise:year and generalise:month, an integer for
/// generalise:bucket:N, a date for generalise:decade when the cell is one and an integer
/// otherwise, an email address for mask:email, and text for every other form. pseudonym and
/// pseudonym:hmac-sha256 hash under `pseudonym_key` (16 to 64 bytes); token enciphers a cell's
/// ASCII letters and digits with `tokens`, with the tweak "consentry/token/<column>" (so one value
/// gives different tokens in different columns). Returns errc::bad_input, leaving `data` as it
/// was, for: a column the header lacks or given twice ("source:1" and the column); a pseudonym
/// without a key of 16 to 64 bytes, or a token without a tokeniser (both messages name the
/// column and say the key is needed: --key-file on the command line); a cell the form does not fit
/// or that is not valid UTF-8 ("source:line", the column and form_name(), never the cell).
result<void> apply_column_operators(Dataset& data, const std::vector<ColumnOperator>& ops,
                                    const SecretBytes* pseudonym_key, const Tokeniser* tokens);

/// column_tokeniser makes the Tokeniser for token columns from a pseudonym key (16 to 64 bytes):
/// AES-256 under a key derived from `key` with keyed BLAKE2b ("consentry/column-token"), so that
/// the hash and the cipher never share key bytes. errc::invalid_argument for another key length.
result<Tokeniser> column_tokeniser(const SecretBytes& key);

}  // namespace consentry
