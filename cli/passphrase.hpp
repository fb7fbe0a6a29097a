// passphrase.hpp: reading a passphrase or another secret from the environment or, without echo,
// from the terminal.
#pragma once

#include <string_view>

#include "consentry/secret_bytes.hpp"

namespace consentry::cli {

/// read_passphrase takes CONSENTRY_PASSPHRASE, or prompts without echo when stdin is a terminal
/// (twice when `confirm`, for a new vault); a usage failure otherwise.
SecretBytes read_passphrase(std::string_view prompt, bool confirm);
/// read_secret is read_passphrase with the variable `env` in place of CONSENTRY_PASSPHRASE.
SecretBytes read_secret(const char* env, std::string_view prompt, bool confirm);

}  // namespace consentry::cli
