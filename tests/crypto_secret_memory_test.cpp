// crypto_secret_memory_test.cpp: where secrets live. The kernel's own account of this process
// (/proc/self/smaps) shows that the memory behind SecretBytes, and behind the keys a Keyring and
// the field decryption hand out, is excluded from core dumps and locked.
#include <doctest/doctest.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../src/crypto/keyring.hpp"
#include "consentry/secret_bytes.hpp"

using namespace consentry;

namespace {

/// Mapping is one entry of /proc/self/smaps: its address range and the flags of its VmFlags line.
struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  std::set<std::string> flags;
};

/// is_mapping_header tells a mapping's first line ("7f..-7f.. rw-p ...") from its "Key: value" lines.
bool is_mapping_header(const std::string& line, std::uintptr_t& start, std::uintptr_t& end) {
  const auto dash = line.find('-');
  const auto space = line.find(' ');
  if (dash == std::string::npos || space == std::string::npos || dash > space) return false;
  try {
    std::size_t used = 0;
    start = static_cast<std::uintptr_t>(std::stoull(line.substr(0, dash), &used, 16));
    if (used != dash) return false;
    end = static_cast<std::uintptr_t>(std::stoull(line.substr(dash + 1, space - dash - 1), &used, 16));
    return used == space - dash - 1;
  } catch (const std::exception&) {
    return false;
  }
}

/// mapping_of finds the mapping holding `address` in /proc/self/smaps; nullopt when none does.
std::optional<Mapping> mapping_of(const void* address) {
  const auto where = reinterpret_cast<std::uintptr_t>(address);
  std::ifstream smaps("/proc/self/smaps");
  REQUIRE(smaps.is_open());
  std::optional<Mapping> current;
  for (std::string line; std::getline(smaps, line);) {
    std::uintptr_t start = 0, end = 0;
    if (is_mapping_header(line, start, end)) {
      if (current && current->start <= where && where < current->end) return current;
      current = Mapping{start, end, {}};
    } else if (current && line.rfind("VmFlags:", 0) == 0) {
      std::istringstream words(line.substr(8));
      for (std::string flag; words >> flag;) current->flags.insert(flag);
    }
  }
  if (current && current->start <= where && where < current->end) return current;
  return std::nullopt;
}

/// locked_kib reads VmLck, the memory this process has locked so far, from /proc/self/status.
std::uint64_t locked_kib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmLck:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

/// mlock_takes_effect locks a page of the test's own and asks the kernel whether it shows as
/// locked. Under AddressSanitizer, mlock is intercepted and does nothing ("AddressSanitizer
/// ignores mlock"), and some sandboxes refuse it: there no library could lock its secrets.
bool mlock_takes_effect() {
  static const bool effective = [] {
    const long page = sysconf(_SC_PAGESIZE);
    void* probe = mmap(nullptr, static_cast<std::size_t>(page), PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(probe != MAP_FAILED);
    bool locked = false;
    if (mlock(probe, static_cast<std::size_t>(page)) == 0) {
      const std::optional<Mapping> mapping = mapping_of(probe);
      locked = mapping.has_value() && mapping->flags.count("lo") == 1;
      munlock(probe, static_cast<std::size_t>(page));
    }
    munmap(probe, static_cast<std::size_t>(page));
    return locked;
  }();
  return effective;
}

/// locking_possible is true when mlock takes effect in this process and RLIMIT_MEMLOCK leaves at
/// least a mebibyte to lock, so that an unlocked secret is the library's fault, not the limit's.
bool locking_possible() {
  if (!mlock_takes_effect()) return false;
  rlimit limit{};
  REQUIRE(getrlimit(RLIMIT_MEMLOCK, &limit) == 0);
  if (limit.rlim_cur == RLIM_INFINITY) return true;
  const std::uint64_t used = locked_kib() * 1024;
  return limit.rlim_cur > used && limit.rlim_cur - used >= 1024 * 1024;
}

/// check_guarded checks that the `size` bytes of a secret at `data` lie in one mapping that the
/// kernel leaves out of core dumps ("dd") and, when the limit allows, keeps locked ("lo").
void check_guarded(const std::uint8_t* data, std::size_t size, const char* what) {
  INFO(what << ", " << size << " bytes");
  REQUIRE(data != nullptr);
  const std::optional<Mapping> first = mapping_of(data);
  REQUIRE(first.has_value());
  const std::optional<Mapping> last = mapping_of(data + size - 1);
  REQUIRE(last.has_value());
  CHECK(first->start == last->start);  // one mapping holds the whole secret
  CHECK(first->flags.count("dd") == 1);
  if (locking_possible()) {
    CHECK(first->flags.count("lo") == 1);
  } else {
    static bool told = false;
    if (!std::exchange(told, true))
      MESSAGE(
          "mlock has no effect here (sanitizer or sandbox) or RLIMIT_MEMLOCK leaves less than 1 MiB: "
          "the 'lo' flag is not checked");
  }
}

}  // namespace

