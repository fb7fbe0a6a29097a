// command_consent.cpp: `consentry consent grant|withdraw|object|signal|show`: the consent ledger.
#include <algorithm>
#include <iostream>
#include <memory>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "consentry/consent.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct EventOptions {
  std::string customer;
  std::string purpose;
  std::string channel = "cli";
  std::string notice;
  bool create = false;
};

struct SignalOptions {
  std::string customer;
  std::string tcf;
  std::string gpp;
  bool gpc = false;
  std::string channel = "web";
  std::string notice;
  bool create = false;
  bool json = false;
};

struct ShowOptions {
  std::string customer;
  bool json = false;
};

/// past_tense gives what the confirmation says was done.
std::string_view past_tense(ConsentAction action) {
  switch (action) {
    case ConsentAction::grant: return "granted";
    case ConsentAction::withdraw: return "withdrew";
    case ConsentAction::object: return "objected to";
  }
  return "recorded";
}

int run_event(const GlobalOptions& global, ConsentAction action, const EventOptions& options) {
  Vault vault = open_vault(global);
  ConsentDetails details;
  details.channel = options.channel;
  details.notice = options.notice;
  // The channel and notice are the customer's record, so they are not repeated here.
  verbose("recording " + std::string(to_string(action)) + " of " + options.purpose + " for " +
          options.customer +
          (options.notice.empty() ? " (no notice reference)" : " (with a notice reference)"));
  // A mistyped customer id must not start a new customer's ledger: only --create does that.
  details.require_known = !options.create;
  auto recorded = vault.record_consent(options.customer, options.purpose, action, details);
  if (!recorded && recorded.err().code == errc::not_found)
    fail(errc::not_found,
         "unknown customer: the vault holds no data or consent for them (pass --create to record consent for "
         "a new customer)");
  ConsentEvent event = unwrap(std::move(recorded));
  verbose("ledger event seq " + std::to_string(event.seq));
  verbose_audit(vault, options.customer);
  std::cout << past_tense(action) << ' ' << event.purpose << " for " << event.customer;
  if (event.expires_at) std::cout << " (expires " << format_timestamp(*event.expires_at) << ")";
  std::cout << '\n';
  return kExitOk;
}

/// event_noun names an event with its article: "a grant", "a withdrawal", "an objection".
std::string_view event_noun(ConsentAction action) {
  switch (action) {
    case ConsentAction::grant: return "a grant";
    case ConsentAction::withdraw: return "a withdrawal";
    case ConsentAction::object: return "an objection";
  }
  return "an event";
}

/// signal_json gives a ledger event's signal as the JSON output shows it.
nlohmann::ordered_json signal_json(const ConsentSignal& signal) {
  nlohmann::ordered_json out;
  out["kind"] = signal.kind;
  out["cmp_id"] = signal.cmp_id;
  out["created"] = format_timestamp(signal.created);
  return out;
}

/// signal_words names a signal for people: "TC string from CMP 7, made 2026-12-01T00:00:00Z".
std::string signal_words(const ConsentSignal& signal) {
  const std::string made = ", made " + format_timestamp(signal.created);
  if (signal.kind == "gpc") return "Global Privacy Control, seen " + format_timestamp(signal.created);
  const std::string what = signal.kind == "tcf" ? "TC string" : "GPP string";
  return signal.cmp_id == 0 ? what + made : what + " from CMP " + std::to_string(signal.cmp_id) + made;
}

