// local_recoding.cpp: local recoding after a full-domain generalisation (see local_recoding.hpp).
//
// Each column's hierarchy is coded per level (label text -> code), with the leaves under each
// label. The released rows are grouped into the classes of the node; then each class is taken
// from a stack and either split (its groups go back on the stack) or settled, its rows keeping the
// class's levels. The split of a class is chosen among its columns above level 0, in decreasing
// NCP gain (exact rational comparison), ties to the first column, and the first whose groups are
// all acceptable is made. Each class costs O(size * q) to rank its columns and O(size) per try, and
// a row is in at most levels[0] + ... + levels[q-1] classes along its way down: the whole is
// O(N * q * sum of levels), never quadratic in N.
//
// Why the classes the splits end with stay apart in the output. Write cover(x) for the set of
// leaves under the label x. In a tree hierarchy every leaf has exactly one label per level, so
// (a) two different labels at the same level have disjoint covers, and (b) the label of a leaf at a
// level j covers a subset of the cover of its label at any level above j. Take rows r and s that
// end in different classes; all rows of a class share one level per column, since a split lowers
// a whole group. Either
// - r and s were in different classes of the node: they differ at levels[c] in some column c, so
//   their labels there have disjoint covers (a); or
// - a split of a class holding both lowered some column c from level j to j - 1 and put them in
//   different groups: their labels at j - 1 differ, and have disjoint covers (a).
// In column c, every later split only lowers the level of r's and s's cells further, so by (b) the
// covers of their final labels are inside those disjoint covers: disjoint, and not empty (each
// holds the row's own leaf), so the final labels are different labels. Their texts differ too:
// at one level, different labels have different texts (codes are assigned by text); at two
// levels a < b, the label at a lies below levels[c] and so came from a split, which is refused
// when a label it makes is "shadowed" (its text names a label covering other leaves at a higher
// level up to levels[c]); so its text at level b names a label of the same cover, which the other
// label, its cover disjoint from it, is not. Hence two final classes always differ in the text of some
// column, the output's classes (rows with equal texts) are exactly the final classes, and each of those was
// accepted (by the split that made it) or is a class of the node that was never split.
#include "local_recoding.hpp"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace consentry::detail {
namespace {

__extension__ typedef unsigned __int128 u128;

/// kNoCode marks a label whose generalisation has not been seen yet.
constexpr std::uint32_t kNoCode = std::numeric_limits<std::uint32_t>::max();

/// CodedColumn is one column's hierarchy as codes, levels 0..top (the node's level).
struct CodedColumn {
  std::uint64_t domain = 0;                              ///< leaves of the hierarchy
  const std::vector<std::uint32_t>* leaf = nullptr;      ///< per input row
  std::vector<std::vector<std::uint32_t>> code;          ///< [level][leaf] -> label code
  std::vector<std::vector<std::uint32_t>> leaves_under;  ///< [level][code] -> leaves it covers
  std::vector<std::vector<char>> shadowed;  ///< [level][code]: its text names other leaves higher up
};

/// code_column codes levels 0..top of `column`, checks that they form a tree, and marks the
/// shadowed labels. `name` names the column in messages.
result<CodedColumn> code_column(const RecodeColumn& column, std::uint32_t top, const std::string& name) {
  const Hierarchy& h = *column.hierarchy;
  CodedColumn out;
  out.domain = h.rows.size();
  out.leaf = &column.leaf;
  out.code.resize(top + 1);
  out.leaves_under.resize(top + 1);
  out.shadowed.resize(top + 1);
  std::vector<std::vector<std::uint32_t>> some_leaf(top + 1);  // [level][code] -> a leaf under it
  // Every (level, code) a text names, in increasing level.
  std::unordered_map<std::string_view, std::vector<std::pair<std::uint32_t, std::uint32_t>>> named;
  for (std::uint32_t j = 0; j <= top; ++j) {
    std::unordered_map<std::string_view, std::uint32_t> codes;
    out.code[j].resize(h.rows.size());
    for (std::size_t leaf = 0; leaf < h.rows.size(); ++leaf) {
      const std::string_view text = h.rows[leaf][j];
      auto [it, added] = codes.emplace(text, static_cast<std::uint32_t>(codes.size()));
      if (added) {
        out.leaves_under[j].push_back(0);
        some_leaf[j].push_back(static_cast<std::uint32_t>(leaf));
        named[text].emplace_back(j, it->second);
      }
      out.code[j][leaf] = it->second;
      ++out.leaves_under[j][it->second];
    }
    out.shadowed[j].assign(codes.size(), 0);
  }
  for (std::uint32_t j = 0; j < top; ++j) {
    std::vector<std::uint32_t> parent(out.leaves_under[j].size(), kNoCode);
    for (std::size_t leaf = 0; leaf < h.rows.size(); ++leaf) {
      std::uint32_t& p = parent[out.code[j][leaf]];
      if (p == kNoCode) p = out.code[j + 1][leaf];
      if (p != out.code[j + 1][leaf])
        return make_error(errc::invalid_argument, name + ": a label at level " + std::to_string(j) + " of " +
                                                      h.source + " has two generalisations at level " +
                                                      std::to_string(j + 1));
    }
  }
  // Two labels at levels a < b cover the same leaves when the one at a lies under the one at b
  // and they cover as many. A label is shadowed when its text names, at a higher level, a label
  // of another cover. A text names at most top + 1 labels, one per level, so this is quadratic in
  // the levels only.
  for (const auto& [text, labels] : named) {
    for (std::size_t i = 0; i + 1 < labels.size(); ++i) {
      const auto [low, low_code] = labels[i];
      for (std::size_t up = i + 1; up < labels.size(); ++up) {
        const auto [high, high_code] = labels[up];
        if (out.leaves_under[high][high_code] != out.leaves_under[low][low_code] ||
            out.code[high][some_leaf[low][low_code]] != high_code)
          out.shadowed[low][low_code] = 1;
      }
    }
  }
  return out;
}

/// Class is a class being recoded: the rows order[begin, end) and their levels, one per column.
struct Class {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::vector<std::uint32_t> levels;
};

/// Candidate is a split a class may take: lowering `column`, the NCP it saves as the fraction
/// `gain` / `per`.
struct Candidate {
  std::size_t column = 0;
  u128 gain = 0;
  u128 per = 1;
};

/// Recoder holds the coded columns, the row order and the scratch of the grouping.
class Recoder {
 public:
  Recoder(const std::vector<CodedColumn>& cols, const ClassAcceptable& acceptable, CellLevels& out)
      : cols_(cols), acceptable_(acceptable), out_(out) {
    std::size_t widest = 0;
    for (const auto& c : cols_) {
      for (const auto& under : c.leaves_under) widest = std::max(widest, under.size());
    }
    slot_.assign(widest, 0);
  }

