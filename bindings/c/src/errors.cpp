// errors.cpp: consentry_error objects, made from the C++ library's errors, and their getters.
#include "c_api.hpp"

namespace consentry_c {

static_assert(static_cast<int>(consentry::deny_reason::lookup_not_allowed) ==
                  CONSENTRY_DENY_LOOKUP_NOT_ALLOWED,
              "consentry_deny_reason follows consentry::deny_reason");
static_assert(static_cast<int>(consentry::deny_reason::accessor_not_registered) ==
              CONSENTRY_DENY_ACCESSOR_NOT_REGISTERED);

int status_of(consentry::errc code) noexcept {
  return consentry::exit_code(code);
}

consentry_errc to_c(consentry::errc code) noexcept {
  using consentry::errc;
  switch (code) {
    case errc::invalid_argument: return CONSENTRY_ERRC_INVALID_ARGUMENT;
    case errc::bad_input: return CONSENTRY_ERRC_BAD_INPUT;
    case errc::denied: return CONSENTRY_ERRC_DENIED;
    case errc::integrity: return CONSENTRY_ERRC_INTEGRITY;
    case errc::not_found: return CONSENTRY_ERRC_NOT_FOUND;
    case errc::erased: return CONSENTRY_ERRC_ERASED;
    case errc::already_exists: return CONSENTRY_ERRC_ALREADY_EXISTS;
    case errc::io: return CONSENTRY_ERRC_IO;
    case errc::internal: return CONSENTRY_ERRC_INTERNAL;
  }
  return CONSENTRY_ERRC_INTERNAL;
}

consentry_deny_reason to_c(consentry::deny_reason reason) noexcept {
  int r = static_cast<int>(reason);
  if (r < CONSENTRY_DENY_NONE || r > CONSENTRY_DENY_LOOKUP_NOT_ALLOWED) return CONSENTRY_DENY_NONE;
  return static_cast<consentry_deny_reason>(r);
}

std::shared_ptr<consentry_error> error_object(const consentry::error& e) {
  auto object = std::make_shared<consentry_error>();
  object->code = to_c(e.code);
  object->reason = to_c(e.reason);
  object->status = status_of(e.code);
  object->message = e.message;
  return object;
}

int fail(consentry_error** err, const consentry::error& e) {
  int status = status_of(e.code);
  if (err == nullptr) return status;
  try {
    *err = publish(error_object(e));
  } catch (...) {
    *err = nullptr;  // out of memory: the status still says what happened
  }
  return status;
}

int fail_with(consentry_error** err, consentry::errc code, std::string message) {
  try {
    return fail(err, consentry::make_error(code, std::move(message)));
  } catch (...) {
    if (err != nullptr) *err = nullptr;
    return status_of(code);
  }
}

}  // namespace consentry_c

using namespace consentry_c;

extern "C" {

int consentry_error_status(const consentry_error* e) {
  try {
    auto object = live(e);
    return object ? object->status : CONSENTRY_BAD_INPUT;
  } catch (...) {
    return CONSENTRY_INTERNAL;
  }
}

consentry_errc consentry_error_code(const consentry_error* e) {
  try {
    auto object = live(e);
    return object ? object->code : CONSENTRY_ERRC_INVALID_ARGUMENT;
  } catch (...) {
    return CONSENTRY_ERRC_INTERNAL;
  }
}

consentry_deny_reason consentry_error_reason(const consentry_error* e) {
  try {
    auto object = live(e);
    return object ? object->reason : CONSENTRY_DENY_NONE;
  } catch (...) {
    return CONSENTRY_DENY_NONE;
  }
}

const char* consentry_error_reason_name(const consentry_error* e) {
  return consentry_deny_reason_name(consentry_error_reason(e));
}

const char* consentry_error_message(const consentry_error* e) {
  try {
    // The message lives in the error object, which the registry keeps until it is freed.
    auto object = live(e);
    return object ? object->message.c_str() : "";
  } catch (...) {
    return "";
  }
}

const char* consentry_errc_name(consentry_errc code) {
  switch (raw(code)) {
    case CONSENTRY_ERRC_NONE: return "none";
    case CONSENTRY_ERRC_INVALID_ARGUMENT: return "invalid_argument";
    case CONSENTRY_ERRC_BAD_INPUT: return "bad_input";
    case CONSENTRY_ERRC_DENIED: return "denied";
    case CONSENTRY_ERRC_INTEGRITY: return "integrity";
    case CONSENTRY_ERRC_NOT_FOUND: return "not_found";
    case CONSENTRY_ERRC_ERASED: return "erased";
    case CONSENTRY_ERRC_ALREADY_EXISTS: return "already_exists";
    case CONSENTRY_ERRC_IO: return "io";
    case CONSENTRY_ERRC_INTERNAL: return "internal";
    default: return "internal";
  }
}

const char* consentry_deny_reason_name(consentry_deny_reason reason) {
  int r = raw(reason);
  if (r < CONSENTRY_DENY_NONE || r > CONSENTRY_DENY_LOOKUP_NOT_ALLOWED) return "none";
  // to_string's spellings are string literals, so their data is NUL-terminated and static.
  return consentry::to_string(static_cast<consentry::deny_reason>(r)).data();
}

}  // extern "C"
