// small_file.hpp: reading a small input file named on the command line (a checkpoint, a
// template): a regular file of bounded size, refused before a byte is read otherwise.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace consentry::cli {

/// read_small_file returns the text of `file`, a regular file of at most `limit` bytes. A missing
/// file, a directory, a device, a pipe or a larger file fails the command as bad input (exit 2)
/// with a message naming the file and saying it is "not <what>" (e.g. "not a template").
std::string read_small_file(const std::string& file, std::size_t limit, std::string_view what);

}  // namespace consentry::cli
