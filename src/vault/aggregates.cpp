// aggregates.cpp: differentially private aggregates over the customers a purpose may use, paid
// for from the purpose's privacy budget.
#include <charconv>
#include <cmath>
#include <limits>

#include "consentry/audit.hpp"
#include "consentry/decision.hpp"
#include "consentry/vault.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

constexpr double kMicro = 1e6;
/// kProgressEvery is how many customers private_aggregate decides between progress calls.
constexpr std::int64_t kProgressEvery = 1024;
/// kAggregateRun is how many customers private_aggregate reads from the store in one request.
constexpr std::size_t kAggregateRun = 256;

// The charge of `epsilon` in millionths, rounded up so that rounding never gives budget away.
std::int64_t micro_epsilon(double epsilon) {
  return static_cast<std::int64_t>(std::ceil(epsilon * kMicro));
}

double total_budget(const Purpose& p) {
  return p.privacy_budget.value_or(kDefaultPrivacyBudget);
}

std::int64_t micro_total(const Purpose& p) {
  // Rounded down: a budget of 0.3 allows 300,000 millionths and not one more.
  return static_cast<std::int64_t>(std::floor(total_budget(p) * kMicro));
}

std::string epsilon_text(double epsilon) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, epsilon);
  return ec == std::errc{} ? std::string(buf, end) : std::string("?");
}

error budget_spent(const Purpose& p, std::int64_t spent, double epsilon) {
  return make_error(errc::denied,
                    "purpose '" + p.id + "' cannot pay epsilon " + epsilon_text(epsilon) + ": " +
                        epsilon_text(static_cast<double>(spent) / kMicro) + " of its privacy budget " +
                        epsilon_text(total_budget(p)) + " is spent",
                    deny_reason::privacy_budget_spent);
}

}  // namespace

result<PrivacyBudget> Vault::privacy_budget(std::string_view purpose) const {
  const Impl& impl = *impl_;
  auto in_force = impl.latest_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  std::lock_guard lock(impl.store_mu);
  auto spent = impl.store->privacy_spent(purpose);
  if (!spent) return std::move(spent).err();
  return PrivacyBudget{p->id, total_budget(*p), static_cast<double>(*spent) / kMicro};
}

