// forked_child.hpp: runs part of a test in a fork()ed child and brings back what it found.
#pragma once

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "consentry/result.hpp"

namespace consentry::test {

/// in_forked_child runs `body` (returning std::string) in a child forked from this process and
/// returns what it returned: by the tests' convention "" when all went as it should, else what
/// did not. The child ends with _exit, so nothing the parent made is destroyed there unless
/// `body` destroys it.
template <typename Body>
std::string in_forked_child(Body body) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    const std::string report = body();
    const bool sent = ::write(fds[1], report.data(), report.size()) == static_cast<ssize_t>(report.size());
    ::_exit(sent ? 0 : 1);
  }
  ::close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) report.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return "the child did not exit cleanly: " + report;
  return report;
}

/// refused_as_forked is "" when `r` failed as the use of a vault opened before a fork must
/// (errc::io, naming the fork), else what `what` did instead.
template <typename T>
std::string refused_as_forked(std::string_view what, const result<T>& r) {
  const std::string name(what);
  if (r.ok()) return name + " succeeded; ";
  if (r.err().code != errc::io) return name + " failed with another code: " + r.err().message + "; ";
  if (r.err().message.find("forked") == std::string::npos)
    return name + " failed without naming the fork: " + r.err().message + "; ";
  return "";
}

}  // namespace consentry::test
