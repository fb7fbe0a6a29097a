// policy.cpp: parsing, complete validation and canonical output of policy files. Near 800 lines
// on purpose: every rule a policy must satisfy is checked here, in the order of the format in
// docs/policy.md, so that one file answers "what makes a policy invalid".
#include "consentry/policy.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <climits>
#include <cmath>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <system_error>

#include "json/json_reader.hpp"
#include "text/utf8.hpp"

namespace consentry {
namespace {

// ordered_json keeps document order, so "the first problem" is the first one a reader meets.
using Json = nlohmann::ordered_json;

// A policy is a small hand-written file; anything this large is a mistake or an attack.
constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxIdLength = 64;
// Wording is read by people: a label names a thing in a few words, a description says more.
constexpr std::size_t kMaxLabelBytes = 200;
constexpr std::size_t kMaxDescriptionBytes = 4000;

// quote renders policy text for a message: quoted, control bytes escaped, long text cut, so a
// hostile policy cannot forge extra lines in a log.
std::string quote(std::string_view s) {
  return quote_json_text(s);
}

// key_path appends an object member to a JSON path: $.fields or $.access['marketing.email'].
std::string key_path(const std::string& parent, std::string_view key) {
  return json_key_path(parent, key);
}

std::string index_path(const std::string& parent, std::size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

// ^[a-z][a-z0-9_.-]{0,63}$ for purposes, accessors and categories; without '.' and '-' for
// field names, which also name columns in exports.
bool valid_id(std::string_view s, bool allow_dot_dash) {
  if (s.empty() || s.size() > kMaxIdLength || s.front() < 'a' || s.front() > 'z') return false;
  return std::all_of(s.begin(), s.end(), [allow_dot_dash](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           (allow_dot_dash && (c == '.' || c == '-'));
  });
}

std::string_view json_type_name(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "an integer";
    case Json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

bool is_zero(const IsoDuration& d) {
  return d == IsoDuration{};
}

// Checker builds the "<origin>: <json path>: <what is wrong>" errors and the type checks that
// every object of the policy shares.
class Checker {
 public:
  explicit Checker(std::string_view origin) : origin_(origin) {}

  error fail(const std::string& path, std::string_view what) const {
    return make_error(errc::bad_input, origin_ + ": " + path + ": " + std::string(what));
  }

  result<void> expect(const Json& j, const std::string& path, Json::value_t type,
                      std::string_view want) const {
    const bool ok = j.type() == type || (type == Json::value_t::number_integer && j.is_number_integer());
    if (!ok) return fail(path, "must be " + std::string(want) + ", not " + std::string(json_type_name(j)));
    return {};
  }

  result<void> only_keys(const Json& obj, const std::string& path, std::string_view what,
                         std::initializer_list<std::string_view> allowed) const {
    for (const auto& [key, value] : obj.items()) {
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      std::string expected;
      for (auto a : allowed) {
        if (!expected.empty()) expected += ", ";
        expected += a;
      }
      return fail(key_path(path, key),
                  "unknown key " + quote(key) + " in " + std::string(what) + " (expected " + expected + ")");
    }
    return {};
  }

  result<void> required(const Json& obj, const std::string& path, std::string_view what,
                        std::initializer_list<std::string_view> keys) const {
    for (auto k : keys)
      if (!obj.contains(k)) return fail(path, std::string(what) + " is missing required key " + quote(k));
    return {};
  }

  result<std::string> string_of(const Json& j, const std::string& path) const {
    CONSENTRY_TRY(expect(j, path, Json::value_t::string, "a string"));
    return j.get<std::string>();
  }

  result<std::string> id_of(const Json& j, const std::string& path, bool allow_dot_dash) const {
    auto s = string_of(j, path);
    if (!s) return std::move(s).err();
    if (!valid_id(*s, allow_dot_dash))
      return fail(path, quote(*s) + (allow_dot_dash ? " does not match ^[a-z][a-z0-9_.-]{0,63}$"
                                                    : " does not match ^[a-z][a-z0-9_]{0,63}$"));
    return s;
  }

  result<IsoDuration> duration_of(const Json& j, const std::string& path) const {
    auto s = string_of(j, path);
    if (!s) return std::move(s).err();
    const auto d = parse_iso_duration(*s);
    if (!d) return fail(path, quote(*s) + " is not an ISO 8601 duration such as P3Y, P7D or PT12H");
    if (is_zero(*d)) return fail(path, "duration must be longer than zero");
    return *d;
  }

  result<const Json*> array_of(const Json& j, const std::string& path) const {
    CONSENTRY_TRY(expect(j, path, Json::value_t::array, "an array"));
    return &j;
  }

  // A list of non-empty, unique strings (sources, derived_from).
  result<std::vector<std::string>> string_list(const Json& j, const std::string& path) const {
    CONSENTRY_TRY(expect(j, path, Json::value_t::array, "an array"));
    if (j.empty()) return fail(path, "must not be empty");
    std::vector<std::string> out;
    std::set<std::string, std::less<>> seen;
    for (std::size_t i = 0; i < j.size(); ++i) {
      const std::string p = index_path(path, i);
      auto s = string_of(j[i], p);
      if (!s) return std::move(s).err();
      if (s->empty()) return fail(p, "must not be an empty string");
      if (!seen.insert(*s).second) return fail(p, "duplicate entry " + quote(*s));
      out.push_back(std::move(*s));
    }
    return out;
  }

 private:
  std::string origin_;
};

// WordingKind says which rules a piece of wording follows: a label is one line of at most
// kMaxLabelBytes, a description may hold newlines and run to kMaxDescriptionBytes.
enum class WordingKind { label, description };

std::string_view kind_name(WordingKind kind) {
  return kind == WordingKind::label ? "a label" : "a description";
}

// hex_code_point spells a code point as U+0009.
std::string hex_code_point(char32_t cp) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out = "U+";
  for (int shift = 12; shift >= 0; shift -= 4) out += kDigits[(cp >> shift) & 0xF];
  return out;
}

// control_character gives the first control character of `text` that `kind` does not allow (C0
// controls, DEL, C1 controls; a description may hold newlines), or nullopt when there is none.
std::optional<char32_t> control_character(std::string_view text, WordingKind kind) {
  for (std::size_t i = 0; i < text.size();) {
    const auto [cp, n] = detail::utf8_decode(text, i);
    if (n == 0) return static_cast<char32_t>(static_cast<unsigned char>(text[i]));
    const bool control = cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F);
    if (control && !(kind == WordingKind::description && cp == '\n')) return cp;
    i += n;
  }
  return std::nullopt;
}

// check_text applies the rules of `kind` to one text of a wording: not empty, valid UTF-8, no
// control characters, not too long. The message never quotes the text.
result<void> check_text(const Checker& c, const std::string& text, const std::string& path,
                        WordingKind kind) {
  if (text.empty()) return c.fail(path, "must not be an empty string");
  if (!detail::utf8_valid(text)) return c.fail(path, "is not valid UTF-8");
  if (const auto cp = control_character(text, kind))
    return c.fail(path, "holds the control character " + hex_code_point(*cp) + "; " +
                            std::string(kind_name(kind)) +
                            (kind == WordingKind::label ? " may hold none" : " may hold none but newlines"));
  const std::size_t cap = kind == WordingKind::label ? kMaxLabelBytes : kMaxDescriptionBytes;
  if (text.size() > cap)
    return c.fail(path, "is " + std::to_string(text.size()) + " bytes long; " + std::string(kind_name(kind)) +
                            " may be at most " + std::to_string(cap) + " bytes");
  return {};
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// read_wording reads a label or description: a non-empty string (untranslated text), or a
// non-empty object of language tag -> non-empty string that has a text in the policy's default
// language (exactly or by its primary subtag, as Wording::in finds it).
result<Wording> read_wording(const Checker& c, const Json& j, const std::string& path, WordingKind kind,
                             const std::string& default_language) {
  Wording w;
  if (j.is_string()) {
    w.text = j.get<std::string>();
    CONSENTRY_TRY(check_text(c, w.text, path, kind));
    return w;
  }
  if (!j.is_object())
    return c.fail(path, "must be a string or an object of translations by language tag, not " +
                            std::string(json_type_name(j)));
  if (j.empty())
    return c.fail(path,
                  "must hold at least one translation (an object of language tag -> text), or be a string");
  for (const auto& [tag, value] : j.items()) {
    const std::string tpath = key_path(path, tag);
    if (!valid_language_tag(tag))
      return c.fail(tpath, quote(tag) + " is not a language tag such as en, de or pt-BR");
    for (const auto& [other, text] : w.translations)
      if (same_ignoring_case(other, tag))
        return c.fail(tpath, "language " + quote(tag) + " is given twice (" + quote(other) +
                                 "); language tags ignore case");
    auto text = c.string_of(value, tpath);
    if (!text) return std::move(text).err();
    CONSENTRY_TRY(check_text(c, *text, tpath, kind));
    w.translations.emplace(tag, std::move(*text));
  }
  const std::string_view primary = std::string_view(default_language).substr(0, default_language.find('-'));
  if (!w.translated_in(default_language) && !w.translated_in(primary))
    return c.fail(path, "no text in " + quote(default_language) + ", the policy's default_language");
  return w;
}

// read_wordings reads the optional "label" and "description" of an object into `label` and
// `description`.
result<void> read_wordings(const Checker& c, const Json& j, const std::string& path,
                           const std::string& default_language, Wording& label, Wording& description) {
  if (j.contains("label")) {
    auto w = read_wording(c, j["label"], path + ".label", WordingKind::label, default_language);
    if (!w) return std::move(w).err();
    label = std::move(*w);
  }
  if (j.contains("description")) {
    auto w =
        read_wording(c, j["description"], path + ".description", WordingKind::description, default_language);
    if (!w) return std::move(w).err();
    description = std::move(*w);
  }
  return {};
}

// wording_json writes a wording as parse reads it: untranslated text as a string, translations as
// an object.
Json wording_json(const Wording& w) {
  if (w.translations.empty()) return w.text;
  Json out = Json::object();
  for (const auto& [tag, text] : w.translations) out[tag] = text;
  return out;
}

bool form_fits(const Form& form, FieldType type) {
  switch (form.kind) {
    case FormKind::generalise_year:
    case FormKind::generalise_month: return type == FieldType::date;
    case FormKind::generalise_decade: return type == FieldType::date || type == FieldType::integer;
    case FormKind::generalise_bucket: return type == FieldType::integer;
    // A token keeps the shape of the value: digits for integers and phone numbers, letters and
    // digits for text. A date or a boolean has too few values to hide one among them.
    case FormKind::token: return type != FieldType::date && type != FieldType::boolean;
    // Only an email address has a local part to hide and a domain to keep.
    case FormKind::mask_email: return type == FieldType::email;
    default: return true;
  }
}

struct Parsed {
  Controller controller;
  std::string default_language = "en";
  std::string default_region;
  std::vector<Purpose> purposes;
  std::vector<AccessorSpec> accessors;
  std::vector<SourceSpec> sources;
  bool sources_declared = false;  // the policy has a top-level "sources" list (maybe empty)
  std::vector<FieldSpec> fields;
  SignalMapping signals;
};

result<void> read_controller(const Checker& c, const Json& j, Controller& out) {
  const std::string path = "$.controller";
  CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
  CONSENTRY_TRY(c.only_keys(j, path, "the controller", {"name", "contact"}));
  CONSENTRY_TRY(c.required(j, path, "the controller", {"name"}));
  auto name = c.string_of(j["name"], path + ".name");
  if (!name) return std::move(name).err();
  if (name->empty()) return c.fail(path + ".name", "must not be empty");
  out.name = std::move(*name);
  if (j.contains("contact")) {
    auto contact = c.string_of(j["contact"], path + ".contact");
    if (!contact) return std::move(contact).err();
    if (contact->empty()) return c.fail(path + ".contact", "must not be empty");
    out.contact = std::move(*contact);
  }
  return {};
}

result<ContactLimit> read_contact_limit(const Checker& c, const Json& j, const std::string& path) {
  CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
  CONSENTRY_TRY(c.only_keys(j, path, "a contact_limit", {"max", "per"}));
  CONSENTRY_TRY(c.required(j, path, "a contact_limit", {"max", "per"}));
  ContactLimit limit;
  const Json& max = j["max"];
  const std::string max_path = path + ".max";
  if (!max.is_number_integer())
    return c.fail(max_path, "must be an integer, not " + std::string(json_type_name(max)));
  // nlohmann stores non-negative integers as unsigned and negative ones as signed.
  const bool in_range = max.is_number_unsigned()
                            ? (max.get<std::uint64_t>() >= 1 && max.get<std::uint64_t>() <= INT_MAX)
                            : (max.get<std::int64_t>() >= 1 && max.get<std::int64_t>() <= INT_MAX);
  if (!in_range) return c.fail(max_path, "must be an integer from 1 to 2147483647");
  limit.max = max.get<int>();
  auto per = c.duration_of(j["per"], path + ".per");
  if (!per) return std::move(per).err();
  limit.per = *per;
  return limit;
}

result<void> read_purposes(const Checker& c, const Json& root, Parsed& out) {
  const Json& list = root["purposes"];
  CONSENTRY_TRY(c.expect(list, "$.purposes", Json::value_t::array, "an array"));
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& j = list[i];
    const std::string path = index_path("$.purposes", i);
    CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(j, path, "a purpose",
                              {"id", "basis", "label", "description", "consent_valid_for", "contact_limit",
                               "automated_decision", "privacy_budget"}));
    CONSENTRY_TRY(c.required(j, path, "a purpose", {"id", "basis"}));
    Purpose p;
    auto id = c.id_of(j["id"], path + ".id", true);
    if (!id) return std::move(id).err();
    if (!seen.insert(*id).second) return c.fail(path + ".id", "duplicate purpose id " + quote(*id));
    p.id = std::move(*id);

    auto basis_text = c.string_of(j["basis"], path + ".basis");
    if (!basis_text) return std::move(basis_text).err();
    const auto basis = parse_basis(*basis_text);
    if (!basis)
      return c.fail(path + ".basis", "unknown basis " + quote(*basis_text) +
                                         " (expected consent, contract, legal_obligation, "
                                         "legitimate_interest, vital_interest or public_task)");
    p.basis = *basis;

    CONSENTRY_TRY(read_wordings(c, j, path, out.default_language, p.label, p.description));
    if (j.contains("consent_valid_for")) {
      auto d = c.duration_of(j["consent_valid_for"], path + ".consent_valid_for");
      if (!d) return std::move(d).err();
      p.consent_valid_for = *d;
    }
    if (j.contains("contact_limit")) {
      auto limit = read_contact_limit(c, j["contact_limit"], path + ".contact_limit");
      if (!limit) return std::move(limit).err();
      p.contact_limit = *limit;
    }
    if (j.contains("automated_decision")) {
      const std::string ad_path = path + ".automated_decision";
      CONSENTRY_TRY(c.expect(j["automated_decision"], ad_path, Json::value_t::boolean, "a boolean"));
      p.automated_decision = j["automated_decision"].get<bool>();
      // GDPR Art. 22(2): a solely automated decision needs explicit consent or a contract.
      if (p.automated_decision && p.basis != Basis::consent && p.basis != Basis::contract)
        return c.fail(ad_path, "an automated decision must rest on consent or contract, not " +
                                   std::string(to_string(p.basis)));
    }
    if (j.contains("privacy_budget")) {
      const std::string pb_path = path + ".privacy_budget";
      const Json& pb = j["privacy_budget"];
      if (!pb.is_number()) return c.fail(pb_path, "must be a number, not " + std::string(json_type_name(pb)));
      const double v = pb.get<double>();
      if (!std::isfinite(v) || v <= 0) return c.fail(pb_path, "must be a number greater than zero");
      p.privacy_budget = v;
    }
    out.purposes.push_back(std::move(p));
  }
  return {};
}

bool declared(const std::vector<Purpose>& purposes, std::string_view id) {
  return std::any_of(purposes.begin(), purposes.end(), [id](const Purpose& p) { return p.id == id; });
}

result<void> read_accessors(const Checker& c, const Json& root, Parsed& out) {
  const Json& list = root["accessors"];
  CONSENTRY_TRY(c.expect(list, "$.accessors", Json::value_t::array, "an array"));
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& j = list[i];
    const std::string path = index_path("$.accessors", i);
    CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(j, path, "an accessor", {"id", "purposes", "label", "description"}));
    CONSENTRY_TRY(c.required(j, path, "an accessor", {"id", "purposes"}));
    AccessorSpec a;
    auto id = c.id_of(j["id"], path + ".id", true);
    if (!id) return std::move(id).err();
    if (!seen.insert(*id).second) return c.fail(path + ".id", "duplicate accessor id " + quote(*id));
    a.id = std::move(*id);

