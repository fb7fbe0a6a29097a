// signals_conformance.cpp: consentry's TC and GPP string codec against the IAB's reference
// packages (tests/conformance/run.sh drives it):
//
//   consentry_signals_conformance check FILE [--strict-strings]
//     reads the JSON lines of tests/conformance/generate.mjs ({"kind":"tcf"|"gpp","string",
//     "model"}: strings the reference encoded, models the reference decoded from them), decodes
//     each string with consentry and compares every field with the model; also encodes what it
//     decoded and decodes that again, which must give the same model. Whether the re-encoded
//     string is the reference's, character for character, is counted (a failure only with
//     --strict-strings: both the ranges and the bit field encode a vendor list correctly).
//   consentry_signals_conformance emit SEED COUNT
//     makes COUNT random TC string models and COUNT GPP string models (std::mt19937 from SEED),
//     encodes each with consentry and writes JSON lines {"kind","string","model"} for
//     tests/conformance/decode.mjs.
//
// Models are JSON in the C++ structs' own field names: sets as ascending arrays, times in
// deciseconds, publisher_restrictions as [{purpose,type,vendors}], disclosed_vendors and
// publisher_tc null when absent, GPP as {"version","sections":[{"id",("tcf_eu"|"us_national"|
// "text")}]}. Exit 0 when everything matches, 1 on any mismatch, 2 on bad usage.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/signals/gpp_string.hpp"
#include "consentry/signals/tcf_string.hpp"

namespace {

using nlohmann::json;
using namespace consentry::signals;

// ---- models as JSON ----

/// ids_json gives a set of ids as an ascending JSON array.
json ids_json(const std::set<int>& ids) {
  json out = json::array();
  for (int id : ids) out.push_back(id);
  return out;
}

/// tc_json gives a TcString as JSON, field for field.
json tc_json(const TcString& tc) {
  json restrictions = json::array();
  for (const PublisherRestriction& r : tc.publisher_restrictions) {
    restrictions.push_back(
        {{"purpose", r.purpose}, {"type", static_cast<int>(r.type)}, {"vendors", ids_json(r.vendors)}});
  }
  json publisher_tc = nullptr;
  if (tc.publisher_tc) {
    const PublisherTc& p = *tc.publisher_tc;
    publisher_tc = {{"purpose_consents", ids_json(p.purpose_consents)},
                    {"purpose_legitimate_interests", ids_json(p.purpose_legitimate_interests)},
                    {"custom_purposes", p.custom_purposes},
                    {"custom_purpose_consents", ids_json(p.custom_purpose_consents)},
                    {"custom_purpose_legitimate_interests", ids_json(p.custom_purpose_legitimate_interests)}};
  }
  return {{"version", tc.version},
          {"created_ds", tc.created_ds},
          {"last_updated_ds", tc.last_updated_ds},
          {"cmp_id", tc.cmp_id},
          {"cmp_version", tc.cmp_version},
          {"consent_screen", tc.consent_screen},
          {"consent_language", tc.consent_language},
          {"vendor_list_version", tc.vendor_list_version},
          {"tcf_policy_version", tc.tcf_policy_version},
          {"is_service_specific", tc.is_service_specific},
          {"use_non_standard_texts", tc.use_non_standard_texts},
          {"special_feature_optins", ids_json(tc.special_feature_optins)},
          {"purpose_consents", ids_json(tc.purpose_consents)},
          {"purpose_legitimate_interests", ids_json(tc.purpose_legitimate_interests)},
          {"purpose_one_treatment", tc.purpose_one_treatment},
          {"publisher_cc", tc.publisher_cc},
          {"vendor_consents", ids_json(tc.vendor_consents)},
          {"vendor_legitimate_interests", ids_json(tc.vendor_legitimate_interests)},
          {"publisher_restrictions", restrictions},
          {"disclosed_vendors", tc.disclosed_vendors ? ids_json(*tc.disclosed_vendors) : json(nullptr)},
          {"publisher_tc", publisher_tc}};
}

/// usnat_json gives a UsNat as JSON, field for field.
json usnat_json(const UsNat& u) {
  return {{"version", u.version},
          {"sharing_notice", u.sharing_notice},
          {"sale_opt_out_notice", u.sale_opt_out_notice},
          {"sharing_opt_out_notice", u.sharing_opt_out_notice},
          {"targeted_advertising_opt_out_notice", u.targeted_advertising_opt_out_notice},
          {"sensitive_data_processing_opt_out_notice", u.sensitive_data_processing_opt_out_notice},
          {"sensitive_data_limit_use_notice", u.sensitive_data_limit_use_notice},
          {"sale_opt_out", u.sale_opt_out},
          {"sharing_opt_out", u.sharing_opt_out},
          {"targeted_advertising_opt_out", u.targeted_advertising_opt_out},
          {"sensitive_data_processing", u.sensitive_data_processing},
          {"known_child_sensitive_data_consents", u.known_child_sensitive_data_consents},
          {"personal_data_consents", u.personal_data_consents},
          {"mspa_covered_transaction", u.mspa_covered_transaction},
          {"mspa_opt_out_option_mode", u.mspa_opt_out_option_mode},
          {"mspa_service_provider_mode", u.mspa_service_provider_mode},
          {"gpc", u.gpc ? json(*u.gpc) : json(nullptr)}};
}

/// gpp_json gives a GppString as JSON: each section as its model when it has one, else its text.
json gpp_json(const GppString& gpp) {
  json sections = json::array();
  for (const GppSection& s : gpp.sections) {
    if (s.tcf_eu)
      sections.push_back({{"id", s.id}, {"tcf_eu", tc_json(*s.tcf_eu)}});
    else if (s.us_national)
      sections.push_back({{"id", s.id}, {"us_national", usnat_json(*s.us_national)}});
    else
      sections.push_back({{"id", s.id}, {"text", s.text}});
  }
  return {{"version", gpp.version}, {"sections", sections}};
}

// ---- comparing ----

/// Difference is one field whose values differ.
struct Difference {
  std::string field;
  std::string expected;
  std::string got;
};

/// show gives a value for a message, long arrays of numbers shortened.
std::string show(const json& value) {
  if (value.is_array() && value.size() > 12 &&
      std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_number(); })) {
    std::string out = "[";
    for (std::size_t i = 0; i < 12; ++i) out += value[i].dump() + ",";
    return out + "... (" + std::to_string(value.size()) + " ids)]";
  }
  return value.dump();
}

