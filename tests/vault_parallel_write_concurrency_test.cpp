// vault_parallel_write_concurrency_test.cpp: a write of many records checks and seals them on
// other threads (detail::LoopQueue) while it writes those before, and still behaves as one
// thread would: every value under its own customer's key and listed in their manifest, every
// bad record reported in the records' order, nothing written when any is bad or the store
// fails. Run by CI's ThreadSanitizer stage too.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../src/vault/loop_queue.hpp"
#include "consentry/vault.hpp"
#include "support/audit_count.hpp"
#include "support/each_store.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;

namespace {

constexpr std::string_view kPassphrase = "parallel write passphrase";

// kRecords is enough records for every thread a write may start, and many chunks.
constexpr int kRecords = 1200;

VaultOptions quick_options() {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.key_cache_size = 64;  // fewer than the customers: reads unwrap their keys from the store
  return o;
}

std::string phone_of(int i) {
  return "+44 7700 9" + std::to_string(100000 + i).substr(1);
}

// customer_records gives customer i an email, a birth date and a phone, written as people do
// (spaces in the phone number, capitals in the email's domain), each on its own line.
std::vector<Record> customer_records() {
  std::vector<Record> records;
  for (int i = 0; i < kRecords; ++i) {
    const std::string day = std::to_string(10 + i % 19);
    records.push_back({"C-" + std::to_string(i),
                       "",
                       {},
                       {{"email", "Person" + std::to_string(i) + "@Example.com"},
                        {"birth_date", "1980-03-" + day},
                        {"phone", phone_of(i)}},
                       static_cast<std::size_t>(i + 1)});
  }
  return records;
}

}  // namespace

TEST_CASE("a LoopQueue calls a loop's body once for every index, on more than one thread when it can") {
  constexpr std::size_t n = 10000;
  const bool cores = std::thread::hardware_concurrency() > 1;
  std::vector<std::atomic<int>> calls(n);
  std::mutex mu;
  std::condition_variable seen;
  std::set<std::thread::id> ids;
  detail::LoopQueue queue(3);
  CHECK(queue.helpers() == std::min<std::size_t>(3, std::thread::hardware_concurrency() - 1));
  const std::size_t loop = queue.push(n, [&](std::size_t i) {
    calls[i].fetch_add(1);
    std::unique_lock lock(mu);
    if (ids.insert(std::this_thread::get_id()).second) seen.notify_all();
    // The first thread in waits (for ten seconds at most) for a second one, however late the
    // machine starts it: the two run the body at once.
    if (cores) seen.wait_for(lock, std::chrono::seconds(10), [&] { return ids.size() > 1; });
  });
  queue.wait(loop);
  std::size_t once = 0;
  for (const auto& c : calls) once += c.load() == 1 ? 1 : 0;
  CHECK(once == n);
  if (cores) CHECK(ids.size() > 1);
  CHECK(ids.size() <= 4);
}

TEST_CASE("a LoopQueue without helpers makes every call in wait(), on the calling thread") {
  detail::LoopQueue queue(0);
  CHECK(queue.helpers() == 0);
  std::vector<std::thread::id> first(100), second(50);
  const std::size_t a =
      queue.push(first.size(), [&](std::size_t i) { first[i] = std::this_thread::get_id(); });
  const std::size_t b =
      queue.push(second.size(), [&](std::size_t i) { second[i] = std::this_thread::get_id(); });
  CHECK(first[0] == std::thread::id());
  CHECK_FALSE(queue.done(a));
  // The later loop waited for first runs first; the earlier one is still there to wait for.
  queue.wait(b);
  CHECK(queue.done(b));
  CHECK_FALSE(queue.done(a));
  CHECK(std::count(second.begin(), second.end(), std::this_thread::get_id()) == 50);
  CHECK(first[0] == std::thread::id());
  queue.wait(a);
  CHECK(std::count(first.begin(), first.end(), std::this_thread::get_id()) == 100);
}

TEST_CASE("a LoopQueue rethrows what a body throws from wait(), once no call of the loop is running") {
  std::atomic<int> running{0};
  std::atomic<int> after{0};
  detail::LoopQueue queue(3);
  const std::size_t loop = queue.push(5000, [&](std::size_t i) {
    running.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(20));
    running.fetch_sub(1);
    if (i == 100) throw std::runtime_error("index 100");
  });
  bool thrown = false;
  try {
    queue.wait(loop);
  } catch (const std::runtime_error& e) {
    thrown = true;
    CHECK(std::string(e.what()) == "index 100");
    after = running.load();
  }
  CHECK(thrown);
  CHECK(after.load() == 0);
  // The loops queued after go on as before.
  std::atomic<int> calls{0};
  queue.wait(queue.push(64, [&](std::size_t) { calls.fetch_add(1); }));
  CHECK(calls.load() == 64);
}

TEST_CASE("a LoopQueue going away finishes the loops no one waited for before it returns") {
  std::vector<std::atomic<int>> calls(2000);
  {
    detail::LoopQueue queue(3);
    queue.push(1000, [&](std::size_t i) {
      std::this_thread::sleep_for(std::chrono::microseconds(10));
      calls[i].fetch_add(1);
    });
    queue.push(1000, [&](std::size_t i) { calls[1000 + i].fetch_add(1); });
  }
  CHECK(std::all_of(calls.begin(), calls.end(), [](const auto& c) { return c.load() == 1; }));
}

