// signals_tcf_test.cpp: the TCF v2.2 TC string codec: the specification's worked example and
// the reference libraries' fixtures, round trips over seeded random models, the encoder's choice
// between a bit field and ranges, and malformed strings and models refused with the field named.
#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "../src/signals/bit_field.hpp"
#include "consentry/signals/tcf_string.hpp"

namespace {

using namespace consentry;
using namespace consentry::signals;
using detail::BitWriter;

/// kSpecExample is the worked example of "TCF v2.2 Consent string and vendor list formats"
/// (section "Full TC String passing"): core, disclosed vendors and publisher TC segments. Its
/// model below is read off the specification's field table: CmpId 880, created and last updated
/// 2025-06-03T00:00:00Z, EN, vendor list 48, policy version 2, service-specific, publisher
/// country DE, vendor consents 1-4 (a bit field), disclosed vendors 1-5, 100 and 404 (ranges),
/// an empty publisher TC segment.
constexpr std::string_view kSpecExample =
    "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA";

/// kGppFixtureService is @iabgpp/cmpapi's test/encoder/section/TcfEuV2.test.ts "decode 4": a
/// service-specific string whose fixture asserts CmpId 14, CmpVersion 3, ConsentScreen 1, EN,
/// vendor list 26, policy 2, purposes 1-10, LI purposes 2-10, US, and the vendor lists below.
constexpr std::string_view kGppFixtureService =
    "COv_eg6Ov_eg6AOADBENAaCgAP_AAH_AACiQAVEUQQoAIQAqIoghAAQgAA.YAAAAAAAAAAAAAAAAAA";

/// kGppFixtureRestricted is TcfEuV2.test.ts "decode 2": 772 vendor consents, 280 vendor LIs, and
/// publisher restrictions (purposes 3, 4 and 5 require consent of vendors 1-1166, one range each).
constexpr std::string_view kGppFixtureRestricted =
    "CPi8wgAPi8wgAAOACBENCuCoAP_AAEfAACiQJHNd_H__bX9n-f7_6ft0eY1f9_r37uQzDhfNk-8F3L_W_LwX_2E7NF36tq4KmR4ku1LB"
    "IUNtHMnUDUmxaokVrzHsak2cpzNKJ_BkknsZe2dYGF9vm5tj-QKZ7_5_d3f52T_9_9v-39z33913v3d93-_13LjdV5_9H_v9fR_b8_Kf"
    "9_5-_4v8_____3_e______8AEEggCTDVuIAuxLHAm0DCKBECMKwkKoFABBQDC0QGADg4KdlYBPrCBAAgFAEYEQIcAUYEAgAAAgCQiACQ"
    "IsEAAAIgEAAIAEQiEABAwCCgAsDAIAAQDQMUQoABAkIMiAiKUwICIEggJbKhBKC6Q0wgCrLACgkRsFAAiAAAUgACAsHAMESAlYsECTFG"
    "-QAjBCgFEqFaAGGgAwABBI4RABgACCRwqADAAEEjgA";

/// kGppModelCore is the core segment of @iabgpp/cmpapi's test/GppModel.test.ts "should encode
/// tcfeuv2 sections": CmpId 880, EN, vendor list 48, policy 2, AA, created 2022-01-01T00:00:00Z.
constexpr std::string_view kGppModelCore = "CPSG_8APSG_8ANwAAAENAwCAAAAAAAAAAAAAAAAAAAAA";

/// kV1String is the example of the TCF v1.1 "Consent string and vendor list formats": Version 1.
constexpr std::string_view kV1String = "BOEFEAyOEFEAyAHABDENAI4AAAB9vABAASA";

std::set<int> range_of(int first, int last) {
  std::set<int> ids;
  for (int id = first; id <= last; ++id) ids.insert(id);
  return ids;
}

/// message_of gives the error message of a failed result, or nothing.
template <class T>
std::string message_of(const result<T>& r) {
  return r.ok() ? std::string() : r.err().message;
}

/// check_refused checks that `r` failed with `code` and that its message holds every part.
template <class T>
void check_refused(const result<T>& r, errc code, std::initializer_list<std::string_view> parts) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == code);
  for (std::string_view part : parts)
    CHECK_MESSAGE(r.err().message.find(part) != std::string::npos, r.err().message, " lacks ", part);
}

