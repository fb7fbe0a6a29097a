// global_options.hpp: the options every consentry subcommand accepts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace consentry::cli {

/// GlobalOptions are the options every subcommand accepts.
struct GlobalOptions {
  std::string vault;  ///< --vault or CONSENTRY_VAULT; empty when neither was given
  /// --key-file or CONSENTRY_KEY_FILE: the master key is sealed by this key file, not a passphrase
  std::string key_file;
  /// --actor or CONSENTRY_ACTOR: the person or system the audit log names for what the command
  /// does (writes, consent, erasure, exports, staff reads); "cli" when neither was given
  std::string actor = std::string(kDefaultActor);

  /// kDefaultActor is the actor of a command given no --actor or CONSENTRY_ACTOR.
  static constexpr std::string_view kDefaultActor = "cli";
  /// kMaxActorBytes bounds --actor.
  static constexpr std::size_t kMaxActorBytes = 128;
};

}  // namespace consentry::cli
