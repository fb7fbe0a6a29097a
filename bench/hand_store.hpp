// hand_store.hpp: the baselines' side of every comparison: what a user could write by hand with
// SQLite (or SQLCipher) and libsodium. The same tables as a consentry vault (data_keys, fields,
// consent_events, and their indexes), the same pragmas (WAL, synchronous=FULL, secure_delete),
// a random data key per customer wrapped under a master key, and each value sealed with
// XChaCha20-Poly1305 under the same associated data — but no policy, no consent check, no
// audit, no guarded memory.
//
// This file is compiled into two executables: against libsqlite3 for the main suite, and
// against SQLCipher (CONSENTRY_BENCH_SQLCIPHER) for W8, where Sealing::clear stores values in
// clear inside the encrypted database file.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "bench_data.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace consentry::bench {

/// Sealing says how HandStore keeps values: sealed by the application (aead), or in clear.
enum class Sealing { aead, clear };

/// kHandKeyBytes is the size of a master or data key.
inline constexpr std::size_t kHandKeyBytes = 32;
using HandKey = std::array<std::uint8_t, kHandKeyBytes>;

/// HandStore is one database file. Every failure throws std::runtime_error naming the step.
class HandStore {
 public:
  /// create makes a new file (an existing one is removed first). A non-empty `cipher_key` (64
  /// hex digits) makes it an SQLCipher database; it needs the SQLCipher build.
  static std::unique_ptr<HandStore> create(const std::filesystem::path& file, Sealing sealing,
                                           std::string_view cipher_key = {});
  /// open opens a file that create made, with the same sealing and key.
  static std::unique_ptr<HandStore> open(const std::filesystem::path& file, Sealing sealing,
                                         std::string_view cipher_key = {});
  ~HandStore();
  HandStore(const HandStore&) = delete;
  HandStore& operator=(const HandStore&) = delete;

  void begin();
  void commit();

  /// put_customer draws a data key, wraps it under the master key, inserts it, then seals and
  /// inserts every field (Sealing::clear: inserts the values as they are, without keys).
  void put_customer(std::string_view customer, const std::vector<std::pair<std::string, std::string>>& fields,
                    std::string_view source, std::int64_t collected_at);
  /// append_consent inserts one ledger event ("grant" or "withdraw").
  void append_consent(std::string_view customer, std::string_view purpose, std::string_view action,
                      std::int64_t at, std::int64_t expires_at);

  /// load_keys unwraps every customer's data key into memory, as a long-running process would.
  void load_keys();
  /// read fetches three fields of `customer` with one prepared SELECT and opens each value with
  /// the customer's data key (load_keys first). Returns how many fields were found.
  std::size_t read(const std::string& customer, const std::array<std::string_view, 3>& fields,
                   std::array<std::string, 3>& out);
  /// eligible lists, sorted, the customers with data whose last event on `purpose` is a grant
  /// that has not expired at `now`: one scan of consent_events, folded per customer.
  std::vector<std::string> eligible(std::string_view purpose, std::int64_t now);

  /// add_lookups gives the file a blind index of every customer's email, in one transaction: a
  /// table lookups(customer, field, value), indexed on (field, value), whose value is the first
  /// `bits` bits of BLAKE2b keyed with a random key (kept in meta) over the email's text.
  void add_lookups(std::size_t customers, int bits);
  /// find_email returns the customers whose email is `email`, in one read transaction: one
  /// prepared SELECT of the index entry's customers, then each candidate's sealed email read and
  /// opened (load_keys first) and compared; Sealing::aead only.
  std::vector<std::string> find_email(std::string_view email);
  /// log_read inserts one row of `entry_bytes` random bytes for `customer` into a table
  /// read_log (made on first use), committed on its own with synchronous = FULL: the durable
  /// write a read's audit entry adds, for W3's durable baseline.
  void log_read(const std::string& customer, std::size_t entry_bytes);

  /// release_scan is what releasing `fields` of every customer takes at least, B3's floor: the
  /// customers are walked in key order, `batch` at a time, each page one prepared SELECT of their
  /// wrapped data keys joined with those fields; every data key is unwrapped under the master key
  /// (none is cached, as in a process that starts for the release) and every value opened; then
  /// one read_log row of `entry_bytes` per customer of the page (as log_read writes, the bytes
  /// drawn once per call) is committed in one transaction with synchronous = FULL. Returns how
  /// many values were opened; throws when a key or value fails to open.
  std::size_t release_scan(const std::array<std::string_view, 4>& fields, std::size_t entry_bytes,
                           std::size_t batch);

  /// build fills a new file with customers [0, customers), all ten fields, `batch` customers per
  /// transaction, then the consent events of `plan` in one transaction.
  static void build(const std::filesystem::path& file, Sealing sealing, std::string_view cipher_key,
                    std::size_t customers, std::size_t batch, const ConsentPlan& plan);

 private:
  HandStore(sqlite3* db, Sealing sealing);
  // prepare_log makes the read_log table and log_read's INSERT, once.
  void prepare_log();
  // append_log inserts one read_log row for `customer` holding entry_.
  void append_log(const std::string& customer);
  // open_value's answer for a value that fails to open.
  static constexpr std::size_t kNotOpened = static_cast<std::size_t>(-1);
  // unwrap opens the wrapped data key of `customer` in `column` of `row` into `key`; false when
  // it does not open.
  bool unwrap(std::string_view customer, sqlite3_stmt* row, int column, HandKey& key);
  // open_value opens the sealed value of `customer`'s `field` in `column` of `row` under `dek`
  // into buf_ and returns its size, or kNotOpened.
  std::size_t open_value(std::string_view customer, std::string_view field, sqlite3_stmt* row, int column,
                         const HandKey& dek);
  void exec(const char* sql, const char* step);
  sqlite3_stmt* prepare(const char* sql);
  void prepare_all();
  [[noreturn]] void fail(const char* step) const;

  sqlite3* db_;
  Sealing sealing_;
  HandKey master_{};
  std::unordered_map<std::string, HandKey> keys_;
  std::string ad_;
  std::vector<std::uint8_t> buf_;
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* put_key_ = nullptr;
  sqlite3_stmt* put_field_ = nullptr;
  sqlite3_stmt* put_consent_ = nullptr;
  sqlite3_stmt* read_ = nullptr;
  sqlite3_stmt* scan_ = nullptr;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* candidate_ = nullptr;
  sqlite3_stmt* read_begin_ = nullptr;  ///< find_email's read transaction
  sqlite3_stmt* read_end_ = nullptr;
  sqlite3_stmt* log_ = nullptr;      ///< log_read's INSERT, prepared on first use
  sqlite3_stmt* release_ = nullptr;  ///< release_scan's page, prepared on first use
  std::vector<std::uint8_t> entry_;
  HandKey lookup_key_{};
  int lookup_bits_ = 0;
};

/// cached_hand_store returns the path of a built HandStore file `name` under data_dir(),
/// building it first (into a temporary name, renamed when complete) when it is not there yet;
/// with `lookup_bits` > 0 the file gets add_lookups(customers, lookup_bits) too.
std::filesystem::path cached_hand_store(std::string_view name, Sealing sealing, std::string_view cipher_key,
                                        std::size_t customers, const ConsentPlan& plan, int lookup_bits = 0);

}  // namespace consentry::bench
