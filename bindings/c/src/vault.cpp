// vault.cpp: opening and closing vaults, writes, consent, lists, erasure, exports and the audit
// log (consentry_vault_*).
#include <cstddef>

#include "c_api.hpp"

using namespace consentry_c;

namespace {

// vault_options reads the caller's options (NULL = the defaults), as far as their size says
// this header's layout reaches.
int vault_options(const consentry_vault_options* in, consentry::VaultOptions& out, consentry_error** err) {
  if (in == nullptr) return kOk;
  if (in->size < offsetof(consentry_vault_options, actor) + sizeof(in->actor))
    return fail_with(err, consentry::errc::invalid_argument,
                     "options.size is too small (initialise the options with consentry_vault_options_init)");
  switch (raw(in->kdf)) {
    case CONSENTRY_KDF_INTERACTIVE: out.kdf = consentry::KdfStrength::interactive; break;
    case CONSENTRY_KDF_MINIMUM: out.kdf = consentry::KdfStrength::minimum; break;
    case CONSENTRY_KDF_MODERATE: out.kdf = consentry::KdfStrength::moderate; break;
    case CONSENTRY_KDF_SENSITIVE: out.kdf = consentry::KdfStrength::sensitive; break;
    default: return fail_with(err, consentry::errc::invalid_argument, "options.kdf is not a consentry_kdf");
  }
  switch (raw(in->audit)) {
    case CONSENTRY_AUDIT_DURABLE: out.audit = consentry::AuditMode::durable; break;
    case CONSENTRY_AUDIT_BATCHED: out.audit = consentry::AuditMode::batched; break;
    case CONSENTRY_AUDIT_OFF: out.audit = consentry::AuditMode::off; break;
    default:
      return fail_with(err, consentry::errc::invalid_argument, "options.audit is not a consentry_audit_mode");
  }
  if (in->actor != nullptr) {
    std::string_view actor;
    if (int s = text(in->actor, "options.actor", actor, err)) return s;
    if (actor.empty()) return fail_with(err, consentry::errc::invalid_argument, "options.actor is empty");
    out.actor = std::string(actor);
  }
  // Callers built against a header from before max_readers keep the default.
  if (in->size >= offsetof(consentry_vault_options, max_readers) + sizeof(in->max_readers))
    out.max_readers = in->max_readers;
  return kOk;
}

// publish_vault wraps an opened vault in a new handle.
consentry_vault* publish_vault(consentry::Vault vault) {
  auto box = std::make_shared<VaultBox>();
  box->vault.emplace(std::move(vault));
  return publish(std::make_shared<consentry_vault>(consentry_vault{std::move(box)}));
}

// as_status turns a result<T> into a status, making *err on failure.
template <class T>
int as_status(const consentry::result<T>& r, consentry_error** err) {
  return r ? CONSENTRY_OK : fail(err, r.err());
}

}  // namespace

extern "C" {

void consentry_vault_options_init(consentry_vault_options* options) {
  if (options == nullptr) return;
  options->size = sizeof(consentry_vault_options);
  options->kdf = CONSENTRY_KDF_INTERACTIVE;
  options->audit = CONSENTRY_AUDIT_DURABLE;
  options->actor = nullptr;
  options->max_readers = consentry::VaultOptions{}.max_readers;
}

int consentry_vault_create(const char* path, const consentry_policy* policy, const char* passphrase,
                           const consentry_vault_options* options, consentry_vault** out,
                           consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (path == nullptr) return missing(err, "path");
    if (policy == nullptr) return missing(err, "policy");
    if (passphrase == nullptr) return missing(err, "passphrase");
    if (out == nullptr) return missing(err, "out");
    auto p = live(policy);
    if (!p) return dead(err, "policy");
    consentry::VaultOptions opts;
    if (int s = vault_options(options, opts, err)) return s;
    auto vault = consentry::Vault::create(path, p->policy, passphrase, std::move(opts));
    if (!vault) return fail(err, vault.err());
    *out = publish_vault(std::move(vault).value());
    return kOk;
  });
}

