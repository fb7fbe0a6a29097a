// command_read.cpp: `consentry read`, a consented view of one customer for one purpose, or of
// every customer eligible for it (`--eligible`).
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ReadOptions {
  std::string customer;  ///< empty with --eligible
  bool eligible = false;
  std::string purpose;
  std::string accessor;
  std::vector<std::string> fields;  ///< empty = every field the policy gives the purpose a form
  bool json = false;
};

/// Outcome is what one field read gave: a value, a denial, or nothing stored.
struct Outcome {
  std::string field;
  std::optional<FieldValue> value;
  deny_reason denied = deny_reason::none;
  bool is_denied = false;
};

std::vector<std::string> requested_fields(const Policy& policy, const ReadOptions& options) {
  std::vector<std::string> names;
  if (options.fields.empty()) {
    for (const FieldSpec& f : policy.fields()) {
      if (f.form_for(options.purpose) != nullptr) names.push_back(f.name);
    }
    return names;
  }
  std::set<std::string, std::less<>> seen;
  for (const std::string& name : options.fields) {
    if (!name.empty() && seen.insert(name).second) names.push_back(name);
  }
  return names;
}

/// outcomes_of turns a read's answers into outcomes; `any_denied` is set when a field was denied.
/// A field that failed otherwise than denied or absent (integrity) ends the command.
std::vector<Outcome> outcomes_of(const std::vector<std::string>& fields,
                                 std::vector<result<FieldValue>>& results, bool& any_denied) {
  std::vector<Outcome> outcomes;
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string& field = fields[i];
    Outcome outcome{field, std::nullopt, deny_reason::none, false};
    result<FieldValue>& r = results[i];
    if (r) {
      outcome.value = std::move(r).value();
      verbose("field " + field + ": allowed, form " + outcome.value->form.to_string());
    } else if (r.err().code == errc::denied) {
      outcome.is_denied = true;
      outcome.denied = r.err().reason;
      any_denied = true;
      verbose("field " + field + ": denied, " + std::string(to_string(outcome.denied)));
    } else if (r.err().code != errc::not_found) {
      verbose("field " + field + ": failed, " + std::string(to_string(r.err().code)));
      fail(r.err());
    } else {
      verbose("field " + field + ": absent");
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

/// json_outcomes is the JSON of one customer's read (--json, and each line of --eligible).
nlohmann::ordered_json json_outcomes(const ReadOptions& options, const std::string& customer,
                                     const std::vector<Outcome>& outcomes) {
  nlohmann::ordered_json fields = nlohmann::ordered_json::object();
  for (const Outcome& o : outcomes) {
    nlohmann::ordered_json entry;
    if (o.value) {
      entry["value"] = o.value->value;
      entry["form"] = o.value->form.to_string();
    } else if (o.is_denied) {
      entry["denied"] = to_string(o.denied);
    } else {
      entry["absent"] = true;
    }
    fields[o.field] = std::move(entry);
  }
  nlohmann::ordered_json out;
  out["customer"] = customer;
  out["purpose"] = options.purpose;
  out["accessor"] = options.accessor;
  out["fields"] = std::move(fields);
  return out;
}

void print_human_outcomes(const std::vector<Outcome>& outcomes) {
  detail::TextTable table;
  table.add({"FIELD", "FORM", "VALUE"});
  for (const Outcome& o : outcomes) {
    if (o.value) {
      table.add({o.field, o.value->form.to_string(), o.value->value});
    } else if (o.is_denied) {
      table.add({o.field, "-", "denied: " + std::string(to_string(o.denied))});
    } else {
      table.add({o.field, "-", "(absent)"});
    }
  }
  std::cout << table.render("");
}

int run_read(const GlobalOptions& global, const ReadOptions& options) {
  Vault vault = open_vault(global);
  // The accessor and purpose are checked before the customer, so an accessor that may not read
  // for this purpose cannot learn whether a customer exists.
  Accessor accessor = unwrap(vault.accessor(options.accessor));
  View view = unwrap(accessor.view(options.customer, options.purpose));
  if (!unwrap(vault.contains(options.customer)))
    fail(errc::not_found, "unknown customer " + options.customer);
  verbose("view of " + options.customer + " for purpose " + options.purpose + " as accessor " +
          options.accessor + " opened");

  // Every field is read before anything is printed: one integrity failure withholds all values.
  bool any_denied = false;
  const std::vector<std::string> fields = requested_fields(vault.policy(), options);
  verbose("reading " + counted(static_cast<std::int64_t>(fields.size()), "field", "fields") +
          (options.fields.empty() ? " (all the purpose may see)" : ""));
  Stopwatch clock;
  // One read of all the fields: one snapshot of values and consent, one audit entry.
  std::vector<result<FieldValue>> results;
  if (!fields.empty()) {
    std::vector<std::string_view> names(fields.begin(), fields.end());
    results = unwrap(view.read(names));
  }
  const std::vector<Outcome> outcomes = outcomes_of(fields, results, any_denied);
  verbose("decided and read in " + clock.elapsed());
  verbose_audit(vault, options.customer);

  if (options.json) {
    print_json(json_outcomes(options, options.customer, outcomes));
  } else {
    print_human_outcomes(outcomes);
  }
  return any_denied ? kExitDenied : kExitOk;
}

/// run_read_eligible reads the fields of every customer eligible for the purpose
/// (Vault::eligible_customers), as the accessor, through Accessor::read_each: one JSON line per
/// customer, written a batch at a time once the batch's audit entries are committed.
int run_read_eligible(const GlobalOptions& global, const ReadOptions& options) {
  Vault vault = open_vault(global);
  Accessor accessor = unwrap(vault.accessor(options.accessor));
  const Policy& policy = vault.policy();
  // Refused whole, as a view would be, before any customer is listed or read.
  if (!policy.purpose(options.purpose))
    fail(make_error(errc::denied, "purpose '" + options.purpose + "' is not declared in the policy",
                    deny_reason::unknown_purpose));
  if (!policy.accessor_may_use(options.accessor, options.purpose))
    fail(make_error(
        errc::denied,
        "accessor '" + options.accessor + "' is not registered for purpose '" + options.purpose + "'",
        deny_reason::accessor_not_registered));
  const std::vector<std::string> fields = requested_fields(policy, options);
  if (fields.empty()) usage_failure("the policy gives purpose '" + options.purpose + "' no field to read");
  Stopwatch clock;
  const std::vector<std::string> customers = unwrap(vault.eligible_customers(options.purpose));
  verbose(counted(static_cast<std::int64_t>(customers.size()), "customer", "customers") +
          " eligible for purpose " + options.purpose);
  std::vector<std::string_view> names(fields.begin(), fields.end());
  bool any_denied = false;
  std::int64_t written = 0;
  Progress progress("reading", "customers", static_cast<std::int64_t>(customers.size()));
  BulkReadOptions bulk;
  bulk.on_batch = [&progress](std::int64_t done, std::int64_t) {
    std::cout.flush();
    progress.update(done);
  };
  unwrap(accessor.read_each(
      customers, options.purpose, names,
      [&](const std::string& customer, CustomerAnswer& answer) -> result<void> {
        if (!answer) {
          // Erased since the list was taken: nothing of theirs is left to show.
          if (answer.err().code == errc::erased) {
            verbose("customer " + customer + ": erased since the list was taken, skipped");
            return ok();
          }
          return std::move(answer).err();
        }
        std::vector<Outcome> outcomes = outcomes_of(fields, *answer, any_denied);
        std::cout << json_outcomes(options, customer, outcomes).dump() << '\n';
        ++written;
        return ok();
      },
      bulk));
  progress.finish();
  std::cout.flush();
  verbose("read " + counted(written, "customer", "customers") + " in " + clock.elapsed());
  return any_denied ? kExitDenied : kExitOk;
}

}  // namespace

void add_read_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ReadOptions>();
  CLI::App* app = root.add_subcommand("read", "Read a customer's fields for a purpose, as an accessor");
  auto* customer = app->add_option("CUSTOMER", options->customer, "The customer id");
  auto* eligible = app->add_flag("--eligible", options->eligible,
                                 "Read every customer eligible for the purpose instead, one JSON line each "
                                 "(audited one entry per customer)");
  customer->excludes(eligible);
  eligible->excludes(customer);
  app->add_option("--purpose", options->purpose, "Why the data is read")->required();
  app->add_option("--as", options->accessor,
                  "The accessor (CRM feature) reading; the audit log names --actor (or CONSENTRY_ACTOR) "
                  "beside it")
      ->required();
  app->add_option("--fields", options->fields,
                  "Fields to read, comma-separated (default: all the purpose may see)")
      ->delimiter(',');
  app->add_flag("--json", options->json, "Print JSON");
  commands.push_back({app, [&global, options] {
                        if (options->eligible) return run_read_eligible(global, *options);
                        if (options->customer.empty()) usage_failure("read needs CUSTOMER or --eligible");
                        return run_read(global, *options);
                      }});
}

}  // namespace consentry::cli
