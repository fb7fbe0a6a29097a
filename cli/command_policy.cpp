// command_policy.cpp: `consentry policy check`, `show`, `update` and `diff`.
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>
#include <set>

#include "../src/text/text_table.hpp"
#include "commands.hpp"
#include "consentry/policy.hpp"
#include "consentry/policy_diff.hpp"
#include "exit.hpp"
#include "json_output.hpp"
#include "open_vault.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct CheckOptions {
  std::string file;
};

struct ShowOptions {
  bool json = false;
  std::optional<std::int64_t> version;
};

struct UpdateOptions {
  std::string file;
  bool purge_removed = false;
  bool json = false;
};

struct DiffOptions {
  std::vector<std::string> sides;  // up to two: a version number or a policy file
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

/// in_default gives wording in the policy's default language (else its untranslated text, else "").
std::string in_default(const Policy& policy, const Wording& w) {
  return std::string(w.in(policy.default_language()));
}

/// one_line gives a description on one line of a table: its newlines become spaces (a policy's
/// wording holds no other control character).
std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

/// languages_of lists the languages the policy's wording covers: the default language first, then
/// every other language a label or description is translated into, in order.
std::vector<std::string> languages_of(const Policy& policy) {
  std::set<std::string> tags;
  auto add = [&tags](const Wording& w) {
    for (const auto& [tag, text] : w.translations) tags.insert(tag);
  };
  for (const Purpose& p : policy.purposes()) {
    add(p.label);
    add(p.description);
  }
  for (const AccessorSpec& a : policy.accessors()) {
    add(a.label);
    add(a.description);
  }
  for (const SourceSpec& s : policy.sources()) {
    add(s.label);
    add(s.description);
  }
  for (const FieldSpec& f : policy.fields()) {
    add(f.label);
    add(f.description);
  }
  std::vector<std::string> out{policy.default_language()};
  for (const std::string& tag : tags)
    if (tag != policy.default_language()) out.push_back(tag);
  return out;
}

/// with_label puts a label cell after the id cell of a row when the table shows labels.
std::vector<std::string> with_label(std::vector<std::string> row, bool labels, std::string label) {
  if (labels) row.insert(row.begin() + 1, label.empty() ? "-" : std::move(label));
  return row;
}

/// describe_purpose lists the limits a purpose carries beyond its basis.
std::string describe_purpose(const Policy& policy, const Purpose& p) {
  std::vector<std::string> notes;
  if (p.consent_valid_for) notes.push_back("consent valid for " + p.consent_valid_for->to_string());
  if (p.contact_limit) {
    notes.push_back("at most " + std::to_string(p.contact_limit->max) + " contacts per " +
                    p.contact_limit->per.to_string());
  }
  if (p.automated_decision) notes.push_back("automated decisions");
  std::string text = one_line(in_default(policy, p.description));
  if (!notes.empty()) text += (text.empty() ? "(" : " (") + join(notes, ", ") + ")";
  return text;
}

void print_policy(const Policy& policy) {
  const Controller& c = policy.controller();
  // The policy is a file from outside: its text reaches the terminal only as visible escapes.
  std::cout << "controller: " << detail::terminal_safe(c.name);
  if (!c.contact.empty()) std::cout << " <" << detail::terminal_safe(c.contact) << ">";
  // Labels and descriptions are shown in the default language; the other languages are listed.
  const std::vector<std::string> languages = languages_of(policy);
  std::cout << "\nlanguages: " << detail::terminal_safe(languages.front()) << " (default)";
  for (std::size_t i = 1; i < languages.size(); ++i) std::cout << ", " << detail::terminal_safe(languages[i]);
  std::cout << "\n\npurposes (" << policy.purposes().size() << "):\n";
  detail::TextTable purposes;
  const bool purpose_labels = std::any_of(policy.purposes().begin(), policy.purposes().end(),
                                          [](const Purpose& p) { return !p.label.empty(); });
  for (const Purpose& p : policy.purposes()) {
    purposes.add(with_label({p.id, std::string(to_string(p.basis)), describe_purpose(policy, p)},
                            purpose_labels, in_default(policy, p.label)));
  }
  std::cout << purposes.render("  ");

  std::cout << "\naccessors (" << policy.accessors().size() << "):\n";
  detail::TextTable accessors;
  const bool accessor_labels = std::any_of(policy.accessors().begin(), policy.accessors().end(),
                                           [](const AccessorSpec& a) { return !a.label.empty(); });
  for (const AccessorSpec& a : policy.accessors())
    accessors.add(with_label({a.id, join(a.purposes, ", ")}, accessor_labels, in_default(policy, a.label)));
  std::cout << accessors.render("  ");

  if (!policy.sources().empty()) {
    std::cout << "\nsources (" << policy.sources().size() << "):\n";
    detail::TextTable sources;
    for (const SourceSpec& src : policy.sources()) {
      std::vector<std::string> row{src.id, in_default(policy, src.label)};
      if (!src.description.empty()) row.push_back(one_line(in_default(policy, src.description)));
      sources.add(std::move(row));
    }
    std::cout << sources.render("  ");
  }

  std::cout << "\nfields (" << policy.fields().size() << "):\n";
  detail::TextTable fields;
  const bool field_labels = std::any_of(policy.fields().begin(), policy.fields().end(),
                                        [](const FieldSpec& f) { return !f.label.empty(); });
  for (const FieldSpec& f : policy.fields()) {
    std::vector<std::string> access;
    for (const auto& [purpose, form] : f.access) access.push_back(purpose + ": " + form.to_string());
    std::vector<std::string> notes;
    notes.push_back(f.retention ? "kept " + f.retention->to_string() : "kept indefinitely");
    if (!f.sources.empty()) notes.push_back("from " + join(f.sources, ", "));
    if (!f.derived_from.empty()) notes.push_back("derived from " + join(f.derived_from, ", "));
    fields.add(with_label({f.name, std::string(to_string(f.type)), f.category, join(notes, "; "),
                           access.empty() ? "no purpose" : join(access, ", ")},
                          field_labels, in_default(policy, f.label)));
  }
  std::cout << fields.render("  ");
}

int run_show(const GlobalOptions& global, const ShowOptions& options) {
  Vault vault = open_vault(global);
  std::optional<Policy> older;
  if (options.version) older = unwrap(vault.policy_at(*options.version));
  const Policy& policy = older ? *older : vault.policy();
  verbose(std::string("printing the vault's policy, version ") +
          std::to_string(options.version.value_or(vault.policy_version())) +
          (options.json ? ", as JSON" : ""));
  if (options.json) {
    std::string text = policy.to_json();
    if (text.empty() || text.back() != '\n') text += '\n';
    std::cout << text;
  } else {
    print_policy(policy);
  }
  return kExitOk;
}

nlohmann::ordered_json change_json(const PolicyChange& c) {
  nlohmann::ordered_json j;
  j["kind"] = std::string(to_string(c.kind));
  j["effect"] = std::string(to_string(c.effect));
  for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"field", &c.field},
                                   {"purpose", &c.purpose},
                                   {"accessor", &c.accessor},
                                   {"source", &c.source},
                                   {"from", &c.from},
                                   {"to", &c.to}})
    if (!value->empty()) j[key] = *value;
  if (!c.renew_consent.empty()) j["renew_consent"] = c.renew_consent;
  return j;
}