/// CoreBits writes a core segment field by field, so that a test can break any field after the
/// fixed ones.
struct CoreBits {
  BitWriter out;
  CoreBits() {
    out.write(2, 6);             // Version
    out.write(16409952000, 36);  // Created
    out.write(16409952000, 36);  // LastUpdated
    out.write(880, 12);          // CmpId
    out.write(1, 12);            // CmpVersion
    out.write(0, 6);             // ConsentScreen
    out.write(4, 6);             // ConsentLanguage E
    out.write(13, 6);            //                 N
    out.write(48, 12);           // VendorListVersion
    out.write(4, 6);             // TcfPolicyVersion
    out.write(0, 2);             // IsServiceSpecific, UseNonStandardTexts
    out.write(0, 12 + 24 + 24 + 1);
    out.write(0, 12);  // PublisherCC AA
  }
  /// empty_vendors writes an empty vendor list (MaxVendorId 0, a bit field).
  CoreBits& empty_vendors() {
    out.write(0, 17);
    return *this;
  }
  std::string text() {
    out.pad_to(24);
    return out.base64url();
  }
};

/// random_ids draws a set of ids within 1..max in one of several shapes.
std::set<int> random_ids(std::mt19937& rng, int max) {
  std::set<int> ids;
  if (max <= 0) return ids;
  std::uniform_int_distribution<int> shape(0, 3), id(1, max);
  switch (shape(rng)) {
    case 0:  // sparse
      for (int k = std::uniform_int_distribution<int>(0, 12)(rng); k > 0; --k) ids.insert(id(rng));
      break;
    case 1: {  // dense
      std::bernoulli_distribution keep(0.9);
      for (int v = 1; v <= std::min(max, 3000); ++v)
        if (keep(rng)) ids.insert(v);
      break;
    }
    case 2: {  // runs
      for (int k = std::uniform_int_distribution<int>(1, 8)(rng); k > 0; --k) {
        const int first = id(rng);
        const int last = std::min(max, first + std::uniform_int_distribution<int>(0, 40)(rng));
        for (int v = first; v <= last; ++v) ids.insert(v);
      }
      break;
    }
    default: break;  // empty
  }
  return ids;
}

std::set<int> random_subset(std::mt19937& rng, int max) {
  std::set<int> ids;
  std::bernoulli_distribution in(0.4);
  for (int v = 1; v <= max; ++v)
    if (in(rng)) ids.insert(v);
  return ids;
}

