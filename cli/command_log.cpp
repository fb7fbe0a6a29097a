// command_log.cpp: `consentry log verify|checkpoint|show`: the tamper-evident audit log.

#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <system_error>

#include "../src/io/staged_file.hpp"
#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "consentry/audit.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "progress.hpp"
#include "small_file.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct VerifyOptions {
  std::string against;  ///< a checkpoint file kept outside the vault; empty for none
  bool json = false;
};

struct CheckpointOptions {
  std::string output;  ///< empty = stdout
};

struct ShowOptions {
  std::string customer;  ///< empty = every entry
  std::string since;     ///< empty = from the first entry
  std::string until;     ///< empty = to the last entry; else only entries before this time
  std::string action;    ///< empty = every action; else an AuditAction's spelling
  std::string by;  ///< empty = every accessor; else only entries of this accessor or actor (either member)
  std::string purpose;  ///< empty = every purpose; else only entries naming this purpose
  bool json = false;
};

/// action_spellings lists every AuditAction's spelling, for a message.
std::string action_spellings() {
  std::string out;
  for (int i = 0;; ++i) {
    const auto action = static_cast<AuditAction>(i);
    const std::string_view spelling = to_string(action);
    if (parse_audit_action(spelling) != action) break;
    out += (out.empty() ? "" : ", ") + std::string(spelling);
  }
  return out;
}

/// parse_time reads the ISO 8601 time or date of `option`; bad input naming the option otherwise.
std::optional<timestamp> parse_time(const char* option, const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::optional<timestamp> at = parse_timestamp(text);
  if (!at) {
    fail(errc::bad_input, std::string(option) + ": '" + text +
                              "' is not an ISO 8601 time or date (2025-05-01T10:00:00Z, 2025-05-01)");
  }
  return at;
}

/// kMaxCheckpointBytes bounds an external checkpoint file; one is about 300 bytes.
constexpr std::size_t kMaxCheckpointBytes = 64 * 1024;

/// check_checkpoint parses an external checkpoint's text and makes sure this vault's key signed
/// it: a checkpoint of another vault says nothing about this log, however well it verifies.
AuditCheckpoint check_checkpoint(const std::string& file, const std::string& text, const Vault& vault) {
  bytes public_key;
  result<AuditCheckpoint> cp = checkpoint_from_json(text, public_key);
  if (!cp) fail(cp.err().code, file + ": " + cp.err().message);
  if (public_key != vault.audit_public_key())
    fail(errc::integrity, file + ": checkpoint signed by another key");
  return std::move(cp).value();
}

int run_verify(const GlobalOptions& global, const VerifyOptions& options) {
  // The checkpoint file is read before the vault is opened: a bad file costs no passphrase.
  std::string against_text;
  if (!options.against.empty())
    against_text = read_small_file(options.against, kMaxCheckpointBytes, "a checkpoint file");
  Vault vault = open_vault(global);
  std::optional<AuditCheckpoint> against;
  if (!options.against.empty()) {
    against = check_checkpoint(options.against, against_text, vault);
    verbose("external checkpoint " + options.against + ": seq " + std::to_string(against->seq) +
            ", signed by this vault's key");
  }
  verbose("verifying the hash chain and every signed checkpoint");
  Stopwatch clock;
  Progress progress("verifying", "entries");
  AuditVerification report =
      unwrap(vault.verify_audit(against, [&progress](std::int64_t checked, std::int64_t total) {
        progress.set_total(total);
        progress.update(checked);
      }));
  progress.finish();
  verbose("read " + counted(report.entries, "entry", "entries") + " and " +
          counted(report.checkpoints, "checkpoint", "checkpoints") + " checkpoints in " + clock.elapsed() +
          (report.ok ? ": intact" : ": damaged"));

  if (options.json) {
    nlohmann::ordered_json out;
    out["ok"] = report.ok;
    out["entries"] = report.entries;
    out["checkpoints"] = report.checkpoints;
    out["first_bad_seq"] =
        report.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(report.first_bad_seq);
    out["first_bad_chain"] =
        report.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(report.first_bad_chain);
    out["problem"] = report.ok ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(report.problem);
    print_json(out);
  }
  if (!report.ok) {
    const std::string where = report.first_bad_chain == 0
                                  ? "seq " + std::to_string(report.first_bad_seq)
                                  : "chain " + std::to_string(report.first_bad_chain) + " seq " +
                                        std::to_string(report.first_bad_seq);
    fail(errc::integrity, "audit log damaged at " + where + ": " + report.problem);
  }
  if (!options.json) {
    std::cout << "audit log verified: " << report.entries << " entries, " << report.checkpoints
              << " checkpoints\n";
  }
  return kExitOk;
}

