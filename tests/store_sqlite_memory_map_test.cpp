// store_sqlite_memory_map_test.cpp: the SQLite store reads its vault file through a memory map,
// which a connection keeps while another connection commits (the audit's batch thread does, once
// per batch): the reads after such a commit touch pages already mapped, and they read what the
// file holds however the other connection grew, shrank or rewrote it.
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "consentry/extension/store.hpp"
#include "support/must.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
namespace fs = std::filesystem;
using consentry::test::must;
using consentry::test::TempDir;

namespace {

timestamp at(std::int64_t unix_seconds) {
  return timestamp{std::chrono::seconds{unix_seconds}};
}

std::string customer(int i) {
  return "C-" + std::to_string(100000 + i);
}

// sealed_of is a value of about 1 KiB that names its customer and its version, so that a read
// of the wrong page or of an old page shows.
bytes sealed_of(int i, int version) {
  std::string text = customer(i) + "/v" + std::to_string(version) + "/";
  text.resize(1024, static_cast<char>('a' + (i + version) % 26));
  return bytes(text.begin(), text.end());
}

// put_customers writes customers first..last-1 at `version`, in one transaction.
void put_customers(Store& s, int first, int last, int version) {
  must(s.begin());
  for (int i = first; i < last; ++i)
    must(s.put_field(StoredField{customer(i), "notes", sealed_of(i, version), "web-signup", at(1700000000)}));
  must(s.commit());
}

// check_customers reads customers first..last-1 through `s` and checks each is at `version`.
void check_customers(Store& s, int first, int last, int version) {
  for (int i = first; i < last; ++i) {
    auto got = must(s.get_field(customer(i), "notes"));
    REQUIRE(got.has_value());
    REQUIRE(got->sealed == sealed_of(i, version));
  }
}

// vacuum rewrites `file` from its live rows on a connection of its own, and moves the result
// from the WAL into the file, which shrinks to the rows' size.
void vacuum(const fs::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  CHECK(sqlite3_exec(db, "VACUUM", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

// minor_faults is how many pages the calling thread has had mapped in so far.
long minor_faults() {
  rusage usage{};
  REQUIRE(getrusage(RUSAGE_THREAD, &usage) == 0);
  return usage.ru_minflt;
}

}  // namespace

TEST_CASE("sqlite: a reader keeps its map of the vault file while another connection commits") {
  TempDir dir;
  const fs::path file = dir.path() / "mapped.vault";
  auto reader = must(open_sqlite_store(file, StoreMode::create));
  constexpr int kCustomers = 400;  // about 100 pages of values
  put_customers(*reader, 0, kCustomers, 1);
  // Values in the file itself, not in the WAL, so that they are read through the map.
  must(reader->compact());
  auto writer = must(open_sqlite_store(file, StoreMode::open));
  // Twice, so that every page is mapped and the reader's allocations are warm.
  check_customers(*reader, 0, kCustomers, 1);
  check_customers(*reader, 0, kCustomers, 1);
  const long before_quiet = minor_faults();
  check_customers(*reader, 0, kCustomers, 1);
  const long quiet = minor_faults() - before_quiet;

  // A commit on the other connection that leaves the file's size as it was (it goes to the WAL).
  const auto size = fs::file_size(file);
  put_customers(*writer, 0, 1, 2);
  REQUIRE(fs::file_size(file) == size);
  const long before = minor_faults();
  check_customers(*reader, 1, kCustomers, 1);
  check_customers(*reader, 0, 1, 2);
  const long after_commit = minor_faults() - before;
  // Mapped again, the file's pages would each be faulted in anew: about a hundred.
  INFO("page faults: " << after_commit << " after the other connection's commit, " << quiet << " before");
  CHECK(after_commit <= quiet + 10);
}

TEST_CASE(
    "sqlite: reads through a kept map follow the file as another connection grows, shrinks and rewrites it") {
  TempDir dir;
  const fs::path file = dir.path() / "moving.vault";
  auto reader = must(open_sqlite_store(file, StoreMode::create));
  put_customers(*reader, 0, 200, 1);
  must(reader->compact());
  auto writer = must(open_sqlite_store(file, StoreMode::open));
  check_customers(*reader, 0, 200, 1);

  SUBCASE("grown: the new pages beyond the old map are read, the old ones rewritten in place") {
    const auto small = fs::file_size(file);
    put_customers(*writer, 200, 1200, 1);
    put_customers(*writer, 0, 100, 2);
    must(writer->compact());  // the checkpoint writes the WAL's pages into the file
    REQUIRE(fs::file_size(file) > small);
    check_customers(*reader, 0, 100, 2);
    check_customers(*reader, 100, 1200, 1);
  }
  SUBCASE("shrunk, then grown back: every read sees the file as it is now") {
    put_customers(*writer, 200, 1200, 1);
    must(writer->compact());
    check_customers(*reader, 0, 1200, 1);
    const auto large = fs::file_size(file);
    for (int i = 100; i < 1200; ++i)
      must(writer->erase_customer(customer(i), "tag-" + customer(i), at(1800000000)));
    vacuum(file);  // the file shrinks below the reader's map
    REQUIRE(fs::file_size(file) < large);
    check_customers(*reader, 0, 100, 1);
    for (int i = 100; i < 1200; i += 97)
      CHECK_FALSE(must(reader->get_field(customer(i), "notes")).has_value());
    put_customers(*writer, 100, 1200, 3);
    must(writer->compact());
    check_customers(*reader, 0, 100, 1);
    check_customers(*reader, 100, 1200, 3);
  }
}
