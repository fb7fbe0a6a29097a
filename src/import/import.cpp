// import.cpp: JSON Lines and CSV records for Vault::write. Messages name the file and line and
// describe the problem without quoting the value.
#include "consentry/import.hpp"

#include <algorithm>
#include <ios>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "consentry/report.hpp"
#include "json/json_reader.hpp"
#include "text/error_list.hpp"

namespace consentry {
namespace {

// ordered_json keeps the fields in the order the line gives them.
using json = nlohmann::ordered_json;

constexpr std::size_t kMaxLineBytes = 1 << 20;

enum class LineRead { line, end, too_long, failed };

// read_line reads one line of `in` into `text`, without its '\n', holding no more than `limit`
// bytes of it: a longer line is reported as too_long once its first limit + 1 bytes are read,
// so a file of one endless line (/dev/zero) costs no more memory than the limit.
LineRead read_line(std::istream& in, std::string& text, std::size_t limit) {
  text.clear();
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr || !in.good()) return LineRead::end;
  try {
    for (;;) {
      const int c = buf->sbumpc();
      if (c == std::char_traits<char>::eof()) {
        in.setstate(std::ios::eofbit);
        return text.empty() ? LineRead::end : LineRead::line;
      }
      if (c == '\n') return LineRead::line;
      if (text.size() == limit) return LineRead::too_long;
      text.push_back(static_cast<char>(c));
    }
  } catch (const std::ios_base::failure&) {
    // A file stream throws from its buffer when the read fails (a directory, an I/O error).
    in.setstate(std::ios::badbit);
    return LineRead::failed;
  }
}

error bad(std::string_view origin, std::size_t line, const std::string& what) {
  return make_error(errc::bad_input, std::string(origin) + ":" + std::to_string(line) + ": " + what);
}

result<std::optional<timestamp>> read_time(std::string_view origin, std::size_t line, std::string_view text) {
  if (text.empty()) return std::optional<timestamp>{};
  auto t = parse_timestamp(text);
  if (!t) return bad(origin, line, "collected_at is not an ISO 8601 time (2025-05-01T10:00:00Z)");
  return std::optional<timestamp>{*t};
}

// value_text gives a JSON scalar as the text the field types read; nullopt for null.
result<std::optional<std::string>> value_text(std::string_view origin, std::size_t line,
                                              const std::string& field, const json& v) {
  switch (v.type()) {
    case json::value_t::null: return std::optional<std::string>{};
    case json::value_t::string: return std::optional<std::string>{v.get<std::string>()};
    case json::value_t::boolean: return std::optional<std::string>{v.get<bool>() ? "true" : "false"};
    case json::value_t::number_integer:
      return std::optional<std::string>{std::to_string(v.get<std::int64_t>())};
    case json::value_t::number_unsigned:
      return std::optional<std::string>{std::to_string(v.get<std::uint64_t>())};
    case json::value_t::number_float:
      return bad(origin, line,
                 json_key_path("$.fields", field) +
                     ": a fractional number fits no field type; quote it as a string");
    default:
      return bad(origin, line,
                 json_key_path("$.fields", field) + ": must be a string, number, boolean or null");
  }
}

constexpr std::size_t kMaxExportBytes = std::size_t{64} << 20;

result<std::vector<Record>> parse_export_text(const std::string& text, std::string_view origin,
                                              std::string_view default_source);

// looks_like_export is true when `first` (the first line of a JSON Lines input that did not read
// as a record) together with the rest of `in` is a whole JSON object with a "consentry_export"
// member: a customer's export (pretty-printed over many lines, or on one), given as JSON Lines.
// It reads at most kMaxExportBytes of `in` into `text`.
bool looks_like_export(std::istream& in, const std::string& first, std::string& text) {
  const std::size_t start = first.find_first_not_of(" \t\r");
  if (start == std::string::npos || first[start] != '{') return false;
  text = first;
  text.push_back('\n');
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxExportBytes) return false;
  }
  if (in.bad()) return false;
  json j;
  if (read_json(text, j)) return false;
  return j.is_object() && j.contains("consentry_export");
}