/// write_new_file creates `file` with `text`, refusing to replace a file that is already there:
/// an auditor's earlier checkpoint is the evidence this command exists to keep. The file is
/// written whole under a temporary name and renamed into place (detail::StagedFile). Its mode is
/// 0644 less the umask, not 0600: a checkpoint holds only a seq, a hash, a signature and a public
/// key, and is made to be handed to an auditor.
void write_new_file(const std::string& file, const std::string& text) {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  auto staged = detail::StagedFile::create(file, 0644 & ~mask);
  if (!staged) fail(errc::io, file + ": cannot create the file");
  auto written = staged->write(text);
  if (written) written = staged->commit(/*replace=*/false);
  if (written) return;
  if (written.err().code == errc::already_exists) fail(errc::already_exists, file + " already exists");
  fail(errc::io, file + ": cannot write the file");
}

int run_checkpoint(const GlobalOptions& global, const CheckpointOptions& options) {
  // Refused before the passphrase is asked for, like init refuses an existing vault.
  std::error_code ec;
  if (!options.output.empty() && std::filesystem::exists(options.output, ec))
    fail(errc::already_exists, options.output + " already exists");

  Vault vault = open_vault(global);
  result<AuditCheckpoint> signed_cp = vault.checkpoint_audit();
  if (!signed_cp && signed_cp.err().code == errc::not_found)
    fail(errc::not_found, "the audit log is empty: there is nothing to checkpoint");
  AuditCheckpoint cp = unwrap(std::move(signed_cp));
  verbose(cp.heads.empty() ? "signed the chain head at seq " + std::to_string(cp.seq)
                           : "signed checkpoint " + std::to_string(cp.seq) + " over " +
                                 std::to_string(cp.heads.size()) + " chain heads");

  std::string text = checkpoint_to_json(cp, vault.audit_public_key());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  text += '\n';
  if (options.output.empty()) {
    std::cout << text;
  } else {
    write_new_file(options.output, text);
    std::cout << "wrote the checkpoint of seq " << cp.seq << " to " << options.output << '\n';
  }
  return kExitOk;
}

/// decision_of describes an entry's decision: "allow", "allow: grant", "deny: no_consent".
std::string decision_of(const AuditEntry& e) {
  std::string text = e.allowed ? "allow" : "deny";
  if (!e.reason.empty()) text += ": " + e.reason;
  return text;
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) {
    if (!out.empty()) out += ',';
    out += p;
  }
  return out;
}

void print_json_entries(const std::vector<AuditEntry>& entries) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const AuditEntry& e : entries) {
    nlohmann::ordered_json entry;
    entry["seq"] = e.seq;
    // A log with a chain per writer numbers entries within each chain (docs/audit.md).
    if (e.chain != 0) entry["chain"] = e.chain;
    entry["at"] = format_timestamp(e.at);
    entry["customer"] = e.customer;
    entry["action"] = to_string(e.action);
    entry["accessor"] = e.accessor;
    entry["purpose"] = e.purpose;
    entry["decision"] = e.allowed ? "allow" : "deny";
    entry["reason"] = e.reason;
    entry["fields"] = e.fields;
    // Only reads name an actor beside their accessor; other entries have no member.
    if (!e.actor.empty()) entry["actor"] = e.actor;
    out.push_back(std::move(entry));
  }
  print_json(out);
}

/// by_whom is the ACCESSOR column: the accessor, and the actor behind it when the entry names one
/// ("crm-web (by alice)").
std::string by_whom(const AuditEntry& e) {
  if (e.accessor.empty() && e.actor.empty()) return "-";
  if (e.actor.empty()) return e.accessor;
  return e.accessor + " (by " + e.actor + ")";
}