TEST_CASE("the smaps reader finds ordinary memory, and it is not marked as a secret's") {
  // Without this the checks below could pass on a reader that finds nothing or flags everything.
  static std::vector<std::uint8_t> ordinary(8192, 1);
  const std::optional<Mapping> heap = mapping_of(ordinary.data());
  REQUIRE(heap.has_value());
  CHECK(heap->flags.count("rd") == 1);
  CHECK(heap->flags.count("dd") == 0);
  CHECK(heap->flags.count("lo") == 0);
  int on_stack = 0;
  const std::optional<Mapping> stack = mapping_of(&on_stack);
  REQUIRE(stack.has_value());
  CHECK(stack->flags.count("dd") == 0);
}

TEST_CASE("SecretBytes of every size live in memory kept out of core dumps and locked") {
  for (std::size_t size : {std::size_t{1}, std::size_t{32}, std::size_t{100}, std::size_t{5000}}) {
    SecretBytes zeroed(size);
    check_guarded(zeroed.reveal().data(), size, "SecretBytes(n)");
    SecretBytes drawn = SecretBytes::random(size);
    check_guarded(drawn.reveal().data(), size, "SecretBytes::random");
    const std::string text(size, 'k');
    SecretBytes copied = SecretBytes::copy_of(std::string_view(text));
    check_guarded(copied.reveal().data(), size, "SecretBytes::copy_of");
  }
}

TEST_CASE("many live secrets at once are all guarded") {
  // Enough to need more than one block of guarded memory however the allocator groups them.
  std::vector<SecretBytes> keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(SecretBytes::random(32));
  for (std::size_t i = 0; i < keys.size(); i += 97) check_guarded(keys[i].reveal().data(), 32, "one of many");
  check_guarded(keys.back().reveal().data(), 32, "the last of many");
}

TEST_CASE("a moved-from secret is empty, and moving and destroying secrets is safe") {
  for (std::size_t size : {std::size_t{1}, std::size_t{32}, std::size_t{100}, std::size_t{5000}}) {
    SecretBytes original = SecretBytes::random(size);
    const std::uint8_t* where = original.reveal().data();
    SecretBytes moved(std::move(original));
    CHECK(original.empty());                     // NOLINT(bugprone-use-after-move): specified state
    CHECK(original.reveal().data() == nullptr);  // NOLINT(bugprone-use-after-move)
    CHECK(moved.reveal().data() == where);
    check_guarded(moved.reveal().data(), size, "moved into");

    SecretBytes assigned = SecretBytes::random(size);
    assigned = std::move(moved);  // releases what `assigned` held
    CHECK(moved.empty());         // NOLINT(bugprone-use-after-move)
    CHECK(assigned.reveal().data() == where);
    assigned = SecretBytes();  // released; a moved-from and an empty secret destroy quietly
    CHECK(assigned.empty());
  }
  // Memory released by secrets is handed out again as zeroes.
  for (int round = 0; round < 3; ++round) {
    std::vector<SecretBytes> batch;
    for (std::size_t size : {std::size_t{1}, std::size_t{32}, std::size_t{100}, std::size_t{5000}}) {
      batch.push_back(SecretBytes(size));
      for (std::uint8_t b : batch.back().reveal()) REQUIRE(b == 0);
      batch.back().reveal()[0] = 0xA5;
    }
  }
}

TEST_CASE("the keys a Keyring holds and hands out, and decrypted values, are guarded") {
  Keyring keyring = Keyring::generate();
  const std::uint32_t second = keyring.add_version();
  for (std::uint32_t version : keyring.versions()) {
    const SecretBytes* master = keyring.master_key(version);
    REQUIRE(master != nullptr);
    check_guarded(master->reveal().data(), master->size(), "master key version");
  }
  CHECK(second == 2);

  SecretBytes data_key = Keyring::new_data_key();
  check_guarded(data_key.reveal().data(), data_key.size(), "new data key");
  auto wrapped = keyring.wrap_data_key("C-1", data_key);
  REQUIRE(wrapped.ok());
  auto unwrapped = keyring.unwrap_data_key("C-1", keyring.version(), *wrapped);
  REQUIRE(unwrapped.ok());
  check_guarded(unwrapped->reveal().data(), unwrapped->size(), "unwrapped data key");
  SecretBytes derived = keyring.derive_key("pseudonym/analytics");
  check_guarded(derived.reveal().data(), derived.size(), "derived key");

  auto sealed = seal_field(data_key, "C-1", "email", "ann@example.com");
  REQUIRE(sealed.ok());
  auto opened = open_field(data_key, "C-1", "email", *sealed);
  REQUIRE(opened.ok());
  CHECK(opened->reveal_string() == "ann@example.com");
  check_guarded(opened->reveal().data(), opened->size(), "decrypted value");
}
