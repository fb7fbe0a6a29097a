// sealed_value_fuzzer.cpp: the decoders of what a vault stores sealed, on any bytes (a vault file
// altered by someone with access to it). The first byte picks one:
//   0: open_field(data key, customer, field, sealed): "customer\nfield\n" then the sealed bytes
//   1: Keyring::unwrap_data_key(customer, version, wrapped): version byte, "customer\n", wrapped
//   2: Keyring::assemble, the derivation root sealed under a version: version byte, sealed root
//   3: PassphraseKeyProvider::open(version, sealed): version byte, sealed master key
// Keys and passphrase are fixed (fuzz/corpus/sealed_value/ holds values sealed under them), so
// only altered bytes fail. What opens must survive sealing again.
#include <sodium.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "../src/crypto/aead.hpp"
#include "../src/crypto/keyring.hpp"
#include "consentry/key_provider.hpp"
#include "fuzz_support.hpp"

namespace {

using namespace consentry;
constexpr const char* kTarget = "sealed_value";

// fixed_key is 32 bytes of `fill`, a key every run of the target knows.
SecretBytes fixed_key(std::uint8_t fill) {
  const std::vector<std::uint8_t> key(Keyring::kMasterKeyBytes, fill);
  return SecretBytes::copy_of(byte_view(key));
}

// fixed_masters are master key versions 1 (32 bytes of 0x01) and 2 (32 bytes of 0x02).
std::vector<Keyring::MasterKey> fixed_masters() {
  std::vector<Keyring::MasterKey> masters;
  masters.push_back({1, fixed_key(0x01)});
  masters.push_back({2, fixed_key(0x02)});
  return masters;
}

// fixed_keyring holds fixed_masters (version 2 current) and the root 32 bytes of 0x0f, sealed
// under version 1 as a vault stores it.
const Keyring& fixed_keyring() {
  static const Keyring keyring = [] {
    const SecretBytes master = fixed_key(0x01);
    const SecretBytes root = fixed_key(0x0f);
    auto sealed = aead::seal(master, root.reveal(), aead::associated_data({"root", "1"}));
    fuzz::check(sealed.ok(), kTarget, "the fixed root seals");
    auto ring = Keyring::assemble(fixed_masters(), 2, 1, *sealed);
    fuzz::check(ring.ok(), kTarget, "the fixed keyring assembles (has the sealed root's format changed?)");
    return std::move(ring).value();
  }();
  return keyring;
}

void open_field_case(fuzz::Input& in) {
  static const SecretBytes dek = fixed_key(0x0d);
  const std::string_view customer = in.line();
  const std::string_view field = in.line();
  auto value = open_field(dek, customer, field, fuzz::bytes_of(in.rest()));
  if (!value) {
    fuzz::check(value.err().code == errc::integrity, kTarget, "an altered field is errc::integrity");
    return;
  }
  auto again = seal_field(dek, customer, field, value->reveal_string());
  fuzz::check(again.ok(), kTarget, "an opened value seals again");
  auto reopened = open_field(dek, customer, field, *again);
  fuzz::check(reopened.ok() && reopened->equals(*value), kTarget, "a value sealed again opens to itself");
}

void unwrap_case(fuzz::Input& in) {
  const Keyring& keyring = fixed_keyring();
  const std::uint32_t version = in.byte();
  const std::string_view customer = in.line();
  const byte_view wrapped = fuzz::bytes_of(in.rest());
  auto dek = keyring.unwrap_data_key(customer, version, wrapped);
  auto rewrapped = keyring.rewrap_data_key(customer, version, wrapped);
  fuzz::check(dek.ok() == rewrapped.ok(), kTarget, "rewrap opens what unwrap opens");
  if (!dek) {
    fuzz::check(dek.err().code == errc::integrity, kTarget, "an altered data key is errc::integrity");
    return;
  }
  fuzz::check(dek->size() == Keyring::kDataKeyBytes, kTarget, "an unwrapped data key has its size");
  auto again = keyring.unwrap_data_key(customer, keyring.version(), *rewrapped);
  fuzz::check(again.ok() && again->equals(*dek), kTarget, "a rewrapped data key is the same key");
}

void assemble_case(fuzz::Input& in) {
  const std::uint32_t root_version = in.byte();
  auto ring = Keyring::assemble(fixed_masters(), 2, root_version, fuzz::bytes_of(in.rest()));
  if (!ring) {
    fuzz::check(ring.err().code == errc::integrity, kTarget, "an altered root is errc::integrity");
    return;
  }
  fuzz::check(ring->version() == 2 && ring->versions() == std::vector<std::uint32_t>{1, 2}, kTarget,
              "an assembled keyring holds the versions given");
}

void passphrase_case(fuzz::Input& in) {
  const std::uint32_t version = in.byte();
  const std::string_view sealed = in.rest();
  // Limits inside libsodium's range but above a fuzz run's budget are skipped: Argon2id with
  // them is slow by design (see the report on stored limits in fuzz/README.md).
  constexpr std::size_t kLimitsEnd = 1 + 8 + 8;
  if (sealed.size() >= kLimitsEnd) {
    std::uint64_t ops = 0, mem = 0;
    for (std::size_t i = 1; i < 9; ++i) ops = ops << 8 | static_cast<std::uint8_t>(sealed[i]);
    for (std::size_t i = 9; i < 17; ++i) mem = mem << 8 | static_cast<std::uint8_t>(sealed[i]);
    const bool in_range =
        ops <= crypto_pwhash_argon2id_OPSLIMIT_MAX && mem <= crypto_pwhash_argon2id_MEMLIMIT_MAX;
    if (in_range && (ops > 3 || mem > 64 * 1024)) return;
  }
  PassphraseKeyProvider provider("fuzz passphrase", KdfStrength::minimum);
  auto master = provider.open(version, fuzz::bytes_of(sealed));
  if (!master) {
    fuzz::check(master.err().code == errc::integrity, kTarget, "an altered master key is errc::integrity");
    return;
  }
  auto again = provider.seal(version, *master);
  fuzz::check(again.ok(), kTarget, "an opened master key seals again");
  auto reopened = provider.open(version, *again);
  fuzz::check(reopened.ok() && reopened->equals(*master), kTarget,
              "a master key sealed again opens to itself");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::reset_randomness();
  fuzz::Input in(data, size);
  switch (in.byte() % 4) {
    case 0: open_field_case(in); break;
    case 1: unwrap_case(in); break;
    case 2: assemble_case(in); break;
    default: passphrase_case(in); break;
  }
  return 0;
}
