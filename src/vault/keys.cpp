// keys.cpp: the vault's master key versions: how they are stored and opened, re-sealed under a
// new passphrase or provider, rotated (data keys re-wrapped in resumable batches) and retired.
#include <algorithm>
#include <charconv>
#include <string>
#include <utility>

#include "consentry/anonymise/transform.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// Metadata rows of the master key versions. Each live version has a row "master.sealed.<v>"
// holding what the provider's seal() returned; "master.versions" lists the live versions and
// "master.current" names the one new data keys are wrapped under. The derivation root is
// wrapped under version "root.version". "rotation.cursor" exists only while a rotation runs: the
// last customer whose data key it re-wrapped ("" before the first batch).
constexpr std::string_view kMetaProvider = "keys.provider";
constexpr std::string_view kMetaCurrent = "master.current";
constexpr std::string_view kMetaVersions = "master.versions";
constexpr std::string_view kMetaSealedPrefix = "master.sealed.";
constexpr std::string_view kMetaRootVersion = "root.version";
constexpr std::string_view kMetaRootSealed = "root.sealed";
constexpr std::string_view kMetaRotationCursor = "rotation.cursor";

constexpr std::size_t kMaxShownKindBytes = 32;

bytes text_bytes(std::string_view s) {
  return bytes(s.begin(), s.end());
}

std::string sealed_key(std::uint32_t version) {
  return std::string(kMetaSealedPrefix) + std::to_string(version);
}

result<bytes> required_meta(Store& store, std::string_view key) {
  auto v = store.get_meta(key);
  if (!v) return std::move(v).err();
  if (!*v) return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is missing");
  return std::move(**v);
}

std::optional<std::uint32_t> parse_version(std::string_view text) {
  std::uint32_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || n == 0) return std::nullopt;
  return n;
}

result<std::uint32_t> required_version(Store& store, std::string_view key) {
  auto b = required_meta(store, key);
  if (!b) return std::move(b).err();
  auto v = parse_version(std::string_view(reinterpret_cast<const char*>(b->data()), b->size()));
  if (!v) return make_error(errc::integrity, "vault metadata '" + std::string(key) + "' is damaged");
  return *v;
}

std::string version_list(const std::vector<std::uint32_t>& versions) {
  std::string out;
  for (std::uint32_t v : versions) {
    if (!out.empty()) out += ',';
    out += std::to_string(v);
  }
  return out;
}

result<std::vector<std::uint32_t>> stored_versions(Store& store) {
  auto b = required_meta(store, kMetaVersions);
  if (!b) return std::move(b).err();
  const std::string text(b->begin(), b->end());
  std::vector<std::uint32_t> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    auto v = parse_version(std::string_view(text).substr(start, comma - start));
    if (!v || (!out.empty() && *v <= out.back()))
      return make_error(errc::integrity, "vault metadata 'master.versions' is damaged");
    out.push_back(*v);
    start = comma + 1;
  }
  return out;
}

// shown_kind quotes a provider kind read from the vault only when it looks like one, since the
// file could hold anything there.
std::string shown_kind(std::string_view kind) {
  if (kind.empty() || kind.size() > kMaxShownKindBytes) return "another kind of";
  for (char c : kind)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_')) return "another kind of";
  return "a '" + std::string(kind) + "'";
}

}  // namespace

result<void> store_keyring(Store& store, KeyProvider& provider, const Keyring& keyring) {
  for (std::uint32_t v : keyring.versions()) {
    auto sealed = provider.seal(v, *keyring.master_key(v));
    if (!sealed) return std::move(sealed).err();
    CONSENTRY_TRY(store.put_meta(sealed_key(v), *sealed));
  }
  auto root = keyring.seal_root(keyring.version());
  if (!root) return std::move(root).err();
  CONSENTRY_TRY(store.put_meta(kMetaProvider, text_bytes(provider.kind())));
  CONSENTRY_TRY(store.put_meta(kMetaVersions, text_bytes(version_list(keyring.versions()))));
  CONSENTRY_TRY(store.put_meta(kMetaCurrent, text_bytes(std::to_string(keyring.version()))));
  CONSENTRY_TRY(store.put_meta(kMetaRootVersion, text_bytes(std::to_string(keyring.version()))));
  return store.put_meta(kMetaRootSealed, *root);
}

