// arguments.cpp: the checks every entry point makes of its arguments.
#include "c_api.hpp"
#include "text/utf8.hpp"

namespace consentry_c {

int text(const char* s, const char* name, std::string_view& out, consentry_error** err) {
  if (s == nullptr) return missing(err, name);
  return optional_text(s, name, out, err);
}

int optional_text(const char* s, const char* name, std::string_view& out, consentry_error** err) {
  out = s == nullptr ? std::string_view() : std::string_view(s);
  if (!consentry::detail::utf8_valid(out))
    return fail_with(err, consentry::errc::invalid_argument, std::string(name) + " is not valid UTF-8");
  return kOk;
}

int missing(consentry_error** err, const char* name) {
  return fail_with(err, consentry::errc::invalid_argument, std::string(name) + " is NULL");
}

int dead(consentry_error** err, const char* name) {
  return fail_with(err, consentry::errc::invalid_argument,
                   std::string(name) + " is not a live handle (freed, closed, or not the library's)");
}

int closed(consentry_error** err) {
  return fail_with(err, consentry::errc::invalid_argument, "the vault is closed");
}

}  // namespace consentry_c
