// verify_report.hpp: checking what verify_audit_log reported about a one-chain log.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "consentry/audit.hpp"

namespace consentry::test {

/// check_bad checks that `r` finds the log damaged, first at seq `first_bad`, and that its
/// problem says `problem_part`.
inline void check_bad(const AuditVerification& r, std::int64_t first_bad, std::string_view problem_part) {
  CAPTURE(r.problem);
  CHECK_FALSE(r.ok);
  CHECK(r.first_bad_seq == first_bad);
  CHECK(r.problem.find(problem_part) != std::string::npos);
}

/// check_intact checks that `r` finds the log intact, with `entries` entries and `checkpoints`
/// checkpoints checked.
inline void check_intact(const AuditVerification& r, std::int64_t entries, std::int64_t checkpoints) {
  CAPTURE(r.problem);
  CHECK(r.ok);
  CHECK(r.entries == entries);
  CHECK(r.checkpoints == checkpoints);
}

}  // namespace consentry::test
