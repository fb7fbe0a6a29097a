// vault.cpp: Policy, Vault, Accessor, View and the plain objects they return, for Python.
// Every call into the vault runs with the GIL released (run() in common.hpp); results become
// Python objects only after the GIL is held again.
#include "consentry/vault.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "common.hpp"
#include "consentry/import.hpp"
#include "consentry/receipt.hpp"
#include "consentry/report.hpp"

namespace consentry::python {

namespace {

/// signal_dict gives a consent signal as a dict (kind, cmp_id, created), or None.
py::object signal_dict(const std::optional<ConsentSignal>& signal) {
  if (!signal) return py::none();
  py::dict d;
  d["kind"] = signal->kind;
  d["cmp_id"] = signal->cmp_id;
  d["created"] = to_datetime(signal->created);
  return d;
}

using namespace pybind11::literals;

/// PyVault is the Python Vault: the shared box, which accessors and views also hold.
struct PyVault {
  std::shared_ptr<VaultBox> box;
};

/// PyAccessor holds the box so that its vault cannot be freed under it.
struct PyAccessor {
  std::shared_ptr<VaultBox> box;
  Accessor accessor;
};

/// PyView holds the box so that its vault cannot be freed under it.
struct PyView {
  std::shared_ptr<VaultBox> box;
  View view;
};

/// PyReadEach is the iterator Accessor.read_each returns: when the customers read so far are all
/// handed out, the next batch is read through Accessor::read_each (its audit entries committed
/// before any of its answers is handed out).
struct PyReadEach {
  PyReadEach(std::shared_ptr<VaultBox> b, Accessor a) : box(std::move(b)), accessor(std::move(a)) {}
  std::shared_ptr<VaultBox> box;
  Accessor accessor;
  std::vector<std::string> customers;
  std::string purpose;
  std::vector<Text> fields;
  std::size_t batch = kBulkReadBatch;
  std::size_t next = 0;  // the first customer not yet read
  std::vector<std::pair<std::string, CustomerAnswer>> ready;
  std::size_t ready_at = 0;  // the first answer in `ready` not yet handed out
  bool reading = false;      // a batch is being read, with the GIL released
};

/// quoted gives Python's repr of a str (for reprs of ids and names).
std::string repr_of(const std::string& s) {
  return py::repr(py::str(s)).cast<std::string>();
}

KdfStrength parse_kdf(const std::string& text) {
  if (text == "minimum") return KdfStrength::minimum;
  if (text == "interactive") return KdfStrength::interactive;
  if (text == "moderate") return KdfStrength::moderate;
  if (text == "sensitive") return KdfStrength::sensitive;
  invalid("kdf must be 'minimum', 'interactive', 'moderate' or 'sensitive'");
}

AuditMode parse_audit(const std::string& text) {
  if (text == "durable") return AuditMode::durable;
  if (text == "batched") return AuditMode::batched;
  if (text == "off") return AuditMode::off;
  invalid("audit must be 'durable', 'batched' or 'off'");
}

VaultOptions options_of(const std::string& kdf, const std::string& audit, const std::optional<Text>& actor,
                        std::size_t key_cache_size, std::size_t max_readers) {
  VaultOptions options;
  options.kdf = parse_kdf(kdf);
  options.audit = parse_audit(audit);
  if (actor) options.actor = actor->s;
  options.key_cache_size = key_cache_size;
  options.max_readers = max_readers;
  return options;
}

// Every vault opened, so that close_all can close those still open when the interpreter exits.
std::mutex registry_mu;
std::vector<std::weak_ptr<VaultBox>>& registry() {
  static auto* boxes = new std::vector<std::weak_ptr<VaultBox>>();
  return *boxes;
}

PyVault wrap(result<Vault>&& r, const std::filesystem::path& file) {
  auto box = std::make_shared<VaultBox>();
  box->vault.emplace(take(std::move(r)));
  box->path = file.string();
  std::lock_guard lock(registry_mu);
  auto& boxes = registry();
  std::erase_if(boxes, [](const std::weak_ptr<VaultBox>& b) { return b.expired(); });
  boxes.push_back(box);
  return PyVault{std::move(box)};
}

/// close_all closes every vault still open: at exit, held-back audit entries are committed and
/// a checkpoint signed even for a vault the program never closed.
void close_all() {
  std::vector<std::shared_ptr<VaultBox>> open;
  {
    std::lock_guard lock(registry_mu);
    for (const auto& b : registry())
      if (auto box = b.lock()) open.push_back(std::move(box));
    registry().clear();
  }
  py::gil_scoped_release release;
  for (const auto& box : open) {
    std::unique_lock lock(box->mu);
    box->vault.reset();
  }
}

py::dict erasure_dict(const ErasureReport& r) {
  return py::dict("values"_a = r.values, "fields"_a = r.fields, "consent_events"_a = r.consent_events,
                  "dry_run"_a = r.dry_run);
}

py::dict answer_dict(const PrivateAnswer& a) {
  py::list bins;
  for (const auto& b : a.bins) bins.append(py::dict("lo"_a = b.lo, "hi"_a = b.hi, "count"_a = b.count));
  py::object clamp = py::none();
  if (a.clamp) clamp = py::make_tuple(a.clamp->lo, a.clamp->hi);
  return py::dict("kind"_a = std::string(to_string(a.kind)), "count"_a = a.count, "sum"_a = a.sum,
                  "mean"_a = a.mean, "bins"_a = bins, "epsilon_spent"_a = a.epsilon_spent,
                  "delta_spent"_a = a.delta_spent, "clamp"_a = clamp);
}

AggregateQuery query_of(const std::string& kind, double epsilon, const std::string& noise, double delta,
                        std::int64_t lo, std::int64_t hi, std::int64_t bins) {
  AggregateQuery q;
  q.kind = take(parse_aggregate_kind(kind));
  q.noise = take(parse_noise_kind(noise));
  q.epsilon = epsilon;
  q.delta = delta;
  q.lo = lo;
  q.hi = hi;
  q.bins = bins;
  return q;
}

std::string utf8_of(const py::handle& text, const char* what) {
  Py_ssize_t size = 0;
  const char* data = PyUnicode_AsUTF8AndSize(text.ptr(), &size);
  if (!data) {
    PyErr_Clear();
    invalid(std::string(what) + " is not valid Unicode (a lone surrogate)");
  }
  return std::string(data, static_cast<std::size_t>(size));
}

py::dict contact_dict(const ContactEvent& c) {
  return py::dict("seq"_a = c.seq, "customer"_a = c.customer, "channel"_a = c.channel,
                  "purpose"_a = c.purpose, "at"_a = to_datetime(c.at));
}

py::dict preference_dict(const ContactPreference& p) {
  return py::dict("seq"_a = p.seq, "customer"_a = p.customer, "kind"_a = std::string(to_string(p.kind)),
                  "purpose"_a = p.purpose, "channel"_a = p.channel, "max"_a = p.max,
                  "per"_a = p.per.to_string(), "at"_a = to_datetime(p.at));
}

py::dict version_dict(const PolicyVersion& v) {
  return py::dict("number"_a = v.number, "hash"_a = v.hash, "at"_a = to_datetime_or_none(v.at),
                  "actor"_a = v.actor);
}

/// field_dict is {field: value} of a read of `fields`: with `strict`, the first field refused
/// raises its exception; otherwise a refused field maps to that exception object.
py::dict field_dict(const std::vector<Text>& fields, const std::vector<result<FieldValue>>& values,
                    bool strict) {
  py::dict out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (values[i]) {
      out[py::str(fields[i].s)] = py::str(values[i].value().value);
    } else if (strict) {
      throw failure_of(values[i].err());
    } else {
      out[py::str(fields[i].s)] = exception_for(failure_of(values[i].err()));
    }
  }
  return out;
}

IsoDuration duration_of(const std::string& text, const char* what) {
  auto d = parse_iso_duration(text);
  if (!d) invalid(std::string(what) + ": not an ISO 8601 duration (P7D, P1M, PT12H)");
  return *d;
}

}  // namespace

