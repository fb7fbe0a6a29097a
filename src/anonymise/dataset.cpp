// dataset.cpp: delimited text (RFC 4180) read into a Dataset and written back.
#include "consentry/anonymise/dataset.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <set>
#include <system_error>

#include "io/staged_file.hpp"

namespace consentry {

std::optional<std::size_t> Dataset::column_index(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return i;
  }
  return std::nullopt;
}

std::size_t Dataset::line_of(std::size_t row) const {
  return row < lines.size() ? lines[row] : row + 2;
}

std::string Dataset::where(std::size_t row) const {
  return source + ":" + std::to_string(line_of(row));
}

char detect_delimiter(std::string_view text) {
  constexpr std::array<char, 4> kCandidates{',', ';', '\t', '|'};
  std::array<std::size_t, 4> counts{};
  bool quoted = false;
  for (char c : text) {
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == '\n' || c == '\r')) break;
    if (quoted) continue;
    for (std::size_t i = 0; i < kCandidates.size(); ++i) {
      if (c == kCandidates[i]) ++counts[i];
    }
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < kCandidates.size(); ++i) {
    if (counts[i] > counts[best]) best = i;
  }
  return kCandidates[best];
}

result<std::vector<std::vector<std::string>>> parse_records(std::string_view text, char delimiter,
                                                            std::string_view source,
                                                            std::vector<std::size_t>& first_lines) {
  auto bad = [&](std::size_t line, std::string_view what) {
    return make_error(errc::bad_input,
                      std::string(source) + ":" + std::to_string(line) + ": " + std::string(what));
  };
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r')
    return make_error(errc::invalid_argument, "the delimiter cannot be a quote or a line break");
  std::vector<std::vector<std::string>> records;
  first_lines.clear();
  std::size_t line = 1;
  std::size_t i = 0;
  const std::size_t n = text.size();
  // A UTF-8 byte order mark before the header is not part of the first column's name.
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  while (i < n) {
    // Skip empty lines (LF or CRLF).
    if (text[i] == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') {
      ++line;
      i += 2;
      continue;
    }
    const std::size_t record_line = line;
    std::vector<std::string> cells;
    std::string cell;
    bool end_of_record = false;
    while (!end_of_record) {
      cell.clear();
      if (i < n && text[i] == '"') {
        const std::size_t quote_line = line;
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              cell += '"';
              i += 2;
              continue;
            }
            ++i;
            closed = true;
            break;
          }
          if (c == '\n') ++line;
          cell += c;
          ++i;
        }
        if (!closed) return bad(quote_line, "a quoted field is not closed");
        if (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r')
          return bad(line, "text follows a closing quote");
      } else {
        while (i < n && text[i] != delimiter && text[i] != '\n' && text[i] != '\r') {
          if (text[i] == '"') return bad(line, "a quote inside an unquoted field");
          cell += text[i];
          ++i;
        }
      }
      cells.push_back(cell);
      if (i >= n) {
        end_of_record = true;
      } else if (text[i] == delimiter) {
        ++i;
      } else if (text[i] == '\n') {
        ++line;
        ++i;
        end_of_record = true;
      } else {  // '\r'
        if (i + 1 < n && text[i + 1] == '\n') {
          i += 2;
          ++line;
          end_of_record = true;
        } else {
          return bad(line, "a carriage return outside quotes that does not end the line");
        }
      }
    }
    records.push_back(std::move(cells));
    first_lines.push_back(record_line);
  }
  return records;
}

result<Dataset> parse_dataset(std::string_view text, char delimiter, std::string source) {
  std::vector<std::size_t> lines;
  auto records = parse_records(text, delimiter, source, lines);
  if (!records) return std::move(records).err();
  if (records->empty()) return make_error(errc::bad_input, source + ":1: no header row");
  Dataset data;
  data.source = std::move(source);
  data.columns = std::move(records->front());
  std::set<std::string, std::less<>> names;
  for (std::size_t c = 0; c < data.columns.size(); ++c) {
    if (data.columns[c].empty())
      return make_error(errc::bad_input, data.source + ":" + std::to_string(lines[0]) + ": column " +
                                             std::to_string(c + 1) + " of the header has no name");
    if (!names.insert(data.columns[c]).second)
      return make_error(errc::bad_input, data.source + ":" + std::to_string(lines[0]) +
                                             ": the header names column '" + data.columns[c] + "' twice");
  }
  data.rows.reserve(records->size() - 1);
  data.lines.reserve(records->size() - 1);
  for (std::size_t r = 1; r < records->size(); ++r) {
    auto& cells = (*records)[r];
    if (cells.size() != data.columns.size())
      return make_error(errc::bad_input, data.source + ":" + std::to_string(lines[r]) + ": the row has " +
                                             std::to_string(cells.size()) + " cells, the header " +
                                             std::to_string(data.columns.size()));
    data.rows.push_back(std::move(cells));
    data.lines.push_back(lines[r]);
  }
  return data;
}

