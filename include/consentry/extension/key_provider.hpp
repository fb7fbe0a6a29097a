// extension/key_provider.hpp: KeyProvider, the interface that seals a vault's master key versions
// for storage. consentry's own providers (passphrase, key file) are in key_provider.hpp; a host
// implements this one to keep its keys in a KMS or an HSM.
#pragma once

#include <cstdint>
#include <string>

#include "consentry/bytes.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// KeyProvider seals the master key versions of a vault for storage in the vault, and opens
/// them again. A host that keeps its keys in a KMS or an HSM implements it (seal = the KMS's
/// encrypt with the key for that version, open = decrypt, retire = schedule the key's deletion).
/// A vault calls its provider only while holding its store lock, so one provider serves one
/// vault without locking of its own.
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;

  /// kind names the kind of provider ("passphrase", "key-file", or a host's own). The vault
  /// records it, so that opening with another kind fails with a clear message.
  virtual std::string kind() const = 0;
  /// seal seals master key `version` for storage in the vault. The result is opaque to the
  /// vault. Fails with the provider's error (errc::io when its key store cannot be written).
  virtual result<bytes> seal(std::uint32_t version, const SecretBytes& master_key) = 0;
  /// open opens what seal returned for `version`. errc::integrity for the wrong secret (wrong
  /// passphrase, wrong key file), a retired version, or altered bytes; nothing else is said.
  virtual result<SecretBytes> open(std::uint32_t version, byte_view sealed) = 0;
  /// retire_destroys_key is true when retire() destroys whatever could open `version` again
  /// (a key file drops the version's key material; a KMS deletes the key). A passphrase cannot
  /// be destroyed, so retiring a version sealed under one needs a new passphrase instead.
  virtual bool retire_destroys_key() const = 0;
  /// retire forgets `version` for good. Idempotent: retiring an unknown version does nothing.
  virtual result<void> retire(std::uint32_t version) = 0;
};

}  // namespace consentry
