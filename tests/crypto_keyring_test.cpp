// crypto_keyring_test.cpp: master key sealing, data key wrapping, derived keys, field sealing.
#include <doctest/doctest.h>
#include <sodium.h>

#include <string>

#include "consentry/aead.hpp"
#include "consentry/keyring.hpp"

using namespace consentry;

namespace {

constexpr std::string_view kPassphrase = "correct horse battery staple";

Keyring make_keyring(SealedMasterKey& sealed) {
  auto k = Keyring::create(kPassphrase, KdfStrength::minimum, sealed);
  REQUIRE(k.ok());
  return std::move(k).value();
}

void check_refused(const result<Keyring>& r, errc code) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == code);
  CHECK(r.err().message.find(kPassphrase) == std::string::npos);
}

}  // namespace

TEST_CASE("create seals a master key that unlock recovers with the same passphrase") {
  SealedMasterKey sealed;
  Keyring created = make_keyring(sealed);
  CHECK(created.version() == 1);
  CHECK(sealed.version == 1);
  CHECK(sealed.kdf.salt.size() == crypto_pwhash_SALTBYTES);
  CHECK(sealed.kdf.opslimit == crypto_pwhash_argon2id_OPSLIMIT_MIN);
  CHECK(sealed.kdf.memlimit == crypto_pwhash_argon2id_MEMLIMIT_MIN);
  CHECK(sealed.wrapped.size() == Keyring::kDataKeyBytes + aead::kOverheadBytes);

  auto unlocked = Keyring::unlock(kPassphrase, sealed);
  REQUIRE(unlocked.ok());
  CHECK(unlocked->version() == 1);
  // Same master key: the same derived key, and data keys cross between the two keyrings.
  CHECK(unlocked->derive_key("audit/customer").equals(created.derive_key("audit/customer")));
  const auto dek = Keyring::new_data_key();
  auto wrapped = created.wrap_data_key("C-1001", dek);
  REQUIRE(wrapped.ok());
  auto back = unlocked->unwrap_data_key("C-1001", 1, *wrapped);
  REQUIRE(back.ok());
  CHECK(back->equals(dek));
}

TEST_CASE("interactive strength uses libsodium's interactive Argon2id limits") {
  SealedMasterKey sealed;
  auto k = Keyring::create("pass", KdfStrength::interactive, sealed);
  REQUIRE(k.ok());
  CHECK(sealed.kdf.opslimit == crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
  CHECK(sealed.kdf.memlimit == crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE);
}

TEST_CASE("two vaults with the same passphrase get different salts and master keys") {
  SealedMasterKey a, b;
  Keyring ka = make_keyring(a);
  Keyring kb = make_keyring(b);
  CHECK(a.kdf.salt != b.kdf.salt);
  CHECK(a.wrapped != b.wrapped);
  CHECK_FALSE(ka.derive_key("x").equals(kb.derive_key("x")));
}

TEST_CASE("create and unlock refuse an empty passphrase") {
  SealedMasterKey sealed;
  check_refused(Keyring::create("", KdfStrength::minimum, sealed), errc::invalid_argument);
  (void)make_keyring(sealed);
  check_refused(Keyring::unlock("", sealed), errc::invalid_argument);
}

TEST_CASE("unlock with a wrong passphrase fails with integrity") {
  SealedMasterKey sealed;
  (void)make_keyring(sealed);
  auto r = Keyring::unlock("correct horse battery stapler", sealed);
  check_refused(r, errc::integrity);
  CHECK(r.err().message == "wrong passphrase or damaged master key");
}

TEST_CASE("unlock refuses a sealed master key altered anywhere") {
  SealedMasterKey sealed;
  (void)make_keyring(sealed);
  for (std::size_t i = 0; i < sealed.wrapped.size(); ++i) {
    SealedMasterKey tampered = sealed;
    tampered.wrapped[i] ^= 0x01;
    CAPTURE(i);
    check_refused(Keyring::unlock(kPassphrase, tampered), errc::integrity);
  }
  SealedMasterKey truncated = sealed;
  truncated.wrapped.pop_back();
  check_refused(Keyring::unlock(kPassphrase, truncated), errc::integrity);

  SealedMasterKey other_salt = sealed;
  other_salt.kdf.salt[0] ^= 0x01;
  check_refused(Keyring::unlock(kPassphrase, other_salt), errc::integrity);

  SealedMasterKey other_ops = sealed;
  other_ops.kdf.opslimit += 1;
  check_refused(Keyring::unlock(kPassphrase, other_ops), errc::integrity);

  SealedMasterKey other_version = sealed;
  other_version.version = 2;
  check_refused(Keyring::unlock(kPassphrase, other_version), errc::integrity);
}

TEST_CASE("unlock refuses KDF parameters outside libsodium's limits or a wrong salt size") {
  SealedMasterKey sealed;
  (void)make_keyring(sealed);
  auto variant = [&](auto change) {
    SealedMasterKey s = sealed;
    change(s.kdf);
    return Keyring::unlock(kPassphrase, s);
  };
  check_refused(variant([](KdfParams& k) { k.opslimit = crypto_pwhash_argon2id_OPSLIMIT_MIN - 1; }),
                errc::integrity);
  check_refused(
      variant([](KdfParams& k) { k.opslimit = std::uint64_t{crypto_pwhash_argon2id_OPSLIMIT_MAX} + 1; }),
      errc::integrity);
  check_refused(variant([](KdfParams& k) { k.memlimit = crypto_pwhash_argon2id_MEMLIMIT_MIN - 1; }),
                errc::integrity);
  check_refused(
      variant([](KdfParams& k) { k.memlimit = std::uint64_t{crypto_pwhash_argon2id_MEMLIMIT_MAX} + 1; }),
      errc::integrity);
  check_refused(variant([](KdfParams& k) { k.salt.pop_back(); }), errc::integrity);
  check_refused(variant([](KdfParams& k) { k.salt.push_back(0); }), errc::integrity);
  check_refused(variant([](KdfParams& k) { k.salt.clear(); }), errc::integrity);
}

TEST_CASE("a data key wrapped for one customer and version unwraps for no other") {
  SealedMasterKey sealed;
  Keyring k = make_keyring(sealed);
  const auto dek = Keyring::new_data_key();
  CHECK(dek.size() == Keyring::kDataKeyBytes);
  CHECK_FALSE(dek.equals(Keyring::new_data_key()));
  auto wrapped = k.wrap_data_key("C-A", dek);
  REQUIRE(wrapped.ok());

  auto same = k.unwrap_data_key("C-A", k.version(), *wrapped);
  REQUIRE(same.ok());
  CHECK(same->equals(dek));

  SealedMasterKey other_sealed;
  Keyring other = make_keyring(other_sealed);
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
  SealedMasterKey sealed;
  Keyring k = make_keyring(sealed);
  auto r = k.wrap_data_key("C-A", SecretBytes::random(Keyring::kDataKeyBytes - 1));
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::invalid_argument);
}

TEST_CASE("derive_key is stable per label and differs across labels and from the master wrap") {
  SealedMasterKey sealed;
  Keyring k = make_keyring(sealed);
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
