// extension/store/ledger.hpp: the ledger role of a store: the consent ledger, the contact log, contact
// preferences and the privacy budget's charges, all append-only.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// LedgerStore keeps the append-only logs of what customers agreed to and what was done with
/// their consent: no call changes or removes an event (erasure, MaintenanceStore, is the one
/// exception). Every call returns errc::io when the backend fails.
class LedgerStore {
 public:
  virtual ~LedgerStore() = default;

  /// append_consent adds an event to the ledger and returns it with its seq assigned. The
  /// ledger is append-only: no call changes or removes an event.
  virtual result<ConsentEvent> append_consent(const ConsentEvent& e) = 0;
  /// consent_history returns a customer's events in ledger order; errc::integrity for a stored
  /// event with an unknown action.
  virtual result<std::vector<ConsentEvent>> consent_history(std::string_view customer) = 0;
  /// purpose_history returns every customer's events for `purpose`, ordered by customer, then
  /// by ledger order; errc::integrity as consent_history.
  virtual result<std::vector<ConsentEvent>> purpose_history(std::string_view purpose) = 0;

  /// PurposePosition is where one customer stands on one purpose, reduced to what decides it:
  /// the action and expiry of their last event on the purpose (no action when they have none).
  struct PurposePosition {
    std::string_view customer;  ///< valid only during the visit
    std::optional<ConsentAction> action;
    std::optional<timestamp> expires_at;
    std::int64_t policy_version = 0;  ///< that event's ConsentEvent::policy_version
  };
  /// scan_purpose_positions calls `visit`, in customer order, with the position on `purpose` of
  /// every customer with a data key, until `visit` returns false; customers without a data key
  /// are never visited, whatever their events. With `only_with_events` it visits only those
  /// with at least one event on the purpose. Returns errc::integrity for a stored event with an
  /// unknown action (visits may have been made before it). Store gives a default built on
  /// customers() and purpose_history(); the library's stores read only the columns needed.
  virtual result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                              const std::function<bool(const PurposePosition&)>& visit) = 0;

  /// append_contact adds a contact to the contact log and returns it with its seq assigned;
  /// contacts returns a customer's contacts in log order.
  virtual result<ContactEvent> append_contact(const ContactEvent& e) = 0;
  virtual result<std::vector<ContactEvent>> contacts(std::string_view customer) = 0;
  /// append_contact_preference adds a customer's contact preference and returns it with its seq
  /// assigned; contact_preferences returns a customer's preferences in log order
  /// (errc::integrity for a stored row it cannot read back).
  virtual result<ContactPreference> append_contact_preference(const ContactPreference& p) = 0;
  virtual result<std::vector<ContactPreference>> contact_preferences(std::string_view customer) = 0;

  /// append_privacy_spend charges a private aggregate against its purpose's privacy budget and
  /// returns the charge with its seq assigned; privacy_spent sums the charges to `purpose` (in
  /// millionths of epsilon). The charges are append-only.
  virtual result<PrivacySpend> append_privacy_spend(const PrivacySpend& s) = 0;
  virtual result<std::int64_t> privacy_spent(std::string_view purpose) = 0;
};

}  // namespace consentry