    const std::string ppath = path + ".purposes";
    const Json& purposes = j["purposes"];
    CONSENTRY_TRY(c.expect(purposes, ppath, Json::value_t::array, "an array"));
    if (purposes.empty()) return c.fail(ppath, "an accessor must be registered for at least one purpose");
    for (std::size_t k = 0; k < purposes.size(); ++k) {
      const std::string epath = index_path(ppath, k);
      auto pid = c.string_of(purposes[k], epath);
      if (!pid) return std::move(pid).err();
      if (!declared(out.purposes, *pid)) return c.fail(epath, "unknown purpose " + quote(*pid));
      if (std::find(a.purposes.begin(), a.purposes.end(), *pid) != a.purposes.end())
        return c.fail(epath, "duplicate purpose " + quote(*pid));
      a.purposes.push_back(std::move(*pid));
    }
    CONSENTRY_TRY(read_wordings(c, j, path, out.default_language, a.label, a.description));
    out.accessors.push_back(std::move(a));
  }
  return {};
}

result<void> read_default_language(const Checker& c, const Json& j, Parsed& out) {
  auto tag = c.string_of(j, "$.default_language");
  if (!tag) return std::move(tag).err();
  if (!valid_language_tag(*tag))
    return c.fail("$.default_language", quote(*tag) + " is not a language tag such as en, de or pt-BR");
  out.default_language = std::move(*tag);
  return {};
}

