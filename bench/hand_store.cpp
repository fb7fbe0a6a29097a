// hand_store.cpp: the hand-written SQLite + libsodium baseline (see hand_store.hpp).
#include "hand_store.hpp"

#if defined(CONSENTRY_BENCH_SQLCIPHER)
#include <sqlcipher/sqlite3.h>
#else
#include <sqlite3.h>
#endif
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <stdexcept>

namespace consentry::bench {
namespace {

constexpr const char* kPragmas =
    "PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON; PRAGMA synchronous = FULL;";

// The tables of a consentry vault that hold customer data, with the same keys, layout and indexes.
constexpr const char* kSchemaSealed = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE data_keys(customer TEXT PRIMARY KEY, version INTEGER NOT NULL, wrapped BLOB NOT NULL);
CREATE TABLE fields(
  customer TEXT NOT NULL,
  field TEXT NOT NULL,
  sealed BLOB NOT NULL,
  source TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  PRIMARY KEY(customer, field)
) WITHOUT ROWID;
CREATE TABLE consent_events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer TEXT NOT NULL,
  purpose TEXT NOT NULL,
  action TEXT NOT NULL,
  at INTEGER NOT NULL,
  channel TEXT NOT NULL,
  notice TEXT NOT NULL,
  expires_at INTEGER
);
CREATE INDEX consent_events_by_customer ON consent_events(customer, seq);
CREATE INDEX consent_events_by_purpose ON consent_events(purpose, customer, seq);
COMMIT;
)sql";

// With Sealing::clear the database encrypts; the values go in as they are.
constexpr const char* kSchemaClear = R"sql(
BEGIN IMMEDIATE;
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE fields(
  customer TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  source TEXT NOT NULL,
  collected_at INTEGER NOT NULL,
  PRIMARY KEY(customer, field)
) WITHOUT ROWID;
CREATE TABLE consent_events(
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  customer TEXT NOT NULL,
  purpose TEXT NOT NULL,
  action TEXT NOT NULL,
  at INTEGER NOT NULL,
  channel TEXT NOT NULL,
  notice TEXT NOT NULL,
  expires_at INTEGER
);
CREATE INDEX consent_events_by_customer ON consent_events(customer, seq);
CREATE INDEX consent_events_by_purpose ON consent_events(purpose, customer, seq);
COMMIT;
)sql";

constexpr std::string_view kMasterMeta = "hand.master";
// kHandSchema names the schema above in cached file names, so that a change to it rebuilds them.
constexpr std::string_view kHandSchema = "h2";
constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kHandKeyBytes == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

sqlite3* open_file(const std::filesystem::path& file, bool create, std::string_view cipher_key) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(file.string().c_str(), &db, flags, nullptr) != SQLITE_OK) {
    const std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw std::runtime_error("open " + file.string() + ": " + msg);
  }
  if (!cipher_key.empty()) {
    // A raw 256-bit key ("x'...'") skips SQLCipher's passphrase KDF; it must be the first statement.
    const std::string pragma = "PRAGMA key = \"x'" + std::string(cipher_key) + "'\";";
    if (sqlite3_exec(db, pragma.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      const std::string msg = sqlite3_errmsg(db);
      sqlite3_close(db);
      throw std::runtime_error("key " + file.string() + ": " + msg);
    }
  }
  return db;
}

void bind_text(sqlite3_stmt* s, int i, std::string_view v) {
  sqlite3_bind_text64(s, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}

}  // namespace

HandStore::HandStore(sqlite3* db, Sealing sealing) : db_(db), sealing_(sealing) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

HandStore::~HandStore() {
  for (sqlite3_stmt* s : {begin_, commit_, put_key_, put_field_, put_consent_, read_, scan_, find_,
                          candidate_, read_begin_, read_end_, log_, release_})
    sqlite3_finalize(s);
  sodium_memzero(lookup_key_.data(), lookup_key_.size());
  sqlite3_close(db_);
  sodium_memzero(master_.data(), master_.size());
  for (auto& [customer, key] : keys_) sodium_memzero(key.data(), key.size());
}

