// key_provider.cpp: master key versions sealed under a passphrase (Argon2id) or a key file.
#include "consentry/key_provider.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "crypto/aead.hpp"
#include "encoding/framing.hpp"
#include "io/staged_file.hpp"
#include "text/hex.hpp"

namespace consentry {
namespace {

constexpr std::size_t kKeyBytes = aead::kKeyBytes;
constexpr std::string_view kWrongPassphrase = "wrong passphrase or damaged master key";
constexpr std::string_view kWrongKeyFile = "wrong key file or damaged master key";

// ---- passphrase ----

struct KdfLimits {
  std::uint64_t opslimit;
  std::uint64_t memlimit;
};

// The algorithm is pinned to Argon2id, so its own limits apply rather than crypto_pwhash's
// defaults, which could follow a different algorithm in another libsodium release.
KdfLimits limits_for(KdfStrength strength) {
  switch (strength) {
    case KdfStrength::minimum:
      return {crypto_pwhash_argon2id_OPSLIMIT_MIN, crypto_pwhash_argon2id_MEMLIMIT_MIN};
    case KdfStrength::interactive:
      return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
    case KdfStrength::moderate:
      return {crypto_pwhash_argon2id_OPSLIMIT_MODERATE, crypto_pwhash_argon2id_MEMLIMIT_MODERATE};
    case KdfStrength::sensitive:
      return {crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE, crypto_pwhash_argon2id_MEMLIMIT_SENSITIVE};
  }
  return {crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE, crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE};
}

// kdf_params_valid rejects stored parameters that libsodium would refuse, or that an attacker
// could have set to make unlocking cost unbounded work.
bool kdf_params_valid(std::uint64_t opslimit, std::uint64_t memlimit, byte_view salt) {
  return salt.size() == crypto_pwhash_argon2id_SALTBYTES && opslimit >= crypto_pwhash_argon2id_OPSLIMIT_MIN &&
         opslimit <= crypto_pwhash_argon2id_OPSLIMIT_MAX && memlimit >= crypto_pwhash_argon2id_MEMLIMIT_MIN &&
         memlimit <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
}

constexpr std::size_t kSaltBytes = crypto_pwhash_argon2id_SALTBYTES;
constexpr std::size_t kHeaderBytes = 1 + 8 + 8 + kSaltBytes;

bytes master_ad(std::string_view kind, std::uint32_t version) {
  const std::string v = std::to_string(version);
  return aead::associated_data({"master", kind, v});
}

// ---- key file ----

constexpr std::string_view kKeyFileHeader = "consentry-key-file 1";

std::string errno_text() {
  return std::strerror(errno);
}

// FileDescriptor closes its descriptor when it goes.
struct FileDescriptor {
  int fd = -1;
  explicit FileDescriptor(int f) : fd(f) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// wipe overwrites a string that held key material before its memory is released.
void wipe(std::string& s) {
  sodium_memzero(s.data(), s.size());
  s.clear();
}

// parse_key_file reads the text of a key file into keys; messages name lines, never contents.
result<std::map<std::uint32_t, SecretBytes>> parse_key_file(std::string_view text, const std::string& name) {
  std::map<std::uint32_t, SecretBytes> keys;
  std::size_t line_no = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_no;
    auto bad = [&] {
      return make_error(errc::bad_input,
                        "key file '" + name + "' line " + std::to_string(line_no) + " is malformed");
    };
    if (line_no == 1) {
      if (line != kKeyFileHeader)
        return make_error(errc::bad_input, "'" + name + "' is not a consentry key file");
      continue;
    }
    if (line.empty()) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos || space == 0 || space > 10) return bad();
    std::uint64_t version = 0;
    for (char c : line.substr(0, space)) {
      if (c < '0' || c > '9') return bad();
      version = version * 10 + static_cast<std::uint64_t>(c - '0');
    }
    const std::string_view hex = line.substr(space + 1);
    if (version == 0 || version > UINT32_MAX || hex.size() != 2 * kKeyBytes) return bad();
    SecretBytes key(kKeyBytes);
    if (!detail::hex_decode(hex, key.reveal(), "key")) return bad();
    if (!keys.emplace(static_cast<std::uint32_t>(version), std::move(key)).second) return bad();
  }
  if (line_no == 0) return make_error(errc::bad_input, "'" + name + "' is not a consentry key file");
  return keys;
}

}  // namespace

