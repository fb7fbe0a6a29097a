// crypto_keyring_test.cpp: master key versions, the key providers that seal them (passphrase
// and key file), data key wrapping, derived keys, field sealing.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "../src/crypto/aead.hpp"
#include "../src/crypto/keyring.hpp"
#include "consentry/key_provider.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

// Header of a passphrase-sealed version: format byte, opslimit, memlimit, salt.
constexpr std::size_t kOpsOffset = 1;
constexpr std::size_t kMemOffset = 9;
constexpr std::size_t kSaltOffset = 17;
constexpr std::size_t kBoxOffset = kSaltOffset + crypto_pwhash_argon2id_SALTBYTES;

PassphraseKeyProvider fast_provider(std::string_view passphrase = test::kTestPassphrase) {
  return PassphraseKeyProvider(passphrase, KdfStrength::minimum);
}

bytes sealed_v1(const Keyring& k, KeyProvider& p) {
  auto s = p.seal(1, *k.master_key(1));
  REQUIRE(s.ok());
  return std::move(s).value();
}

void check_refused(const result<SecretBytes>& r, errc code) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == code);
  CHECK(r.err().message.find(test::kTestPassphrase) == std::string::npos);
}

using consentry::test::TempDir;

using consentry::test::file_bytes;

Keyring reassembled(const Keyring& k, std::uint32_t root_version) {
  std::vector<Keyring::MasterKey> masters;
  for (std::uint32_t v : k.versions())
    masters.push_back({v, SecretBytes::copy_of(k.master_key(v)->reveal())});
  auto root = k.seal_root(root_version);
  REQUIRE(root.ok());
  auto r = Keyring::assemble(std::move(masters), k.version(), root_version, *root);
  REQUIRE_MESSAGE(r.ok(), r.err().message);
  return std::move(r).value();
}

}  // namespace

TEST_CASE("a passphrase provider opens what it sealed, and the keyring reassembles to the same keys") {
  Keyring created = Keyring::generate();
  CHECK(created.version() == 1);
  CHECK(created.versions() == std::vector<std::uint32_t>{1});
  auto provider = fast_provider();
  const bytes sealed = sealed_v1(created, provider);
  CHECK(sealed.size() == kBoxOffset + Keyring::kMasterKeyBytes + aead::kOverheadBytes);
  CHECK(sealed[0] == PassphraseKeyProvider::kPassphraseSealFormat);

  // A fresh provider (as at open) derives the key again from the stored salt and limits.
  auto again = fast_provider();
  auto opened = again.open(1, sealed);
  REQUIRE(opened.ok());
  CHECK(opened->equals(*created.master_key(1)));

  Keyring unlocked = reassembled(created, 1);
  CHECK(unlocked.derive_key("audit/customer").equals(created.derive_key("audit/customer")));
  const auto dek = Keyring::new_data_key();
  auto wrapped = created.wrap_data_key("C-1001", dek);
  REQUIRE(wrapped.ok());
  auto back = unlocked.unwrap_data_key("C-1001", 1, *wrapped);
  REQUIRE(back.ok());
  CHECK(back->equals(dek));
}