/// only_in lists (up to 10 of) the numbers of `a` that `b` lacks.
json only_in(const json& a, const json& b) {
  json out = json::array();
  for (const json& v : a) {
    if (out.size() == 10) break;
    if (std::find(b.begin(), b.end(), v) == b.end()) out.push_back(v);
  }
  return out;
}

/// diff compares `expected` with `got` recursively, appending each difference to `out`; arrays of
/// numbers are compared whole, naming the ids missing and extra.
void diff(const json& expected, const json& got, const std::string& path, std::vector<Difference>& out) {
  auto numbers = [](const json& a) {
    return std::all_of(a.begin(), a.end(), [](const json& v) { return v.is_number(); });
  };
  if (expected.is_array() && got.is_array()) {
    if (numbers(expected) && numbers(got)) {
      if (expected != got)
        out.push_back({path, show(expected),
                       show(got) + " (missing " + only_in(expected, got).dump() + ", extra " +
                           only_in(got, expected).dump() + ")"});
      return;
    }
    if (expected.size() != got.size())
      out.push_back({path + ".length", std::to_string(expected.size()), std::to_string(got.size())});
    for (std::size_t i = 0; i < std::min(expected.size(), got.size()); ++i)
      diff(expected[i], got[i], path + "[" + std::to_string(i) + "]", out);
    return;
  }
  if (expected.is_object() && got.is_object()) {
    std::set<std::string> keys;
    for (auto it = expected.begin(); it != expected.end(); ++it) keys.insert(it.key());
    for (auto it = got.begin(); it != got.end(); ++it) keys.insert(it.key());
    for (const std::string& key : keys) {
      const json missing = json::value_t::discarded;
      const json& e = expected.contains(key) ? expected.at(key) : missing;
      const json& g = got.contains(key) ? got.at(key) : missing;
      diff(e, g, path.empty() ? key : path + "." + key, out);
    }
    return;
  }
  if (expected != got) out.push_back({path, show(expected), show(got)});
}

