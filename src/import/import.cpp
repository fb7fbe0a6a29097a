// import.cpp: JSON Lines and CSV records for Vault::write. Messages name the file and line and
// describe the problem without quoting the value.
#include "consentry/import.hpp"

#include <algorithm>
#include <ios>
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

result<std::vector<Record>> parse_jsonl(std::istream& in, std::string_view origin,
                                        std::string_view default_source) {
  std::vector<Record> out;
  detail::ErrorList errors(kMaxReportedBadLines);
  std::string text;
  std::size_t line = 0;
  for (;;) {
    // One byte more than the limit, for a '\r' before the '\n'.
    const LineRead got = read_line(in, text, kMaxLineBytes + 1);
    if (got == LineRead::end) break;
    if (got == LineRead::failed) break;
    ++line;
    if (got == LineRead::too_long) {
      // The rest of the file is not read: where the next line starts is not known.
      errors.add(bad(origin, line, "line longer than 1 MiB"));
      return errors.to_error(origin, false);
    }
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (text.size() > kMaxLineBytes) {
      errors.add(bad(origin, line, "line longer than 1 MiB"));
      continue;
    }
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    json j;
    auto problem = read_json(text, j);
    // A customer's export given as JSON Lines (`import export.json` without --format export) is
    // read as the export it is: its first line is "{" alone, or names "consentry_export". Any other
    // first line is read as JSON Lines, so a bad one is reported with the lines after it.
    const bool opening_brace = text.find_first_not_of(" \t") == text.find('{') &&
                               text.find_first_not_of(" \t", text.find('{') + 1) == std::string::npos;
    if (out.empty() && !errors.any() &&
        ((problem && (opening_brace || text.find("\"consentry_export\"") != std::string::npos)) ||
         (j.is_object() && j.contains("consentry_export")))) {
      std::string whole;
      if (looks_like_export(in, text, whole)) return parse_export_text(whole, origin, default_source);
    }
    if (problem) {
      // A line is one line of JSON text: the file's line number says where, the column where in it.
      errors.add(!problem->path.empty()
                     ? bad(origin, line, problem->path + ": " + problem->what)
                     : bad(origin, line, "column " + std::to_string(problem->column) + ": " + problem->what));
      continue;
    }
    auto record = record_of_line(j, origin, line, default_source);
    if (!record) {
      errors.add(std::move(record).err());
      continue;
    }
    // After a bad line the file is refused: its good records are only checked, not kept.
    if (!errors.any()) out.push_back(std::move(*record));
  }
  if (in.bad()) return make_error(errc::io, std::string(origin) + ": read failed");
  if (errors.any()) return errors.to_error(origin);
  return out;
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

result<std::vector<Record>> parse_csv(std::istream& in, std::string_view origin,
                                      std::string_view default_source) {
  std::vector<Record> out;
  std::vector<std::string> header, cells;
  std::size_t line = 0, start = 0;
  auto got = read_csv_row(in, origin, line, start, header);
  if (!got) return std::move(got).err();
  if (!*got) return bad(origin, 1, "empty file: expected a header row");
  // Spreadsheet programs often start a UTF-8 CSV with a byte order mark.
  if (header[0].starts_with("\xEF\xBB\xBF")) header[0].erase(0, 3);
  int id_col = -1, source_col = -1, time_col = -1;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string& name = header[i];
    if (name.empty()) return bad(origin, 1, "column " + std::to_string(i + 1) + " has no name");
    if (!seen.insert(name).second) return bad(origin, 1, "column '" + name + "' appears twice");
    if (name == "id") id_col = static_cast<int>(i);
    if (name == "source") source_col = static_cast<int>(i);
    if (name == "collected_at") time_col = static_cast<int>(i);
  }
  if (id_col < 0) return bad(origin, 1, "the header has no 'id' column");
  detail::ErrorList errors(kMaxReportedBadLines);
  for (;;) {
    got = read_csv_row(in, origin, line, start, cells);
    if (!got) {
      // A row whose quoting is broken leaves no way to tell where the next one starts.
      errors.add(std::move(got).err());
      return errors.to_error(origin, false);
    }
    if (!*got) break;
    if (cells.size() == 1 && cells[0].empty()) continue;  // blank line
    if (cells.size() != header.size()) {
      errors.add(
          bad(origin, start,
              "expected " + std::to_string(header.size()) + " cells, found " + std::to_string(cells.size())));
      continue;
    }
    Record r;
    r.line = start;
    r.customer = cells[id_col];
    if (r.customer.empty()) {
      errors.add(bad(origin, start, "the id cell is empty"));
      continue;
    }
    r.source =
        source_col >= 0 && !cells[source_col].empty() ? cells[source_col] : std::string(default_source);
    if (time_col >= 0) {
      auto t = read_time(origin, start, cells[time_col]);
      if (!t) {
        errors.add(std::move(t).err());
        continue;
      }
      r.collected_at = *t;
    }
    if (errors.any()) continue;  // the file is refused: its good rows are only checked
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (static_cast<int>(i) == id_col || static_cast<int>(i) == source_col ||
          static_cast<int>(i) == time_col)
        continue;
      if (!cells[i].empty()) r.fields.emplace_back(header[i], std::move(cells[i]));
    }
    out.push_back(std::move(r));
  }
  if (in.bad()) return make_error(errc::io, std::string(origin) + ": read failed");
  if (errors.any()) return errors.to_error(origin);
  return out;
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

result<std::vector<Record>> parse_records(std::istream& in, ImportFormat format, std::string_view origin,
                                          std::string_view default_source) {
  switch (format) {
    case ImportFormat::jsonl: return parse_jsonl(in, origin, default_source);
    case ImportFormat::csv: return parse_csv(in, origin, default_source);
    case ImportFormat::export_json: return parse_export(in, origin, default_source);
  }
  return make_error(errc::invalid_argument, "unknown import format");
}

}  // namespace consentry