TcString random_model(std::mt19937& rng) {
  const auto draw = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  const auto letters = [&] {
    return std::string{static_cast<char>('A' + draw(0, 25)), static_cast<char>('A' + draw(0, 25))};
  };
  const int maxes[] = {0, 10, 46, 120, 700, 4000, 65535};
  TcString tc;
  tc.created_ds = draw(0, (std::int64_t{1} << 36) - 1);
  tc.last_updated_ds = draw(0, (std::int64_t{1} << 36) - 1);
  tc.cmp_id = static_cast<int>(draw(0, 4095));
  tc.cmp_version = static_cast<int>(draw(0, 4095));
  tc.consent_screen = static_cast<int>(draw(0, 63));
  tc.consent_language = letters();
  tc.vendor_list_version = static_cast<int>(draw(0, 4095));
  tc.tcf_policy_version = static_cast<int>(draw(0, 63));
  tc.is_service_specific = draw(0, 1) == 1;
  tc.use_non_standard_texts = draw(0, 1) == 1;
  tc.special_feature_optins = random_subset(rng, 12);
  tc.purpose_consents = random_subset(rng, 24);
  tc.purpose_legitimate_interests = random_subset(rng, 24);
  tc.purpose_one_treatment = draw(0, 1) == 1;
  tc.publisher_cc = letters();
  tc.vendor_consents = random_ids(rng, maxes[draw(0, 6)]);
  tc.vendor_legitimate_interests = random_ids(rng, maxes[draw(0, 6)]);
  for (int r = static_cast<int>(draw(0, 4)); r > 0; --r) {
    PublisherRestriction p;
    p.purpose = static_cast<int>(draw(1, 24));
    p.type = static_cast<RestrictionType>(draw(0, 2));
    p.vendors = random_ids(rng, maxes[draw(1, 6)]);
    bool repeated = p.vendors.empty();
    for (const PublisherRestriction& q : tc.publisher_restrictions)
      repeated = repeated || (q.purpose == p.purpose && q.type == p.type);
    if (!repeated) tc.publisher_restrictions.push_back(p);
  }
  if (draw(0, 1) == 1) tc.disclosed_vendors = random_ids(rng, maxes[draw(0, 6)]);
  if (draw(0, 1) == 1) {
    PublisherTc p;
    p.purpose_consents = random_subset(rng, 24);
    p.purpose_legitimate_interests = random_subset(rng, 24);
    p.custom_purposes = static_cast<int>(draw(0, 63));
    p.custom_purpose_consents = random_subset(rng, p.custom_purposes);
    p.custom_purpose_legitimate_interests = random_subset(rng, p.custom_purposes);
    tc.publisher_tc = p;
  }
  return tc;
}

/// spec_example_model is kSpecExample's model, read off the specification.
TcString spec_example_model() {
  TcString tc;
  tc.created_ds = 17489088000;  // 2025-06-03T00:00:00Z
  tc.last_updated_ds = 17489088000;
  tc.cmp_id = 880;
  tc.cmp_version = 0;
  tc.consent_screen = 0;
  tc.consent_language = "EN";
  tc.vendor_list_version = 48;
  tc.tcf_policy_version = 2;
  tc.is_service_specific = true;
  tc.publisher_cc = "DE";
  tc.vendor_consents = {1, 2, 3, 4};
  tc.disclosed_vendors = std::set<int>{1, 2, 3, 4, 5, 100, 404};
  tc.publisher_tc = PublisherTc{};
  return tc;
}

/// vendor_list_bits gives the bits of `ids` written as a vendor list.
std::size_t vendor_list_bits(const std::set<int>& ids) {
  BitWriter out;
  detail::write_vendor_list(out, ids);
  return out.size();
}

/// is_range_bit reads IsRangeEncoding of the core's vendor consents (bit 229) of `text`.
bool is_range_bit(std::string_view text) {
  auto bits = detail::base64url_decode(text.substr(0, text.find('.')), "test");
  REQUIRE(bits.ok());
  detail::BitReader in(*bits, "test");
  REQUIRE(in.read(229, "skip").ok());
  auto bit = in.read_bool("IsRangeEncoding");
  REQUIRE(bit.ok());
  return *bit;
}

}  // namespace

TEST_CASE("the specification's worked TC string decodes to its model and encodes back to itself") {
  auto tc = decode_tc_string(kSpecExample);
  REQUIRE(tc.ok());
  CHECK(*tc == spec_example_model());
  CHECK(tc->created() == timestamp(std::chrono::seconds(1748908800)));
  auto text = encode_tc_string(spec_example_model());
  REQUIRE(text.ok());
  CHECK(*text == kSpecExample);
}