TEST_CASE("each strength seals with libsodium's Argon2id limits for it") {
  Keyring k = Keyring::generate();
  PassphraseKeyProvider interactive("pass", KdfStrength::interactive);
  const bytes sealed = sealed_v1(k, interactive);
  std::uint64_t ops = 0, mem = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    ops = (ops << 8) | sealed[kOpsOffset + i];
    mem = (mem << 8) | sealed[kMemOffset + i];
  }
  CHECK(ops == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
  CHECK(mem == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
}

TEST_CASE("two keyrings sealed under the same passphrase get different salts and keys") {
  Keyring ka = Keyring::generate();
  Keyring kb = Keyring::generate();
  auto pa = fast_provider();
  auto pb = fast_provider();
  const bytes a = sealed_v1(ka, pa);
  const bytes b = sealed_v1(kb, pb);
  CHECK(bytes(a.begin() + kSaltOffset, a.begin() + kBoxOffset) !=
        bytes(b.begin() + kSaltOffset, b.begin() + kBoxOffset));
  CHECK_FALSE(ka.master_key(1)->equals(*kb.master_key(1)));
  CHECK_FALSE(ka.derive_key("x").equals(kb.derive_key("x")));
}

TEST_CASE("one passphrase provider seals every version under one salt") {
  Keyring k = Keyring::generate();
  const std::uint32_t v2 = k.add_version();
  auto p = fast_provider();
  const bytes s1 = sealed_v1(k, p);
  auto s2 = p.seal(v2, *k.master_key(v2));
  REQUIRE(s2.ok());
  CHECK(bytes(s1.begin(), s1.begin() + kBoxOffset) == bytes(s2->begin(), s2->begin() + kBoxOffset));
}

TEST_CASE("a passphrase provider refuses an empty passphrase") {
  Keyring k = Keyring::generate();
  auto good = fast_provider();
  const bytes sealed = sealed_v1(k, good);
  auto empty = fast_provider("");
  check_refused(empty.open(1, sealed), errc::invalid_argument);
  auto s = empty.seal(1, *k.master_key(1));
  REQUIRE_FALSE(s.ok());
  CHECK(s.err().code == errc::invalid_argument);
}

TEST_CASE("a wrong passphrase fails with integrity") {
  Keyring k = Keyring::generate();
  auto p = fast_provider();
  const bytes sealed = sealed_v1(k, p);
  auto wrong = fast_provider("correct horse battery stapler");
  auto r = wrong.open(1, sealed);
  check_refused(r, errc::integrity);
  CHECK(r.err().message == "wrong passphrase or damaged master key");
}

TEST_CASE("a passphrase-sealed master key altered anywhere, or opened as another version, is refused") {
  Keyring k = Keyring::generate();
  auto p = fast_provider();
  const bytes sealed = sealed_v1(k, p);
  for (std::size_t i = 0; i < sealed.size(); ++i) {
    // The limits are tampered with below: flipping their high bits would ask Argon2id for
    // terabytes, which the range check allows up to libsodium's own maximum.
    if (i >= kOpsOffset && i < kSaltOffset) continue;
    bytes tampered = sealed;
    tampered[i] ^= 0x01;
    CAPTURE(i);
    auto fresh = fast_provider();
    check_refused(fresh.open(1, tampered), errc::integrity);
  }
  bytes more_ops = sealed;
  more_ops[kMemOffset - 1] ^= 0x02;  // opslimit 1 -> 3: in range, another key
  check_refused(fast_provider().open(1, more_ops), errc::integrity);
  bytes more_mem = sealed;
  // Argon2id counts memory in KiB: memlimit 8192 -> 9216 bytes is another key.
  more_mem[kSaltOffset - 2] ^= 0x04;
  check_refused(fast_provider().open(1, more_mem), errc::integrity);
  bytes truncated = sealed;
  truncated.pop_back();
  check_refused(fast_provider().open(1, truncated), errc::integrity);
  check_refused(fast_provider().open(1, byte_view(sealed).first(kBoxOffset - 1)), errc::integrity);
  check_refused(fast_provider().open(2, sealed), errc::integrity);
}

TEST_CASE("stored Argon2id limits outside libsodium's bounds are refused before any work") {
  Keyring k = Keyring::generate();
  auto p = fast_provider();
  const bytes sealed = sealed_v1(k, p);
  auto with = [&](std::size_t offset, std::uint64_t value) {
    bytes s = sealed;
    for (std::size_t i = 0; i < 8; ++i) s[offset + i] = static_cast<std::uint8_t>(value >> (56 - 8 * i));
    return fast_provider().open(1, s);
  };
  check_refused(with(kOpsOffset, crypto_pwhash_argon2id_OPSLIMIT_MIN - 1), errc::integrity);
  check_refused(with(kOpsOffset, std::uint64_t{crypto_pwhash_argon2id_OPSLIMIT_MAX} + 1), errc::integrity);
  check_refused(with(kMemOffset, crypto_pwhash_argon2id_MEMLIMIT_MIN - 1), errc::integrity);
  check_refused(with(kMemOffset, std::uint64_t{crypto_pwhash_argon2id_MEMLIMIT_MAX} + 1), errc::integrity);
  check_refused(with(kMemOffset, ~std::uint64_t{0}), errc::integrity);
}

TEST_CASE("a new version wraps new data keys, old ones unwrap under theirs and re-wrap to the new one") {
  Keyring k = Keyring::generate();
  const auto dek = Keyring::new_data_key();
  auto old_wrapped = k.wrap_data_key("C-A", dek);
  REQUIRE(old_wrapped.ok());
  const std::uint32_t v2 = k.add_version();
  CHECK(v2 == 2);
  CHECK(k.version() == 1);  // not current until made so
  REQUIRE(k.make_current(v2).ok());
  CHECK(k.version() == 2);
  CHECK(k.versions() == std::vector<std::uint32_t>{1, 2});
  CHECK_FALSE(k.master_key(1)->equals(*k.master_key(2)));

  auto rewrapped = k.rewrap_data_key("C-A", 1, *old_wrapped);
  REQUIRE(rewrapped.ok());
  CHECK(*rewrapped != *old_wrapped);
  auto back = k.unwrap_data_key("C-A", 2, *rewrapped);
  REQUIRE(back.ok());
  CHECK(back->equals(dek));
  // The version is bound: a re-wrapped key does not open as version 1, nor the old one as 2.
  CHECK_FALSE(k.unwrap_data_key("C-A", 1, *rewrapped).ok());
  CHECK_FALSE(k.unwrap_data_key("C-A", 2, *old_wrapped).ok());

  // Dropping version 1 makes what it wrapped unreadable; the current version cannot be dropped.
  CHECK(k.drop_version(2).err().code == errc::invalid_argument);
  REQUIRE(k.drop_version(1).ok());
  CHECK(k.drop_version(1).err().code == errc::not_found);
  CHECK(k.master_key(1) == nullptr);
  auto gone = k.unwrap_data_key("C-A", 1, *old_wrapped);
  REQUIRE_FALSE(gone.ok());
  CHECK(gone.err().code == errc::integrity);
  CHECK(k.unwrap_data_key("C-A", 2, *rewrapped).ok());
  // Numbers never come back: the next version is 3.
  CHECK(k.add_version() == 3);
}

TEST_CASE("derived keys stay the same across rotation and retirement") {
  Keyring k = Keyring::generate();
  const SecretBytes before = k.derive_key("pseudonym/analytics");
  const std::uint32_t v2 = k.add_version();
  REQUIRE(k.make_current(v2).ok());
  REQUIRE(k.drop_version(1).ok());
  CHECK(k.derive_key("pseudonym/analytics").equals(before));
  Keyring again = reassembled(k, v2);
  CHECK(again.derive_key("pseudonym/analytics").equals(before));
  // The root is not a master key version: nothing derived equals one.
  CHECK_FALSE(k.derive_key("").equals(*k.master_key(v2)));
}

TEST_CASE("assemble refuses a damaged root, a missing current or root version, and bad keys") {
  Keyring k = Keyring::generate();
  const std::uint32_t v2 = k.add_version();
  REQUIRE(k.make_current(v2).ok());
  auto root = k.seal_root(v2);
  REQUIRE(root.ok());
  auto masters = [&] {
    std::vector<Keyring::MasterKey> m;
    for (std::uint32_t v : k.versions()) m.push_back({v, SecretBytes::copy_of(k.master_key(v)->reveal())});
    return m;
  };
  REQUIRE(Keyring::assemble(masters(), v2, v2, *root).ok());
  bytes tampered = *root;
  tampered[aead::kNonceBytes] ^= 0x01;
  const result<Keyring> refusals[] = {
      Keyring::assemble(masters(), v2, v2, tampered),
      Keyring::assemble(masters(), v2, 1, *root),  // sealed under 2, claimed under 1
      Keyring::assemble(masters(), 3, v2, *root),
      Keyring::assemble(masters(), v2, 3, *root),
      Keyring::assemble({}, v2, v2, *root),
  };
  for (const auto& r : refusals) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
  }
  auto short_key = masters();
  short_key[0].key = SecretBytes::random(Keyring::kMasterKeyBytes - 1);
  CHECK(Keyring::assemble(std::move(short_key), v2, v2, *root).err().code == errc::integrity);
  auto repeated = masters();
  repeated[0].version = v2;
  CHECK(Keyring::assemble(std::move(repeated), v2, v2, *root).err().code == errc::integrity);
}

