// view.cpp: views, reads and searches (consentry_accessor_view, consentry_accessor_read,
// consentry_accessor_read_each, consentry_accessor_find, consentry_view_*, consentry_read_*).
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

/// read_object makes the read result of a read's fields, one item per field, not yet enrolled.
std::shared_ptr<consentry_read> read_object(std::vector<consentry::result<consentry::FieldValue>>& fields) {
  auto object = std::make_shared<consentry_read>();
  object->items.reserve(fields.size());
  for (auto& field : fields) {
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
  return object;
}

/// publish_read publishes a read's outcome, one item per field, into *out; fails as `got`.
int publish_read(consentry::result<std::vector<consentry::result<consentry::FieldValue>>> got,
                 consentry_read** out, consentry_error** err) {
  if (!got) return fail(err, got.err());
  *out = publish(read_object(got.value()));
  return kOk;
}

/// Lent enrols an object for the length of a callback and withdraws it after, so that the
/// callback can pass it to the getters but any use of it later is refused as a dead handle.
template <class T>
class Lent {
 public:
  explicit Lent(std::shared_ptr<T> object) : handle_(publish(std::move(object))) {}
  ~Lent() { withdraw(handle_); }
  Lent(const Lent&) = delete;
  Lent& operator=(const Lent&) = delete;
  const T* get() const { return handle_; }

 private:
  T* handle_;
};

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

int consentry_accessor_read_each(consentry_accessor* accessor, const char* const* customers,
                                 size_t ncustomers, const char* purpose, const char* const* fields,
                                 size_t count, size_t batch, consentry_read_each_fn each, void* context,
                                 size_t* done, consentry_error** err) {
  return guarded(err, [&] {
    if (done != nullptr) *done = 0;
    if (customers == nullptr && ncustomers > 0) return missing(err, "customers");
    std::vector<std::string> ids(ncustomers);
    for (std::size_t i = 0; i < ncustomers; ++i) {
      std::string name = "customers[" + std::to_string(i) + "]";
      std::string_view id;
      if (int st = text(customers[i], name.c_str(), id, err)) return st;
      ids[i] = std::string(id);
    }
    std::string_view p;
    if (int st = text(purpose, "purpose", p, err)) return st;
    std::vector<std::string_view> names;
    if (int st = field_names(fields, count, names, err)) return st;
    if (each == nullptr) return missing(err, "each");
    if (accessor == nullptr) return missing(err, "accessor");
    auto handle = live(accessor);
    if (!handle) return dead(err, "accessor");
    consentry::BulkReadOptions options;
    if (batch != 0) options.batch = batch;
    bool stopped = false;
    std::int64_t handed = 0;  // customers handed to `each`, the one that stopped the walk included
    auto hand_out = [&](const std::string& customer,
                        consentry::CustomerAnswer& answer) -> consentry::result<void> {
      ++handed;
      int go_on;
      if (answer) {
        Lent<consentry_read> lent(read_object(answer.value()));
        go_on = each(context, customer.c_str(), lent.get(), nullptr);
      } else {
        Lent<consentry_error> lent(error_object(answer.err()));
        go_on = each(context, customer.c_str(), nullptr, lent.get());
      }
      if (go_on == 0) return consentry::ok();
      stopped = true;
      return consentry::make_error(consentry::errc::internal, "the callback stopped the walk");
    };
    return with_vault(handle->box, err, [&](consentry::Vault&) {
      auto walked =
          handle->accessor.read_each(ids, p, std::span<const std::string_view>(names), hand_out, options);
      if (done != nullptr) *done = static_cast<size_t>(handed);
      if (!walked && !stopped) return fail(err, walked.err());
      return kOk;
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