// read_sources reads the top-level "sources": the sources fields may name, each with a label.
result<void> read_sources(const Checker& c, const Json& list, Parsed& out) {
  CONSENTRY_TRY(c.expect(list, "$.sources", Json::value_t::array, "an array"));
  out.sources_declared = true;
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& j = list[i];
    const std::string path = index_path("$.sources", i);
    CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(j, path, "a source", {"id", "label", "description"}));
    CONSENTRY_TRY(c.required(j, path, "a source", {"id", "label"}));
    SourceSpec s;
    auto id = c.id_of(j["id"], path + ".id", true);
    if (!id) return std::move(id).err();
    if (!seen.insert(*id).second) return c.fail(path + ".id", "duplicate source id " + quote(*id));
    s.id = std::move(*id);
    CONSENTRY_TRY(read_wordings(c, j, path, out.default_language, s.label, s.description));
    out.sources.push_back(std::move(s));
  }
  return {};
}

result<void> read_access(const Checker& c, const Json& j, const std::string& path, const Parsed& out,
                         FieldSpec& f) {
  CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
  for (const auto& [purpose, value] : j.items()) {
    const std::string epath = key_path(path, purpose);
    if (!declared(out.purposes, purpose)) return c.fail(epath, "unknown purpose " + quote(purpose));
    auto text = c.string_of(value, epath);
    if (!text) return std::move(text).err();
    const auto form = parse_form(*text);
    if (!form) return c.fail(epath, "unknown form " + quote(*text));
    if (!form_fits(*form, f.type))
      return c.fail(epath, "form " + form->to_string() + " does not fit a field of type " +
                               std::string(to_string(f.type)));
    f.access.emplace(purpose, *form);
  }
  return {};
}