void bind_policy(py::module_& m) {
  py::class_<Policy, std::shared_ptr<Policy>>(
      m, "Policy", "A validated policy: purposes, accessors, fields and their forms.")
      .def_static(
          "from_json",
          [](const Text& text, const Text& origin) {
            auto r = nogil([&] { return Policy::parse(text.s, origin.s); });
            return std::make_shared<Policy>(take(std::move(r)));
          },
          "text"_a, "origin"_a = Text{"policy"},
          "Parse and validate a policy's JSON text. Raises InvalidInput naming `origin` and the JSON path "
          "of the first problem.")
      .def_static(
          "from_file",
          [](const std::filesystem::path& path) {
            auto r = nogil([&] { return Policy::load(path); });
            return std::make_shared<Policy>(take(std::move(r)));
          },
          "path"_a, "Read and validate a policy file. Raises InvalidInput or StoreError (unreadable file).")
      .def("to_json", &Policy::to_json, "The policy as canonical JSON text.")
      .def_property_readonly(
          "purposes",
          [](const Policy& p) {
            std::vector<std::string> ids;
            for (const auto& x : p.purposes()) ids.push_back(x.id);
            return ids;
          },
          "The purposes' ids, in policy order.")
      .def_property_readonly(
          "accessors",
          [](const Policy& p) {
            std::vector<std::string> ids;
            for (const auto& x : p.accessors()) ids.push_back(x.id);
            return ids;
          },
          "The accessors' ids, in policy order.")
      .def_property_readonly(
          "fields",
          [](const Policy& p) {
            std::vector<std::string> names;
            for (const auto& x : p.fields()) names.push_back(x.name);
            return names;
          },
          "The fields' names, in policy order.")
      .def("__repr__", [](const Policy& p) {
        return "<consentry.Policy purposes=" + std::to_string(p.purposes().size()) +
               " accessors=" + std::to_string(p.accessors().size()) +
               " fields=" + std::to_string(p.fields().size()) + ">";
      });
}

