// store_lookup_test.cpp: the blind index entries of the keys-and-fields role on every store:
// written, replaced, found by (field, key version, index), and deleted with their value, by
// delete_field, erase_customer and a rolled-back transaction alike.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/extension/store.hpp"
#include "support/must.hpp"
#include "support/store_backends.hpp"

using namespace consentry;
using consentry::test::must;

namespace {

bytes b(std::string_view s) {
  return bytes(s.begin(), s.end());
}

StoredField value(std::string customer, std::string field) {
  return StoredField{std::move(customer), std::move(field), b("sealed"), "web",
                     timestamp{std::chrono::seconds{1700000000}}};
}

std::vector<std::string> ids(std::initializer_list<const char*> list) {
  return {list.begin(), list.end()};
}

}  // namespace

TEST_CASE_TEMPLATE("lookup entries are found by field, key version and index, and replaced in place", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* c : {"C-2", "C-1", "C-3"}) {
    must(s.put_key(StoredKey{c, 1, b("w")}));
    must(s.put_field(value(c, "email")));
  }
  must(s.put_lookup(StoredLookup{"C-2", "email", 1, 77}));
  must(s.put_lookup(StoredLookup{"C-1", "email", 1, 77}));
  must(s.put_lookup(StoredLookup{"C-3", "email", 2, 77}));
  must(s.put_lookup(StoredLookup{"C-1", "phone", 1, 77}));
  // Sorted by customer, each once; another field, version or index names no one.
  CHECK(must(s.find_lookup("email", 1, 77)) == ids({"C-1", "C-2"}));
  CHECK(must(s.find_lookup("email", 2, 77)) == ids({"C-3"}));
  CHECK(must(s.find_lookup("email", 1, 78)).empty());
  CHECK(must(s.find_lookup("phone", 1, 77)) == ids({"C-1"}));
  CHECK(must(s.find_lookup("notes", 1, 77)).empty());
  // The largest index a 32-bit entry can hold survives the trip.
  must(s.put_lookup(StoredLookup{"C-3", "email", 2, 4294967295}));
  CHECK(must(s.find_lookup("email", 2, 4294967295)) == ids({"C-3"}));
  CHECK(must(s.find_lookup("email", 2, 77)).empty());

  const auto entries = must(s.get_lookups("C-1"));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].field == "email");
  CHECK(entries[1].field == "phone");
  CHECK(entries[0].customer == "C-1");
  CHECK(entries[0].key_version == 1);
  CHECK(entries[0].index == 77);
  CHECK(must(s.get_lookups("C-9")).empty());

  must(s.delete_lookup("C-1", "phone"));
  must(s.delete_lookup("C-1", "phone"));  // nothing left: no error
  CHECK(must(s.find_lookup("phone", 1, 77)).empty());
  CHECK(must(s.get_lookups("C-1")).size() == 1);
}

TEST_CASE_TEMPLATE("a lookup entry goes with its value: delete_field, erase_customer, rollback", B,
                   STORE_BACKENDS) {
  B backend;
  Store& s = *backend.store;
  for (const char* c : {"C-1", "C-2"}) {
    must(s.put_key(StoredKey{c, 1, b("w")}));
    must(s.put_field(value(c, "email")));
    must(s.put_field(value(c, "phone")));
    must(s.put_lookup(StoredLookup{c, "email", 1, 5}));
    must(s.put_lookup(StoredLookup{c, "phone", 1, 6}));
  }
  must(s.delete_field("C-1", "email"));
  CHECK(must(s.find_lookup("email", 1, 5)) == ids({"C-2"}));
  CHECK(must(s.find_lookup("phone", 1, 6)) == ids({"C-1", "C-2"}));

  must(s.erase_customer("C-2", "tag-2", timestamp{std::chrono::seconds{1700000100}}));
  CHECK(must(s.find_lookup("email", 1, 5)).empty());
  CHECK(must(s.find_lookup("phone", 1, 6)) == ids({"C-1"}));
  CHECK(must(s.get_lookups("C-2")).empty());

  // Written in a transaction rolled back: never there.
  must(s.begin());
  must(s.put_lookup(StoredLookup{"C-1", "email", 1, 9}));
  must(s.rollback());
  CHECK(must(s.find_lookup("email", 1, 9)).empty());
  must(s.begin());
  must(s.put_lookup(StoredLookup{"C-1", "email", 1, 9}));
  must(s.commit());
  CHECK(must(s.find_lookup("email", 1, 9)) == ids({"C-1"}));
}
