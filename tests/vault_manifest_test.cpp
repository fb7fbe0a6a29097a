// vault_manifest_test.cpp: each customer's manifest (the authenticated list of their values)
// cannot be changed, removed or swapped unnoticed; a value cannot be relabelled as the older
// sealing format; and a vault written before values' metadata was bound still reads, is brought
// up to date when it opens, and is protected from then on.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../src/crypto/aead.hpp"
#include "../src/crypto/keyring.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/must.hpp"
#include "support/raw_sql.hpp"
#include "support/retail_policy.hpp"
#include "support/tamperable.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr auto kYear = std::chrono::seconds(365 * 24 * 3600);
// The meta row that marks a vault whose values are all sealed in format 2 and listed
// (kMetaValuesListed in src/vault/manifest.hpp); a vault from before has none.
constexpr std::string_view kValuesListed = "values.listed";

using consentry::test::kStoreKinds;
using consentry::test::must;
using consentry::test::StoreKind;
using consentry::test::Tamperable;

result<FieldValue> read_as(const Vault& v, std::string_view accessor, std::string_view purpose,
                           const std::string& customer, std::string_view field) {
  auto a = v.accessor(accessor);
  REQUIRE(a.ok());
  auto view = a->view(customer, purpose);
  REQUIRE_MESSAGE(view.ok(), view.err().message);
  return view->get(field);
}

result<FieldValue> read_service(const Vault& v, const std::string& customer, std::string_view field) {
  return read_as(v, "support-desk", "service", customer, field);
}

template <class T>
void fails_authentication(const result<T>& r) {
  CHECK_FALSE(r.ok());
  if (!r.ok()) CHECK(r.err().code == errc::integrity);
}

/// CapturingProvider seals master keys under a passphrase and keeps a copy of each key it seals
/// or opens, so that a test can write rows as an older version of the library did.
class CapturingProvider final : public KeyProvider {
 public:
  std::string kind() const override { return inner_.kind(); }
  result<bytes> seal(std::uint32_t version, const SecretBytes& key) override {
    keep(version, key);
    return inner_.seal(version, key);
  }
  result<SecretBytes> open(std::uint32_t version, byte_view sealed) override {
    auto key = inner_.open(version, sealed);
    if (key) keep(version, *key);
    return key;
  }
  bool retire_destroys_key() const override { return false; }
  result<void> retire(std::uint32_t) override { return ok(); }

  const SecretBytes& master(std::uint32_t version) const {
    auto it = keys_.find(version);
    REQUIRE(it != keys_.end());
    return it->second;
  }

 private:
  void keep(std::uint32_t version, const SecretBytes& key) {
    keys_.insert_or_assign(version, SecretBytes::copy_of(key.reveal()));
  }
  PassphraseKeyProvider inner_{"legacy test passphrase", KdfStrength::minimum};
  std::map<std::uint32_t, SecretBytes> keys_;
};

/// LegacyValue is one value as an older vault stored it.
struct LegacyValue {
  std::string field, value, source;
  timestamp collected_at;
};

/// plant_legacy writes `customer` as vaults did before format 2: a data key wrapped under master
/// key version 1 with the associated data of then, values sealed in format 1, and no manifest.
/// Returns the wrapped key.
bytes plant_legacy(Store& s, const SecretBytes& master, const std::string& customer,
                   const std::vector<LegacyValue>& values) {
  SecretBytes dek = Keyring::new_data_key();
  bytes wrapped = must(aead::seal(master, dek.reveal(), aead::associated_data({"data-key", customer, "1"})));
  must(s.put_key(StoredKey{customer, 1, wrapped}));
  for (const LegacyValue& v : values) {
    bytes sealed = must(seal_field(dek, customer, v.field, v.value));
    must(s.put_field(StoredField{customer, v.field, std::move(sealed), v.source, v.collected_at, 1}));
  }
  return wrapped;
}

