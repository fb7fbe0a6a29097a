// gpp_string.hpp: the IAB's Global Privacy Platform string, decoded to a model and encoded back:
// the header, the TCF EU v2 section (id 2) and the US national section (usnat, id 7). Other
// sections are kept as their text, unread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/result.hpp"
#include "consentry/signals/tcf_string.hpp"

namespace consentry::signals {

/// kGppTcfEuSection and kGppUsNatSection are the GPP section ids this library reads.
inline constexpr int kGppTcfEuSection = 2;
inline constexpr int kGppUsNatSection = 7;

/// UsNat is the US national section (usnat) of a GPP string. Every 2-bit field holds the value
/// the specification gives it: for notices 0 not applicable, 1 given, 2 not given; for opt-outs
/// 0 not applicable, 1 opted out, 2 did not opt out; for consents 0 not applicable, 1 no
/// consent, 2 consent; for MspaCoveredTransaction 1 yes, 2 no (it has no "not applicable"); for
/// the other MSPA fields 0 not applicable, 1 yes, 2 no. Every other value is refused.
struct UsNat {
  int version = 1;  ///< 6 bits: 1 has 12 sensitive-data and 2 child-consent fields, 2 has 16 and 3
  int sharing_notice = 0;
  int sale_opt_out_notice = 0;
  int sharing_opt_out_notice = 0;
  int targeted_advertising_opt_out_notice = 0;
  int sensitive_data_processing_opt_out_notice = 0;
  int sensitive_data_limit_use_notice = 0;
  int sale_opt_out = 0;
  int sharing_opt_out = 0;
  int targeted_advertising_opt_out = 0;
  std::vector<int> sensitive_data_processing;            ///< 12 (version 1) or 16 (version 2) values
  std::vector<int> known_child_sensitive_data_consents;  ///< 2 (version 1) or 3 (version 2) values
  int personal_data_consents = 0;
  int mspa_covered_transaction = 0;
  int mspa_opt_out_option_mode = 0;
  int mspa_service_provider_mode = 0;
  std::optional<bool> gpc;  ///< the optional GPC subsection: whether the GPC signal was set

  friend bool operator==(const UsNat&, const UsNat&) = default;
};

/// GppSection is one section of a GPP string: its id, and its model when this library reads it,
/// otherwise its text kept as it came.
struct GppSection {
  int id = 0;
  std::optional<TcString> tcf_eu;    ///< id 2
  std::optional<UsNat> us_national;  ///< id 7
  std::string text;                  ///< any other id: the section's text, unread

  friend bool operator==(const GppSection&, const GppSection&) = default;
};

/// GppString is a GPP string: header version and its sections, in the order of the header's ids.
struct GppString {
  int version = 1;  ///< header version (6 bits); only 1 is accepted
  std::vector<GppSection> sections;

  /// section gives the section with `id`, or nullptr.
  const GppSection* section(int id) const {
    for (const GppSection& s : sections)
      if (s.id == id) return &s;
    return nullptr;
  }

  friend bool operator==(const GppString&, const GppString&) = default;
};

/// decode_gpp_string reads a GPP string: a header (type 3, version 1, section ids as a
/// Fibonacci-coded range) then one '~'-separated section per id. errc::bad_input for anything
/// malformed, naming the section, the field and the bit offset where it is wrong (a header type
/// other than 3, ids not ascending, a count of sections that differs from the header's, a usnat
/// version other than 1 or 2, a field running past the end). A usnat core segment of 10 or 11
/// characters is read with 12 and 2 values, any other with 16 and 3, and the lists then cut or
/// filled with 0 to its version's lengths, as @iabgpp/cmpapi does.
result<GppString> decode_gpp_string(std::string_view text);

/// encode_gpp_string writes `gpp` as a GPP string. errc::invalid_argument, naming the field, for
/// sections out of ascending order, a section whose model does not match its id, or a value that
/// does not fit its bits.
result<std::string> encode_gpp_string(const GppString& gpp);

}  // namespace consentry::signals
