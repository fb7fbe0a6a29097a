// gpp_string.cpp: the GPP string codec: the header (type 3, version 1, the section ids as a
// Fibonacci range), then one section per id, joined by '~': the TC string of tcfeuv2 (id 2), the
// usnat section (id 7) laid out as @iabgpp/cmpapi reads and writes it, and any other section
// kept as its text.
#include "consentry/signals/gpp_string.hpp"

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "signals/bit_field.hpp"

namespace consentry::signals {
namespace {

using detail::BitReader;
using detail::BitWriter;

/// kHeaderType and kHeaderVersion are the header's Type and Version.
constexpr int kHeaderType = 3;
constexpr int kHeaderVersion = 1;
/// kMaxSectionId is the largest section id this library reads or writes.
constexpr int kMaxSectionId = 65535;

/// Piece is one part of a string split at a separator, and where it starts in the string.
struct Piece {
  std::string_view text;
  std::size_t offset = 0;
};

/// split cuts `text` (which starts at `offset` in the caller's string) at every `separator`.
std::vector<Piece> split(std::string_view text, char separator, std::size_t offset) {
  std::vector<Piece> pieces;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = text.find(separator, start);
    pieces.push_back(
        {text.substr(start, end == std::string_view::npos ? text.npos : end - start), offset + start});
    if (end == std::string_view::npos) return pieces;
    start = end + 1;
  }
}

/// UsNatField names an int field of UsNat as the specification spells it.
struct UsNatField {
  const char* name;
  int UsNat::*member;
};

/// kUsNatNotices are the nine fields between Version and SensitiveDataProcessing.
constexpr UsNatField kUsNatNotices[] = {
    {"SharingNotice", &UsNat::sharing_notice},
    {"SaleOptOutNotice", &UsNat::sale_opt_out_notice},
    {"SharingOptOutNotice", &UsNat::sharing_opt_out_notice},
    {"TargetedAdvertisingOptOutNotice", &UsNat::targeted_advertising_opt_out_notice},
    {"SensitiveDataProcessingOptOutNotice", &UsNat::sensitive_data_processing_opt_out_notice},
    {"SensitiveDataLimitUseNotice", &UsNat::sensitive_data_limit_use_notice},
    {"SaleOptOut", &UsNat::sale_opt_out},
    {"SharingOptOut", &UsNat::sharing_opt_out},
    {"TargetedAdvertisingOptOut", &UsNat::targeted_advertising_opt_out},
};

/// kUsNatTail are the four fields after KnownChildSensitiveDataConsents.
constexpr UsNatField kUsNatTail[] = {
    {"PersonalDataConsents", &UsNat::personal_data_consents},
    {"MspaCoveredTransaction", &UsNat::mspa_covered_transaction},
    {"MspaOptOutOptionMode", &UsNat::mspa_opt_out_option_mode},
    {"MspaServiceProviderMode", &UsNat::mspa_service_provider_mode},
};

/// sensitive_count and child_count are the lengths of the two lists in usnat version `version`.
constexpr std::size_t sensitive_count(int version) {
  return version == 1 ? 12 : 16;
}
constexpr std::size_t child_count(int version) {
  return version == 1 ? 2 : 3;
}

/// lowest_value is the smallest value the usnat field `field` (its name, perhaps after a prefix)
/// may hold: MspaCoveredTransaction has no "not applicable" (1 yes, 2 no), every other field
/// does (0).
int lowest_value(std::string_view field) {
  return field.ends_with("MspaCoveredTransaction") ? 1 : 0;
}

/// read_usnat_value reads a 2-bit usnat field, refusing 3 (and 0 for MspaCoveredTransaction),
/// which the specification leaves undefined and @iabgpp/cmpapi refuses to set.
result<int> read_usnat_value(BitReader& in, const std::string& field) {
  const std::size_t at = in.position();
  auto v = in.read_int(2, field);
  if (!v) return std::move(v).err();
  if (*v < lowest_value(field) || *v > 2)
    return in.invalid(field, at, "value " + std::to_string(*v) + " is undefined");
  return *v;
}

/// decode_usnat reads the usnat section `text` (at `offset` in the GPP string); `what` names the
/// section in errors.
result<UsNat> decode_usnat(std::string_view text, std::size_t offset, const std::string& what) {
  const std::vector<Piece> segments = split(text, '.', offset);
  if (segments.size() > 2)
    return make_error(errc::bad_input,
                      what + ": " + std::to_string(segments.size()) +
                          " segments, but usnat has a core segment and at most a GPC segment");
  const std::string core_what = what + " core segment";
  auto bits = detail::base64url_decode(segments[0].text, core_what, segments[0].offset);
  if (!bits) return std::move(bits).err();
  BitReader in(*bits, core_what);
  UsNat u;
  auto version = in.read_int(6, "Version");
  if (!version) return std::move(version).err();
  u.version = *version;
  if (u.version != 1 && u.version != 2)
    return in.invalid("Version", 0, "version " + std::to_string(u.version) + " is not read, only 1 and 2");
  // The layout goes by the segment's length, as in @iabgpp/cmpapi: 60 or 66 bits (10 or 11
  // characters) hold 12 sensitive-data and 2 child-consent values, any other length 16 and 3,
  // whatever Version says (releases of that library wrote Version 1 with 16 and 3 values). The
  // lists are then cut or filled with 0 to the lengths of the Version, as it does.
  const bool short_layout = bits->size == 60 || bits->size == 66;
  const std::size_t sensitive_read = short_layout ? 12 : 16;
  const std::size_t child_read = short_layout ? 2 : 3;
  for (const UsNatField& f : kUsNatNotices) {
    auto v = read_usnat_value(in, f.name);
    if (!v) return std::move(v).err();
    u.*f.member = *v;
  }
  for (std::size_t k = 0; k < sensitive_read; ++k) {
    auto v = read_usnat_value(in, "SensitiveDataProcessing[" + std::to_string(k) + "]");
    if (!v) return std::move(v).err();
    u.sensitive_data_processing.push_back(*v);
  }
  for (std::size_t k = 0; k < child_read; ++k) {
    auto v = read_usnat_value(in, "KnownChildSensitiveDataConsents[" + std::to_string(k) + "]");
    if (!v) return std::move(v).err();
    u.known_child_sensitive_data_consents.push_back(*v);
  }
  u.sensitive_data_processing.resize(sensitive_count(u.version), 0);
  u.known_child_sensitive_data_consents.resize(child_count(u.version), 0);
  for (const UsNatField& f : kUsNatTail) {
    auto v = read_usnat_value(in, f.name);
    if (!v) return std::move(v).err();
    u.*f.member = *v;
  }
  if (segments.size() == 2) {
    const std::string gpc_what = what + " GPC segment";
    auto gpc_bits = detail::base64url_decode(segments[1].text, gpc_what, segments[1].offset);
    if (!gpc_bits) return std::move(gpc_bits).err();
    BitReader gpc(*gpc_bits, gpc_what);
    auto type = gpc.read_int(2, "SubsectionType");
    if (!type) return std::move(type).err();
    if (*type != 1)
      return gpc.invalid("SubsectionType", 0, "subsection type " + std::to_string(*type) + " is not GPC (1)");
    auto set = gpc.read_bool("Gpc");
    if (!set) return std::move(set).err();
    u.gpc = *set;
  }
  return u;
}

/// printable is true when `text` is one or more printable ASCII characters other than '~';
/// otherwise `bad` is the index of the first other character (or 0 for an empty text).
bool printable(std::string_view text, std::size_t& bad) {
  bad = 0;
  if (text.empty()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x21 || c > 0x7e || c == '~') {
      bad = i;
      return false;
    }
  }
  return true;
}

