// crypto_field_format_test.cpp: the sealing format that binds a value's source and collection
// time, the two formats of wrapped data keys, and the digests and tags of manifests.
#include <doctest/doctest.h>

#include <string>

#include "../src/crypto/aead.hpp"
#include "../src/crypto/keyring.hpp"
#include "support/must.hpp"

using namespace consentry;
using consentry::test::must;

namespace {

timestamp at(std::int64_t seconds) {
  return timestamp{std::chrono::seconds{seconds}};
}

}  // namespace

TEST_CASE("a format-2 value opens only with the source and collection time it was sealed with") {
  const SecretBytes dek = Keyring::new_data_key();
  const FieldMetadata meta{"credit-bureau", at(1'700'000'000)};
  const bytes sealed = must(seal_field(dek, "C-1", "credit_score", "712", meta));
  CHECK(
      must(open_field(dek, "C-1", "credit_score", sealed, kFieldSealMetadataVersion, meta)).reveal_string() ==
      "712");

  struct Case {
    const char* what;
    result<SecretBytes> opened;
  };
  Case cases[] = {
      {"another source", open_field(dek, "C-1", "credit_score", sealed, kFieldSealMetadataVersion,
                                    {"web-signup", meta.collected_at})},
      {"another collection time", open_field(dek, "C-1", "credit_score", sealed, kFieldSealMetadataVersion,
                                             {meta.source, at(1'600'000'000)})},
      {"another customer", open_field(dek, "C-2", "credit_score", sealed, kFieldSealMetadataVersion, meta)},
      {"another field", open_field(dek, "C-1", "email", sealed, kFieldSealMetadataVersion, meta)},
      {"relabelled as format 1", open_field(dek, "C-1", "credit_score", sealed, kFieldSealVersion, meta)},
      {"an unknown format", open_field(dek, "C-1", "credit_score", sealed, 3, meta)},
  };
  for (Case& c : cases) {
    INFO(std::string(c.what));
    REQUIRE_FALSE(c.opened.ok());
    CHECK(c.opened.err().code == errc::integrity);
    // One message for every cause, naming the field asked for and never the value.
    CHECK(c.opened.err().message.find("' failed authentication") != std::string::npos);
    CHECK(c.opened.err().message.find("712") == std::string::npos);
  }
  // And a format-1 value does not open as format 2.
  const bytes old = must(seal_field(dek, "C-1", "credit_score", "712"));
  CHECK(must(open_field(dek, "C-1", "credit_score", old, kFieldSealVersion, meta)).reveal_string() == "712");
  CHECK_FALSE(open_field(dek, "C-1", "credit_score", old, kFieldSealMetadataVersion, meta).ok());
}

TEST_CASE("a data key wrapped as older vaults did opens, says so, and is listed under the same version") {
  Keyring k = Keyring::generate();
  const SecretBytes dek = Keyring::new_data_key();
  const bytes unlisted =
      must(aead::seal(*k.master_key(1), dek.reveal(), aead::associated_data({"data-key", "C-1", "1"})));
  UnwrappedDataKey opened = must(k.open_data_key("C-1", 1, unlisted));
  CHECK(opened.format == DataKeyFormat::unlisted);
  CHECK(opened.key.equals(dek));

  const std::uint32_t next = k.add_version();
  must(k.make_current(next));
  // Listing keeps the version the key had, whatever is current.
  const bytes listed = must(k.list_data_key("C-1", 1, unlisted));
  opened = must(k.open_data_key("C-1", 1, listed));
  CHECK(opened.format == DataKeyFormat::listed);
  CHECK(opened.key.equals(dek));
  CHECK_FALSE(k.open_data_key("C-1", next, listed).ok());
  CHECK_FALSE(k.open_data_key("C-2", 1, listed).ok());

  // Rotation moves a key to the current version in the format it had.
  CHECK(must(k.open_data_key("C-1", next, must(k.rewrap_data_key("C-1", 1, unlisted)))).format ==
        DataKeyFormat::unlisted);
  CHECK(must(k.open_data_key("C-1", next, must(k.rewrap_data_key("C-1", 1, listed)))).format ==
        DataKeyFormat::listed);
  // New keys are wrapped listed.
  CHECK(must(k.open_data_key("C-3", next, must(k.wrap_data_key("C-3", dek)))).format ==
        DataKeyFormat::listed);
}

TEST_CASE("a manifest tag depends on the data key, the customer and every byte of the body") {
  const SecretBytes dek = Keyring::new_data_key();
  const bytes body = {1, 0, 0, 0, 0};
  const auto tag = manifest_tag(dek, "C-1", body);
  CHECK(manifest_tag_matches(dek, "C-1", body, tag));
  CHECK_FALSE(manifest_tag_matches(Keyring::new_data_key(), "C-1", body, tag));
  CHECK_FALSE(manifest_tag_matches(dek, "C-2", body, tag));
  CHECK_FALSE(manifest_tag_matches(dek, "C-1", bytes{1, 0, 0, 0, 1}, tag));
  CHECK_FALSE(manifest_tag_matches(dek, "C-1", body, byte_view(tag).first(16)));

  // A value's digest changes with each part of its row.
  const bytes sealed = {9, 9, 9};
  const auto digest = value_digest(2, "web", at(1), sealed);
  CHECK(digest == value_digest(2, "web", at(1), sealed));
  CHECK(digest != value_digest(1, "web", at(1), sealed));
  CHECK(digest != value_digest(2, "store", at(1), sealed));
  CHECK(digest != value_digest(2, "web", at(2), sealed));
  CHECK(digest != value_digest(2, "web", at(1), bytes{9, 9, 8}));
  // The parts are framed: moving a byte from the source into the time changes the digest.
  CHECK(value_digest(2, "web1", at(1), sealed) != value_digest(2, "web", at(11), sealed));
}

TEST_CASE("field values bind the associated data the format defines, for long ids and times before 1970") {
  const SecretBytes dek = Keyring::new_data_key();
  const std::string long_id = "C-" + std::string(400, '7');  // past AdBuffer's inline room
  for (const std::string& customer : {std::string("C-1"), long_id}) {
    for (std::int64_t seconds : {std::int64_t{1'700'000'000}, std::int64_t{-86'400}, std::int64_t{0}}) {
      INFO(customer.size() << "-byte id, collected at " << seconds);
      const FieldMetadata meta{"web", at(seconds)};
      // What the format defines, built by hand: the parts as decimal text, framed in order.
      const bytes ad1 = aead::associated_data({"field", customer, "email", "1"});
      const bytes ad2 =
          aead::associated_data({"field", customer, "email", "2", "web", std::to_string(seconds)});

      const bytes by_hand1 = must(aead::seal(dek, as_bytes("ann@example.com"), ad1));
      const bytes by_hand2 = must(aead::seal(dek, as_bytes("ann@example.com"), ad2));
      CHECK(must(open_field(dek, customer, "email", by_hand1)).reveal_string() == "ann@example.com");
      CHECK(must(open_field(dek, customer, "email", by_hand2, kFieldSealMetadataVersion, meta))
                .reveal_string() == "ann@example.com");

      const bytes sealed1 = must(seal_field(dek, customer, "email", "ann@example.com"));
      const bytes sealed2 = must(seal_field(dek, customer, "email", "ann@example.com", meta));
      CHECK(must(aead::open(dek, sealed1, ad1)).reveal_string() == "ann@example.com");
      CHECK(must(aead::open(dek, sealed2, ad2)).reveal_string() == "ann@example.com");
    }
  }
}