nlohmann::ordered_json diff_json(const PolicyDiff& d) {
  nlohmann::ordered_json changes = nlohmann::ordered_json::array();
  for (const PolicyChange& c : d.changes) changes.push_back(change_json(c));
  return changes;
}

/// print_diff lists the changes, one a line, and the consents they outdate. Ids come from policy
/// files: they reach the terminal only as visible escapes.
void print_diff(const PolicyDiff& d) {
  if (d.empty()) {
    std::cout << "no changes\n";
    return;
  }
  for (const PolicyChange& c : d.changes) std::cout << "  " << detail::terminal_safe(c.describe()) << "\n";
  if (const auto renew = d.consent_to_renew(); !renew.empty())
    std::cout << "consents given before this version must be renewed for: "
              << detail::terminal_safe(join(renew, ", ")) << "\n";
}

std::string version_line(const PolicyVersion& v) {
  std::string out = "version " + std::to_string(v.number) + " (" + v.hash.substr(0, 16) + ")";
  if (v.at) out += ", " + format_timestamp(*v.at);
  if (!v.actor.empty()) out += ", by " + detail::terminal_safe(v.actor);
  return out;
}

int run_update(const GlobalOptions& global, const UpdateOptions& options) {
  verbose("loading policy " + options.file);
  Policy to = unwrap(Policy::load(options.file));
  Vault vault = open_vault(global);
  PolicyUpdateOptions o;
  o.purge_removed = options.purge_removed;
  verbose("comparing with the vault's policy, version " + std::to_string(vault.policy_version()) +
          (options.purge_removed ? "; values of removed or retyped fields will be purged" : ""));
  const PolicyUpdate u = unwrap(vault.update_policy(to, o));
  if (options.json) {
    nlohmann::ordered_json j;
    j["changed"] = u.changed;
    j["version"] = u.version.number;
    j["hash"] = u.version.hash;
    j["values_purged"] = u.values_purged;
    j["customers_reindexed"] = u.customers_reindexed;
    j["changes"] = diff_json(u.diff);
    j["renew_consent"] = u.diff.consent_to_renew();
    print_json(j);
    return kExitOk;
  }
  if (!u.changed) {
    std::cout << "policy unchanged: " << version_line(u.version) << "\n";
    return kExitOk;
  }
  std::cout << "policy updated to " << version_line(u.version) << "\n";
  if (u.values_purged > 0)
    std::cout << "purged " << u.values_purged << " values of removed or retyped fields\n";
  if (u.customers_reindexed > 0)
    std::cout << "indexed " << u.customers_reindexed
              << " customers for the lookups the change adds or resizes\n";
  print_diff(u.diff);
  return kExitOk;
}

