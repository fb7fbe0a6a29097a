// contact.hpp: contacts made with a customer (an e-mail, a call, a letter) and the customer's own
// contact preferences. The check that keeps reminders from turning into nagging,
// contact_refusal(), is in decision.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/time.hpp"

namespace consentry {

/// ContactEvent is one contact made with a customer, appended to the vault's contact log.
struct ContactEvent {
  std::int64_t seq = 0;  ///< log order, assigned by the store
  std::string customer;
  std::string channel;  ///< "email", "sms", "phone", "post", ...
  std::string purpose;
  timestamp at{};
};

/// ContactPreferenceKind is what a customer asked about being contacted.
enum class ContactPreferenceKind {
  limit,    ///< at most `max` contacts per `per` for `purpose` (on top of the policy's limit)
  opt_out,  ///< no contact at all on `channel`
  opt_in,   ///< contacts on `channel` allowed again after an opt-out
};

/// to_string spells a ContactPreferenceKind ("limit", "opt_out", "opt_in").
constexpr std::string_view to_string(ContactPreferenceKind k) noexcept {
  switch (k) {
    case ContactPreferenceKind::limit: return "limit";
    case ContactPreferenceKind::opt_out: return "opt_out";
    case ContactPreferenceKind::opt_in: return "opt_in";
  }
  return "limit";
}

/// parse_contact_preference_kind reads that spelling back; nullopt for anything else.
inline std::optional<ContactPreferenceKind> parse_contact_preference_kind(std::string_view text) {
  if (text == "limit") return ContactPreferenceKind::limit;
  if (text == "opt_out") return ContactPreferenceKind::opt_out;
  if (text == "opt_in") return ContactPreferenceKind::opt_in;
  return std::nullopt;
}

/// ContactPreference is one append-only event of a customer's contact preferences. The last
/// limit of a purpose and the last opt-out or opt-in of a channel are the ones in force.
struct ContactPreference {
  std::int64_t seq = 0;  ///< log order, assigned by the store
  std::string customer;
  ContactPreferenceKind kind = ContactPreferenceKind::limit;
  std::string purpose;  ///< limit only
  std::string channel;  ///< opt_out and opt_in only
  int max = 0;          ///< limit only: contacts allowed per `per` (0 = none at all)
  IsoDuration per;      ///< limit only
  timestamp at{};
};

}  // namespace consentry
