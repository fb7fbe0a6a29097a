// command_anonymise.cpp: `consentry anonymise` (placeholder while it is written).
#include "options.hpp"
namespace consentry::cli {
void add_anonymise_command(CLI::App&, const GlobalOptions&, Commands&) {}
}  // namespace consentry::cli
