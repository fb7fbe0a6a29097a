// key_file_provider: a CRM backend that keeps its vault's master key in a key file on another
// volume instead of behind a passphrase, rotates the key at night, and retires old versions so
// that backups older than the last erasure cannot be decrypted.
//
//   key_file_provider init POLICY    create the vault and its key file (mode 0600)
//   key_file_provider nightly        rotate the master key in slices, then retire old versions
//
// The vault comes from CONSENTRY_VAULT and the key file from CONSENTRY_KEY_FILE. A host with a
// KMS or an HSM writes its own consentry::KeyProvider (seal = encrypt under the KMS key for the
// version, open = decrypt, retire = schedule the key's deletion) and passes it the same way.

#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>

#include "consentry/consentry.hpp"

namespace {

using consentry::errc;

int report(const consentry::error& e) {
  std::cerr << "key_file_provider: " << e.message << '\n';
  return consentry::exit_code(e.code);
}

int init(const char* vault_file, const char* key_file, const char* policy_file) {
  auto policy = consentry::Policy::load(policy_file);
  if (!policy) return report(policy.err());
  // The key file is made first, with mode 0600; it must live where backups of the vault do not.
  auto provider = consentry::KeyFileKeyProvider::create(key_file);
  if (!provider) return report(provider.err());
  auto vault = consentry::Vault::create(vault_file, *policy, *provider);
  if (!vault) return report(vault.err());
  std::cout << "created " << vault_file << ", its master key sealed by " << key_file << '\n';
  return 0;
}

int nightly(const char* vault_file, const char* key_file) {
  // open refuses a key file that group or others could read: the master key would be theirs.
  auto provider = consentry::KeyFileKeyProvider::open(key_file);
  if (!provider) return report(provider.err());
  consentry::VaultOptions options;
  options.actor = "nightly-key-rotation";
  auto vault = consentry::Vault::open(vault_file, *provider, options);
  if (!vault) return report(vault.err());

  // Slices of 50 batches keep each run short; a run that is killed, or stops at the slice's end,
  // is resumed by the next one, and every customer stays readable throughout.
  consentry::RotationOptions rotation;
  rotation.batch = 500;
  rotation.max_batches = 50;
  auto done = vault->rotate_master_key(rotation);
  if (!done) return report(done.err());
  std::cout << (done->resumed ? "resumed" : "started") << " rotation to master key version " << done->version
            << ": " << done->rewrapped << " data keys re-wrapped\n";
  if (!done->complete) {
    std::cout << "not finished: the next run continues where this one stopped\n";
    return 0;
  }
  // Retiring deletes the old versions' key material from the key file: every backup taken before
  // now, erased customers and everyone else in it, becomes unreadable.
  auto retired = vault->retire_master_keys();
  if (!retired) return report(retired.err());
  for (std::uint32_t v : *retired) std::cout << "retired master key version " << v << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const char* vault_file = std::getenv("CONSENTRY_VAULT");
  const char* key_file = std::getenv("CONSENTRY_KEY_FILE");
  const std::string command = argc > 1 ? argv[1] : "";
  if (!vault_file || !key_file || (command != "init" && command != "nightly") ||
      (command == "init" && argc < 3)) {
    std::cerr
        << "usage: CONSENTRY_VAULT=FILE CONSENTRY_KEY_FILE=FILE key_file_provider init POLICY | nightly\n";
    return 1;
  }
  return command == "init" ? init(vault_file, key_file, argv[2]) : nightly(vault_file, key_file);
}