// ---- PassphraseKeyProvider ----

PassphraseKeyProvider::PassphraseKeyProvider(std::string_view passphrase, KdfStrength strength)
    : passphrase_(SecretBytes::copy_of(passphrase)), strength_(strength) {}

result<void> PassphraseKeyProvider::derive(std::uint64_t opslimit, std::uint64_t memlimit, byte_view salt) {
  if (!key_.empty() && opslimit == opslimit_ && memlimit == memlimit_ &&
      std::equal(salt.begin(), salt.end(), salt_.begin(), salt_.end()))
    return ok();
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
  SecretBytes key(kKeyBytes);
  const std::string_view pass = passphrase_.reveal_string();
  if (crypto_pwhash(key.reveal().data(), key.size(), pass.data(), pass.size(), salt.data(), opslimit,
                    static_cast<std::size_t>(memlimit), crypto_pwhash_ALG_ARGON2ID13) != 0)
    return make_error(errc::internal, "Argon2id could not derive the passphrase key (out of memory?)");
  opslimit_ = opslimit;
  memlimit_ = memlimit;
  salt_.assign(salt.begin(), salt.end());
  key_ = std::move(key);
  return ok();
}

result<bytes> PassphraseKeyProvider::seal(std::uint32_t version, const SecretBytes& master_key) {
  if (passphrase_.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  if (key_.empty()) {
    // Nothing opened yet: a new salt, at the strength asked for.
    if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
    const KdfLimits limits = limits_for(strength_);
    bytes salt(kSaltBytes);
    randombytes_buf(salt.data(), salt.size());
    CONSENTRY_TRY(derive(limits.opslimit, limits.memlimit, salt));
  }
  auto box = aead::seal(key_, master_key.reveal(), master_ad(kKind, version));
  if (!box) return std::move(box).err();
  bytes out;
  out.reserve(kHeaderBytes + box->size());
  out.push_back(kPassphraseSealFormat);
  detail::put_be64(out, opslimit_);
  detail::put_be64(out, memlimit_);
  out.insert(out.end(), salt_.begin(), salt_.end());
  out.insert(out.end(), box->begin(), box->end());
  return out;
}

result<SecretBytes> PassphraseKeyProvider::open(std::uint32_t version, byte_view sealed) {
  if (passphrase_.empty()) return make_error(errc::invalid_argument, "the passphrase is empty");
  if (sealed.size() < kHeaderBytes || sealed[0] != kPassphraseSealFormat)
    return make_error(errc::integrity, "the sealed master key is damaged");
  const std::uint64_t opslimit = detail::load_be64(sealed.subspan(1).data());
  const std::uint64_t memlimit = detail::load_be64(sealed.subspan(9).data());
  const byte_view salt = sealed.subspan(17, kSaltBytes);
  if (!kdf_params_valid(opslimit, memlimit, salt))
    return make_error(errc::integrity, "master key KDF parameters are out of range (damaged vault?)");
  CONSENTRY_TRY(derive(opslimit, memlimit, salt));
  auto master = aead::open(key_, sealed.subspan(kHeaderBytes), master_ad(kKind, version));
  if (!master) return make_error(errc::integrity, std::string(kWrongPassphrase));
  return master;
}

// ---- KeyFileKeyProvider ----

result<std::shared_ptr<KeyFileKeyProvider>> KeyFileKeyProvider::create(const std::filesystem::path& file) {
  const std::string name = file.string();
  // Written whole (mode 0600) and renamed into place only where no file is: "refuse an existing
  // file" is decided atomically by the rename.
  auto written = detail::write_file_atomically(file, std::string(kKeyFileHeader) + "\n", /*replace=*/false);
  if (!written) {
    if (written.err().code == errc::already_exists)
      return make_error(errc::already_exists, "key file '" + name + "' already exists");
    return std::move(written).err();
  }
  return std::make_shared<KeyFileKeyProvider>(file, std::map<std::uint32_t, SecretBytes>{});
}

result<std::shared_ptr<KeyFileKeyProvider>> KeyFileKeyProvider::open(const std::filesystem::path& file) {
  const std::string name = file.string();
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(errc::not_found, "key file '" + name + "' not found");
    return make_error(errc::io, "cannot open key file '" + name + "': " + errno_text());
  }
  FileDescriptor guard(fd);
  // The checks look at the opened file itself, so a file swapped in between cannot slip past.
  struct stat st {};
  if (::fstat(fd, &st) != 0)
    return make_error(errc::io, "cannot stat key file '" + name + "': " + errno_text());
  if (!S_ISREG(st.st_mode))
    return make_error(errc::invalid_argument, "key file '" + name + "' is not a regular file");
  if ((st.st_mode & 0077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return make_error(errc::invalid_argument, "key file '" + name + "' has mode " + mode +
                                                  ": group and others must have no access (chmod 600 '" +
                                                  name + "')");
  }
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size) + 1);  // one buffer: no stray copy of key material
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sodium_memzero(buf, sizeof buf);
      wipe(text);
      return make_error(errc::io, "cannot read key file '" + name + "': " + errno_text());
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
  }
  sodium_memzero(buf, sizeof buf);
  auto keys = parse_key_file(text, name);
  wipe(text);
  if (!keys) return std::move(keys).err();
  return std::make_shared<KeyFileKeyProvider>(file, std::move(*keys));
}

