// registry.cpp: the registry of everything the C API handed out, and consentry_free.
//
// Every string, list, error, handle and result the library returns is enrolled here under its
// address, with its kind and a shared pointer that owns it. consentry_free withdraws the address
// and drops that pointer; an address that is not enrolled (freed already, or never the
// library's) is refused without touching the memory it points to. Calls look their handles up
// here and hold the shared pointer for the call, so a handle freed by another thread meanwhile
// stays alive until the call returns.
#include <cstdlib>
#include <cstring>
#include <new>
#include <unordered_map>

#include "c_api.hpp"

namespace consentry_c {
namespace {

struct Entry {
  Kind kind;
  std::shared_ptr<void> object;
};

struct Registry {
  std::shared_mutex mu;
  std::unordered_map<const void*, Entry> live;
};

// The registry is never destroyed, so that a handle freed during static destruction (a
// program's atexit handler) still finds it.
Registry& registry() {
  static Registry* r = new Registry;
  return *r;
}

// malloc_owned wraps a malloc'd block in an owning pointer (freeing it should that throw).
std::shared_ptr<void> malloc_owned(void* block) {
  return std::shared_ptr<void>(block, [](void* q) { std::free(q); });
}

}  // namespace

void* enrol(Kind kind, std::shared_ptr<void> object) {
  void* p = object.get();
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  r.live.insert_or_assign(p, Entry{kind, std::move(object)});
  return p;
}

std::shared_ptr<void> find(const void* p, Kind kind) {
  Registry& r = registry();
  std::shared_lock lock(r.mu);
  auto it = r.live.find(p);
  if (it == r.live.end() || it->second.kind != kind) return nullptr;
  return it->second.object;
}

std::pair<std::shared_ptr<void>, Kind> withdraw(const void* p) {
  Registry& r = registry();
  std::unique_lock lock(r.mu);
  auto it = r.live.find(p);
  if (it == r.live.end()) return {nullptr, Kind::bytes};
  Entry entry = std::move(it->second);
  r.live.erase(it);
  return {std::move(entry.object), entry.kind};
}

char* new_string(std::string_view text) {
  void* block = std::malloc(text.size() + 1);
  if (block == nullptr) throw std::bad_alloc();
  auto owned = malloc_owned(block);
  char* s = static_cast<char*>(block);
  if (!text.empty()) std::memcpy(s, text.data(), text.size());
  s[text.size()] = '\0';
  return static_cast<char*>(enrol(Kind::bytes, std::move(owned)));
}

char** new_string_list(const std::vector<std::string>& items) {
  // One block: the array of n + 1 pointers, then the strings it points to.
  std::size_t bytes = (items.size() + 1) * sizeof(char*);
  for (const auto& s : items) bytes += s.size() + 1;
  void* block = std::malloc(bytes);
  if (block == nullptr) throw std::bad_alloc();
  auto owned = malloc_owned(block);
  char** list = static_cast<char**>(block);
  char* text = reinterpret_cast<char*>(list + items.size() + 1);
  for (std::size_t i = 0; i < items.size(); ++i) {
    list[i] = text;
    if (!items[i].empty()) std::memcpy(text, items[i].data(), items[i].size());
    text[items[i].size()] = '\0';
    text += items[i].size() + 1;
  }
  list[items.size()] = nullptr;
  return static_cast<char**>(enrol(Kind::bytes, std::move(owned)));
}

}  // namespace consentry_c

extern "C" int consentry_free(void* p) {
  using namespace consentry_c;
  if (p == nullptr) return kOk;
  try {
    auto [object, kind] = withdraw(p);
    if (!object) return CONSENTRY_BAD_INPUT;
    if (kind == Kind::vault) {
      // Close the vault now, after the calls running on it, its accessors and views: they hold
      // the box's lock shared. Those that come later find it closed.
      auto handle = std::static_pointer_cast<consentry_vault>(object);
      handle->box->closing.store(true, std::memory_order_release);
      std::unique_lock lock(handle->box->mu);
      handle->box->vault.reset();
    }
    return kOk;
  } catch (...) {
    return CONSENTRY_INTERNAL;
  }
}
