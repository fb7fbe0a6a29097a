// import.hpp: reading customer records from JSON Lines and CSV files.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "consentry/customer_record.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// ImportFormat is the file format of an import: JSON Lines, CSV, or a customer's JSON export
/// (export_json), which carries their data to another vault.
enum class ImportFormat { jsonl, csv, export_json };

/// parse_import_format reads "jsonl", "csv" or "export".
std::optional<ImportFormat> parse_import_format(std::string_view text);

/// parse_records reads every record of `in`. JSON Lines: one object per line,
/// {"id": "C-1", "source": "web", "collected_at": "2025-05-01T10:00:00Z", "fields": {...}}, with
/// string, number or boolean values; blank lines are skipped. CSV (RFC 4180): a header naming
/// "id", optional "source" and "collected_at", then field columns; an empty cell sets nothing.
/// Export: one document as export_json writes it; its fields' name, value, source and
/// collected_at become records, one per source and collection time (other members are not read),
/// and errors name the JSON path ("export.json: $.fields[2].value: must be a string").
/// A JSON Lines input that is in fact one export (its first line "{" of a pretty-printed export,
/// or one line holding "consentry_export") is read as an export. Records read from an export have
/// line 0.
/// `default_source` fills records that name none. Returns errc::bad_input for a malformed input:
/// its message names `origin` and the line of each bad line ("customers.csv:7: ..."), one per
/// message line, up to kMaxReportedBadLines, then how many there were in all; the message never
/// quotes a value. A JSON Lines line or CSV row too long, or a CSV row whose quoting is broken,
/// ends the reading there (the count is then "at least").
/// A JSON Lines line or CSV row longer than 1 MiB, or an export larger than 64 MiB, is refused
/// without reading much more of it; so is JSON that gives a key twice in one object (at any
/// depth), holds a NUL byte, or nests arrays and objects more than 64 levels deep.
result<std::vector<Record>> parse_records(std::istream& in, ImportFormat format, std::string_view origin,
                                          std::string_view default_source = "");

/// RecordReader reads the records of `in` as parse_records does, a batch at a time, for an
/// input too large to hold at once (Vault::write_batches): memory follows the batch. `in` must
/// outlive it.
class RecordReader {
 public:
  RecordReader(std::istream& in, ImportFormat format, std::string origin, std::string default_source = "");
  ~RecordReader();
  RecordReader(RecordReader&&) noexcept;
  RecordReader& operator=(RecordReader&&) = delete;

  /// next appends up to `max` records to `batch` (an export, one document, comes whole) and
  /// returns true while more may follow. Once the input is read through it returns false, or,
  /// when any line was bad, errc::bad_input listing every bad line as parse_records does (the
  /// good records were handed out meanwhile: a caller writes nothing until this says false).
  /// errc::io when reading fails; errc::invalid_argument for a `max` of 0.
  result<bool> next(std::vector<Record>& batch, std::size_t max);

  struct State;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace consentry
