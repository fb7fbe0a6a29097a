// command_erase.cpp: `consentry erase`, the customer's right to erasure.
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct EraseOptions {
  std::string customer;
  std::string reason;   ///< why, recorded in the erasure's audit entry; "" for none
  std::string request;  ///< the reference of the customer's request; "" for none
  bool dry_run = false;
  bool json = false;
};

/// what_goes describes a report: "3 values in 3 fields (email, phone, ...), 2 consent events".
std::string what_goes(const ErasureReport& report) {
  std::string fields;
  for (const std::string& f : report.fields) fields += (fields.empty() ? "" : ", ") + f;
  return counted(report.values, "value", "values") + " in " +
         counted(static_cast<std::int64_t>(report.fields.size()), "field", "fields") +
         (fields.empty() ? std::string() : " (" + fields + ")") + ", " +
         counted(report.consent_events, "consent event", "consent events");
}

int run_erase(const GlobalOptions& global, const EraseOptions& options) {
  ErasureRequest request;
  request.reason = options.reason;
  request.request = options.request;
  request.dry_run = options.dry_run;
  // A missing or malformed reason or reference is refused before the passphrase is asked for.
  if (!options.dry_run && options.reason.empty())
    fail(errc::bad_input, "erase needs --reason TEXT: why the customer is erased, for the audit log");
  check_plain_text("--reason", options.reason, kMaxErasureReasonBytes);
  check_plain_text("--request", options.request, kMaxErasureRequestBytes);
  Vault vault = open_vault(global);
  // not_found and erased both exit 5: unknown and already erased.
  if (options.dry_run) {
    verbose("dry run: counting what erasing " + options.customer + " would delete; nothing is changed");
  } else {
    verbose("erasing " + options.customer +
            ": destroying the data key, deleting values and consent events, compacting the vault files");
  }
  Stopwatch clock;
  ErasureReport report = unwrap(vault.erase(options.customer, request));
  verbose((options.dry_run ? "counted in " : "erased in ") + clock.elapsed());
  if (!options.dry_run) verbose_audit(vault, options.customer);
  if (options.json) {
    nlohmann::ordered_json out;
    out["customer"] = options.customer;
    out["dry_run"] = report.dry_run;
    out["values"] = report.values;
    out["fields"] = report.fields;
    out["consent_events"] = report.consent_events;
    out["reason"] = options.reason;
    out["request"] = options.request;
    print_json(out);
  } else if (options.dry_run) {
    std::cout << "would erase " << options.customer << ": " << what_goes(report) << "; nothing was changed\n";
  } else {
    verbose("erased " + what_goes(report));
    std::cout << "erased " << options.customer << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_erase_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<EraseOptions>();
  CLI::App* app = root.add_subcommand(
      "erase",
      "Erase a customer: destroy their data key, delete their values and consent, keep the audit log");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option(
      "--reason", options->reason,
      "Why the customer is erased (required, except with --dry-run), recorded in the audit log with "
      "the numbers of values, fields and consent events erased (never a value; at most 500 "
      "bytes, no control character)");
  app->add_option("--request", options->request,
                  "The reference of the customer's request (a ticket number), recorded with the reason (at "
                  "most 128 bytes)");
  app->add_flag("--dry-run", options->dry_run, "Say what would be erased; change and record nothing");
  app->add_flag("--json", options->json, "Print JSON");
  commands.push_back({app, [&global, options] { return run_erase(global, *options); }});
}

}  // namespace consentry::cli
