// signal_reading.cpp: read_signal, a TC string, a GPP string or Global Privacy Control read
// through the policy's "signals" mapping into one verdict per purpose.
#include "consentry/signals/signal_reading.hpp"

#include <algorithm>

#include "consentry/signals/gpp_string.hpp"
#include "consentry/signals/tcf_string.hpp"

namespace consentry::signals {

namespace {

// add_verdict records `verdict` for `purpose`; a purpose named twice keeps the more protective
// verdict (the enumerators are declared from least to most protective).
void add_verdict(SignalReading& reading, const std::string& purpose, SignalVerdict verdict) {
  for (PurposeVerdict& held : reading.verdicts) {
    if (held.purpose != purpose) continue;
    held.verdict = std::max(held.verdict, verdict);
    return;
  }
  reading.verdicts.push_back({purpose, verdict});
}

// restricted is true when a publisher restriction keeps `vendor` from resting TCF purpose
// `purpose` on consent: not allowed at all, or allowed on legitimate interest only.
bool restricted(const TcString& tc, int purpose, int vendor) {
  return std::any_of(tc.publisher_restrictions.begin(), tc.publisher_restrictions.end(),
                     [&](const PublisherRestriction& r) {
                       return r.purpose == purpose && r.type != RestrictionType::require_consent &&
                              r.vendors.count(vendor) != 0;
                     });
}

// read_tcf adds the verdicts of a TC string under the TCF mapping: a purpose is granted when the
// string consents to the vendor and to every TCF purpose mapped to it, with no restriction
// against it; refused otherwise.
void read_tcf(const SignalMapping::TcfMapping& mapping, const TcString& tc, SignalReading& reading) {
  const int vendor = mapping.vendor_id;
  const bool vendor_consents = tc.vendor_consents.count(vendor) != 0;
  for (const auto& [purpose, ids] : mapping.purposes) {
    const bool all = vendor_consents && std::all_of(ids.begin(), ids.end(), [&](int id) {
                       return tc.purpose_consents.count(id) != 0 && !restricted(tc, id, vendor);
                     });
    add_verdict(reading, purpose, all ? SignalVerdict::granted : SignalVerdict::refused);
  }
}

// opt_out_value gives the usnat field an opt-out name stands for.
int opt_out_value(const UsNat& usnat, std::string_view name) {
  if (name == "sale_opt_out") return usnat.sale_opt_out;
  if (name == "sharing_opt_out") return usnat.sharing_opt_out;
  return usnat.targeted_advertising_opt_out;
}

// kOptedOut is the usnat value of an opt-out the customer made.
constexpr int kOptedOut = 1;

// read_usnat adds the verdicts of a usnat section: every purpose mapped to an opt-out the
// customer made, and with GPC set in the section, the policy's GPC purposes.
void read_usnat(const SignalMapping& mapping, const UsNat& usnat, SignalReading& reading) {
  for (const auto& [name, purposes] : mapping.gpp_usnat) {
    if (opt_out_value(usnat, name) != kOptedOut) continue;
    for (const std::string& p : purposes) add_verdict(reading, p, SignalVerdict::opted_out);
  }
  if (usnat.gpc.value_or(false))
    for (const std::string& p : mapping.gpc) add_verdict(reading, p, SignalVerdict::opted_out);
}

error unmapped(std::string_view what, std::string_view key) {
  return make_error(errc::bad_input, std::string(what) +
                                         ": the policy maps no purpose for it (\"signals\": {\"" +
                                         std::string(key) + "\": ...}, docs/consent-signals.md)");
}

}  // namespace

std::string_view to_string(SignalKind kind) noexcept {
  switch (kind) {
    case SignalKind::tcf: return "tcf";
    case SignalKind::gpp: return "gpp";
    case SignalKind::gpc: return "gpc";
  }
  return "tcf";
}

std::string_view to_string(SignalVerdict verdict) noexcept {
  switch (verdict) {
    case SignalVerdict::granted: return "granted";
    case SignalVerdict::refused: return "refused";
    case SignalVerdict::opted_out: return "opted out";
  }
  return "refused";
}

result<SignalReading> read_signal(const Policy& policy, SignalKind kind, std::string_view text,
                                  timestamp seen) {
  const SignalMapping& mapping = policy.signals();
  SignalReading reading;
  reading.signal.kind = std::string(to_string(kind));
  switch (kind) {
    case SignalKind::tcf: {
      if (!mapping.tcf) return unmapped("TC string", "tcf");
      auto tc = decode_tc_string(text);
      if (!tc) return std::move(tc).err();
      reading.signal.cmp_id = tc->cmp_id;
      reading.signal.created = tc->created();
      read_tcf(*mapping.tcf, *tc, reading);
      return reading;
    }
    case SignalKind::gpp: {
      auto gpp = decode_gpp_string(text);
      if (!gpp) return std::move(gpp).err();
      const GppSection* eu = gpp->section(kGppTcfEuSection);
      const GppSection* us = gpp->section(kGppUsNatSection);
      const bool eu_mapped = eu && eu->tcf_eu && mapping.tcf;
      const bool us_mapped = us && us->us_national && (!mapping.gpp_usnat.empty() || !mapping.gpc.empty());
      if (!eu_mapped && !us_mapped)
        return make_error(errc::bad_input,
                          "GPP string: the policy maps none of its sections (a TCF EU section needs "
                          "\"signals\": {\"tcf\": ...}, a US national section \"gpp_usnat\" or \"gpc\"; "
                          "docs/consent-signals.md)");
      reading.signal.created = seen;
      if (eu_mapped) {
        reading.signal.cmp_id = eu->tcf_eu->cmp_id;
        reading.signal.created = eu->tcf_eu->created();
        read_tcf(*mapping.tcf, *eu->tcf_eu, reading);
      }
      if (us_mapped) read_usnat(mapping, *us->us_national, reading);
      return reading;
    }
    case SignalKind::gpc: {
      if (!text.empty() && text != "1")
        return make_error(errc::bad_input, "Global Privacy Control: the only value it has is 1 (Sec-GPC: 1)");
      if (mapping.gpc.empty()) return unmapped("Global Privacy Control", "gpc");
      reading.signal.created = seen;
      for (const std::string& p : mapping.gpc) add_verdict(reading, p, SignalVerdict::opted_out);
      return reading;
    }
  }
  return make_error(errc::invalid_argument, "read_signal: unknown signal kind");
}

}  // namespace consentry::signals
