// common.hpp: what every part of the `consentry` Python module shares: errors raised as the
// package's exceptions, UTF-8 text arguments, the vault's shared, closable state and timestamps.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>

#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/time.hpp"
#include "consentry/vault.hpp"

namespace consentry::python {

namespace py = pybind11;

/// Failure carries a library error (or one of the module's own) to the exception translator,
/// which raises it as the matching exception of consentry._errors. `code` is an errc's spelling,
/// or "closed" for a call on a closed vault.
struct Failure {
  std::string code;
  std::string message;
  std::string reason;  ///< a deny_reason's spelling for denials; "" otherwise
};

/// failure_of turns a library error into a Failure (its message never holds a value).
inline Failure failure_of(const error& e) {
  return Failure{std::string(to_string(e.code)), e.message,
                 e.reason == deny_reason::none ? std::string() : std::string(to_string(e.reason))};
}

/// take returns the value of `r` or throws its error as a Failure.
template <class T>
T take(result<T>&& r) {
  if (!r) throw failure_of(r.err());
  return std::move(r).value();
}
inline void take(result<void>&& r) {
  if (!r) throw failure_of(r.err());
}

/// invalid throws an invalid_argument Failure with `message` (which must hold no value).
[[noreturn]] inline void invalid(std::string message) {
  throw Failure{"invalid_argument", std::move(message), ""};
}

/// exception_for builds the Python exception object for `f` (GIL held).
py::object exception_for(const Failure& f);
/// register_errors installs the translator of Failure; call once at module init.
void register_errors(py::module_& m);

/// Text is a str argument as UTF-8. A str that cannot be encoded (a lone surrogate) raises
/// consentry.InvalidInput instead of a TypeError; the message names the parameter's position
/// only, never the text.
struct Text {
  std::string s;
  operator std::string_view() const noexcept { return s; }  // NOLINT: implicit by design
};

/// VaultBox is a vault's state shared by the Python Vault and every accessor and view made from
/// it: calls hold `mu` shared while they run (with the GIL released), close() holds it
/// exclusively and empties `vault`, so a call after close raises consentry.Error (VaultClosed)
/// and never touches freed memory, whatever order Python collects the objects in.
struct VaultBox {
  mutable std::shared_mutex mu;
  std::optional<Vault> vault;
  std::string path;
};

/// run calls `f(vault)` with the GIL released and the vault kept open for the call; throws
/// VaultClosed when it was closed. What `f` returns must be converted to Python objects only
/// after run returns (the GIL is held again then).
template <class F>
auto run(VaultBox& box, F&& f) {
  py::gil_scoped_release nogil;
  std::shared_lock lock(box.mu);
  if (!box.vault) throw Failure{"closed", "the vault is closed", ""};
  return f(*box.vault);
}

/// nogil calls `f()` with the GIL released.
template <class F>
auto nogil(F&& f) {
  py::gil_scoped_release release;
  return f();
}

/// to_datetime gives an aware datetime in UTC.
py::object to_datetime(timestamp t);
/// to_datetime_or_none gives None for nullopt.
py::object to_datetime_or_none(const std::optional<timestamp>& t);
/// to_timestamp reads a datetime (naive is taken as UTC) or an ISO 8601 string; None gives
/// nullopt. Raises InvalidInput for anything else.
std::optional<timestamp> to_timestamp(const py::handle& value, const char* what);

/// secret_of copies a bytes-like key into guarded memory.
SecretBytes secret_of(const py::bytes& key);
/// bytes_of copies bytes (a tweak) into a vector.
std::vector<std::uint8_t> bytes_of(const py::bytes& data);

void bind_policy(py::module_& m);
void bind_vault(py::module_& m);
void bind_anonymise(py::module_& m);

}  // namespace consentry::python

namespace pybind11::detail {

/// The caster of Text: a str only, encoded as UTF-8 (surrogates raise InvalidInput).
template <>
struct type_caster<consentry::python::Text> {
  PYBIND11_TYPE_CASTER(consentry::python::Text, const_name("str"));
  bool load(handle src, bool) {
    if (!src || !PyUnicode_Check(src.ptr())) return false;
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(src.ptr(), &size);
    if (!data) {
      PyErr_Clear();
      throw consentry::python::Failure{"invalid_argument",
                                       "text argument is not valid Unicode (a lone surrogate)", ""};
    }
    value.s.assign(data, static_cast<std::size_t>(size));
    return true;
  }
  static handle cast(const consentry::python::Text& t, return_value_policy, handle) {
    return PyUnicode_DecodeUTF8(t.s.data(), static_cast<Py_ssize_t>(t.s.size()), "replace");
  }
};

}  // namespace pybind11::detail
