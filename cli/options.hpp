// options.hpp: what the consentry subcommands share: the vault and passphrase, error printing
// and exit codes, tables and JSON output.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/vault.hpp"

namespace consentry::cli {

/// Exit codes that no errc stands for; the rest come from consentry::exit_code().
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitDenied = 3;

/// GlobalOptions are the options every subcommand accepts.
struct GlobalOptions {
  std::string vault;  ///< --vault or CONSENTRY_VAULT; empty when neither was given
  /// --key-file or CONSENTRY_KEY_FILE: the master key is sealed by this key file, not a passphrase
  std::string key_file;
};

/// Command is a leaf subcommand and what runs when the command line selected it.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};
using Commands = std::vector<Command>;

/// ExitRequest ends the command with `code` once its diagnostic has been printed. Thrown rather
/// than returned so that every open vault and secret is released by unwinding before exit.
struct ExitRequest {
  int code = kExitUsage;
};

/// The add_* functions declare each subcommand on `root` and append what runs it to `commands`.
void add_init_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_policy_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_import_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_consent_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_read_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_log_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_erase_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_backup_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_keys_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_export_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_audit_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_inventory_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_purge_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_derive_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_contact_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_ff1_commands(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_anonymise_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
void add_stats_command(CLI::App& root, const GlobalOptions& global, Commands& commands);
/// add_contact_preference_commands adds `limit`, `opt-out` and `opt-in` under `consent`.
void add_contact_preference_commands(CLI::App& consent, const GlobalOptions& global, Commands& commands);

/// print_error writes "consentry: error: <message>" to stderr.
void print_error(std::string_view message);
/// fail prints `e` and ends the command with its exit code.
[[noreturn]] void fail(const error& e);
/// fail builds the error from its parts, prints it and ends the command.
[[noreturn]] void fail(errc code, std::string message);
/// usage_failure prints `message` and ends the command with exit code 1.
[[noreturn]] void usage_failure(std::string_view message);

/// unwrap returns the value of `r`, or prints its error and ends the command.
template <class T>
T unwrap(result<T>&& r) {
  if (!r) fail(r.err());
  return std::move(r).value();
}
inline void unwrap(result<void>&& r) {
  if (!r) fail(r.err());
}

/// vault_path returns --vault (or CONSENTRY_VAULT); a usage failure when neither was given.
std::filesystem::path vault_path(const GlobalOptions& global);

/// read_passphrase takes CONSENTRY_PASSPHRASE, or prompts without echo when stdin is a terminal
/// (twice when `confirm`, for a new vault); a usage failure otherwise.
SecretBytes read_passphrase(std::string_view prompt, bool confirm);
/// read_secret is read_passphrase with the variable `env` in place of CONSENTRY_PASSPHRASE.
SecretBytes read_secret(const char* env, std::string_view prompt, bool confirm);

/// kdf_strengths names the Argon2id strengths `--kdf` accepts.
const std::map<std::string, KdfStrength>& kdf_strengths();
/// kdf_name is the `--kdf` spelling of `strength` ("interactive"), "unknown" for none.
std::string kdf_name(KdfStrength strength);

/// key_provider is what seals the vault's master key: the key file of --key-file (created when
/// `create`; refused when its mode is looser than 0600), or else the user's passphrase (asked
/// twice when `create`, and sealing at `strength`).
std::shared_ptr<KeyProvider> key_provider(const GlobalOptions& global, bool create,
                                          KdfStrength strength = KdfStrength::interactive);

/// cli_vault_options are the options every vault the command opens or creates is given: the audit
/// log names the command line ("cli") as the actor of staff actions such as imports and consent.
VaultOptions cli_vault_options();

/// open_vault opens the vault named by the global options with the user's passphrase, or with
/// the key file of --key-file.
/// Existence is checked first so that nobody types a passphrase for a vault that is not there.
/// With `--verbose` it reports the file, how the master key is sealed, the time the unlocking
/// took and the size of the policy.
Vault open_vault(const GlobalOptions& global);

/// verbose_audit reports, with `--verbose`, how many audit entries name `customer` and the seq of
/// the last one. It only reads the log; a log that cannot be read is reported, not failed on.
void verbose_audit(const Vault& vault, std::string_view customer);

/// Table prints rows with each column padded to its widest cell; the last column is not padded.
/// Control characters in cells (ESC, CR, LF, DEL, C1 controls, bytes that are not UTF-8) are
/// printed as visible \xNN escapes, so a stored value cannot drive the terminal or fake a row.
class Table {
 public:
  explicit Table(std::string indent = "") : indent_(std::move(indent)) {}
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const noexcept { return rows_.empty(); }
  void print(std::ostream& out) const;

 private:
  std::string indent_;
  std::vector<std::vector<std::string>> rows_;
};

/// print_json writes `j` compactly on one line. Invalid UTF-8 is replaced, not thrown on, so a
/// malformed stored value cannot turn into an exception whose text quotes it. Control characters,
/// DEL and C1 controls are \u escapes, so a value cannot drive the terminal.
void print_json(const nlohmann::ordered_json& j);

/// counts_of describes a policy's size as "N purposes, M accessors, K fields".
std::string counts_of(const Policy& policy);

}  // namespace consentry::cli