TEST_CASE("a service-specific reference fixture decodes to the model its test asserts") {
  auto tc = decode_tc_string(kGppFixtureService);
  REQUIRE(tc.ok());
  CHECK(tc->version == 2);
  CHECK(tc->created_ds == 15837554746);  // not asserted by the fixture; its 36 bits read by hand
  CHECK(tc->last_updated_ds == 15837554746);
  CHECK(tc->cmp_id == 14);
  CHECK(tc->cmp_version == 3);
  CHECK(tc->consent_screen == 1);
  CHECK(tc->consent_language == "EN");
  CHECK(tc->vendor_list_version == 26);
  CHECK(tc->tcf_policy_version == 2);
  CHECK(tc->is_service_specific);
  CHECK_FALSE(tc->use_non_standard_texts);
  CHECK(tc->special_feature_optins.empty());
  CHECK(tc->purpose_consents == range_of(1, 10));
  CHECK(tc->purpose_legitimate_interests == range_of(2, 10));
  CHECK_FALSE(tc->purpose_one_treatment);
  CHECK(tc->publisher_cc == "US");
  CHECK(tc->vendor_consents == std::set<int>{2, 6, 8, 12, 18, 23, 25, 37, 42});
  CHECK(tc->vendor_legitimate_interests == std::set<int>{2, 6, 8, 12, 18, 23, 37, 42});
  CHECK(tc->publisher_restrictions.empty());
  CHECK_FALSE(tc->disclosed_vendors.has_value());
  REQUIRE(tc->publisher_tc.has_value());
  CHECK(*tc->publisher_tc == PublisherTc{});
  auto again = encode_tc_string(*tc);
  REQUIRE(again.ok());
  CHECK(decode_tc_string(*again).value() == *tc);
}

TEST_CASE("a reference fixture with publisher restrictions decodes them, one range each") {
  auto tc = decode_tc_string(kGppFixtureRestricted);
  REQUIRE(tc.ok());
  CHECK(tc->created_ds == 16692480000);  // 2022-11-24T00:00:00Z, read by hand
  CHECK(tc->cmp_id == 14);
  CHECK(tc->cmp_version == 2);
  CHECK(tc->consent_screen == 1);
  CHECK(tc->vendor_list_version == 174);
  CHECK(tc->tcf_policy_version == 2);
  CHECK(tc->is_service_specific);
  CHECK(tc->special_feature_optins == std::set<int>{1});
  CHECK(tc->purpose_consents == range_of(1, 10));
  CHECK(tc->purpose_legitimate_interests == std::set<int>{2, 6, 7, 8, 9, 10});
  CHECK(tc->publisher_cc == "US");
  CHECK(tc->vendor_consents.size() == 772);
  CHECK(tc->vendor_legitimate_interests.size() == 280);
  REQUIRE(tc->publisher_restrictions.size() == 3);
  for (int k = 0; k < 3; ++k) {
    const PublisherRestriction& p = tc->publisher_restrictions[static_cast<std::size_t>(k)];
    CHECK(p.purpose == 3 + k);
    CHECK(p.type == RestrictionType::require_consent);
    CHECK(p.vendors == range_of(1, 1166));
  }
  auto again = encode_tc_string(*tc);
  REQUIRE(again.ok());
  CHECK(decode_tc_string(*again).value() == *tc);
}

TEST_CASE("the core segment of a GPP reference fixture decodes to the fields its test sets") {
  auto tc = decode_tc_string(kGppModelCore);
  REQUIRE(tc.ok());
  CHECK(tc->created_ds == 16409952000);  // 2022-01-01T00:00:00Z
  CHECK(tc->last_updated_ds == 16409952000);
  CHECK(tc->cmp_id == 880);
  CHECK(tc->consent_language == "EN");
  CHECK(tc->vendor_list_version == 48);
  CHECK(tc->tcf_policy_version == 2);
  CHECK_FALSE(tc->is_service_specific);
  CHECK(tc->publisher_cc == "AA");
  CHECK(tc->vendor_consents.empty());
  CHECK_FALSE(tc->publisher_tc.has_value());
  auto again = encode_tc_string(*tc);
  REQUIRE(again.ok());
  CHECK(*again == kGppModelCore);
}

