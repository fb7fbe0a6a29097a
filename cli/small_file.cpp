// small_file.cpp: bounded reads of small input files named on the command line.
#include "small_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "exit.hpp"

namespace consentry::cli {
namespace {

// file_kind names what a non-regular file is, for a message.
std::string file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a pipe";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// size_text writes a limit as "64 KiB" (or in bytes below 1 KiB).
std::string size_text(std::size_t limit) {
  return limit >= 1024 ? std::to_string(limit / 1024) + " KiB" : std::to_string(limit) + " bytes";
}

}  // namespace

std::string read_small_file(const std::string& file, std::size_t limit, std::string_view what) {
  const std::string too_large = file + ": larger than " + size_text(limit) + ", not " + std::string(what);
  // O_NONBLOCK: opening a pipe with no writer must not hang before it can be refused.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) fail(errc::bad_input, file + ": no such file");
    fail(errc::bad_input, file + ": cannot read the file");
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(errc::bad_input, file + ": cannot read the file");
  if (!S_ISREG(st.st_mode))
    fail(errc::bad_input, file + ": " + file_kind(st.st_mode) + ", not " + std::string(what));
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > limit) fail(errc::bad_input, too_large);
  std::string text;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(errc::bad_input, file + ": cannot read the file");
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    // The file may grow while it is read.
    if (text.size() > limit) fail(errc::bad_input, too_large);
  }
  return text;
}

}  // namespace consentry::cli
