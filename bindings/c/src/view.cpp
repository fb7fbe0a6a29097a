// view.cpp: views, reads and searches (consentry_accessor_view, consentry_accessor_read,
// consentry_accessor_find, consentry_view_*, consentry_read_*).
#include "c_api.hpp"

using namespace consentry_c;

namespace {

/// field_names checks `count` field names (each valid text, named fields[i] in an error) into
/// `names`; CONSENTRY_OK or the status set in *err.
int field_names(const char* const* fields, std::size_t count, std::vector<std::string_view>& names,
                consentry_error** err) {
  if (count == 0) return fail_with(err, consentry::errc::bad_input, "no field to read (count is 0)");
  if (fields == nullptr) return missing(err, "fields");
  names.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = "fields[" + std::to_string(i) + "]";
    if (int st = text(fields[i], name.c_str(), names[i], err)) return st;
  }
  return kOk;
}

/// publish_read publishes a read's outcome, one item per field, into *out; fails as `got`.
int publish_read(consentry::result<std::vector<consentry::result<consentry::FieldValue>>> got,
                 consentry_read** out, consentry_error** err) {
  if (!got) return fail(err, got.err());
  auto object = std::make_shared<consentry_read>();
  object->items.reserve(got.value().size());
  for (auto& field : got.value()) {
    ReadItem item;
    if (field) {
      item.value = std::move(field.value().value);
      item.form = field.value().form.to_string();
    } else {
      item.error = field.err();
      item.status = status_of(item.error.code);
    }
    object->items.push_back(std::move(item));
  }
  *out = publish(std::move(object));
  return kOk;
}

}  // namespace

extern "C" {

int consentry_accessor_view(consentry_accessor* accessor, const char* customer, const char* purpose,
                            consentry_view** out, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view c, p;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = text(purpose, "purpose", p, err)) return st;
    if (out == nullptr) return missing(err, "out");
    if (accessor == nullptr) return missing(err, "accessor");
    auto handle = live(accessor);
    if (!handle) return dead(err, "accessor");
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      auto view = handle->accessor.view(c, p);
      if (!view) return fail(err, view.err());
      *out = publish(std::make_shared<consentry_view>(consentry_view{handle->box, std::move(view).value()}));
      return kOk;
    });
  });
}

int consentry_view_get(consentry_view* view, const char* field, char** value, char** form,
                       consentry_error** err) {
  return guarded(err, [&] {
    if (value != nullptr) *value = nullptr;
    if (form != nullptr) *form = nullptr;
    std::string_view f;
    if (int st = text(field, "field", f, err)) return st;
    if (value == nullptr) return missing(err, "value");
    if (view == nullptr) return missing(err, "view");
    auto handle = live(view);
    if (!handle) return dead(err, "view");
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      auto got = handle->view.get(f);
      if (!got) return fail(err, got.err());
      char* v = new_string(got.value().value);
      if (form != nullptr) {
        try {
          *form = new_string(got.value().form.to_string());
        } catch (...) {
          consentry_free(v);
          throw;
        }
      }
      *value = v;
      return kOk;
    });
  });
}

int consentry_view_read(consentry_view* view, const char* const* fields, size_t count, consentry_read** out,
                        consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::vector<std::string_view> names;
    if (int st = field_names(fields, count, names, err)) return st;
    if (out == nullptr) return missing(err, "out");
    if (view == nullptr) return missing(err, "view");
    auto handle = live(view);
    if (!handle) return dead(err, "view");
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      return publish_read(handle->view.read(std::span<const std::string_view>(names)), out, err);
    });
  });
}

int consentry_accessor_find(consentry_accessor* accessor, const char* purpose, const char* field,
                            const char* value, char*** out, size_t* count, consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    if (count != nullptr) *count = 0;
    std::string_view p, f, v;
    if (int st = text(purpose, "purpose", p, err)) return st;
    if (int st = text(field, "field", f, err)) return st;
    if (int st = text(value, "value", v, err)) return st;
    if (out == nullptr) return missing(err, "out");
    if (accessor == nullptr) return missing(err, "accessor");
    auto handle = live(accessor);
    if (!handle) return dead(err, "accessor");
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      auto r = handle->accessor.find(p, f, v);
      if (!r) return fail(err, r.err());
      *out = new_string_list(r.value());
      if (count != nullptr) *count = r.value().size();
      return kOk;
    });
  });
}

int consentry_accessor_read(consentry_accessor* accessor, const char* customer, const char* purpose,
                            const char* const* fields, size_t count, consentry_read** out,
                            consentry_error** err) {
  return guarded(err, [&] {
    if (out != nullptr) *out = nullptr;
    std::string_view c, p;
    if (int st = text(customer, "customer", c, err)) return st;
    if (int st = text(purpose, "purpose", p, err)) return st;
    std::vector<std::string_view> names;
    if (int st = field_names(fields, count, names, err)) return st;
    if (out == nullptr) return missing(err, "out");
    if (accessor == nullptr) return missing(err, "accessor");
    auto handle = live(accessor);
    if (!handle) return dead(err, "accessor");
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      return publish_read(handle->accessor.read(c, p, std::span<const std::string_view>(names)), out, err);
    });
  });
}

size_t consentry_read_count(const consentry_read* r) {
  try {
    auto object = live(r);
    return object ? object->items.size() : 0;
  } catch (...) {
    return 0;
  }
}

int consentry_read_field(const consentry_read* r, size_t index, const char** value, const char** form,
                         consentry_error** err) {
  return guarded(err, [&] {
    if (value != nullptr) *value = nullptr;
    if (form != nullptr) *form = nullptr;
    if (r == nullptr) return missing(err, "read");
    auto object = live(r);
    if (!object) return dead(err, "read");
    if (index >= object->items.size())
      return fail_with(err, consentry::errc::invalid_argument,
                       "index " + std::to_string(index) + " is past the " +
                           std::to_string(object->items.size()) + " fields read");
    // The strings live in the read result, which the registry keeps until it is freed.
    const ReadItem& item = object->items[index];
    if (item.status != CONSENTRY_OK) return fail(err, item.error);
    if (value != nullptr) *value = item.value.c_str();
    if (form != nullptr) *form = item.form.c_str();
    return kOk;
  });
}

}  // extern "C"
