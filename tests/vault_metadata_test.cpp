// vault_metadata_test.cpp: someone with write access to the store (and no key) changes a value's
// collection time or source, deletes a value, moves one in from elsewhere or puts an older one
// back: every read, export, aggregate and purge that meets the change fails authentication
// (errc::integrity) instead of acting on it.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <utility>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/tamperable.hpp"

using namespace consentry;

namespace {

constexpr auto kYear = std::chrono::seconds(365 * 24 * 3600);

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

/// fails_authentication checks that `r` failed with errc::integrity.
template <class T>
void fails_authentication(const result<T>& r) {
  CHECK_FALSE(r.ok());
  if (!r.ok()) CHECK(r.err().code == errc::integrity);
}

}  // namespace

TEST_CASE(
    "a collection time moved earlier in the store fails reads, exports and purges, which delete nothing") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    const timestamp now = *t.clock.t;
    must(v.put("C-1", "email", "ann@example.com", "web-signup", now - kYear));
    must(v.put("C-1", "phone", "+44 20 7946 0000", "web-signup", now - kYear));
    // Four years back is past email's retention (P3Y): a purge would delete it.
    StoredField email = t.row("C-1", "email");
    email.collected_at = now - 4 * kYear;
    t.put_row(email);

    fails_authentication(read_service(v, "C-1", "email"));
    fails_authentication(v.export_subject("C-1"));
    fails_authentication(v.describe_subject("C-1"));
    PurgeOptions dry;
    dry.dry_run = true;
    fails_authentication(v.purge(dry));
    fails_authentication(v.purge());
    CHECK(t.has_row("C-1", "email"));
    // The untouched value still reads.
    CHECK(read_service(v, "C-1", "phone").ok());
  }
}

TEST_CASE("a value past retention whose collection time was moved later stays unreadable") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    const timestamp now = *t.clock.t;
    must(v.put("C-1", "email", "ann@example.com", "web-signup", now - 4 * kYear));
    auto expired = read_service(v, "C-1", "email");
    REQUIRE_FALSE(expired.ok());
    REQUIRE(expired.err().reason == deny_reason::retention_expired);

    StoredField email = t.row("C-1", "email");
    email.collected_at = now - kYear;
    t.put_row(email);
    fails_authentication(read_service(v, "C-1", "email"));
    fails_authentication(v.export_subject("C-1"));
  }
}

TEST_CASE("a value whose source was changed in the store fails reads and exports") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    must(v.put("C-1", "credit_score", "712", "credit-bureau"));
    must(v.put("C-1", "email", "ann@example.com", "web-signup"));
    StoredField score = t.row("C-1", "credit_score");
    score.source = "web-signup";
    t.put_row(score);
    fails_authentication(read_service(v, "C-1", "credit_score"));
    fails_authentication(v.export_subject("C-1"));

    // Relabelled the other way (a value from an unpermitted source made to look permitted).
    StoredField email = t.row("C-1", "email");
    email.source = "credit-bureau";
    t.put_row(email);
    fails_authentication(read_service(v, "C-1", "email"));
  }
}

TEST_CASE(
    "a value row deleted from the store fails reads, exports and aggregates instead of reading as absent") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    must(v.put("C-1", "email", "ann@example.com", "web-signup"));
    must(v.put("C-1", "phone", "+44 20 7946 0000", "web-signup"));
    must(v.put("C-2", "email", "bob@example.com", "web-signup"));
    t.delete_row("C-1", "phone");

    fails_authentication(read_service(v, "C-1", "phone"));
    fails_authentication(v.export_subject("C-1"));
    fails_authentication(v.describe_subject("C-1"));
    // A field never held still reads as absent.
    CHECK(read_service(v, "C-2", "phone").err().code == errc::not_found);

    t.delete_row("C-2", "email");
    AggregateQuery count;
    count.kind = AggregateKind::count;
    fails_authentication(v.private_aggregate("analytics", "email", count));
  }
}

TEST_CASE("a row from another customer or field, or an older value of the same field, fails authentication") {
  const char* const kMoves[] = {"another customer's row", "two customers' rows swapped",
                                "another field's row", "an older value of the field put back"};
  for (StoreKind kind : kStoreKinds) {
    for (std::string_view move : kMoves) {
      INFO("on " << std::string(test::store_name(kind)) << ": " << move);
      Tamperable t(kind, test::retail_policy());
      Vault& v = t.vault();
      must(v.put("C-1", "email", "ann@example.com", "web-signup"));
      must(v.put("C-1", "notes", "prefers phone", "support"));
      must(v.put("C-2", "email", "bob@example.com", "web-signup"));
      const StoredField ann_email = t.row("C-1", "email");
      if (move == kMoves[0]) {
        StoredField moved = t.row("C-2", "email");
        moved.customer = "C-1";
        t.put_row(moved);
      } else if (move == kMoves[1]) {
        StoredField bob = t.row("C-2", "email");
        StoredField ann = ann_email;
        std::swap(ann.customer, bob.customer);
        t.put_row(ann);
        t.put_row(bob);
        fails_authentication(read_service(v, "C-2", "email"));
      } else if (move == kMoves[2]) {
        StoredField moved = t.row("C-1", "notes");
        moved.field = "email";
        t.put_row(moved);
      } else {
        must(v.put("C-1", "email", "ann@new.example", "web-signup"));
        REQUIRE(must(read_service(v, "C-1", "email")).value == "ann@new.example");
        t.put_row(ann_email);
      }
      fails_authentication(read_service(v, "C-1", "email"));
      fails_authentication(v.export_subject("C-1"));
    }
  }
}

TEST_CASE("an inference put back after withdrawing consent to profiling deleted it fails authentication") {
  for (StoreKind kind : kStoreKinds) {
    INFO("on " << std::string(test::store_name(kind)));
    Tamperable t(kind, test::retail_policy());
    Vault& v = t.vault();
    must(v.put("C-1", "birth_date", "1990-04-02", "web-signup"));
    must(v.record_consent("C-1", "profiling", ConsentAction::grant));
    must(v.derive("C-1", "expecting_child", "true"));
    const StoredField guess = t.row("C-1", "expecting_child");
    must(v.record_consent("C-1", "profiling", ConsentAction::withdraw));
    REQUIRE_FALSE(t.has_row("C-1", "expecting_child"));

    t.put_row(guess);
    must(v.record_consent("C-1", "profiling", ConsentAction::grant));
    fails_authentication(read_as(v, "propensity-model", "profiling", "C-1", "expecting_child"));
    fails_authentication(v.export_subject("C-1"));
  }
}