int run_signal(const GlobalOptions& global, const SignalOptions& options) {
  Vault vault = open_vault(global);
  ConsentDetails details;
  details.channel = options.channel;
  details.notice = options.notice;
  details.require_known = !options.create;
  signals::SignalKind kind = signals::SignalKind::gpc;
  std::string_view text;
  if (!options.tcf.empty()) {
    kind = signals::SignalKind::tcf;
    text = options.tcf;
  } else if (!options.gpp.empty()) {
    kind = signals::SignalKind::gpp;
    text = options.gpp;
  }
  // The string itself is the customer's record, so it is not repeated here.
  verbose("recording a " + std::string(to_string(kind)) + " signal for " + options.customer);
  auto recorded = vault.record_signal(options.customer, kind, text, details);
  if (!recorded && recorded.err().code == errc::not_found)
    fail(
        errc::not_found,
        "unknown customer: the vault holds no data or consent for them (pass --create to record a signal for "
        "a new customer)");
  SignalReport report = unwrap(std::move(recorded));
  verbose_audit(vault, options.customer);
  if (options.json) {
    nlohmann::ordered_json purposes = nlohmann::ordered_json::array();
    for (const SignalOutcome& o : report.purposes) {
      nlohmann::ordered_json entry;
      entry["purpose"] = o.purpose;
      entry["verdict"] = to_string(o.verdict);
      if (o.recorded) {
        entry["recorded"] = {{"seq", o.recorded->seq}, {"action", to_string(o.recorded->action)}};
      } else {
        entry["recorded"] = nullptr;
        entry["kept"] = o.kept;
      }
      purposes.push_back(std::move(entry));
    }
    nlohmann::ordered_json out;
    out["customer"] = options.customer;
    out["signal"] = signal_json(report.signal);
    out["purposes"] = std::move(purposes);
    print_json(out);
    return kExitOk;
  }
  std::cout << signal_words(report.signal) << ", for " << options.customer << ":\n";
  for (const SignalOutcome& o : report.purposes) {
    std::cout << "  " << o.purpose << ": " << to_string(o.verdict) << "; ";
    if (o.recorded)
      std::cout << "recorded " << event_noun(o.recorded->action) << " (ledger event " << o.recorded->seq
                << ")";
    else if (o.kept == "older")
      std::cout << "nothing recorded: a later event decides it";
    else
      std::cout << "nothing recorded: the ledger already says so";
    std::cout << '\n';
  }
  return kExitOk;
}

std::string expiry_of(const ConsentState& state, std::string_view purpose) {
  const ConsentEvent* last = state.last(purpose);
  if (!last || last->action != ConsentAction::grant || !last->expires_at) return "";
  return format_timestamp(*last->expires_at);
}

void print_json_state(const Vault& vault, const std::string& customer, const ConsentState& state,
                      const std::vector<ConsentEvent>& history) {
  nlohmann::ordered_json purposes = nlohmann::ordered_json::object();
  for (const Purpose& p : vault.policy().purposes()) {
    nlohmann::ordered_json entry;
    entry["basis"] = to_string(p.basis);
    entry["status"] = to_string(state.status(p.id, vault.now()));
    if (std::string expiry = expiry_of(state, p.id); !expiry.empty()) entry["expires_at"] = expiry;
    purposes[p.id] = std::move(entry);
  }
  nlohmann::ordered_json events = nlohmann::ordered_json::array();
  for (const ConsentEvent& e : history) {
    nlohmann::ordered_json entry;
    entry["seq"] = e.seq;
    entry["at"] = format_timestamp(e.at);
    entry["action"] = to_string(e.action);
    entry["purpose"] = e.purpose;
    entry["channel"] = e.channel;
    entry["notice"] = e.notice;
    // The policy version the event was recorded under (an event older than versions: 1).
    entry["policy_version"] = std::max<std::int64_t>(e.policy_version, 1);
    if (e.expires_at) entry["expires_at"] = format_timestamp(*e.expires_at);
    if (e.signal) entry["signal"] = signal_json(*e.signal);
    events.push_back(std::move(entry));
  }
  nlohmann::ordered_json out;
  out["customer"] = customer;
  out["purposes"] = std::move(purposes);
  out["history"] = std::move(events);
  print_json(out);
}

void print_human_state(const Vault& vault, const std::string& customer, const ConsentState& state,
                       const std::vector<ConsentEvent>& history) {
  std::cout << "consent of " << customer << ":\n";
  detail::TextTable current;
  current.add({"PURPOSE", "BASIS", "STATUS", "EXPIRES"});
  for (const Purpose& p : vault.policy().purposes()) {
    std::string expiry = expiry_of(state, p.id);
    current.add({p.id, std::string(to_string(p.basis)),
                 std::string(to_string(state.status(p.id, vault.now()))), expiry.empty() ? "-" : expiry});
  }
  std::cout << current.render("  ");

  std::cout << "\nhistory:\n";
  if (history.empty()) {
    std::cout << "  (no consent events)\n";
    return;
  }
  detail::TextTable events;
  events.add({"SEQ", "TIME", "ACTION", "PURPOSE", "CHANNEL", "NOTICE", "POLICY"});
  for (const ConsentEvent& e : history) {
    events.add({std::to_string(e.seq), format_timestamp(e.at), std::string(to_string(e.action)), e.purpose,
                e.channel.empty() ? "-" : e.channel, e.notice.empty() ? "-" : e.notice,
                "v" + std::to_string(std::max<std::int64_t>(e.policy_version, 1))});
  }
  std::cout << events.render("  ");
}

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  Vault vault = open_vault(global);
  if (unwrap(vault.erased_at(options.customer))) fail(errc::erased, "customer was erased");
  if (!unwrap(vault.contains(options.customer)))
    fail(errc::not_found, "unknown customer " + options.customer);
  // A staff read: the look is audited (metadata only) before anything is shown.
  std::vector<ConsentEvent> history = unwrap(vault.review_consent(options.customer));
  const ConsentState state = ConsentState::from_history(history);
  verbose(counted(static_cast<std::int64_t>(history.size()), "consent event", "consent events") + " of " +
          options.customer + ", " +
          counted(static_cast<std::int64_t>(vault.policy().purposes().size()), "purpose", "purposes"));
  if (options.json) {
    print_json_state(vault, options.customer, state, history);
  } else {
    print_human_state(vault, options.customer, state, history);
  }
  return kExitOk;
}