TEST_CASE("seeded random TC models survive an encode and decode unchanged") {
  std::mt19937 rng(20240611);
  for (int n = 0; n < 400; ++n) {
    const TcString model = random_model(rng);
    auto text = encode_tc_string(model);
    REQUIRE_MESSAGE(text.ok(), message_of(text));
    auto back = decode_tc_string(*text);
    REQUIRE_MESSAGE(back.ok(), message_of(back));
    CHECK(*back == model);
    CHECK(encode_tc_string(*back).value() == *text);
  }
}

TEST_CASE("the optional segments decode in either order, but not twice") {
  TcString model = spec_example_model();
  const std::string text = encode_tc_string(model).value();
  const auto first_dot = text.find('.');
  const auto second_dot = text.find('.', first_dot + 1);
  const std::string core = text.substr(0, first_dot);
  const std::string disclosed = text.substr(first_dot + 1, second_dot - first_dot - 1);
  const std::string publisher = text.substr(second_dot + 1);
  CHECK(decode_tc_string(core + "." + publisher + "." + disclosed).value() == model);
  check_refused(decode_tc_string(core + "." + publisher + "." + publisher), errc::bad_input,
                {"TC string segment 3", "SegmentType", "at bit 0", "second publisher TC"});
  check_refused(decode_tc_string(core + "." + disclosed + "." + disclosed), errc::bad_input,
                {"TC string segment 3", "SegmentType", "second disclosed vendors"});
  model.publisher_tc.reset();
  CHECK(decode_tc_string(core + "." + disclosed).value() == model);
  model.disclosed_vendors.reset();
  CHECK(decode_tc_string(core).value() == model);
}

TEST_CASE("the encoder picks the shorter of a bit field and ranges for a vendor list") {
  TcString tc = spec_example_model();
  // 1-300: one range entry (62 bits) against a 300-bit field.
  tc.vendor_consents = range_of(1, 300);
  const std::string ranged = encode_tc_string(tc).value();
  CHECK(is_range_bit(ranged));
  CHECK(detail::vendor_list_uses_ranges(tc.vendor_consents));
  CHECK(vendor_list_bits(tc.vendor_consents) == 16 + 1 + 12 + 33);
  // Every other id up to 299: 150 entries (2,550 bits) against a 299-bit field.
  std::set<int> odd;
  for (int id = 1; id < 300; id += 2) odd.insert(id);
  tc.vendor_consents = odd;
  const std::string field = encode_tc_string(tc).value();
  CHECK_FALSE(is_range_bit(field));
  CHECK(vendor_list_bits(odd) == 16 + 1 + 299);
  CHECK(decode_tc_string(ranged).value().vendor_consents == range_of(1, 300));
  CHECK(decode_tc_string(field).value().vendor_consents == odd);
  // With MaxVendorId 45 or less the reference never uses ranges, even for one long run.
  CHECK_FALSE(detail::vendor_list_uses_ranges(range_of(1, 45)));
  CHECK(detail::vendor_list_uses_ranges(range_of(1, 46)));
}

