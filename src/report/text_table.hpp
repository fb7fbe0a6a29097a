// text_table.hpp: aligned plain-text tables for the terminal reports (staff audit, inventory).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace consentry::report_detail {

/// terminal_safe replaces control characters (ESC, CR, LF, DEL, ...) with a visible \xNN escape,
/// so that text from a store or an import cannot move the cursor or fake a line of the report.
inline std::string terminal_safe(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

/// display_width counts the code points of UTF-8 text: a fair column width for the letters of
/// most scripts (wide CJK characters are counted as one).
inline std::size_t display_width(std::string_view text) {
  std::size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

/// TextTable collects rows and renders them with every column padded to its widest cell, a
/// heading row and a rule under it. Cells pass through terminal_safe.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> headings) : headings_(std::move(headings)) {}

  /// add appends one row; missing cells are empty, extra cells are dropped.
  void add(std::vector<std::string> row) {
    row.resize(headings_.size());
    for (auto& cell : row) cell = terminal_safe(cell);
    rows_.push_back(std::move(row));
  }

  bool empty() const noexcept { return rows_.empty(); }

  /// render gives the table, each line indented by `indent` spaces and ending in '\n'.
  std::string render(std::size_t indent = 2) const {
    std::vector<std::size_t> width(headings_.size(), 0);
    for (std::size_t i = 0; i < headings_.size(); ++i) width[i] = display_width(headings_[i]);
    for (const auto& row : rows_)
      for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], display_width(row[i]));

    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
      std::string text(indent, ' ');
      for (std::size_t i = 0; i < cells.size(); ++i) {
        text += cells[i];
        if (i + 1 < cells.size()) text.append(width[i] - display_width(cells[i]) + 2, ' ');
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      out += text + '\n';
    };
    line(headings_);
    std::vector<std::string> rule;
    for (std::size_t w : width) rule.emplace_back(w, '-');
    line(rule);
    for (const auto& row : rows_) line(row);
    return out;
  }

 private:
  std::vector<std::string> headings_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace consentry::report_detail
