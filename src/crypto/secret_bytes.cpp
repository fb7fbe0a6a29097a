// secret_bytes.cpp: SecretBytes on libsodium's guarded heap, small secrets carved from slabs.
#include "consentry/secret_bytes.hpp"

#include <sodium.h>

#include <array>
#include <cstring>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace consentry {

bool sodium_ready() noexcept {
  // A function-local static is initialised exactly once even under concurrent first calls, and
  // sodium_init itself is idempotent, so every caller sees the same answer.
  static const bool ready = sodium_init() >= 0;
  return ready;
}

namespace {

// sodium_malloc places guard pages around a region and calls sodium_mlock on it, which on Linux
// also applies madvise(MADV_DONTDUMP), so the bytes stay out of swap and core dumps. It costs
// several system calls (mmap, mprotect, mlock) and three or more pages per call: too much for
// every decrypted value and every cached data key. Secrets up to kLargestChunk bytes are
// therefore carved from slabs of kSlabBytes, each one sodium_malloc region (locked, out of core
// dumps, guard pages at its ends), and larger ones get a region of their own. A chunk is wiped
// when released and handed out again zeroed; slabs are kept for reuse, so the memory a process
// holds for secrets follows its peak number of live secrets. Within a slab, neighbouring chunks
// are not separated by guard pages: an overrun of one secret reaches the next, where a region of
// its own would fault.
constexpr std::size_t kSlabBytes = 64 * 1024;
constexpr std::array<std::size_t, 8> kChunkSizes = {32, 64, 128, 256, 512, 1024, 2048, 4096};
constexpr std::size_t kLargestChunk = kChunkSizes.back();

// size_class is the index in kChunkSizes of the smallest chunk that holds `size` bytes.
std::size_t size_class(std::size_t size) noexcept {
  std::size_t c = 0;
  while (kChunkSizes[c] < size) ++c;
  return c;
}

std::uint8_t* guarded_region(std::size_t size) {
  // sodium_malloc needs the page size that sodium_init records.
  if (!sodium_ready()) throw std::bad_alloc();
  void* p = sodium_malloc(size);
  if (p == nullptr) throw std::bad_alloc();
  // sodium_malloc fills new memory with a canary pattern; callers expect zeroes.
  sodium_memzero(p, size);
  return static_cast<std::uint8_t*>(p);
}

// SlabPool hands out zeroed chunks of guarded memory and takes them back wiped. One mutex
// guards it; the work under it is a vector push or pop.
class SlabPool {
 public:
  std::uint8_t* take(std::size_t size) {
    const std::size_t c = size_class(size);
    std::lock_guard lock(mu_);
    std::vector<std::uint8_t*>& free = free_[c];
    if (free.empty()) {
      std::uint8_t* slab = guarded_region(kSlabBytes);
      const std::size_t chunk = kChunkSizes[c];
      // Room for every chunk of every slab of this size, so give_back never allocates.
      cut_[c] += kSlabBytes / chunk;
      free.reserve(cut_[c]);
      for (std::size_t off = kSlabBytes; off >= chunk; off -= chunk) free.push_back(slab + off - chunk);
    }
    std::uint8_t* p = free.back();
    free.pop_back();
    return p;
  }

  void give_back(std::uint8_t* p, std::size_t size) noexcept {
    const std::size_t c = size_class(size);
    // Wiped whole, so the next owner starts from zeroes whatever size it asks for.
    sodium_memzero(p, kChunkSizes[c]);
    std::lock_guard lock(mu_);
    // The vector has room: take() reserved a place for every chunk it ever cut.
    free_[c].push_back(p);
  }

 private:
  std::mutex mu_;
  std::array<std::vector<std::uint8_t*>, kChunkSizes.size()> free_;
  std::array<std::size_t, kChunkSizes.size()> cut_{};  ///< chunks cut so far, per size
};

// The pool outlives every SecretBytes, including those in static objects destroyed at exit: it
// is created on first use and never destroyed (its slabs are reachable through it to the end).
SlabPool& pool() {
  static SlabPool* const p = new SlabPool;
  return *p;
}

std::uint8_t* allocate(std::size_t size) {
  if (size == 0) return nullptr;
  if (size > kLargestChunk) return guarded_region(size);
  if (!sodium_ready()) throw std::bad_alloc();
  return pool().take(size);
}

void deallocate(std::uint8_t* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (size > kLargestChunk) {
    // sodium_free wipes the region before unmapping it.
    sodium_free(p);
    return;
  }
  pool().give_back(p, size);
}

}  // namespace

SecretBytes::SecretBytes(std::size_t size) : data_(allocate(size)), size_(size) {}

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
  deallocate(data_, size_);
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