// record_of_line reads the record of JSON Lines line `line`, already parsed into `j`.
result<Record> record_of_line(const json& j, std::string_view origin, std::size_t line,
                              std::string_view default_source) {
  if (!j.is_object()) return bad(origin, line, "$: must be an object");
  Record r;
  r.line = line;
  r.source = std::string(default_source);
  bool has_fields = false;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "id") {
      if (!v.is_string()) return bad(origin, line, "$.id: must be a string");
      r.customer = v.get<std::string>();
    } else if (key == "source") {
      if (!v.is_string()) return bad(origin, line, "$.source: must be a string");
      r.source = v.get<std::string>();
    } else if (key == "collected_at") {
      if (!v.is_string()) return bad(origin, line, "$.collected_at: must be a string");
      auto t = read_time(origin, line, v.get<std::string>());
      if (!t) return std::move(t).err();
      r.collected_at = *t;
    } else if (key == "fields") {
      if (!v.is_object()) return bad(origin, line, "$.fields: must be an object");
      has_fields = true;
      for (auto f = v.begin(); f != v.end(); ++f) {
        auto value = value_text(origin, line, f.key(), f.value());
        if (!value) return std::move(value).err();
        if (*value) r.fields.emplace_back(f.key(), std::move(**value));
      }
    } else {
      return bad(origin, line,
                 json_key_path("$", key) + ": unknown key (expected id, source, collected_at, fields)");
    }
  }
  if (r.customer.empty()) return bad(origin, line, "$.id: missing or empty");
  if (!has_fields) return bad(origin, line, "$.fields: missing");
  return r;
}

}  // namespace

/// RecordReader::State is where a reader stands in its input.
struct RecordReader::State {
  State(std::istream& i, ImportFormat f, std::string o, std::string s)
      : in(i), format(f), origin(std::move(o)), default_source(std::move(s)) {}
  std::istream& in;
  ImportFormat format;
  std::string origin;
  std::string default_source;
  detail::ErrorList errors{kMaxReportedBadLines};
  std::size_t line = 0;  // lines read so far
  bool started = false;  // the first record (or the CSV header) was looked at
  bool done = false;     // the input is read through, or cannot be read further
  bool exact = true;     // every line was read: the count of bad lines is exact
  // CSV: the header and where its special columns are.
  std::vector<std::string> header, cells;
  int id_col = -1, source_col = -1, time_col = -1;
};