TEST_CASE("the encoder follows the reference's estimate where ranges are a few bits longer") {
  // Three ids standing alone, the largest 50: ranges take 29 + 3 * 17 = 80 bits, the bit field
  // 17 + 50 = 67. @iabtechlabtcf/core estimates the ranges at 29 + 2 * 16 = 61 bits (16 for an id
  // alone, the last one not counted) and picks them; so does this encoder, bit for bit.
  const std::set<int> ids{10, 30, 50};
  CHECK(detail::vendor_list_uses_ranges(ids));
  CHECK(vendor_list_bits(ids) == 80);
  // Ten ids alone, the largest 180: the estimate 29 + 9 * 16 = 173 is below 17 + 180, ranges
  // (199 bits against 197).
  std::set<int> ten;
  for (int id = 18; id <= 180; id += 18) ten.insert(id);
  CHECK(detail::vendor_list_uses_ranges(ten));
  CHECK(vendor_list_bits(ten) == 29 + 10 * 17);
  // The largest 150: 173 is not below 17 + 150, the bit field.
  std::set<int> ten_close;
  for (int id = 15; id <= 150; id += 15) ten_close.insert(id);
  CHECK_FALSE(detail::vendor_list_uses_ranges(ten_close));
  // Four ids alone: the estimate is 29 + 3 * 16 = 77. Equal to the bit field's 17 + 60 is not
  // below it, the bit field; against 17 + 61, ranges (both as @iabtechlabtcf/core 1.5.21 writes).
  CHECK_FALSE(detail::vendor_list_uses_ranges(std::set<int>{10, 20, 30, 60}));
  CHECK(detail::vendor_list_uses_ranges(std::set<int>{10, 20, 30, 61}));
  // A last run counts its start only: {5, 40-50} is estimated at 29 + 16 + 17 = 62 bits, below
  // 17 + 50, so ranges (79 bits, against the bit field's 67).
  std::set<int> last_run{5};
  for (int id = 40; id <= 50; ++id) last_run.insert(id);
  CHECK(detail::vendor_list_uses_ranges(last_run));
  CHECK(vendor_list_bits(last_run) == 29 + 17 + 33);
}

TEST_CASE("restrictions repeating a purpose and type are merged and empty ones dropped on decode") {
  CoreBits core;
  core.empty_vendors().empty_vendors();
  core.out.write(3, 12);  // NumPubRestrictions
  core.out.write(2, 6);   // PurposeId 2
  core.out.write(0, 2);   // not allowed
  core.out.write(1, 12);  // one entry: vendor 7
  core.out.write(0, 1);
  core.out.write(7, 16);
  core.out.write(5, 6);  // PurposeId 5, require consent, no entries
  core.out.write(1, 2);
  core.out.write(0, 12);
  core.out.write(2, 6);  // PurposeId 2 again, not allowed: vendors 9-11
  core.out.write(0, 2);
  core.out.write(1, 12);
  core.out.write(1, 1);
  core.out.write(9, 16);
  core.out.write(11, 16);
  auto tc = decode_tc_string(core.text());
  REQUIRE(tc.ok());
  REQUIRE(tc->publisher_restrictions.size() == 1);
  CHECK(tc->publisher_restrictions[0] ==
        PublisherRestriction{2, RestrictionType::not_allowed, std::set<int>{7, 9, 10, 11}});
}

TEST_CASE("a character outside base64url is refused, naming its offset") {
  std::string text(kSpecExample);
  text[5] = '+';
  check_refused(decode_tc_string(text), errc::bad_input, {"core segment", "offset 5", "base64url"});
  text = std::string(kSpecExample);
  text[50] = '/';  // in the disclosed vendors segment, which starts at 45
  check_refused(decode_tc_string(text), errc::bad_input, {"segment 2", "offset 50"});
  // Neither reference library accepts '=' padding.
  check_refused(decode_tc_string(std::string(kGppModelCore) + "=="), errc::bad_input, {"offset 44"});
  check_refused(decode_tc_string(" " + std::string(kGppModelCore)), errc::bad_input, {"offset 0"});
}

