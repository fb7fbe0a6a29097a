// command_erase.cpp: `consentry erase`, the customer's right to erasure, for one customer or for
// every customer a file lists (`--from`).
#include <cstdint>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "commands.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "small_file.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct EraseOptions {
  std::string customer;  ///< empty with --from
  std::string from;      ///< a file of customer ids, one per line

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

/// checked_request is the erasure request of the options, checked: a missing or malformed reason
/// or reference is refused before the passphrase is asked for.
ErasureRequest checked_request(const EraseOptions& options) {
  if (!options.dry_run && options.reason.empty())
    fail(errc::bad_input, "erase needs --reason TEXT: why the customer is erased, for the audit log");
  check_plain_text("--reason", options.reason, kMaxErasureReasonBytes);
  check_plain_text("--request", options.request, kMaxErasureRequestBytes);
  ErasureRequest request;
  request.reason = options.reason;
  request.request = options.request;
  request.dry_run = options.dry_run;
  return request;
}

int run_erase(const GlobalOptions& global, const EraseOptions& options) {
  const ErasureRequest request = checked_request(options);
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

/// kMaxIdFileBytes bounds the file `erase --from` reads: a million ids of the longest length.
constexpr std::size_t kMaxIdFileBytes = std::size_t{1} << 28;

/// ids_of reads the customer ids of `file`, one per line (a trailing CR is dropped; blank lines
/// are skipped). A line that is not a customer id, or that repeats one, fails the command as bad
/// input naming the file and line, before the vault is opened.
std::vector<std::string> ids_of(const std::string& file) {
  const std::string text = read_small_file(file, kMaxIdFileBytes, "a file of customer ids");
  std::vector<std::string> ids;
  std::set<std::string, std::less<>> seen;
  std::size_t line = 0;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    std::string_view id(text.data() + at, end - at);
    at = end + 1;
    ++line;
    if (!id.empty() && id.back() == '\r') id.remove_suffix(1);
    if (id.empty()) continue;
    const std::string where = file + ":" + std::to_string(line);
    check_plain_text(where + ": the customer id", id, kMaxCustomerIdBytes);
    if (!seen.insert(std::string(id)).second) fail(errc::bad_input, where + ": a customer listed twice");
    ids.emplace_back(id);
  }
  if (ids.empty()) fail(errc::bad_input, file + ": no customer id in the file");
  return ids;
}

/// run_erase_many erases every customer `--from` lists, one erasure (and one audit entry) each,
/// in the file's order. A customer the vault does not know is listed and skipped (exit 5 at the
/// end); one already erased is counted as such. Any other failure ends the command: those erased
/// before it stay erased.
int run_erase_many(const GlobalOptions& global, const EraseOptions& options) {
  const ErasureRequest request = checked_request(options);
  const std::vector<std::string> ids = ids_of(options.from);
  Vault vault = open_vault(global);
  verbose(std::string(options.dry_run ? "dry run: counting what erasing " : "erasing ") +
          counted(static_cast<std::int64_t>(ids.size()), "customer", "customers") + " listed in " +
          options.from);
  Stopwatch clock;
  std::int64_t erased = 0, already = 0, values = 0, events = 0;
  std::vector<std::string> unknown;
  Progress progress(options.dry_run ? "counting" : "erasing", "customers",
                    static_cast<std::int64_t>(ids.size()));
  for (std::size_t i = 0; i < ids.size(); ++i) {
    auto report = vault.erase(ids[i], request);
    if (report) {
      ++erased;
      values += report->values;
      events += report->consent_events;
    } else if (report.err().code == errc::erased) {
      ++already;
    } else if (report.err().code == errc::not_found) {
      unknown.push_back(ids[i]);
    } else {
      progress.finish();
      fail(report.err());
    }
    progress.update(static_cast<std::int64_t>(i + 1));
  }
  progress.finish();
  verbose((options.dry_run ? "counted in " : "erased in ") + clock.elapsed());
  if (options.json) {
    nlohmann::ordered_json out;
    out["dry_run"] = options.dry_run;
    out["erased"] = erased;
    out["already_erased"] = already;
    out["not_found"] = unknown;
    out["values"] = values;
    out["consent_events"] = events;
    out["reason"] = options.reason;
    out["request"] = options.request;
    print_json(out);
  } else {
    std::cout << (options.dry_run ? "would erase " : "erased ") << counted(erased, "customer", "customers")
              << " (" << counted(values, "value", "values") << ", "
              << counted(events, "consent event", "consent events") << ")"
              << (options.dry_run ? "; nothing was changed" : "") << "\n";
    if (already > 0) std::cout << counted(already, "customer was", "customers were") << " already erased\n";
    for (const std::string& id : unknown) std::cout << "not found: " << id << "\n";
  }
  if (!unknown.empty()) {
    print_error(counted(static_cast<std::int64_t>(unknown.size()), "customer", "customers") + " listed in " +
                options.from + " not found in the vault");
    return exit_code(errc::not_found);
  }
  return kExitOk;
}

}  // namespace

void add_erase_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<EraseOptions>();
  CLI::App* app = root.add_subcommand(
      "erase",
      "Erase a customer: destroy their data key, delete their values and consent, keep the audit log");
  auto* customer = app->add_option("CUSTOMER", options->customer, "The customer id");
  auto* from =
      app->add_option("--from", options->from,
                      "Erase every customer listed in FILE instead (one id per line), each as its own "
                      "erasure with the same --reason and --request")
          ->type_name("FILE");
  customer->excludes(from);
  from->excludes(customer);
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
  commands.push_back({app, [&global, options] {
                        if (!options->from.empty()) return run_erase_many(global, *options);
                        if (options->customer.empty()) usage_failure("erase needs CUSTOMER or --from FILE");
                        return run_erase(global, *options);
                      }});
}

}  // namespace consentry::cli
