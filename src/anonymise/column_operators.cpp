// column_operators.cpp: one form per column of a table, applied to every cell of the column.
#include "consentry/anonymise/column_operators.hpp"

#include <sodium.h>

#include <cstdint>
#include <set>
#include <span>
#include <string_view>
#include <utility>

#include "consentry/anonymise/transform.hpp"
#include "consentry/field_type.hpp"

namespace consentry {
namespace {

// kTokenTweakPrefix starts the tweak of a token column, as the vault's does for a field.
constexpr std::string_view kTokenTweakPrefix = "consentry/token/";
// kTokenKeyLabel is what the token key derived from a pseudonym key is the keyed hash of.
constexpr std::string_view kTokenKeyLabel = "consentry/column-token";
// kFormList is the list of forms a message offers after a text that is not one.
constexpr std::string_view kFormList =
    "clear, redact, replace:TEXT, mask:lastN, mask:firstN, mask:email, pseudonym, "
    "pseudonym:hmac-sha256, token, generalise:year|month|decade, generalise:prefix:N or "
    "generalise:bucket:N (N from 1 to 1000)";

bool is_pseudonym(FormKind k) {
  return k == FormKind::pseudonym || k == FormKind::pseudonym_hmac;
}

bool is_date(std::string_view cell) {
  const auto r = normalise_value(FieldType::date, "", cell);
  return r.ok() && *r == cell;
}

// cell_type is the type a cell is read as for `form` (see apply_column_operators).
FieldType cell_type(const Form& form, std::string_view cell) {
  switch (form.kind) {
    case FormKind::generalise_year:
    case FormKind::generalise_month: return FieldType::date;
    case FormKind::generalise_bucket: return FieldType::integer;
    case FormKind::generalise_decade: return is_date(cell) ? FieldType::date : FieldType::integer;
    case FormKind::mask_email: return FieldType::email;
    default: return FieldType::string;
  }
}

std::string position(std::size_t i) {
  return "column operator " + std::to_string(i + 1);
}

}  // namespace

std::string form_name(const Form& form) {
  return form.kind == FormKind::replace ? std::string("replace") : form.to_string();
}

result<std::vector<ColumnOperator>> parse_column_operators(const std::vector<std::string>& specs) {
  std::vector<ColumnOperator> ops;
  ops.reserve(specs.size());
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const std::string_view spec = specs[i];
    const std::size_t eq = spec.find('=');
    if (eq == std::string_view::npos)
      return make_error(errc::bad_input, position(i) + ": no '=': write COLUMN=FORM, e.g. email=pseudonym");
    if (eq == 0) return make_error(errc::bad_input, position(i) + ": the column before '=' is empty");
    const std::string column(spec.substr(0, eq));
    const std::string_view text = spec.substr(eq + 1);
    const std::string named = position(i) + " (column '" + column + "')";
    if (!seen.insert(column).second)
      return make_error(errc::bad_input, named + ": the column is given twice: give each column one form");
    auto form = parse_form(text);
    if (!form) {
      if (text.starts_with("replace:"))
        return make_error(errc::bad_input, named + ": replace:TEXT needs 1 to " +
                                               std::to_string(kMaxReplaceText) +
                                               " characters of text, none of them a control character");
      return make_error(errc::bad_input,
                        named + ": the text after '=' is not a form; forms are " + std::string(kFormList));
    }
    ops.push_back(ColumnOperator{column, std::move(*form)});
  }
  return ops;
}

result<void> apply_column_operators(Dataset& data, const std::vector<ColumnOperator>& ops,
                                    const SecretBytes* pseudonym_key, const Tokeniser* tokens) {
  // Everything that does not depend on a cell is checked before any cell is read.
  std::vector<std::size_t> index;
  index.reserve(ops.size());
  std::set<std::size_t> taken;
  const std::string header = data.source + ":1";
  for (const ColumnOperator& op : ops) {
    const auto at = data.column_index(op.column);
    if (!at) return make_error(errc::bad_input, header + ": no column '" + op.column + "' in the header");
    if (!taken.insert(*at).second)
      return make_error(errc::bad_input, header + ": column '" + op.column + "' is given two forms");
    if (is_pseudonym(op.form.kind) &&
        (!pseudonym_key || pseudonym_key->size() < 16 || pseudonym_key->size() > 64))
      return make_error(errc::bad_input, "column '" + op.column + "': " + form_name(op.form) +
                                             " needs a pseudonym key of 16 to 64 bytes (--key-file)");
    if (op.form.kind == FormKind::token && !tokens)
      return make_error(errc::bad_input, "column '" + op.column +
                                             "': token needs a key to build its cipher from (--key-file)");
    index.push_back(*at);
  }

  // The new cells of each column are made aside and moved in only when every one was made.
  std::vector<std::vector<std::string>> made(ops.size());
  for (std::size_t o = 0; o < ops.size(); ++o) {
    const ColumnOperator& op = ops[o];
    const std::string tweak = std::string(kTokenTweakPrefix) + op.column;
    FormKeys keys;
    keys.purpose_key = pseudonym_key;
    keys.token_cipher = tokens;
    keys.token_tweak =
        std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(tweak.data()), tweak.size());
    std::vector<std::string>& cells = made[o];
    cells.reserve(data.rows.size());
    for (std::size_t r = 0; r < data.rows.size(); ++r) {
      if (data.rows[r].size() != data.columns.size())
        return make_error(errc::invalid_argument,
                          data.where(r) + ": the row's cells do not match the header");
      const std::string& cell = data.rows[r][index[o]];
      if (cell.empty()) {
        cells.emplace_back();
        continue;
      }
      auto out = apply_form(op.form, cell_type(op.form, cell), cell, keys);
      if (!out) {
        // apply_form's messages name the form and the type, never the value.
        return make_error(errc::bad_input, data.where(r) + ": column '" + op.column +
                                               "': " + form_name(op.form) + " does not fit the cell (" +
                                               out.err().message + ")");
      }
      cells.push_back(std::move(*out));
    }
  }
  for (std::size_t o = 0; o < ops.size(); ++o)
    for (std::size_t r = 0; r < data.rows.size(); ++r) data.rows[r][index[o]] = std::move(made[o][r]);
  return {};
}

result<Tokeniser> column_tokeniser(const SecretBytes& key) {
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)
    return make_error(errc::invalid_argument, "a token key is derived from a key of 16 to 64 bytes");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
  SecretBytes derived(32);
  const auto k = key.reveal();
  const auto out = derived.reveal();
  crypto_generichash(out.data(), out.size(), reinterpret_cast<const unsigned char*>(kTokenKeyLabel.data()),
                     kTokenKeyLabel.size(), k.data(), k.size());
  return Tokeniser::create(derived);
}

}  // namespace consentry
