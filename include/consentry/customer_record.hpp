// customer_record.hpp: one customer's values to write, the unit of Vault::write and of imports.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "consentry/time.hpp"

namespace consentry {

/// Record is one customer's values to write, as read from an import line.
struct Record {
  std::string customer;
  std::string source;                                       ///< empty = "import"
  std::optional<timestamp> collected_at;                    ///< empty = now
  std::vector<std::pair<std::string, std::string>> fields;  ///< field name -> value text
  std::size_t line = 0;  ///< 1-based line in its file, 0 when not from a file
};

/// kMaxReportedBadLines is how many bad lines (or records) the error of an import or a write
/// lists; it counts the rest.
inline constexpr std::size_t kMaxReportedBadLines = 20;

}  // namespace consentry
