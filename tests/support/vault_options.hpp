// vault_options.hpp: the VaultOptions and passphrase the vault tests share.
#pragma once

#include <string>
#include <string_view>

#include "consentry/vault.hpp"
#include "support/fake_clock.hpp"
#include "support/passphrase.hpp"

namespace consentry::test {

/// test_vault_options gives options that keep tests fast: the minimum KDF, the given audit mode
/// and actor (the audit log's accessor for staff actions); the system clock and the default key
/// cache.
inline VaultOptions test_vault_options(AuditMode audit = AuditMode::durable,
                                       std::string_view actor = "library") {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.audit = audit;
  o.actor = std::string(actor);
  return o;
}

/// test_vault_options(clock, ...) is test_vault_options(audit, actor) with time read from `clock`.
inline VaultOptions test_vault_options(const FakeClock& clock, AuditMode audit = AuditMode::durable,
                                       std::string_view actor = "library") {
  VaultOptions o = test_vault_options(audit, actor);
  o.clock = clock.fn();
  return o;
}

}  // namespace consentry::test