result<PrivateAnswer> Vault::private_aggregate(
    std::string_view purpose, std::string_view field, const AggregateQuery& query,
    const std::function<void(std::int64_t done, std::int64_t total)>& on_progress) {
  Impl& impl = *impl_;
  auto in_force = impl.latest_policy();
  if (!in_force) return std::move(in_force).err();
  const Purpose* p = (*in_force)->policy.purpose(purpose);
  if (!p)
    return make_error(errc::bad_input,
                      "purpose '" + std::string(purpose) + "' is not declared in the policy");
  const FieldSpec* spec = (*in_force)->policy.field(field);
  if (!spec)
    return make_error(errc::bad_input, "field '" + std::string(field) + "' is not declared in the policy");
  const std::string what = std::string(to_string(query.kind)) + " " + spec->name;
  if (!std::isfinite(query.epsilon) || query.epsilon < kMinEpsilon || query.epsilon > kMaxEpsilon)
    return make_error(errc::invalid_argument, "epsilon must be a number from 2^-30 to 2^20");

  // Refusals that need no customer data: no value is decrypted for a query that cannot run.
  std::optional<deny_reason> refused;
  std::string why;
  const Form* form = spec->form_for(purpose);
  const bool needs_values = query.kind != AggregateKind::count;
  if (!form) {
    refused = deny_reason::purpose_not_allowed_for_field;
    why = "the policy gives purpose '" + p->id + "' no form for field '" + spec->name + "'";
  } else if (needs_values && (spec->type != FieldType::integer || form->kind != FormKind::clear)) {
    refused = deny_reason::form_unavailable;
    why = std::string(to_string(query.kind)) + " needs an integer field that purpose '" + p->id +
          "' sees in clear; field '" + spec->name + "' is " + std::string(to_string(spec->type)) +
          " shown as " + form->to_string();
  }
  const std::int64_t charge = micro_epsilon(query.epsilon);
  AuditEntry e = impl.entry(AuditAction::aggregate_made, "", impl.options.actor, p->id);
  e.fields = {what};
  e.reason = epsilon_reason(epsilon_text(query.epsilon));
  auto deny = [&](deny_reason reason, error err) -> result<PrivateAnswer> {
    e.action = AuditAction::access_denied;
    e.allowed = false;
    e.reason = std::string(to_string(reason));
    CONSENTRY_TRY(impl.audit().record({std::move(e)}));
    return err;
  };
  if (refused) return deny(*refused, make_error(errc::denied, "aggregate refused: " + why, *refused));

  // An early look at the budget, so that a spent budget costs no decryption either; the charge
  // below checks again inside its transaction.
  std::int64_t spent_before = 0;
  {
    std::lock_guard lock(impl.store_mu);
    auto spent = impl.store->privacy_spent(p->id);
    if (!spent) return std::move(spent).err();
    spent_before = *spent;
  }
  if (spent_before + charge > micro_total(*p))
    return deny(deny_reason::privacy_budget_spent, budget_spent(*p, spent_before, query.epsilon));

  auto eligible = eligible_customers(p->id);
  if (!eligible) return std::move(eligible).err();
  std::vector<std::int64_t> values;
  {
    std::lock_guard lock(impl.store_mu);
    auto snapshot = ReadSnapshot::open(*impl.store);
    if (!snapshot) return std::move(snapshot).err();
    const timestamp now = impl.now();
    // Each customer is decided under the policy in force now; a version another process put in
    // force since the checks above applies.
    auto latest = impl.follow_policy();
    if (!latest) return std::move(latest).err();
    const Impl::PolicyInForce& deciding = **latest;
    const auto total = static_cast<std::int64_t>(eligible->size());
    std::int64_t decided = 0;
    // The value and the customer's manifest are read with the customer's consent history (and
    // their data key, unless cached), kAggregateRun customers in one request to the store (one
    // round trip to a server); each customer is still decided before anything of theirs is
    // opened. The value, or its absence, is checked against the manifest even for a count,
    // which a deleted row would change.
    const std::string_view wanted[] = {spec->name, kManifestField};
    std::vector<CustomerReadRequest> requests;
    std::vector<std::shared_ptr<const SecretBytes>> cached;
    for (std::size_t first = 0; first < eligible->size(); first += kAggregateRun) {
      const std::size_t end = std::min(eligible->size(), first + kAggregateRun);
      requests.clear();
      cached.clear();
      for (std::size_t i = first; i < end; ++i) {
        cached.push_back(impl.keys().share_data_key((*eligible)[i]));
        CustomerReadRequest request{(*eligible)[i], {}, cached.back() == nullptr, true, wanted, {}};
        request.in_snapshot = true;
        requests.push_back(request);
      }
      auto reads = impl.store->read_customers(requests);
      if (!reads) return std::move(reads).err();
      if (reads->size() != requests.size())
        return make_error(errc::internal, "read_customers: not one answer per customer");
      for (std::size_t i = first; i < end; ++i) {
        const std::string& customer = (*eligible)[i];
        CustomerRead& read = (*reads)[i - first];
        if (on_progress && decided % kProgressEvery == 0 && decided > 0) on_progress(decided, total);
        ++decided;
        const ConsentState state = ConsentState::from_history(read.history);
        if (!decide_for_purpose(deciding.policy, state, p->id, spec->name, now, &deciding.renewal).allowed)
          continue;
        const std::optional<StoredField> manifest = take_manifest(read.fields);
        const StoredField* stored = read.fields.empty() ? nullptr : &read.fields.front();
        // A key wrapped under a master key version another process added since this vault
        // loaded its own.
        if (read.key && impl.keyring().master_key(read.key->version) == nullptr)
          CONSENTRY_TRY(impl.follow_master_keys());
        auto key = impl.data_key_of(customer, read.key, std::move(cached[i - first]));
        if (!key) return std::move(key).err();
        auto listed = vouching_manifest(key->get(), customer, manifest, stored != nullptr);
        if (!listed) return std::move(listed).err();
        if (*listed) CONSENTRY_TRY((*listed)->check(spec->name, stored));
        if (!stored) continue;
        if (spec->retention && spec->retention->after(stored->collected_at) <= now) continue;
        if (!needs_values) {
          values.push_back(0);
          continue;
        }
        auto plain = open_field(**key, customer, spec->name, stored->sealed, stored->format,
                                FieldMetadata{stored->source, stored->collected_at});
        if (!plain) return std::move(plain).err();
        const std::string_view text = plain->reveal_string();
        std::int64_t v = 0;
        const auto [end_of, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
        if (ec != std::errc{} || end_of != text.data() + text.size())
          return make_error(errc::integrity,
                            "a stored value of integer field '" + spec->name + "' is not an integer");
        values.push_back(v);
      }
    }
    if (on_progress) on_progress(decided, total);
  }

  // The answer is drawn before it is paid for, and leaves the library only once paid: a failure
  // to charge releases nothing.
  RandomSource& rng = impl.options.random ? *impl.options.random : system_random();
  auto answer = consentry::private_aggregate(query, values, rng);
  if (!answer) return answer;

  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  auto spent = impl.store->privacy_spent(p->id);
  if (!spent) return std::move(spent).err();
  std::vector<AuditEntry> entries{std::move(e)};
  if (*spent + charge > micro_total(*p)) {
    // Another process spent the budget since the early look.
    entries.back().action = AuditAction::access_denied;
    entries.back().allowed = false;
    entries.back().reason = std::string(to_string(deny_reason::privacy_budget_spent));
    if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
    CONSENTRY_TRY(txn->commit());
    return budget_spent(*p, *spent, query.epsilon);
  }
  auto charged = impl.store->append_privacy_spend(PrivacySpend{0, p->id, what, charge, impl.now()});
  if (!charged) return std::move(charged).err();
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  CONSENTRY_TRY(txn->commit());
  return answer;
}

}  // namespace consentry