TEST_CASE("a key file is created 0600, saves key material for a version before sealing under it") {
  TempDir dir;
  const fs::path file = dir.path() / "vault.key";
  auto provider = KeyFileKeyProvider::create(file);
  REQUIRE(provider.ok());
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(KeyFileKeyProvider::create(file).err().code == errc::already_exists);

  Keyring k = Keyring::generate();
  auto sealed = (*provider)->seal(1, *k.master_key(1));
  REQUIRE(sealed.ok());
  CHECK((*provider)->versions() == std::vector<std::uint32_t>{1});
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  // Another process (a fresh provider) reads the saved material and opens the sealed key.
  auto reread = KeyFileKeyProvider::open(file);
  REQUIRE(reread.ok());
  auto opened = (*reread)->open(1, *sealed);
  REQUIRE(opened.ok());
  CHECK(opened->equals(*k.master_key(1)));
  // Bound to the version and to the key file.
  CHECK((*reread)->open(2, *sealed).err().code == errc::integrity);
  bytes tampered = *sealed;
  tampered.back() ^= 0x01;
  CHECK((*reread)->open(1, tampered).err().code == errc::integrity);
  auto other = KeyFileKeyProvider::create(dir.path() / "other.key");
  REQUIRE(other.ok());
  REQUIRE((*other)->seal(1, *k.master_key(1)).ok());
  auto wrong = (*other)->open(1, *sealed);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::integrity);
  CHECK(wrong.err().message == "wrong key file or damaged master key");
}