// read_lookup reads a field's "lookup" (the purposes that may search by it, each one that sees
// the field in some form) and "lookup_bits", after its access.
result<void> read_lookup(const Checker& c, const Json& j, const std::string& path, FieldSpec& f) {
  if (j.contains("lookup")) {
    auto purposes = c.string_list(j["lookup"], path + ".lookup");
    if (!purposes) return std::move(purposes).err();
    if (f.type == FieldType::boolean)
      return c.fail(path + ".lookup", "a boolean has two values: an index of it would name them");
    for (std::size_t k = 0; k < purposes->size(); ++k)
      if (!f.form_for((*purposes)[k]))
        return c.fail(index_path(path + ".lookup", k),
                      "purpose " + quote((*purposes)[k]) +
                          " may search by the field only if it sees it in some form (add it to access)");
    f.lookup = std::move(*purposes);
  }
  if (j.contains("lookup_bits")) {
    const std::string bpath = path + ".lookup_bits";
    if (!f.is_indexed()) return c.fail(bpath, "set without lookup");
    const Json& bits = j["lookup_bits"];
    if (!bits.is_number_integer() || bits.get<std::int64_t>() < FieldSpec::kMinLookupBits ||
        bits.get<std::int64_t>() > FieldSpec::kMaxLookupBits)
      return c.fail(bpath, "must be an integer from " + std::to_string(FieldSpec::kMinLookupBits) + " to " +
                               std::to_string(FieldSpec::kMaxLookupBits));
    f.lookup_bits = static_cast<int>(bits.get<std::int64_t>());
  }
  return {};
}

