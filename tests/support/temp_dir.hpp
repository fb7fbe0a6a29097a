// temp_dir.hpp: a fresh temporary directory for one test, removed with everything in it.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace consentry::test {

/// TempDir is a fresh, empty directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  /// TempDir creates <temp>/<prefix>-<pid>-<n>, with n counting the directories of this process.
  explicit TempDir(std::string_view prefix = "consentry-test") {
    static std::atomic<int> n{0};
    path_ = std::filesystem::temp_directory_path() /
            (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path_);
    REQUIRE(std::filesystem::create_directories(path_));
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  /// path is the directory.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace consentry::test
