// vault_row_voucher_test.cpp: RowVoucher checks a read's rows against the customer's manifest, or
// against what an earlier read under the same key kept, and never passes a row on nothing.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>

#include "consentry/records.hpp"
#include "consentry/secret_bytes.hpp"
#include "crypto/keyring.hpp"
#include "vault/manifest.hpp"

using namespace consentry;

namespace {

StoredField row_of(const std::string& field, const std::string& sealed) {
  StoredField f;
  f.customer = "C-1";
  f.field = field;
  f.sealed = bytes(sealed.begin(), sealed.end());
  f.source = "web-signup";
  f.collected_at = timestamp{std::chrono::seconds{1'767'225'600}};
  f.format = 2;
  return f;
}

}  // namespace

TEST_CASE("a row voucher checks rows against the manifest and keeps what it vouched for") {
  const SecretBytes dek = SecretBytes::random(Keyring::kDataKeyBytes);
  const StoredField email = row_of("email", "sealed email bytes");
  const StoredField city = row_of("city", "sealed city bytes");
  Manifest listed;
  listed.note(email);
  listed.note(city);
  const StoredField manifest_row = listed.seal(dek, "C-1");

  RowVoucher first(&dek, "C-1", manifest_row, true, nullptr);
  CHECK(first.check("email", &email).ok());
  CHECK(first.check("phone", nullptr).ok());  // absent and not listed
  const StoredField older = row_of("email", "an older value put back");
  CHECK(first.check("email", &older).err().code == errc::integrity);
  CHECK(first.check("city", nullptr).err().code == errc::integrity);  // listed, but deleted
  std::shared_ptr<const VouchedRows> kept = first.kept();
  REQUIRE(kept != nullptr);
  CHECK(kept->manifest_row == manifest_row.sealed);
  REQUIRE(kept->rows.size() == 1);
  CHECK(kept->holds(email));
  // What vouched is given away: a row checked afterwards is refused, not passed on nothing.
  CHECK(first.check("email", &email).err().code == errc::internal);
  CHECK(first.kept() == nullptr);

  // The next read finds the same manifest bytes: the kept row passes, the others are checked.
  RowVoucher second(&dek, "C-1", manifest_row, true, kept);
  CHECK(second.check("email", &email).ok());
  CHECK(second.check("email", &older).err().code == errc::integrity);
  CHECK(second.check("city", &city).ok());
  std::shared_ptr<const VouchedRows> again = second.kept();
  REQUIRE(again != nullptr);
  CHECK(again->rows.size() == 2);
  CHECK(again->holds(city));

  // Nothing new vouched for: nothing to keep again.
  RowVoucher third(&dek, "C-1", manifest_row, true, again);
  CHECK(third.check("email", &email).ok());
  CHECK(third.kept() == nullptr);
}

TEST_CASE("a row voucher does not trust kept rows of other manifest bytes or a failed manifest") {
  const SecretBytes dek = SecretBytes::random(Keyring::kDataKeyBytes);
  const StoredField email = row_of("email", "sealed email bytes");
  Manifest listed;
  listed.note(email);
  const StoredField manifest_row = listed.seal(dek, "C-1");
  RowVoucher first(&dek, "C-1", manifest_row, true, nullptr);
  REQUIRE(first.check("email", &email).ok());
  std::shared_ptr<const VouchedRows> kept = first.kept();
  REQUIRE(kept != nullptr);

  // The manifest changed since (the email deleted): the kept row no longer vouches for it.
  Manifest emptied;
  const StoredField newer_row = emptied.seal(dek, "C-1");
  RowVoucher changed(&dek, "C-1", newer_row, true, kept);
  CHECK(changed.check("email", &email).err().code == errc::integrity);

  // A manifest row that fails authentication fails every check, kept rows or not.
  StoredField tampered = manifest_row;
  tampered.sealed.back() ^= 0x01;
  RowVoucher forged(&dek, "C-1", tampered, true, kept);
  CHECK(forged.check("email", &email).err().code == errc::integrity);
  CHECK(forged.check("phone", nullptr).err().code == errc::integrity);
  CHECK(forged.kept() == nullptr);

  // Without a data key nothing was ever stored: no row may be there.
  RowVoucher keyless(nullptr, "C-1", std::nullopt, false, nullptr);
  CHECK(keyless.check("email", nullptr).ok());
  RowVoucher keyless_with_rows(nullptr, "C-1", std::nullopt, true, nullptr);
  CHECK(keyless_with_rows.check("email", &email).err().code == errc::integrity);
}
