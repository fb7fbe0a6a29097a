// tcf_string.hpp: the IAB's TCF v2.2 TC string, decoded to a model and encoded back: the core
// segment (purposes, special features, vendors, publisher restrictions) and the optional
// disclosed-vendors and publisher-TC segments.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry::signals {

/// RestrictionType is what a publisher restriction does to the vendors it lists.
enum class RestrictionType : std::uint8_t {
  not_allowed = 0,                 ///< the purpose is not allowed for these vendors
  require_consent = 1,             ///< the vendors need consent, whatever they declared
  require_legitimate_interest = 2  ///< the vendors may rest on legitimate interest only
};

/// PublisherRestriction is one entry of the core segment's restrictions: a purpose, a type and
/// the vendor ids it applies to.
struct PublisherRestriction {
  int purpose = 0;  ///< 1..24 (6 bits)
  RestrictionType type = RestrictionType::not_allowed;
  std::set<int> vendors;  ///< 1..65535

  friend bool operator==(const PublisherRestriction&, const PublisherRestriction&) = default;
};

/// PublisherTc is the optional publisher-TC segment (segment type 3): the publisher's own
/// purposes and its custom purposes.
struct PublisherTc {
  std::set<int> purpose_consents;                     ///< 1..24
  std::set<int> purpose_legitimate_interests;         ///< 1..24
  int custom_purposes = 0;                            ///< how many custom purposes there are (0..63)
  std::set<int> custom_purpose_consents;              ///< 1..custom_purposes
  std::set<int> custom_purpose_legitimate_interests;  ///< 1..custom_purposes

  friend bool operator==(const PublisherTc&, const PublisherTc&) = default;
};

/// TcString is everything a TC string holds, field for field as the TCF v2.2 specification names
/// it. Times are kept as the string has them, in deciseconds since the Unix epoch.
struct TcString {
  int version = 2;                      ///< 6 bits; only 2 is accepted
  std::int64_t created_ds = 0;          ///< Created, deciseconds since the epoch (36 bits)
  std::int64_t last_updated_ds = 0;     ///< LastUpdated, deciseconds since the epoch (36 bits)
  int cmp_id = 0;                       ///< 12 bits
  int cmp_version = 0;                  ///< 12 bits
  int consent_screen = 0;               ///< 6 bits
  std::string consent_language = "EN";  ///< two letters A-Z
  int vendor_list_version = 0;          ///< 12 bits
  int tcf_policy_version = 4;           ///< 6 bits; 4 is TCF v2.2
  bool is_service_specific = false;
  bool use_non_standard_texts = false;
  std::set<int> special_feature_optins;        ///< 1..12
  std::set<int> purpose_consents;              ///< 1..24
  std::set<int> purpose_legitimate_interests;  ///< 1..24
  bool purpose_one_treatment = false;
  std::string publisher_cc = "AA";            ///< two letters A-Z
  std::set<int> vendor_consents;              ///< 1..65535
  std::set<int> vendor_legitimate_interests;  ///< 1..65535
  std::vector<PublisherRestriction> publisher_restrictions;
  std::optional<std::set<int>> disclosed_vendors;  ///< segment type 1, when present
  std::optional<PublisherTc> publisher_tc;         ///< segment type 3, when present

  /// created gives Created as a timestamp (whole seconds, rounded down).
  timestamp created() const { return timestamp(std::chrono::seconds(created_ds / 10)); }
  /// last_updated gives LastUpdated as a timestamp (whole seconds, rounded down).
  timestamp last_updated() const { return timestamp(std::chrono::seconds(last_updated_ds / 10)); }

  friend bool operator==(const TcString&, const TcString&) = default;
};

/// decode_tc_string reads a TC string: the core segment, then any further segments separated by
/// '.'. errc::bad_input for anything malformed, naming the segment, the field and the bit offset
/// where it is wrong (bad base64url, a version other than 2, a field running past the end, a
/// segment type given twice or unknown, a vendor id 0 or a range whose end precedes its start,
/// a restriction of type 3, ranges naming more than 2^20 vendor ids in all).
/// Allowed-vendors segments (type 2, no longer used in v2.2) are refused as unknown. Restrictions
/// repeating a purpose and type are merged and those naming no vendor dropped, as the reference
/// decoder (@iabtechlabtcf/core) does.
result<TcString> decode_tc_string(std::string_view text);

/// encode_tc_string writes `tc` as a TC string (base64url without padding, segments joined by
/// '.'), choosing for each vendor list between a bit field and ranges as the reference encoder
/// (@iabtechlabtcf/core) does: the shorter, but for the few bits its estimate of the ranges
/// leaves out. errc::invalid_argument, naming the field, for a value that does not fit its
/// bits (an id out of range, a language not two letters A-Z, a negative time) or a restriction
/// naming no vendor or repeating another's purpose and type.
result<std::string> encode_tc_string(const TcString& tc);

}  // namespace consentry::signals
