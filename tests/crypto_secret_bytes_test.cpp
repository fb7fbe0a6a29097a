// crypto_secret_bytes_test.cpp: SecretBytes ownership, comparison and construction.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "consentry/secret_bytes.hpp"

using namespace consentry;

static_assert(!std::is_copy_constructible_v<SecretBytes>);
static_assert(!std::is_copy_assignable_v<SecretBytes>);
static_assert(std::is_nothrow_move_constructible_v<SecretBytes>);
static_assert(std::is_nothrow_move_assignable_v<SecretBytes>);

TEST_CASE("sodium_ready initialises libsodium and stays ready") {
  CHECK(sodium_ready());
  CHECK(sodium_ready());
}

TEST_CASE("a new SecretBytes has the requested size and is all zeroes") {
  SecretBytes s(37);
  CHECK(s.size() == 37);
  CHECK_FALSE(s.empty());
  auto view = s.reveal();
  CHECK(std::all_of(view.begin(), view.end(), [](std::uint8_t b) { return b == 0; }));
}

TEST_CASE("size zero works without an allocation") {
  SecretBytes a;
  SecretBytes b(0);
  CHECK(a.empty());
  CHECK(b.size() == 0);
  CHECK(a.reveal().empty());
  CHECK(a.equals(b));
  CHECK(SecretBytes::copy_of(std::string_view()).empty());
  CHECK(SecretBytes::random(0).empty());
}

TEST_CASE("copy_of copies bytes and characters, and reveal gives them back") {
  const std::string text = "ann@example.com";
  auto from_text = SecretBytes::copy_of(std::string_view(text));
  CHECK(from_text.reveal_string() == text);
  auto from_bytes = SecretBytes::copy_of(as_bytes(text));
  CHECK(from_bytes.equals(from_text));
  // The copy is independent of its source.
  from_bytes.reveal()[0] = 'A';
  CHECK(from_bytes.reveal_string() == "Ann@example.com");
  CHECK(from_text.reveal_string() == text);
}

TEST_CASE("moving transfers the bytes and leaves the source empty") {
  auto a = SecretBytes::copy_of(std::string_view("key material"));
  const std::uint8_t* where = a.reveal().data();
  SecretBytes b(std::move(a));
  CHECK(a.empty());                     // NOLINT(bugprone-use-after-move): the moved-from state is specified
  CHECK(a.reveal().data() == nullptr);  // NOLINT(bugprone-use-after-move)
  CHECK(b.reveal().data() == where);
  CHECK(b.reveal_string() == "key material");

  SecretBytes c(5);
  c = std::move(b);
  CHECK(b.empty());  // NOLINT(bugprone-use-after-move)
  CHECK(c.reveal_string() == "key material");

  SecretBytes& self = c;
  c = std::move(self);
  CHECK(c.reveal_string() == "key material");
}

TEST_CASE("equals compares size and contents") {
  auto a = SecretBytes::copy_of(std::string_view("abcdef"));
  auto same = SecretBytes::copy_of(std::string_view("abcdef"));
  auto last_differs = SecretBytes::copy_of(std::string_view("abcdeg"));
  auto first_differs = SecretBytes::copy_of(std::string_view("bbcdef"));
  auto prefix = SecretBytes::copy_of(std::string_view("abcde"));
  CHECK(a.equals(same));
  CHECK(a.equals(a));
  CHECK_FALSE(a.equals(last_differs));
  CHECK_FALSE(a.equals(first_differs));
  CHECK_FALSE(a.equals(prefix));
  CHECK_FALSE(prefix.equals(a));
  CHECK_FALSE(a.equals(SecretBytes()));
}

TEST_CASE("random draws different bytes each time") {
  auto a = SecretBytes::random(32);
  auto b = SecretBytes::random(32);
  CHECK(a.size() == 32);
  CHECK_FALSE(a.equals(b));
  auto view = a.reveal();
  CHECK_FALSE(std::all_of(view.begin(), view.end(), [](std::uint8_t x) { return x == 0; }));
}

TEST_CASE("memory given back is wiped: a new SecretBytes of any size starts zeroed") {
  // Small secrets reuse slots of shared slabs; fill many, release them, and ask again.
  for (std::size_t size : {1u, 31u, 32u, 33u, 100u, 1024u, 4095u, 4096u, 4097u, 9000u}) {
    CAPTURE(size);
    {
      std::vector<SecretBytes> filled;
      for (int i = 0; i < 64; ++i) {
        SecretBytes s(size);
        std::fill(s.reveal().begin(), s.reveal().end(), std::uint8_t{0xA5});
        filled.push_back(std::move(s));
      }
    }
    for (int i = 0; i < 64; ++i) {
      SecretBytes again(size);
      CHECK(std::all_of(again.reveal().begin(), again.reveal().end(), [](std::uint8_t b) { return b == 0; }));
    }
  }
  // A slot reused by a smaller secret of the same slot size holds no tail of the old one.
  const std::uint8_t* slot = nullptr;
  {
    SecretBytes big(60);
    std::fill(big.reveal().begin(), big.reveal().end(), std::uint8_t{0x5A});
    slot = big.reveal().data();
  }
  SecretBytes small(40);
  if (small.reveal().data() == slot) {
    const auto* p = small.reveal().data();
    CHECK(std::all_of(p, p + 60, [](std::uint8_t b) { return b == 0; }));
  }
}

TEST_CASE("live SecretBytes never share bytes, across sizes and threads") {
  constexpr int kThreads = 8;
  constexpr int kEach = 400;
  std::vector<std::vector<SecretBytes>> held(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([t, &held] {
      for (int i = 0; i < kEach; ++i) {
        const std::size_t size = 1 + static_cast<std::size_t>((i * 37 + t * 11) % 5000);
        SecretBytes s(size);
        std::fill(s.reveal().begin(), s.reveal().end(), static_cast<std::uint8_t>(t + 1));
        if (i % 3 == 0) continue;  // released at once: its slot goes back while others allocate
        held[static_cast<std::size_t>(t)].push_back(std::move(s));
      }
    });
  }
  for (auto& th : threads) th.join();
  std::vector<std::pair<const std::uint8_t*, std::size_t>> ranges;
  for (std::size_t t = 0; t < held.size(); ++t) {
    for (const SecretBytes& s : held[t]) {
      // Each still holds exactly what its own thread wrote.
      CHECK(std::all_of(s.reveal().begin(), s.reveal().end(),
                        [t](std::uint8_t b) { return b == static_cast<std::uint8_t>(t + 1); }));
      ranges.emplace_back(s.reveal().data(), s.size());
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    CHECK(ranges[i - 1].first + ranges[i - 1].second <= ranges[i].first);
}
