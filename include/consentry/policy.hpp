// policy.hpp: the policy (purposes, accessors, fields and their forms), validated at load.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// Basis is the lawful basis a purpose rests on (GDPR Art. 6(1)).
enum class Basis { consent, contract, legal_obligation, legitimate_interest, vital_interest, public_task };

/// parse_basis reads "consent", "contract", ... Returns nullopt for anything else.
std::optional<Basis> parse_basis(std::string_view text);
/// to_string gives the policy spelling of a Basis.
std::string_view to_string(Basis b) noexcept;

/// ContactLimit caps contacts per sliding window ({"max": 2, "per": "P7D"}).
struct ContactLimit {
  int max = 0;
  IsoDuration per;
};

/// Purpose is why data is processed, and on which basis.
struct Purpose {
  std::string id;
  Basis basis = Basis::consent;
  std::string description;
  std::optional<IsoDuration> consent_valid_for;  ///< a grant lapses after this
  std::optional<ContactLimit> contact_limit;
  bool automated_decision = false;
  std::optional<double> privacy_budget;  ///< total epsilon for private aggregates
};

/// AccessorSpec is a CRM feature and the purposes it may use.
struct AccessorSpec {
  std::string id;
  std::vector<std::string> purposes;
  std::string description;
};

/// FieldSpec is one attribute of a profile.
struct FieldSpec {
  std::string name;
  FieldType type = FieldType::string;
  std::string category;                             ///< contact, identity, financial, inferred, ...
  std::optional<IsoDuration> retention;             ///< counted from the value's collection time
  std::vector<std::string> sources;                 ///< empty = any source
  std::vector<std::string> derived_from;            ///< for category "inferred"
  std::map<std::string, Form, std::less<>> access;  ///< purpose id -> form; absent = denied
  std::string description;

  /// is_inferred is true for category "inferred".
  bool is_inferred() const noexcept { return category == "inferred"; }
  /// form_for returns the form for `purpose`, or nullptr when the purpose is denied.
  const Form* form_for(std::string_view purpose) const;
};

/// Controller is who is responsible for the data, and how to reach them.
struct Controller {
  std::string name;
  std::string contact;
};

/// Policy is an immutable, validated policy. Build it with Policy::parse or Policy::load.
class Policy {
 public:
  /// kFormatVersion is the value of "consentry_policy" this library reads.
  static constexpr int kFormatVersion = 1;
  /// kProfilingPurpose is the purpose whose consent inferred fields need.
  static constexpr std::string_view kProfilingPurpose = "profiling";

  /// parse validates the JSON text completely. On failure returns errc::bad_input whose message
  /// starts with `origin` (a file name, or "policy") and the JSON path of the first problem,
  /// e.g. "policy.json: $.fields[2].access.analytics: unknown form 'blur'".
  static result<Policy> parse(std::string_view json_text, std::string_view origin = "policy");
  /// load reads and parses a file; errc::io when it cannot be read.
  static result<Policy> load(const std::filesystem::path& file);

  /// to_json gives the policy as canonical JSON text (2-space indent), which parse accepts.
  std::string to_json() const;

  const Controller& controller() const noexcept { return controller_; }
  const std::vector<Purpose>& purposes() const noexcept { return purposes_; }
  const std::vector<AccessorSpec>& accessors() const noexcept { return accessors_; }
  const std::vector<FieldSpec>& fields() const noexcept { return fields_; }

  /// purpose, accessor and field look up by id; nullptr when the policy has none.
  const Purpose* purpose(std::string_view id) const;
  const AccessorSpec* accessor(std::string_view id) const;
  const FieldSpec* field(std::string_view name) const;
  /// accessor_may_use is true when `accessor` is declared with `purpose`.
  bool accessor_may_use(std::string_view accessor, std::string_view purpose) const;

 private:
  void index();
  Controller controller_;
  std::vector<Purpose> purposes_;
  std::vector<AccessorSpec> accessors_;
  std::vector<FieldSpec> fields_;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::size_t, Hash, std::equal_to<>> purpose_index_, accessor_index_,
      field_index_;
};

}  // namespace consentry