result<Keyring> load_keyring(Store& store, KeyProvider& provider) {
  auto kind = required_meta(store, kMetaProvider);
  if (!kind) return std::move(kind).err();
  const std::string stored_kind(kind->begin(), kind->end());
  if (stored_kind != provider.kind())
    return make_error(errc::integrity, "the vault's master key is sealed by " + shown_kind(stored_kind) +
                                           " key provider, not a '" + provider.kind() + "' one");
  auto current = required_version(store, kMetaCurrent);
  if (!current) return std::move(current).err();
  auto versions = stored_versions(store);
  if (!versions) return std::move(versions).err();
  if (std::find(versions->begin(), versions->end(), *current) == versions->end())
    return make_error(errc::integrity, "vault metadata 'master.current' is damaged");
  // The current version opens first: a wrong passphrase or key file costs one attempt.
  std::stable_partition(versions->begin(), versions->end(), [&](std::uint32_t v) { return v == *current; });
  std::vector<Keyring::MasterKey> masters;
  for (std::uint32_t v : *versions) {
    auto sealed = required_meta(store, sealed_key(v));
    if (!sealed) return std::move(sealed).err();
    auto key = provider.open(v, *sealed);
    if (!key) return std::move(key).err();
    masters.push_back({v, std::move(*key)});
  }
  auto root_version = required_version(store, kMetaRootVersion);
  if (!root_version) return std::move(root_version).err();
  // The root is always sealed under the current version, so a disagreement is tampering.
  if (*root_version != *current)
    return make_error(errc::integrity, "vault metadata 'root.version' is damaged");
  auto root = required_meta(store, kMetaRootSealed);
  if (!root) return std::move(root).err();
  return Keyring::assemble(std::move(masters), *current, *root_version, *root);
}

result<MasterKeyStatus> Vault::master_key_status() const {
  const Impl& impl = *impl_;
  std::lock_guard lock(impl.store_mu);
  MasterKeyStatus status;
  status.provider = impl.provider->kind();
  status.current = impl.keyring.version();
  status.versions = impl.keyring.versions();
  auto counts = impl.store->data_key_versions();
  if (!counts) return std::move(counts).err();
  status.data_keys = std::move(*counts);
  auto cursor = impl.store->get_meta(kMetaRotationCursor);
  if (!cursor) return std::move(cursor).err();
  status.rotating = cursor->has_value();
  return status;
}

result<void> Vault::change_passphrase(std::string_view new_passphrase) {
  if (new_passphrase.empty()) return make_error(errc::invalid_argument, "the new passphrase is empty");
  return reseal_master_keys(std::make_shared<PassphraseKeyProvider>(new_passphrase, impl_->options.kdf));
}

result<void> Vault::reseal_master_keys(std::shared_ptr<KeyProvider> provider) {
  Impl& impl = *impl_;
  if (!provider) return make_error(errc::invalid_argument, "no key provider");
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.flush());
  std::lock_guard lock(impl.store_mu);
  // Sealing first: a provider that fails (a key file that cannot be written) changes nothing.
  std::vector<std::pair<std::uint32_t, bytes>> sealed;
  for (std::uint32_t v : impl.keyring.versions()) {
    auto s = provider->seal(v, *impl.keyring.master_key(v));
    if (!s) return std::move(s).err();
    sealed.emplace_back(v, std::move(*s));
  }
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  for (const auto& [v, s] : sealed) CONSENTRY_TRY(impl.store->put_meta(sealed_key(v), s));
  CONSENTRY_TRY(impl.store->put_meta(kMetaProvider, text_bytes(provider->kind())));
  if (impl.options.audit != AuditMode::off) {
    std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
    entries.back().reason = "master key versions re-sealed by a '" + provider->kind() + "' key provider";
    CONSENTRY_TRY(impl.append_in_transaction(entries));
  }
  CONSENTRY_TRY(txn->commit());
  impl.provider = std::move(provider);
  // The superseded sealed copies leave the WAL too, not only the main file.
  return impl.store->compact();
}

