// receipt.hpp: signed consent receipts. A receipt is the customer's proof of one ledger event (a
// grant, withdrawal or objection): who the controller is, the purpose and its basis, the data
// categories it reaches, the policy version, when and how the choice was made, signed with the
// vault's Ed25519 key (the audit log's, under a domain of its own) so that anyone holding the
// vault's public key can check it offline. The fields follow ISO/IEC TS 27560 consent records
// and the Kantara Initiative's consent receipt (docs/consent-signals.md, "Receipts").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/bytes.hpp"
#include "consentry/policy.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// kReceiptVersion is the value of a receipt's "receipt_version".
inline constexpr std::string_view kReceiptVersion = "consentry-receipt-1";

/// ConsentReceipt is what a verified receipt says, for display.
struct ConsentReceipt {
  std::string receipt_id;
  std::string controller;  ///< the controller's name
  std::string subject;     ///< the customer id
  std::string purpose;
  std::string action;  ///< "grant", "withdraw" or "object"
  std::string consent_time;
  std::int64_t policy_version = 0;
  std::int64_t ledger_seq = 0;
};

/// issue_consent_receipt writes the receipt of ledger event `event`, recorded under `policy`
/// (the version the event names), signed by `signer`, issued at `issued_at`: one line of JSON.
/// errc::invalid_argument for an event whose purpose the policy does not declare.
result<std::string> issue_consent_receipt(const ConsentEvent& event, const Policy& policy,
                                          const AuditSigner& signer, timestamp issued_at);

/// verify_consent_receipt checks a receipt offline against the vault's `public_key`. Returns what
/// it says when the signature holds over every member; errc::bad_input, naming the JSON path, for
/// text that is not a receipt (not JSON, a member missing or of the wrong type, another
/// receipt_version); errc::integrity when it names another key or its signature does not verify
/// (a member changed, added or removed).
result<ConsentReceipt> verify_consent_receipt(std::string_view text, byte_view public_key);

}  // namespace consentry
