// command_keys.cpp: `consentry keys status|passphrase|rotate`, the vault's master key versions.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "passphrase.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

constexpr const char* kNewPassphraseVariable = "CONSENTRY_NEW_PASSPHRASE";

struct StatusOptions {
  bool json = false;
};

struct PassphraseOptions {
  std::string kdf = "interactive";
};

struct RotateOptions {
  bool retire = false;
  std::size_t batch = 1000;
  std::string kdf = "interactive";
  bool json = false;
};

std::string joined(const std::vector<std::uint32_t>& versions) {
  std::string out;
  for (std::uint32_t v : versions) out += (out.empty() ? "" : ", ") + std::to_string(v);
  return out;
}

/// new_passphrase_provider asks for the new passphrase (CONSENTRY_NEW_PASSPHRASE, or twice at
/// the terminal) and refuses one equal to the passphrase the vault was opened with.
std::shared_ptr<KeyProvider> new_passphrase_provider(const GlobalOptions& global, const std::string& kdf) {
  const std::string path = vault_name(global);
  SecretBytes passphrase = read_secret(kNewPassphraseVariable, "New passphrase for " + path + ": ", true);
  if (passphrase.empty()) usage_failure("the new passphrase is empty");
  if (global.key_file.empty()) {
    if (const char* old = std::getenv("CONSENTRY_PASSPHRASE");
        old && passphrase.equals(SecretBytes::copy_of(std::string_view(old))))
      usage_failure("the new passphrase is the old one");
  }
  return std::make_shared<PassphraseKeyProvider>(passphrase.reveal_string(), kdf_strengths().at(kdf));
}

int run_status(const GlobalOptions& global, const StatusOptions& options) {
  Vault vault = open_vault(global);
  MasterKeyStatus status = unwrap(vault.master_key_status());
  verbose(counted(static_cast<std::int64_t>(status.versions.size()), "live master key version",
                  "live master key versions") +
          ", sealed by " + status.provider);
  if (options.json) {
    nlohmann::ordered_json out;
    out["provider"] = status.provider;
    out["current"] = status.current;
    out["versions"] = status.versions;
    nlohmann::ordered_json keys = nlohmann::ordered_json::object();
    for (const auto& [version, count] : status.data_keys) keys[std::to_string(version)] = count;
    out["data_keys"] = keys;
    out["rotating"] = status.rotating;
    print_json(out);
    return kExitOk;
  }
  std::cout << "sealed by:       " << status.provider << '\n';
  std::cout << "current version: " << status.current << '\n';
  std::cout << "live versions:   " << joined(status.versions) << '\n';
  for (const auto& [version, count] : status.data_keys)
    std::cout << "data keys under version " << version << ": " << count << '\n';
  if (status.rotating) std::cout << "a rotation is unfinished: run 'consentry keys rotate' to finish it\n";
  return kExitOk;
}

int run_passphrase(const GlobalOptions& global, const PassphraseOptions& options) {
  Vault vault = open_vault(global);
  auto provider = new_passphrase_provider(global, options.kdf);
  verbose("re-sealing every live master key version under the new passphrase: Argon2id, strength '" +
          options.kdf + "'; data keys stay as they are");
  Stopwatch clock;
  unwrap(vault.reseal_master_keys(std::move(provider)));
  verbose("re-sealed in " + clock.elapsed());
  std::cout << "the master key of " << vault_name(global) << " is now sealed by the new passphrase\n";
  return kExitOk;
}

/// retired_backups says what a retirement means for backups taken before it, for the kind of key
/// that sealed the master key (docs/keys.md): a key file's old versions are destroyed, but a
/// passphrase cannot be: the old one still opens those backups until it is forgotten.
std::string retired_backups(std::string_view provider) {
  if (provider == KeyFileKeyProvider::kKind)
    return "their key material is gone from the key file, so backups taken before now can no longer be "
           "decrypted, for any customer";
  if (provider == PassphraseKeyProvider::kKind)
    return "the vault is now sealed by the new passphrase only; backups taken before now still open with the "
           "old passphrase, so they are unreadable only once every copy of it is forgotten";
  return "the key provider was asked to destroy them; backups taken before now can no longer be decrypted "
         "once it has";
}

