// policy_versions.cpp: the versions of a vault's policy and Vault::update_policy. Each version
// is a metadata row "policy.v<N>.sealed", sealed under the policy key with the row's name as
// associated data, holding the version's number, time, actor and canonical JSON;
// and the consents its widenings (and those before it) outdated (ConsentRenewal);
// "policy.version" names the one in force, whose text is also in kMetaPolicy (what open reads).
// A vault written before versions were kept has neither row: its policy is version 1, and the
// first update records it as such.
#include <sodium.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <shared_mutex>

#include "consentry/decision.hpp"
#include "crypto/aead.hpp"
#include "encoding/framing.hpp"
#include "text/hex.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

constexpr std::uint8_t kRecordFormat = 1;

std::string version_row(std::int64_t number) {
  return "policy.v" + std::to_string(number) + ".sealed";
}

// VersionRecord is a version as stored: its description, its policy's canonical JSON, and the
// consents outdated when it took effect.
struct VersionRecord {
  PolicyVersion version;
  std::string text;
  ConsentRenewal renewal;
};

std::string policy_hash(std::string_view text) {
  bytes digest(crypto_generichash_BYTES);
  crypto_generichash(digest.data(), digest.size(), reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  return detail::hex_encode(digest);
}

bytes encode_record(std::int64_t number, std::optional<timestamp> at, std::string_view actor,
                    std::string_view text, const ConsentRenewal& renewal) {
  bytes out;
  out.push_back(kRecordFormat);
  detail::put_be64(out, static_cast<std::uint64_t>(number));
  out.push_back(at ? 1 : 0);
  detail::put_be64(out, static_cast<std::uint64_t>(at ? at->time_since_epoch().count() : 0));
  detail::put_framed(out, as_bytes(actor), "policy version actor");
  detail::put_framed(out, as_bytes(text), "policy text");
  detail::put_be32(out, detail::frame_length(renewal.since.size(), "consent renewals"));
  for (const auto& [purpose, since] : renewal.since) {
    detail::put_framed(out, as_bytes(purpose), "consent renewal purpose");
    detail::put_be64(out, static_cast<std::uint64_t>(since));
  }
  return out;
}

error damaged(std::int64_t number) {
  return make_error(errc::integrity, "policy version " + std::to_string(number) + " is damaged");
}

result<VersionRecord> decode_record(byte_view in, std::int64_t number) {
  std::size_t at = 0;
  auto take = [&](std::size_t n) -> const std::uint8_t* {
    if (in.size() - at < n) return nullptr;
    const std::uint8_t* p = in.data() + at;
    at += n;
    return p;
  };
  auto framed = [&](std::string& out) {
    const std::uint8_t* len = take(4);
    if (!len) return false;
    const std::uint8_t* p = take(detail::load_be32(len));
    if (!p) return false;
    out.assign(reinterpret_cast<const char*>(p), detail::load_be32(len));
    return true;
  };
  VersionRecord r;
  const std::uint8_t* head = take(1 + 8 + 1 + 8);
  if (!head || head[0] != kRecordFormat) return damaged(number);
  r.version.number = static_cast<std::int64_t>(detail::load_be64(head + 1));
  if (r.version.number != number || head[9] > 1) return damaged(number);
  if (head[9] == 1)
    r.version.at = timestamp(std::chrono::seconds(static_cast<std::int64_t>(detail::load_be64(head + 10))));
  if (!framed(r.version.actor) || !framed(r.text)) return damaged(number);
  const std::uint8_t* count = take(4);
  if (!count) return damaged(number);
  for (std::uint32_t i = 0, n = detail::load_be32(count); i < n; ++i) {
    std::string purpose;
    if (!framed(purpose)) return damaged(number);
    const std::uint8_t* since = take(8);
    if (!since) return damaged(number);
    r.renewal.add(purpose, static_cast<std::int64_t>(detail::load_be64(since)));
  }
  if (at != in.size()) return damaged(number);
  r.version.hash = policy_hash(r.text);
  return r;
}

result<void> put_version(Store& store, const Keyring& keyring, std::int64_t number,
                         std::optional<timestamp> at, std::string_view actor, std::string_view text,
                         const ConsentRenewal& renewal = {}) {
  const std::string row = version_row(number);
  const bytes plain = encode_record(number, at, actor, text, renewal);
  auto sealed = aead::seal(keyring.derive_key(kPolicyKeyLabel), plain, aead::associated_data({row}));
  if (!sealed) return std::move(sealed).err();
  return store.put_meta(row, *sealed);
}

// current_text reads the policy in force from kMetaPolicy.
result<std::string> current_text(Store& store, const Keyring& keyring) {
  auto sealed = store.get_meta(kMetaPolicy);
  if (!sealed) return std::move(sealed).err();
  if (!*sealed)
    return make_error(errc::integrity, "vault metadata '" + std::string(kMetaPolicy) + "' is missing");
  auto text = aead::open(keyring.derive_key(kPolicyKeyLabel), **sealed, aead::associated_data({kMetaPolicy}));
  if (!text) return make_error(errc::integrity, "the vault's policy failed authentication");
  return text->reveal_string();
}

// get_version reads version `number`; version 1 of a vault written before versions were kept is
// its policy in force, with no time or actor. errc::not_found beyond the current version.
result<VersionRecord> get_version(Store& store, const Keyring& keyring, std::int64_t number) {
  auto current = stored_policy_version(store);
  if (!current) return std::move(current).err();
  if (number < 1 || number > *current)
    return make_error(errc::not_found, "the vault has no policy version " + std::to_string(number) +
                                           " (the current version is " + std::to_string(*current) + ")");
  const std::string row = version_row(number);
  auto sealed = store.get_meta(row);
  if (!sealed) return std::move(sealed).err();
  if (!*sealed) {
    if (number != 1 || *current != 1) return damaged(number);
    auto text = current_text(store, keyring);
    if (!text) return std::move(text).err();
    VersionRecord r;
    r.version.hash = policy_hash(*text);
    r.text = std::move(*text);
    return r;
  }
  auto plain = aead::open(keyring.derive_key(kPolicyKeyLabel), **sealed, aead::associated_data({row}));
  if (!plain)
    return make_error(errc::integrity, "policy version " + std::to_string(number) + " failed authentication");
  return decode_record(plain->reveal(), number);
}

// held_fields gives those of `fields` that hold a value for some customer, with their counts.
result<std::vector<std::pair<std::string, std::int64_t>>> held_fields(
    Store& store, const std::vector<std::string>& fields) {
  auto counts = store.field_counts();
  if (!counts) return std::move(counts).err();
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (auto& [field, n] : *counts)
    if (n > 0 && std::find(fields.begin(), fields.end(), field) != fields.end()) out.emplace_back(field, n);
  return out;
}

}  // namespace