/// print_human_entries prints a table; the customer column is left out when every row names the
/// same customer (log show --customer).
void print_human_entries(const std::vector<AuditEntry>& entries, bool one_customer) {
  if (entries.empty()) {
    std::cout << "(no audit entries)\n";
    return;
  }
  auto dash = [](const std::string& s) { return s.empty() ? std::string("-") : s; };
  detail::TextTable table;
  std::vector<std::string> header = {"SEQ", "TIME", "ACTION", "ACCESSOR", "PURPOSE", "DECISION", "FIELDS"};
  if (!one_customer) header.insert(header.begin() + 2, "CUSTOMER");
  // A log with a chain per writer numbers entries within each chain: the chain comes first.
  const bool chains =
      std::any_of(entries.begin(), entries.end(), [](const AuditEntry& e) { return e.chain != 0; });
  if (chains) header.insert(header.begin(), "CHAIN");
  table.add(header);
  for (const AuditEntry& e : entries) {
    std::vector<std::string> row = {std::to_string(e.seq),
                                    format_timestamp(e.at),
                                    std::string(to_string(e.action)),
                                    by_whom(e),
                                    dash(e.purpose),
                                    decision_of(e),
                                    dash(joined(e.fields))};
    if (!one_customer) row.insert(row.begin() + 2, dash(e.customer));
    if (chains) row.insert(row.begin(), std::to_string(e.chain));
    table.add(std::move(row));
  }
  std::cout << table.render("");
}

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  // Every filter is checked before the passphrase is asked for.
  const std::optional<timestamp> since = parse_time("--since", options.since);
  const std::optional<timestamp> until = parse_time("--until", options.until);
  if (since && until && *until <= *since)
    fail(errc::bad_input, "--until " + options.until + " is not after --since " + options.since);
  std::optional<AuditAction> action;
  if (!options.action.empty()) {
    action = parse_audit_action(options.action);
    if (!action) {
      fail(errc::bad_input, "--action: '" + detail::terminal_safe(options.action) +
                                "' is not an audit action; one of " + action_spellings());
    }
  }

  Vault vault = open_vault(global);
  std::optional<std::string_view> customer;
  if (!options.customer.empty()) {
    customer = options.customer;
    // An erased customer holds no data any more, but the record of who accessed it stays showable.
    if (!unwrap(vault.contains(options.customer)) && unwrap(vault.audit_entries(customer)).empty())
      fail(errc::not_found, "unknown customer " + options.customer);
  }
  Stopwatch clock;
  std::vector<AuditEntry> entries = unwrap(vault.audit_entries(customer, since));
  const std::size_t read = entries.size();
  std::erase_if(entries, [&](const AuditEntry& e) {
    return (until && e.at >= *until) || (action && e.action != *action) ||
           (!options.by.empty() && e.accessor != options.by && e.actor != options.by) ||
           (!options.purpose.empty() && e.purpose != options.purpose);
  });
  verbose(counted(static_cast<std::int64_t>(read), "entry", "entries") +
          (customer ? " about " + options.customer : "") +
          (since ? " since " + format_timestamp(*since) : "") + ", read in " + clock.elapsed() + "; " +
          counted(static_cast<std::int64_t>(entries.size()), "entry", "entries") + " shown");
  if (options.json) {
    print_json_entries(entries);
  } else {
    print_human_entries(entries, customer.has_value());
  }
  return kExitOk;
}

}  // namespace

void add_log_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* log = root.add_subcommand("log", "Verify, checkpoint or show the audit log");
  log->require_subcommand(1);
  log->fallthrough();

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_app = log->add_subcommand("verify", "Check the hash chain and every signed checkpoint");
  verify_app->add_option("--against", verify->against,
                         "Also check a checkpoint kept outside the vault (from 'log checkpoint'): a regular "
                         "file of at most 64 KiB");
  verify_app->add_flag("--json", verify->json, "Print JSON");
  commands.push_back({verify_app, [&global, verify] { return run_verify(global, *verify); }});

  auto checkpoint = std::make_shared<CheckpointOptions>();
  CLI::App* checkpoint_app =
      log->add_subcommand("checkpoint", "Sign the chain head and print it, to keep outside the vault");
  checkpoint_app->add_option("-o,--output", checkpoint->output, "Write to this new file instead of stdout");
  commands.push_back({checkpoint_app, [&global, checkpoint] { return run_checkpoint(global, *checkpoint); }});

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_app = log->add_subcommand("show", "List audit entries, oldest first");
  show_app->add_option("--customer", show->customer, "Only the entries about this customer");
  show_app->add_option("--since", show->since, "Only entries from this ISO 8601 time or date on");
  show_app->add_option("--until", show->until,
                       "Only entries before this ISO 8601 time or date (a date means its midnight UTC)");
  show_app->add_option("--action", show->action,
                       "Only entries of this action (view_opened, field_read, access_denied, erasure, "
                       "staff_read, ...)");
  show_app->add_option("--by,--accessor", show->by,
                       "Only entries of this accessor, or of this actor (staff actions name the actor as "
                       "accessor; reads name it after the accessor, \"crm-web (by alice)\"; the ACCESSOR "
                       "column)");
  show_app->add_option("--purpose", show->purpose, "Only entries naming this purpose");
  show_app->add_flag("--json", show->json, "Print JSON");
  commands.push_back({show_app, [&global, show] { return run_show(global, *show); }});
}

}  // namespace consentry::cli