  /// run recodes the released rows from the node `levels`.
  void run(std::vector<std::uint32_t> rows, const std::vector<std::uint32_t>& levels) {
    order_ = std::move(rows);
    std::vector<Class> classes{Class{0, order_.size(), levels}};
    // The classes of the node: the rows grouped column by column by their labels at `levels`.
    for (std::size_t c = 0; c < cols_.size(); ++c) {
      std::vector<Class> finer;
      for (const Class& e : classes) {
        group(e, c, levels[c]);
        std::copy(grouped_.begin(), grouped_.end(), order_.begin() + static_cast<std::ptrdiff_t>(e.begin));
        for (std::size_t g = 0; g + 1 < bounds_.size(); ++g)
          finer.push_back(Class{e.begin + bounds_[g], e.begin + bounds_[g + 1], levels});
      }
      classes = std::move(finer);
    }
    std::reverse(classes.begin(), classes.end());
    stack_ = std::move(classes);
    while (!stack_.empty()) {
      Class e = std::move(stack_.back());
      stack_.pop_back();
      if (!split(e)) settle(e);
    }
  }

 private:
  /// split makes the best split of `e` whose groups are all acceptable, pushing them; false when
  /// there is none.
  bool split(const Class& e) {
    rank(e);
    for (const Candidate& cand : candidates_) {
      const std::size_t c = cand.column;
      group(e, c, e.levels[c] - 1);
      bool all = true;
      for (std::size_t g = 0; g + 1 < bounds_.size() && all; ++g) {
        all = acceptable_(
            std::span<const std::uint32_t>(grouped_.data() + bounds_[g], bounds_[g + 1] - bounds_[g]));
      }
      if (!all) continue;
      std::copy(grouped_.begin(), grouped_.end(), order_.begin() + static_cast<std::ptrdiff_t>(e.begin));
      for (std::size_t g = bounds_.size() - 1; g-- > 0;) {
        Class part{e.begin + bounds_[g], e.begin + bounds_[g + 1], e.levels};
        --part.levels[c];
        stack_.push_back(std::move(part));
      }
      return true;
    }
    return false;
  }

  /// rank fills candidates_ with the columns `e` may lower, best NCP gain first, ties to the
  /// first column. A column whose lowered labels would include a shadowed one is left out.
  void rank(const Class& e) {
    candidates_.clear();
    const std::uint32_t first = order_[e.begin];
    for (std::size_t c = 0; c < cols_.size(); ++c) {
      const std::uint32_t level = e.levels[c];
      if (level == 0) continue;
      const CodedColumn& col = cols_[c];
      const std::vector<std::uint32_t>& leaf = *col.leaf;
      const std::vector<std::uint32_t>& down = col.code[level - 1];
      const std::vector<std::uint32_t>& under = col.leaves_under[level - 1];
      const std::vector<char>& shadowed = col.shadowed[level - 1];
      // Every row of the class has one label at `level`.
      const std::uint64_t above = col.leaves_under[level][col.code[level][leaf[first]]];
      u128 gain = 0;
      bool blocked = false;
      for (std::size_t i = e.begin; i < e.end; ++i) {
        const std::uint32_t d = down[leaf[order_[i]]];
        if (shadowed[d]) {
          blocked = true;
          break;
        }
        gain += above - under[d];
      }
      if (blocked) continue;
      candidates_.push_back(Candidate{c, gain, col.domain > 1 ? col.domain - 1 : 1});
    }
    std::sort(candidates_.begin(), candidates_.end(), [](const Candidate& a, const Candidate& b) {
      const u128 lhs = a.gain * b.per;
      const u128 rhs = b.gain * a.per;
      if (lhs != rhs) return lhs > rhs;
      return a.column < b.column;
    });
  }

