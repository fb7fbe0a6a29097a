// text_table.hpp: aligned plain-text tables for the terminal reports (staff audit, inventory).
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace consentry::report_detail {

/// utf8_length is the length of the well-formed UTF-8 sequence at the start of `text` (1 to 4),
/// or 0 when it does not start with one (a stray continuation byte, an overlong form, a
/// surrogate, a code point past U+10FFFF, or a sequence cut short).
inline std::size_t utf8_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned>(static_cast<unsigned char>(text[i])); };
  const unsigned lead = byte(0);
  if (lead < 0x80) return 1;
  std::size_t n = 0;
  unsigned lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;  // no overlong forms
    if (lead == 0xED) hi = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
  } else {
    return 0;
  }
  if (text.size() < n || byte(1) < lo || byte(1) > hi) return 0;
  for (std::size_t i = 2; i < n; ++i)
    if ((byte(i) & 0xC0) != 0x80) return 0;
  return n;
}

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
    const std::size_t n = utf8_length(text.substr(i));
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
