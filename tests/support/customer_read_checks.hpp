// customer_read_checks.hpp: checks that two reads of a customer from the store (CustomerRead, or
// its parts) hold the same rows, for the tests of Store::read_customer and read_customers.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "consentry/extension/store.hpp"

namespace consentry::test {

/// by_name sorts fields by name, for comparing sets of rows.
inline std::vector<StoredField> by_name(std::vector<StoredField> fields) {
  std::sort(fields.begin(), fields.end(), [](const auto& x, const auto& y) { return x.field < y.field; });
  return fields;
}

/// check_same_fields checks that `got` and `want` hold the same rows, in any order.
inline void check_same_fields(const std::vector<StoredField>& got, const std::vector<StoredField>& want) {
  const auto g = by_name(got);
  const auto w = by_name(want);
  REQUIRE(g.size() == w.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    CHECK(g[i].customer == w[i].customer);
    CHECK(g[i].field == w[i].field);
    CHECK(g[i].sealed == w[i].sealed);
    CHECK(g[i].source == w[i].source);
    CHECK(g[i].collected_at == w[i].collected_at);
    CHECK(g[i].format == w[i].format);
  }
}

/// check_same_history checks that `got` and `want` hold the same events in the same order.
inline void check_same_history(const std::vector<ConsentEvent>& got, const std::vector<ConsentEvent>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].seq == want[i].seq);
    CHECK(got[i].customer == want[i].customer);
    CHECK(got[i].purpose == want[i].purpose);
    CHECK(got[i].action == want[i].action);
    CHECK(got[i].at == want[i].at);
    CHECK(got[i].channel == want[i].channel);
    CHECK(got[i].notice == want[i].notice);
    CHECK(got[i].expires_at == want[i].expires_at);
    CHECK(got[i].policy_version == want[i].policy_version);
  }
}

/// check_same_read checks that `got` holds what `want` holds, part by part.
inline void check_same_read(const CustomerRead& got, const CustomerRead& want) {
  CHECK(got.meta == want.meta);
  CHECK(got.erased_at == want.erased_at);
  REQUIRE(got.key.has_value() == want.key.has_value());
  if (want.key) {
    CHECK(got.key->customer == want.key->customer);
    CHECK(got.key->version == want.key->version);
    CHECK(got.key->wrapped == want.key->wrapped);
  }
  check_same_history(got.history, want.history);
  check_same_fields(got.fields, want.fields);
}

}  // namespace consentry::test
