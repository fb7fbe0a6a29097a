// module.cpp: the `consentry._consentry` extension: errors, timestamps and keys shared by the
// bindings, and the module's entry point.
#include <pybind11/pybind11.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "common.hpp"

namespace consentry::python {

namespace {

// The exception classes live in consentry/_errors.py; the module looks them up once.
py::object& errors_module() {
  // Leaked on purpose: destroying a py::object after the interpreter finalised would crash.
  static py::object* module = new py::object(py::module_::import("consentry._errors"));
  return *module;
}

py::object& datetime_module() {
  static py::object* module = new py::object(py::module_::import("datetime"));
  return *module;
}

}  // namespace

py::object exception_for(const Failure& f) {
  py::object from_code = errors_module().attr("_from_code");
  return from_code(f.code, f.message,
                   f.reason.empty() ? py::object(py::none()) : py::object(py::str(f.reason)));
}

void register_errors(py::module_&) {
  errors_module();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Failure& f) {
      py::object exc = exception_for(f);
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
    }
  });
}

py::object to_datetime(timestamp t) {
  py::object dt = datetime_module().attr("datetime");
  py::object utc = datetime_module().attr("timezone").attr("utc");
  const auto secs = static_cast<double>(t.time_since_epoch().count());
  return dt.attr("fromtimestamp")(secs, utc);
}

py::object to_datetime_or_none(const std::optional<timestamp>& t) {
  if (!t) return py::none();
  return to_datetime(*t);
}

std::optional<timestamp> to_timestamp(const py::handle& value, const char* what) {
  if (value.is_none()) return std::nullopt;
  if (py::isinstance<py::str>(value)) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(value.ptr(), &size);
    if (!data) {
      PyErr_Clear();
      invalid(std::string(what) + ": not valid Unicode");
    }
    auto t = parse_timestamp(std::string_view(data, static_cast<std::size_t>(size)));
    if (!t) invalid(std::string(what) + ": not an ISO 8601 date or time (2025-05-01T10:00:00Z)");
    return t;
  }
  if (py::isinstance(value, datetime_module().attr("datetime"))) {
    // timegm(utctimetuple()) takes an aware datetime to UTC and a naive one as UTC.
    py::object timegm = py::module_::import("calendar").attr("timegm");
    const auto secs = timegm(value.attr("utctimetuple")()).cast<std::int64_t>();
    return timestamp(std::chrono::seconds(secs));
  }
  invalid(std::string(what) + ": expected a datetime, an ISO 8601 string or None");
}

SecretBytes secret_of(const py::bytes& key) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(key.ptr(), &data, &size) != 0) throw py::error_already_set();
  return SecretBytes::copy_of(
      byte_view(reinterpret_cast<const std::uint8_t*>(data), static_cast<std::size_t>(size)));
}

std::vector<std::uint8_t> bytes_of(const py::bytes& value) {
  char* data = nullptr;
  Py_ssize_t size = 0;
  if (PyBytes_AsStringAndSize(value.ptr(), &data, &size) != 0) throw py::error_already_set();
  return {reinterpret_cast<const std::uint8_t*>(data), reinterpret_cast<const std::uint8_t*>(data) + size};
}

}  // namespace consentry::python

PYBIND11_MODULE(_consentry, m) {
  using namespace consentry::python;
  m.doc() =
      "consentry's compiled core: vaults of consent-gated, encrypted customer data, FF1 tokens, "
      "pseudonyms, k-anonymity and private aggregates. Import the `consentry` package, not this "
      "module.";
  register_errors(m);
  bind_policy(m);
  bind_vault(m);
  bind_anonymise(m);
}