void HandStore::fail(const char* step) const {
  throw std::runtime_error(std::string("hand store: ") + step + ": " + sqlite3_errmsg(db_));
}

void HandStore::exec(const char* sql, const char* step) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) fail(step);
}

sqlite3_stmt* HandStore::prepare(const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &s, nullptr) != SQLITE_OK) fail(sql);
  return s;
}

void HandStore::prepare_all() {
  const bool sealed = sealing_ == Sealing::aead;
  begin_ = prepare("BEGIN IMMEDIATE");
  commit_ = prepare("COMMIT");
  if (sealed) put_key_ = prepare("INSERT INTO data_keys(customer, version, wrapped) VALUES(?1, 1, ?2)");
  put_field_ = prepare(sealed ? "INSERT INTO fields(customer, field, sealed, source, collected_at) "
                                "VALUES(?1, ?2, ?3, ?4, ?5)"
                              : "INSERT INTO fields(customer, field, value, source, collected_at) "
                                "VALUES(?1, ?2, ?3, ?4, ?5)");
  put_consent_ = prepare(
      "INSERT INTO consent_events(customer, purpose, action, at, channel, notice, expires_at) "
      "VALUES(?1, ?2, ?3, ?4, 'web', 'privacy-bench', ?5)");
  read_ = prepare(sealed ? "SELECT field, sealed FROM fields WHERE customer = ?1 AND field IN (?2, ?3, ?4)"
                         : "SELECT field, value FROM fields WHERE customer = ?1 AND field IN (?2, ?3, ?4)");
  scan_ = prepare(
      "SELECT customer, action, expires_at FROM consent_events WHERE purpose = ?1 ORDER BY customer, seq");
}

std::unique_ptr<HandStore> HandStore::create(const std::filesystem::path& file, Sealing sealing,
                                             std::string_view cipher_key) {
  remove_db(file);
  std::unique_ptr<HandStore> h(new HandStore(open_file(file, true, cipher_key), sealing));
  h->exec(kPragmas, "pragmas");
  h->exec(sealing == Sealing::aead ? kSchemaSealed : kSchemaClear, "schema");
  h->prepare_all();
  if (sealing == Sealing::aead) {
    // A bench file keeps its master key beside the data; a real deployment would hold it elsewhere.
    randombytes_buf(h->master_.data(), h->master_.size());
    sqlite3_stmt* s = h->prepare("INSERT INTO meta(key, value) VALUES(?1, ?2)");
    bind_text(s, 1, kMasterMeta);
    sqlite3_bind_blob(s, 2, h->master_.data(), static_cast<int>(h->master_.size()), SQLITE_STATIC);
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) h->fail("storing the master key");
  }
  return h;
}

std::unique_ptr<HandStore> HandStore::open(const std::filesystem::path& file, Sealing sealing,
                                           std::string_view cipher_key) {
  if (!std::filesystem::exists(file)) throw std::runtime_error("no such file: " + file.string());
  std::unique_ptr<HandStore> h(new HandStore(open_file(file, false, cipher_key), sealing));
  h->exec(kPragmas, "pragmas");
  h->prepare_all();
  if (sealing == Sealing::aead) {
    sqlite3_stmt* s = h->prepare("SELECT value FROM meta WHERE key = ?1");
    bind_text(s, 1, kMasterMeta);
    const bool found = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) == kHandKeyBytes;
    if (found)
      std::copy_n(static_cast<const std::uint8_t*>(sqlite3_column_blob(s, 0)), kHandKeyBytes,
                  h->master_.begin());
    sqlite3_finalize(s);
    if (!found) throw std::runtime_error("hand store: " + file.string() + " has no master key");
  }
  return h;
}

void HandStore::begin() {
  const int rc = sqlite3_step(begin_);
  sqlite3_reset(begin_);
  if (rc != SQLITE_DONE) fail("begin");
}

