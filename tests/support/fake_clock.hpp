// fake_clock.hpp: a clock a test moves by hand, shared by every vault of the test.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "consentry/time.hpp"

namespace consentry::test {

/// FakeClock starts at a fixed instant (2027-01-15) and moves only when advanced; fn() gives
/// the VaultOptions::clock that reads it.
struct FakeClock {
  std::shared_ptr<timestamp> t =
      std::make_shared<timestamp>(timestamp{} + std::chrono::seconds(1'800'000'000));
  std::function<timestamp()> fn() const {
    auto p = t;
    return [p] { return *p; };
  }
  void advance(std::chrono::seconds d) { *t += d; }
};

}  // namespace consentry::test
