// consent_event.hpp: a consent event of customer C-1, for tests of decisions and consent state.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "consentry/consent.hpp"
#include "consentry/time.hpp"

namespace consentry::test {

/// consent_event is `action` on `purpose` by customer C-1 at `at`, lapsing at `expires` if given.
inline ConsentEvent consent_event(std::string purpose, ConsentAction action, timestamp at,
                                  std::optional<timestamp> expires = std::nullopt) {
  ConsentEvent e;
  e.customer = "C-1";
  e.purpose = std::move(purpose);
  e.action = action;
  e.at = at;
  e.expires_at = expires;
  return e;
}

}  // namespace consentry::test
