// policy.hpp: the policy (purposes, accessors, fields and their forms), validated at load.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
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
#include "consentry/wording.hpp"

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
  Wording label;                                 ///< a short name a customer understands ("Offers by email")
  Wording description;                           ///< what the purpose is for, in a sentence or two
  std::optional<IsoDuration> consent_valid_for;  ///< a grant lapses after this
  std::optional<ContactLimit> contact_limit;
  bool automated_decision = false;
  std::optional<double> privacy_budget;  ///< total epsilon for private aggregates
};

/// AccessorSpec is a CRM feature and the purposes it may use.
struct AccessorSpec {
  std::string id;
  std::vector<std::string> purposes;
  Wording label;  ///< how a customer would name the feature ("the newsletter tool")
  Wording description;
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
  Wording label;                                    ///< a customer's name for it ("Date of birth")
  Wording description;
  /// lookup lists the purposes that may search customers by this field (Accessor::find), each
  /// one that sees the field in some form; empty: the field has no blind index (docs/lookup.md).
  std::vector<std::string> lookup;
  /// lookup_bits is the length of the field's blind index entries, in bits (kMinLookupBits to
  /// kMaxLookupBits): with N customers about N / 2^lookup_bits share each entry.
  int lookup_bits = kDefaultLookupBits;

  /// kDefaultLookupBits, kMinLookupBits and kMaxLookupBits bound "lookup_bits".
  static constexpr int kDefaultLookupBits = 16;
  static constexpr int kMinLookupBits = 1;
  static constexpr int kMaxLookupBits = 32;

  /// is_inferred is true for category "inferred".
  bool is_inferred() const noexcept { return category == "inferred"; }
  /// is_indexed is true when the field has a blind index (some purpose may search by it).
  bool is_indexed() const noexcept { return !lookup.empty(); }
  /// lookup_allowed is true when `purpose` may search customers by this field.
  bool lookup_allowed(std::string_view purpose) const {
    return std::find(lookup.begin(), lookup.end(), purpose) != lookup.end();
  }
  /// form_for returns the form for `purpose`, or nullptr when the purpose is denied.
  const Form* form_for(std::string_view purpose) const;
};

/// SourceSpec is a source a field's value may come from, as the policy's top-level "sources"
/// list names it: `{"id": "credit-bureau", "label": "Credit reference agency"}`.
struct SourceSpec {
  std::string id;
  Wording label;
  Wording description;
};

/// SignalMapping is the policy's "signals": which of its purposes the consent signals a website
/// or app sends decide (Vault::record_signal, docs/consent-signals.md). Empty when the policy has
/// no "signals"; a signal the policy does not map is then refused.
struct SignalMapping {
  /// TcfMapping maps TC strings (and a GPP string's TCF EU section): the controller's own vendor
  /// id, and for each policy purpose the TCF purposes a string must consent to, all of them and
  /// the vendor, to grant it.
  struct TcfMapping {
    int vendor_id = 0;                                               ///< 1..65535
    std::vector<std::pair<std::string, std::vector<int>>> purposes;  ///< policy purpose -> TCF purposes 1..24
  };
  std::optional<TcfMapping> tcf;
  /// gpp_usnat maps a GPP string's US national section: for each opt-out it names
  /// ("sale_opt_out", "sharing_opt_out", "targeted_advertising_opt_out"), the purposes an opt-out
  /// withdraws (consent) or objects to (legitimate interest, public task).
  std::vector<std::pair<std::string, std::vector<std::string>>> gpp_usnat;
  /// gpc lists the purposes that sell or share personal data: Global Privacy Control withdraws or
  /// objects to them.
  std::vector<std::string> gpc;

  /// kUsNatOptOuts are the usnat opt-outs gpp_usnat may name.
  static constexpr std::string_view kUsNatOptOuts[] = {"sale_opt_out", "sharing_opt_out",
                                                       "targeted_advertising_opt_out"};

  /// empty is true when the policy maps no signal.
  bool empty() const noexcept { return !tcf && gpp_usnat.empty() && gpc.empty(); }
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
  /// sources is the top-level "sources" list; empty when the policy declares none (a field's
  /// sources are then free ids).
  const std::vector<SourceSpec>& sources() const noexcept { return sources_; }
  /// source looks up a declared source by id; nullptr when the policy declares none by that id.
  const SourceSpec* source(std::string_view id) const;
  /// signals is the policy's "signals" mapping; empty when it has none.
  const SignalMapping& signals() const noexcept { return signals_; }
  /// default_language is the language wording falls back to ("default_language"; "en" when the
  /// policy does not say).
  const std::string& default_language() const noexcept { return default_language_; }
  /// default_region is the ISO 3166 alpha-2 region ("GB") whose numbering plan reads a phone
  /// number written without its country code ("default_region"); "" when the policy sets none,
  /// and such numbers are then refused.
  const std::string& default_region() const noexcept { return default_region_; }

  /// purpose, accessor and field look up by id; nullptr when the policy has none.
  const Purpose* purpose(std::string_view id) const;
  const AccessorSpec* accessor(std::string_view id) const;
  const FieldSpec* field(std::string_view name) const;
  /// accessor_may_use is true when `accessor` is declared with `purpose`.
  bool accessor_may_use(std::string_view accessor, std::string_view purpose) const;

