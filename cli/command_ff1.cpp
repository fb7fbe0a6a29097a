// command_ff1.cpp: `consentry ff1 encrypt|decrypt` (placeholder while FF1 is written).
#include "options.hpp"
namespace consentry::cli {
void add_ff1_commands(CLI::App&, const GlobalOptions&, Commands&) {}
}  // namespace consentry::cli