namespace {

// A dataset is read whole and held in memory several times over while it is anonymised; a
// hierarchy is a small table of labels. Larger files are refused before they are read.
constexpr std::uint64_t kMaxDatasetBytes = std::uint64_t{1} << 30;
constexpr std::uint64_t kMaxHierarchyBytes = std::uint64_t{64} << 20;

// slurp returns the whole of `file`, a regular file of at most `limit` bytes (`limit_text` in
// words). A directory, device or pipe is bad input naming the file, refused before it is read.
result<std::string> slurp(const std::filesystem::path& file, std::uint64_t limit,
                          std::string_view limit_text) {
  const std::string name = file.string();
  // O_NONBLOCK: opening a pipe with no writer must not hang before it can be refused.
  const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return make_error(errc::bad_input, name + ": no such file");
    return make_error(errc::io, name + ": cannot be read: " + std::strerror(errno));
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return make_error(errc::io, name + ": cannot be read: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return make_error(errc::bad_input, name + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    return make_error(errc::bad_input,
                      name + ": not a regular file (a device or a pipe cannot be read twice)");
  const auto too_large = [&] {
    return make_error(errc::bad_input, name + ": larger than " + std::string(limit_text));
  };
  if (st.st_size < 0 || static_cast<std::uint64_t>(st.st_size) > limit) return too_large();
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error(errc::io, name + ": cannot be read: " + std::strerror(errno));
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > limit) return too_large();  // the file grew while it was read
  }
  return text;
}

bool needs_quotes(std::string_view cell, char delimiter) {
  if (cell.empty()) return false;
  if (cell.front() == ' ' || cell.back() == ' ') return true;
  // Reading drops a byte order mark at the start of the text, but not inside quotes.
  if (cell.starts_with("\xEF\xBB\xBF")) return true;
  for (char c : cell) {
    if (c == delimiter || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

void append_cell(std::string& out, std::string_view cell, char delimiter) {
  if (!needs_quotes(cell, delimiter)) {
    out += cell;
    return;
  }
  out += '"';
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

void append_record(std::string& out, const std::vector<std::string>& cells, char delimiter) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += delimiter;
    append_cell(out, cells[i], delimiter);
  }
  // A record of one empty cell would read back as an empty line, which parsing skips.
  if (cells.size() == 1 && cells[0].empty()) out += "\"\"";
  out += '\n';
}

}  // namespace

result<Dataset> read_dataset(const std::filesystem::path& file, std::optional<char> delimiter) {
  auto text = slurp(file, kMaxDatasetBytes, "1 GiB");
  if (!text) return std::move(text).err();
  return parse_dataset(*text, delimiter ? *delimiter : detect_delimiter(*text), file.string());
}

std::string format_dataset(const Dataset& data, char delimiter) {
  std::string out;
  append_record(out, data.columns, delimiter);
  for (const auto& row : data.rows) append_record(out, row, delimiter);
  return out;
}

result<void> write_dataset(const Dataset& data, const std::filesystem::path& file, char delimiter) {
  // Temporaries of runs killed while writing this file hold customer data: they go first.
  detail::remove_stale_staged_files(file);
  return detail::write_file_atomically(file, format_dataset(data, delimiter), /*replace=*/true);
}

result<Hierarchy> read_hierarchy(const std::filesystem::path& file, char delimiter) {
  auto text = slurp(file, kMaxHierarchyBytes, "64 MiB");
  if (!text) return std::move(text).err();
  return parse_hierarchy(*text, delimiter, file.string());
}

std::filesystem::path hierarchy_file(const std::filesystem::path& dir, std::string_view prefix,
                                     std::string_view column) {
  return dir / (std::string(prefix) + "_hierarchy_" + std::string(column) + ".csv");
}

}  // namespace consentry
