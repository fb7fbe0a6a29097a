// result.hpp: errc, error and result<T>, the failure values every fallible call returns.
#pragma once

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace consentry {

/// errc classifies a failure. Each maps to one command-line exit code (see exit_code()).
enum class errc {
  invalid_argument,  ///< a caller passed something malformed (exit 2)
  bad_input,         ///< a file, policy or value is malformed (exit 2)
  denied,            ///< refused by policy or consent (exit 3); see error::reason
  integrity,         ///< tampering, wrong key or corrupt data (exit 4)
  not_found,         ///< no such customer, field or vault (exit 5)
  erased,            ///< the customer was erased (exit 5)
  already_exists,    ///< refusing to overwrite (exit 2)
  io,                ///< the operating system or the database failed (exit 2)
  internal,          ///< a bug or an impossible state (exit 1)
};

/// deny_reason says why a decision denied access; deny_reason::none on other errors.
enum class deny_reason {
  none,
  no_consent,                     ///< consent basis, and no grant was ever recorded
  withdrawn,                      ///< consent basis, and the last event withdrew it
  expired,                        ///< consent basis, and the grant is past consent_valid_for
  objected,                       ///< the customer objected (Art. 21)
  purpose_not_allowed_for_field,  ///< the policy gives the field no form for the purpose
  accessor_not_registered,        ///< the accessor is not declared for the purpose
  unknown_purpose,                ///< the policy declares no such purpose
  unknown_field,                  ///< the policy declares no such field
  retention_expired,              ///< the stored value is past the field's retention
  erased,                         ///< the customer was erased
  contact_limit,                  ///< the contact would exceed a frequency limit
  inference_needs_profiling,      ///< inferred data needs a live profiling consent
  source_not_permitted,           ///< the value's source is not among the field's sources
  form_unavailable,               ///< the form cannot be produced for this value
  privacy_budget_spent,           ///< the purpose's privacy budget cannot pay for the aggregate
  consent_outdated,               ///< consent basis, granted under a policy version since widened
  lookup_not_allowed,             ///< the policy does not let the purpose search by the field
};

/// to_string names a deny_reason as it appears in JSON output ("no_consent", ...).
constexpr std::string_view to_string(deny_reason r) noexcept {
  switch (r) {
    case deny_reason::none: return "none";
    case deny_reason::no_consent: return "no_consent";
    case deny_reason::withdrawn: return "withdrawn";
    case deny_reason::expired: return "expired";
    case deny_reason::objected: return "objected";
    case deny_reason::purpose_not_allowed_for_field: return "purpose_not_allowed_for_field";
    case deny_reason::accessor_not_registered: return "accessor_not_registered";
    case deny_reason::unknown_purpose: return "unknown_purpose";
    case deny_reason::unknown_field: return "unknown_field";
    case deny_reason::retention_expired: return "retention_expired";
    case deny_reason::erased: return "erased";
    case deny_reason::contact_limit: return "contact_limit";
    case deny_reason::inference_needs_profiling: return "inference_needs_profiling";
    case deny_reason::source_not_permitted: return "source_not_permitted";
    case deny_reason::form_unavailable: return "form_unavailable";
    case deny_reason::privacy_budget_spent: return "privacy_budget_spent";
    case deny_reason::consent_outdated: return "consent_outdated";
    case deny_reason::lookup_not_allowed: return "lookup_not_allowed";
  }
  return "none";
}

/// parse_deny_reason reads a deny_reason's spelling back; nullopt for anything else.
constexpr std::optional<deny_reason> parse_deny_reason(std::string_view text) noexcept {
  for (int i = static_cast<int>(deny_reason::none); i <= static_cast<int>(deny_reason::lookup_not_allowed);
       ++i)
    if (to_string(static_cast<deny_reason>(i)) == text) return static_cast<deny_reason>(i);
  return std::nullopt;
}

/// to_string names an errc ("integrity", ...).
constexpr std::string_view to_string(errc c) noexcept {
  switch (c) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::bad_input: return "bad_input";
    case errc::denied: return "denied";
    case errc::integrity: return "integrity";
    case errc::not_found: return "not_found";
    case errc::erased: return "erased";
    case errc::already_exists: return "already_exists";
    case errc::io: return "io";
    case errc::internal: return "internal";
  }
  return "internal";
}

/// exit_code maps an errc to the command-line exit code of DESIGN.md.
constexpr int exit_code(errc c) noexcept {
  switch (c) {
    case errc::invalid_argument:
    case errc::bad_input:
    case errc::already_exists:
    case errc::io: return 2;
    case errc::denied: return 3;
    case errc::integrity: return 4;
    case errc::not_found:
    case errc::erased: return 5;
    case errc::internal: return 1;
  }
  return 1;
}

/// error is a failure: a code, a message that names fields, purposes, paths and lines but never
/// a value or key byte, and for denials the reason.
struct error {
  errc code = errc::internal;
  std::string message;
  deny_reason reason = deny_reason::none;
};

/// make_error builds an error value; convertible to any result<T>.
inline error make_error(errc code, std::string message, deny_reason reason = deny_reason::none) {
  return error{code, std::move(message), reason};
}

/// result<T> holds a T or an error. Check it (`if (!r)`) before calling value().
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  result(const T& v) : v_(std::in_place_index<0>, v) {}          // NOLINT: implicit by design
  result(T&& v) : v_(std::in_place_index<0>, std::move(v)) {}    // NOLINT
  result(error e) : v_(std::in_place_index<1>, std::move(e)) {}  // NOLINT
  template <class U, class = std::enable_if_t<
                         std::is_constructible_v<T, U&&> && !std::is_same_v<std::decay_t<U>, T> &&
                         !std::is_same_v<std::decay_t<U>, error> && !std::is_same_v<std::decay_t<U>, result>>>
  result(U&& v) : v_(std::in_place_index<0>, T(std::forward<U>(v))) {}  // NOLINT

  /// ok is true when the result holds a value.
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  /// value returns the held value; calling it on an error aborts.
  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  /// err returns the held error; calling it on a value aborts.
  const error& err() const& {
    if (ok()) std::abort();
    return std::get<1>(v_);
  }
  error&& err() && {
    if (ok()) std::abort();
    return std::get<1>(std::move(v_));
  }

 private:
  void check() const {
    if (!ok()) std::abort();
  }
  std::variant<T, error> v_;
};

/// result<void> holds nothing or an error.
template <>
class [[nodiscard]] result<void> {
 public:
  result() = default;
  result(error e) : e_(std::move(e)), failed_(true) {}  // NOLINT: implicit by design

  bool ok() const noexcept { return !failed_; }
  explicit operator bool() const noexcept { return ok(); }
  void value() const {
    if (failed_) std::abort();
  }
  const error& err() const& {
    if (!failed_) std::abort();
    return e_;
  }
  error&& err() && {
    if (!failed_) std::abort();
    return std::move(e_);
  }

 private:
  error e_;
  bool failed_ = false;
};

/// ok() is the successful result<void>.
inline result<void> ok() {
  return {};
}

}  // namespace consentry

/// CONSENTRY_TRY(expr) returns expr's error from the enclosing function if it failed.
#define CONSENTRY_TRY(expr)                                          \
  do {                                                               \
    auto&& consentry_try_r_ = (expr);                                \
    if (!consentry_try_r_) return std::move(consentry_try_r_).err(); \
  } while (0)