/// refuse is the encoder's error for `field`.
error refuse(std::string_view field, std::string_view problem) {
  return make_error(errc::invalid_argument,
                    "GPP string: field " + std::string(field) + ": " + std::string(problem));
}

/// check_usnat_value refuses a usnat value outside what read_usnat_value accepts.
result<void> check_usnat_value(int value, const std::string& field) {
  if (value < lowest_value(field) || value > 2)
    return refuse(field, "is not " + std::string(lowest_value(field) == 1 ? "1 or 2" : "0, 1 or 2"));
  return ok();
}

/// encode_usnat writes a usnat section; `name` prefixes the field names in errors.
result<std::string> encode_usnat(const UsNat& u, const std::string& name) {
  if (u.version != 1 && u.version != 2) return refuse(name + ".Version", "only versions 1 and 2 are written");
  if (u.sensitive_data_processing.size() != sensitive_count(u.version))
    return refuse(name + ".SensitiveDataProcessing", "version " + std::to_string(u.version) + " has " +
                                                         std::to_string(sensitive_count(u.version)) +
                                                         " values");
  if (u.known_child_sensitive_data_consents.size() != child_count(u.version))
    return refuse(name + ".KnownChildSensitiveDataConsents",
                  "version " + std::to_string(u.version) + " has " + std::to_string(child_count(u.version)) +
                      " values");
  BitWriter out;
  out.write(static_cast<std::uint64_t>(u.version), 6);
  const auto put = [&](int value, const std::string& field) -> result<void> {
    CONSENTRY_TRY(check_usnat_value(value, field));
    out.write(static_cast<std::uint64_t>(value), 2);
    return ok();
  };
  for (const UsNatField& f : kUsNatNotices) CONSENTRY_TRY(put(u.*f.member, name + "." + f.name));
  for (std::size_t k = 0; k < u.sensitive_data_processing.size(); ++k)
    CONSENTRY_TRY(
        put(u.sensitive_data_processing[k], name + ".SensitiveDataProcessing[" + std::to_string(k) + "]"));
  for (std::size_t k = 0; k < u.known_child_sensitive_data_consents.size(); ++k)
    CONSENTRY_TRY(put(u.known_child_sensitive_data_consents[k],
                      name + ".KnownChildSensitiveDataConsents[" + std::to_string(k) + "]"));
  for (const UsNatField& f : kUsNatTail) CONSENTRY_TRY(put(u.*f.member, name + "." + f.name));
  // Pad to a whole byte; the base64url then fills its last character with zero bits, as
  // @iabgpp/cmpapi's CompressedBase64UrlEncoder does.
  out.pad_to(8);
  std::string text = out.base64url();
  if (u.gpc) {
    BitWriter gpc;
    gpc.write(1, 2);
    gpc.write_bool(*u.gpc);
    gpc.pad_to(8);
    text += '.';
    text += gpc.base64url();
  }
  return text;
}