// ---- check ----

/// Mismatch is a difference found on one line of the input.
struct Mismatch {
  std::size_t line = 0;
  Difference difference;
  std::string string;
};

/// Decoded is a string decoded with consentry and, when that worked, its model as JSON and its
/// model encoded again.
struct Decoded {
  std::optional<json> model;
  std::string error;
  std::string reencoded;
  std::optional<json> round_trip;  ///< the re-encoded string decoded once more
  std::string round_trip_error;    ///< why that failed
};

/// decode_with_consentry decodes `text` as `kind` with consentry, encodes the model again and
/// decodes that.
Decoded decode_with_consentry(const std::string& kind, const std::string& text) {
  Decoded out;
  if (kind == "tcf") {
    auto tc = decode_tc_string(text);
    if (!tc) {
      out.error = tc.err().message;
      return out;
    }
    out.model = tc_json(*tc);
    auto again = encode_tc_string(*tc);
    if (!again) {
      out.error = "encode_tc_string of the decoded model: " + again.err().message;
      return out;
    }
    out.reencoded = *again;
    auto back = decode_tc_string(*again);
    if (back)
      out.round_trip = tc_json(*back);
    else
      out.round_trip_error = back.err().message;
  } else {
    auto gpp = decode_gpp_string(text);
    if (!gpp) {
      out.error = gpp.err().message;
      return out;
    }
    out.model = gpp_json(*gpp);
    auto again = encode_gpp_string(*gpp);
    if (!again) {
      out.error = "encode_gpp_string of the decoded model: " + again.err().message;
      return out;
    }
    out.reencoded = *again;
    auto back = decode_gpp_string(*again);
    if (back)
      out.round_trip = gpp_json(*back);
    else
      out.round_trip_error = back.err().message;
  }
  return out;
}

/// shorten cuts a long string for a message.
std::string shorten(const std::string& s) {
  return s.size() > 300 ? s.substr(0, 300) + "..." : s;
}

/// check runs the `check` mode over `path`; returns the exit code.
int check(const std::string& path, bool strict_strings) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "signals_conformance: cannot read " << path << "\n";
    return 2;
  }
  std::vector<Mismatch> mismatches;
  std::size_t lines_bad = 0, tcf = 0, gpp = 0, tcf_same = 0, gpp_same = 0;
  std::vector<Mismatch> string_differences;
  std::string text;
  for (std::size_t line = 1; std::getline(in, text); ++line) {
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    const json entry = json::parse(text, nullptr, false);
    if (entry.is_discarded() || !entry.is_object() || !entry.contains("string") || !entry.contains("model") ||
        !entry["string"].is_string() ||
        (entry.value("kind", "") != "tcf" && entry.value("kind", "") != "gpp")) {
      mismatches.push_back({line, {"(line)", "{\"kind\",\"string\",\"model\"}", shorten(text)}, ""});
      ++lines_bad;
      continue;
    }
    const std::string kind = entry["kind"];
    const std::string string = entry["string"];
    ++(kind == "tcf" ? tcf : gpp);
    const Decoded decoded = decode_with_consentry(kind, string);
    if (!decoded.model) {
      mismatches.push_back({line, {"(consentry decode)", "a model", "error: " + decoded.error}, string});
      ++lines_bad;
      continue;
    }
    std::vector<Difference> differences;
    diff(entry["model"], *decoded.model, "", differences);
    if (!decoded.error.empty()) {
      differences.push_back({"(consentry re-encode)", "a string", "error: " + decoded.error});
    } else if (!decoded.round_trip) {
      differences.push_back(
          {"(round trip)", "consentry decodes its own encoding", "error: " + decoded.round_trip_error});
    } else {
      std::vector<Difference> round;
      diff(*decoded.model, *decoded.round_trip, "", round);
      for (Difference& d : round) {
        d.field = "(round trip) " + d.field;
        differences.push_back(d);
      }
    }
    if (!differences.empty()) ++lines_bad;
    for (const Difference& d : differences) mismatches.push_back({line, d, string});
    if (decoded.error.empty()) {
      if (decoded.reencoded == string) {
        ++(kind == "tcf" ? tcf_same : gpp_same);
      } else {
        string_differences.push_back({line, {"(re-encoded string)", string, decoded.reencoded}, string});
      }
    }
  }
  const std::size_t total = tcf + gpp;
  std::cout << "signals_conformance: consentry re-encoded " << tcf_same << " of " << tcf << " TC strings and "
            << gpp_same << " of " << gpp
            << " GPP strings to the reference's string, character for character\n";
  constexpr std::size_t kShown = 20;
  if (!string_differences.empty()) {
    // Not a failure unless asked for: a vendor list written as ranges or as a bit field reads the
    // same, and the two reference packages choose between them differently.
    const std::size_t shown = strict_strings ? kShown : 3;
    for (std::size_t i = 0; i < std::min(shown, string_differences.size()); ++i) {
      const Mismatch& m = string_differences[i];
      std::cout << path << ":" << m.line << ": re-encoded differently"
                << (strict_strings ? "" : " (the same model)")
                << ":\n  reference: " << shorten(m.difference.expected)
                << "\n  consentry: " << shorten(m.difference.got) << "\n";
    }
    if (strict_strings) lines_bad += string_differences.size();
  }
  if (!mismatches.empty()) {
    for (std::size_t i = 0; i < std::min(kShown, mismatches.size()); ++i) {
      const Mismatch& m = mismatches[i];
      std::cerr << path << ":" << m.line << ": " << m.difference.field << ": expected "
                << m.difference.expected << ", got " << m.difference.got << "\n";
      if (!m.string.empty()) std::cerr << "  string: " << shorten(m.string) << "\n";
    }
    if (mismatches.size() > kShown) std::cerr << "... and " << mismatches.size() - kShown << " more\n";
  }
  if (lines_bad > 0 || total == 0) {
    std::cerr << "signals_conformance: " << lines_bad << " of " << total
              << " strings read differently by consentry (" << mismatches.size() << " mismatched fields)\n";
    return 1;
  }
  std::cout << "signals_conformance: consentry read all " << total
            << " reference strings as the reference did (" << tcf << " TC strings, " << gpp
            << " GPP strings)\n";
  return 0;
}