namespace {

// jsonl_next appends up to `max` records of a JSON Lines input to `out`.
result<void> jsonl_next(RecordReader::State& st, std::vector<Record>& out, std::size_t max) {
  std::string text;
  const std::string_view origin = st.origin;
  std::size_t added = 0;
  while (added < max) {
    // One byte more than the limit, for a '\r' before the '\n'.
    const LineRead got = read_line(st.in, text, kMaxLineBytes + 1);
    if (got == LineRead::end || got == LineRead::failed) {
      st.done = true;
      break;
    }
    const std::size_t line = ++st.line;
    if (got == LineRead::too_long) {
      // The rest of the input is not read: where the next line starts is not known.
      st.errors.add(bad(origin, line, "line longer than 1 MiB"));
      st.done = true;
      st.exact = false;
      break;
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.size() > kMaxLineBytes) {
      st.errors.add(bad(origin, line, "line longer than 1 MiB"));
      continue;
    }
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    json j;
    auto problem = read_json(text, j);
    // A customer's export given as JSON Lines (`import export.json` without --format export) is
    // read as the export it is: its first line is "{" alone, or names "consentry_export". Any other
    // first line is read as JSON Lines, so a bad one is reported with the lines after it.
    const bool first = !st.started;
    st.started = true;
    const std::size_t brace = text.find_first_not_of(" \t");
    const bool opening_brace =
        text[brace] == '{' && text.find_first_not_of(" \t", brace + 1) == std::string::npos;
    if (first && ((problem && (opening_brace || text.find("\"consentry_export\"") != std::string::npos)) ||
                  (j.is_object() && j.contains("consentry_export")))) {
      std::string whole;
      if (looks_like_export(st.in, text, whole)) {
        st.done = true;
        auto records = parse_export_text(whole, origin, st.default_source);
        if (!records) return std::move(records).err();
        for (Record& r : *records) out.push_back(std::move(r));
        return ok();
      }
    }
    if (problem) {
      // A line is one line of JSON text: the file's line number says where, the column where in it.
      st.errors.add(
          !problem->path.empty()
              ? bad(origin, line, problem->path + ": " + problem->what)
              : bad(origin, line, "column " + std::to_string(problem->column) + ": " + problem->what));
      continue;
    }
    auto record = record_of_line(j, origin, line, st.default_source);
    if (!record) {
      st.errors.add(std::move(record).err());
      continue;
    }
    out.push_back(std::move(*record));
    ++added;
  }
  return ok();
}

// read_csv_row reads one RFC 4180 row (quoted cells may hold commas, quotes and newlines).
// Returns false at end of input. `line` advances by the lines the row spans; `start` is the
// line the row begins on.
result<bool> read_csv_row(std::istream& in, std::string_view origin, std::size_t& line, std::size_t& start,
                          std::vector<std::string>& cells) {
  cells.clear();
  int c = in.get();
  if (c == EOF) return false;
  ++line;
  start = line;
  std::string cell;
  bool quoted = false, was_quoted = false;
  std::size_t bytes_read = 0;
  for (;; c = in.get()) {
    if (++bytes_read > kMaxLineBytes) return bad(origin, start, "row longer than 1 MiB");
    if (quoted) {
      if (c == EOF) return bad(origin, start, "unterminated quoted cell");
      if (c == '"') {
        if (in.peek() == '"') {
          in.get();
          cell.push_back('"');
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        cell.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == '"') {
      if (!cell.empty() || was_quoted) return bad(origin, start, "a quote inside an unquoted cell");
      quoted = was_quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
      was_quoted = false;
    } else if (c == '\r' && in.peek() == '\n') {
      continue;
    } else if (c == '\n' || c == EOF) {
      cells.push_back(std::move(cell));
      return true;
    } else {
      if (was_quoted) return bad(origin, start, "text after a closing quote");
      cell.push_back(static_cast<char>(c));
    }
  }
}

// csv_header reads and checks a CSV input's header row.
result<void> csv_header(RecordReader::State& st) {
  const std::string_view origin = st.origin;
  std::size_t start = 0;
  auto got = read_csv_row(st.in, origin, st.line, start, st.header);
  if (!got) return std::move(got).err();
  if (!*got) return bad(origin, 1, "empty file: expected a header row");
  std::vector<std::string>& header = st.header;
  // Spreadsheet programs often start a UTF-8 CSV with a byte order mark.
  if (header[0].starts_with("\xEF\xBB\xBF")) header[0].erase(0, 3);
  std::set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    if (name.empty()) return bad(origin, 1, "column " + std::to_string(i + 1) + " has no name");
    if (!seen.insert(name).second) return bad(origin, 1, "column '" + name + "' appears twice");
    if (name == "id") st.id_col = static_cast<int>(i);
    if (name == "source") st.source_col = static_cast<int>(i);
    if (name == "collected_at") st.time_col = static_cast<int>(i);
  }
  if (st.id_col < 0) return bad(origin, 1, "the header has no 'id' column");
  return ok();
}

// csv_next appends up to `max` records of a CSV input to `out`.
result<void> csv_next(RecordReader::State& st, std::vector<Record>& out, std::size_t max) {
  const std::string_view origin = st.origin;
  if (!st.started) {
    st.started = true;
    if (auto header = csv_header(st); !header) {
      st.done = true;
      return header;
    }
  }
  const std::vector<std::string>& header = st.header;
  std::vector<std::string>& cells = st.cells;
  std::size_t added = 0;
  while (added < max) {
    std::size_t start = 0;
    auto got = read_csv_row(st.in, origin, st.line, start, cells);
    if (!got) {
      // A row whose quoting is broken leaves no way to tell where the next one starts.
      st.errors.add(std::move(got).err());
      st.done = true;
      st.exact = false;
      break;
    }
    if (!*got) {
      st.done = true;
      break;
    }
    if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
    if (cells.size() != header.size()) {
      st.errors.add(
          bad(origin, start,
              "expected " + std::to_string(header.size()) + " cells, found " + std::to_string(cells.size())));
      continue;
    }
    Record r;
    r.line = start;
    r.customer = cells[st.id_col];
    if (r.customer.empty()) {
      st.errors.add(bad(origin, start, "the id cell is empty"));
      continue;
    }
    r.source = st.source_col >= 0 && !cells[st.source_col].empty() ? cells[st.source_col] : st.default_source;
    if (st.time_col >= 0) {
      auto t = read_time(origin, start, cells[st.time_col]);
      if (!t) {
        st.errors.add(std::move(t).err());
        continue;
      }
      r.collected_at = *t;
    }
    for (std::size_t i = 0; i < header.size(); ++i) {
      const int col = static_cast<int>(i);
      if (col == st.id_col || col == st.source_col || col == st.time_col) continue;
      if (!cells[i].empty()) r.fields.emplace_back(header[i], std::move(cells[i]));
    }
    out.push_back(std::move(r));
    ++added;
  }
  return ok();
}

// bad_path is errc::bad_input naming the file and a JSON path of a whole-document format.
error bad_path(std::string_view origin, const std::string& path, const std::string& what) {
  return make_error(errc::bad_input, std::string(origin) + ": " + path + ": " + what);
}

// parse_export reads a customer's export (export_json) back into records: one per distinct
// source and collection time, in the order the export lists the fields. Members other than
// the customer and the fields' name, value, source and collected_at describe the data and are
// not read.
result<std::vector<Record>> parse_export(std::istream& in, std::string_view origin,
                                         std::string_view default_source) {
  std::string text;
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0) {
    text.append(chunk, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kMaxExportBytes) return bad_path(origin, "$", "export larger than 64 MiB");
  }
  if (in.bad()) return make_error(errc::io, std::string(origin) + ": read failed");
  return parse_export_text(text, origin, default_source);
}

// parse_export_text reads an export already held in memory (at most kMaxExportBytes).
result<std::vector<Record>> parse_export_text(const std::string& text, std::string_view origin,
                                              std::string_view default_source) {
  json j;
  if (auto problem = read_json(text, j))
    return make_error(errc::bad_input, std::string(origin) + ": " + problem->message());
  if (!j.is_object()) return bad_path(origin, "$", "must be an object");
  auto version = j.find("consentry_export");
  if (version == j.end() || !version->is_number_integer() ||
      version->get<std::int64_t>() != kExportFormatVersion)
    return bad_path(origin, "$.consentry_export",
                    "must be " + std::to_string(kExportFormatVersion) + " (not a consentry export?)");
  auto customer = j.find("customer");
  if (customer == j.end() || !customer->is_string() || customer->get<std::string>().empty())
    return bad_path(origin, "$.customer", "must be a non-empty string");
  auto fields = j.find("fields");
  if (fields == j.end() || !fields->is_array()) return bad_path(origin, "$.fields", "must be an array");
  std::vector<Record> out;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < fields->size(); ++i) {
    const json& f = (*fields)[i];
    const std::string at = "$.fields[" + std::to_string(i) + "]";
    if (!f.is_object()) return bad_path(origin, at, "must be an object");
    auto member = [&](const char* key) -> result<std::string> {
      auto it = f.find(key);
      if (it == f.end() || !it->is_string()) return bad_path(origin, at + "." + key, "must be a string");
      return it->get<std::string>();
    };
    auto name = member("name");
    if (!name) return std::move(name).err();
    if (!seen.insert(*name).second)
      return bad_path(origin, at + ".name", "field " + quote_json_text(*name) + " appears twice");
    auto value = member("value");
    if (!value) return std::move(value).err();
    auto source = member("source");
    if (!source) return std::move(source).err();
    auto collected = member("collected_at");
    if (!collected) return std::move(collected).err();
    auto when = parse_timestamp(*collected);
    if (!when)
      return bad_path(origin, at + ".collected_at", "is not an ISO 8601 time (2025-05-01T10:00:00Z)");
    if (source->empty()) *source = std::string(default_source);
    auto same = std::find_if(out.begin(), out.end(),
                             [&](const Record& r) { return r.source == *source && r.collected_at == *when; });
    if (same == out.end()) {
      Record r;
      r.customer = customer->get<std::string>();
      r.source = *source;
      r.collected_at = *when;
      same = out.insert(out.end(), std::move(r));
    }
    same->fields.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

}  // namespace

std::optional<ImportFormat> parse_import_format(std::string_view text) {
  if (text == "jsonl") return ImportFormat::jsonl;
  if (text == "csv") return ImportFormat::csv;
  if (text == "export") return ImportFormat::export_json;
  return std::nullopt;
}

RecordReader::RecordReader(std::istream& in, ImportFormat format, std::string origin,
                           std::string default_source)
    : state_(std::make_unique<State>(in, format, std::move(origin), std::move(default_source))) {}

RecordReader::~RecordReader() = default;
RecordReader::RecordReader(RecordReader&&) noexcept = default;

result<bool> RecordReader::next(std::vector<Record>& batch, std::size_t max) {
  State& st = *state_;
  if (max == 0) return make_error(errc::invalid_argument, "RecordReader::next: a batch of 0 records");
  if (!st.done) {
    switch (st.format) {
      case ImportFormat::jsonl: CONSENTRY_TRY(jsonl_next(st, batch, max)); break;
      case ImportFormat::csv: CONSENTRY_TRY(csv_next(st, batch, max)); break;
      case ImportFormat::export_json: {
        st.done = true;
        auto records = parse_export(st.in, st.origin, st.default_source);
        if (!records) return std::move(records).err();
        for (Record& r : *records) batch.push_back(std::move(r));
        break;
      }
    }
  }
  if (!st.done) return true;
  if (st.in.bad()) return make_error(errc::io, st.origin + ": read failed");
  if (st.errors.any()) return st.errors.to_error(st.origin, st.exact);
  return false;
}

result<std::vector<Record>> parse_records(std::istream& in, ImportFormat format, std::string_view origin,
                                          std::string_view default_source) {
  RecordReader reader(in, format, std::string(origin), std::string(default_source));
  std::vector<Record> out;
  for (;;) {
    auto more = reader.next(out, std::numeric_limits<std::size_t>::max());
    if (!more) return std::move(more).err();
    if (!*more) return out;
  }
}

}  // namespace consentry
