// hand_pg_store.hpp: the PostgreSQL baselines' side (PG3-PG5): what a user could write by hand
// with libpq and libsodium. The tables a consentry vault keeps customer data in on PostgreSQL
// (data_keys, fields, consent_events; the same columns, keys and indexes as
// src/store/postgres_schema.cpp), in a schema of their own, a random data key per customer
// wrapped under a master key, and each value sealed with XChaCha20-Poly1305 under the same
// associated data as HandStore — but no policy, no consent check, no audit, no guarded memory.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench_data.hpp"
#include "hand_store.hpp"

struct pg_conn;

namespace consentry::bench {

/// PgRecord is one customer as the baseline imports it.
struct PgRecord {
  std::string customer;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string source;
  std::int64_t collected_at = 0;
};

/// HandPgStore is one schema on a PostgreSQL server, through one libpq connection. Every failure
/// throws std::runtime_error naming the step.
class HandPgStore {
 public:
  /// create drops the schema `schema` if it exists, creates it with the tables and stores a new
  /// master key. `url` is a libpq connection URI or string.
  static std::unique_ptr<HandPgStore> create(const std::string& url, const std::string& schema);
  /// open connects to a schema that create made and reads its master key.
  static std::unique_ptr<HandPgStore> open(const std::string& url, const std::string& schema);
  /// open_raw connects without a schema of its own, for exec and scalar on any schema.
  static std::unique_ptr<HandPgStore> open_raw(const std::string& url);
  ~HandPgStore();
  HandPgStore(const HandPgStore&) = delete;
  HandPgStore& operator=(const HandPgStore&) = delete;

  /// exec runs SQL with no parameters, `@S` standing for the schema; throws naming `step`.
  void exec(std::string_view sql, const char* step);
  /// scalar runs SQL (`@S` as in exec) that returns one row of one column, and returns it as text.
  std::string scalar(std::string_view sql);

  /// has_table says whether `schema` holds the table `table`.
  bool has_table(const std::string& schema, const std::string& table);

  /// copy_customers imports `records` with COPY in one transaction: per customer a random data
  /// key wrapped under the master key (into data_keys), then its values sealed (into fields).
  void copy_customers(const std::vector<PgRecord>& records);
  /// copy_consents imports the consent events of customers [0, customers) under `plan` with COPY,
  /// in one transaction.
  void copy_consents(std::size_t customers, const ConsentPlan& plan, std::int64_t at);

  /// load_keys unwraps every customer's data key into memory, as a long-running process would.
  void load_keys();
  /// read fetches three fields of `customer` with one prepared SELECT and opens each value with
  /// the customer's data key (load_keys first). Returns how many fields were found.
  std::size_t read(const std::string& customer, const std::array<std::string_view, 3>& fields,
                   std::array<std::string, 3>& out);
  /// log_read commits one row describing a read of `customer` (its name, the time and
  /// `entry_bytes` random bytes, the size of an audit entry) as one INSERT in a transaction of its
  /// own, durable as the server's synchronous_commit makes it: what a durable audit adds to a
  /// read, done by hand. The table read_log is made on first use.
  void log_read(const std::string& customer, std::size_t entry_bytes);
  /// release_scan is B3's read done by hand (as HandStore::release_scan): the customers in key
  /// order, `batch` at a time, each page's data keys and the four `fields` in one SELECT; every
  /// key unwrapped (none cached), every value opened, then one read_log row per customer
  /// (`entry_bytes` random bytes) inserted in one statement and committed per page. Returns how
  /// many values were opened; throws when a key or value fails to open.
  std::size_t release_scan(const std::array<std::string_view, 4>& fields, std::size_t entry_bytes,
                           std::size_t batch);
  /// eligible lists, sorted, the customers whose last event on `purpose` is a grant that has not
  /// expired at `now`: one prepared scan of consent_events, folded per customer.
  std::vector<std::string> eligible(std::string_view purpose, std::int64_t now);

 private:
  HandPgStore(pg_conn* conn, std::string schema);
  std::string with_schema(std::string_view sql) const;
  void prepare_all();
  void copy(std::string_view sql, const std::string& rows, const char* step);
  // ensure_read_log makes the table read_log and prepares log_read's INSERT, once.
  void ensure_read_log();
  [[noreturn]] void fail(const char* step) const;

  pg_conn* conn_;
  std::string schema_;
  HandKey master_{};
  std::unordered_map<std::string, HandKey> keys_;
  std::string ad_;
  std::vector<std::uint8_t> buf_;
  std::vector<std::uint8_t> entry_;
  bool read_log_ready_ = false;
};

/// drop_pg_schema drops `schema` and everything in it, if it exists.
void drop_pg_schema(const std::string& url, const std::string& schema);

/// cached_hand_pg_store returns the schema name of a built baseline `name` on the server of
/// `url`: customers [0, customers), all ten fields, 1000 per transaction, then the consent
/// events of `plan`. It builds it first when the schema is not there or was left half-built.
std::string cached_hand_pg_store(const std::string& url, std::string_view name, std::size_t customers,
                                 const ConsentPlan& plan);

}  // namespace consentry::bench
