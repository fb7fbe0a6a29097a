// audit_count.hpp: counting a vault's audit entries by action.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>

#include "consentry/vault.hpp"

namespace consentry::test {

/// count_action counts the entries of `vault`'s audit log with `action`; the test fails when the
/// log cannot be read.
inline std::size_t count_action(const Vault& vault, AuditAction action) {
  auto entries = vault.audit_entries();
  REQUIRE_MESSAGE(entries.ok(), entries.err().message);
  return static_cast<std::size_t>(std::count_if(entries->begin(), entries->end(),
                                                [&](const AuditEntry& e) { return e.action == action; }));
}

}  // namespace consentry::test
