// signals.cpp: the C API's consent signals and receipts: consentry_vault_record_signal,
// consentry_vault_consent_receipt, consentry_verify_consent_receipt.
#include <cstddef>
#include <cstdint>

#include "c_api.hpp"
#include "consentry/receipt.hpp"
#include "text/hex.hpp"

using namespace consentry_c;

extern "C" {

int consentry_vault_record_signal(consentry_vault* vault, const char* customer, consentry_signal_kind kind,
                                  const char* text_in, const char* channel, size_t* recorded,
                                  consentry_error** err) {
  return guarded(err, [&] {
    if (recorded != nullptr) *recorded = 0;
    std::string_view c, t, ch;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = optional_text(text_in, "text", t, err)) return st;
    if (int st = optional_text(channel, "channel", ch, err)) return st;
    consentry::signals::SignalKind k;
    switch (raw(kind)) {
      case CONSENTRY_SIGNAL_TCF: k = consentry::signals::SignalKind::tcf; break;
      case CONSENTRY_SIGNAL_GPP: k = consentry::signals::SignalKind::gpp; break;
      case CONSENTRY_SIGNAL_GPC: k = consentry::signals::SignalKind::gpc; break;
      default:
        return fail_with(err, consentry::errc::invalid_argument, "kind is not a consentry_signal_kind");
    }
    consentry::ConsentDetails details;
    details.channel = std::string(ch);
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.record_signal(c, k, t, details);
      if (!r) return fail(err, r.err());
      if (recorded != nullptr)
        for (const consentry::SignalOutcome& o : r.value().purposes) *recorded += o.recorded ? 1 : 0;
      return kOk;
    });
  });
}

int consentry_vault_consent_receipt(consentry_vault* vault, const char* customer, int64_t seq, char** out,
                                    consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view c;
    if (int st = text(customer, "customer", c, err)) return st;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.consent_receipt(c, seq);
      if (!r) return fail(err, r.err());
      *out = new_string(r.value());
      return kOk;
    });
  });
}

int consentry_vault_public_key(consentry_vault* vault, char** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      *out = new_string(consentry::detail::hex_encode(open.audit_public_key()));
      return kOk;
    });
  });
}

int consentry_verify_consent_receipt(const char* receipt, const char* public_key_hex, consentry_error** err) {
  return guarded(err, [&] {
    std::string_view r, k;
    if (int st = text(receipt, "receipt", r, err)) return st;
    if (int st = text(public_key_hex, "public_key_hex", k, err)) return st;
    consentry::bytes key(consentry::kAuditPublicKeyBytes);
    if (!consentry::detail::hex_decode(k, key, "public_key_hex"))
      return fail_with(err, consentry::errc::invalid_argument,
                       "public_key_hex must be the vault's public key: 64 hex digits");
    auto checked = consentry::verify_consent_receipt(r, key);
    if (!checked) return fail(err, checked.err());
    return kOk;
  });
}

}  // extern "C"