// read_default_region reads the top-level "default_region": an ISO 3166 alpha-2 code whose
// numbering plan libphonenumber knows.
result<void> read_default_region(const Checker& c, const Json& j, Parsed& out) {
  auto region = c.string_of(j, "$.default_region");
  if (!region) return std::move(region).err();
  if (!is_phone_region(*region))
    return c.fail("$.default_region", quote(*region) + " is not a region code such as GB, US or DE");
  out.default_region = std::move(*region);
  return {};
}

result<void> read_fields(const Checker& c, const Json& root, Parsed& out) {
  const Json& list = root["fields"];
  CONSENTRY_TRY(c.expect(list, "$.fields", Json::value_t::array, "an array"));
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& j = list[i];
    const std::string path = index_path("$.fields", i);
    CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(j, path, "a field",
                              {"name", "type", "category", "label", "description", "retention", "sources",
                               "derived_from", "access", "lookup", "lookup_bits"}));
    CONSENTRY_TRY(c.required(j, path, "a field", {"name", "type", "category", "access"}));
    FieldSpec f;
    auto name = c.id_of(j["name"], path + ".name", false);
    if (!name) return std::move(name).err();
    if (!seen.insert(*name).second) return c.fail(path + ".name", "duplicate field name " + quote(*name));
    f.name = std::move(*name);

    auto type_text = c.string_of(j["type"], path + ".type");
    if (!type_text) return std::move(type_text).err();
    const auto type = parse_field_type(*type_text);
    if (!type)
      return c.fail(path + ".type", "unknown type " + quote(*type_text) +
                                        " (expected string, email, date, phone, integer or boolean)");
    f.type = *type;

    auto category = c.id_of(j["category"], path + ".category", true);
    if (!category) return std::move(category).err();
    f.category = std::move(*category);
    if (f.is_inferred() && !declared(out.purposes, Policy::kProfilingPurpose))
      return c.fail(path + ".category", "an inferred field needs a declared purpose 'profiling'");

    CONSENTRY_TRY(read_wordings(c, j, path, out.default_language, f.label, f.description));
    if (j.contains("retention")) {
      auto d = c.duration_of(j["retention"], path + ".retention");
      if (!d) return std::move(d).err();
      f.retention = *d;
    }
    if (j.contains("sources")) {
      auto s = c.string_list(j["sources"], path + ".sources");
      if (!s) return std::move(s).err();
      // With a top-level "sources" list, a field names only sources declared in it.
      if (out.sources_declared)
        for (std::size_t k = 0; k < s->size(); ++k) {
          const std::string& id = (*s)[k];
          if (std::none_of(out.sources.begin(), out.sources.end(),
                           [&id](const SourceSpec& d) { return d.id == id; }))
            return c.fail(index_path(path + ".sources", k),
                          "unknown source " + quote(id) + " (not declared in $.sources)");
        }
      f.sources = std::move(*s);
    }
    if (j.contains("derived_from")) {
      if (!f.is_inferred())
        return c.fail(path + ".derived_from", "only a field of category 'inferred' may declare derived_from");
      auto d = c.string_list(j["derived_from"], path + ".derived_from");
      if (!d) return std::move(d).err();
      f.derived_from = std::move(*d);
    } else if (f.is_inferred()) {
      return c.fail(path, "an inferred field must declare derived_from");
    }
    CONSENTRY_TRY(read_access(c, j["access"], path + ".access", out, f));
    CONSENTRY_TRY(read_lookup(c, j, path, f));
    out.fields.push_back(std::move(f));
  }

  // derived_from may name fields declared later in the list, so it is checked once all are known.
  for (std::size_t i = 0; i < out.fields.size(); ++i) {
    const auto& f = out.fields[i];
    for (std::size_t k = 0; k < f.derived_from.size(); ++k) {
      const std::string epath = index_path(index_path("$.fields", i) + ".derived_from", k);
      const auto& src = f.derived_from[k];
      const auto it = std::find_if(out.fields.begin(), out.fields.end(),
                                   [&src](const FieldSpec& g) { return g.name == src; });
      if (it == out.fields.end()) return c.fail(epath, "unknown field " + quote(src));
      if (it->is_inferred())
        return c.fail(epath, "field " + quote(src) + " is itself inferred; derive from collected fields");
    }
  }
  return {};
}

