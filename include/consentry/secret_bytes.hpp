// secret_bytes.hpp: SecretBytes, guarded memory for keys and decrypted values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "consentry/bytes.hpp"

namespace consentry {

/// SecretBytes owns secret bytes in guarded memory and wipes them on release. The memory comes
/// from libsodium's sodium_malloc: locked (kept out of swap where RLIMIT_MEMLOCK allows) and
/// kept out of core dumps, between guard pages. Secrets up to 4 KiB share 64 KiB guarded slabs
/// (no guard page between two of them); larger ones get a region of their own. It cannot be
/// copied or printed; reading the bytes goes through reveal(), so every use is easy to find.
class SecretBytes {
 public:
  /// SecretBytes() is empty (size 0).
  SecretBytes() noexcept = default;
  /// SecretBytes(n) allocates n zero bytes. Throws std::bad_alloc when guarded memory is exhausted.
  explicit SecretBytes(std::size_t size);
  /// copy_of copies `src` into new guarded memory. Throws std::bad_alloc like the constructor.
  static SecretBytes copy_of(byte_view src);
  /// copy_of copies the characters of `src` into new guarded memory.
  static SecretBytes copy_of(std::string_view src);
  /// random fills n new bytes from the operating system's CSPRNG.
  static SecretBytes random(std::size_t size);

  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  ~SecretBytes();

  /// size is the number of secret bytes.
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  /// reveal gives access to the secret bytes. Keep what it returns out of logs and messages.
  std::span<std::uint8_t> reveal() noexcept { return {data_, size_}; }
  std::span<const std::uint8_t> reveal() const noexcept { return {data_, size_}; }
  /// reveal_string views the secret bytes as characters (for decrypted text values).
  std::string_view reveal_string() const noexcept { return {reinterpret_cast<const char*>(data_), size_}; }

  /// equals compares sizes and then contents in constant time.
  bool equals(const SecretBytes& other) const noexcept;

 private:
  void release() noexcept;
  std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

/// sodium_ready initialises libsodium once; every function that uses it calls this first.
/// Returns false when libsodium cannot initialise (no entropy source).
bool sodium_ready() noexcept;

}  // namespace consentry