/// make_legacy turns a vault the test has just created (and closed) into one from before format 2:
/// the customers planted, the meta row of format 2 gone and, on SQLite, the format column too.
/// Returns each customer's wrapped key.
std::map<std::string, bytes> make_legacy(Tamperable& t, const CapturingProvider& keys, timestamp now) {
  std::map<std::string, bytes> wrapped;
  t.under([&](Store& s) {
    wrapped["C-1"] = plant_legacy(s, keys.master(1), "C-1",
                                  {{"email", "ann@example.com", "web-signup", now - kYear},
                                   {"phone", "+442079460958", "store", now - 2 * kYear}});
    wrapped["C-2"] =
        plant_legacy(s, keys.master(1), "C-2", {{"email", "bob@example.com", "web-signup", now}});
    must(s.delete_meta(kValuesListed));
  });
  if (t.on_sqlite()) test::execute_sql(t.file(), "ALTER TABLE fields DROP COLUMN format");
  return wrapped;
}

}  // namespace

TEST_CASE(
    "a manifest changed, deleted or swapped in the store fails the customer's reads, exports and writes") {
  const char* const kChanges[] = {"a byte of it changed", "its tag changed", "deleted",
                                  "another customer's put in its place", "an older one put back"};
  for (StoreKind kind : kStoreKinds) {
    for (std::string_view change : kChanges) {
      INFO("on " << std::string(test::store_name(kind)) << ": " << change);
      Tamperable t(kind, test::retail_policy());
      Vault& v = t.vault();
      const std::string manifest(kManifestField);
      must(v.put("C-1", "email", "ann@example.com", "web-signup"));
      const StoredField manifest_before_phone = t.row("C-1", manifest);
      must(v.put("C-1", "phone", "+442079460958", "web-signup"));
      must(v.put("C-2", "email", "bob@example.com", "web-signup"));
      REQUIRE(read_service(v, "C-1", "email").ok());

      bool email_still_listed = false;
      if (change == kChanges[0]) {
        StoredField m = t.row("C-1", manifest);
        m.sealed[m.sealed.size() / 2] ^= 0x01;
        t.put_row(m);
      } else if (change == kChanges[1]) {
        StoredField m = t.row("C-1", manifest);
        m.sealed.back() ^= 0x80;
        t.put_row(m);
      } else if (change == kChanges[2]) {
        t.delete_row("C-1", manifest);
      } else if (change == kChanges[3]) {
        StoredField m = t.row("C-2", manifest);
        m.customer = "C-1";
        t.put_row(m);
      } else {
        t.put_row(manifest_before_phone);
        email_still_listed = true;
      }

      // The older manifest is authentic and still lists the email as it is, but not the phone.
      // Every other change fails every field.
      if (email_still_listed)
        CHECK(read_service(v, "C-1", "email").ok());
      else
        fails_authentication(read_service(v, "C-1", "email"));
      fails_authentication(read_service(v, "C-1", "phone"));
      fails_authentication(v.export_subject("C-1"));
      // A write would vouch for whatever was done: it is refused and writes nothing.
      if (!email_still_listed) {
        fails_authentication(v.put("C-1", "notes", "called about a refund", "support"));
        CHECK_FALSE(t.has_row("C-1", "notes"));
      }
      // Another customer is untouched.
      CHECK(v.export_subject("C-2").ok());
    }
  }
}