std::vector<std::uint32_t> KeyFileKeyProvider::versions() const {
  std::vector<std::uint32_t> out;
  for (const auto& [version, key] : keys_) out.push_back(version);
  return out;
}

result<void> KeyFileKeyProvider::save() const {
  const std::string name = file_.string();
  std::string text = std::string(kKeyFileHeader) + "\n";
  for (const auto& [version, key] : keys_) {
    char hex[2 * kKeyBytes];
    detail::hex_encode(key.reveal(), hex);
    text.append(std::to_string(version)).append(" ").append(hex, 2 * kKeyBytes).append("\n");
    sodium_memzero(hex, sizeof hex);
  }
  // The new file is a unique temporary beside the old one (mode 0600), removed on failure; those
  // that killed saves left behind hold keys and go first.
  detail::remove_stale_staged_files(file_);
  auto staged = detail::StagedFile::create(file_);
  if (!staged) {
    wipe(text);
    return std::move(staged).err();
  }
  result<void> written = staged->write(text);
  wipe(text);
  if (!written) return written;
  // The old file stays open across the rename, so its contents can be overwritten once the new
  // file has taken its place: a crash at any point leaves one complete key file under the name.
  const int old_fd = ::open(name.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  FileDescriptor old_guard(old_fd);
  // commit syncs the new file, renames it over the old one and syncs the directory.
  if (auto committed = staged->commit(/*replace=*/true); !committed) return committed;
  if (old_fd >= 0) {
    // Best effort: a copy-on-write or journalling file system may keep the old blocks anyway
    // (docs/keys.md says where to keep a key file for retirement to mean erasure).
    struct stat st {};
    if (::fstat(old_fd, &st) == 0 && st.st_size > 0) {
      const std::string zeroes(static_cast<std::size_t>(st.st_size), '\0');
      if (::pwrite(old_fd, zeroes.data(), zeroes.size(), 0) == static_cast<ssize_t>(zeroes.size()))
        (void)::fsync(old_fd);
    }
  }
  return ok();
}

result<bytes> KeyFileKeyProvider::seal(std::uint32_t version, const SecretBytes& master_key) {
  auto it = keys_.find(version);
  if (it == keys_.end()) {
    it = keys_.emplace(version, SecretBytes::random(kKeyBytes)).first;
    if (auto saved = save(); !saved) {
      keys_.erase(it);
      return std::move(saved).err();
    }
  }
  return aead::seal(it->second, master_key.reveal(), master_ad(kKind, version));
}

result<SecretBytes> KeyFileKeyProvider::open(std::uint32_t version, byte_view sealed) {
  auto it = keys_.find(version);
  if (it == keys_.end())
    return make_error(errc::integrity,
                      "key file '" + file_.string() + "' holds no key for master key version " +
                          std::to_string(version) + " (wrong key file, or the version was retired)");
  auto master = aead::open(it->second, sealed, master_ad(kKind, version));
  if (!master) return make_error(errc::integrity, std::string(kWrongKeyFile));
  return master;
}

result<void> KeyFileKeyProvider::retire(std::uint32_t version) {
  auto it = keys_.find(version);
  if (it == keys_.end()) return ok();
  SecretBytes kept = std::move(it->second);
  keys_.erase(it);
  if (auto saved = save(); !saved) {
    keys_.emplace(version, std::move(kept));
    return saved;
  }
  return ok();
}

}  // namespace consentry
