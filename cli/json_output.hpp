// json_output.hpp: the `--json` output of the subcommands.
#pragma once

#include <nlohmann/json.hpp>

namespace consentry::cli {

/// print_json writes `j` compactly on one line. Invalid UTF-8 is replaced, not thrown on, so a
/// malformed stored value cannot turn into an exception whose text quotes it. Control characters,
/// DEL and C1 controls are \u escapes, so a value cannot drive the terminal.
void print_json(const nlohmann::ordered_json& j);

}  // namespace consentry::cli
