// injected_faults.hpp: failing the SQLite store's file operations on purpose, through the
// scrubbing VFS's test hook (src/store/fault_injection.hpp).
#pragma once

#include <cstdint>

#include "../../src/store/fault_injection.hpp"

namespace consentry::test {

using detail::FaultPlan;
using detail::FileOp;

/// InjectedFaults installs `plan` for its lifetime: every SQLite store of the process (and its
/// WAL, journals and backup copies) follows it until the InjectedFaults is destroyed.
class InjectedFaults {
 public:
  explicit InjectedFaults(FaultPlan& plan) noexcept : previous_(detail::install_fault_plan(&plan)) {}
  ~InjectedFaults() { detail::install_fault_plan(previous_); }
  InjectedFaults(const InjectedFaults&) = delete;
  InjectedFaults& operator=(const InjectedFaults&) = delete;

 private:
  FaultPlan* previous_;
};

}  // namespace consentry::test
