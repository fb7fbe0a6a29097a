// anonymise/dataset.hpp: a table of strings read from a delimited file, and the generalisation
// hierarchies that k-anonymisation climbs.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/result.hpp"

namespace consentry {

/// Dataset is a table of strings: a header of column names and rows of cells, each row with the
/// line of its source it started on, so that messages can name "file:line" and never a cell.
struct Dataset {
  std::string source;                          ///< file (or origin) named in messages
  std::vector<std::string> columns;            ///< the header, unique names
  std::vector<std::vector<std::string>> rows;  ///< each has columns.size() cells
  std::vector<std::size_t> lines;              ///< 1-based source line of each row; may be empty

  /// column_index returns the position of the column `name`, or nothing when there is none.
  std::optional<std::size_t> column_index(std::string_view name) const;
  /// line_of returns the source line of row `row`: lines[row], or row + 2 (after the header)
  /// when `lines` was not filled.
  std::size_t line_of(std::size_t row) const;
  /// where names row `row` for a message: "source:line".
  std::string where(std::size_t row) const;
};

/// detect_delimiter picks the delimiter of a delimited text from its first line: the most
/// frequent of ',', ';', '\t' and '|' outside quotes, ',' when none occurs.
char detect_delimiter(std::string_view text);

/// parse_records splits delimited text into records of cells per RFC 4180: a field in double
/// quotes may hold the delimiter, line breaks and doubled quotes (""); lines end in LF or CRLF.
/// Empty lines are skipped. `first_lines` receives the 1-based line each record starts on.
/// errc::bad_input naming "source:line" for an unterminated quoted field, a quote inside an
/// unquoted field, or text after a closing quote; never quoting the text.
result<std::vector<std::vector<std::string>>> parse_records(std::string_view text, char delimiter,
                                                            std::string_view source,
                                                            std::vector<std::size_t>& first_lines);

/// parse_dataset reads delimited text whose first record is the header. errc::bad_input naming
/// "source:line" for a malformed record, a row whose cell count differs from the header's, an
/// empty or duplicate column name, or a text without a header.
result<Dataset> parse_dataset(std::string_view text, char delimiter, std::string source);

/// read_dataset reads `file` with parse_dataset, with `delimiter` or, when none is given, the one
/// detect_delimiter finds. errc::bad_input naming the file when it is not a regular file or is
/// larger than 1 GiB, errc::io when it cannot be read; the source is the path as given.
result<Dataset> read_dataset(const std::filesystem::path& file, std::optional<char> delimiter = std::nullopt);

/// format_dataset renders the header and rows as delimited text with LF line ends, quoting (RFC
/// 4180) every cell that holds the delimiter, a quote, CR or LF, starts or ends with a space, or
/// starts with a UTF-8 byte order mark.
std::string format_dataset(const Dataset& data, char delimiter);

/// write_dataset writes format_dataset(data) to `file` through a unique temporary beside it
/// (".<name>.partial-XXXXXX", mode 0600), synced and renamed over `file`, so that a failed write
/// leaves no file behind; temporaries that killed runs left for `file` are removed first.
/// errc::io on failure.
result<void> write_dataset(const Dataset& data, const std::filesystem::path& file, char delimiter);

/// Hierarchy is the generalisation hierarchy of one column: one row per value the column may
/// hold, most specific first: rows[i][0] is the value itself and rows[i][j] its generalisation at
/// level j (the last level is usually "*"). Every row has the same number of levels, and a label
/// at level j >= 1 has one generalisation at level j + 1, so the levels form a tree.
struct Hierarchy {
  std::string source;                          ///< file named in messages
  std::vector<std::vector<std::string>> rows;  ///< one row per leaf value
  std::vector<std::size_t> lines;              ///< 1-based source line of each row

  /// levels is the number of levels, the values themselves (level 0) included; 0 when empty.
  std::size_t levels() const noexcept { return rows.empty() ? 0 : rows.front().size(); }
};

/// parse_hierarchy reads a hierarchy from delimited text, one row per value, no header.
/// errc::bad_input naming "source:line" for a malformed record, an empty file, rows of unequal
/// depth, a value listed twice, an empty label, or a label with two different generalisations.
result<Hierarchy> parse_hierarchy(std::string_view text, char delimiter, std::string source);

/// read_hierarchy reads `file` with parse_hierarchy. errc::bad_input naming the file when it does
/// not exist, is not a regular file or is larger than 64 MiB, errc::io when it cannot be read.
result<Hierarchy> read_hierarchy(const std::filesystem::path& file, char delimiter);

/// hierarchy_file is where the hierarchy of `column` is looked for:
/// `dir`/`prefix`_hierarchy_`column`.csv (adult_hierarchy_age.csv for adult.csv's age).
std::filesystem::path hierarchy_file(const std::filesystem::path& dir, std::string_view prefix,
                                     std::string_view column);

}  // namespace consentry
