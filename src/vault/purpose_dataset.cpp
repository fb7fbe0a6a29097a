// purpose_dataset.cpp: the table a purpose may see, read through the public vault API (an
// accessor's views), so every cell is decided and audited like any other read.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/vault.hpp"

namespace consentry {

result<Dataset> Vault::purpose_dataset(std::string_view accessor_id, std::string_view purpose,
                                       std::span<const std::string> fields) const {
  if (fields.empty()) return make_error(errc::bad_input, "a dataset needs at least one field");
  result<Accessor> as = accessor(accessor_id);
  if (!as) return as.err();
  result<std::vector<std::string>> customers = eligible_customers(purpose);
  if (!customers) return customers.err();
  Dataset data;
  data.source = "vault (purpose " + std::string(purpose) + ")";
  data.columns.assign(fields.begin(), fields.end());
  const std::vector<std::string_view> names(fields.begin(), fields.end());
  for (const std::string& customer : *customers) {
    result<View> view = as->view(customer, purpose);
    if (!view) return view.err();
    result<std::vector<result<FieldValue>>> read = view->read(names);
    if (!read) return read.err();
    std::vector<result<FieldValue>>& values = *read;
    std::vector<std::string> row(names.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i]) {
        row[i] = std::move(values[i]).value().value;
        continue;
      }
      const error& e = values[i].err();
      if (e.code == errc::not_found) continue;
      if (e.code == errc::denied) {
        return make_error(errc::denied,
                          "field " + fields[i] + " is denied for purpose " + std::string(purpose) + " (" +
                              std::string(to_string(e.reason)) + "); nothing was released",
                          e.reason);
      }
      return e;
    }
    data.rows.push_back(std::move(row));
    data.lines.push_back(data.rows.size());
  }
  return data;
}

}  // namespace consentry
