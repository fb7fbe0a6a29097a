// global_options.hpp: the options every consentry subcommand accepts.
#pragma once

#include <string>

namespace consentry::cli {

/// GlobalOptions are the options every subcommand accepts.
struct GlobalOptions {
  std::string vault;  ///< --vault or CONSENTRY_VAULT; empty when neither was given
  /// --key-file or CONSENTRY_KEY_FILE: the master key is sealed by this key file, not a passphrase
  std::string key_file;
};

}  // namespace consentry::cli
