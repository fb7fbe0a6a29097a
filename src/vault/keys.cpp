// keys.cpp: the vault's master key versions: how they are stored and opened, re-sealed under a
// new passphrase or provider, rotated (data keys re-wrapped in resumable batches) and retired.
#include <algorithm>
#include <charconv>
#include <map>
#include <optional>
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

// reload_keyring replaces `keyring` with the versions the store names, opened by `provider`.
// A secret that no longer opens them (re-sealed elsewhere under a new passphrase or key file)
// gives master_key_changed_error(); another derivation root is another vault's keys.
result<void> reload_keyring(Store& store, KeyProvider& provider, Keyring& keyring) {
  auto loaded = load_keyring(store, provider);
  if (!loaded) {
    if (loaded.err().code == errc::integrity) return master_key_changed_error();
    return std::move(loaded).err();
  }
  constexpr std::string_view kRootCheck = "consentry/root-check";
  if (!loaded->derive_key(kRootCheck).equals(keyring.derive_key(kRootCheck)))
    return make_error(errc::integrity, "the vault's key derivation root changed while the vault was open");
  keyring = std::move(*loaded);
  return ok();
}

}  // namespace

error master_key_changed_error() {
  return make_error(errc::io,
                    "the vault's master key changed while this command ran (another process rotated it, or "
                    "sealed it under a new passphrase or key file), and the secret the vault was opened with "
                    "does not open the new version; nothing was changed: run the command again");
}

result<void> Vault::Impl::follow_current_version() const {
  auto current = required_version(*store, kMetaCurrent);
  if (!current) return std::move(current).err();
  // The current version is always among the live ones, so it is still live.
  if (*current == keyring_.version()) return ok();
  return reload_keyring(*store, *provider_, keyring_);
}

result<void> Vault::Impl::follow_master_keys() const {
  auto current = required_version(*store, kMetaCurrent);
  if (!current) return std::move(current).err();
  auto live = stored_versions(*store);
  if (!live) return std::move(live).err();
  if (std::find(live->begin(), live->end(), *current) == live->end())
    return make_error(errc::integrity, "vault metadata 'master.current' is damaged");
  const bool all_held = std::all_of(live->begin(), live->end(),
                                    [&](std::uint32_t v) { return keyring_.master_key(v) != nullptr; });
  if (*current != keyring_.version() || !all_held) return reload_keyring(*store, *provider_, keyring_);
  // Only older versions were retired meanwhile: they leave this process's memory too.
  for (std::uint32_t v : keyring_.versions())
    if (std::find(live->begin(), live->end(), v) == live->end()) (void)keyring_.drop_version(v);
  return ok();
}

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
  // The versions as committed, read in one snapshot with the counts: another process may have
  // rotated or retired since this vault opened.
  auto snapshot = ReadSnapshot::open(*impl.store);
  if (!snapshot) return std::move(snapshot).err();
  MasterKeyStatus status;
  status.provider = impl.provider()->kind();
  auto current = required_version(*impl.store, kMetaCurrent);
  if (!current) return std::move(current).err();
  status.current = *current;
  auto versions = stored_versions(*impl.store);
  if (!versions) return std::move(versions).err();
  status.versions = std::move(*versions);
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
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  // Sealing first: a provider that fails (a key file that cannot be written) changes nothing,
  // and a new passphrase's Argon2id runs before the transaction holds the database.
  std::map<std::uint32_t, bytes> sealed;
  auto seal_held = [&]() -> result<void> {
    for (std::uint32_t v : impl.keyring().versions()) {
      if (sealed.count(v) != 0) continue;
      auto s = provider->seal(v, *impl.keyring().master_key(v));
      if (!s) return std::move(s).err();
      sealed.emplace(v, std::move(*s));
    }
    return ok();
  };
  CONSENTRY_TRY(seal_held());
  auto txn = Transaction::start(*impl.store);
  if (!txn) return std::move(txn).err();
  // Exactly the versions live as this transaction commits are re-sealed: another process may have
  // rotated since this vault opened (leaving a version sealed only under the old secret would
  // lock everyone out) or retired (a retired version must not come back). A version added
  // meanwhile is sealed here, cheaply: the provider reuses the key it derived above.
  CONSENTRY_TRY(impl.follow_master_keys());
  CONSENTRY_TRY(seal_held());
  for (std::uint32_t v : impl.keyring().versions())
    CONSENTRY_TRY(impl.store->put_meta(sealed_key(v), sealed.at(v)));
  CONSENTRY_TRY(impl.store->put_meta(kMetaProvider, text_bytes(provider->kind())));
  if (impl.audit().enabled()) {
    std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
    entries.back().reason = "master key versions re-sealed by a '" + provider->kind() + "' key provider";
    CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  }
  CONSENTRY_TRY(txn->commit());
  impl.use_provider(std::move(provider));
  // The superseded sealed copies leave the WAL too, not only the main file.
  return impl.store->compact();
}