TEST_CASE("a row changed after a read vouched for it fails the next read, which finds the same manifest") {
  // A read keeps what the manifest vouched for with the customer's data key, so that the next
  // read of the same rows under the same manifest bytes need not authenticate them again. A row
  // that differs from the one vouched for, in any column the manifest's digest covers, is
  // checked again, and fails, even though the manifest beside it is the one read before.
  const char* const kChanges[] = {"an older value put back", "its source changed",
                                  "its collection time changed", "its format changed",
                                  "another field's value put in its place"};
  for (StoreKind kind : kStoreKinds) {
    for (std::string_view change : kChanges) {
      INFO("on " << std::string(test::store_name(kind)) << ": " << change);
      Tamperable t(kind, test::retail_policy());
      Vault& v = t.vault();
      must(v.put("C-1", "email", "old@example.com", "web-signup"));
      const StoredField older = t.row("C-1", "email");
      must(v.put("C-1", "email", "ann@example.com", "web-signup"));
      must(v.put("C-1", "phone", "+442079460958", "web-signup"));
      const bytes manifest_bytes = t.row("C-1", std::string(kManifestField)).sealed;
      // Read twice: the second read is served by what the first vouched for.
      REQUIRE(must(read_service(v, "C-1", "email")).value == "ann@example.com");
      REQUIRE(must(read_service(v, "C-1", "email")).value == "ann@example.com");
      REQUIRE(read_service(v, "C-1", "phone").ok());

      const StoredField vouched = t.row("C-1", "email");
      StoredField email = vouched;
      if (change == kChanges[0]) {
        email = older;  // authentic under the data key: only the manifest tells it is stale
      } else if (change == kChanges[1]) {
        email.source = "purchased-list";
      } else if (change == kChanges[2]) {
        email.collected_at -= std::chrono::seconds(1);
      } else if (change == kChanges[3]) {
        email.format = kFieldSealVersion;
      } else {
        email.sealed = t.row("C-1", "phone").sealed;
      }
      t.put_row(email);
      REQUIRE(t.row("C-1", std::string(kManifestField)).sealed == manifest_bytes);
      fails_authentication(read_service(v, "C-1", "email"));
      fails_authentication(read_service(v, "C-1", "email"));
      // The row vouched for, put back, reads again; the other field was never in doubt.
      t.put_row(vouched);
      CHECK(must(read_service(v, "C-1", "email")).value == "ann@example.com");
      CHECK(read_service(v, "C-1", "phone").ok());
    }
  }
}

TEST_CASE("a value relabelled as the older sealing format fails authentication") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    must(v.put("C-1", "email", "ann@example.com", "web-signup"));
    StoredField email = t.row("C-1", "email");
    REQUIRE(email.format == kFieldSealMetadataVersion);
    email.format = kFieldSealVersion;
    t.put_row(email);
    fails_authentication(read_service(v, "C-1", "email"));
    fails_authentication(v.export_subject("C-1"));
  }
}

TEST_CASE(
    "withdrawing profiling from a customer whose manifest was changed deletes the inferences and vouches for "
    "nothing") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    must(v.put("C-1", "birth_date", "1990-04-02", "web-signup"));
    must(v.record_consent("C-1", "profiling", ConsentAction::grant));
    must(v.derive("C-1", "expecting_child", "true"));
    StoredField m = t.row("C-1", std::string(kManifestField));
    m.sealed[m.sealed.size() / 2] ^= 0x01;
    t.put_row(m);

    must(v.record_consent("C-1", "profiling", ConsentAction::withdraw));
    CHECK_FALSE(t.has_row("C-1", "expecting_child"));
    CHECK(t.row("C-1", std::string(kManifestField)).sealed == m.sealed);
    fails_authentication(read_service(v, "C-1", "birth_date"));
  }
}

TEST_CASE("a purge deletes a value only beside the manifest that lists it, and takes it off the list") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    const timestamp now = *t.clock.t;
    must(v.put("C-1", "email", "ann@example.com", "web-signup", now - 4 * kYear));
    must(v.put("C-1", "phone", "+442079460958", "web-signup", now - 4 * kYear));
    must(v.put("C-2", "email", "bob@example.com", "web-signup", now - 4 * kYear));
    const StoredField genuine = t.row("C-2", std::string(kManifestField));
    StoredField m = genuine;
    m.sealed[m.sealed.size() / 2] ^= 0x01;
    t.put_row(m);

    fails_authentication(v.purge());
    CHECK(t.has_row("C-2", "email"));

    // Put right, the purge goes through, and the manifest no longer lists what it deleted: the
    // email reads as absent, the phone (kept until erased) still reads.
    t.put_row(genuine);
    PurgeReport report = must(v.purge());
    CHECK(report.values == 2);
    CHECK_FALSE(t.has_row("C-1", "email"));
    CHECK_FALSE(t.has_row("C-2", "email"));
    CHECK(read_service(v, "C-1", "email").err().code == errc::not_found);
    CHECK(read_service(v, "C-1", "phone").ok());
    CHECK(v.export_subject("C-2").ok());
  }
}

