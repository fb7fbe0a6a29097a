// c_api.hpp: what the C API's sources share: the structs behind consentry.h's opaque handles, the
// registry of what the library handed out, and the helpers every entry point uses to check its
// arguments and turn C++ errors into a status and a consentry_error.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "consentry.h"
#include "consentry/consentry.hpp"

namespace consentry_c {

/// VaultBox holds an open vault for its handle and for every accessor and view made from it.
/// Calls take `mu` shared; closing sets `closing`, so that no new call starts (a reader-preferring
/// lock would otherwise let a steady stream of reads starve the close), then takes `mu`
/// exclusively, after the calls running, and empties `vault`: a call on an accessor or view after
/// the close finds it empty instead of a dangling vault.
struct VaultBox {
  std::atomic<bool> closing{false};
  std::shared_mutex mu;
  std::optional<consentry::Vault> vault;
};

/// raw reads an enum argument that came from C as the int it is. A C caller may pass any int
/// (C enums are ints); in C++ loading such a value as the enum type is undefined, so the bits are
/// copied instead, and the number is checked before it is turned back into the enum.
template <class E>
int raw(const E& e) noexcept {
  static_assert(std::is_enum_v<E> && sizeof(E) == sizeof(int), "a C enum of consentry.h");
  int v;
  std::memcpy(&v, &e, sizeof v);
  return v;
}

/// kOk is CONSENTRY_OK as an int, for the lambdas of entry points (whose other returns are ints).
inline constexpr int kOk = CONSENTRY_OK;

/// Kind tags what a registered pointer is, so that a handle of one kind passed where another is
/// expected is refused, and consentry_free knows what it frees.
enum class Kind { bytes, error, policy, vault, accessor, view, read, export_ };

/// ReadItem is one field's outcome in a consentry_read.
struct ReadItem {
  int status = CONSENTRY_OK;
  std::string value, form;
  consentry::error error;
};

}  // namespace consentry_c

// The structs behind the opaque handles of consentry.h (declared there at global scope).
struct consentry_error {
  consentry_errc code = CONSENTRY_ERRC_INTERNAL;
  consentry_deny_reason reason = CONSENTRY_DENY_NONE;
  int status = CONSENTRY_INTERNAL;
  std::string message;
};
struct consentry_policy {
  consentry::Policy policy;
};
struct consentry_vault {
  std::shared_ptr<consentry_c::VaultBox> box;
};
struct consentry_accessor {
  std::shared_ptr<consentry_c::VaultBox> box;
  consentry::Accessor accessor;
};
struct consentry_view {
  std::shared_ptr<consentry_c::VaultBox> box;
  consentry::View view;
};
struct consentry_read {
  std::vector<consentry_c::ReadItem> items;
};
struct consentry_export {
  std::string json, html;
};

namespace consentry_c {

template <class T>
struct KindOf;
template <>
struct KindOf<consentry_error> : std::integral_constant<Kind, Kind::error> {};
template <>
struct KindOf<consentry_policy> : std::integral_constant<Kind, Kind::policy> {};
template <>
struct KindOf<consentry_vault> : std::integral_constant<Kind, Kind::vault> {};
template <>
struct KindOf<consentry_accessor> : std::integral_constant<Kind, Kind::accessor> {};
template <>
struct KindOf<consentry_view> : std::integral_constant<Kind, Kind::view> {};
template <>
struct KindOf<consentry_read> : std::integral_constant<Kind, Kind::read> {};
template <>
struct KindOf<consentry_export> : std::integral_constant<Kind, Kind::export_> {};

// ---- the registry (registry.cpp) ----

/// enrol records `object` as live, of `kind`, under the address `object.get()`, and returns that
/// address. Throws std::bad_alloc (the object is then released).
void* enrol(Kind kind, std::shared_ptr<void> object);
/// find returns the live object at `p` when it is of `kind`; null otherwise. The returned
/// pointer keeps it alive while the caller uses it, even should another thread free it.
std::shared_ptr<void> find(const void* p, Kind kind);
/// withdraw removes `p` from the registry and returns its object and kind; a null object when
/// `p` is not live.
std::pair<std::shared_ptr<void>, Kind> withdraw(const void* p);

/// publish enrols a new handle and returns it as the C type.
template <class T>
T* publish(std::shared_ptr<T> object) {
  return static_cast<T*>(enrol(KindOf<T>::value, std::move(object)));
}
/// live returns the handle `h` when it is live and of type T; null otherwise.
template <class T>
std::shared_ptr<T> live(const T* h) {
  if (h == nullptr) return nullptr;
  return std::static_pointer_cast<T>(find(h, KindOf<T>::value));
}

/// new_string copies `text` into a NUL-terminated string the caller frees with consentry_free.
char* new_string(std::string_view text);
/// new_string_list copies `items` into one NULL-terminated array of strings, freed whole.
char** new_string_list(const std::vector<std::string>& items);

// ---- errors (errors.cpp) ----

/// error_object makes the error object for `e`, not yet enrolled. Throws std::bad_alloc.
std::shared_ptr<consentry_error> error_object(const consentry::error& e);
/// fail makes *err (when err is not null) an error object for `e` and returns its status.
int fail(consentry_error** err, const consentry::error& e);
/// fail_with is fail for an error the binding itself detects.
int fail_with(consentry_error** err, consentry::errc code, std::string message);
/// status_of gives the status of a C++ errc.
int status_of(consentry::errc code) noexcept;
/// to_c gives the C spelling of an errc and a deny reason.
consentry_errc to_c(consentry::errc code) noexcept;
consentry_deny_reason to_c(consentry::deny_reason reason) noexcept;

/// guarded runs an entry point's body: clears *err, and turns any exception into
/// CONSENTRY_INTERNAL, so that none crosses into C.
template <class F>
int guarded(consentry_error** err, F&& body) noexcept {
  if (err != nullptr) *err = nullptr;
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return fail_with(err, consentry::errc::internal, "out of memory");
  } catch (...) {
    return fail_with(err, consentry::errc::internal, "an unexpected failure inside consentry");
  }
}

// ---- arguments (arguments.cpp) ----

/// text checks a required UTF-8 argument named `name`: CONSENTRY_OK and `out` set, or the status
/// of the error made in *err (NULL, or not well-formed UTF-8).
int text(const char* s, const char* name, std::string_view& out, consentry_error** err);
/// optional_text is text for an argument that may be NULL (read as "").
int optional_text(const char* s, const char* name, std::string_view& out, consentry_error** err);
/// missing reports a NULL required argument (a handle or an out-parameter).
int missing(consentry_error** err, const char* name);
/// dead reports a handle that is not live (freed, or never returned by the library).
int dead(consentry_error** err, const char* name);
/// closed reports a vault, or an accessor or view of a vault, that was closed.
int closed(consentry_error** err);

/// with_vault runs `body(vault)` on the open vault of `box`, holding its lock shared; the status
/// of a "vault is closed" error when it was closed.
template <class F>
int with_vault(const std::shared_ptr<VaultBox>& box, consentry_error** err, F&& body) {
  if (box->closing.load(std::memory_order_acquire)) return closed(err);
  std::shared_lock lock(box->mu);
  if (!box->vault) return closed(err);
  return body(*box->vault);
}

/// on_vault runs `body(vault)` for a vault handle: NULL, dead and closed handles fail.
template <class F>
int on_vault(consentry_vault* h, consentry_error** err, F&& body) {
  if (h == nullptr) return missing(err, "vault");
  auto handle = live(h);
  if (!handle) return dead(err, "vault");
  return with_vault(handle->box, err, body);
}

}  // namespace consentry_c