TEST_CASE("retiring a version deletes its key material from the key file") {
  TempDir dir;
  const fs::path file = dir.path() / "vault.key";
  auto provider = KeyFileKeyProvider::create(file);
  REQUIRE(provider.ok());
  Keyring k = Keyring::generate();
  const std::uint32_t v2 = k.add_version();
  auto s1 = (*provider)->seal(1, *k.master_key(1));
  auto s2 = (*provider)->seal(v2, *k.master_key(v2));
  REQUIRE((s1.ok() && s2.ok()));
  const std::string before = file_bytes(file);

  REQUIRE((*provider)->retire(1).ok());
  REQUIRE((*provider)->retire(1).ok());  // idempotent
  REQUIRE((*provider)->retire(7).ok());
  const std::string after = file_bytes(file);
  CHECK(after.find("\n1 ") == std::string::npos);
  CHECK(after.find("\n2 ") != std::string::npos);
  // The retired line's hex is gone from the file.
  const std::size_t line = before.find("\n1 ");
  REQUIRE(line != std::string::npos);
  CHECK(after.find(before.substr(line + 3, 64)) == std::string::npos);

  auto reread = KeyFileKeyProvider::open(file);
  REQUIRE(reread.ok());
  CHECK((*reread)->versions() == std::vector<std::uint32_t>{2});
  auto r = (*reread)->open(1, *s1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
  CHECK((*reread)->open(v2, *s2).ok());
  CHECK_FALSE(consentry::test::has_staged_temporary(file));
}

TEST_CASE("a key file readable or writable by group or others, or not a regular file, is refused") {
  TempDir dir;
  const fs::path file = dir.path() / "vault.key";
  REQUIRE(KeyFileKeyProvider::create(file).ok());
  for (fs::perms loose : {fs::perms::group_read, fs::perms::others_read, fs::perms::group_write,
                          fs::perms::others_write, fs::perms::group_exec}) {
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | loose);
    auto r = KeyFileKeyProvider::open(file);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::invalid_argument);
    CHECK(r.err().message.find("chmod 600") != std::string::npos);
  }
  fs::permissions(file, fs::perms::owner_read);  // stricter than 0600 is fine to read
  CHECK(KeyFileKeyProvider::open(file).ok());
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  CHECK(KeyFileKeyProvider::open(file).ok());

  auto as_dir = KeyFileKeyProvider::open(dir.path());
  REQUIRE_FALSE(as_dir.ok());
  CHECK(as_dir.err().code == errc::invalid_argument);
  CHECK(KeyFileKeyProvider::open(dir.path() / "missing.key").err().code == errc::not_found);
}

TEST_CASE("a malformed key file is refused without quoting it") {
  TempDir dir;
  const std::string secretish = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeZZ";
  const std::pair<std::string, std::string> cases[] = {
      {"not a key file\n", "not a consentry key file"},
      {"", "not a consentry key file"},
      {"consentry-key-file 1\n1 " + secretish + "\n", "line 2 is malformed"},
      {"consentry-key-file 1\n0 " + std::string(64, 'a') + "\n", "line 2 is malformed"},
      {"consentry-key-file 1\n1 " + std::string(62, 'a') + "\n", "line 2 is malformed"},
      {"consentry-key-file 1\n1 " + std::string(64, 'a') + "\n1 " + std::string(64, 'b') + "\n",
       "line 3 is malformed"},
  };
  int n = 0;
  for (const auto& [contents, message] : cases) {
    const std::string& text = contents;  // INFO and CAPTURE cannot name a structured binding in clang 14
    const fs::path file = dir.path() / ("k" + std::to_string(n++));
    {
      std::ofstream out(file);
      out << text;
    }
    fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
    auto r = KeyFileKeyProvider::open(file);
    CAPTURE(text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::bad_input);
    CHECK(r.err().message.find(message) != std::string::npos);
    CHECK(r.err().message.find("aabb") == std::string::npos);
  }
}