// signal_purposes reads a list of policy purposes a signal withdraws or objects to: declared,
// unique, and resting on consent, legitimate interest or public task (the bases a signal can
// take back).
result<std::vector<std::string>> signal_purposes(const Checker& c, const Json& j, const std::string& path,
                                                 const Parsed& out) {
  auto list = c.string_list(j, path);
  if (!list) return std::move(list).err();
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string& id = (*list)[i];
    const auto p =
        std::find_if(out.purposes.begin(), out.purposes.end(), [&](const Purpose& x) { return x.id == id; });
    if (p == out.purposes.end()) return c.fail(index_path(path, i), "unknown purpose " + quote(id));
    if (p->basis != Basis::consent && p->basis != Basis::legitimate_interest &&
        p->basis != Basis::public_task)
      return c.fail(index_path(path, i), "purpose " + quote(id) + " rests on " +
                                             std::string(to_string(p->basis)) +
                                             ": a signal can withdraw only consent and object only to "
                                             "legitimate interest or public task");
  }
  return list;
}

// read_tcf_mapping reads "signals.tcf": the vendor id and, per consent purpose, its TCF purposes.
result<void> read_tcf_mapping(const Checker& c, const Json& j, Parsed& out) {
  const std::string path = "$.signals.tcf";
  CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
  CONSENTRY_TRY(c.only_keys(j, path, "the TCF mapping", {"vendor_id", "purposes"}));
  CONSENTRY_TRY(c.required(j, path, "the TCF mapping", {"vendor_id", "purposes"}));
  SignalMapping::TcfMapping tcf;
  const Json& vendor = j["vendor_id"];
  if (!vendor.is_number_integer() || vendor.get<std::int64_t>() < 1 || vendor.get<std::int64_t>() > 65535)
    return c.fail(path + ".vendor_id", "must be an integer from 1 to 65535, the controller's TCF vendor id");
  tcf.vendor_id = vendor.get<int>();
  const std::string ppath = path + ".purposes";
  const Json& purposes = j["purposes"];
  CONSENTRY_TRY(c.expect(purposes, ppath, Json::value_t::object, "an object"));
  if (purposes.empty()) return c.fail(ppath, "must map at least one purpose");
  for (const auto& item : purposes.items()) {
    const std::string& id = item.key();
    const Json& list = item.value();
    const std::string kpath = key_path(ppath, id);
    const auto p =
        std::find_if(out.purposes.begin(), out.purposes.end(), [&](const Purpose& x) { return x.id == id; });
    if (p == out.purposes.end()) return c.fail(kpath, "unknown purpose " + quote(id));
    if (p->basis != Basis::consent)
      return c.fail(kpath, "purpose " + quote(id) + " rests on " + std::string(to_string(p->basis)) +
                               ": a TC string can grant and withdraw only consent");
    CONSENTRY_TRY(c.expect(list, kpath, Json::value_t::array, "an array"));
    if (list.empty()) return c.fail(kpath, "must list at least one TCF purpose");
    std::vector<int> ids;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const Json& n = list[i];
      if (!n.is_number_integer() || n.get<std::int64_t>() < 1 || n.get<std::int64_t>() > 24)
        return c.fail(index_path(kpath, i), "must be a TCF purpose id, an integer from 1 to 24");
      if (std::find(ids.begin(), ids.end(), n.get<int>()) != ids.end())
        return c.fail(index_path(kpath, i), "duplicate TCF purpose " + std::to_string(n.get<int>()));
      ids.push_back(n.get<int>());
    }
    tcf.purposes.emplace_back(id, std::move(ids));
  }
  out.signals.tcf = std::move(tcf);
  return {};
}

// read_signals reads the top-level "signals" (docs/consent-signals.md).
result<void> read_signals(const Checker& c, const Json& j, Parsed& out) {
  const std::string path = "$.signals";
  CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
  CONSENTRY_TRY(c.only_keys(j, path, "the signals", {"tcf", "gpp_usnat", "gpc"}));
  if (j.contains("tcf")) CONSENTRY_TRY(read_tcf_mapping(c, j["tcf"], out));
  if (j.contains("gpp_usnat")) {
    const std::string upath = path + ".gpp_usnat";
    const Json& usnat = j["gpp_usnat"];
    CONSENTRY_TRY(c.expect(usnat, upath, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(usnat, upath, "the usnat mapping",
                              {"sale_opt_out", "sharing_opt_out", "targeted_advertising_opt_out"}));
    for (const auto& [key, list] : usnat.items()) {
      auto purposes = signal_purposes(c, list, key_path(upath, key), out);
      if (!purposes) return std::move(purposes).err();
      out.signals.gpp_usnat.emplace_back(key, std::move(*purposes));
    }
  }
  if (j.contains("gpc")) {
    auto purposes = signal_purposes(c, j["gpc"], path + ".gpc", out);
    if (!purposes) return std::move(purposes).err();
    out.signals.gpc = std::move(*purposes);
  }
  return {};
}

}  // namespace