void HandStore::commit() {
  const int rc = sqlite3_step(commit_);
  sqlite3_reset(commit_);
  if (rc != SQLITE_DONE) fail("commit");
}

void HandStore::put_customer(std::string_view customer,
                             const std::vector<std::pair<std::string, std::string>>& fields,
                             std::string_view source, std::int64_t collected_at) {
  HandKey dek{};
  if (sealing_ == Sealing::aead) {
    randombytes_buf(dek.data(), dek.size());
    // Wrap: nonce | ciphertext | tag under the master key, bound to the customer.
    std::uint8_t wrapped[kNonce + kHandKeyBytes + kTag];
    randombytes_buf(wrapped, kNonce);
    ad_.assign("consentry/v1data-key").append(customer);
    crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped + kNonce, nullptr, dek.data(), dek.size(),
                                               reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(),
                                               nullptr, wrapped, master_.data());
    bind_text(put_key_, 1, customer);
    sqlite3_bind_blob(put_key_, 2, wrapped, sizeof wrapped, SQLITE_STATIC);
    const int rc = sqlite3_step(put_key_);
    sqlite3_reset(put_key_);
    if (rc != SQLITE_DONE) fail("insert data key");
  }
  for (const auto& [field, value] : fields) {
    bind_text(put_field_, 1, customer);
    bind_text(put_field_, 2, field);
    if (sealing_ == Sealing::aead) {
      buf_.resize(kNonce + value.size() + kTag);
      randombytes_buf(buf_.data(), kNonce);
      field_ad(customer, field, ad_);
      crypto_aead_xchacha20poly1305_ietf_encrypt(
          buf_.data() + kNonce, nullptr, reinterpret_cast<const std::uint8_t*>(value.data()), value.size(),
          reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), nullptr, buf_.data(), dek.data());
      sqlite3_bind_blob64(put_field_, 3, buf_.data(), buf_.size(), SQLITE_STATIC);
    } else {
      bind_text(put_field_, 3, value);
    }
    bind_text(put_field_, 4, source);
    sqlite3_bind_int64(put_field_, 5, collected_at);
    const int rc = sqlite3_step(put_field_);
    sqlite3_reset(put_field_);
    if (rc != SQLITE_DONE) fail("insert field");
  }
  sodium_memzero(dek.data(), dek.size());
}

void HandStore::append_consent(std::string_view customer, std::string_view purpose, std::string_view action,
                               std::int64_t at, std::int64_t expires_at) {
  bind_text(put_consent_, 1, customer);
  bind_text(put_consent_, 2, purpose);
  bind_text(put_consent_, 3, action);
  sqlite3_bind_int64(put_consent_, 4, at);
  if (action == "grant")
    sqlite3_bind_int64(put_consent_, 5, expires_at);
  else
    sqlite3_bind_null(put_consent_, 5);
  const int rc = sqlite3_step(put_consent_);
  sqlite3_reset(put_consent_);
  if (rc != SQLITE_DONE) fail("insert consent event");
}

void HandStore::load_keys() {
  if (sealing_ != Sealing::aead) return;
  sqlite3_stmt* s = prepare("SELECT customer, wrapped FROM data_keys");
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const std::string customer(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)),
                               static_cast<std::size_t>(sqlite3_column_bytes(s, 0)));
    if (!unwrap(customer, s, 1, keys_[customer])) {
      rc = SQLITE_CORRUPT;
      break;
    }
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) throw std::runtime_error("hand store: a data key failed to unwrap");
}