result<ConsentRenewal> stored_consent_renewal(Store& store, const Keyring& keyring, std::int64_t version) {
  if (version <= 1) return ConsentRenewal{};
  auto r = get_version(store, keyring, version);
  if (!r) return std::move(r).err();
  return std::move(r->renewal);
}

namespace {

// policy_version_of reads the version number the meta row kMetaPolicyVersion holds (1 for a
// vault from before policy versions, which has none); errc::integrity for a damaged row.
result<std::int64_t> policy_version_of(const std::optional<bytes>& row) {
  if (!row) return std::int64_t{1};
  const char* first = reinterpret_cast<const char*>(row->data());
  const char* last = first + row->size();
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(first, last, n);
  if (ec != std::errc() || end != last || n < 1)
    return make_error(errc::integrity, "vault metadata '" + std::string(kMetaPolicyVersion) + "' is damaged");
  return n;
}

}  // namespace

result<std::int64_t> stored_policy_version(Store& store) {
  auto row = store.get_meta(kMetaPolicyVersion);
  if (!row) return std::move(row).err();
  return policy_version_of(*row);
}

result<void> write_first_policy_version(Store& store, const Keyring& keyring, const Policy& policy,
                                        timestamp at, std::string_view actor) {
  CONSENTRY_TRY(put_version(store, keyring, 1, at, actor, policy.to_json()));
  return store.put_meta(kMetaPolicyVersion, as_bytes("1"));
}

