// key_provider.hpp: the two key providers that come with consentry: a passphrase (Argon2id) and a
// key file kept outside the vault. The KeyProvider interface a host implements for its own KMS
// or HSM is in the extension tier, extension/key_provider.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/bytes.hpp"
#include "consentry/extension/key_provider.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"

namespace consentry {

/// KdfStrength picks Argon2id limits: minimum (tests only), interactive (default), moderate,
/// sensitive, after libsodium's crypto_pwhash_argon2id_{OPS,MEM}LIMIT_{MIN,INTERACTIVE,MODERATE,SENSITIVE}.
enum class KdfStrength { minimum, interactive, moderate, sensitive };

/// PassphraseKeyProvider seals master key versions under a key derived from a passphrase with
/// Argon2id. A sealed version is kPassphraseSealFormat, opslimit and memlimit (8 bytes each,
/// big-endian), the salt (16 bytes), then the XChaCha20-Poly1305 box bound to the version, so
/// the parameters travel with the vault. One provider seals every version it is given under one
/// salt, so opening a vault runs Argon2id once, and a wrong passphrase is refused after that one
/// run. Stored limits outside libsodium's bounds are refused (errc::integrity) before any work.
class PassphraseKeyProvider final : public KeyProvider {
 public:
  /// kPassphraseSealFormat is the first byte of a version sealed under a passphrase.
  static constexpr std::uint8_t kPassphraseSealFormat = 1;
  /// kKind is what kind() returns.
  static constexpr std::string_view kKind = "passphrase";

  /// PassphraseKeyProvider keeps a copy of `passphrase` in guarded memory. `strength` sets the
  /// Argon2id limits of what it seals when it has not opened anything first (then it reuses the
  /// opened version's salt and limits). An empty passphrase makes seal and open fail with
  /// errc::invalid_argument.
  explicit PassphraseKeyProvider(std::string_view passphrase,
                                 KdfStrength strength = KdfStrength::interactive);

  std::string kind() const override { return std::string(kKind); }
  /// seal fails with errc::internal when Argon2id cannot allocate its memory.
  result<bytes> seal(std::uint32_t version, const SecretBytes& master_key) override;
  result<SecretBytes> open(std::uint32_t version, byte_view sealed) override;
  bool retire_destroys_key() const override { return false; }
  /// retire does nothing: a passphrase cannot be destroyed by a program, only forgotten.
  result<void> retire(std::uint32_t) override { return ok(); }

 private:
  result<void> derive(std::uint64_t opslimit, std::uint64_t memlimit, byte_view salt);
  SecretBytes passphrase_;
  KdfStrength strength_;
  // The last key Argon2id derived and its parameters; key_ is empty until the first derivation.
  std::uint64_t opslimit_ = 0;
  std::uint64_t memlimit_ = 0;
  bytes salt_;
  SecretBytes key_;
};

/// KeyFileKeyProvider seals master key versions under key material read from a file the host
/// keeps outside the vault (another disk, a secrets mount), one random 32-byte key per version.
/// A backup of the vault alone then opens nothing, and retiring a version deletes its key
/// material from the file, so every copy of the vault sealed under that version becomes
/// unreadable. The file must be a regular file readable and writable by its owner only (mode
/// 0600 or stricter); anything looser is refused. Each vault needs its own key file: retiring a
/// version in one vault would delete key material another vault still needs.
///
/// File format (text): the line "consentry-key-file 1", then one line per version:
/// "<version> <64 hex digits>". The file is rewritten through a new file and an atomic rename,
/// with the old contents overwritten with zeroes afterwards.
class KeyFileKeyProvider final : public KeyProvider {
 public:
  /// kKind is what kind() returns.
  static constexpr std::string_view kKind = "key-file";

  /// create makes a new, empty key file with mode 0600. errc::already_exists when `file`
  /// exists, errc::io when it cannot be written.
  static result<std::shared_ptr<KeyFileKeyProvider>> create(const std::filesystem::path& file);
  /// open reads an existing key file. errc::not_found without it; errc::invalid_argument when it
  /// is not a regular file or its mode lets group or others in (the message says how to fix
  /// it); errc::bad_input when it is malformed (naming the line, never its contents).
  static result<std::shared_ptr<KeyFileKeyProvider>> open(const std::filesystem::path& file);

  const std::filesystem::path& file() const noexcept { return file_; }
  /// versions lists the versions the file holds key material for, ascending.
  std::vector<std::uint32_t> versions() const;

  std::string kind() const override { return std::string(kKind); }
  /// seal makes and saves key material for `version` first when the file has none, so the
  /// material is on disk before any vault depends on it. errc::io when the file cannot be saved.
  result<bytes> seal(std::uint32_t version, const SecretBytes& master_key) override;
  /// open fails with errc::integrity when the file holds no key for `version` (a retired
  /// version, or another vault's key file) or the key does not open the sealed bytes.
  result<SecretBytes> open(std::uint32_t version, byte_view sealed) override;
  bool retire_destroys_key() const override { return true; }
  /// retire deletes `version`'s key material from the file. errc::io when it cannot be saved.
  result<void> retire(std::uint32_t version) override;

  /// KeyFileKeyProvider is made by create() or open().
  KeyFileKeyProvider(std::filesystem::path file, std::map<std::uint32_t, SecretBytes> keys)
      : file_(std::move(file)), keys_(std::move(keys)) {}

 private:
  result<void> save() const;
  std::filesystem::path file_;
  std::map<std::uint32_t, SecretBytes> keys_;
};

}  // namespace consentry