result<RotationReport> Vault::rotate_master_key(const RotationOptions& options) {
  Impl& impl = *impl_;
  if (options.batch == 0) return make_error(errc::invalid_argument, "the rotation batch size is 0");
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.flush());
  RotationReport report;
  {
    std::lock_guard lock(impl.store_mu);
    auto cursor = impl.store->get_meta(kMetaRotationCursor);
    if (!cursor) return std::move(cursor).err();
    report.resumed = cursor->has_value();
    if (!report.resumed) {
      // The new version is sealed (a key file saves its key material) before the vault refers
      // to it, and it becomes current in the same transaction that marks the rotation started.
      const std::uint32_t next = impl.keyring.add_version();
      auto started = [&]() -> result<void> {
        auto sealed = impl.provider->seal(next, *impl.keyring.master_key(next));
        if (!sealed) return std::move(sealed).err();
        auto root = impl.keyring.seal_root(next);
        if (!root) return std::move(root).err();
        auto txn = Transaction::start(*impl.store);
        if (!txn) return std::move(txn).err();
        CONSENTRY_TRY(impl.store->put_meta(sealed_key(next), *sealed));
        CONSENTRY_TRY(impl.store->put_meta(kMetaVersions, text_bytes(version_list(impl.keyring.versions()))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaCurrent, text_bytes(std::to_string(next))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRootVersion, text_bytes(std::to_string(next))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRootSealed, *root));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRotationCursor, bytes{}));
        return txn->commit();
      }();
      if (!started) {
        (void)impl.keyring.drop_version(next);
        return std::move(started).err();
      }
      CONSENTRY_TRY(impl.keyring.make_current(next));
    }
  }
  report.version = impl.keyring.version();

  std::size_t batches = 0;
  for (;;) {
    if (options.max_batches != 0 && batches == options.max_batches) return report;
    std::int64_t done = 0;
    {
      // The lock is taken per batch, so reads and writes go on between batches.
      std::lock_guard lock(impl.store_mu);
      Store& store = *impl.store;
      const std::uint32_t current = impl.keyring.version();
      auto txn = Transaction::start(store);
      if (!txn) return std::move(txn).err();
      auto cursor = store.get_meta(kMetaRotationCursor);
      if (!cursor) return std::move(cursor).err();
      if (!*cursor) {
        // Another process finished this rotation meanwhile.
        report.complete = true;
        return report;
      }
      const std::string after((*cursor)->begin(), (*cursor)->end());
      auto keys = store.data_keys_after(after, options.batch);
      if (!keys) return std::move(keys).err();
      if (keys->empty()) {
        // End of the walk. A process that opened the vault before the rotation started may
        // have wrapped a new key under an old version behind the cursor: walk again for those.
        auto counts = store.data_key_versions();
        if (!counts) return std::move(counts).err();
        const bool stragglers = std::any_of(counts->begin(), counts->end(), [&](const auto& c) {
          return c.first != current && c.second > 0;
        });
        if (stragglers) {
          CONSENTRY_TRY(store.put_meta(kMetaRotationCursor, bytes{}));
          CONSENTRY_TRY(txn->commit());
          continue;
        }
        CONSENTRY_TRY(store.delete_meta(kMetaRotationCursor));
        if (impl.options.audit != AuditMode::off) {
          std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
          entries.back().reason = "data keys re-wrapped under master key version " + std::to_string(current);
          CONSENTRY_TRY(impl.append_in_transaction(entries));
        }
        CONSENTRY_TRY(txn->commit());
        report.complete = true;
        return report;
      }
      for (const StoredKey& k : *keys) {
        if (k.version == current) continue;
        auto rewrapped = impl.keyring.rewrap_data_key(k.customer, k.version, k.wrapped);
        if (!rewrapped)
          return make_error(errc::integrity, "the data key of the customer with audit pseudonym " +
                                                 pseudonym(impl.audit_customer_key, k.customer) +
                                                 " failed authentication; the rotation stopped there");
        CONSENTRY_TRY(store.put_key(StoredKey{k.customer, current, std::move(*rewrapped)}));
        ++done;
      }
      CONSENTRY_TRY(store.put_meta(kMetaRotationCursor, text_bytes(keys->back().customer)));
      CONSENTRY_TRY(txn->commit());
    }
    report.rewrapped += done;
    ++batches;
    if (options.on_batch) options.on_batch(report.rewrapped);
  }
}