TEST_CASE("a write of many records seals every value under its own customer's key, as one thread would") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  std::vector<Record> records = customer_records();
  // The same customer twice in the write: the second value of a field replaces the first.
  records.push_back({"C-7", "", {}, {{"email", "seven.again@example.com"}}, kRecords + 1});
  REQUIRE(v.write(records, "many.jsonl").ok());
  CHECK(v.customers()->size() == static_cast<std::size_t>(kRecords));
  CHECK(test::count_action(v, AuditAction::value_written) == records.size());

  auto desk = v.accessor("support-desk");
  REQUIRE(desk.ok());
  for (int i = 0; i < kRecords; ++i) {
    const std::string customer = "C-" + std::to_string(i);
    auto got = desk->read(customer, "service", {"email", "birth_date", "phone"});
    REQUIRE_MESSAGE(got.ok(), got.err().message);
    for (const auto& field : *got) REQUIRE_MESSAGE(field.ok(), customer << ": " << field.err().message);
    // The email's domain was normalised to lower case; its local part is kept as written.
    const std::string email =
        i == 7 ? "seven.again@example.com" : "Person" + std::to_string(i) + "@example.com";
    CHECK((*got)[0]->value == email);
    CHECK((*got)[1]->value == "1980-03-" + std::to_string(10 + i % 19));
    // The phone was normalised to E.164 and is shown to the desk by its last four digits.
    const std::string e164 = "+447700" + std::to_string(900000 + i);
    CHECK((*got)[2]->value == std::string(e164.size() - 4, '*') + e164.substr(e164.size() - 4));
  }
}

TEST_CASE("a write of many records with bad ones among them names each, in order, and writes nothing") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  std::vector<Record> records = customer_records();
  records[2].fields[2].second = "+44 7700 900 ext. 12";
  records[600].fields[0].second = "not an address";
  records[kRecords - 1].fields[1].second = "1980-02-30";
  auto written = v.write(records, "many.jsonl");
  REQUIRE_FALSE(written.ok());
  CHECK(written.err().code == errc::bad_input);
  const std::string& m = written.err().message;
  const auto third = m.find("many.jsonl:3: ");
  const auto six_hundred_first = m.find("\nmany.jsonl:601: ");
  const auto last = m.find("\nmany.jsonl:" + std::to_string(kRecords) + ": ");
  REQUIRE(third != std::string::npos);
  REQUIRE(six_hundred_first != std::string::npos);
  REQUIRE(last != std::string::npos);
  CHECK(third < six_hundred_first);
  CHECK(six_hundred_first < last);
  // No value is in the message, and nothing was written.
  CHECK(m.find("not an address") == std::string::npos);
  CHECK(m.find("7700") == std::string::npos);
  CHECK(v.customers()->empty());
  CHECK(test::count_action(v, AuditAction::value_written) == 0);
}

TEST_CASE("a write to many customers whose data keys the cache cannot all hold uses each one's own key") {
  test::TempDir dir;
  Vault v = test::on_each_store(dir, test::retail_policy(), kPassphrase, quick_options());
  REQUIRE(v.write(customer_records(), "first.jsonl").ok());
  // A second write to every customer, each key read from the store: the cache (64 keys) would
  // be emptied many times over while the write gathers them.
  std::vector<Record> again;
  for (int i = 0; i < kRecords; ++i)
    again.push_back({"C-" + std::to_string(i),
                     "",
                     {},
                     {{"birth_date", "1975-01-" + std::to_string(10 + i % 19)}},
                     static_cast<std::size_t>(i + 1)});
  REQUIRE(v.write(again, "second.jsonl").ok());
  auto desk = v.accessor("support-desk");
  REQUIRE(desk.ok());
  for (int i = 0; i < kRecords; ++i) {
    const std::string customer = "C-" + std::to_string(i);
    // The first write's value and the second's both open under the customer's one key.
    auto got = desk->read(customer, "service", {"email", "birth_date"});
    REQUIRE_MESSAGE(got.ok(), got.err().message);
    REQUIRE_MESSAGE((*got)[0].ok(), customer << ": " << (*got)[0].err().message);
    REQUIRE_MESSAGE((*got)[1].ok(), customer << ": " << (*got)[1].err().message);
    CHECK((*got)[0]->value == "Person" + std::to_string(i) + "@example.com");
    CHECK((*got)[1]->value == "1975-01-" + std::to_string(10 + i % 19));
  }
}

TEST_CASE("a write of many records that the store fails part-way returns its error and writes nothing") {
  test::TempDir dir;
  const auto location = test::shared_location(dir);
  test::must(Vault::create(location, test::retail_policy(), kPassphrase, quick_options()));
  auto hooked =
      std::make_unique<test::HookedStore>(test::must(test::open_store_at(location, StoreMode::open)));
  test::HookedStore& hooks = *hooked;
  Vault v = test::must(Vault::open_in(std::move(hooked), kPassphrase, quick_options()));
  // Well into the write: chunks before it written, chunks after it being sealed meanwhile.
  hooks.fail_field_put(2000, make_error(errc::io, "disk full"));
  auto written = v.write(customer_records(), "many.jsonl");
  REQUIRE_FALSE(written.ok());
  CHECK(written.err().code == errc::io);
  CHECK(written.err().message == "disk full");
  CHECK(v.customers()->empty());
  CHECK(test::count_action(v, AuditAction::value_written) == 0);
  // The vault writes again, under keys it did not keep from the failed write.
  REQUIRE(v.write(customer_records(), "many.jsonl").ok());
  auto desk = test::must(v.accessor("support-desk"));
  for (int i : {0, 700, kRecords - 1}) {
    auto got = test::must(desk.read("C-" + std::to_string(i), "service", {"email"}));
    REQUIRE_MESSAGE(got[0].ok(), got[0].err().message);
    CHECK(got[0]->value == "Person" + std::to_string(i) + "@example.com");
  }
}
