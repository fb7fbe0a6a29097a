// files.hpp: reading and writing whole files in tests.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <system_error>

namespace consentry::test {

/// has_staged_temporary is true when the directory of `target` holds a temporary of it (a file
/// named ".<name>.partial-" and a random part, as io/staged_file.hpp names them), or a file
/// named "<name>.partial" or "<name>.new" (how such temporaries were named before).
inline bool has_staged_temporary(const std::filesystem::path& target) {
  const std::string name = target.filename().string();
  const std::string prefix = "." + name + ".partial-";
  std::error_code ec;
  for (std::filesystem::directory_iterator it(target.parent_path(), ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string entry = it->path().filename().string();
    if (entry.rfind(prefix, 0) == 0 || entry == name + ".partial" || entry == name + ".new") return true;
  }
  return false;
}

/// file_bytes returns the whole content of `file` ("" when it cannot be read).
inline std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// write_file replaces the content of `file` with `text`; the test fails when that does not work.
inline void write_file(const std::filesystem::path& file, std::string_view text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

/// vault_files returns the content of a vault file followed by that of its -wal and -journal, when present.
inline std::string vault_files(const std::filesystem::path& file) {
  std::string all = file_bytes(file);
  for (const char* suffix : {"-wal", "-journal"})
    if (std::filesystem::exists(file.string() + suffix)) all += file_bytes(file.string() + suffix);
  return all;
}

}  // namespace consentry::test