int consentry_vault_open(const char* path, const char* passphrase, const consentry_vault_options* options,
                         consentry_vault** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (path == nullptr) return missing(err, "path");
    if (passphrase == nullptr) return missing(err, "passphrase");
    if (out == nullptr) return missing(err, "out");
    consentry::VaultOptions opts;
    if (int s = vault_options(options, opts, err)) return s;
    auto vault = consentry::Vault::open(path, passphrase, std::move(opts));
    if (!vault) return fail(err, vault.err());
    *out = publish_vault(std::move(vault).value());
    return kOk;
  });
}

int consentry_vault_close(consentry_vault* vault, consentry_error** err) {
  return guarded(err, [&] {
    if (vault == nullptr) return kOk;
    if (!live(vault) || consentry_free(vault) != CONSENTRY_OK) return dead(err, "vault");
    return kOk;
  });
}

int consentry_vault_put(consentry_vault* vault, const char* customer, const char* field, const char* value,
                        const char* source, consentry_error** err) {
  return guarded(err, [&] {
    std::string_view c, f, v, s;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = text(field, "field", f, err)) return st;
    if (int st = text(value, "value", v, err)) return st;
    if (int st = optional_text(source, "source", s, err)) return st;
    return on_vault(vault, err, [&](consentry::Vault& open) { return as_status(open.put(c, f, v, s), err); });
  });
}

int consentry_vault_write(consentry_vault* vault, const char* customer, const char* const* fields,
                          const char* const* values, size_t count, const char* source,
                          consentry_error** err) {
  return guarded(err, [&] {
    std::string_view c, s;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = optional_text(source, "source", s, err)) return st;
    if (count == 0) return fail_with(err, consentry::errc::bad_input, "no field to write (count is 0)");
    if (fields == nullptr) return missing(err, "fields");
    if (values == nullptr) return missing(err, "values");
    consentry::Record record;
    record.customer = std::string(c);
    record.source = std::string(s);
    record.fields.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::string_view f, v;
      std::string at = "[" + std::to_string(i) + "]";
      if (int st = text(fields[i], ("fields" + at).c_str(), f, err)) return st;
      if (int st = text(values[i], ("values" + at).c_str(), v, err)) return st;
      record.fields.emplace_back(std::string(f), std::string(v));
    }
    std::vector<consentry::Record> records;
    records.push_back(std::move(record));
    return on_vault(vault, err, [&](consentry::Vault& open) { return as_status(open.write(records), err); });
  });
}

int consentry_vault_record_consent(consentry_vault* vault, const char* customer, const char* purpose,
                                   consentry_consent_action action, const char* channel, const char* notice,
                                   consentry_error** err) {
  return guarded(err, [&] {
    std::string_view c, p, ch, n;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = text(purpose, "purpose", p, err)) return st;
    if (int st = optional_text(channel, "channel", ch, err)) return st;
    if (int st = optional_text(notice, "notice", n, err)) return st;
    consentry::ConsentAction a;
    switch (raw(action)) {
      case CONSENTRY_CONSENT_GRANT: a = consentry::ConsentAction::grant; break;
      case CONSENTRY_CONSENT_WITHDRAW: a = consentry::ConsentAction::withdraw; break;
      case CONSENTRY_CONSENT_OBJECT: a = consentry::ConsentAction::object; break;
      default:
        return fail_with(err, consentry::errc::invalid_argument, "action is not a consentry_consent_action");
    }
    consentry::ConsentDetails details;
    details.channel = std::string(ch);
    details.notice = std::string(n);
    return on_vault(vault, err, [&](consentry::Vault& open) {
      return as_status(open.record_consent(c, p, a, details), err);
    });
  });
}

int consentry_vault_contains(consentry_vault* vault, const char* customer, int* out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = 0;
    std::string_view c;
    if (int st = text(customer, "customer", c, err)) return st;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.contains(c);
      if (!r) return fail(err, r.err());
      *out = r.value() ? 1 : 0;
      return kOk;
    });
  });
}

