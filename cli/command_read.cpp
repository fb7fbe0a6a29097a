// command_read.cpp: `consentry read`, a consented view of one customer for one purpose.
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ReadOptions {
  std::string customer;
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

void print_json_outcomes(const ReadOptions& options, const std::vector<Outcome>& outcomes) {
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
  out["customer"] = options.customer;
  out["purpose"] = options.purpose;
  out["accessor"] = options.accessor;
  out["fields"] = std::move(fields);
  print_json(out);
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
  std::vector<Outcome> outcomes;
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
  verbose("decided and read in " + clock.elapsed());
  verbose_audit(vault, options.customer);

  if (options.json) {
    print_json_outcomes(options, outcomes);
  } else {
    print_human_outcomes(outcomes);
  }
  return any_denied ? kExitDenied : kExitOk;
}

}  // namespace

void add_read_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ReadOptions>();
  CLI::App* app = root.add_subcommand("read", "Read a customer's fields for a purpose, as an accessor");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("--purpose", options->purpose, "Why the data is read")->required();
  app->add_option("--as", options->accessor,
                  "The accessor (CRM feature) reading; the audit log names --actor (or CONSENTRY_ACTOR) "
                  "beside it")
      ->required();
  app->add_option("--fields", options->fields,
                  "Fields to read, comma-separated (default: all the purpose may see)")
      ->delimiter(',');
  app->add_flag("--json", options->json, "Print JSON");
  commands.push_back({app, [&global, options] { return run_read(global, *options); }});
}

}  // namespace consentry::cli
