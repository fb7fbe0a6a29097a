// secret_bytes.cpp: SecretBytes on libsodium's guarded heap.
#include "consentry/secret_bytes.hpp"

#include <sodium.h>

#include <cstring>
#include <new>
#include <utility>

namespace consentry {

bool sodium_ready() noexcept {
  // A function-local static is initialised exactly once even under concurrent first calls, and
  // sodium_init itself is idempotent, so every caller sees the same answer.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

namespace {

// allocate_guarded returns `size` zeroed bytes from sodium_malloc. sodium_malloc places guard
// pages around the region and calls sodium_mlock on it, which on Linux also applies
// madvise(MADV_DONTDUMP), so the bytes stay out of swap and core dumps without a second madvise
// here (a second call on a sub-page range could not cover the region's exact page span anyway).
std::uint8_t* allocate_guarded(std::size_t size) {
  if (size == 0) return nullptr;
  // sodium_malloc needs the page size that sodium_init records.
  if (!sodium_ready()) throw std::bad_alloc();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  // sodium_malloc fills new memory with a canary pattern; callers expect zeroes.
  sodium_memzero(p, size);
  return static_cast<std::uint8_t*>(p);
}

}  // namespace

SecretBytes::SecretBytes(std::size_t size) : data_(allocate_guarded(size)), size_(size) {}

SecretBytes SecretBytes::copy_of(byte_view src) {
  SecretBytes out(src.size());
  if (!src.empty()) std::memcpy(out.data_, src.data(), src.size());
  return out;
}

SecretBytes SecretBytes::copy_of(std::string_view src) {
  return copy_of(as_bytes(src));
}

SecretBytes SecretBytes::random(std::size_t size) {
  SecretBytes out(size);
  if (size != 0) randombytes_buf(out.data_, size);
  return out;
}

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SecretBytes::~SecretBytes() {
  release();
}

void SecretBytes::release() noexcept {
  // sodium_free wipes the region before unmapping it.
  if (data_ != nullptr) sodium_free(data_);
  data_ = nullptr;
  size_ = 0;
}

bool SecretBytes::equals(const SecretBytes& other) const noexcept {
  // Sizes are not secret; only the contents are compared in constant time.
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return sodium_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace consentry