std::size_t HandStore::read(const std::string& customer, const std::array<std::string_view, 3>& fields,
                            std::array<std::string, 3>& out) {
  const HandKey* dek = nullptr;
  if (sealing_ == Sealing::aead) {
    auto it = keys_.find(customer);
    if (it == keys_.end()) throw std::runtime_error("hand store: no data key for a read customer");
    dek = &it->second;
  }
  bind_text(read_, 1, customer);
  for (int i = 0; i < 3; ++i) bind_text(read_, i + 2, fields[static_cast<std::size_t>(i)]);
  std::size_t n = 0;
  bool opened = true;
  int rc = SQLITE_DONE;
  while (n < out.size() && (rc = sqlite3_step(read_)) == SQLITE_ROW) {
    const auto* field = reinterpret_cast<const char*>(sqlite3_column_text(read_, 0));
    const auto field_size = static_cast<std::size_t>(sqlite3_column_bytes(read_, 0));
    if (sealing_ == Sealing::clear) {
      out[n++].assign(reinterpret_cast<const char*>(sqlite3_column_text(read_, 1)),
                      static_cast<std::size_t>(sqlite3_column_bytes(read_, 1)));
      continue;
    }
    const std::size_t plain_size = open_value(customer, std::string_view(field, field_size), read_, 1, *dek);
    opened = plain_size != kNotOpened;
    if (!opened) break;
    out[n++].assign(reinterpret_cast<const char*>(buf_.data()), plain_size);
  }
  sqlite3_reset(read_);
  if (!opened) throw std::runtime_error("hand store: a value failed to open");
  if (n < out.size() && rc != SQLITE_DONE) fail("read");
  return n;
}

bool HandStore::unwrap(std::string_view customer, sqlite3_stmt* row, int column, HandKey& key) {
  const auto* wrapped = static_cast<const std::uint8_t*>(sqlite3_column_blob(row, column));
  if (sqlite3_column_bytes(row, column) != static_cast<int>(kNonce + kHandKeyBytes + kTag)) return false;
  ad_.assign("consentry/v1data-key").append(customer);
  return crypto_aead_xchacha20poly1305_ietf_decrypt(
             key.data(), nullptr, nullptr, wrapped + kNonce, kHandKeyBytes + kTag,
             reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), wrapped, master_.data()) == 0;
}

std::size_t HandStore::open_value(std::string_view customer, std::string_view field, sqlite3_stmt* row,
                                  int column, const HandKey& dek) {
  const auto* sealed = static_cast<const std::uint8_t*>(sqlite3_column_blob(row, column));
  const auto sealed_size = static_cast<std::size_t>(sqlite3_column_bytes(row, column));
  if (sealed_size < kNonce + kTag) return kNotOpened;
  const std::size_t plain_size = sealed_size - kNonce - kTag;
  buf_.resize(plain_size + 1);
  field_ad(customer, field, ad_);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
          buf_.data(), nullptr, sealed + kNonce, plain_size, sealed + kNonce + plain_size,
          reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), sealed, dek.data()) != 0)
    return kNotOpened;
  return plain_size;
}