// ---- emit ----

/// Random draws the values of the random models from one std::mt19937.
class Random {
 public:
  explicit Random(std::uint32_t seed) : engine_(seed) {}

  /// integer gives an integer in [lo, hi].
  std::int64_t integer(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
  }
  /// number gives an int in [lo, hi].
  int number(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(engine_); }
  /// unit gives a double in [0, 1).
  double unit() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  /// chance is true with probability p.
  bool chance(double p = 0.5) { return unit() < p; }
  /// subset gives the ids of 1..n kept each with probability p (drawn when negative).
  std::set<int> subset(int n, double p = -1) {
    if (p < 0) p = unit();
    std::set<int> ids;
    for (int i = 1; i <= n; ++i)
      if (chance(p)) ids.insert(i);
    return ids;
  }
  /// letters gives two letters A-Z.
  std::string letters() {
    return {static_cast<char>('A' + number(0, 25)), static_cast<char>('A' + number(0, 25))};
  }

 private:
  std::mt19937 engine_;
};

/// vendor_ids draws vendor ids in one of the shapes generate.mjs uses: none, small (max id at
/// most 45), dense, sparse over a wide span (up to 65535), runs of consecutive ids, and edges.
std::set<int> vendor_ids(Random& rng) {
  switch (rng.number(0, 8)) {
    case 0: return {};
    case 1: return rng.subset(rng.number(1, 45));
    case 2:
    case 3: {
      const int max_id = rng.number(46, 1500);  // drawn apart: arguments have no order
      return rng.subset(max_id, 0.3 + 0.65 * rng.unit());
    }
    case 4:
    case 5: {
      static constexpr int kSpans[] = {100, 1000, 5000, 65535};
      const int span = kSpans[rng.number(0, 3)];
      std::set<int> ids;
      for (int i = rng.number(1, 40); i > 0; --i) ids.insert(rng.number(1, span));
      return ids;
    }
    case 6:
    case 7: {
      std::set<int> ids;
      for (int run = rng.number(1, 8); run > 0; --run) {
        const int start = rng.number(1, 3000);
        const int length = rng.number(1, 200);
        for (int i = 0; i < length; ++i) ids.insert(start + i);
      }
      return ids;
    }
    default: {
      switch (rng.number(0, 4)) {
        case 0: return {1};
        case 1: return {65535};
        case 2: return {1, 65535};
        case 3: return {45};
        default: {
          std::set<int> ids;
          for (int i = 1; i <= 300; ++i) ids.insert(i);
          return ids;
        }
      }
    }
  }
}