TEST_CASE("a data key wrapped for one customer and version unwraps for no other") {
  Keyring k = Keyring::generate();
  const auto dek = Keyring::new_data_key();
  CHECK(dek.size() == Keyring::kDataKeyBytes);
  CHECK_FALSE(dek.equals(Keyring::new_data_key()));
  auto wrapped = k.wrap_data_key("C-A", dek);
  REQUIRE(wrapped.ok());

  auto same = k.unwrap_data_key("C-A", k.version(), *wrapped);
  REQUIRE(same.ok());
  CHECK(same->equals(dek));

  Keyring other = Keyring::generate();
  bytes tampered = *wrapped;
  tampered.back() ^= 0x80;
  const result<SecretBytes> refusals[] = {
      k.unwrap_data_key("C-B", k.version(), *wrapped),
      k.unwrap_data_key("C-A", k.version() + 1, *wrapped),
      k.unwrap_data_key("C-A", 0, *wrapped),
      other.unwrap_data_key("C-A", other.version(), *wrapped),
      k.unwrap_data_key("C-A", k.version(), tampered),
      k.unwrap_data_key("C-A", k.version(), byte_view(*wrapped).first(wrapped->size() - 1)),
  };
  for (const auto& r : refusals) {
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
  }
}

TEST_CASE("wrap_data_key refuses a data key of the wrong size") {
  Keyring k = Keyring::generate();
  auto r = k.wrap_data_key("C-A", SecretBytes::random(Keyring::kDataKeyBytes - 1));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
}

TEST_CASE("derive_key is stable per label and differs across labels") {
  Keyring k = Keyring::generate();
  const auto a1 = k.derive_key("pseudonym/analytics");
  const auto a2 = k.derive_key("pseudonym/analytics");
  const auto b = k.derive_key("pseudonym/marketing.email");
  const auto empty = k.derive_key("");
  CHECK(a1.size() == aead::kKeyBytes);
  CHECK(a1.equals(a2));
  CHECK_FALSE(a1.equals(b));
  CHECK_FALSE(a1.equals(empty));
  CHECK_FALSE(k.derive_key("a").equals(k.derive_key("a/")));
}

TEST_CASE("seal_field output opens only for the same customer and field under the same key") {
  const auto dek = Keyring::new_data_key();
  const std::string value = "ann@example.com";
  auto sealed = seal_field(dek, "C-1001", "email", value);
  REQUIRE(sealed.ok());
  auto opened = open_field(dek, "C-1001", "email", *sealed);
  REQUIRE(opened.ok());
  CHECK(opened->reveal_string() == value);

  bytes tampered = *sealed;
  tampered[aead::kNonceBytes] ^= 0x01;
  struct Case {
    std::string customer, field;
    result<SecretBytes> r;
  };
  Case cases[] = {
      {"C-1002", "email", open_field(dek, "C-1002", "email", *sealed)},
      {"C-1001", "phone", open_field(dek, "C-1001", "phone", *sealed)},
      {"C-1001", "email", open_field(Keyring::new_data_key(), "C-1001", "email", *sealed)},
      {"C-1001", "email", open_field(dek, "C-1001", "email", tampered)},
      // Same concatenation, different split: the length prefixes keep these apart.
      {"C-1001e", "mail", open_field(dek, "C-1001e", "mail", *sealed)},
  };
  for (const auto& c : cases) {
    REQUIRE_FALSE(c.r.ok());
    CHECK(c.r.err().code == errc::integrity);
    CHECK(c.r.err().message == "field '" + c.field + "' failed authentication");
    CHECK(c.r.err().message.find(value) == std::string::npos);
  }
}

TEST_CASE("seal_field refuses a data key of the wrong size") {
  auto r = seal_field(SecretBytes::random(3), "C-1", "email", "v");
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
}