void Vault::Impl::install_policy(Policy p, std::int64_t version, ConsentRenewal renewal) const {
  std::lock_guard lock(policies_mu_);
  policies_.push_back(
      std::make_unique<const PolicyInForce>(PolicyInForce{std::move(p), version, std::move(renewal)}));
  in_force_.store(policies_.back().get(), std::memory_order_release);
}

result<const Vault::Impl::PolicyInForce*> Vault::Impl::follow_policy() const {
  auto data_version = store->data_version();
  if (!data_version) return std::move(data_version).err();
  // Nothing committed elsewhere since the last look: the version row cannot have changed, and
  // this vault's own updates install themselves.
  if (*data_version && seen_data_version_ == *data_version) return &in_force();
  auto current = stored_policy_version(*store);
  if (!current) return std::move(current).err();
  if (*current != policy_version()) {
    // Read as open reads it: the text in force, authenticated and parsed, and its renewals.
    auto text = current_text(*store, keyring());
    if (!text) return std::move(text).err();
    auto policy = Policy::parse(*text, "vault policy");
    if (!policy) return make_error(errc::integrity, policy.err().message);
    auto renewal = stored_consent_renewal(*store, keyring(), *current);
    if (!renewal) return std::move(renewal).err();
    install_policy(std::move(*policy), *current, std::move(*renewal));
  }
  seen_data_version_ = *data_version;
  return &in_force();
}

result<std::optional<Vault::Impl::CustomerInForce>> Vault::Impl::read_customer_on(
    Store& reader, CustomerReadRequest request) const {
  request.meta = kMetaPolicyVersion;
  auto read = reader.read_customer(request);
  if (!read) return std::move(read).err();
  return in_force_for(std::move(*read));
}

result<std::optional<Vault::Impl::CustomerInForce>> Vault::Impl::in_force_for(CustomerRead read) const {
  auto stored = policy_version_of(read.meta);
  if (!stored) return std::move(stored).err();
  // The version in force in the state this read saw is the one this vault follows (versions
  // are never rewritten, and other processes' ledger and data writes do not change it).
  const PolicyInForce& now = in_force();
  if (*stored != now.version || (read.key && keyring_.master_key(read.key->version) == nullptr))
    return std::optional<CustomerInForce>();
  return std::optional<CustomerInForce>(CustomerInForce{&now, std::move(read)});
}

result<Vault::Impl::CustomerInForce> Vault::Impl::read_customer(CustomerReadRequest request) const {
  {
    request.in_snapshot = false;
    auto got = read_customer_on(*store, request);
    if (!got) return std::move(got).err();
    if (*got) return std::move(**got);
  }
  auto snapshot = ReadSnapshot::open(*store);
  if (!snapshot) return std::move(snapshot).err();
  return read_customer_following(request);
}

result<Vault::Impl::CustomerInForce> Vault::Impl::read_customer_following(CustomerReadRequest request) const {
  request.meta = {};
  auto latest = follow_policy();
  if (!latest) return std::move(latest).err();
  auto read = store->read_customer_parts(request);
  if (!read) return std::move(read).err();
  // A key wrapped under a master key version another process added since this vault loaded its own.
  if (read->key && keyring_.master_key(read->key->version) == nullptr) CONSENTRY_TRY(follow_master_keys());
  return CustomerInForce{*latest, std::move(*read)};
}

result<const Vault::Impl::PolicyInForce*> Vault::Impl::latest_policy() const {
  // On a reader beside other reads, when the version stored is the one in force (versions are
  // never rewritten); else, to follow another process's version, with the store held alone.
  if (ReaderPool::Lease reader = readers().lease()) {
    std::shared_lock lock(store_mu);
    auto stored = stored_policy_version(*reader.store());
    if (!stored) return std::move(stored).err();
    if (const PolicyInForce& now = in_force(); *stored == now.version) return &now;
  }
  std::lock_guard lock(store_mu);
  auto snapshot = ReadSnapshot::open(*store);
  if (!snapshot) return std::move(snapshot).err();
  return follow_policy();
}

std::int64_t Vault::policy_version() const {
  // A version another process put in force since is followed; should the store fail, the
  // version this vault last saw is the answer.
  auto latest = impl_->latest_policy();
  return latest ? (*latest)->version : impl_->policy_version();
}

