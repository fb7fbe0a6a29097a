// command_policy.cpp: `consentry policy check` and `consentry policy show`.
#include <iostream>
#include <memory>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "consentry/policy.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct CheckOptions {
  std::string file;
};

struct ShowOptions {
  bool json = false;
};

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += separator;
    out += item;
  }
  return out;
}

int run_check(const CheckOptions& options) {
  verbose("loading policy " + options.file + " (no vault is opened)");
  Policy policy = unwrap(Policy::load(options.file));
  verbose("policy format " + std::to_string(Policy::kFormatVersion) +
          ", every field, form and purpose checked");
  std::cout << options.file << ": valid (" << counts_of(policy) << ")\n";
  return kExitOk;
}

/// describe_purpose lists the limits a purpose carries beyond its basis.
std::string describe_purpose(const Purpose& p) {
  std::vector<std::string> notes;
  if (p.consent_valid_for) notes.push_back("consent valid for " + p.consent_valid_for->to_string());
  if (p.contact_limit) {
    notes.push_back("at most " + std::to_string(p.contact_limit->max) + " contacts per " +
                    p.contact_limit->per.to_string());
  }
  if (p.automated_decision) notes.push_back("automated decisions");
  std::string text = p.description;
  if (!notes.empty()) text += (text.empty() ? "(" : " (") + join(notes, ", ") + ")";
  return text;
}

void print_policy(const Policy& policy) {
  const Controller& c = policy.controller();
  // The policy is a file from outside: its text reaches the terminal only as visible escapes.
  std::cout << "controller: " << detail::terminal_safe(c.name);
  if (!c.contact.empty()) std::cout << " <" << detail::terminal_safe(c.contact) << ">";
  std::cout << "\n\npurposes (" << policy.purposes().size() << "):\n";
  detail::TextTable purposes;
  for (const Purpose& p : policy.purposes()) {
    purposes.add({p.id, std::string(to_string(p.basis)), describe_purpose(p)});
  }
  std::cout << purposes.render("  ");

  std::cout << "\naccessors (" << policy.accessors().size() << "):\n";
  detail::TextTable accessors;
  for (const AccessorSpec& a : policy.accessors()) accessors.add({a.id, join(a.purposes, ", ")});
  std::cout << accessors.render("  ");

  std::cout << "\nfields (" << policy.fields().size() << "):\n";
  detail::TextTable fields;
  for (const FieldSpec& f : policy.fields()) {
    std::vector<std::string> access;
    for (const auto& [purpose, form] : f.access) access.push_back(purpose + ": " + form.to_string());
    std::vector<std::string> notes;
    notes.push_back(f.retention ? "kept " + f.retention->to_string() : "kept indefinitely");
    if (!f.sources.empty()) notes.push_back("from " + join(f.sources, ", "));
    if (!f.derived_from.empty()) notes.push_back("derived from " + join(f.derived_from, ", "));
    fields.add({f.name, std::string(to_string(f.type)), f.category, join(notes, "; "),
                access.empty() ? "no purpose" : join(access, ", ")});
  }
  std::cout << fields.render("  ");
}

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  Vault vault = open_vault(global);
  verbose(std::string("printing the vault's policy") + (options.json ? " as JSON" : ""));
  if (options.json) {
    std::string text = vault.policy().to_json();
    if (text.empty() || text.back() != '\n') text += '\n';
    std::cout << text;
  } else {
    print_policy(vault.policy());
  }
  return kExitOk;
}

}  // namespace

void add_policy_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* policy = root.add_subcommand("policy", "Validate or print a policy");
  policy->require_subcommand(1);
  policy->fallthrough();

  auto check = std::make_shared<CheckOptions>();
  CLI::App* check_app = policy->add_subcommand("check", "Validate a policy file (no vault needed)");
  check_app->add_option("FILE", check->file, "The policy file (JSON)")->required();
  commands.push_back({check_app, [check] { return run_check(*check); }});

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_app = policy->add_subcommand("show", "Print the vault's policy");
  show_app->add_flag("--json", show->json, "Print the policy as JSON");
  commands.push_back({show_app, [&global, show] { return run_show(global, *show); }});
}

}  // namespace consentry::cli