std::size_t HandStore::release_scan(const std::array<std::string_view, 4>& fields, std::size_t entry_bytes,
                                    std::size_t batch) {
  if (sealing_ != Sealing::aead) throw std::runtime_error("hand store: release_scan needs sealed values");
  if (batch == 0) throw std::runtime_error("hand store: release_scan needs a batch of at least one");
  if (release_ == nullptr)
    release_ = prepare(
        "SELECT k.customer, k.wrapped, f.field, f.sealed FROM "
        "(SELECT customer, wrapped FROM data_keys WHERE customer > ?1 ORDER BY customer LIMIT ?2) k "
        "JOIN fields f ON f.customer = k.customer AND f.field IN (?3, ?4, ?5, ?6)");
  prepare_log();
  // The log rows' bytes are drawn once: what each row holds costs nothing beyond its write.
  entry_.resize(entry_bytes);
  randombytes_buf(entry_.data(), entry_.size());
  std::string after;  // every id sorts after the empty string
  std::vector<std::string> page;
  HandKey dek{};
  std::size_t opened = 0;
  for (;;) {
    page.clear();
    bind_text(release_, 1, after);
    sqlite3_bind_int64(release_, 2, static_cast<sqlite3_int64>(batch));
    for (int i = 0; i < 4; ++i) bind_text(release_, i + 3, fields[static_cast<std::size_t>(i)]);
    int rc = SQLITE_DONE;
    const char* failed = nullptr;
    while (failed == nullptr && (rc = sqlite3_step(release_)) == SQLITE_ROW) {
      const std::string_view customer(reinterpret_cast<const char*>(sqlite3_column_text(release_, 0)),
                                      static_cast<std::size_t>(sqlite3_column_bytes(release_, 0)));
      // The page's keys are the outer loop of the join, in key order, so a customer's rows come
      // together: their data key is unwrapped once, at the first.
      if (!page.empty() && customer < page.back()) {
        failed = "the release scan's rows came out of key order";
      } else if (page.empty() || page.back() != customer) {
        page.emplace_back(customer);
        if (!unwrap(customer, release_, 1, dek)) failed = "a data key failed to unwrap in the release scan";
      }
      if (failed) break;
      const std::string_view field(reinterpret_cast<const char*>(sqlite3_column_text(release_, 2)),
                                   static_cast<std::size_t>(sqlite3_column_bytes(release_, 2)));
      if (open_value(page.back(), field, release_, 3, dek) == kNotOpened)
        failed = "a value failed to open in the release scan";
      else
        ++opened;
    }
    sqlite3_reset(release_);
    if (failed) {
      sodium_memzero(dek.data(), dek.size());
      throw std::runtime_error(std::string("hand store: ") + failed);
    }
    if (rc != SQLITE_DONE) fail("release scan");
    if (page.empty()) break;
    // One log row per customer read, the page's rows committed together with synchronous = FULL.
    begin();
    for (const std::string& customer : page) append_log(customer);
    commit();
    after = page.back();
  }
  sodium_memzero(dek.data(), dek.size());
  return opened;
}

void HandStore::log_read(const std::string& customer, std::size_t entry_bytes) {
  prepare_log();
  entry_.resize(entry_bytes);
  randombytes_buf(entry_.data(), entry_.size());
  append_log(customer);
}

void HandStore::prepare_log() {
  if (log_ == nullptr) {
    exec(
        "CREATE TABLE IF NOT EXISTS read_log(customer TEXT NOT NULL, at INTEGER NOT NULL, entry BLOB NOT "
        "NULL)",
        "creating read_log");
    log_ = prepare("INSERT INTO read_log(customer, at, entry) VALUES(?1, ?2, ?3)");
  }
}

void HandStore::append_log(const std::string& customer) {
  bind_text(log_, 1, customer);
  sqlite3_bind_int64(log_, 2, static_cast<sqlite3_int64>(std::time(nullptr)));
  sqlite3_bind_blob64(log_, 3, entry_.data(), entry_.size(), SQLITE_STATIC);
  const int rc = sqlite3_step(log_);
  sqlite3_reset(log_);
  if (rc != SQLITE_DONE) fail("log");
}

namespace {

constexpr std::string_view kLookupMeta = "hand.lookup";

// lookup_hash is the first `bits` bits of BLAKE2b keyed with `key` over `text`.
std::int64_t lookup_hash(const HandKey& key, std::string_view text, int bits) {
  std::uint8_t digest[8];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const std::uint8_t*>(text.data()), text.size(),
                     key.data(), key.size());
  std::uint64_t h = 0;
  for (const std::uint8_t b : digest) h = (h << 8) | b;
  return static_cast<std::int64_t>(h >> (64 - bits));
}

}  // namespace

