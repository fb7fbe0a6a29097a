// tcf_string.cpp: the TCF v2.2 TC string codec: the core segment, then the optional
// disclosed-vendors (type 1) and publisher-TC (type 3) segments, each base64url without padding,
// joined by '.'. The encoder writes what @iabtechlabtcf/core writes for the same model.
#include "consentry/signals/tcf_string.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "signals/bit_field.hpp"

namespace consentry::signals {
namespace {

using detail::BitReader;
using detail::BitWriter;
using detail::IdBudget;

/// kMaxNamedIds bounds the vendor ids the range entries of one TC string may name in all.
constexpr std::size_t kMaxNamedIds = std::size_t{1} << 20;
/// kMaxDeciseconds is the largest time a 36-bit field holds.
constexpr std::int64_t kMaxDeciseconds = (std::int64_t{1} << 36) - 1;
/// kPurposes, kSpecialFeatures and kMaxCustomPurposes are the widths of the fixed bit fields.
constexpr int kPurposes = 24;
constexpr int kSpecialFeatures = 12;
constexpr int kMaxCustomPurposes = 63;

// ---- decoding -----------------------------------------------------------------------------

/// get reads a `width`-bit integer field into `out`.
template <class Int>
result<void> get(BitReader& in, unsigned width, std::string_view field, Int& out) {
  auto v = in.read(width, field);
  if (!v) return std::move(v).err();
  out = static_cast<Int>(*v);
  return ok();
}

/// get_flag reads a one-bit field into `out`.
result<void> get_flag(BitReader& in, std::string_view field, bool& out) {
  auto v = in.read_bool(field);
  if (!v) return std::move(v).err();
  out = *v;
  return ok();
}

/// get_bits reads a `width`-bit bit field into the set of its ids (1 for the first bit).
result<void> get_bits(BitReader& in, std::size_t width, std::string_view field, std::set<int>& out) {
  auto v = in.read_bit_field(width, field);
  if (!v) return std::move(v).err();
  out = std::move(*v);
  return ok();
}

/// get_letters reads two 6-bit letters (0 is 'A') into `out`; a letter past 'Z' is refused.
result<void> get_letters(BitReader& in, std::string_view field, std::string& out) {
  const std::size_t at = in.position();
  int first = 0, second = 0;
  CONSENTRY_TRY(get(in, 6, field, first));
  CONSENTRY_TRY(get(in, 6, field, second));
  if (first > 25 || second > 25) return in.invalid(field, at, "a letter value above 25 is not A-Z");
  out = {static_cast<char>('A' + first), static_cast<char>('A' + second)};
  return ok();
}

/// get_vendors reads a vendor list (MaxVendorId, IsRangeEncoding, bit field or ranges) into `out`.
result<void> get_vendors(BitReader& in, std::string_view field, IdBudget& budget, std::set<int>& out) {
  auto v = detail::read_vendor_list(in, field, budget);
  if (!v) return std::move(v).err();
  out = std::move(*v);
  return ok();
}

/// read_restrictions reads NumPubRestrictions and the restriction entries into `out`. Entries
/// for the same purpose and type are merged, and entries naming no vendor dropped, as the
/// reference decoder does (its model is a map from purpose and type to vendors).
result<void> read_restrictions(BitReader& in, IdBudget& budget, std::vector<PublisherRestriction>& out) {
  int count = 0;
  CONSENTRY_TRY(get(in, 12, "NumPubRestrictions", count));
  for (int r = 0; r < count; ++r) {
    const std::string name = "PubRestrictions[" + std::to_string(r) + "]";
    const std::size_t purpose_at = in.position();
    int purpose = 0, type = 0;
    CONSENTRY_TRY(get(in, 6, name + ".PurposeId", purpose));
    if (purpose < 1 || purpose > kPurposes)
      return in.invalid(name + ".PurposeId", purpose_at,
                        "purpose " + std::to_string(purpose) + " is not 1..24");
    const std::size_t type_at = in.position();
    CONSENTRY_TRY(get(in, 2, name + ".RestrictionType", type));
    if (type > 2) return in.invalid(name + ".RestrictionType", type_at, "restriction type 3 is undefined");
    auto vendors = detail::read_range_entries(in, name, detail::kMaxVendorId, budget);
    if (!vendors) return std::move(vendors).err();
    if (vendors->empty()) continue;
    const auto restriction_type = static_cast<RestrictionType>(type);
    PublisherRestriction* same = nullptr;
    for (PublisherRestriction& p : out)
      if (p.purpose == purpose && p.type == restriction_type) same = &p;
    if (same) {
      same->vendors.insert(vendors->begin(), vendors->end());
    } else {
      out.push_back(PublisherRestriction{purpose, restriction_type, std::move(*vendors)});
    }
  }
  return ok();
}

/// read_core reads the core segment into `tc`.
result<void> read_core(BitReader& in, IdBudget& budget, TcString& tc) {
  CONSENTRY_TRY(get(in, 6, "Version", tc.version));
  if (tc.version != 2)
    return in.invalid("Version", 0, "version " + std::to_string(tc.version) + " is not read, only version 2");
  CONSENTRY_TRY(get(in, 36, "Created", tc.created_ds));
  CONSENTRY_TRY(get(in, 36, "LastUpdated", tc.last_updated_ds));
  CONSENTRY_TRY(get(in, 12, "CmpId", tc.cmp_id));
  CONSENTRY_TRY(get(in, 12, "CmpVersion", tc.cmp_version));
  CONSENTRY_TRY(get(in, 6, "ConsentScreen", tc.consent_screen));
  CONSENTRY_TRY(get_letters(in, "ConsentLanguage", tc.consent_language));
  CONSENTRY_TRY(get(in, 12, "VendorListVersion", tc.vendor_list_version));
  CONSENTRY_TRY(get(in, 6, "TcfPolicyVersion", tc.tcf_policy_version));
  CONSENTRY_TRY(get_flag(in, "IsServiceSpecific", tc.is_service_specific));
  CONSENTRY_TRY(get_flag(in, "UseNonStandardTexts", tc.use_non_standard_texts));
  CONSENTRY_TRY(get_bits(in, kSpecialFeatures, "SpecialFeatureOptIns", tc.special_feature_optins));
  CONSENTRY_TRY(get_bits(in, kPurposes, "PurposesConsent", tc.purpose_consents));
  CONSENTRY_TRY(get_bits(in, kPurposes, "PurposesLITransparency", tc.purpose_legitimate_interests));
  CONSENTRY_TRY(get_flag(in, "PurposeOneTreatment", tc.purpose_one_treatment));
  CONSENTRY_TRY(get_letters(in, "PublisherCC", tc.publisher_cc));
  CONSENTRY_TRY(get_vendors(in, "VendorConsents", budget, tc.vendor_consents));
  CONSENTRY_TRY(get_vendors(in, "VendorLegitimateInterests", budget, tc.vendor_legitimate_interests));
  return read_restrictions(in, budget, tc.publisher_restrictions);
}

/// read_publisher_tc reads the publisher-TC segment after its SegmentType.
result<PublisherTc> read_publisher_tc(BitReader& in) {
  PublisherTc p;
  CONSENTRY_TRY(get_bits(in, kPurposes, "PubPurposesConsent", p.purpose_consents));
  CONSENTRY_TRY(get_bits(in, kPurposes, "PubPurposesLITransparency", p.purpose_legitimate_interests));
  CONSENTRY_TRY(get(in, 6, "NumCustomPurposes", p.custom_purposes));
  const auto n = static_cast<std::size_t>(p.custom_purposes);
  CONSENTRY_TRY(get_bits(in, n, "CustomPurposesConsent", p.custom_purpose_consents));
  CONSENTRY_TRY(get_bits(in, n, "CustomPurposesLITransparency", p.custom_purpose_legitimate_interests));
  return p;
}

/// read_segment reads the optional segment `text` (the `number`th of the string, from 1, at
/// `offset`) into `tc`.
result<void> read_segment(std::string_view text, std::size_t number, std::size_t offset, IdBudget& budget,
                          TcString& tc) {
  const std::string what = "TC string segment " + std::to_string(number);
  auto bits = detail::base64url_decode(text, what, offset);
  if (!bits) return std::move(bits).err();
  BitReader in(*bits, what);
  int type = 0;
  CONSENTRY_TRY(get(in, 3, "SegmentType", type));
  switch (type) {
    case 0: return in.invalid("SegmentType", 0, "a second core segment (type 0)");
    case 1: {
      if (tc.disclosed_vendors)
        return in.invalid("SegmentType", 0, "a second disclosed vendors segment (type 1)");
      in.set_context(what + " (disclosed vendors)");
      std::set<int> vendors;
      CONSENTRY_TRY(get_vendors(in, "DisclosedVendors", budget, vendors));
      tc.disclosed_vendors = std::move(vendors);
      return ok();
    }
    case 2:
      return in.invalid("SegmentType", 0, "the allowed vendors segment (type 2) is not part of TCF v2.2");
    case 3: {
      if (tc.publisher_tc) return in.invalid("SegmentType", 0, "a second publisher TC segment (type 3)");
      in.set_context(what + " (publisher TC)");
      auto p = read_publisher_tc(in);
      if (!p) return std::move(p).err();
      tc.publisher_tc = std::move(*p);
      return ok();
    }
    default: return in.invalid("SegmentType", 0, "segment type " + std::to_string(type) + " is unknown");
  }
}

// ---- encoding -----------------------------------------------------------------------------

/// refuse is the encoder's error for `field`.
error refuse(std::string_view field, std::string_view problem) {
  return make_error(errc::invalid_argument,
                    "TC string: field " + std::string(field) + ": " + std::string(problem));
}

/// check_int refuses a value of `field` outside 0..2^width - 1.
result<void> check_int(std::int64_t value, unsigned width, std::string_view field) {
  const std::int64_t max = (std::int64_t{1} << width) - 1;
  if (value < 0 || value > max)
    return refuse(field, "does not fit " + std::to_string(width) + " bits (0.." + std::to_string(max) + ")");
  return ok();
}

/// check_ids refuses an id of `field` outside lo..hi.
result<void> check_ids(const std::set<int>& ids, int lo, int hi, std::string_view field) {
  if (!ids.empty() && (*ids.begin() < lo || *ids.rbegin() > hi))
    return refuse(field, "holds an id outside " + std::to_string(lo) + ".." + std::to_string(hi));
  return ok();
}

/// check_letters refuses anything but two letters A-Z.
result<void> check_letters(const std::string& text, std::string_view field) {
  if (text.size() != 2 || text[0] < 'A' || text[0] > 'Z' || text[1] < 'A' || text[1] > 'Z')
    return refuse(field, "is not two letters A-Z");
  return ok();
}

/// check_vendors refuses a vendor list with an id outside 1..65535.
result<void> check_vendors(const std::set<int>& ids, std::string_view field) {
  return check_ids(ids, 1, detail::kMaxVendorId, field);
}

/// check_model refuses a model that does not fit the fields of a TC string.
result<void> check_model(const TcString& tc) {
  if (tc.version != 2) return refuse("Version", "only version 2 is written");
  if (tc.created_ds < 0 || tc.created_ds > kMaxDeciseconds) return refuse("Created", "does not fit 36 bits");
  if (tc.last_updated_ds < 0 || tc.last_updated_ds > kMaxDeciseconds)
    return refuse("LastUpdated", "does not fit 36 bits");
  CONSENTRY_TRY(check_int(tc.cmp_id, 12, "CmpId"));
  CONSENTRY_TRY(check_int(tc.cmp_version, 12, "CmpVersion"));
  CONSENTRY_TRY(check_int(tc.consent_screen, 6, "ConsentScreen"));
  CONSENTRY_TRY(check_letters(tc.consent_language, "ConsentLanguage"));
  CONSENTRY_TRY(check_int(tc.vendor_list_version, 12, "VendorListVersion"));
  CONSENTRY_TRY(check_int(tc.tcf_policy_version, 6, "TcfPolicyVersion"));
  CONSENTRY_TRY(check_ids(tc.special_feature_optins, 1, kSpecialFeatures, "SpecialFeatureOptIns"));
  CONSENTRY_TRY(check_ids(tc.purpose_consents, 1, kPurposes, "PurposesConsent"));
  CONSENTRY_TRY(check_ids(tc.purpose_legitimate_interests, 1, kPurposes, "PurposesLITransparency"));
  CONSENTRY_TRY(check_letters(tc.publisher_cc, "PublisherCC"));
  CONSENTRY_TRY(check_vendors(tc.vendor_consents, "VendorConsents"));
  CONSENTRY_TRY(check_vendors(tc.vendor_legitimate_interests, "VendorLegitimateInterests"));
  if (tc.publisher_restrictions.size() > static_cast<std::size_t>(detail::kMaxNumEntries))
    return refuse("NumPubRestrictions", "more than 4095 restrictions");
  for (std::size_t r = 0; r < tc.publisher_restrictions.size(); ++r) {
    const PublisherRestriction& p = tc.publisher_restrictions[r];
    const std::string name = "PubRestrictions[" + std::to_string(r) + "]";
    if (p.purpose < 1 || p.purpose > kPurposes) return refuse(name + ".PurposeId", "is not 1..24");
    if (static_cast<int>(p.type) > 2) return refuse(name + ".RestrictionType", "is not 0, 1 or 2");
    if (p.vendors.empty()) return refuse(name, "names no vendor");
    CONSENTRY_TRY(check_vendors(p.vendors, name));
    if (detail::runs_of(p.vendors).size() > static_cast<std::size_t>(detail::kMaxNumEntries))
      return refuse(name + ".NumEntries", "the vendors make more than 4095 range entries");
    for (std::size_t q = 0; q < r; ++q)
      if (tc.publisher_restrictions[q].purpose == p.purpose && tc.publisher_restrictions[q].type == p.type)
        return refuse(
            name, "repeats the purpose and restriction type of PubRestrictions[" + std::to_string(q) + "]");
  }
  if (tc.disclosed_vendors) CONSENTRY_TRY(check_vendors(*tc.disclosed_vendors, "DisclosedVendors"));
  if (tc.publisher_tc) {
    const PublisherTc& p = *tc.publisher_tc;
    CONSENTRY_TRY(check_ids(p.purpose_consents, 1, kPurposes, "PubPurposesConsent"));
    CONSENTRY_TRY(check_ids(p.purpose_legitimate_interests, 1, kPurposes, "PubPurposesLITransparency"));
    if (p.custom_purposes < 0 || p.custom_purposes > kMaxCustomPurposes)
      return refuse("NumCustomPurposes", "does not fit 6 bits (0..63)");
    CONSENTRY_TRY(check_ids(p.custom_purpose_consents, 1, p.custom_purposes, "CustomPurposesConsent"));
    CONSENTRY_TRY(check_ids(p.custom_purpose_legitimate_interests, 1, p.custom_purposes,
                            "CustomPurposesLITransparency"));
  }
  return ok();
}

/// write_letters writes two letters A-Z as two 6-bit values.
void write_letters(BitWriter& out, const std::string& text) {
  out.write(static_cast<std::uint64_t>(text[0] - 'A'), 6);
  out.write(static_cast<std::uint64_t>(text[1] - 'A'), 6);
}

/// finish pads a segment to a multiple of 24 bits, as the reference encoder does, and gives its
/// base64url.
std::string finish(BitWriter& out) {
  out.pad_to(24);
  return out.base64url();
}

/// write_core writes the core segment of a checked model.
std::string write_core(const TcString& tc) {
  BitWriter out;
  out.write(static_cast<std::uint64_t>(tc.version), 6);
  out.write(static_cast<std::uint64_t>(tc.created_ds), 36);
  out.write(static_cast<std::uint64_t>(tc.last_updated_ds), 36);
  out.write(static_cast<std::uint64_t>(tc.cmp_id), 12);
  out.write(static_cast<std::uint64_t>(tc.cmp_version), 12);
  out.write(static_cast<std::uint64_t>(tc.consent_screen), 6);
  write_letters(out, tc.consent_language);
  out.write(static_cast<std::uint64_t>(tc.vendor_list_version), 12);
  out.write(static_cast<std::uint64_t>(tc.tcf_policy_version), 6);
  out.write_bool(tc.is_service_specific);
  out.write_bool(tc.use_non_standard_texts);
  out.write_bit_field(tc.special_feature_optins, kSpecialFeatures);
  out.write_bit_field(tc.purpose_consents, kPurposes);
  out.write_bit_field(tc.purpose_legitimate_interests, kPurposes);
  out.write_bool(tc.purpose_one_treatment);
  write_letters(out, tc.publisher_cc);
  detail::write_vendor_list(out, tc.vendor_consents);
  detail::write_vendor_list(out, tc.vendor_legitimate_interests);
  out.write(tc.publisher_restrictions.size(), 12);
  for (const PublisherRestriction& p : tc.publisher_restrictions) {
    out.write(static_cast<std::uint64_t>(p.purpose), 6);
    out.write(static_cast<std::uint64_t>(p.type), 2);
    detail::write_range_entries(out, p.vendors);
  }
  return finish(out);
}

}  // namespace

result<TcString> decode_tc_string(std::string_view text) {
  if (text.empty()) return make_error(errc::bad_input, "TC string is empty");
  IdBudget budget(kMaxNamedIds);
  TcString tc;
  std::size_t start = 0;
  for (std::size_t number = 1;; ++number) {
    const std::size_t dot = text.find('.', start);
    const std::string_view segment =
        text.substr(start, dot == std::string_view::npos ? text.npos : dot - start);
    if (number == 1) {
      auto bits = detail::base64url_decode(segment, "TC string core segment", start);
      if (!bits) return std::move(bits).err();
      BitReader in(*bits, "TC string core segment");
      CONSENTRY_TRY(read_core(in, budget, tc));
    } else {
      CONSENTRY_TRY(read_segment(segment, number, start, budget, tc));
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return tc;
}

result<std::string> encode_tc_string(const TcString& tc) {
  CONSENTRY_TRY(check_model(tc));
  std::string text = write_core(tc);
  if (tc.disclosed_vendors) {
    BitWriter out;
    out.write(1, 3);
    detail::write_vendor_list(out, *tc.disclosed_vendors);
    text += '.';
    text += finish(out);
  }
  if (tc.publisher_tc) {
    const PublisherTc& p = *tc.publisher_tc;
    BitWriter out;
    out.write(3, 3);
    out.write_bit_field(p.purpose_consents, kPurposes);
    out.write_bit_field(p.purpose_legitimate_interests, kPurposes);
    out.write(static_cast<std::uint64_t>(p.custom_purposes), 6);
    out.write_bit_field(p.custom_purpose_consents, static_cast<std::size_t>(p.custom_purposes));
    out.write_bit_field(p.custom_purpose_legitimate_interests, static_cast<std::size_t>(p.custom_purposes));
    text += '.';
    text += finish(out);
  }
  return text;
}

}  // namespace consentry::signals
