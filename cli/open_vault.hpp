// open_vault.hpp: finding and opening the vault a subcommand works on: its path, what seals its
// master key (a passphrase or a key file) and the options every vault of the command is given.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "consentry/vault.hpp"
#include "global_options.hpp"

namespace consentry::cli {

/// vault_path returns --vault (or CONSENTRY_VAULT): a vault file, or a postgresql:// URI; a
/// usage failure when neither was given.
std::filesystem::path vault_path(const GlobalOptions& global);
/// vault_name is the vault's location as messages show it: a URI's password is replaced by ***.
std::string vault_name(const GlobalOptions& global);

/// kdf_strengths names the Argon2id strengths `--kdf` accepts.
const std::map<std::string, KdfStrength>& kdf_strengths();
/// kdf_name is the `--kdf` spelling of `strength` ("interactive"), "unknown" for none.
std::string kdf_name(KdfStrength strength);

/// key_provider is what seals the vault's master key: the key file of --key-file (created when
/// `create`; refused when its mode is looser than 0600), or else the user's passphrase (asked
/// twice when `create`, and sealing at `strength`).
std::shared_ptr<KeyProvider> key_provider(const GlobalOptions& global, bool create,
                                          KdfStrength strength = KdfStrength::interactive);

/// check_plain_text fails the command with bad input (exit 2), naming `what`, when `text` is longer
/// than `max_bytes`, is not valid UTF-8 or holds a control character (C0, DEL or C1).
void check_plain_text(const std::string& what, std::string_view text, std::size_t max_bytes);

/// checked_actor returns --actor (or CONSENTRY_ACTOR, or "cli"), after checking it: not empty, at
/// most GlobalOptions::kMaxActorBytes of UTF-8, no control character. Otherwise it fails the
/// command with bad input (exit 2) saying what is wrong.
std::string checked_actor(const GlobalOptions& global);

/// cli_vault_options are the options every vault the command opens or creates is given: the audit
/// log names checked_actor(global) as the actor of staff actions such as imports, consent,
/// erasure and staff reads.
VaultOptions cli_vault_options(const GlobalOptions& global);

/// open_vault opens the vault named by the global options with the user's passphrase, or with
/// the key file of --key-file.
/// Existence is checked first so that nobody types a passphrase for a vault that is not there.
/// With `--verbose` it reports the file, how the master key is sealed, the time the unlocking
/// took and the size of the policy.
Vault open_vault(const GlobalOptions& global);

/// verbose_audit reports, with `--verbose`, how many audit entries name `customer` and the seq of
/// the last one. It only reads the log; a log that cannot be read is reported, not failed on.
void verbose_audit(const Vault& vault, std::string_view customer);

/// counts_of describes a policy's size as "N purposes, M accessors, K fields".
std::string counts_of(const Policy& policy);

}  // namespace consentry::cli