void HandStore::add_lookups(std::size_t customers, int bits) {
  exec(
      "CREATE TABLE lookups(customer TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL, "
      "PRIMARY KEY(customer, field)) WITHOUT ROWID; "
      "CREATE INDEX lookups_by_value ON lookups(field, value)",
      "create lookups");
  HandKey key{};
  randombytes_buf(key.data(), key.size());
  begin();
  // The key and the length, as a process would keep them.
  sqlite3_stmt* meta = prepare("INSERT INTO meta(key, value) VALUES(?1, ?2)");
  std::uint8_t stored[kHandKeyBytes + 1];
  std::copy(key.begin(), key.end(), stored);
  stored[kHandKeyBytes] = static_cast<std::uint8_t>(bits);
  bind_text(meta, 1, kLookupMeta);
  sqlite3_bind_blob(meta, 2, stored, sizeof stored, SQLITE_STATIC);
  const int meta_rc = sqlite3_step(meta);
  sqlite3_finalize(meta);
  if (meta_rc != SQLITE_DONE) fail("insert lookup key");
  sqlite3_stmt* put = prepare("INSERT INTO lookups(customer, field, value) VALUES(?1, 'email', ?2)");
  for (std::size_t i = 0; i < customers; ++i) {
    const std::string id = customer_id(i);
    bind_text(put, 1, id);
    sqlite3_bind_int64(put, 2, lookup_hash(key, field_value(i, 0), bits));
    const int rc = sqlite3_step(put);
    sqlite3_reset(put);
    if (rc != SQLITE_DONE) {
      sqlite3_finalize(put);
      fail("insert lookup");
    }
  }
  sqlite3_finalize(put);
  commit();
  sodium_memzero(key.data(), key.size());
}

std::vector<std::string> HandStore::find_email(std::string_view email) {
  if (!find_) {
    sqlite3_stmt* meta = prepare("SELECT value FROM meta WHERE key = ?1");
    bind_text(meta, 1, kLookupMeta);
    const bool found = sqlite3_step(meta) == SQLITE_ROW && sqlite3_column_bytes(meta, 0) == kHandKeyBytes + 1;
    if (found) {
      const auto* stored = static_cast<const std::uint8_t*>(sqlite3_column_blob(meta, 0));
      std::copy(stored, stored + kHandKeyBytes, lookup_key_.begin());
      lookup_bits_ = stored[kHandKeyBytes];
    }
    sqlite3_finalize(meta);
    if (!found) throw std::runtime_error("hand store: no lookup index (add_lookups first)");
    find_ = prepare("SELECT customer FROM lookups WHERE field = 'email' AND value = ?1");
    candidate_ = prepare("SELECT sealed FROM fields WHERE customer = ?1 AND field = 'email'");
  }
  // One read transaction for the whole search, as the vault reads it in one snapshot: one lock
  // and one look at the WAL, not one per statement.
  if (!read_begin_) {
    read_begin_ = prepare("BEGIN");
    read_end_ = prepare("COMMIT");
  }
  if (sqlite3_step(read_begin_) != SQLITE_DONE) fail("begin read");
  sqlite3_reset(read_begin_);
  struct EndRead {
    sqlite3_stmt* end;
    ~EndRead() {
      sqlite3_step(end);
      sqlite3_reset(end);
    }
  } end_read{read_end_};
  std::vector<std::string> candidates;
  sqlite3_bind_int64(find_, 1, lookup_hash(lookup_key_, email, lookup_bits_));
  int rc;
  while ((rc = sqlite3_step(find_)) == SQLITE_ROW)
    candidates.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(find_, 0)),
                            static_cast<std::size_t>(sqlite3_column_bytes(find_, 0)));
  sqlite3_reset(find_);
  if (rc != SQLITE_DONE) fail("find");
  std::vector<std::string> out;
  for (const std::string& customer : candidates) {
    auto it = keys_.find(customer);
    if (it == keys_.end()) throw std::runtime_error("hand store: no data key for a candidate");
    bind_text(candidate_, 1, customer);
    if (sqlite3_step(candidate_) != SQLITE_ROW) fail("read candidate");
    const auto* sealed = static_cast<const std::uint8_t*>(sqlite3_column_blob(candidate_, 0));
    const auto sealed_size = static_cast<std::size_t>(sqlite3_column_bytes(candidate_, 0));
    const std::size_t plain_size = sealed_size >= kNonce + kTag ? sealed_size - kNonce - kTag : 0;
    buf_.resize(plain_size + 1);
    field_ad(customer, "email", ad_);
    const bool opened =
        sealed_size >= kNonce + kTag &&
        crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            buf_.data(), nullptr, sealed + kNonce, plain_size, sealed + kNonce + plain_size,
            reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), sealed, it->second.data()) == 0;
    sqlite3_reset(candidate_);
    if (!opened) throw std::runtime_error("hand store: a value failed to open");
    if (std::string_view(reinterpret_cast<const char*>(buf_.data()), plain_size) == email)
      out.push_back(customer);
  }
  return out;
}

