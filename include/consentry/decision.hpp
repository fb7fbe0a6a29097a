// decision.hpp: decide(), the pure function that allows a field in a form or denies it,
// decide_write(), which allows a value to be written or denies it, and contact_refusal(), which
// allows a contact with a customer or refuses it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/consent.hpp"
#include "consentry/contact.hpp"
#include "consentry/form.hpp"
#include "consentry/policy.hpp"
#include "consentry/result.hpp"
#include "consentry/time.hpp"

namespace consentry {

/// Decision is allow(form) or deny(reason).
struct Decision {
  bool allowed = false;
  Form form{};
  deny_reason reason = deny_reason::none;

  static Decision allow(Form f) noexcept { return {true, f, deny_reason::none}; }
  static Decision deny(deny_reason r) noexcept { return {false, Form{}, r}; }
};

/// basis_allows applies a purpose's lawful basis to the customer's position on it: consent needs
/// a live grant; legitimate interest and public task allow unless the customer objected
/// (Art. 21); contract, legal obligation and vital interest allow what the policy lists.
inline Decision basis_allows(Basis basis, ConsentStatus status, Form form) noexcept {
  switch (basis) {
    case Basis::consent:
      switch (status) {
        case ConsentStatus::granted: return Decision::allow(form);
        case ConsentStatus::none: return Decision::deny(deny_reason::no_consent);
        case ConsentStatus::withdrawn: return Decision::deny(deny_reason::withdrawn);
        case ConsentStatus::expired: return Decision::deny(deny_reason::expired);
        case ConsentStatus::objected: return Decision::deny(deny_reason::objected);
      }
      return Decision::deny(deny_reason::no_consent);
    case Basis::legitimate_interest:
    case Basis::public_task:
      return status == ConsentStatus::objected ? Decision::deny(deny_reason::objected)
                                               : Decision::allow(form);
    case Basis::contract:
    case Basis::legal_obligation:
    case Basis::vital_interest: return Decision::allow(form);
  }
  return Decision::deny(deny_reason::no_consent);
}

/// ConsentRenewal says, for each purpose resting on consent whose use a policy version widened
/// (a new field, a more revealing form, a longer retention), the version from which grants
/// count: a grant recorded under an earlier version was given for less than the purpose now
/// uses, and reads as consent_outdated until the customer grants again. Empty when no version
/// widened a consent-based purpose.
struct ConsentRenewal {
  /// since holds (purpose, version) pairs, sorted by purpose, one per purpose.
  std::vector<std::pair<std::string, std::int64_t>> since;

