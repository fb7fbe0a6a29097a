// key_file_fuzzer.cpp: KeyFileKeyProvider::open on a key file of any content (written to a
// private temporary file, mode 0600, in /dev/shm when there is one, rewritten for every input).
// A refusal is errc::bad_input and names the line, never the key material.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "consentry/key_provider.hpp"
#include "fuzz_support.hpp"

namespace {

constexpr const char* kTarget = "key_file";

// KeyFile is the temporary file the inputs are written to, removed at exit.
struct KeyFile {
  std::string path;
  int fd = -1;
  KeyFile() {
    const char* dir = std::getenv("TMPDIR");
    std::error_code ec;
    const std::string base = dir && *dir                                     ? dir
                             : std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm"
                                                                             : "/tmp";
    path = base + "/consentry-key-file-fuzz-XXXXXX";
    fd = ::mkstemp(path.data());
    consentry::fuzz::check(fd >= 0, kTarget, "a temporary key file can be made");
  }
  ~KeyFile() {
    ::close(fd);
    ::unlink(path.c_str());
  }
  void write(std::string_view text) const {
    consentry::fuzz::check(::ftruncate(fd, 0) == 0, kTarget, "the temporary key file can be emptied");
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
      consentry::fuzz::check(n > 0, kTarget, "the temporary key file can be written");
      done += static_cast<std::size_t>(n);
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace consentry;
  static const KeyFile file;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  file.write(text);
  auto provider = KeyFileKeyProvider::open(file.path);
  if (provider) {
    for (std::uint32_t version : (*provider)->versions())
      fuzz::check(version != 0, kTarget, "key material is never for version 0");
    return 0;
  }
  fuzz::check(provider.err().code == errc::bad_input, kTarget, "a malformed key file is errc::bad_input");
  // The message names the file: take its path out first. Then no run of 16 or more hex digits
  // of the file (key material, or the start of it) may appear in what is left.
  std::string message = provider.err().message;
  for (std::size_t at; (at = message.find(file.path)) != std::string::npos;)
    message.erase(at, file.path.size());
  const auto hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = start;
    while (end < text.size() && hex(text[end])) ++end;
    if (end - start >= 16)
      fuzz::check(message.find(text.substr(start, end - start)) == std::string::npos, kTarget,
                  "a refusal does not quote key material");
    start = end + 1;
  }
  return 0;
}