void add_event_command(CLI::App& consent, const GlobalOptions& global, Commands& commands,
                       ConsentAction action, const char* description) {
  auto options = std::make_shared<EventOptions>();
  CLI::App* app = consent.add_subcommand(std::string(to_string(action)), description);
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("PURPOSE", options->purpose, "The purpose id")->required();
  app->add_option("--channel", options->channel, "How the customer told you (web, phone, store, ...)")
      ->capture_default_str();
  app->add_option("--notice", options->notice, "Reference of the privacy notice shown");
  app->add_flag("--create", options->create,
                "Record the event also for a customer the vault does not hold yet (without it, an unknown "
                "customer is refused with exit code 5)");
  commands.push_back({app, [&global, action, options] { return run_event(global, action, *options); }});
}

}  // namespace

void add_consent_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* consent = root.add_subcommand(
      "consent", "Record or show consent, and the customer's contact limits and opt-outs");
  consent->require_subcommand(1);
  consent->fallthrough();
  add_event_command(*consent, global, commands, ConsentAction::grant, "Record that the customer consents");
  add_event_command(*consent, global, commands, ConsentAction::withdraw,
                    "Record that the customer withdraws consent");
  add_event_command(*consent, global, commands, ConsentAction::object,
                    "Record that the customer objects (legitimate interest, public task)");

  auto signal = std::make_shared<SignalOptions>();
  CLI::App* signal_app = consent->add_subcommand(
      "signal",
      "Record what a consent signal from a website or app says (a TCF v2.2 TC string, a GPP string, or "
      "Global Privacy Control), through the policy's \"signals\" mapping");
  signal_app->add_option("CUSTOMER", signal->customer, "The customer id")->required();
  // Exactly one of the three: each excludes the others, and none at all is refused once parsed.
  CLI::Option* tcf = signal_app->add_option("--tcf", signal->tcf, "A TCF v2.2 TC string");
  CLI::Option* gpp = signal_app->add_option("--gpp", signal->gpp,
                                            "A GPP string (its TCF EU and US national sections are read)");
  CLI::Option* gpc =
      signal_app->add_flag("--gpc", signal->gpc, "Global Privacy Control was set (Sec-GPC: 1)");
  tcf->excludes(gpp)->excludes(gpc);
  gpp->excludes(gpc);
  signal_app->parse_complete_callback([signal] {
    if (signal->tcf.empty() && signal->gpp.empty() && !signal->gpc)
      throw CLI::ValidationError("signal", "give one of --tcf STRING, --gpp STRING or --gpc");
  });
  signal_app->add_option("--channel", signal->channel, "Where the signal came from (web, app, ...)")
      ->capture_default_str();
  signal_app->add_option("--notice", signal->notice, "Reference of the privacy notice shown");
  signal_app->add_flag("--create", signal->create,
                       "Record the signal also for a customer the vault does not hold yet (without it, an "
                       "unknown customer is refused with exit code 5)");
  signal_app->add_flag("--json", signal->json, "Print JSON");
  commands.push_back({signal_app, [&global, signal] { return run_signal(global, *signal); }});

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_app = consent->add_subcommand("show", "Show current consent and its full history");
  show_app->add_option("CUSTOMER", show->customer, "The customer id")->required();
  show_app->add_flag("--json", show->json, "Print JSON");
  commands.push_back({show_app, [&global, show] { return run_show(global, *show); }});
  add_contact_preference_commands(*consent, global, commands);
}

}  // namespace consentry::cli
