// staged_file.hpp: the one way a file is written atomically: a new file (private, mode 0600,
// unless asked otherwise) written under a unique temporary name beside its target and renamed
// into place only once complete and synced, and the safe removal of temporaries that killed runs
// left behind. Used for backups, file exports, released datasets, key files and checkpoints. It
// sits in src/io/, below every layer, so that crypto, anonymise, store and the CLI may all use it.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "consentry/result.hpp"

namespace consentry::detail {

/// kStagedRandomChars is the length of the random part of a temporary's name (mkostemp's XXXXXX).
inline constexpr std::size_t kStagedRandomChars = 6;

/// kStagedSideFiles are the files SQLite may keep beside a database it writes.
inline constexpr std::string_view kStagedSideFiles[] = {"-journal", "-wal", "-shm"};

/// staged_prefix is how the temporaries of `target` begin: ".<file name>.partial-". The leading
/// dot keeps them out of ordinary listings; the random part follows.
inline std::string staged_prefix(const std::filesystem::path& target) {
  return "." + target.filename().string() + ".partial-";
}

/// staged_directory is the directory `target` is in ("." for a bare file name).
inline std::filesystem::path staged_directory(const std::filesystem::path& target) {
  std::filesystem::path dir = target.parent_path();
  return dir.empty() ? std::filesystem::path(".") : dir;
}

/// is_staged_main tells whether `name` is the name of a temporary of `target`: its prefix and
/// then exactly kStagedRandomChars letters or digits.
inline bool is_staged_main(std::string_view name, std::string_view prefix) {
  if (name.size() != prefix.size() + kStagedRandomChars || name.substr(0, prefix.size()) != prefix)
    return false;
  for (char c : name.substr(prefix.size())) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum) return false;
  }
  return true;
}

/// same_file tells whether `path` (not followed if a link) is the file open as `fd`.
inline bool same_file(int fd, const std::filesystem::path& path) {
  struct stat open_file {};
  struct stat named {};
  return ::fstat(fd, &open_file) == 0 && ::lstat(path.c_str(), &named) == 0 &&
         open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

/// remove_side_files removes what SQLite may have left beside `file` (-journal, -wal, -shm).
inline void remove_side_files(const std::filesystem::path& file) {
  for (std::string_view suffix : kStagedSideFiles) ::unlink((file.string() + std::string(suffix)).c_str());
}

/// remove_stale_staged_files removes the temporaries of `target` that earlier runs left behind
/// when they were killed: files of its directory named as StagedFile names them, owned by this
/// user and locked by no process, with their SQLite side files (and side files whose temporary is
/// gone). A temporary that a live process is writing is locked, and is left alone. Nothing else is
/// touched, and failures are ignored: a stale temporary blocks nothing, it only takes space.
inline void remove_stale_staged_files(const std::filesystem::path& target) {
  const std::filesystem::path dir = staged_directory(target);
  const std::string prefix = staged_prefix(target);
  std::vector<std::string> mains, sides;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    if (is_staged_main(name, prefix)) {
      mains.push_back(name);
      continue;
    }
    for (std::string_view suffix : kStagedSideFiles) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          is_staged_main(std::string_view(name).substr(0, name.size() - suffix.size()), prefix))
        sides.push_back(name);
    }
  }
  const uid_t me = ::geteuid();
  for (const std::string& name : mains) {
    const std::filesystem::path file = dir / name;
    const int fd = ::open(file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat st {};
    // The writer holds the lock from before its first byte until the file is renamed or removed;
    // the name is checked again under the lock, so a file put in its place is not removed.
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == me &&
        ::flock(fd, LOCK_EX | LOCK_NB) == 0 && same_file(fd, file)) {
      remove_side_files(file);
      ::unlink(file.c_str());
    }
    ::close(fd);
  }
  for (const std::string& name : sides) {
    const std::filesystem::path side = dir / name;
    const std::string main = name.substr(0, prefix.size() + kStagedRandomChars);
    struct stat st {};
    // A side file outlives its temporary only when a run was killed between the two removals:
    // a writer creates its temporary before any side file and removes the side files first.
    if (::lstat((dir / main).c_str(), &st) != 0 && errno == ENOENT && ::lstat(side.c_str(), &st) == 0 &&
        S_ISREG(st.st_mode) && st.st_uid == me)
      ::unlink(side.c_str());
  }
}