  /// kNoIndex is what purpose_index, accessor_index and field_index give for an undeclared id.
  static constexpr std::size_t kNoIndex = static_cast<std::size_t>(-1);
  /// purpose_index gives the position of purpose `id` in purposes(), or kNoIndex.
  std::size_t purpose_index(std::string_view id) const noexcept {
    return purpose_ids_.find(id, purposes_, &Purpose::id);
  }
  /// accessor_index gives the position of accessor `id` in accessors(), or kNoIndex.
  std::size_t accessor_index(std::string_view id) const noexcept {
    return accessor_ids_.find(id, accessors_, &AccessorSpec::id);
  }
  /// field_index gives the position of field `name` in fields(), or kNoIndex.
  std::size_t field_index(std::string_view name) const noexcept {
    return field_ids_.find(name, fields_, &FieldSpec::name);
  }
  /// accessor_permits is accessor_may_use by position: true when accessors()[accessor] is declared
  /// with purposes()[purpose]; false when either is kNoIndex or out of range.
  bool accessor_permits(std::size_t accessor, std::size_t purpose) const noexcept {
    if (accessor >= accessor_spans_.size()) return false;
    const Span s = accessor_spans_[accessor];
    const auto* first = accessor_purposes_.data() + s.begin;
    const auto* last = accessor_purposes_.data() + s.end;
    const auto* it = std::lower_bound(first, last, purpose);
    return it != last && *it == purpose;
  }
  /// form_at is FieldSpec::form_for by position: the form fields()[field].access gives
  /// purposes()[purpose], or nullptr when the purpose is denied or either position is out of range.
  const Form* form_at(std::size_t field, std::size_t purpose) const noexcept {
    if (field >= field_spans_.size()) return nullptr;
    const Span s = field_spans_[field];
    const auto* first = field_forms_.data() + s.begin;
    const auto* last = field_forms_.data() + s.end;
    const auto* it = std::lower_bound(first, last, purpose,
                                      [](const PurposeForm& e, std::size_t p) { return e.purpose < p; });
    return it != last && it->purpose == purpose ? &it->form : nullptr;
  }

 private:
  // IdTable finds an id's position in one of the policy's lists: open addressing with linear
  // probing over (hash tag, position + 1) slots; 0 marks an empty slot. It holds positions, not
  // pointers, so a copied or moved Policy keeps a valid table.
  class IdTable {
   public:
    template <class T>
    void build(const std::vector<T>& items, std::string T::*key) {
      std::size_t size = 8;
      while (size < 2 * items.size()) size *= 2;
      slots_.assign(size, 0);
      mask_ = size - 1;
      for (std::size_t i = 0; i < items.size(); ++i) {
        const std::uint64_t h = hash(items[i].*key);
        std::size_t at = static_cast<std::size_t>(h) & mask_;
        while (slots_[at] != 0) at = (at + 1) & mask_;
        slots_[at] = (h & kTagMask) | (static_cast<std::uint64_t>(i) + 1);
      }
    }
    template <class T>
    std::size_t find(std::string_view id, const std::vector<T>& items, std::string T::*key) const noexcept {
      if (slots_.empty()) return kNoIndex;
      const std::uint64_t h = hash(id);
      for (std::size_t at = static_cast<std::size_t>(h) & mask_;; at = (at + 1) & mask_) {
        const std::uint64_t slot = slots_[at];
        if (slot == 0) return kNoIndex;
        if ((slot & kTagMask) != (h & kTagMask)) continue;
        const std::size_t i = static_cast<std::size_t>(slot & ~kTagMask) - 1;
        if (std::string_view(items[i].*key) == id) return i;
      }
    }
    // hash mixes the id eight bytes at a time (the last eight overlapping the one before them).
    static std::uint64_t hash(std::string_view s) noexcept {
      const char* p = s.data();
      const std::size_t n = s.size();
      std::uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
      if (n >= 8) {
        for (std::size_t i = 0; i + 8 < n; i += 8) h = mix(h, load<std::uint64_t>(p + i));
        h = mix(h, load<std::uint64_t>(p + n - 8));
      } else if (n >= 4) {
        h = mix(h,
                load<std::uint32_t>(p) | (static_cast<std::uint64_t>(load<std::uint32_t>(p + n - 4)) << 32));
      } else if (n > 0) {
        h = mix(h, static_cast<std::uint64_t>(static_cast<unsigned char>(p[0])) |
                       static_cast<std::uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8 |
                       static_cast<std::uint64_t>(static_cast<unsigned char>(p[n - 1])) << 16);
      }
      return h;
    }

   private:
    static constexpr std::uint64_t kTagMask = 0xFFFFFFFF00000000ull;
    template <class U>
    static U load(const char* p) noexcept {
      U v;
      std::memcpy(&v, p, sizeof v);
      return v;
    }
    static std::uint64_t mix(std::uint64_t h, std::uint64_t v) noexcept {
      h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
      return h ^ (h >> 31);
    }
    std::vector<std::uint64_t> slots_;
    std::size_t mask_ = 0;
  };
  // Span is a range [begin, end) of accessor_purposes_ or field_forms_.
  struct Span {
    std::size_t begin = 0, end = 0;
  };
  // PurposeForm is one entry of a field's access, by purpose position.
  struct PurposeForm {
    std::size_t purpose = 0;
    Form form;
  };

  // index derives the lookup tables below from purposes_, accessors_ and fields_; it runs
  // whenever those change.
  void index();
  Controller controller_;
  std::vector<Purpose> purposes_;
  std::vector<AccessorSpec> accessors_;
  std::vector<FieldSpec> fields_;
  std::vector<SourceSpec> sources_;
  SignalMapping signals_;
  std::string default_language_ = "en";
  std::string default_region_;
  IdTable purpose_ids_, accessor_ids_, field_ids_;
  std::vector<Span> accessor_spans_;  // per accessor: its purposes' positions, sorted
  std::vector<std::size_t> accessor_purposes_;
  std::vector<Span> field_spans_;  // per field: its access by purpose position, sorted
  std::vector<PurposeForm> field_forms_;
};

}  // namespace consentry
