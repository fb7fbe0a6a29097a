// key_file_fuzzer.cpp: KeyFileKeyProvider::open on a key file of any content (written to a
// private temporary file, mode 0600, which is rewritten for every input). A refusal names the
// line, never the key material: no line of the file appears in the message.
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
    path = std::string(dir && *dir ? dir : "/tmp") + "/consentry-key-file-fuzz-XXXXXX";
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
  // The message names the file: take its path out first. Lines shorter than 16 bytes could
  // appear by chance ("line 2"); key lines are 66 bytes and longer.
  std::string message = provider.err().message;
  for (std::size_t at; (at = message.find(file.path)) != std::string::npos;)
    message.erase(at, file.path.size());
  std::string_view rest = text;
  while (!rest.empty()) {
    const std::size_t end = rest.find('\n');
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    if (line.size() >= 16)
      fuzz::check(message.find(line) == std::string::npos, kTarget, "a refusal does not quote the key file");
  }
  return 0;
}