result<std::vector<PolicyVersion>> Vault::policy_versions() const {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.store_mu);
  auto snapshot = ReadSnapshot::open(*impl.store);
  if (!snapshot) return std::move(snapshot).err();
  auto current = stored_policy_version(*impl.store);
  if (!current) return std::move(current).err();
  std::vector<PolicyVersion> out;
  for (std::int64_t n = 1; n <= *current; ++n) {
    auto r = get_version(*impl.store, impl.keyring(), n);
    if (!r) return std::move(r).err();
    out.push_back(std::move(r->version));
  }
  return out;
}

result<Policy> Vault::Impl::policy_version(std::int64_t number) const {
  auto r = get_version(*store, keyring(), number);
  if (!r) return std::move(r).err();
  auto policy = Policy::parse(r->text, "policy version " + std::to_string(number));
  if (!policy) return make_error(errc::integrity, policy.err().message);
  return std::move(*policy);
}

result<Policy> Vault::policy_at(std::int64_t number) const {
  Impl& impl = *impl_;
  std::lock_guard lock(impl.store_mu);
  auto snapshot = ReadSnapshot::open(*impl.store);
  if (!snapshot) return std::move(snapshot).err();
  return impl.policy_version(number);
}

result<PolicyUpdate> Vault::update_policy(const Policy& to, PolicyUpdateOptions options) {
  Impl& impl = *impl_;
  if (options.batch == 0) return make_error(errc::invalid_argument, "update_policy: batch is 0");
  const Policy& from = impl.policy();
  PolicyUpdate out;
  out.diff = diff_policies(from, to);
  if (out.diff.empty()) {
    auto versions = policy_versions();
    if (!versions) return std::move(versions).err();
    out.version = versions->back();
    return out;
  }
  // Fields whose stored values the new policy no longer fits: removed, or of another type.
  std::vector<std::string> unfit;
  for (const PolicyChange& c : out.diff.changes)
    if (c.kind == PolicyChangeKind::field_removed || c.kind == PolicyChangeKind::field_type_changed)
      unfit.push_back(c.field);
  auto refuse_held = [&](const std::vector<std::pair<std::string, std::int64_t>>& held) -> error {
    std::string names;
    for (const auto& [field, n] : held)
      names += (names.empty() ? "" : ", ") + ("'" + field + "' (" + std::to_string(n) + " customers)");
    return make_error(errc::invalid_argument,
                      "the new policy removes or retypes fields that still hold values: " + names +
                          "; ask for purge_removed (--purge-removed) to delete those values with the change");
  };
  if (!unfit.empty()) {
    std::vector<std::pair<std::string, std::int64_t>> held;
    {
      std::lock_guard lock(impl.store_mu);
      auto h = held_fields(*impl.store, unfit);
      if (!h) return std::move(h).err();
      held = std::move(*h);
    }
    if (!held.empty() && !options.purge_removed) return refuse_held(held);
    for (const auto& [field, count] : held) {
      std::string after;
      for (;;) {
        std::lock_guard lock(impl.store_mu);
        auto txn = Transaction::start(*impl.store);
        if (!txn) return std::move(txn).err();
        auto rows = impl.store->fields_collected_before(field, timestamp::max(), after, options.batch);
        if (!rows) return std::move(rows).err();
        if (rows->empty()) break;
        after = rows->back().customer;
        std::vector<AuditEntry> entries;
        for (const Store::FieldTime& row : *rows) {
          CONSENTRY_TRY(impl.store->delete_field(row.customer, field));
          CONSENTRY_TRY(unlist_values(*impl.store, impl.data_key(row.customer), row.customer, {field}));
          if (!impl.audit().enabled()) continue;
          AuditEntry e = impl.entry(AuditAction::purge, row.customer, impl.options.actor, "");
          e.reason = std::string(to_string(PurgeReason::policy_field_removed));
          e.fields = {field};
          entries.push_back(std::move(e));
        }
        // The deletions and their entries commit together or not at all.
        CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
        CONSENTRY_TRY(txn->commit());
        out.values_purged += static_cast<std::int64_t>(rows->size());
      }
    }
  }

  const std::string text = to.to_json();
  std::int64_t number = 0;
  ConsentRenewal renewal;
  {
    std::lock_guard lock(impl.store_mu);
    auto txn = Transaction::start(*impl.store);
    if (!txn) return std::move(txn).err();
    auto current = stored_policy_version(*impl.store);
    if (!current) return std::move(current).err();
    if (*current != impl.policy_version())
      return make_error(errc::io,
                        "the vault's policy was changed elsewhere (now version " + std::to_string(*current) +
                            ") since this vault opened; open it again and compare with that version");
    // A value of a field the change removes, written since the purge, would be orphaned.
    if (!unfit.empty()) {
      auto held = held_fields(*impl.store, unfit);
      if (!held) return std::move(held).err();
      if (!held->empty()) return refuse_held(*held);
    }
    const Keyring& keyring = impl.keyring();
    if (*current == 1) {
      // A vault written before versions were kept: its first policy becomes version 1.
      auto first = impl.store->get_meta(version_row(1));
      if (!first) return std::move(first).err();
      if (!*first) {
        auto old_text = current_text(*impl.store, keyring);
        if (!old_text) return std::move(old_text).err();
        CONSENTRY_TRY(put_version(*impl.store, keyring, 1, std::nullopt, "", *old_text));
      }
    }
    number = *current + 1;
    const timestamp at = impl.now();
    // Grants made before this version no longer count for the purposes it widens.
    renewal = impl.in_force().renewal;
    for (const std::string& purpose : out.diff.consent_to_renew()) renewal.add(purpose, number);
    CONSENTRY_TRY(put_version(*impl.store, keyring, number, at, impl.options.actor, text, renewal));
    auto sealed =
        aead::seal(keyring.derive_key(kPolicyKeyLabel), as_bytes(text), aead::associated_data({kMetaPolicy}));
    if (!sealed) return std::move(sealed).err();
    CONSENTRY_TRY(impl.store->put_meta(kMetaPolicy, *sealed));
    CONSENTRY_TRY(impl.store->put_meta(kMetaPolicyVersion, as_bytes(std::to_string(number))));
    // Blind indexes the new version adds, resizes or drops are built after this commits; until
    // then a search by those fields is refused rather than answered from a partial index.
    std::vector<std::string> reindexed;
    for (const FieldSpec& f : to.fields()) {
      const FieldSpec* was = from.field(f.name);
      const bool indexed = f.is_indexed(), was_indexed = was && was->is_indexed();
      if (indexed != was_indexed || (indexed && was->lookup_bits != f.lookup_bits))
        reindexed.push_back(f.name);
    }
    for (const FieldSpec& f : from.fields())
      if (f.is_indexed() && !to.field(f.name)) reindexed.push_back(f.name);
    CONSENTRY_TRY(ask_lookup_reindex(*impl.store, reindexed));
    std::vector<AuditEntry> entries;
    if (impl.audit().enabled()) {
      AuditEntry e = impl.entry(AuditAction::policy_change, "", impl.options.actor, "");
      e.reason = policy_version_reason(number);
      for (const PolicyChange& c : out.diff.changes) e.fields.push_back(c.describe());
      entries.push_back(std::move(e));
    }
    CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
    CONSENTRY_TRY(txn->commit());
    // Installed before store_mu is released: no read or write of this vault that takes the store
    // after the commit sees the older policy.
    impl.install_policy(to, number, renewal);
    out.version.number = number;
    out.version.hash = policy_hash(text);
    out.version.at = at;
    out.version.actor = impl.options.actor;
  }
  out.changed = true;
  auto reindexed = reindex_lookups(options.batch);
  if (!reindexed)
    return make_error(reindexed.err().code,
                      "the policy update is committed, but building its lookup indexes failed (" +
                          reindexed.err().message + "); run `consentry policy reindex` to finish them");
  out.customers_reindexed = *reindexed;
  // Deleted bytes leave the files, as after a purge.
  if (out.values_purged > 0) {
    std::lock_guard lock(impl.store_mu);
    if (auto compacted = impl.store->compact(); !compacted)
      return make_error(errc::io,
                        "the policy update is committed, but the vault files may still hold the deleted "
                        "bytes (" +
                            compacted.err().message + ") until the next erasure or purge compacts them");
  }
  return out;
}

}  // namespace consentry