result<std::vector<std::uint32_t>> Vault::retire_master_keys(std::shared_ptr<KeyProvider> successor) {
  Impl& impl = *impl_;
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.flush());
  std::lock_guard lock(impl.store_mu);
  Store& store = *impl.store;
  const std::uint32_t current = impl.keyring.version();
  std::shared_ptr<KeyProvider> previous = impl.provider;
  if (!previous->retire_destroys_key() && !successor)
    return make_error(errc::invalid_argument,
                      "a '" + previous->kind() +
                          "' key provider cannot destroy old master key versions: retiring them needs a new "
                          "passphrase (or another provider) to seal the current version");
  auto cursor = store.get_meta(kMetaRotationCursor);
  if (!cursor) return std::move(cursor).err();
  if (*cursor)
    return make_error(errc::invalid_argument,
                      "a key rotation is unfinished: rotate again to finish it first");
  auto counts = store.data_key_versions();
  if (!counts) return std::move(counts).err();
  for (const auto& [version, count] : *counts) {
    if (version != current && count > 0)
      return make_error(errc::invalid_argument, std::to_string(count) +
                                                    " data keys are still wrapped under master key version " +
                                                    std::to_string(version) + ": rotate first");
  }
  std::vector<std::uint32_t> retired = impl.keyring.versions();
  retired.erase(std::remove(retired.begin(), retired.end(), current), retired.end());

  std::optional<bytes> resealed;
  if (successor) {
    auto s = successor->seal(current, *impl.keyring.master_key(current));
    if (!s) return std::move(s).err();
    resealed = std::move(*s);
  }
  {
    auto txn = Transaction::start(store);
    if (!txn) return std::move(txn).err();
    for (std::uint32_t v : retired) CONSENTRY_TRY(store.delete_meta(sealed_key(v)));
    CONSENTRY_TRY(store.put_meta(kMetaVersions, text_bytes(std::to_string(current))));
    if (resealed) {
      CONSENTRY_TRY(store.put_meta(sealed_key(current), *resealed));
      CONSENTRY_TRY(store.put_meta(kMetaProvider, text_bytes(successor->kind())));
    }
    if (impl.options.audit != AuditMode::off && (!retired.empty() || resealed)) {
      std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
      entries.back().reason =
          retired.empty() ? "master key re-sealed" : "master key versions retired: " + version_list(retired);
      CONSENTRY_TRY(impl.append_in_transaction(entries));
    }
    CONSENTRY_TRY(txn->commit());
  }
  for (std::uint32_t v : retired) (void)impl.keyring.drop_version(v);
  if (successor) impl.provider = std::move(successor);
  // Every version below the current one, not only those just dropped from the vault: a run
  // killed after its commit left the provider holding versions the vault no longer names.
  for (std::uint32_t v = 1; v < current; ++v) CONSENTRY_TRY(previous->retire(v));
  CONSENTRY_TRY(store.compact());
  return retired;
}

}  // namespace consentry