void bind_vault(py::module_& m) {
  m.def(
      "verify_consent_receipt",
      [](const Text& receipt, const py::bytes& public_key) {
        const std::string raw_key = public_key;
        const bytes key(raw_key.begin(), raw_key.end());
        ConsentReceipt r = take(verify_consent_receipt(receipt.s, key));
        py::dict out;
        out["receipt_id"] = r.receipt_id;
        out["controller"] = r.controller;
        out["subject"] = r.subject;
        out["purpose"] = r.purpose;
        out["action"] = r.action;
        out["consent_time"] = r.consent_time;
        out["policy_version"] = r.policy_version;
        out["ledger_seq"] = r.ledger_seq;
        return out;
      },
      "receipt"_a, "public_key"_a,
      "Check a consent receipt offline with only the vault's public key (Vault.public_key(), 32 bytes). "
      "Returns what it records. Raises "
      "IntegrityError when it was changed or names another key, InvalidInput when it is not a receipt.");
  m.def("_close_all", &close_all,
        "Close every vault still open (registered with atexit by the consentry package).");
  py::class_<FieldValue>(
      m, "FieldValue",
      "A field as revealed to a purpose: `value` in the form the policy gives it. Its repr "
      "names the field and form, never the value.")
      .def_readonly("field", &FieldValue::field, "The field's name.")
      .def_readonly("value", &FieldValue::value, "The value, already in its form (\"\" for redact).")
      .def_property_readonly(
          "form", [](const FieldValue& v) { return v.form.to_string(); }, "The form's policy spelling.")
      .def("__repr__", [](const FieldValue& v) {
        return "<consentry.FieldValue field=" + repr_of(v.field) + " form=" + repr_of(v.form.to_string()) +
               ">";
      });

  py::class_<ConsentEvent>(m, "ConsentEvent", "One event of a customer's consent ledger.")
      .def_readonly("seq", &ConsentEvent::seq, "Ledger order.")
      .def_readonly("customer", &ConsentEvent::customer, "The customer's id.")
      .def_readonly("purpose", &ConsentEvent::purpose, "The purpose's id.")
      .def_property_readonly(
          "action", [](const ConsentEvent& e) { return std::string(to_string(e.action)); },
          "\"grant\", \"withdraw\" or \"object\".")
      .def_property_readonly(
          "at", [](const ConsentEvent& e) { return to_datetime(e.at); }, "When it was recorded (UTC).")
      .def_readonly("channel", &ConsentEvent::channel, "How it was given (\"web\", \"phone\", ...).")
      .def_readonly("notice", &ConsentEvent::notice, "The privacy notice shown.")
      .def_property_readonly(
          "expires_at", [](const ConsentEvent& e) { return to_datetime_or_none(e.expires_at); },
          "When a grant lapses; None when it does not.")
      .def_readonly("policy_version", &ConsentEvent::policy_version, "The policy version in force then.")
      .def_property_readonly(
          "signal", [](const ConsentEvent& e) { return signal_dict(e.signal); },
          "The consent signal the event was taken from, as a dict (kind, cmp_id, created); None for an event "
          "recorded directly.")
      .def("__repr__", [](const ConsentEvent& e) {
        return "<consentry.ConsentEvent seq=" + std::to_string(e.seq) + " purpose=" + repr_of(e.purpose) +
               " action=" + repr_of(std::string(to_string(e.action))) + ">";
      });

  py::class_<AuditEntry>(m, "AuditEntry",
                         "One audit log entry. It names the customer only by a keyed pseudonym.")
      .def_readonly("seq", &AuditEntry::seq, "Position in the log (in its chain), from 1.")
      .def_readonly("chain", &AuditEntry::chain,
                    "The writer's hash chain the entry is in; 0 for a log with one chain (docs/audit.md).")
      .def_property_readonly(
          "at", [](const AuditEntry& e) { return to_datetime(e.at); }, "When (UTC).")
      .def_readonly("customer", &AuditEntry::customer, "The customer's pseudonym (hex); \"\" for none.")
      .def_readonly("accessor", &AuditEntry::accessor, "The accessor, or the staff tool.")
      .def_readonly("purpose", &AuditEntry::purpose, "The purpose; \"\" when the action has none.")
      .def_property_readonly(
          "action", [](const AuditEntry& e) { return std::string(to_string(e.action)); },
          "What happened: \"view_opened\", \"field_read\", \"access_denied\", \"export_made\", ...")
      .def_readonly("allowed", &AuditEntry::allowed, "The decision.")
      .def_readonly("reason", &AuditEntry::reason, "Why (a deny reason for refusals).")
      .def_readonly("fields", &AuditEntry::fields, "Field names (\"email:clear\" for reads).")
      .def_readonly("actor", &AuditEntry::actor, "Who acted through the accessor; \"\" when not recorded.")
      .def("__repr__", [](const AuditEntry& e) {
        return "<consentry.AuditEntry seq=" + std::to_string(e.seq) +
               " action=" + repr_of(std::string(to_string(e.action))) + " accessor=" + repr_of(e.accessor) +
               " purpose=" + repr_of(e.purpose) + " allowed=" + (e.allowed ? "True" : "False") + ">";
      });

  py::class_<PyView>(m, "View",
                     "One customer's fields for one purpose as one accessor. Every read decides again with "
                     "the consent ledger as it is now: a withdrawal denies the next read.")
      .def_property_readonly(
          "customer", [](const PyView& v) { return v.view.customer(); }, "The customer's id.")
      .def_property_readonly(
          "purpose", [](const PyView& v) { return v.view.purpose(); }, "The purpose's id.")
      .def_property_readonly(
          "accessor", [](const PyView& v) { return v.view.accessor(); }, "The accessor's id.")
      .def(
          "get",
          [](const PyView& v, const Text& field) {
            auto r = run(*v.box, [&](Vault&) { return v.view.get(field.s); });
            return take(std::move(r)).value;
          },
          "field"_a,
          "The field's value in the form the policy gives this purpose. Raises Denied (with .reason), "
          "NotFound when the customer has no value, Erased, IntegrityError, or VaultClosed.")
      .def(
          "get_field",
          [](const PyView& v, const Text& field) {
            auto r = run(*v.box, [&](Vault&) { return v.view.get(field.s); });
            return take(std::move(r));
          },
          "field"_a, "As get(), as a FieldValue (the value with its field and form).")
      .def(
          "read",
          [](const PyView& v, const std::vector<Text>& fields, bool strict) {
            auto r = run(*v.box, [&](Vault&) {
              std::vector<std::string_view> names(fields.begin(), fields.end());
              return v.view.read(std::span<const std::string_view>(names));
            });
            return field_dict(fields, take(std::move(r)), strict);
          },
          "fields"_a, py::kw_only(), "strict"_a = true,
          "Read several fields at once, decided against one reading of the ledger and audited together. "
          "Returns {field: value}. With strict=True (the default) the first field refused raises its "
          "exception (Denied, NotFound, IntegrityError); with strict=False a refused field maps to that "
          "exception object instead. The call itself raises (Erased, InvalidInput for an empty list, "
          "StoreError) when it fails as a whole.")
      .def("__repr__", [](const PyView& v) {
        return "<consentry.View accessor=" + repr_of(v.view.accessor()) +
               " customer=" + repr_of(v.view.customer()) + " purpose=" + repr_of(v.view.purpose()) + ">";
      });

  py::class_<PyReadEach>(m, "ReadEach",
                         "The iterator Accessor.read_each returns: (customer, answer) pairs, read a batch "
                         "at a time.")
      .def("__iter__", [](PyReadEach& it) -> PyReadEach& { return it; })
      .def("__next__", [](PyReadEach& it) {
        // Checked first: while another thread reads a batch (the GIL released), it fills `ready`.
        if (it.reading)
          throw std::runtime_error("read_each: the iterator is already reading in another thread");
        if (it.ready_at == it.ready.size()) {
          if (it.next == it.customers.size()) throw py::stop_iteration();
          it.ready.clear();
          it.ready_at = 0;
          const std::size_t n = std::min(it.batch, it.customers.size() - it.next);
          const std::span<const std::string> part(it.customers.data() + it.next, n);
          it.reading = true;
          auto r = [&] {
            // `reading` is cleared with the GIL held again, whatever the read returns or throws.
            struct Done {
              bool& flag;
              ~Done() { flag = false; }
            } done{it.reading};
            return run(*it.box, [&](Vault&) {
              std::vector<std::string_view> names(it.fields.begin(), it.fields.end());
              BulkReadOptions options;
              options.batch = n;
              return it.accessor.read_each(
                  part, it.purpose, std::span<const std::string_view>(names),
                  [&](const std::string& customer, CustomerAnswer& answer) {
                    it.ready.emplace_back(customer, std::move(answer));
                    return ok();
                  },
                  options);
            });
          }();
          if (!r) it.ready.clear();  // nothing of a batch that failed is handed out
          take(std::move(r));
          it.next += n;
        }
        auto& [customer, answer] = it.ready[it.ready_at++];
        py::object value = answer ? py::object(field_dict(it.fields, *answer, false))
                                  : exception_for(failure_of(answer.err()));
        return py::make_tuple(py::str(customer), std::move(value));
      });

  py::class_<PyAccessor>(m, "Accessor", "A CRM feature acting under its policy registration.")
      .def_property_readonly(
          "id", [](const PyAccessor& a) { return a.accessor.id(); }, "The accessor's policy id.")
      .def(
          "view",
          [](const PyAccessor& a, const Text& customer, const Text& purpose) {
            auto r = run(*a.box, [&](Vault&) { return a.accessor.view(customer.s, purpose.s); });
            return PyView{a.box, take(std::move(r))};
          },
          "customer"_a, "purpose"_a,
          "Open `customer` for `purpose`. Raises Denied (accessor_not_registered, unknown_purpose) or "
          "Erased. Consent is checked at each read, not here.")
      .def(
          "read",
          [](const PyAccessor& a, const Text& customer, const Text& purpose, const std::vector<Text>& fields,
             bool strict) {
            auto r = run(*a.box, [&](Vault&) {
              std::vector<std::string_view> names(fields.begin(), fields.end());
              return a.accessor.read(customer.s, purpose.s, std::span<const std::string_view>(names));
            });
            return field_dict(fields, take(std::move(r)), strict);
          },
          "customer"_a, "purpose"_a, "fields"_a, py::kw_only(), "strict"_a = true,
          "view(customer, purpose).read(fields) in one call, decided and read in one committed state of "
          "the store (one round trip to a PostgreSQL server). Raises as view() does (Denied, Erased) when "
          "refused as a whole; otherwise returns {field: value} as View.read does.")
      .def(
          "read_each",
          [](const PyAccessor& a, const py::iterable& customers, const Text& purpose,
             const std::vector<Text>& fields, std::size_t batch) {
            if (fields.empty()) take(result<void>(make_error(errc::bad_input, "read: no fields named")));
            if (batch == 0) invalid("batch must be at least 1");
            PyReadEach it{a.box, a.accessor};
            it.purpose = purpose.s;
            it.fields = fields;
            it.batch = batch;
            for (py::handle customer : customers) {
              if (!py::isinstance<py::str>(customer))
                throw py::type_error("read_each: each customer must be a str");
              it.customers.push_back(customer.cast<Text>().s);
            }
            return it;
          },
          "customers"_a, "purpose"_a, "fields"_a, py::kw_only(), "batch"_a = kBulkReadBatch,
          "read() for many customers, for work over many of them (an export of those eligible for a "
          "purpose, a dataset): an iterator of (customer, answer) in the order given, where answer is "
          "{field: value} as read(..., strict=False) returns it, or the exception object (Denied, Erased, "
          "InvalidInput) when that customer's read is refused whole. Customers are read `batch` at a time: "
          "a batch's audit entries (one per customer) are committed together before any of its answers "
          "is handed out, and a withdrawal committed before a batch is read decides it. Raises "
          "InvalidInput for an empty `fields` or a batch of 0, and StoreError (the batch neither handed "
          "out nor logged) when the store or the audit log fails.")
      .def(
          "find",
          [](const PyAccessor& a, const Text& purpose, const Text& field, const Text& value) {
            auto r = run(*a.box, [&](Vault&) { return a.accessor.find(purpose.s, field.s, value.s); });
            return take(std::move(r));
          },
          "purpose"_a, "field"_a, "value"_a,
          "The ids of the customers whose `field` equals `value` once both are normalised by the field's "
          "type, sorted; [] when no one is. Only for a purpose in the field's policy \"lookup\"; each "
          "candidate is decided like a read for the purpose before it is decrypted; audited, never the "
          "value. Raises Denied (lookup_not_allowed, ...) or InvalidInput.")
      .def(
          "detokenise",
          [](const PyAccessor& a, const Text& purpose, const Text& field, const Text& token) {
            auto r = run(*a.box, [&](Vault&) { return a.accessor.detokenise(purpose.s, field.s, token.s); });
            return take(std::move(r));
          },
          "purpose"_a, "field"_a, "token"_a,
          "Turn an FF1 token of `field` back into its value, for a purpose that sees the field in clear. "
          "Raises Denied or InvalidInput.")
      .def("__repr__",
           [](const PyAccessor& a) { return "<consentry.Accessor id=" + repr_of(a.accessor.id()) + ">"; });

  py::class_<PyVault>(m, "Vault",
                      "An open vault. Use it as a context manager, or call close(); any call after close "
                      "raises VaultClosed. Accessors and views keep the vault's state alive, so the order "
                      "in which Python frees them does not matter. Safe to share between threads; every "
                      "call releases the GIL.")
      .def_static(
          "create",
          [](const std::filesystem::path& path, const Policy& policy, const Text& passphrase,
             const std::string& kdf, const std::string& audit, const std::optional<Text>& actor,
             std::size_t key_cache_size, std::size_t max_readers) {
            VaultOptions options = options_of(kdf, audit, actor, key_cache_size, max_readers);
            auto r = nogil([&] { return Vault::create(path, policy, passphrase.s, std::move(options)); });
            return wrap(std::move(r), path);
          },
          "path"_a, "policy"_a, "passphrase"_a, py::kw_only(), "kdf"_a = "interactive", "audit"_a = "durable",
          "actor"_a = py::none(), "key_cache_size"_a = 4096, "max_readers"_a = VaultOptions{}.max_readers,
          "Create a new vault file. kdf: 'minimum' (tests only), 'interactive', 'moderate', 'sensitive'; "
          "audit: 'durable', 'batched' or 'off'; max_readers: connections opened for reads from several "
          "threads at once (0: every read on the vault's own connection, taking turns). Raises "
          "AlreadyExists when the file exists.")
      .def_static(
          "open",
          [](const std::filesystem::path& path, const Text& passphrase, const std::string& kdf,
             const std::string& audit, const std::optional<Text>& actor, std::size_t key_cache_size,
             std::size_t max_readers) {
            VaultOptions options = options_of(kdf, audit, actor, key_cache_size, max_readers);
            auto r = nogil([&] { return Vault::open(path, passphrase.s, std::move(options)); });
            return wrap(std::move(r), path);
          },
          "path"_a, "passphrase"_a, py::kw_only(), "kdf"_a = "interactive", "audit"_a = "durable",
          "actor"_a = py::none(), "key_cache_size"_a = 4096, "max_readers"_a = VaultOptions{}.max_readers,
          "Open an existing vault. Raises NotFound without the file, IntegrityError for a wrong passphrase.")
      .def_static(
          "create_with_key_file",
          [](const std::filesystem::path& path, const Policy& policy, const std::filesystem::path& key_file,
             const std::string& audit, const std::optional<Text>& actor, std::size_t key_cache_size,
             std::size_t max_readers) {
            VaultOptions options = options_of("interactive", audit, actor, key_cache_size, max_readers);
            auto r = nogil([&]() -> result<Vault> {
              auto provider = KeyFileKeyProvider::create(key_file);
              if (!provider) return provider.err();
              return Vault::create(path, policy, std::shared_ptr<KeyProvider>(*provider), std::move(options));
            });
            return wrap(std::move(r), path);
          },
          "path"_a, "policy"_a, "key_file"_a, py::kw_only(), "audit"_a = "durable", "actor"_a = py::none(),
          "key_cache_size"_a = 4096, "max_readers"_a = VaultOptions{}.max_readers,
          "Create a new vault whose master keys are sealed under a new key file (mode 0600), kept outside "
          "the vault: a backup of the vault alone opens nothing, and retired versions cannot be read by "
          "anyone. Raises AlreadyExists when either file exists.")
      .def_static(
          "open_with_key_file",
          [](const std::filesystem::path& path, const std::filesystem::path& key_file,
             const std::string& audit, const std::optional<Text>& actor, std::size_t key_cache_size,
             std::size_t max_readers) {
            VaultOptions options = options_of("interactive", audit, actor, key_cache_size, max_readers);
            auto r = nogil([&]() -> result<Vault> {
              auto provider = KeyFileKeyProvider::open(key_file);
              if (!provider) return provider.err();
              return Vault::open(path, std::shared_ptr<KeyProvider>(*provider), std::move(options));
            });
            return wrap(std::move(r), path);
          },
          "path"_a, "key_file"_a, py::kw_only(), "audit"_a = "durable", "actor"_a = py::none(),
          "key_cache_size"_a = 4096, "max_readers"_a = VaultOptions{}.max_readers,
          "Open a vault sealed under a key file. Raises NotFound, InvalidInput (a key file others may "
          "read), IntegrityError (another vault's key file, or a vault sealed under a passphrase).")
      .def(
          "close",
          [](PyVault& v) {
            py::gil_scoped_release release;
            std::unique_lock lock(v.box->mu);
            v.box->vault.reset();
          },
          "Commit held-back audit entries, sign a checkpoint and close. Closing twice does nothing.")
      .def_property_readonly(
          "closed",
          [](const PyVault& v) {
            std::shared_lock lock(v.box->mu);
            return !v.box->vault.has_value();
          },
          "True once closed.")
      .def_property_readonly(
          "path", [](const PyVault& v) { return v.box->path; }, "The vault's file.")
      .def(
          "__enter__", [](PyVault& v) -> PyVault& { return v; }, py::return_value_policy::reference_internal)
      .def(
          "__exit__",
          [](PyVault& v, const py::object&, const py::object&, const py::object&) {
            py::gil_scoped_release release;
            std::unique_lock lock(v.box->mu);
            v.box->vault.reset();
            return false;
          },
          "exc_type"_a, "exc_value"_a, "traceback"_a)
      .def("__repr__",
           [](const PyVault& v) {
             std::shared_lock lock(v.box->mu);
             return "<consentry.Vault path=" + repr_of(v.box->path) + (v.box->vault ? " open" : " closed") +
                    ">";
           })
      .def_property_readonly(
          "policy",
          [](const PyVault& v) {
            auto p = run(*v.box, [](Vault& vault) { return std::make_shared<Policy>(vault.policy()); });
            return p;
          },
          "The policy in force.")
      .def_property_readonly(
          "policy_version",
          [](const PyVault& v) { return run(*v.box, [](Vault& x) { return x.policy_version(); }); },
          "The number of the policy version in force (1 for a vault never updated).")
      .def(
          "accessor",
          [](const PyVault& v, const Text& id) {
            auto r = run(*v.box, [&](Vault& x) { return x.accessor(id.s); });
            return PyAccessor{v.box, take(std::move(r))};
          },
          "id"_a, "The accessor `id` declared in the policy. Raises NotFound otherwise.")
      .def(
          "put",
          [](const PyVault& v, const Text& customer, const Text& field, const Text& value, const Text& source,
             const py::object& collected_at) {
            auto at = to_timestamp(collected_at, "collected_at");
            take(run(*v.box, [&](Vault& x) { return x.put(customer.s, field.s, value.s, source.s, at); }));
          },
          "customer"_a, "field"_a, "value"_a, "source"_a = Text{}, "collected_at"_a = py::none(),
          "Write one value. Raises InvalidInput (undeclared field, value not of the field's type), Denied "
          "(source_not_permitted, inference_needs_profiling) or Erased.")
      .def(
          "write",
          [](const PyVault& v, const py::iterable& records, const Text& origin, const Text& default_source) {
            py::object to_jsonl = py::module_::import("consentry._records").attr("to_jsonl");
            std::string text = utf8_of(to_jsonl(records), "a record");
            auto r = run(*v.box, [&](Vault& x) -> result<std::size_t> {
              std::istringstream in(text);
              auto parsed = parse_records(in, ImportFormat::jsonl, origin.s, default_source.s);
              if (!parsed) return parsed.err();
              auto written = x.write(*parsed, origin.s);
              if (!written) return std::move(written).err();
              return parsed->size();
            });
            return take(std::move(r));
          },
          "records"_a, "origin"_a = Text{"records"}, "default_source"_a = Text{},
          "Write records, all or none, in one transaction. Each record is a dict as one line of a JSON "
          "Lines import: {'id': 'C-1', 'source': 'web', 'collected_at': datetime or ISO string, "
          "'fields': {'email': 'a@example.com', 'age': 41}}. Returns how many records were written. "
          "Raises InvalidInput naming `origin` and the record's 1-based position.")
      .def(
          "import_text",
          [](const PyVault& v, const Text& text, const std::string& format, const Text& origin,
             const Text& default_source) {
            auto f = parse_import_format(format);
            if (!f) invalid("format must be 'jsonl', 'csv' or 'export'");
            auto r = run(*v.box, [&](Vault& x) -> result<std::size_t> {
              std::istringstream in(text.s);
              auto parsed = parse_records(in, *f, origin.s, default_source.s);
              if (!parsed) return parsed.err();
              auto written = x.write(*parsed, origin.s);
              if (!written) return std::move(written).err();
              return parsed->size();
            });
            return take(std::move(r));
          },
          "text"_a, "format"_a = "jsonl", "origin"_a = Text{"import"}, "default_source"_a = Text{},
          "Import records from JSON Lines, CSV or a customer's JSON export (format 'jsonl', 'csv', "
          "'export'), as `consentry import` does, all or none. Returns how many records were written.")
      .def(
          "record_consent",
          [](const PyVault& v, const Text& customer, const Text& purpose, const std::string& action,
             const Text& channel, const Text& notice, const py::object& at, bool require_known) {
            auto a = parse_consent_action(action);
            if (!a) invalid("action must be 'grant', 'withdraw' or 'object'");
            ConsentDetails details;
            details.channel = channel.s;
            details.notice = notice.s;
            details.at = to_timestamp(at, "at");
            details.require_known = require_known;
            return take(
                run(*v.box, [&](Vault& x) { return x.record_consent(customer.s, purpose.s, *a, details); }));
          },
          "customer"_a, "purpose"_a, "action"_a, py::kw_only(), "channel"_a = Text{}, "notice"_a = Text{},
          "at"_a = py::none(), "require_known"_a = false,
          "Record a 'grant', 'withdraw' or 'object' event; returns it. Raises InvalidInput (unknown purpose, "
          "an action the purpose's basis does not take), Erased, or NotFound with require_known=True.")
      .def(
          "record_signal",
          [](const PyVault& v, const Text& customer, const std::string& kind, const Text& text,
             const Text& channel, const Text& notice, bool require_known) {
            signals::SignalKind k;
            if (kind == "tcf")
              k = signals::SignalKind::tcf;
            else if (kind == "gpp")
              k = signals::SignalKind::gpp;
            else if (kind == "gpc")
              k = signals::SignalKind::gpc;
            else
              invalid("kind must be 'tcf', 'gpp' or 'gpc'");
            ConsentDetails details;
            details.channel = channel.s;
            details.notice = notice.s;
            details.require_known = require_known;
            SignalReport report =
                take(run(*v.box, [&](Vault& x) { return x.record_signal(customer.s, k, text.s, details); }));
            py::list purposes;
            for (SignalOutcome& o : report.purposes) {
              py::dict d;
              d["purpose"] = o.purpose;
              d["verdict"] = std::string(to_string(o.verdict));
              d["recorded"] = o.recorded ? py::cast(std::move(*o.recorded)) : py::none();
              d["kept"] = o.kept;
              purposes.append(std::move(d));
            }
            py::dict out;
            out["signal"] = signal_dict(report.signal);
            out["purposes"] = std::move(purposes);
            return out;
          },
          "customer"_a, "kind"_a, "text"_a = Text{}, py::kw_only(), "channel"_a = Text{"web"},
          "notice"_a = Text{}, "require_known"_a = false,
          "Record what a consent signal says ('tcf' or 'gpp' with the string as text, or 'gpc'), through the "
          "policy's signals mapping. Returns {'signal': {...}, 'purposes': [{'purpose', 'verdict', "
          "'recorded' "
          "(a ConsentEvent or None), 'kept'}]}. Raises InvalidInput for a malformed or unmapped signal, "
          "Erased, "
          "or NotFound with require_known=True.")
      .def(
          "consent_receipt",
          [](const PyVault& v, const Text& customer, std::int64_t seq) {
            return take(run(*v.box, [&](Vault& x) { return x.consent_receipt(customer.s, seq); }));
          },
          "customer"_a, "seq"_a,
          "The signed receipt (JSON text) of the customer's ledger event seq, audited as a staff look at "
          "their "
          "consent. Raises NotFound for an unknown customer or event.")
      .def(
          "public_key",
          [](const PyVault& v) {
            const bytes key =
                take(run(*v.box, [](Vault& x) -> result<bytes> { return x.audit_public_key(); }));
            return py::bytes(reinterpret_cast<const char*>(key.data()), key.size());
          },
          "The vault's Ed25519 public key (32 bytes): it checks consent receipts (verify_consent_receipt) "
          "and "
          "audit checkpoints.")
      .def(
          "consent_state",
          [](const PyVault& v, const Text& customer) {
            auto r = run(*v.box, [&](Vault& x) -> result<std::vector<std::pair<std::string, std::string>>> {
              auto state = x.consent_state(customer.s);
              if (!state) return state.err();
              const timestamp now = x.now();
              std::vector<std::pair<std::string, std::string>> out;
              for (const auto& p : x.policy().purposes())
                out.emplace_back(p.id, std::string(to_string(state->status(p.id, now))));
              return out;
            });
            py::dict out;
            for (auto& [purpose, status] : take(std::move(r))) out[py::str(purpose)] = py::str(status);
            return out;
          },
          "customer"_a,
          "The customer's consent status on every purpose of the policy: {purpose: 'none' | 'granted' | "
          "'withdrawn' | 'expired' | 'objected'}. Raises Erased.")
      .def(
          "consent_history",
          [](const PyVault& v, const Text& customer) {
            return take(run(*v.box, [&](Vault& x) { return x.consent_history(customer.s); }));
          },
          "customer"_a, "The customer's consent ledger, oldest first. Raises Erased.")
      .def(
          "contains",
          [](const PyVault& v, const Text& customer) {
            return take(run(*v.box, [&](Vault& x) { return x.contains(customer.s); }));
          },
          "customer"_a, "True when the vault holds data or consent events for the customer.")
      .def(
          "customers",
          [](const PyVault& v) { return take(run(*v.box, [](Vault& x) { return x.customers(); })); },
          "The customers with data, sorted.")
      .def(
          "eligible_customers",
          [](const PyVault& v, const Text& purpose) {
            auto ids = take(run(*v.box, [&](Vault& x) { return x.eligible_customers(purpose.s); }));
            return py::iter(py::cast(std::move(ids)));
          },
          "purpose"_a,
          "An iterator over the customers (sorted) whose position on `purpose` lets it use their data now. "
          "Raises InvalidInput for an undeclared purpose.")
      .def(
          "export",
          [](const PyVault& v, const Text& customer, const Text& language) {
            ExportOptions options;
            options.language = language.s;
            auto text = take(run(*v.box, [&](Vault& x) -> result<std::string> {
              auto report = x.export_subject(customer.s);
              if (!report) return report.err();
              return export_json(*report, options);
            }));
            return py::module_::import("json").attr("loads")(py::str(text));
          },
          "customer"_a, "language"_a = Text{},
          "Everything held about the customer, for the customer, as the dict of the JSON export "
          "(docs/export.schema.json): values, purposes, consent history and every access. Audited. Raises "
          "Erased, NotFound, IntegrityError.")
      .def(
          "export_html",
          [](const PyVault& v, const Text& customer, const Text& language) {
            ExportOptions options;
            options.language = language.s;
            return take(run(*v.box, [&](Vault& x) -> result<std::string> {
              auto report = x.export_subject(customer.s);
              if (!report) return report.err();
              return export_html(*report, options);
            }));
          },
          "customer"_a, "language"_a = Text{},
          "The customer's export as one self-contained HTML page, in `language` (the policy's default "
          "when empty). Fails as export().")
      .def(
          "export_csv",
          [](const PyVault& v, const Text& customer, const Text& language) {
            ExportOptions options;
            options.language = language.s;
            return take(run(*v.box, [&](Vault& x) -> result<std::string> {
              auto report = x.export_subject(customer.s);
              if (!report) return report.err();
              return export_csv(*report, options);
            }));
          },
          "customer"_a, "language"_a = Text{},
          "The customer's export as CSV, one row per field. Fails as export().")
      .def(
          "erase",
          [](const PyVault& v, const Text& customer, const Text& reason, const Text& request, bool dry_run) {
            ErasureRequest req;
            req.reason = reason.s;
            req.request = request.s;
            req.dry_run = dry_run;
            return erasure_dict(take(run(*v.box, [&](Vault& x) { return x.erase(customer.s, req); })));
          },
          "customer"_a, py::kw_only(), "reason"_a = Text{}, "request"_a = Text{}, "dry_run"_a = false,
          "Erase the customer (right to erasure): their data key, values and consent events go; the audit "
          "log keeps the erasure with `reason` and `request` (which must hold no personal data). Returns "
          "{'values', 'fields', 'consent_events', 'dry_run'}. Raises NotFound, Erased, InvalidInput.")
      .def(
          "erased_at",
          [](const PyVault& v, const Text& customer) {
            return to_datetime_or_none(take(run(*v.box, [&](Vault& x) { return x.erased_at(customer.s); })));
          },
          "customer"_a, "When the customer was erased; None when they were not.")
      .def(
          "private_aggregate",
          [](const PyVault& v, const Text& purpose, const Text& field, const std::string& kind,
             double epsilon, const std::string& noise, double delta, std::int64_t lo, std::int64_t hi,
             std::int64_t bins) {
            const AggregateQuery q = query_of(kind, epsilon, noise, delta, lo, hi, bins);
            return answer_dict(
                take(run(*v.box, [&](Vault& x) { return x.private_aggregate(purpose.s, field.s, q); })));
          },
          "purpose"_a, "field"_a, "kind"_a = "count", py::kw_only(), "epsilon"_a = 1.0, "noise"_a = "laplace",
          "delta"_a = 0.0, "lo"_a = 0, "hi"_a = 0, "bins"_a = 1,
          "Release a differentially private 'count', 'sum', 'mean' or 'histogram' of `field` over the "
          "customers `purpose` may use now, charged to the purpose's privacy budget. Returns {'kind', "
          "'count', 'sum', 'mean', 'bins', 'epsilon_spent', 'delta_spent', 'clamp'}. Raises InvalidInput, "
          "Denied (privacy_budget_spent, purpose_not_allowed_for_field, form_unavailable), IntegrityError.")
      .def(
          "privacy_budget",
          [](const PyVault& v, const Text& purpose) {
            auto b = take(run(*v.box, [&](Vault& x) { return x.privacy_budget(purpose.s); }));
            return py::dict("purpose"_a = b.purpose, "total"_a = b.total, "spent"_a = b.spent);
          },
          "purpose"_a, "What `purpose` has spent of its privacy budget: {'purpose', 'total', 'spent'}.")
      .def(
          "audit_entries",
          [](const PyVault& v, const std::optional<Text>& customer, const py::object& since) {
            auto from = to_timestamp(since, "since");
            return take(run(*v.box, [&](Vault& x) {
              std::optional<std::string_view> who;
              if (customer) who = customer->s;
              return x.audit_entries(who, from);
            }));
          },
          "customer"_a = py::none(), "since"_a = py::none(),
          "The audit log's entries, oldest first: all, or those about `customer` (who accessed my data), "
          "from `since` on. Raises IntegrityError for an entry that cannot be decoded.")
      .def(
          "verify_audit",
          [](const PyVault& v) {
            auto r = take(run(*v.box, [](Vault& x) { return x.verify_audit(); }));
            return py::dict("ok"_a = r.ok, "entries"_a = r.entries, "checkpoints"_a = r.checkpoints,
                            "first_bad_seq"_a = r.first_bad_seq, "first_bad_chain"_a = r.first_bad_chain,
                            "problem"_a = r.problem);
          },
          "Check the audit log's hash chain and signed checkpoints. Returns {'ok', 'entries', 'checkpoints', "
          "'first_bad_seq', 'first_bad_chain', 'problem'}; a damaged log is ok=False, not an exception.")
      .def(
          "checkpoint_audit",
          [](const PyVault& v) {
            return take(run(*v.box, [](Vault& x) -> result<std::string> {
              auto cp = x.checkpoint_audit();
              if (!cp) return cp.err();
              return checkpoint_to_json(*cp, x.audit_public_key());
            }));
          },
          "Commit held-back entries and sign a checkpoint of the log's head; returns it as JSON text to "
          "keep outside the vault (verify_audit(against=...) then detects a rollback). Raises NotFound "
          "for an empty log.")
      .def(
          "verify_audit_against",
          [](const PyVault& v, const Text& checkpoint) {
            auto r = take(run(*v.box, [&](Vault& x) -> result<AuditVerification> {
              bytes key;
              auto cp = checkpoint_from_json(checkpoint.s, key);
              if (!cp) return cp.err();
              if (key != x.audit_public_key())
                return make_error(errc::integrity, "the checkpoint was signed by another vault's key");
              return x.verify_audit(*cp);
            }));
            return py::dict("ok"_a = r.ok, "entries"_a = r.entries, "checkpoints"_a = r.checkpoints,
                            "first_bad_seq"_a = r.first_bad_seq, "first_bad_chain"_a = r.first_bad_chain,
                            "problem"_a = r.problem);
          },
          "checkpoint"_a,
          "As verify_audit(), and also against a checkpoint checkpoint_audit() gave earlier (JSON text): "
          "ok=False when the log was cut back before it. Raises InvalidInput for malformed JSON, "
          "IntegrityError for another vault's checkpoint.")
      .def(
          "derive",
          [](const PyVault& v, const Text& customer, const Text& field, const Text& value) {
            take(run(*v.box, [&](Vault& x) { return x.derive(customer.s, field.s, value.s); }));
          },
          "customer"_a, "field"_a, "value"_a,
          "Write an inferred value (a field of category 'inferred'), only while the customer consents to "
          "profiling. Raises Denied (inference_needs_profiling), InvalidInput, NotFound, Erased.")
      .def(
          "review_consent",
          [](const PyVault& v, const Text& customer) {
            return take(run(*v.box, [&](Vault& x) { return x.review_consent(customer.s); }));
          },
          "customer"_a,
          "The customer's consent ledger for staff to look at, audited as a staff_read. Raises NotFound, "
          "Erased.")
      .def(
          "staff_audit",
          [](const PyVault& v, const Text& customer, std::size_t last_accesses) {
            auto text = take(run(*v.box, [&](Vault& x) -> result<std::string> {
              auto report = x.describe_subject(customer.s);
              if (!report) return report.err();
              return staff_audit_json(*report, last_accesses);
            }));
            return py::module_::import("json").attr("loads")(py::str(text));
          },
          "customer"_a, "last_accesses"_a = 20,
          "What staff may see about the customer: metadata, consents and the last accesses, never a value, "
          "as a dict. Audited as a staff_read. Raises NotFound, Erased.")
      .def(
          "record_contact",
          [](const PyVault& v, const Text& customer, const Text& channel, const Text& purpose) {
            return contact_dict(take(
                run(*v.box, [&](Vault& x) { return x.record_contact(customer.s, channel.s, purpose.s); })));
          },
          "customer"_a, "channel"_a, "purpose"_a,
          "Record a contact with the customer on `channel` for `purpose`, or raise Denied (no_consent, "
          "contact_limit) when it is not allowed; either is audited. Returns {'seq', 'customer', 'channel', "
          "'purpose', 'at'}.")
      .def(
          "limit_contacts",
          [](const PyVault& v, const Text& customer, const Text& purpose, int max, const std::string& per) {
            const IsoDuration period = duration_of(per, "per");
            return preference_dict(take(
                run(*v.box, [&](Vault& x) { return x.limit_contacts(customer.s, purpose.s, max, period); })));
          },
          "customer"_a, "purpose"_a, "max"_a, "per"_a,
          "Record the customer's own limit: at most `max` contacts for `purpose` per `per` (an ISO 8601 "
          "duration, 'P7D'). Returns the preference as a dict.")
      .def(
          "opt_out_of_channel",
          [](const PyVault& v, const Text& customer, const Text& channel, bool opted_out) {
            return preference_dict(take(run(
                *v.box, [&](Vault& x) { return x.opt_out_of_channel(customer.s, channel.s, opted_out); })));
          },
          "customer"_a, "channel"_a, "opted_out"_a = true,
          "Record that the customer wants no contact on `channel` (or, opted_out=False, allows it again).")
      .def(
          "purge",
          [](const PyVault& v, bool dry_run) {
            PurgeOptions options;
            options.dry_run = dry_run;
            auto r = take(run(*v.box, [&](Vault& x) { return x.purge(options); }));
            py::dict fields;
            for (const auto& [field, count] : r.fields) fields[py::str(field)] = count;
            return py::dict("values"_a = r.values, "customers"_a = r.customers, "fields"_a = fields,
                            "complete"_a = r.complete);
          },
          py::kw_only(), "dry_run"_a = false,
          "Delete every value past its field's retention, and inferred values without a live consent to "
          "profiling, audited. Returns {'values', 'customers', 'fields', 'complete'}.")
      .def(
          "backup",
          [](const PyVault& v, const std::filesystem::path& path) {
            take(run(*v.box, [&](Vault& x) { return x.backup(path); }));
          },
          "path"_a,
          "Write a consistent copy of the vault to a new file (it opens with the same passphrase). Raises "
          "AlreadyExists.")
      .def(
          "update_policy",
          [](const PyVault& v, const Policy& to, bool purge_removed) {
            PolicyUpdateOptions options;
            options.purge_removed = purge_removed;
            auto r = take(run(*v.box, [&](Vault& x) { return x.update_policy(to, options); }));
            std::vector<std::string> changes;
            for (const auto& c : r.diff.changes) changes.push_back(c.describe());
            return py::dict("version"_a = version_dict(r.version), "changed"_a = r.changed,
                            "changes"_a = changes, "consent_to_renew"_a = r.diff.consent_to_renew(),
                            "values_purged"_a = r.values_purged);
          },
          "policy"_a, py::kw_only(), "purge_removed"_a = false,
          "Put `policy` in force as a new version, audited; it applies at once to open views. Returns "
          "{'version', 'changed', 'changes', 'consent_to_renew', 'values_purged'}. Raises InvalidInput for a "
          "removed or retyped field that still has values (unless purge_removed=True).")
      .def(
          "policy_versions",
          [](const PyVault& v) {
            auto versions = take(run(*v.box, [](Vault& x) { return x.policy_versions(); }));
            py::list out;
            for (const auto& ver : versions) out.append(version_dict(ver));
            return out;
          },
          "Every version of the policy, oldest first: [{'number', 'hash', 'at', 'actor'}].")
      .def(
          "purpose_dataset",
          [](const PyVault& v, const Text& accessor, const Text& purpose, const std::vector<Text>& fields) {
            auto d = take(run(*v.box, [&](Vault& x) {
              std::vector<std::string> names;
              for (const auto& f : fields) names.push_back(f.s);
              return x.purpose_dataset(accessor.s, purpose.s, names);
            }));
            py::list rows;
            for (const auto& row : d.rows) {
              py::dict r;
              for (std::size_t i = 0; i < d.columns.size(); ++i) r[py::str(d.columns[i])] = py::str(row[i]);
              rows.append(r);
            }
            return rows;
          },
          "accessor"_a, "purpose"_a, "fields"_a,
          "The table `purpose` may see: one dict per eligible customer, each cell read as `accessor` in the "
          "purpose's form and audited; ready for anonymise(). Raises Denied naming the first field refused "
          "(nothing is returned then), NotFound, InvalidInput.")
      .def(
          "master_key_status",
          [](const PyVault& v) {
            auto st = take(run(*v.box, [](Vault& x) { return x.master_key_status(); }));
            py::dict keys;
            for (const auto& [version, count] : st.data_keys) keys[py::int_(version)] = count;
            return py::dict("provider"_a = st.provider, "current"_a = st.current, "versions"_a = st.versions,
                            "rotating"_a = st.rotating, "data_keys"_a = keys);
          },
          "The live master key versions (never their bytes): {'provider', 'current', 'versions', "
          "'rotating', 'data_keys' (version -> count)}.")
      .def(
          "rotate_master_key",
          [](const PyVault& v) {
            auto r = take(run(*v.box, [](Vault& x) { return x.rotate_master_key(); }));
            return py::dict("version"_a = r.version, "rewrapped"_a = r.rewrapped, "resumed"_a = r.resumed,
                            "complete"_a = r.complete);
          },
          "Add master key version current+1 and re-wrap every data key under it (resuming an interrupted "
          "rotation). Returns {'version', 'rewrapped', 'resumed', 'complete'}.")
      .def(
          "retire_master_keys",
          [](const PyVault& v, const std::optional<Text>& new_passphrase, const std::string& kdf) {
            std::shared_ptr<KeyProvider> successor;
            if (new_passphrase)
              successor = std::make_shared<PassphraseKeyProvider>(new_passphrase->s, parse_kdf(kdf));
            return take(run(*v.box, [&](Vault& x) { return x.retire_master_keys(successor); }));
          },
          "new_passphrase"_a = py::none(), "kdf"_a = "interactive",
          "Destroy every master key version but the current one after a complete rotation; returns the "
          "versions retired. A vault sealed under a passphrase needs `new_passphrase`, which seals what "
          "remains. Raises InvalidInput while a rotation is unfinished or without a needed passphrase.")
      .def(
          "change_passphrase",
          [](const PyVault& v, const Text& new_passphrase) {
            take(run(*v.box, [&](Vault& x) { return x.change_passphrase(new_passphrase.s); }));
          },
          "new_passphrase"_a,
          "Re-seal every live master key version under `new_passphrase` (Argon2id at the vault's kdf). "
          "Raises InvalidInput for an empty passphrase.")
      .def(
          "flush_audit",
          [](const PyVault& v) { take(run(*v.box, [](Vault& x) { return x.flush_audit(); })); },
          "Commit audit entries held back by audit='batched', and sync the batches committed "
          "without waiting for the disk.");
}

}  // namespace consentry::python
