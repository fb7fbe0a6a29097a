// command_stats.cpp: `consentry stats` (placeholder while it is written).
#include "options.hpp"
namespace consentry::cli {
void add_stats_command(CLI::App&, const GlobalOptions&, Commands&) {}
}  // namespace consentry::cli
