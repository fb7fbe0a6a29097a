// purpose_dataset.cpp: the table a purpose may see, read through the public vault API (an
// accessor's bulk read), so every cell is decided and audited like any other read.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/vault.hpp"

namespace consentry {

namespace {

/// no_longer_eligible is true for a refusal that says the customer's position on the purpose
/// changed after they were listed as eligible (a withdrawal, an objection, an expiry, an
/// erasure): their row is left out, as it would have been had they been listed a moment later.
bool no_longer_eligible(const error& e) {
  if (e.code == errc::erased) return true;
  if (e.code != errc::denied) return false;
  switch (e.reason) {
    case deny_reason::no_consent:
    case deny_reason::withdrawn:
    case deny_reason::expired:
    case deny_reason::objected:
    case deny_reason::consent_outdated:
    case deny_reason::erased: return true;
    default: return false;
  }
}

}  // namespace

result<Dataset> Vault::purpose_dataset(std::string_view accessor_id, std::string_view purpose,
                                       std::span<const std::string> fields,
                                       const BulkReadOptions& options) const {
  if (fields.empty()) return make_error(errc::bad_input, "a dataset needs at least one field");
  result<Accessor> as = accessor(accessor_id);
  if (!as) return as.err();
  result<std::vector<std::string>> customers = eligible_customers(purpose);
  if (!customers) return customers.err();
  Dataset data;
  data.source = "vault (purpose " + std::string(purpose) + ")";
  data.columns.assign(fields.begin(), fields.end());
  const std::vector<std::string_view> names(fields.begin(), fields.end());
  auto add_row = [&](const std::string&, CustomerAnswer& answer) -> result<void> {
    if (!answer) {
      if (no_longer_eligible(answer.err())) return ok();
      return answer.err();
    }
    std::vector<result<FieldValue>>& values = *answer;
    std::vector<std::string> row(names.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!values[i] && no_longer_eligible(values[i].err())) return ok();
    }
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
    return ok();
  };
  CONSENTRY_TRY(as->read_each(*customers, purpose, names, add_row, options));
  return data;
}

}  // namespace consentry
