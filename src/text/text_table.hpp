// text_table.hpp: the one aligned plain-text table printer, for the terminal reports (staff
// audit, inventory) and the consentry command, and the escaping of text bound for a terminal.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "utf8.hpp"

namespace consentry::detail {

/// terminal_safe replaces control characters with a visible \xNN escape of each byte: the C0
/// controls (ESC, CR, LF, BEL, ...), DEL, the C1 controls U+0080 to U+009F (CSI, NEL, ...) and
/// bytes that are not well-formed UTF-8 (which some terminals take for C1 controls). Text from a
/// store or an import thus cannot move the cursor, retitle the window or fake a line of the
/// report; other text, in any script, is left as it is.
inline std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02x", c);
    out += buf;
  };
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t n = utf8_decode(text, i).second;
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (n == 0) {
      escape(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f || c1) {
      for (std::size_t k = 0; k < n; ++k) escape(static_cast<unsigned char>(text[i + k]));
      i += n;
    } else {
      out.append(text, i, n);
      i += n;
    }
  }
  return out;
}

/// display_width counts the code points of UTF-8 text: a fair column width for the letters of
/// most scripts (wide CJK characters are counted as one).
inline std::size_t display_width(std::string_view text) {
  return utf8_code_points(text);
}

/// TextTable collects rows and renders them with every column padded to its widest cell (in
/// code points, not bytes); the last column is not padded. Cells pass through terminal_safe. A
/// table made with headings renders them first with a rule under them, gives every row exactly
/// as many cells as headings, and trims the spaces that end a line; a table made without
/// headings prints its rows as given, and a line's text as it is (a stored value may end in a
/// space).
class TextTable {
 public:
  /// TextTable() is a table without a heading row.
  TextTable() = default;
  /// TextTable(headings) is a table with a heading row and a rule under it.
  explicit TextTable(std::vector<std::string> headings) : headings_(std::move(headings)), headed_(true) {}

  /// add appends one row; with headings, missing cells are empty and extra cells are dropped.
  void add(std::vector<std::string> row) {
    if (headed_) row.resize(headings_.size());
    for (auto& cell : row) cell = terminal_safe(cell);
    rows_.push_back(std::move(row));
  }

  bool empty() const noexcept { return rows_.empty(); }

  /// render gives the table, each line starting with `indent` and ending in '\n'.
  std::string render(std::string_view indent) const {
    std::vector<std::size_t> width(headings_.size(), 0);
    for (std::size_t i = 0; i < headings_.size(); ++i) width[i] = display_width(headings_[i]);
    for (const auto& row : rows_) {
      if (width.size() < row.size()) width.resize(row.size(), 0);
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));
    }

    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text(indent);
      for (std::size_t i = 0; i < cells.size(); ++i) {
        text += cells[i];
        if (i + 1 < cells.size()) text.append(width[i] - display_width(cells[i]) + 2, ' ');
      }
      if (headed_)
        while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + '\n';
    };
    if (headed_) {
      line(headings_);
      std::vector<std::string> rule;
      for (std::size_t w : width) rule.emplace_back(w, '-');
      line(rule);
    }
    for (const auto& row : rows_) line(row);
    return out;
  }
  /// render with `indent` spaces before each line.
  std::string render(std::size_t indent = 2) const { return render(std::string(indent, ' ')); }

 private:
  std::vector<std::string> headings_;
  bool headed_ = false;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace consentry::detail