/// section_name names section `index` (from 1) with its id for errors.
std::string section_name(std::size_t index, int id) {
  std::string name = "GPP section " + std::to_string(index) + " (id " + std::to_string(id);
  if (id == kGppTcfEuSection) name += ", tcfeuv2";
  if (id == kGppUsNatSection) name += ", usnat";
  return name + ")";
}

}  // namespace

result<GppString> decode_gpp_string(std::string_view text) {
  if (text.empty()) return make_error(errc::bad_input, "GPP string is empty");
  const std::vector<Piece> pieces = split(text, '~', 0);
  auto bits = detail::base64url_decode(pieces[0].text, "GPP header", 0);
  if (!bits) return std::move(bits).err();
  BitReader in(*bits, "GPP header");
  auto type = in.read_int(6, "Type");
  if (!type) return std::move(type).err();
  if (*type != kHeaderType)
    return in.invalid("Type", 0, "type " + std::to_string(*type) + " is not the GPP header's type 3");
  GppString gpp;
  auto version = in.read_int(6, "Version");
  if (!version) return std::move(version).err();
  if (*version != kHeaderVersion)
    return in.invalid("Version", 6, "version " + std::to_string(*version) + " is not read, only version 1");
  gpp.version = *version;
  const std::size_t ids_at = in.position();
  const std::size_t present = pieces.size() - 1;
  auto ids = detail::read_fibonacci_range(in, "SectionIds", kMaxSectionId, present);
  if (!ids) return std::move(ids).err();
  if (ids->size() != present)
    return in.invalid(
        "SectionIds", ids_at,
        "names " + std::to_string(ids->size()) + " sections, but the string has " + std::to_string(present));
  for (std::size_t i = 0; i < ids->size(); ++i) {
    const int id = (*ids)[i];
    const Piece& piece = pieces[i + 1];
    const std::string what = section_name(i + 1, id);
    if (i > 0 && id <= (*ids)[i - 1])  // the Fibonacci offsets make this impossible; checked all the same
      return in.invalid("SectionIds", ids_at, "the section ids are not strictly ascending");
    if (piece.text.empty()) return make_error(errc::bad_input, what + " is empty");
    GppSection section;
    section.id = id;
    if (id == kGppTcfEuSection) {
      auto tc = decode_tc_string(piece.text);
      if (!tc) return make_error(errc::bad_input, what + ": " + tc.err().message);
      section.tcf_eu = std::move(*tc);
    } else if (id == kGppUsNatSection) {
      auto usnat = decode_usnat(piece.text, piece.offset, what);
      if (!usnat) return std::move(usnat).err();
      section.us_national = std::move(*usnat);
    } else {
      std::size_t bad = 0;
      if (!printable(piece.text, bad))
        return make_error(errc::bad_input, what + ": the character at offset " +
                                               std::to_string(piece.offset + bad) +
                                               " is not printable ASCII");
      section.text = std::string(piece.text);
    }
    gpp.sections.push_back(std::move(section));
  }
  return gpp;
}