int run_rotate(const GlobalOptions& global, const RotateOptions& options) {
  if (options.batch == 0) usage_failure("--batch must be at least 1");
  Vault vault = open_vault(global);
  // Asked before the rotation, so that a missing passphrase does not stop it half-way.
  std::shared_ptr<KeyProvider> successor;
  if (options.retire && unwrap(vault.master_key_status()).provider == PassphraseKeyProvider::kKind)
    successor = new_passphrase_provider(global, options.kdf);

  // The data keys to re-wrap: all of them for a new rotation; for one resumed, those still
  // under an older version.
  const MasterKeyStatus before = unwrap(vault.master_key_status());
  std::int64_t to_rewrap = 0;
  for (const auto& [version, keys] : before.data_keys)
    if (!before.rotating || version != before.current) to_rewrap += keys;
  Progress progress("re-wrapping", "data keys", to_rewrap);
  RotationOptions rotation;
  rotation.batch = options.batch;
  rotation.on_batch = [&progress](std::int64_t rewrapped) {
    progress.update(rewrapped);
    verbose("batch committed: " + counted(rewrapped, "data key", "data keys") + " re-wrapped so far");
  };
  verbose("rotating the master key in batches of " +
          counted(static_cast<std::int64_t>(options.batch), "data key", "data keys"));
  Stopwatch clock;
  RotationReport report = unwrap(vault.rotate_master_key(rotation));
  progress.finish();
  verbose("master key version " + std::to_string(report.version) + " is current; rotation took " +
          clock.elapsed());
  const std::string provider = unwrap(vault.master_key_status()).provider;
  std::vector<std::uint32_t> retired;
  if (options.retire) {
    verbose(successor ? "retiring the older versions and re-sealing the current one under the new passphrase"
                      : "retiring the older versions");
    retired = unwrap(vault.retire_master_keys(successor));
    verbose(counted(static_cast<std::int64_t>(retired.size()), "version", "versions") + " retired");
  }
  if (options.json) {
    nlohmann::ordered_json out;
    out["version"] = report.version;
    out["rewrapped"] = report.rewrapped;
    out["resumed"] = report.resumed;
    out["retired"] = retired;
    print_json(out);
    return kExitOk;
  }
  std::cout << (report.resumed ? "finished the interrupted rotation to" : "rotated to")
            << " master key version " << report.version << ": " << report.rewrapped
            << " data keys re-wrapped\n";
  if (options.retire) {
    if (retired.empty()) {
      std::cout << "no older master key version was left to retire\n";
    } else {
      std::cout << "retired master key version" << (retired.size() > 1 ? "s " : " ") << joined(retired)
                << ": " << retired_backups(provider) << '\n';
    }
    if (successor) std::cout << "the master key is now sealed by the new passphrase; forget the old one\n";
  }
  return kExitOk;
}

}  // namespace

void add_keys_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* keys = root.add_subcommand("keys", "Show, re-seal, rotate or retire the master key");
  keys->require_subcommand(1);
  keys->fallthrough();
  std::vector<std::string> strengths;
  for (const auto& [name, strength] : kdf_strengths()) strengths.push_back(name);

  auto status = std::make_shared<StatusOptions>();
  CLI::App* status_app =
      keys->add_subcommand("status", "List master key versions and the data keys under each");
  status_app->add_flag("--json", status->json, "Print JSON");
  commands.push_back({status_app, [&global, status] { return run_status(global, *status); }});

  auto passphrase = std::make_shared<PassphraseOptions>();
  CLI::App* passphrase_app = keys->add_subcommand(
      "passphrase", "Seal the master key under a new passphrase (CONSENTRY_NEW_PASSPHRASE); data keys stay");
  passphrase_app->add_option("--kdf", passphrase->kdf, "Argon2id strength for the new passphrase key")
      ->check(CLI::IsMember(strengths))
      ->capture_default_str();
  commands.push_back({passphrase_app, [&global, passphrase] { return run_passphrase(global, *passphrase); }});

  auto rotate = std::make_shared<RotateOptions>();
  CLI::App* rotate_app = keys->add_subcommand(
      "rotate", "Add a master key version and re-wrap every data key under it; resumes an interrupted run");
  rotate_app->add_flag("--retire", rotate->retire,
                       "Then destroy the older versions. With a key file, earlier backups can no longer be "
                       "decrypted; with a passphrase (a new one is needed), earlier backups still open with "
                       "the old passphrase until it is forgotten");
  rotate_app->add_option("--batch", rotate->batch, "Data keys re-wrapped per transaction")
      ->capture_default_str();
  rotate_app->add_option("--kdf", rotate->kdf, "Argon2id strength for the new passphrase key (--retire)")
      ->check(CLI::IsMember(strengths))
      ->capture_default_str();
  rotate_app->add_flag("--json", rotate->json, "Print JSON");
  commands.push_back({rotate_app, [&global, rotate] { return run_rotate(global, *rotate); }});
}

}  // namespace consentry::cli