TEST_CASE("every truncation of a TC string is refused or decodes, and never reads past its end") {
  for (std::string_view full : {kSpecExample, kGppFixtureService, kGppFixtureRestricted}) {
    const std::size_t core_size = full.find('.') == std::string_view::npos ? full.size() : full.find('.');
    for (std::size_t n = 0; n < full.size(); ++n) {
      const std::string_view cut = full.substr(0, n);
      auto tc = decode_tc_string(cut);
      // The last characters of a segment may be padding, so a cut there can still decode.
      if (n + 1 < core_size || (n > 0 && cut.back() == '.')) {
        REQUIRE_FALSE_MESSAGE(tc.ok(), "a cut at ", n, " decodes");
      }
      if (!tc.ok()) {
        CHECK(tc.err().code == errc::bad_input);
        if (n >= 8)
          CHECK(tc.err().message.find(cut.substr(0, std::min<std::size_t>(n, 20))) == std::string::npos);
      }
    }
  }
  check_refused(decode_tc_string(kGppModelCore.substr(0, 20)), errc::bad_input,
                {"TC string core segment", "field VendorListVersion runs past the end at bit 120"});
  check_refused(decode_tc_string(kGppModelCore.substr(0, 26)), errc::bad_input,
                {"field PurposesConsent runs past the end at bit 152"});
  check_refused(decode_tc_string(""), errc::bad_input, {"empty"});
  check_refused(decode_tc_string(std::string(kGppModelCore) + "."), errc::bad_input, {"segment 2 is empty"});
}

TEST_CASE("a version 1 TC string is refused at its Version field") {
  check_refused(decode_tc_string(kV1String), errc::bad_input,
                {"TC string core segment", "field Version at bit 0", "version 1"});
}

TEST_CASE("unknown, allowed-vendors and second core segments are refused at SegmentType") {
  const std::string core(kGppModelCore);
  check_refused(decode_tc_string(core + ".oAAA"), errc::bad_input,
                {"TC string segment 2", "field SegmentType at bit 0", "segment type 5 is unknown"});
  check_refused(decode_tc_string(core + ".QAAA"), errc::bad_input,
                {"SegmentType", "allowed vendors", "type 2"});
  check_refused(decode_tc_string(core + "." + core), errc::bad_input, {"SegmentType", "second core"});
}

TEST_CASE("a vendor id 0, a range ending before its start and an id above MaxVendorId are refused") {
  {
    CoreBits core;
    core.out.write(10, 16);  // MaxVendorId
    core.out.write(1, 1);    // ranges
    core.out.write(1, 12);
    core.out.write(0, 1);
    core.out.write(0, 16);  // vendor 0
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"VendorConsents[0].StartOrOnlyVendorId", "at bit 243", "vendor id 0"});
  }
  {
    CoreBits core;
    core.out.write(10, 16);
    core.out.write(1, 1);
    core.out.write(1, 12);
    core.out.write(1, 1);
    core.out.write(8, 16);
    core.out.write(3, 16);  // 8-3
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"VendorConsents[0].EndVendorId", "at bit 259", "ends before its start"});
  }
  {
    CoreBits core;
    core.empty_vendors();
    core.out.write(10, 16);
    core.out.write(1, 1);
    core.out.write(1, 12);
    core.out.write(0, 1);
    core.out.write(11, 16);  // above MaxVendorId 10
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"VendorLegitimateInterests[0].StartOrOnlyVendorId", "MaxVendorId"});
  }
  {
    CoreBits core;
    core.empty_vendors().empty_vendors();
    core.out.write(1, 12);
    core.out.write(1, 6);
    core.out.write(2, 2);
    core.out.write(1, 12);
    core.out.write(0, 1);
    core.out.write(0, 16);
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"PubRestrictions[0][0].StartOrOnlyVendorId", "vendor id 0"});
  }
}

TEST_CASE("restriction type 3 and purposes outside 1..24 are refused") {
  {
    CoreBits core;
    core.empty_vendors().empty_vendors();
    core.out.write(1, 12);
    core.out.write(1, 6);
    core.out.write(3, 2);  // undefined
    core.out.write(0, 12);
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"PubRestrictions[0].RestrictionType", "at bit 265", "restriction type 3"});
  }
  for (int purpose : {0, 25, 63}) {
    CoreBits core;
    core.empty_vendors().empty_vendors();
    core.out.write(1, 12);
    core.out.write(static_cast<std::uint64_t>(purpose), 6);
    core.out.write(0, 2);
    core.out.write(0, 12);
    check_refused(decode_tc_string(core.text()), errc::bad_input,
                  {"PubRestrictions[0].PurposeId", "at bit 259"});
  }
}

