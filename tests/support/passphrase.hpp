// passphrase.hpp: the passphrase of tests that need no particular one.
#pragma once

namespace consentry::test {

/// kTestPassphrase opens the vaults of tests that need no particular passphrase. An array, so that
/// it converts both to std::string_view and to std::string (in an environment map).
inline constexpr char kTestPassphrase[] = "correct horse battery staple";

}  // namespace consentry::test