  /// required gives the version from which grants of `purpose` count; 0 for no requirement.
  std::int64_t required(std::string_view purpose) const noexcept {
    auto it = std::lower_bound(since.begin(), since.end(), purpose, [](const auto& e, std::string_view p) {
      return std::string_view(e.first) < p;
    });
    return it != since.end() && it->first == purpose ? it->second : 0;
  }
  /// outdated is true when `grant`, the deciding event of its purpose, was recorded under a
  /// version older than required() (an event recorded before versions were kept counts as 1).
  bool outdated(const ConsentEvent& grant) const noexcept {
    return grant.action == ConsentAction::grant &&
           std::max<std::int64_t>(grant.policy_version, 1) < required(grant.purpose);
  }
  /// outdated_position is outdated() for a grant known only by its purpose and version.
  bool outdated_position(std::string_view purpose, std::int64_t policy_version) const noexcept {
    return std::max<std::int64_t>(policy_version, 1) < required(purpose);
  }
  /// add records that `version` widened `purpose`: grants before it no longer count.
  void add(std::string_view purpose, std::int64_t version) {
    auto it = std::lower_bound(since.begin(), since.end(), purpose, [](const auto& e, std::string_view p) {
      return std::string_view(e.first) < p;
    });
    if (it != since.end() && it->first == purpose)
      it->second = std::max(it->second, version);
    else
      since.insert(it, {std::string(purpose), version});
  }
};

namespace detail {
/// decide_declared is what decide() and decide_for_purpose() share, once `purpose` is known to be
/// declared at position `p` of policy.purposes(): field, form, profiling, basis.
inline Decision decide_declared(const Policy& policy, std::size_t p, const ConsentState& state,
                                std::string_view purpose, std::string_view field, timestamp now,
                                const ConsentRenewal* renewal) {
  const std::size_t f = policy.field_index(field);
  if (f == Policy::kNoIndex) return Decision::deny(deny_reason::unknown_field);
  const Form* form = policy.form_at(f, p);
  if (!form) return Decision::deny(deny_reason::purpose_not_allowed_for_field);
  if (policy.fields()[f].is_inferred() &&
      state.status(Policy::kProfilingPurpose, now) != ConsentStatus::granted)
    return Decision::deny(deny_reason::inference_needs_profiling);
  const Basis basis = policy.purposes()[p].basis;
  const ConsentStatus status = state.status(purpose, now);
  if (renewal && basis == Basis::consent && status == ConsentStatus::granted) {
    const ConsentEvent* grant = state.last(purpose);
    if (grant && renewal->outdated(*grant)) return Decision::deny(deny_reason::consent_outdated);
  }
  return basis_allows(basis, status, *form);
}
}  // namespace detail

/// decide_for_purpose is decide() without an accessor: whether `purpose` may use `field` of the
/// customer whose consent position is `state`, at `now`, and in which form. For work the vault
/// does for a purpose as a whole (private aggregates), where no accessor sees a value. With
/// `renewal`, a grant it calls outdated denies with consent_outdated.
inline Decision decide_for_purpose(const Policy& policy, const ConsentState& state, std::string_view purpose,
                                   std::string_view field, timestamp now,
                                   const ConsentRenewal* renewal = nullptr) {
  const std::size_t p = policy.purpose_index(purpose);
  if (p == Policy::kNoIndex) return Decision::deny(deny_reason::unknown_purpose);
  return detail::decide_declared(policy, p, state, purpose, field, now, renewal);
}

/// decision_reads_ledger is false when no consent position can change what decide() says for
/// `purpose` and `field`: the purpose rests on contract, legal obligation or vital interest, and
/// the field is not inferred (which needs a live profiling consent). True otherwise, and for a
/// purpose or field the policy does not declare. A caller may then skip reading the ledger and
/// decide with an empty ConsentState.
inline bool decision_reads_ledger(const Policy& policy, std::string_view purpose, std::string_view field) {
  const Purpose* p = policy.purpose(purpose);
  const FieldSpec* f = policy.field(field);
  if (!p || !f || f->is_inferred()) return true;
  return p->basis == Basis::consent || p->basis == Basis::legitimate_interest ||
         p->basis == Basis::public_task;
}

/// decide says whether `accessor`, acting for `purpose`, may read `field` of the customer whose
/// consent position is `state`, at `now`, and in which form. Purposes match exactly. Pure: it
/// reads nothing but its arguments. Denies by default, in this order: unknown purpose, accessor
/// not registered for it, unknown field, no form for the purpose, inferred field without a live
/// profiling consent, a live grant that `renewal` (when given) calls outdated (consent_outdated),
/// then the purpose's basis.
inline Decision decide(const Policy& policy, const ConsentState& state, std::string_view accessor,
                       std::string_view purpose, std::string_view field, timestamp now,
                       const ConsentRenewal* renewal = nullptr) {
  const std::size_t p = policy.purpose_index(purpose);
  if (p == Policy::kNoIndex) return Decision::deny(deny_reason::unknown_purpose);
  if (!policy.accessor_permits(policy.accessor_index(accessor), p))
    return Decision::deny(deny_reason::accessor_not_registered);
  return detail::decide_declared(policy, p, state, purpose, field, now, renewal);
}

/// decide_write says whether a value of `field` from `source` may be written for a customer
/// whose consent to Policy::kProfilingPurpose stands at `profiling` at the time of the write.
/// Pure: it reads nothing but its arguments. Denies in this order: a field the policy does not
/// declare (unknown_field), a source the field's `sources` does not list when it lists any
/// (source_not_permitted), an inferred field without a granted profiling consent
/// (inference_needs_profiling). An allow carries no form.
inline Decision decide_write(const Policy& policy, std::string_view field, std::string_view source,
                             ConsentStatus profiling) {
  const FieldSpec* spec = policy.field(field);
  if (!spec) return Decision::deny(deny_reason::unknown_field);
  if (!spec->sources.empty() &&
      std::find(spec->sources.begin(), spec->sources.end(), source) == spec->sources.end())
    return Decision::deny(deny_reason::source_not_permitted);
  if (spec->is_inferred() && profiling != ConsentStatus::granted)
    return Decision::deny(deny_reason::inference_needs_profiling);
  return Decision::allow(Form{});
}

/// contact_refusal decides whether a contact on `channel` for `purpose` may be made at `now`:
/// nullopt when it may; deny_reason::no_consent when the purpose rests on consent that is not
/// live, when the customer objected to it, or when they opted out of the channel;
/// deny_reason::contact_limit when the policy's limit or the customer's own limit for the
/// purpose is reached. A limit counts the customer's contacts for the purpose, on any channel,
/// in the sliding window (now - per, now]: a contact exactly `per` before now no longer counts.
/// `contacts` and `preferences` are the customer's, in log order.
inline std::optional<deny_reason> contact_refusal(const Purpose& purpose, const ConsentState& consent,
                                                  const std::vector<ContactPreference>& preferences,
                                                  const std::vector<ContactEvent>& contacts,
                                                  std::string_view channel, timestamp now) {
  const ConsentStatus status = consent.status(purpose.id, now);
  if (purpose.basis == Basis::consent && status != ConsentStatus::granted) return deny_reason::no_consent;
  if (status == ConsentStatus::objected) return deny_reason::no_consent;
  bool opted_out = false;
  const ContactPreference* own_limit = nullptr;
  for (const ContactPreference& p : preferences) {
    if (p.kind == ContactPreferenceKind::limit && p.purpose == purpose.id) own_limit = &p;
    if (p.kind != ContactPreferenceKind::limit && p.channel == channel)
      opted_out = p.kind == ContactPreferenceKind::opt_out;
  }
  if (opted_out) return deny_reason::no_consent;
  auto reached = [&](int max, const IsoDuration& per) {
    const timestamp since = per.before(now);
    std::int64_t made = 0;
    for (const ContactEvent& c : contacts)
      if (c.purpose == purpose.id && c.at > since && c.at <= now) ++made;
    return made >= max;
  };
  if (purpose.contact_limit && reached(purpose.contact_limit->max, purpose.contact_limit->per))
    return deny_reason::contact_limit;
  if (own_limit && reached(own_limit->max, own_limit->per)) return deny_reason::contact_limit;
  return std::nullopt;
}

}  // namespace consentry