  /// group orders the rows of `e` by their label at `level` of column `c` (labels by code, rows
  /// in their order within a label) into grouped_, with the groups' starts and the end in bounds_.
  void group(const Class& e, std::size_t c, std::uint32_t level) {
    const std::vector<std::uint32_t>& leaf = *cols_[c].leaf;
    const std::vector<std::uint32_t>& code = cols_[c].code[level];
    touched_.clear();
    for (std::size_t i = e.begin; i < e.end; ++i) {
      const std::uint32_t k = code[leaf[order_[i]]];
      if (slot_[k]++ == 0) touched_.push_back(k);
    }
    std::sort(touched_.begin(), touched_.end());
    bounds_.clear();
    std::size_t at = 0;
    for (const std::uint32_t k : touched_) {
      bounds_.push_back(at);
      const std::size_t count = slot_[k];
      slot_[k] = at;
      at += count;
    }
    bounds_.push_back(at);
    grouped_.resize(e.end - e.begin);
    for (std::size_t i = e.begin; i < e.end; ++i) {
      const std::uint32_t r = order_[i];
      grouped_[slot_[code[leaf[r]]]++] = r;
    }
    for (const std::uint32_t k : touched_) slot_[k] = 0;
  }

  /// settle writes the levels of `e` for its rows.
  void settle(const Class& e) {
    for (std::size_t c = 0; c < cols_.size(); ++c) {
      for (std::size_t i = e.begin; i < e.end; ++i) out_[c][order_[i]] = e.levels[c];
    }
  }

  const std::vector<CodedColumn>& cols_;
  const ClassAcceptable& acceptable_;
  CellLevels& out_;
  std::vector<std::uint32_t> order_;  ///< the released rows, each class contiguous
  std::vector<Class> stack_;
  std::vector<Candidate> candidates_;
  // Scratch of group().
  std::vector<std::size_t> slot_;  ///< [code] -> count, then next position; zero between calls
  std::vector<std::uint32_t> touched_;
  std::vector<std::size_t> bounds_;
  std::vector<std::uint32_t> grouped_;
};

}  // namespace

result<CellLevels> local_recode(const std::vector<RecodeColumn>& columns,
                                const std::vector<std::uint32_t>& levels, const std::vector<char>& released,
                                const ClassAcceptable& acceptable) {
  const std::size_t q = columns.size();
  const std::size_t n = released.size();
  if (levels.size() != q)
    return make_error(errc::invalid_argument, "local recoding needs one level per column (" +
                                                  std::to_string(levels.size()) + " for " +
                                                  std::to_string(q) + " columns)");
  if (n > std::numeric_limits<std::uint32_t>::max())
    return make_error(errc::invalid_argument, "local recoding takes at most 2^32 - 1 rows");
  std::vector<CodedColumn> coded;
  coded.reserve(q);
  for (std::size_t c = 0; c < q; ++c) {
    const std::string name = "column " + std::to_string(c);
    const RecodeColumn& col = columns[c];
    if (col.hierarchy == nullptr) return make_error(errc::invalid_argument, name + " has no hierarchy");
    const Hierarchy& h = *col.hierarchy;
    if (col.leaf.size() != n)
      return make_error(errc::invalid_argument,
                        name + " has " + std::to_string(col.leaf.size()) + " rows, not " + std::to_string(n));
    if (levels[c] >= h.levels())
      return make_error(errc::invalid_argument,
                        name + ": level " + std::to_string(levels[c]) + " is above the top of " + h.source);
    for (const auto& row : h.rows) {
      if (row.size() != h.levels())
        return make_error(errc::invalid_argument, name + ": the rows of " + h.source + " differ in depth");
    }
    for (const std::uint32_t leaf : col.leaf) {
      if (leaf >= h.rows.size())
        return make_error(errc::invalid_argument, name + ": a leaf is out of the range of " + h.source);
    }
    auto coded_column = code_column(col, levels[c], name);
    if (!coded_column) return std::move(coded_column).err();
    coded.push_back(std::move(coded_column).value());
  }

  CellLevels out(q);
  for (std::size_t c = 0; c < q; ++c) out[c].assign(n, levels[c]);
  std::vector<std::uint32_t> rows;
  for (std::size_t r = 0; r < n; ++r) {
    if (released[r]) rows.push_back(static_cast<std::uint32_t>(r));
  }
  if (q == 0 || rows.empty()) return out;
  Recoder recoder(coded, acceptable, out);
  recoder.run(std::move(rows), levels);
  return out;
}

}  // namespace consentry::detail