int run_reindex(const GlobalOptions& global, bool json) {
  Vault vault = open_vault(global);
  Stopwatch clock;
  const std::int64_t n = unwrap(vault.reindex_lookups());
  verbose("lookup indexes built in " + clock.elapsed());
  if (json) {
    nlohmann::ordered_json j;
    j["customers_reindexed"] = n;
    print_json(j);
  } else {
    std::cout << (n == 0 ? std::string("no lookup index was left to build")
                         : "indexed " + counted(n, "customer", "customers"))
              << "\n";
  }
  return kExitOk;
}

/// side reads one side of a diff: a version number of the vault's policy, or a policy file.
Policy side(Vault& vault, const std::string& text) {
  if (!text.empty() && text.size() < 19 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return unwrap(vault.policy_at(std::stoll(text)));
  return unwrap(Policy::load(text));
}

int run_diff(const GlobalOptions& global, const DiffOptions& options) {
  Vault vault = open_vault(global);
  const std::int64_t current = vault.policy_version();
  // No side: the version before the current one against it; one side: it against the current one.
  const std::string a =
      !options.sides.empty() ? options.sides[0] : std::to_string(std::max<std::int64_t>(1, current - 1));
  const std::string b = options.sides.size() > 1 ? options.sides[1] : std::to_string(current);
  verbose("comparing " + a + " with " + b);
  const PolicyDiff d = diff_policies(side(vault, a), side(vault, b));
  if (options.json) {
    nlohmann::ordered_json j;
    j["from"] = a;
    j["to"] = b;
    j["changes"] = diff_json(d);
    j["renew_consent"] = d.consent_to_renew();
    print_json(j);
    return kExitOk;
  }
  std::cout << "from " << detail::terminal_safe(a) << " to " << detail::terminal_safe(b) << ":\n";
  print_diff(d);
  return kExitOk;
}

int run_versions(const GlobalOptions& global) {
  Vault vault = open_vault(global);
  for (const PolicyVersion& v : unwrap(vault.policy_versions()))
    std::cout << version_line(v) << (v.number == vault.policy_version() ? " (in force)" : "") << "\n";
  return kExitOk;
}

}  // namespace

void add_policy_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* policy = root.add_subcommand("policy", "Validate, print, update or compare a policy");
  policy->require_subcommand(1);
  policy->fallthrough();

  auto check = std::make_shared<CheckOptions>();
  CLI::App* check_app = policy->add_subcommand("check", "Validate a policy file (no vault needed)");
  check_app->add_option("FILE", check->file, "The policy file (JSON)")->required();
  commands.push_back({check_app, [check] { return run_check(*check); }});

  auto show = std::make_shared<ShowOptions>();
  CLI::App* show_app = policy->add_subcommand("show", "Print the vault's policy");
  show_app->add_flag("--json", show->json, "Print the policy as JSON");
  show_app->add_option("--version", show->version,
                       "Print version N of the policy (1 is the one the vault was created with; "
                       "`policy versions` lists them); exit 5 for a version the vault does not have");
  commands.push_back({show_app, [&global, show] { return run_show(global, *show); }});

  auto update = std::make_shared<UpdateOptions>();
  CLI::App* update_app = policy->add_subcommand(
      "update",
      "Make FILE the vault's policy, as a new version (audited). Added fields, purposes and accessors "
      "and tightenings apply at once, to views already open too. Removing a field, or changing its "
      "type, while values of it are stored is refused (exit 2) unless --purge-removed");
  update_app->add_option("FILE", update->file, "The new policy file (JSON)")->required();
  update_app->add_flag("--purge-removed", update->purge_removed,
                       "Delete the stored values of fields the new policy removes or retypes, in "
                       "audited batches, and then apply it");
  update_app->add_flag("--json", update->json, "Print the version and the changes as JSON");
  commands.push_back({update_app, [&global, update] { return run_update(global, *update); }});

  auto diff = std::make_shared<DiffOptions>();
  CLI::App* diff_app = policy->add_subcommand(
      "diff",
      "Compare two policies: A and B are version numbers of the vault's policy or policy files; "
      "without B, A is compared with the version in force; without either, the version before it "
      "with the version in force. Each change is classified (tightening, widening, destructive)");
  diff_app->add_option("A B", diff->sides, "Version numbers or policy files")->expected(0, 2);
  diff_app->add_flag("--json", diff->json, "Print the changes as JSON");
  commands.push_back({diff_app, [&global, diff] { return run_diff(global, *diff); }});

  auto reindex_json = std::make_shared<bool>(false);
  CLI::App* reindex_app = policy->add_subcommand(
      "reindex", "Finish building the lookup indexes a policy update left unfinished (update builds them)");
  reindex_app->add_flag("--json", *reindex_json, "Print JSON: {\"customers_reindexed\": N}");
  commands.push_back({reindex_app, [&global, reindex_json] { return run_reindex(global, *reindex_json); }});

  CLI::App* versions_app = policy->add_subcommand("versions", "List the versions of the vault's policy");
  commands.push_back({versions_app, [&global] { return run_versions(global); }});
}

}  // namespace consentry::cli
