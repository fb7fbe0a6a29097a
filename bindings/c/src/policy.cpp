// policy.cpp: policies (consentry_policy_*) and the library's version.
#include "c_api.hpp"

#ifndef CONSENTRY_VERSION
#error "CONSENTRY_VERSION must be defined by the build"
#endif

using namespace consentry_c;

extern "C" {

const char* consentry_version(void) {
  return CONSENTRY_VERSION;
}

int consentry_policy_load(const char* path, consentry_policy** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (path == nullptr) return missing(err, "path");
    if (out == nullptr) return missing(err, "out");
    auto policy = consentry::Policy::load(path);
    if (!policy) return fail(err, policy.err());
    *out = publish(std::make_shared<consentry_policy>(consentry_policy{std::move(policy).value()}));
    return kOk;
  });
}

int consentry_policy_parse(const char* json, consentry_policy** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view text_in;
    if (int s = text(json, "json", text_in, err)) return s;
    if (out == nullptr) return missing(err, "out");
    auto policy = consentry::Policy::parse(text_in);
    if (!policy) return fail(err, policy.err());
    *out = publish(std::make_shared<consentry_policy>(consentry_policy{std::move(policy).value()}));
    return kOk;
  });
}

int consentry_policy_to_json(const consentry_policy* policy, char** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (policy == nullptr) return missing(err, "policy");
    if (out == nullptr) return missing(err, "out");
    auto object = live(policy);
    if (!object) return dead(err, "policy");
    *out = new_string(object->policy.to_json());
    return kOk;
  });
}

}  // extern "C"
