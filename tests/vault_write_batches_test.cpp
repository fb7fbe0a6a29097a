// vault_write_batches_test.cpp: Vault::write_batches writes an input a batch at a time in one
// transaction: all of it or none, every bad record reported, and no data key of a write that
// did not commit left in the key cache.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "consentry/import.hpp"
#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;

namespace {

constexpr std::string_view kPassphrase = "write batches passphrase";

VaultOptions quick_options(std::size_t key_cache = 4096) {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.key_cache_size = key_cache;
  return o;
}

Record email_of(int i, std::size_t line) {
  return {"C-" + std::to_string(i), "", {}, {{"email", "person" + std::to_string(i) + "@example.com"}}, line};
}

/// batches_of hands `records` out `size` at a time.
RecordBatches batches_of(const std::vector<Record>& records, std::size_t size) {
  auto at = std::make_shared<std::size_t>(0);
  return [&records, size, at](std::vector<Record>& batch) -> result<bool> {
    for (std::size_t n = 0; n < size && *at < records.size(); ++n) batch.push_back(records[(*at)++]);
    return *at < records.size();
  };
}

std::string email_read(const Vault& v, const std::string& customer) {
  auto as = v.accessor("support-desk");
  REQUIRE(as.ok());
  auto got = as->read(customer, "service", {"email"});
  if (!got) return std::string(to_string(got.err().code));
  if (!got->front()) return std::string(to_string(got->front().err().code));
  return got->front()->value;
}

}  // namespace

TEST_CASE("write_batches writes every batch in one transaction and reports what it wrote") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  std::vector<Record> records;
  for (int i = 0; i < 7; ++i) records.push_back(email_of(i, static_cast<std::size_t>(i + 1)));
  // C-0 again in the last batch: its data key was made two batches earlier in this transaction.
  records.push_back({"C-0", "", {}, {{"birth_date", "1990-04-02"}}, 8});
  auto report = v.write_batches(batches_of(records, 3), "in.jsonl");
  REQUIRE_MESSAGE(report.ok(), report.err().message);
  CHECK(report->records == 8);
  CHECK(report->values == 8);
  CHECK(v.customers()->size() == 7);
  CHECK(email_read(v, "C-6") == "person6@example.com");
  auto as = v.accessor("support-desk");
  REQUIRE(as.ok());
  auto both = as->read("C-0", "service", {"email", "birth_date"});
  REQUIRE(both.ok());
  CHECK((*both)[0]->value == "person0@example.com");
  CHECK((*both)[1]->value == "1990-04-02");
}

TEST_CASE("a bad record in a late batch writes nothing, and every bad record is named") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  std::vector<Record> records;
  for (int i = 0; i < 6; ++i) records.push_back(email_of(i, static_cast<std::size_t>(i + 1)));
  records[4].fields[0].second = "not an address";
  records.push_back({"C-9", "", {}, {{"shoe_size", "44"}}, 7});
  auto report = v.write_batches(batches_of(records, 2), "in.jsonl");
  REQUIRE_FALSE(report.ok());
  CHECK(report.err().code == errc::bad_input);
  CHECK(report.err().message.rfind("in.jsonl:5: ", 0) == 0);
  CHECK(report.err().message.find("\nin.jsonl:7: field 'shoe_size' is not declared in the policy") !=
        std::string::npos);
  CHECK(v.customers()->empty());
  // The data keys made for C-0 … C-3 in the rolled-back transaction are not cached: writing
  // them again makes and stores new ones, and the values read back.
  REQUIRE(v.write({email_of(0, 1), email_of(2, 2)}, "again.jsonl").ok());
  CHECK(email_read(v, "C-0") == "person0@example.com");
  CHECK(email_read(v, "C-2") == "person2@example.com");
}

TEST_CASE("an error from the input ends write_batches with nothing written") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options(1));
  int calls = 0;
  auto report = v.write_batches(
      [&](std::vector<Record>& batch) -> result<bool> {
        ++calls;
        if (calls == 3) return make_error(errc::io, "in.jsonl: read failed");
        batch.push_back(email_of(calls, static_cast<std::size_t>(calls)));
        return true;
      },
      "in.jsonl");
  REQUIRE_FALSE(report.ok());
  CHECK(report.err().message == "in.jsonl: read failed");
  CHECK(v.customers()->empty());
  REQUIRE(v.write({email_of(1, 1)}, "again.jsonl").ok());
  CHECK(email_read(v, "C-1") == "person1@example.com");

  // The input's own bad lines come first, then the bad records the vault found.
  const std::string text =
      "{\"id\": \"C-5\", \"fields\": {\"email\": \"five@example.com\"}}\n"
      "{\"id\": \"C-6\", \"fields\": {\"shoe_size\": \"44\"}}\n"
      "not json\n";
  std::istringstream in(text);
  RecordReader reader(in, ImportFormat::jsonl, "in.jsonl");
  auto both = v.write_batches([&](std::vector<Record>& batch) { return reader.next(batch, 1); }, "in.jsonl");
  REQUIRE_FALSE(both.ok());
  CHECK(both.err().code == errc::bad_input);
  CHECK(both.err().message.rfind("in.jsonl:3: column 2: invalid JSON\n", 0) == 0);
  CHECK(both.err().message.find("\nin.jsonl:2: field 'shoe_size' is not declared in the policy") !=
        std::string::npos);
  CHECK(*v.customers() == std::vector<std::string>{"C-1"});
}

TEST_CASE("a dry run of write_batches checks every batch and writes nothing") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) records.push_back(email_of(i, static_cast<std::size_t>(i + 1)));
  WriteOptions dry;
  dry.dry_run = true;
  auto report = v.write_batches(batches_of(records, 2), "in.jsonl", dry);
  REQUIRE_MESSAGE(report.ok(), report.err().message);
  CHECK(report->records == 5);
  CHECK(v.customers()->empty());
}

TEST_CASE("RecordReader hands out batches of the size asked, and the bad lines at the end") {
  std::istringstream in(
      "id,email\nC-1,a@example.com\nC-2,b@example.com\n,c@example.com\nC-4,d@example.com\nC-5,e@example."
      "com\n");
  RecordReader reader(in, ImportFormat::csv, "in.csv");
  std::vector<std::size_t> sizes;
  result<bool> more = true;
  while (more && *more) {
    std::vector<Record> batch;
    more = reader.next(batch, 2);
    sizes.push_back(batch.size());
  }
  CHECK(sizes == std::vector<std::size_t>{2, 2, 0});
  REQUIRE_FALSE(more.ok());
  CHECK(more.err().message == "in.csv:4: the id cell is empty");
  std::vector<Record> none;
  CHECK(reader.next(none, 0).err().code == errc::invalid_argument);
}