/// random_tc draws a TcString. The reference's TCModel refuses a CMP id below 2 and merges
/// restrictions with the same purpose and type, dropping any without vendors (as consentry does,
/// and refuses to write one), so each pair appears at most once, with at least one vendor.
TcString random_tc(Random& rng) {
  TcString tc;
  tc.created_ds =
      rng.chance(0.05) ? rng.integer(0, (std::int64_t{1} << 36) - 1) : rng.integer(15463008000, 22089888000);
  tc.last_updated_ds =
      rng.chance(0.3) ? tc.created_ds
                      : std::min(tc.created_ds + rng.integer(0, 400LL * 864000), (std::int64_t{1} << 36) - 1);
  tc.cmp_id = rng.number(2, 4095);
  tc.cmp_version = rng.number(0, 4095);
  tc.consent_screen = rng.number(0, 63);
  tc.consent_language = rng.chance(0.5) ? std::string("EN") : rng.letters();
  tc.vendor_list_version = rng.number(0, 4095);
  tc.tcf_policy_version = rng.chance(0.6) ? 4 : rng.number(0, 63);
  tc.is_service_specific = rng.chance();
  tc.use_non_standard_texts = rng.chance(0.2);
  tc.special_feature_optins = rng.subset(12);
  tc.purpose_consents = rng.subset(24);
  tc.purpose_legitimate_interests = rng.subset(24);
  tc.purpose_one_treatment = rng.chance(0.2);
  tc.publisher_cc = rng.chance(0.5) ? std::string("AA") : rng.letters();
  tc.vendor_consents = vendor_ids(rng);
  tc.vendor_legitimate_interests = vendor_ids(rng);
  std::set<std::pair<int, int>> seen;
  for (int i = rng.chance(0.4) ? 0 : rng.number(1, 5); i > 0; --i) {
    PublisherRestriction r;
    r.purpose = rng.number(1, 24);
    r.type = static_cast<RestrictionType>(rng.number(0, 2));
    if (!seen.insert({r.purpose, static_cast<int>(r.type)}).second) continue;
    while (r.vendors.empty()) {
      if (rng.chance()) {
        r.vendors = vendor_ids(rng);
      } else {
        for (int k = rng.number(1, 6); k > 0; --k) r.vendors.insert(rng.number(1, 400));
      }
    }
    tc.publisher_restrictions.push_back(std::move(r));
  }
  if (rng.chance(0.7)) tc.disclosed_vendors = vendor_ids(rng);
  if (rng.chance(0.4)) {
    PublisherTc p;
    p.purpose_consents = rng.subset(24);
    p.purpose_legitimate_interests = rng.subset(24);
    p.custom_purposes = rng.chance(0.3) ? 0 : rng.number(1, 63);
    p.custom_purpose_consents = rng.subset(p.custom_purposes);
    p.custom_purpose_legitimate_interests = rng.subset(p.custom_purposes);
    tc.publisher_tc = std::move(p);
  }
  return tc;
}

/// random_usnat draws a UsNat of version 1 or 2, every field within the specification's values.
/// (Each value is drawn in a statement of its own, so that every compiler draws the same models.)
UsNat random_usnat(Random& rng) {
  UsNat u;
  u.version = rng.chance(0.3) ? 1 : 2;
  auto two = [&] { return rng.number(0, 2); };
  u.sharing_notice = two();
  u.sale_opt_out_notice = two();
  u.sharing_opt_out_notice = two();
  u.targeted_advertising_opt_out_notice = two();
  u.sensitive_data_processing_opt_out_notice = two();
  u.sensitive_data_limit_use_notice = two();
  u.sale_opt_out = two();
  u.sharing_opt_out = two();
  u.targeted_advertising_opt_out = two();
  for (int i = u.version == 1 ? 12 : 16; i > 0; --i) u.sensitive_data_processing.push_back(two());
  for (int i = u.version == 1 ? 2 : 3; i > 0; --i) u.known_child_sensitive_data_consents.push_back(two());
  u.personal_data_consents = two();
  u.mspa_covered_transaction = rng.number(1, 2);  // 1 yes, 2 no: no "not applicable" here
  u.mspa_opt_out_option_mode = two();
  u.mspa_service_provider_mode = two();
  const int gpc = rng.number(0, 2);
  if (gpc > 0) u.gpc = gpc == 2;
  return u;
}

