// policy_diff.hpp: diff_policies(), the pure comparison of two policies that classifies every
// change (added, removed, changed; tightening or widening), and compare_forms(), which says which
// of two forms reveals more.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "consentry/form.hpp"
#include "consentry/policy.hpp"

namespace consentry {

/// FormOrder is how two forms of one field compare in what they reveal.
enum class FormOrder {
  same,          ///< the same form
  less,          ///< the first reveals less than the second
  more,          ///< the first reveals more than the second
  incomparable,  ///< neither reveals a subset of the other (a pseudonym and a mask)
};

/// compare_forms says whether `a` reveals less, the same, or more than `b`: clear reveals the
/// most, redact and replace:TEXT (whatever the text) the least and as little as each other; a
/// longer mask:lastN, mask:firstN or prefix reveals more, a wider bucket less; a date's month more
/// than its year, its year more than its decade. Pure. Other pairs (mask:email and a pseudonym,
/// mask:firstN and mask:lastM) are incomparable.
FormOrder compare_forms(const Form& a, const Form& b) noexcept;

/// PolicyChangeKind names one change between two policies.
enum class PolicyChangeKind {
  controller_changed,        ///< the controller's name or contact
  purpose_added,             ///< a new purpose
  purpose_removed,           ///< a purpose is gone (its uses go with it)
  purpose_changed,           ///< basis, label, description, consent validity, contact limit, ...
  accessor_added,            ///< a new accessor
  accessor_removed,          ///< an accessor is gone
  accessor_purpose_added,    ///< an accessor may act for one more purpose
  accessor_purpose_removed,  ///< an accessor may no longer act for a purpose
  accessor_changed,          ///< an accessor's label or description
  field_added,               ///< a new field
  field_removed,             ///< a field is gone (values it holds must be purged)
  field_type_changed,        ///< a field's type (values it holds must be purged)
  field_changed,             ///< category, label, description or derived_from
  retention_shortened,       ///< a field's retention is shorter, or set where there was none
  retention_lengthened,      ///< a field's retention is longer, or removed
  form_added,                ///< a purpose gains a form of a field it could not use
  form_removed,              ///< a purpose can no longer use a field
  form_tightened,            ///< a purpose sees a field in a less revealing form
  form_widened,              ///< a purpose sees a field in a more revealing (or different) form
  form_changed,              ///< a purpose sees a field in another form that reveals as much
                             ///< (redact to replace:TEXT, another replace text): neutral
  source_added,              ///< a field accepts values from one more source ("*": any source)
  source_removed,            ///< a field no longer accepts values from a source
  declared_source_added,     ///< the top-level "sources" list declares one more source
  declared_source_removed,   ///< the top-level "sources" list no longer declares a source
  declared_source_changed,   ///< a declared source's label or description
  default_language_changed,  ///< the policy's default_language
  default_region_changed,    ///< the policy's default_region (phone numbers written after it)
  signals_changed,           ///< the "signals" mapping (signals recorded after it)
};

/// to_string spells a PolicyChangeKind as the CLI and JSON show it ("form_widened").
std::string_view to_string(PolicyChangeKind k) noexcept;

/// ChangeEffect is what a change does to what the policy lets be done.
enum class ChangeEffect {
  neutral,      ///< no use of data grows or shrinks (a new purpose, a description)
  tightening,   ///< less is used, kept or accepted
  widening,     ///< more is used, kept or accepted
  destructive,  ///< stored values no longer fit (a field removed or retyped)
};

/// to_string spells a ChangeEffect ("tightening").
std::string_view to_string(ChangeEffect e) noexcept;

/// PolicyChange is one classified change. The ids it concerns are set, the rest empty.
struct PolicyChange {
  PolicyChangeKind kind = PolicyChangeKind::field_added;
  ChangeEffect effect = ChangeEffect::neutral;
  std::string field;
  std::string purpose;
  std::string accessor;
  std::string source;
  std::string from;  ///< the old value where one is shown (a form, a type, a duration), else "";
                     ///< for a change of wording, what changed ("label", "description")
  std::string to;    ///< the new value likewise
  /// renew_consent names the consent-based purposes (of the new policy) whose earlier grants
  /// this change outdates: the purpose now uses a new field, a more revealing form, or keeps a
  /// value longer. Empty for every other change.
  std::vector<std::string> renew_consent;

  /// describe gives one line for people: "field 'email': form for 'analytics' widened
  /// (hash -> clear)". It names ids and policy spellings, never a value.
  std::string describe() const;
};

/// PolicyDiff is every change from one policy to another, purposes first, then accessors, then
/// the declared sources, then fields (in the new policy's order, removed ones after), then the
/// controller, then the default language. A change of wording (a label, a description, a declared
/// source, the default language) is neutral: it never outdates a consent.
struct PolicyDiff {
  std::vector<PolicyChange> changes;

  /// empty is true when the policies are the same.
  bool empty() const noexcept { return changes.empty(); }
  /// consent_to_renew gives the purposes whose earlier consents the changes outdate, sorted and
  /// without repeats.
  std::vector<std::string> consent_to_renew() const;
  /// of_effect gives the changes of one effect, in order.
  std::vector<const PolicyChange*> of_effect(ChangeEffect e) const;
};

/// diff_policies compares `from` with `to` and classifies every change. Pure; never fails.
/// A field, purpose or accessor is matched by its id; a field that changes type is one change,
/// not a removal and an addition.
PolicyDiff diff_policies(const Policy& from, const Policy& to);

}  // namespace consentry