result<std::string> encode_gpp_string(const GppString& gpp) {
  if (gpp.version != kHeaderVersion) return refuse("Version", "only version 1 is written");
  std::vector<int> ids;
  std::vector<std::string> texts;
  for (std::size_t i = 0; i < gpp.sections.size(); ++i) {
    const GppSection& s = gpp.sections[i];
    const std::string name = "sections[" + std::to_string(i) + "]";
    if (s.id < 1 || s.id > kMaxSectionId) return refuse(name + ".id", "is not 1..65535");
    if (!ids.empty() && s.id <= ids.back())
      return refuse("SectionIds", "the sections are not in strictly ascending order of id");
    if (s.id == kGppTcfEuSection) {
      if (!s.tcf_eu || s.us_national || !s.text.empty())
        return refuse(name, "section 2 (tcfeuv2) holds a TC string model and nothing else");
      auto tc = encode_tc_string(*s.tcf_eu);
      if (!tc) return make_error(errc::invalid_argument, "GPP " + name + " (tcfeuv2): " + tc.err().message);
      texts.push_back(std::move(*tc));
    } else if (s.id == kGppUsNatSection) {
      if (!s.us_national || s.tcf_eu || !s.text.empty())
        return refuse(name, "section 7 (usnat) holds a usnat model and nothing else");
      auto usnat = encode_usnat(*s.us_national, name);
      if (!usnat) return std::move(usnat).err();
      texts.push_back(std::move(*usnat));
    } else {
      if (s.tcf_eu || s.us_national) return refuse(name, "a section other than 2 and 7 holds only its text");
      std::size_t bad = 0;
      if (!printable(s.text, bad))
        return refuse(name + ".text", "is not one or more printable ASCII characters but '~'");
      texts.push_back(s.text);
    }
    ids.push_back(s.id);
  }
  BitWriter header;
  header.write(kHeaderType, 6);
  header.write(kHeaderVersion, 6);
  std::set<int> id_set(ids.begin(), ids.end());
  if (detail::runs_of(id_set).size() > static_cast<std::size_t>(detail::kMaxNumEntries))
    return refuse("SectionIds", "the section ids make more than 4095 ranges");
  detail::write_fibonacci_range(header, ids);
  header.pad_to(8);
  std::string text = header.base64url();
  for (const std::string& t : texts) {
    text += '~';
    text += t;
  }
  return text;
}

}  // namespace consentry::signals