/// StagedFile is a new file on its way to `target`, readable by its owner only (mode 0600) unless
/// created with another mode. It is
/// a unique temporary in the target's directory (see staged_prefix), created with O_EXCL and
/// locked (flock) for as long as it is open, so remove_stale_staged_files leaves it alone. commit
/// renames it into place; until then the target is untouched, and a StagedFile destroyed
/// without a commit removes its temporary and any SQLite side files.
class StagedFile {
 public:
  /// create makes and locks the temporary, with `mode` (0600 unless given: only a file meant for
  /// others, such as a signed checkpoint, is given another); errc::io naming the target and the
  /// reason when the directory does not allow it.
  static result<StagedFile> create(const std::filesystem::path& target, mode_t mode = 0600) {
    const std::filesystem::path dir = staged_directory(target);
    for (int attempt = 0; attempt < 16; ++attempt) {
      std::string name = (dir / (staged_prefix(target) + std::string(kStagedRandomChars, 'X'))).string();
      // mkostemp opens with O_CREAT | O_EXCL and mode 0600.
      const int fd = ::mkostemp(name.data(), O_CLOEXEC);
      if (fd < 0) {
        return make_error(errc::io, "cannot write " + target.string() + ": cannot create a file in " +
                                        dir.string() + ": " + std::strerror(errno));
      }
      if (::flock(fd, LOCK_EX) != 0) {
        const int saved = errno;
        ::unlink(name.c_str());
        ::close(fd);
        return make_error(errc::io, "cannot write " + target.string() + ": cannot lock " + name + ": " +
                                        std::strerror(saved));
      }
      if (mode != 0600 && ::fchmod(fd, mode) != 0) {
        const int saved = errno;
        ::unlink(name.c_str());
        ::close(fd);
        return make_error(errc::io, "cannot write " + target.string() + ": cannot set the mode of " + name +
                                        ": " + std::strerror(saved));
      }
      // Between creating and locking, a run cleaning stale temporaries may have removed it.
      if (same_file(fd, name)) return StagedFile(target, std::move(name), fd);
      ::close(fd);
    }
    return make_error(errc::io, "cannot write " + target.string() + ": its temporary file kept disappearing");
  }

  StagedFile(StagedFile&& other) noexcept
      : target_(std::move(other.target_)),
        path_(std::move(other.path_)),
        fd_(std::exchange(other.fd_, -1)),
        committed_(std::exchange(other.committed_, true)) {}
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  StagedFile& operator=(StagedFile&&) = delete;
  /// ~StagedFile removes the temporary and its side files unless it was committed; the lock
  /// goes with the descriptor, after the removal.
  ~StagedFile() {
    if (!committed_) {
      remove_side_files(path_);
      ::unlink(path_.c_str());
    }
    if (fd_ >= 0) ::close(fd_);
  }

  /// path is the temporary's path, to be written through fd() or opened by name.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// target is where commit puts the file.
  const std::filesystem::path& target() const noexcept { return target_; }
  /// fd is the open, locked temporary.
  int fd() const noexcept { return fd_; }

  /// write appends all of `text`; errc::io naming the target when the disk refuses.
  result<void> write(std::string_view text) {
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error("cannot write " + target_.string(), n < 0 ? errno : ENOSPC);
      written += static_cast<std::size_t>(n);
    }
    return ok();
  }

  /// commit syncs the temporary and renames it to the target: over an existing target when
  /// `replace`, else only when the target does not exist (errc::already_exists otherwise, decided
  /// atomically by the rename). Then it syncs the directory. errc::io when the disk refuses; the
  /// temporary is then removed by the destructor and the target left as it was.
  result<void> commit(bool replace) {
    if (::fsync(fd_) != 0) return io_error("cannot write " + target_.string(), errno);
    if (replace) {
      if (::rename(path_.c_str(), target_.c_str()) != 0)
        return io_error("cannot rename the new file to " + target_.string(), errno);
    } else if (::renameat2(AT_FDCWD, path_.c_str(), AT_FDCWD, target_.c_str(), RENAME_NOREPLACE) != 0) {
      if (errno == EEXIST)
        return make_error(errc::already_exists, "'" + target_.string() + "' already exists");
      if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return io_error("cannot rename the new file to " + target_.string(), errno);
      // A file system without RENAME_NOREPLACE: link() refuses an existing name just as atomically.
      if (::link(path_.c_str(), target_.c_str()) != 0) {
        if (errno == EEXIST)
          return make_error(errc::already_exists, "'" + target_.string() + "' already exists");
        return io_error("cannot rename the new file to " + target_.string(), errno);
      }
      ::unlink(path_.c_str());
    }
    committed_ = true;
    const int dir = ::open(staged_directory(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
    return ok();
  }

 private:
  StagedFile(std::filesystem::path target, std::string path, int fd)
      : target_(std::move(target)), path_(std::move(path)), fd_(fd) {}

  static error io_error(const std::string& what, int err) {
    return make_error(errc::io, what + ": " + std::strerror(err));
  }

  std::filesystem::path target_;
  std::filesystem::path path_;
  int fd_ = -1;
  bool committed_ = false;
};

/// write_file_atomically writes `text` to `target` through a StagedFile created with `mode`:
/// synced and renamed into place only once complete, over an existing file when `replace`, else
/// only when there is none (errc::already_exists otherwise, decided atomically). A failure
/// (errc::io naming the target) leaves no temporary and the target as it was.
inline result<void> write_file_atomically(const std::filesystem::path& target, std::string_view text,
                                          bool replace, mode_t mode = 0600) {
  auto file = StagedFile::create(target, mode);
  if (!file) return std::move(file).err();
  auto written = file->write(text);
  if (!written) return written;
  return file->commit(replace);
}

}  // namespace consentry::detail
