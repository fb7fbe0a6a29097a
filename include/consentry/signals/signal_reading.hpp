// signal_reading.hpp: what a consent signal says of the policy's purposes. A TC string, a GPP
// string or Global Privacy Control is read through the policy's "signals" mapping into one
// verdict per mapped purpose; the vault turns verdicts into ledger events
// (Vault::record_signal, docs/consent-signals.md).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "consentry/policy.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry::signals {

/// SignalKind is the kind of signal a website or app sent.
enum class SignalKind { tcf, gpp, gpc };

/// to_string gives the spelling of a SignalKind ("tcf", "gpp", "gpc"), as ConsentSignal::kind.
std::string_view to_string(SignalKind kind) noexcept;

/// SignalVerdict is what a signal says of one policy purpose.
enum class SignalVerdict {
  granted,    ///< a TC string consents to every TCF purpose mapped to it, and to the vendor
  refused,    ///< a TC string lacks one of them (or a publisher restriction forbids it)
  opted_out,  ///< a usnat opt-out or GPC names it
};

/// to_string gives the spelling of a SignalVerdict.
std::string_view to_string(SignalVerdict verdict) noexcept;

/// PurposeVerdict is one purpose's verdict.
struct PurposeVerdict {
  std::string purpose;
  SignalVerdict verdict = SignalVerdict::refused;
};

/// SignalReading is a signal read through the policy: the signal (kind, CMP id, when it was
/// made) and one verdict per purpose it decides, in the order the mapping names them. Where two
/// parts of one GPP string disagree on a purpose, the more protective verdict stands (opted out
/// over refused over granted).
struct SignalReading {
  ConsentSignal signal;
  std::vector<PurposeVerdict> verdicts;
};

/// read_signal decodes `text` as a signal of `kind` and reads it through `policy`'s mapping. For
/// GPC, `text` must be empty or "1" (the value of the Sec-GPC header). `seen` is when the signal
/// arrived: the time of a GPC signal, and of a GPP string without a TCF section, which carry
/// none of their own. errc::bad_input for a malformed string (naming the field that is wrong) and
/// for a signal the policy maps no purpose for.
result<SignalReading> read_signal(const Policy& policy, SignalKind kind, std::string_view text,
                                  timestamp seen);

}  // namespace consentry::signals