std::optional<Basis> parse_basis(std::string_view text) {
  if (text == "consent") return Basis::consent;
  if (text == "contract") return Basis::contract;
  if (text == "legal_obligation") return Basis::legal_obligation;
  if (text == "legitimate_interest") return Basis::legitimate_interest;
  if (text == "vital_interest") return Basis::vital_interest;
  if (text == "public_task") return Basis::public_task;
  return std::nullopt;
}

std::string_view to_string(Basis b) noexcept {
  switch (b) {
    case Basis::consent: return "consent";
    case Basis::contract: return "contract";
    case Basis::legal_obligation: return "legal_obligation";
    case Basis::legitimate_interest: return "legitimate_interest";
    case Basis::vital_interest: return "vital_interest";
    case Basis::public_task: return "public_task";
  }
  return "consent";
}

const Form* FieldSpec::form_for(std::string_view purpose) const {
  const auto it = access.find(purpose);
  return it == access.end() ? nullptr : &it->second;
}

result<Policy> Policy::parse(std::string_view json_text, std::string_view origin) {
  const Checker c(origin);
  const std::string prefix = std::string(origin) + ": ";
  if (json_text.size() > kMaxPolicyBytes)
    return make_error(errc::bad_input, prefix + "policy larger than 4 MiB");

  Json root;
  if (auto problem = read_json(json_text, root))
    return make_error(errc::bad_input, prefix + problem->message());

  CONSENTRY_TRY(c.expect(root, "$", Json::value_t::object, "an object"));
  CONSENTRY_TRY(c.only_keys(root, "$", "the policy",
                            {"consentry_policy", "default_language", "default_region", "controller",
                             "purposes", "accessors", "sources", "fields", "signals"}));
  CONSENTRY_TRY(c.required(root, "$", "the policy", {"consentry_policy", "purposes", "accessors", "fields"}));
  const Json& version = root["consentry_policy"];
  if (!version.is_number_integer() || version.get<std::int64_t>() != kFormatVersion)
    return c.fail("$.consentry_policy", "must be " + std::to_string(kFormatVersion) +
                                            ", the policy format version this library reads");

  Parsed parsed;
  // The default language comes first: every wording is checked against it.
  if (root.contains("default_language"))
    CONSENTRY_TRY(read_default_language(c, root["default_language"], parsed));
  if (root.contains("default_region")) CONSENTRY_TRY(read_default_region(c, root["default_region"], parsed));
  if (root.contains("controller")) CONSENTRY_TRY(read_controller(c, root["controller"], parsed.controller));
  CONSENTRY_TRY(read_purposes(c, root, parsed));
  CONSENTRY_TRY(read_accessors(c, root, parsed));
  // Sources come before fields, which may name only declared ones.
  if (root.contains("sources")) CONSENTRY_TRY(read_sources(c, root["sources"], parsed));
  CONSENTRY_TRY(read_fields(c, root, parsed));
  if (root.contains("signals")) CONSENTRY_TRY(read_signals(c, root["signals"], parsed));

  Policy policy;
  policy.controller_ = std::move(parsed.controller);
  policy.purposes_ = std::move(parsed.purposes);
  policy.accessors_ = std::move(parsed.accessors);
  policy.fields_ = std::move(parsed.fields);
  policy.sources_ = std::move(parsed.sources);
  policy.signals_ = std::move(parsed.signals);
  policy.default_language_ = std::move(parsed.default_language);
  policy.default_region_ = std::move(parsed.default_region);
  policy.index();
  return policy;
}

result<Policy> Policy::load(const std::filesystem::path& file) {
  const std::string origin = file.string();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec))
    return make_error(errc::bad_input, origin + ": is a directory, not a policy file");
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(errc::io, origin + ": cannot read the policy file");
  std::string text;
  std::array<char, 64 * 1024> buf{};
  while (in.read(buf.data(), buf.size()) || in.gcount() > 0) {
    text.append(buf.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxPolicyBytes)
      return make_error(errc::bad_input, origin + ": policy larger than 4 MiB");
  }
  if (in.bad()) return make_error(errc::io, origin + ": cannot read the policy file");
  return parse(text, origin);
}

