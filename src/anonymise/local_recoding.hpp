// local_recoding.hpp (internal): local recoding after a full-domain generalisation. Cells are
// generalised per class rather than per column: each class of the full-domain release is split,
// top-down, into smaller classes whose cells are one hierarchy level more specific in one column,
// for as long as every class it makes is still acceptable. The release keeps its privacy models
// (they are checked on every class it ends with) and loses less information.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "consentry/anonymise/dataset.hpp"
#include "consentry/result.hpp"

namespace consentry::detail {

/// ClassAcceptable says whether a set of input rows may be released as one class (k, l-diversity,
/// t-closeness...). Supplied by the caller; must be callable many times, must depend only on the
/// set of rows (not on their order) and must not keep the span, which is valid during the call
/// only.
using ClassAcceptable = std::function<bool(std::span<const std::uint32_t> rows)>;

/// RecodeColumn is one quasi-identifier: its hierarchy and each input row's leaf (the row of the
/// hierarchy holding the row's value).
struct RecodeColumn {
  const Hierarchy* hierarchy = nullptr;  ///< not null; a tree (see Hierarchy)
  std::vector<std::uint32_t> leaf;       ///< per input row, an index into hierarchy->rows
};

/// CellLevels are the levels of a locally recoded release: [column][input row] -> the level of
/// the hierarchy the cell is generalised to. The cell's text is hierarchy->rows[leaf][level].
using CellLevels = std::vector<std::vector<std::uint32_t>>;

/// local_recode starts from the full-domain node `levels` (one level per column) and the rows it
/// releases (`released[r]` != 0), and specialises cells class by class.
///
/// The classes of the node are the released rows grouped by their labels at `levels`. A class
/// (its rows share one level per column) is split by lowering one column one level: its rows are
/// grouped by their label one level down, and the split is made only when every group is
/// acceptable (strict: a split that would leave any group unacceptable is not made, in part or
/// whole). Splitting repeats on the groups until none can be split. Of the splits a class admits,
/// the one that lowers the normalised certainty penalty the most is made (NCP of a cell: (leaves
/// under its label - 1) / (leaves of the hierarchy - 1)), ties going to the column that comes
/// first; so the result is deterministic. A split whose groups would carry a "shadowed" label,
/// one whose text also names a label covering other leaves at a higher level of the column (up
/// to levels[c]), is not made either, so that cells with equal texts always mean the same leaves
/// (hierarchies read by parse_hierarchy can hold such texts, e.g. a value that is also the name
/// of a group it is not in).
///
/// Guarantees, for the released rows:
/// - every class of the output (rows with equal texts in every column) is a group that a split
///   found acceptable, or a class of the node that no split applied to (acceptable when the
///   node's release was); the classes the splits end with are never merged in the output, see
///   local_recoding.cpp for the proof;
/// - every cell's level is at most levels[c], its label the generalisation of the row's own
///   value at that level;
/// - the output's total NCP is at most the node's (every split lowers it or keeps it).
/// Rows not released keep levels[c] in every column. The greedy top-down choice is a heuristic:
/// no other sequence of splits is considered, and no optimality is claimed.
///
/// Time O(N * q * (levels[0] + ... + levels[q-1])) plus the calls of `acceptable`, each on a
/// group of a split being tried (at most q tries per class), N rows and q columns.
///
/// errc::invalid_argument when `levels` or a column's `leaf` does not match the columns and
/// `released` in size, a hierarchy is null or has a row of another depth, a level is above its
/// hierarchy's top, a leaf is out of range, or a label at a level below levels[c] has two
/// different generalisations at the next (the hierarchy is not a tree).
result<CellLevels> local_recode(const std::vector<RecodeColumn>& columns,
                                const std::vector<std::uint32_t>& levels, const std::vector<char>& released,
                                const ClassAcceptable& acceptable);

}  // namespace consentry::detail