int consentry_vault_customers(consentry_vault* vault, char*** out, size_t* count, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (count != nullptr) *count = 0;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.customers();
      if (!r) return fail(err, r.err());
      *out = new_string_list(r.value());
      if (count != nullptr) *count = r.value().size();
      return kOk;
    });
  });
}

int consentry_vault_eligible_customers(consentry_vault* vault, const char* purpose, char*** out,
                                       size_t* count, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (count != nullptr) *count = 0;
    std::string_view p;
    if (int st = text(purpose, "purpose", p, err)) return st;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.eligible_customers(p);
      if (!r) return fail(err, r.err());
      *out = new_string_list(r.value());
      if (count != nullptr) *count = r.value().size();
      return kOk;
    });
  });
}

int consentry_vault_erase(consentry_vault* vault, const char* customer, const char* reason,
                          const char* request, consentry_error** err) {
  return guarded(err, [&] {
    std::string_view c, why, ref;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = optional_text(reason, "reason", why, err)) return st;
    if (int st = optional_text(request, "request", ref, err)) return st;
    consentry::ErasureRequest erasure;
    erasure.reason = std::string(why);
    erasure.request = std::string(ref);
    return on_vault(vault, err,
                    [&](consentry::Vault& open) { return as_status(open.erase(c, erasure), err); });
  });
}

int consentry_vault_export(consentry_vault* vault, const char* customer, const char* language,
                           consentry_export** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view c, lang;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = optional_text(language, "language", lang, err)) return st;
    if (out == nullptr) return missing(err, "out");
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto report = open.export_subject(c);
      if (!report) return fail(err, report.err());
      consentry::ExportOptions options;
      options.language = std::string(lang);
      auto object = std::make_shared<consentry_export>();
      object->json = consentry::export_json(report.value(), options);
      object->html = consentry::export_html(report.value(), options);
      *out = publish(std::move(object));
      return kOk;
    });
  });
}

const char* consentry_export_json(const consentry_export* e, size_t* size) {
  if (size != nullptr) *size = 0;
  try {
    auto object = live(e);
    if (!object) return nullptr;
    if (size != nullptr) *size = object->json.size();
    return object->json.c_str();
  } catch (...) {
    return nullptr;
  }
}

const char* consentry_export_html(const consentry_export* e, size_t* size) {
  if (size != nullptr) *size = 0;
  try {
    auto object = live(e);
    if (!object) return nullptr;
    if (size != nullptr) *size = object->html.size();
    return object->html.c_str();
  } catch (...) {
    return nullptr;
  }
}

int consentry_vault_flush_audit(consentry_vault* vault, consentry_error** err) {
  return guarded(err, [&] {
    return on_vault(vault, err, [&](consentry::Vault& open) { return as_status(open.flush_audit(), err); });
  });
}

int consentry_vault_verify_audit(consentry_vault* vault, int64_t* entries, consentry_error** err) {
  return guarded(err, [&] {
    if (entries != nullptr) *entries = 0;
    return on_vault(vault, err, [&](consentry::Vault& open) {
      auto r = open.verify_audit();
      if (!r) return fail(err, r.err());
      if (entries != nullptr) *entries = r.value().entries;
      if (r.value().ok) return kOk;
      return fail_with(err, consentry::errc::integrity,
                       "the audit log does not verify at entry " + std::to_string(r.value().first_bad_seq) +
                           ": " + r.value().problem);
    });
  });
}

int consentry_vault_accessor(consentry_vault* vault, const char* id, consentry_accessor** out,
                             consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view name;
    if (int st = text(id, "id", name, err)) return st;
    if (out == nullptr) return missing(err, "out");
    if (vault == nullptr) return missing(err, "vault");
    auto handle = live(vault);
    if (!handle) return dead(err, "vault");
    return with_vault(handle->box, err, [&](consentry::Vault& open) {
      auto accessor = open.accessor(name);
      if (!accessor) return fail(err, accessor.err());
      *out = publish(
          std::make_shared<consentry_accessor>(consentry_accessor{handle->box, std::move(accessor).value()}));
      return kOk;
    });
  });
}

}  // extern "C"
