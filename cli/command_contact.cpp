// command_contact.cpp: `consentry contact`, a contact with a customer that the library records or
// refuses, and the customer's own contact preferences (`consent limit`, `consent opt-out`,
// `consent opt-in`).
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ContactOptions {
  std::string customer;
  std::string channel;
  std::string purpose;
};

int run_contact(const GlobalOptions& global, const ContactOptions& options) {
  Vault vault = open_vault(global);
  // A refusal (no_consent, contact_limit) exits 3 and is recorded in the audit log.
  ContactEvent made = unwrap(vault.record_contact(options.customer, options.channel, options.purpose));
  verbose_audit(vault, options.customer);
  std::cout << "contact " << made.seq << " with " << options.customer << " by " << made.channel << " for "
            << made.purpose << " recorded at " << format_timestamp(made.at) << "\n";
  return kExitOk;
}

struct LimitOptions {
  std::string customer;
  std::string purpose;
  int max = 0;
  std::string per;
};

int run_limit(const GlobalOptions& global, const LimitOptions& options) {
  auto per = parse_iso_duration(options.per);
  if (!per) usage_failure("--per must be an ISO 8601 duration such as P7D or P1M");
  Vault vault = open_vault(global);
  unwrap(vault.limit_contacts(options.customer, options.purpose, options.max, *per));
  std::cout << "limited contacts with " << options.customer << " for " << options.purpose << " to "
            << options.max << " per " << per->to_string() << "\n";
  return kExitOk;
}

struct ChannelOptions {
  std::string customer;
  std::string channel;
};

int run_channel(const GlobalOptions& global, const ChannelOptions& options, bool opted_out) {
  Vault vault = open_vault(global);
  unwrap(vault.opt_out_of_channel(options.customer, options.channel, opted_out));
  std::cout << options.customer << (opted_out ? " opted out of " : " opted in to ") << options.channel
            << "\n";
  return kExitOk;
}

}  // namespace

void add_contact_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ContactOptions>();
  CLI::App* app = root.add_subcommand(
      "contact",
      "Record a contact with a customer, refused (exit 3) without consent, after an opt-out of the "
      "channel, or over the purpose's or the customer's contact limit");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("--channel", options->channel, "How (email, sms, phone, post, ...)")->required();
  app->add_option("--purpose", options->purpose, "Why")->required();
  commands.push_back({app, [&global, options] { return run_contact(global, *options); }});
}

void add_contact_preference_commands(CLI::App& consent, const GlobalOptions& global, Commands& commands) {
  auto limit = std::make_shared<LimitOptions>();
  CLI::App* limit_app = consent.add_subcommand(
      "limit",
      "Record the customer's own contact limit for a purpose (the stricter of it and the policy's applies)");
  limit_app->add_option("CUSTOMER", limit->customer, "The customer id")->required();
  limit_app->add_option("PURPOSE", limit->purpose, "The purpose id")->required();
  limit_app->add_option("--max", limit->max, "Contacts allowed per period (0 = none)")
      ->required()
      ->check(CLI::Range(0, 100000));
  limit_app->add_option("--per", limit->per, "The period, an ISO 8601 duration (P7D, P1M)")->required();
  commands.push_back({limit_app, [&global, limit] { return run_limit(global, *limit); }});

  for (const bool opted_out : {true, false}) {
    auto channel = std::make_shared<ChannelOptions>();
    CLI::App* app =
        consent.add_subcommand(opted_out ? "opt-out" : "opt-in",
                               opted_out ? "Record that the customer wants no contact on a channel"
                                         : "Record that the customer allows contact on a channel again");
    app->add_option("CUSTOMER", channel->customer, "The customer id")->required();
    app->add_option("--channel", channel->channel, "The channel (email, sms, phone, post, ...)")->required();
    commands.push_back(
        {app, [&global, channel, opted_out] { return run_channel(global, *channel, opted_out); }});
  }
}

}  // namespace consentry::cli