std::vector<std::string> HandStore::eligible(std::string_view purpose, std::int64_t now) {
  std::vector<std::string> out;
  bind_text(scan_, 1, purpose);
  std::string current;
  bool granted = false;
  auto settle = [&] {
    if (granted) out.push_back(current);
  };
  int rc;
  while ((rc = sqlite3_step(scan_)) == SQLITE_ROW) {
    const auto* c = reinterpret_cast<const char*>(sqlite3_column_text(scan_, 0));
    const auto n = static_cast<std::size_t>(sqlite3_column_bytes(scan_, 0));
    if (std::string_view(c, n) != current) {
      settle();
      current.assign(c, n);
    }
    const std::string_view action(reinterpret_cast<const char*>(sqlite3_column_text(scan_, 1)),
                                  static_cast<std::size_t>(sqlite3_column_bytes(scan_, 1)));
    granted = action == "grant" &&
              (sqlite3_column_type(scan_, 2) == SQLITE_NULL || sqlite3_column_int64(scan_, 2) > now);
  }
  settle();
  sqlite3_reset(scan_);
  if (rc != SQLITE_DONE) fail("scan");
  return out;
}

void HandStore::build(const std::filesystem::path& file, Sealing sealing, std::string_view cipher_key,
                      std::size_t customers, std::size_t batch, const ConsentPlan& plan) {
  auto h = create(file, sealing, cipher_key);
  const std::int64_t at = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<std::pair<std::string, std::string>> fields(kFields.size());
  for (std::size_t first = 0; first < customers; first += batch) {
    h->begin();
    for (std::size_t i = first; i < std::min(customers, first + batch); ++i) {
      for (std::size_t f = 0; f < kFields.size(); ++f)
        fields[f] = {std::string(kFields[f]), field_value(i, f)};
      h->put_customer(customer_id(i), fields, kSource, at);
    }
    h->commit();
  }
  // Ten years, as the bench policy's consent_valid_for.
  const std::int64_t expires = at + std::int64_t{10} * 36525 * 864;
  h->begin();
  for (std::size_t i = 0; i < customers; ++i) {
    if (!plan.grants(i)) continue;
    h->append_consent(customer_id(i), kReadPurpose, "grant", at, expires);
    if (plan.withdraws(i)) h->append_consent(customer_id(i), kReadPurpose, "withdraw", at, 0);
  }
  h->commit();
}

std::filesystem::path cached_hand_store(std::string_view name, Sealing sealing, std::string_view cipher_key,
                                        std::size_t customers, const ConsentPlan& plan, int lookup_bits) {
  const std::filesystem::path file = data_dir() / (std::string(name) + "." + std::string(kDataFormat) + "." +
                                                   std::string(kHandSchema) + ".db");
  if (std::filesystem::exists(file)) return file;
  const std::filesystem::path building = file.string() + ".building";
  HandStore::build(building, sealing, cipher_key, customers, 1000, plan);
  if (lookup_bits > 0) HandStore::open(building, sealing, cipher_key)->add_lookups(customers, lookup_bits);
  // Closed above, so the WAL is checkpointed into the main file and removed.
  remove_db(file);
  std::filesystem::rename(building, file);
  remove_db(building);
  return file;
}

}  // namespace consentry::bench
