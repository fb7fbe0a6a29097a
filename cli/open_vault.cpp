// open_vault.cpp: the vault's path, what seals its master key, and opening it.
#include "open_vault.hpp"

#include <system_error>

#include "../src/text/utf8.hpp"
#include "consentry/extension/store.hpp"
#include "exit.hpp"
#include "passphrase.hpp"
#include "verbose.hpp"

namespace consentry::cli {

std::filesystem::path vault_path(const GlobalOptions& global) {
  if (global.vault.empty()) usage_failure("no vault: pass --vault PATH or set CONSENTRY_VAULT");
  return global.vault;
}

std::string vault_name(const GlobalOptions& global) {
  return redacted_location(vault_path(global).string());
}

void check_plain_text(const std::string& what, std::string_view text, std::size_t max_bytes) {
  if (text.size() > max_bytes)
    fail(errc::bad_input, what + " is longer than " + std::to_string(max_bytes) + " bytes");
  if (!detail::utf8_valid(text)) fail(errc::bad_input, what + " is not valid UTF-8");
  for (std::size_t i = 0; i < text.size();) {
    const auto decoded = detail::utf8_decode(text, i);
    const char32_t cp = decoded.first;
    // C0, DEL and C1 controls: a name must not move a terminal's cursor or split a log line.
    if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
      fail(errc::bad_input, what + " contains a control character");
    i += decoded.second == 0 ? 1 : decoded.second;
  }
}

std::string checked_actor(const GlobalOptions& global) {
  const std::string what = "--actor (or CONSENTRY_ACTOR)";
  if (global.actor.empty()) fail(errc::bad_input, what + " is empty: name the person or system acting");
  check_plain_text(what, global.actor, GlobalOptions::kMaxActorBytes);
  return global.actor;
}

VaultOptions cli_vault_options(const GlobalOptions& global) {
  VaultOptions options;
  options.actor = checked_actor(global);
  return options;
}

std::string kdf_name(KdfStrength strength) {
  for (const auto& [name, s] : kdf_strengths()) {
    if (s == strength) return name;
  }
  return "unknown";
}

const std::map<std::string, KdfStrength>& kdf_strengths() {
  static const std::map<std::string, KdfStrength> strengths = {
      {"minimum", KdfStrength::minimum},
      {"interactive", KdfStrength::interactive},
      {"moderate", KdfStrength::moderate},
      {"sensitive", KdfStrength::sensitive},
  };
  return strengths;
}

std::shared_ptr<KeyProvider> key_provider(const GlobalOptions& global, bool create, KdfStrength strength) {
  if (!global.key_file.empty()) {
    verbose((create ? "creating key file " : "reading key file ") + global.key_file);
    auto provider = unwrap(create ? KeyFileKeyProvider::create(global.key_file)
                                  : KeyFileKeyProvider::open(global.key_file));
    verbose(
        (create ? "the master key will be sealed by key file " : "the master key is sealed by key file ") +
        global.key_file);
    return provider;
  }
  const std::string path = vault_name(global);
  if (create) {
    verbose("the master key will be sealed by a passphrase: Argon2id, strength '" + kdf_name(strength) + "'");
  } else {
    verbose("the master key is sealed by a passphrase: Argon2id, with the limits stored in the vault");
  }
  SecretBytes passphrase = create ? read_passphrase("New passphrase for " + path + ": ", true)
                                  : read_passphrase("Passphrase for " + path + ": ", false);
  return std::make_shared<PassphraseKeyProvider>(passphrase.reveal_string(), strength);
}

Vault open_vault(const GlobalOptions& global) {
  std::filesystem::path path = vault_path(global);
  // Checked before the passphrase is asked for: a bad name costs no typing.
  VaultOptions options = cli_vault_options(global);
  std::error_code ec;
  if (is_postgres_url(path.native())) {
    verbose("opening vault " + vault_name(global));
  } else if (!std::filesystem::exists(path, ec)) {
    fail(errc::not_found, "no vault at " + path.string());
  } else if (verbose_enabled()) {
    const auto size = std::filesystem::file_size(path, ec);
    verbose("opening vault " + path.string() +
            (ec ? std::string() : " (" + std::to_string(size) + " bytes)"));
  }
  auto provider = key_provider(global, false);
  verbose("unlocking the master key");
  Stopwatch clock;
  Vault vault = unwrap(Vault::open(path, std::move(provider), std::move(options)));
  verbose("unlocked and opened in " + clock.elapsed() + " as actor " + global.actor + "; policy format " +
          std::to_string(Policy::kFormatVersion) + ": " + counts_of(vault.policy()));
  return vault;
}

void verbose_audit(const Vault& vault, std::string_view customer) {
  if (!verbose_enabled()) return;
  result<std::vector<AuditEntry>> entries = vault.audit_entries(customer);
  if (!entries) {
    verbose("audit log: entries about " + std::string(customer) +
            " cannot be read: " + entries.err().message);
    return;
  }
  if (entries->empty()) {
    verbose("audit log: no entries about " + std::string(customer));
    return;
  }
  verbose("audit log: " + counted(static_cast<std::int64_t>(entries->size()), "entry", "entries") +
          " about " + std::string(customer) + ", the last at seq " + std::to_string(entries->back().seq));
}

std::string counts_of(const Policy& policy) {
  return std::to_string(policy.purposes().size()) + " purposes, " +
         std::to_string(policy.accessors().size()) + " accessors, " + std::to_string(policy.fields().size()) +
         " fields";
}

}  // namespace consentry::cli