TEST_CASE(
    "a vault written before values' metadata was bound reads after opening, and is protected from then on") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    auto keys = std::make_shared<CapturingProvider>();
    Tamperable t(kind, test::retail_policy(), keys);
    const timestamp now = *t.clock.t;
    t.close();
    const std::map<std::string, bytes> old_keys = make_legacy(t, *keys, now);

    t.reopen();
    Vault& v = t.vault();
    CHECK(must(read_service(v, "C-1", "email")).value == "ann@example.com");
    CHECK(must(read_service(v, "C-2", "email")).value == "bob@example.com");
    SubjectReport ann = must(v.export_subject("C-1"));
    REQUIRE(ann.fields.size() == 2);
    CHECK(ann.fields[0].field == "email");
    CHECK(ann.fields[0].source == "web-signup");
    CHECK(ann.fields[0].collected_at == now - kYear);
    CHECK(ann.fields[1].value == "+442079460958");
    CHECK(ann.fields[1].collected_at == now - 2 * kYear);

    // Opening re-sealed the values in format 2, listed them, and re-wrapped the data keys.
    CHECK(t.row("C-1", "email").format == kFieldSealMetadataVersion);
    CHECK(t.row("C-1", "phone").format == kFieldSealMetadataVersion);
    CHECK(t.has_row("C-2", std::string(kManifestField)));
    t.under([&](Store& s) {
      CHECK(must(s.get_key("C-1"))->wrapped != old_keys.at("C-1"));
      CHECK(must(s.get_meta(kValuesListed)).has_value());
    });

    // From then on a changed collection time or a deleted value fails, as in a new vault.
    StoredField email = t.row("C-1", "email");
    email.collected_at = now - 4 * kYear;
    t.put_row(email);
    fails_authentication(read_service(v, "C-1", "email"));
    t.delete_row("C-2", "email");
    fails_authentication(read_service(v, "C-2", "email"));
    // A second open has nothing left to re-seal, and changes nothing back.
    t.reopen();
    fails_authentication(read_service(t.vault(), "C-1", "email"));
    fails_authentication(read_service(t.vault(), "C-2", "email"));
  }
}

TEST_CASE("an older data key put back does not get a tampered customer re-sealed as if from an older vault") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    auto keys = std::make_shared<CapturingProvider>();
    Tamperable t(kind, test::retail_policy(), keys);
    const timestamp now = *t.clock.t;
    t.close();
    const std::map<std::string, bytes> old_keys = make_legacy(t, *keys, now);
    t.reopen();
    REQUIRE(read_service(t.vault(), "C-1", "phone").ok());
    t.close();

    // The unlisted key of before, put back with the manifest and a value deleted, and the meta row
    // gone, so that the next open walks the customers again.
    t.under([&](Store& s) {
      must(s.put_key(StoredKey{"C-1", 1, old_keys.at("C-1")}));
      must(s.delete_field("C-1", kManifestField));
      must(s.delete_field("C-1", "phone"));
      must(s.delete_meta(kValuesListed));
    });
    t.reopen();
    fails_authentication(read_service(t.vault(), "C-1", "phone"));
    fails_authentication(read_service(t.vault(), "C-1", "email"));
    fails_authentication(t.vault().export_subject("C-1"));
    CHECK(read_service(t.vault(), "C-2", "email").ok());
  }
}
