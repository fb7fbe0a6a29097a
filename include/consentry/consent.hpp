// consent.hpp: the state a customer's consent ledger gives each purpose. The ledger's events
// (ConsentEvent, ConsentAction) are records a store keeps, defined in records.hpp.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/records.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// ConsentStatus is the state of one purpose at one instant.
enum class ConsentStatus { none, granted, withdrawn, expired, objected };

/// to_string gives the spelling of a ConsentStatus.
std::string_view to_string(ConsentStatus s) noexcept;

/// consent_status is the one rule that turns a purpose's deciding event into its status at
/// `now`: none without an event (`action` empty); a grant whose expiry has come (at the expiry
/// second itself) is expired, else granted; a withdrawal is withdrawn, an objection objected.
/// ConsentState::status and the vault's scans of the ledger both use it. Cannot fail.
ConsentStatus consent_status(std::optional<ConsentAction> action, const std::optional<timestamp>& expires_at,
                             timestamp now) noexcept;

/// ConsentState is a customer's current position per purpose, derived from their ledger: the
/// last event of each purpose wins; a grant past its expiry counts as expired.
class ConsentState {
 public:
  ConsentState() = default;
  /// from_history derives the state from events of one customer in ledger order.
  static ConsentState from_history(const std::vector<ConsentEvent>& events);

  /// apply folds one more event (later than all before it) into the state.
  void apply(const ConsentEvent& e);
  /// status gives the state of `purpose` at `now`.
  ConsentStatus status(std::string_view purpose, timestamp now) const;
  /// last gives the deciding event of `purpose`, or nullptr when there is none. The pointer is
  /// valid until the state is next changed.
  const ConsentEvent* last(std::string_view purpose) const;

 private:
  // last_ holds the deciding event of each purpose, one per purpose, in the order purposes first
  // appeared. A customer has few purposes, so a linear search beats a tree.
  std::vector<ConsentEvent> last_;
};

// ---- inline definitions (header-only: pure logic) ----

inline std::string_view to_string(ConsentStatus s) noexcept {
  switch (s) {
    case ConsentStatus::none: return "none";
    case ConsentStatus::granted: return "granted";
    case ConsentStatus::withdrawn: return "withdrawn";
    case ConsentStatus::expired: return "expired";
    case ConsentStatus::objected: return "objected";
  }
  return "none";
}

inline ConsentState ConsentState::from_history(const std::vector<ConsentEvent>& events) {
  ConsentState s;
  for (const auto& e : events) s.apply(e);
  return s;
}

inline void ConsentState::apply(const ConsentEvent& e) {
  for (ConsentEvent& held : last_) {
    if (held.purpose == e.purpose) {
      held = e;
      return;
    }
  }
  last_.push_back(e);
}

inline const ConsentEvent* ConsentState::last(std::string_view purpose) const {
  for (const ConsentEvent& e : last_)
    if (std::string_view(e.purpose) == purpose) return &e;
  return nullptr;
}

inline ConsentStatus consent_status(std::optional<ConsentAction> action,
                                    const std::optional<timestamp>& expires_at, timestamp now) noexcept {
  if (!action) return ConsentStatus::none;
  switch (*action) {
    case ConsentAction::grant:
      return (expires_at && *expires_at <= now) ? ConsentStatus::expired : ConsentStatus::granted;
    case ConsentAction::withdraw: return ConsentStatus::withdrawn;
    case ConsentAction::object: return ConsentStatus::objected;
  }
  return ConsentStatus::none;
}

inline ConsentStatus ConsentState::status(std::string_view purpose, timestamp now) const {
  const ConsentEvent* e = last(purpose);
  if (!e) return ConsentStatus::none;
  return consent_status(e->action, e->expires_at, now);
}

}  // namespace consentry