std::string Policy::to_json() const {
  Json root = Json::object();
  root["consentry_policy"] = kFormatVersion;
  // Keys a policy leaves out are left out here too, so that a policy without them keeps the
  // canonical text (and hash) it had before they existed.
  if (default_language_ != "en") root["default_language"] = default_language_;
  if (!default_region_.empty()) root["default_region"] = default_region_;
  if (!controller_.name.empty()) {
    Json c = Json::object();
    c["name"] = controller_.name;
    if (!controller_.contact.empty()) c["contact"] = controller_.contact;
    root["controller"] = std::move(c);
  }
  Json purposes = Json::array();
  for (const auto& p : purposes_) {
    Json j = Json::object();
    j["id"] = p.id;
    j["basis"] = std::string(to_string(p.basis));
    if (!p.label.empty()) j["label"] = wording_json(p.label);
    if (!p.description.empty()) j["description"] = wording_json(p.description);
    if (p.consent_valid_for) j["consent_valid_for"] = p.consent_valid_for->to_string();
    if (p.contact_limit)
      j["contact_limit"] = Json{{"max", p.contact_limit->max}, {"per", p.contact_limit->per.to_string()}};
    if (p.automated_decision) j["automated_decision"] = true;
    if (p.privacy_budget) j["privacy_budget"] = *p.privacy_budget;
    purposes.push_back(std::move(j));
  }
  root["purposes"] = std::move(purposes);
  Json accessors = Json::array();
  for (const auto& a : accessors_) {
    Json j = Json::object();
    j["id"] = a.id;
    j["purposes"] = a.purposes;
    if (!a.label.empty()) j["label"] = wording_json(a.label);
    if (!a.description.empty()) j["description"] = wording_json(a.description);
    accessors.push_back(std::move(j));
  }
  root["accessors"] = std::move(accessors);
  if (!sources_.empty()) {
    Json sources = Json::array();
    for (const auto& s : sources_) {
      Json j = Json::object();
      j["id"] = s.id;
      if (!s.label.empty()) j["label"] = wording_json(s.label);
      if (!s.description.empty()) j["description"] = wording_json(s.description);
      sources.push_back(std::move(j));
    }
    root["sources"] = std::move(sources);
  }
  Json fields = Json::array();
  for (const auto& f : fields_) {
    Json j = Json::object();
    j["name"] = f.name;
    j["type"] = std::string(to_string(f.type));
    j["category"] = f.category;
    if (!f.label.empty()) j["label"] = wording_json(f.label);
    if (!f.description.empty()) j["description"] = wording_json(f.description);
    if (f.retention) j["retention"] = f.retention->to_string();
    if (!f.sources.empty()) j["sources"] = f.sources;
    if (!f.derived_from.empty()) j["derived_from"] = f.derived_from;
    Json access = Json::object();
    for (const auto& [purpose, form] : f.access) access[purpose] = form.to_string();
    j["access"] = std::move(access);
    if (f.is_indexed()) {
      j["lookup"] = f.lookup;
      if (f.lookup_bits != FieldSpec::kDefaultLookupBits) j["lookup_bits"] = f.lookup_bits;
    }
    fields.push_back(std::move(j));
  }
  root["fields"] = std::move(fields);
  if (!signals_.empty()) {
    Json signals = Json::object();
    if (signals_.tcf) {
      Json mapped = Json::object();
      for (const auto& [purpose, ids] : signals_.tcf->purposes) mapped[purpose] = ids;
      signals["tcf"] = Json{{"vendor_id", signals_.tcf->vendor_id}, {"purposes", std::move(mapped)}};
    }
    if (!signals_.gpp_usnat.empty()) {
      Json usnat = Json::object();
      for (const auto& [opt_out, listed] : signals_.gpp_usnat) usnat[opt_out] = listed;
      signals["gpp_usnat"] = std::move(usnat);
    }
    if (!signals_.gpc.empty()) signals["gpc"] = signals_.gpc;
    root["signals"] = std::move(signals);
  }
  return root.dump(2) + "\n";
}

void Policy::index() {
  purpose_ids_.build(purposes_, &Purpose::id);
  accessor_ids_.build(accessors_, &AccessorSpec::id);
  field_ids_.build(fields_, &FieldSpec::name);

  accessor_spans_.clear();
  accessor_purposes_.clear();
  for (const AccessorSpec& a : accessors_) {
    Span span{accessor_purposes_.size(), accessor_purposes_.size()};
    for (const std::string& id : a.purposes)
      if (const std::size_t p = purpose_index(id); p != kNoIndex) accessor_purposes_.push_back(p);
    span.end = accessor_purposes_.size();
    std::sort(accessor_purposes_.begin() + static_cast<std::ptrdiff_t>(span.begin), accessor_purposes_.end());
    accessor_spans_.push_back(span);
  }

  field_spans_.clear();
  field_forms_.clear();
  for (const FieldSpec& f : fields_) {
    Span span{field_forms_.size(), field_forms_.size()};
    for (const auto& [id, form] : f.access)
      if (const std::size_t p = purpose_index(id); p != kNoIndex)
        field_forms_.push_back(PurposeForm{p, form});
    span.end = field_forms_.size();
    std::sort(field_forms_.begin() + static_cast<std::ptrdiff_t>(span.begin), field_forms_.end(),
              [](const PurposeForm& a, const PurposeForm& b) { return a.purpose < b.purpose; });
    field_spans_.push_back(span);
  }
}

const Purpose* Policy::purpose(std::string_view id) const {
  const std::size_t i = purpose_index(id);
  return i == kNoIndex ? nullptr : &purposes_[i];
}

const AccessorSpec* Policy::accessor(std::string_view id) const {
  const std::size_t i = accessor_index(id);
  return i == kNoIndex ? nullptr : &accessors_[i];
}

const FieldSpec* Policy::field(std::string_view name) const {
  const std::size_t i = field_index(name);
  return i == kNoIndex ? nullptr : &fields_[i];
}

const SourceSpec* Policy::source(std::string_view id) const {
  for (const SourceSpec& s : sources_)
    if (s.id == id) return &s;
  return nullptr;
}

bool Policy::accessor_may_use(std::string_view accessor_id, std::string_view purpose_id) const {
  return accessor_permits(accessor_index(accessor_id), purpose_index(purpose_id));
}

}  // namespace consentry
