// policy.cpp: parsing, complete validation and canonical output of policy files. Near 600 lines
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

namespace consentry {
namespace {

// ordered_json keeps document order, so "the first problem" is the first one a reader meets.
using Json = nlohmann::ordered_json;

// A policy is a small hand-written file; anything this large is a mistake or an attack.
constexpr std::size_t kMaxPolicyBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxIdLength = 64;

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

bool form_fits(const Form& form, FieldType type) {
  switch (form.kind) {
    case FormKind::generalise_year:
    case FormKind::generalise_month: return type == FieldType::date;
    case FormKind::generalise_decade: return type == FieldType::date || type == FieldType::integer;
    case FormKind::generalise_bucket: return type == FieldType::integer;
    // A token keeps the shape of the value: digits for integers and phone numbers, letters and
    // digits for text. A date or a boolean has too few values to hide one among them.
    case FormKind::token: return type != FieldType::date && type != FieldType::boolean;
    default: return true;
  }
}

struct Parsed {
  Controller controller;
  std::vector<Purpose> purposes;
  std::vector<AccessorSpec> accessors;
  std::vector<FieldSpec> fields;
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
                              {"id", "basis", "description", "consent_valid_for", "contact_limit",
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

    if (j.contains("description")) {
      auto d = c.string_of(j["description"], path + ".description");
      if (!d) return std::move(d).err();
      p.description.text = std::move(*d);
    }
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
    CONSENTRY_TRY(c.only_keys(j, path, "an accessor", {"id", "purposes", "description"}));
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
    if (j.contains("description")) {
      auto d = c.string_of(j["description"], path + ".description");
      if (!d) return std::move(d).err();
      a.description.text = std::move(*d);
    }
    out.accessors.push_back(std::move(a));
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

result<void> read_fields(const Checker& c, const Json& root, Parsed& out) {
  const Json& list = root["fields"];
  CONSENTRY_TRY(c.expect(list, "$.fields", Json::value_t::array, "an array"));
  std::set<std::string, std::less<>> seen;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& j = list[i];
    const std::string path = index_path("$.fields", i);
    CONSENTRY_TRY(c.expect(j, path, Json::value_t::object, "an object"));
    CONSENTRY_TRY(c.only_keys(
        j, path, "a field",
        {"name", "type", "category", "description", "retention", "sources", "derived_from", "access"}));
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

    if (j.contains("description")) {
      auto d = c.string_of(j["description"], path + ".description");
      if (!d) return std::move(d).err();
      f.description.text = std::move(*d);
    }
    if (j.contains("retention")) {
      auto d = c.duration_of(j["retention"], path + ".retention");
      if (!d) return std::move(d).err();
      f.retention = *d;
    }
    if (j.contains("sources")) {
      auto s = c.string_list(j["sources"], path + ".sources");
      if (!s) return std::move(s).err();
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
                            {"consentry_policy", "controller", "purposes", "accessors", "fields"}));
  CONSENTRY_TRY(c.required(root, "$", "the policy", {"consentry_policy", "purposes", "accessors", "fields"}));
  const Json& version = root["consentry_policy"];
  if (!version.is_number_integer() || version.get<std::int64_t>() != kFormatVersion)
    return c.fail("$.consentry_policy", "must be " + std::to_string(kFormatVersion) +
                                            ", the policy format version this library reads");

  Parsed parsed;
  if (root.contains("controller")) CONSENTRY_TRY(read_controller(c, root["controller"], parsed.controller));
  CONSENTRY_TRY(read_purposes(c, root, parsed));
  CONSENTRY_TRY(read_accessors(c, root, parsed));
  CONSENTRY_TRY(read_fields(c, root, parsed));

  Policy policy;
  policy.controller_ = std::move(parsed.controller);
  policy.purposes_ = std::move(parsed.purposes);
  policy.accessors_ = std::move(parsed.accessors);
  policy.fields_ = std::move(parsed.fields);
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
    if (!p.description.empty()) j["description"] = p.description.text;
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
    if (!a.description.empty()) j["description"] = a.description.text;
    accessors.push_back(std::move(j));
  }
  root["accessors"] = std::move(accessors);
  Json fields = Json::array();
  for (const auto& f : fields_) {
    Json j = Json::object();
    j["name"] = f.name;
    j["type"] = std::string(to_string(f.type));
    j["category"] = f.category;
    if (!f.description.empty()) j["description"] = f.description.text;
    if (f.retention) j["retention"] = f.retention->to_string();
    if (!f.sources.empty()) j["sources"] = f.sources;
    if (!f.derived_from.empty()) j["derived_from"] = f.derived_from;
    Json access = Json::object();
    for (const auto& [purpose, form] : f.access) access[purpose] = form.to_string();
    j["access"] = std::move(access);
    fields.push_back(std::move(j));
  }
  root["fields"] = std::move(fields);
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