result<RotationReport> Vault::rotate_master_key(const RotationOptions& options) {
  Impl& impl = *impl_;
  if (options.batch == 0) return make_error(errc::invalid_argument, "the rotation batch size is 0");
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  RotationReport report;
  {
    std::lock_guard lock(impl.store_mu);
    // Decided inside a write transaction, against the vault as committed: another process may
    // have started, finished or retired a rotation since this vault opened. Two processes
    // cannot both start one, and the new version is numbered above every live one.
    auto txn = Transaction::start(*impl.store);
    if (!txn) return std::move(txn).err();
    CONSENTRY_TRY(impl.follow_master_keys());
    auto cursor = impl.store->get_meta(kMetaRotationCursor);
    if (!cursor) return std::move(cursor).err();
    report.resumed = cursor->has_value();
    if (!report.resumed) {
      // The new version is sealed (a key file saves its key material) before the vault refers
      // to it, and it becomes current in the same transaction that marks the rotation started.
      const std::uint32_t next = impl.keyring().add_version();
      auto started = [&]() -> result<void> {
        auto sealed = impl.provider()->seal(next, *impl.keyring().master_key(next));
        if (!sealed) return std::move(sealed).err();
        auto root = impl.keyring().seal_root(next);
        if (!root) return std::move(root).err();
        CONSENTRY_TRY(impl.store->put_meta(sealed_key(next), *sealed));
        CONSENTRY_TRY(
            impl.store->put_meta(kMetaVersions, text_bytes(version_list(impl.keyring().versions()))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaCurrent, text_bytes(std::to_string(next))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRootVersion, text_bytes(std::to_string(next))));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRootSealed, *root));
        CONSENTRY_TRY(impl.store->put_meta(kMetaRotationCursor, bytes{}));
        return txn->commit();
      }();
      if (!started) {
        (void)impl.keyring().drop_version(next);
        return std::move(started).err();
      }
      CONSENTRY_TRY(impl.keyring().make_current(next));
    }
    report.version = impl.keyring().version();
  }

  std::size_t batches = 0;
  for (;;) {
    if (options.max_batches != 0 && batches == options.max_batches) return report;
    std::int64_t done = 0;
    {
      // The lock is taken per batch, so reads and writes go on between batches.
      std::lock_guard lock(impl.store_mu);
      Store& store = *impl.store;
      auto txn = Transaction::start(store);
      if (!txn) return std::move(txn).err();
      // Another process may have finished this rotation and started the next one meanwhile:
      // keys are re-wrapped under the version current now, never back under an older one.
      CONSENTRY_TRY(impl.follow_current_version());
      const std::uint32_t current = impl.keyring().version();
      report.version = current;
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
        if (impl.audit().enabled()) {
          std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
          entries.back().reason = "data keys re-wrapped under master key version " + std::to_string(current);
          CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
        }
        CONSENTRY_TRY(txn->commit());
        report.complete = true;
        return report;
      }
      // Blind index entries move with the data keys: each customer's are made again under the
      // new version in the batch that re-wraps their key, so the old version can be retired.
      auto in_force = impl.follow_policy();
      if (!in_force) return std::move(in_force).err();
      for (const StoredKey& k : *keys) {
        if (k.version == current) continue;
        auto failed = [&] {
          return make_error(errc::integrity, "the data key of the customer with audit pseudonym " +
                                                 impl.audit_pseudonym(k.customer) +
                                                 " failed authentication; the rotation stopped there");
        };
        auto rewrapped = impl.keyring().rewrap_data_key(k.customer, k.version, k.wrapped);
        if (!rewrapped) return failed();
        auto dek = impl.keyring().unwrap_data_key(k.customer, k.version, k.wrapped);
        if (!dek) return failed();
        CONSENTRY_TRY(impl.reindex_customer((*in_force)->policy, k.customer, *dek, current, false));
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
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  Store& store = *impl.store;
  std::shared_ptr<KeyProvider> previous = impl.provider();
  if (!previous->retire_destroys_key() && !successor)
    return make_error(errc::invalid_argument,
                      "a '" + previous->kind() +
                          "' key provider cannot destroy old master key versions: retiring them needs a new "
                          "passphrase (or another provider) to seal the current version");
  // The successor seals before the transaction holds the database (a new passphrase's Argon2id
  // runs here), and again inside it should another process have rotated meanwhile.
  std::optional<std::pair<std::uint32_t, bytes>> resealed;
  auto seal_current = [&]() -> result<void> {
    const std::uint32_t v = impl.keyring().version();
    if (!successor || (resealed && resealed->first == v)) return ok();
    auto s = successor->seal(v, *impl.keyring().master_key(v));
    if (!s) return std::move(s).err();
    resealed.emplace(v, std::move(*s));
    return ok();
  };
  CONSENTRY_TRY(seal_current());
  std::uint32_t current = 0;
  std::vector<std::uint32_t> retired;
  {
    // Everything is decided inside the write transaction, against the vault as committed: no
    // writer can wrap a data key between the count below and the commit, and every writer wraps
    // inside its own transaction under the version current then (follow_current_version).
    auto txn = Transaction::start(store);
    if (!txn) return std::move(txn).err();
    CONSENTRY_TRY(impl.follow_master_keys());
    current = impl.keyring().version();
    auto cursor = store.get_meta(kMetaRotationCursor);
    if (!cursor) return std::move(cursor).err();
    if (*cursor)
      return make_error(errc::invalid_argument,
                        "a key rotation is unfinished: rotate again to finish it first");
    auto counts = store.data_key_versions();
    if (!counts) return std::move(counts).err();
    for (const auto& [version, count] : *counts) {
      if (version != current && count > 0)
        return make_error(errc::invalid_argument,
                          std::to_string(count) + " data keys are still wrapped under master key version " +
                              std::to_string(version) + ": rotate first");
    }
    retired = impl.keyring().versions();
    retired.erase(std::remove(retired.begin(), retired.end(), current), retired.end());
    CONSENTRY_TRY(seal_current());
    for (std::uint32_t v : retired) CONSENTRY_TRY(store.delete_meta(sealed_key(v)));
    CONSENTRY_TRY(store.put_meta(kMetaVersions, text_bytes(std::to_string(current))));
    if (resealed) {
      CONSENTRY_TRY(store.put_meta(sealed_key(current), resealed->second));
      CONSENTRY_TRY(store.put_meta(kMetaProvider, text_bytes(successor->kind())));
    }
    if (impl.audit().enabled() && (!retired.empty() || resealed)) {
      std::vector<AuditEntry> entries{impl.entry(AuditAction::key_rotation, "", impl.options.actor, "")};
      entries.back().reason =
          retired.empty() ? "master key re-sealed" : "master key versions retired: " + version_list(retired);
      CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
    }
    CONSENTRY_TRY(txn->commit());
  }
  for (std::uint32_t v : retired) (void)impl.keyring().drop_version(v);
  if (successor) impl.use_provider(std::move(successor));
  // Every version below the current one, not only those just dropped from the vault: a run
  // killed after its commit left the provider holding versions the vault no longer names.
  for (std::uint32_t v = 1; v < current; ++v) CONSENTRY_TRY(previous->retire(v));
  CONSENTRY_TRY(store.compact());
  return retired;
}

}  // namespace consentry