TEST_CASE("a language letter past Z is refused") {
  BitWriter out;
  out.write(2, 6);
  out.write(0, 36 + 36 + 12 + 12 + 6);
  out.write(4, 6);
  out.write(30, 6);  // not a letter
  out.write(0, 200);
  out.pad_to(24);
  check_refused(decode_tc_string(out.base64url()), errc::bad_input,
                {"field ConsentLanguage at bit 108", "not A-Z"});
}

TEST_CASE("a short string naming more vendor ids than the decoder builds is refused") {
  CoreBits core;
  core.out.write(65535, 16);
  core.out.write(1, 1);
  core.out.write(4095, 12);
  for (int e = 0; e < 4095; ++e) {
    core.out.write(1, 1);
    core.out.write(1, 16);
    core.out.write(65535, 16);
  }
  check_refused(decode_tc_string(core.text()), errc::bad_input, {"VendorConsents[16]", "more vendor ids"});
}

TEST_CASE("the encoder refuses values that do not fit their fields, naming the field") {
  const auto refused = [](TcString tc, std::initializer_list<std::string_view> parts) {
    check_refused(encode_tc_string(tc), errc::invalid_argument, parts);
  };
  const TcString good = spec_example_model();
  REQUIRE(encode_tc_string(good).ok());
  TcString tc = good;
  tc.version = 1;
  refused(tc, {"field Version"});
  tc = good;
  tc.created_ds = -1;
  refused(tc, {"field Created"});
  tc = good;
  tc.last_updated_ds = std::int64_t{1} << 36;
  refused(tc, {"field LastUpdated"});
  tc = good;
  tc.cmp_id = 4096;
  refused(tc, {"field CmpId", "12 bits"});
  tc = good;
  tc.consent_screen = 64;
  refused(tc, {"field ConsentScreen"});
  tc = good;
  tc.consent_language = "en";
  refused(tc, {"field ConsentLanguage", "A-Z"});
  tc = good;
  tc.publisher_cc = "DEU";
  refused(tc, {"field PublisherCC"});
  tc = good;
  tc.tcf_policy_version = -4;
  refused(tc, {"field TcfPolicyVersion"});
  tc = good;
  tc.special_feature_optins = {13};
  refused(tc, {"field SpecialFeatureOptIns", "1..12"});
  tc = good;
  tc.purpose_consents = {0};
  refused(tc, {"field PurposesConsent"});
  tc = good;
  tc.vendor_consents = {0, 5};
  refused(tc, {"field VendorConsents", "1..65535"});
  tc = good;
  tc.vendor_legitimate_interests = {65536};
  refused(tc, {"field VendorLegitimateInterests"});
  tc = good;
  tc.disclosed_vendors = std::set<int>{-3};
  refused(tc, {"field DisclosedVendors"});
  tc = good;
  tc.publisher_restrictions = {{25, RestrictionType::not_allowed, {1}}};
  refused(tc, {"field PubRestrictions[0].PurposeId"});
  tc = good;
  tc.publisher_restrictions = {{1, static_cast<RestrictionType>(3), {1}}};
  refused(tc, {"field PubRestrictions[0].RestrictionType"});
  tc = good;
  tc.publisher_restrictions = {{1, RestrictionType::not_allowed, {}}};
  refused(tc, {"field PubRestrictions[0]", "no vendor"});
  tc = good;
  tc.publisher_restrictions = {{1, RestrictionType::not_allowed, {1}},
                               {1, RestrictionType::not_allowed, {2}}};
  refused(tc, {"field PubRestrictions[1]", "repeats"});
  tc = good;
  tc.publisher_tc->custom_purposes = 3;
  tc.publisher_tc->custom_purpose_consents = {4};
  refused(tc, {"field CustomPurposesConsent", "1..3"});
  tc = good;
  tc.publisher_tc->custom_purposes = 64;
  refused(tc, {"field NumCustomPurposes"});
}
