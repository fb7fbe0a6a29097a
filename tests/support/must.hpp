// must.hpp: unwrapping results that a test needs to have succeeded.
#pragma once

#include <doctest/doctest.h>

#include <utility>

#include "consentry/result.hpp"

namespace consentry::test {

/// must returns the value of `r`, failing the test with the error's message when there is none.
template <class T>
T must(result<T> r) {
  if (!r) FAIL(r.err().message);
  return std::move(r).value();
}

/// must fails the test with the error's message when `r` holds an error.
inline void must(result<void> r) {
  if (!r) FAIL(r.err().message);
}

}  // namespace consentry::test