/// random_gpp draws a GppString: tcfeuv2 and usnat mostly together, now and then a uspv1 (6) or
/// usca (8) section as text, rarely no section at all.
GppString random_gpp(Random& rng) {
  static constexpr const char* kUsCa[] = {"BQQAAABA.QA", "BgAAAABA.QA", "BAgAAABA.QA"};
  GppString gpp;
  const double which = rng.unit();
  if (which < 0.8) {
    GppSection s;
    s.id = kGppTcfEuSection;
    s.tcf_eu = random_tc(rng);
    gpp.sections.push_back(std::move(s));
  }
  if (rng.chance(0.2)) {
    static constexpr char kUsp[] = {'Y', 'N', '-'};
    GppSection s;
    s.id = 6;
    s.text = "1";
    for (int i = 0; i < 3; ++i) s.text += kUsp[rng.number(0, 2)];
    gpp.sections.push_back(std::move(s));
  }
  if (which < 0.6 || which >= 0.8) {
    GppSection s;
    s.id = kGppUsNatSection;
    s.us_national = random_usnat(rng);
    gpp.sections.push_back(std::move(s));
  }
  if (rng.chance(0.15)) {
    GppSection s;
    s.id = 8;
    s.text = kUsCa[rng.number(0, 2)];
    gpp.sections.push_back(std::move(s));
  }
  if (rng.chance(0.03)) gpp.sections.clear();
  return gpp;
}

/// emit runs the `emit` mode; returns the exit code.
int emit(std::uint32_t seed, int count) {
  Random rng(seed);
  for (int i = 0; i < count; ++i) {
    const TcString tc = random_tc(rng);
    auto text = encode_tc_string(tc);
    if (!text) {
      std::cerr << "signals_conformance: encode_tc_string failed on model " << i << ": " << text.err().message
                << "\n  model: " << tc_json(tc).dump() << "\n";
      return 1;
    }
    std::cout << json{{"kind", "tcf"}, {"string", *text}, {"model", tc_json(tc)}}.dump() << "\n";
  }
  for (int i = 0; i < count; ++i) {
    const GppString gpp = random_gpp(rng);
    auto text = encode_gpp_string(gpp);
    if (!text) {
      std::cerr << "signals_conformance: encode_gpp_string failed on model " << i << ": "
                << text.err().message << "\n  model: " << gpp_json(gpp).dump() << "\n";
      return 1;
    }
    std::cout << json{{"kind", "gpp"}, {"string", *text}, {"model", gpp_json(gpp)}}.dump() << "\n";
  }
  return std::cout.flush() ? 0 : 1;
}

/// usage prints how to call the program; returns the exit code for bad usage.
int usage() {
  std::cerr << "usage: consentry_signals_conformance check FILE [--strict-strings]\n"
               "       consentry_signals_conformance emit SEED COUNT\n";
  return 2;
}

/// parse_number reads a non-negative decimal number, or nullopt.
std::optional<std::uint64_t> parse_number(std::string_view text) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  std::uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  if (args.size() >= 2 && args.size() <= 3 && args[0] == "check") {
    if (args.size() == 3 && args[2] != "--strict-strings") return usage();
    return check(std::string(args[1]), args.size() == 3);
  }
  if (args.size() == 3 && args[0] == "emit") {
    const auto seed = parse_number(args[1]);
    const auto count = parse_number(args[2]);
    if (!seed || !count || *seed > 0xffffffffu || *count > 1000000) return usage();
    return emit(static_cast<std::uint32_t>(*seed), static_cast<int>(*count));
  }
  return usage();
}
