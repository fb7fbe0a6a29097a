// hand_pg_store.cpp: the hand-written libpq + libsodium baseline (see hand_pg_store.hpp).
#include "hand_pg_store.hpp"

#include <libpq-fe.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <stdexcept>

namespace consentry::bench {
namespace {

// The tables of a consentry vault on PostgreSQL that hold customer data (postgres_schema.cpp),
// with the same columns, keys and indexes; `meta` keeps the baseline's master key.
constexpr std::string_view kSchema = R"sql(
CREATE SCHEMA @S;
CREATE TABLE @S.meta(key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE @S.data_keys(
  customer text COLLATE "C" PRIMARY KEY,
  version bigint NOT NULL CHECK (version >= 0 AND version <= 4294967295),
  wrapped bytea NOT NULL
);
CREATE TABLE @S.fields(
  customer text COLLATE "C" NOT NULL,
  field text COLLATE "C" NOT NULL,
  sealed bytea NOT NULL,
  source text NOT NULL,
  collected_at bigint NOT NULL,
  format bigint NOT NULL,
  PRIMARY KEY (customer, field)
);
CREATE INDEX fields_by_field ON @S.fields(field, customer);
CREATE TABLE @S.consent_events(
  customer text COLLATE "C" NOT NULL,
  seq bigint NOT NULL,
  purpose text COLLATE "C" NOT NULL,
  action text NOT NULL CHECK (action IN ('grant', 'withdraw', 'object')),
  at bigint NOT NULL,
  channel text NOT NULL,
  notice text NOT NULL,
  expires_at bigint,
  policy_version bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (customer, seq)
);
CREATE INDEX consent_events_by_purpose ON @S.consent_events(purpose, customer, seq);
)sql";

constexpr std::size_t kNonce = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr std::size_t kTag = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr std::size_t kWrapped = kNonce + kHandKeyBytes + kTag;

// PgResultGuard clears a PGresult when it goes out of scope.
struct PgResultGuard {
  PGresult* r;
  ~PgResultGuard() { PQclear(r); }
};

pg_conn* connect(const std::string& url) {
  PGconn* conn = PQconnectdb(url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    const std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("hand PostgreSQL store: connecting: " + msg);
  }
  return conn;
}

// append_bytea appends `data` as a bytea in COPY's text format (\\x and hex digits).
void append_bytea(std::string& out, const std::uint8_t* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\\\x";
  for (std::size_t i = 0; i < size; ++i) {
    out += kHex[data[i] >> 4];
    out += kHex[data[i] & 15];
  }
}

std::int64_t be64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return static_cast<std::int64_t>(v);
}

}  // namespace

HandPgStore::HandPgStore(pg_conn* conn, std::string schema) : conn_(conn), schema_(std::move(schema)) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
}

HandPgStore::~HandPgStore() {
  PQfinish(conn_);
  sodium_memzero(master_.data(), master_.size());
  for (auto& [customer, key] : keys_) sodium_memzero(key.data(), key.size());
}

void HandPgStore::fail(const char* step) const {
  throw std::runtime_error(std::string("hand PostgreSQL store: ") + step + ": " + PQerrorMessage(conn_));
}

std::string HandPgStore::with_schema(std::string_view sql) const {
  std::string out;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] == '@' && i + 1 < sql.size() && sql[i + 1] == 'S') {
      out += schema_;
      ++i;
    } else {
      out += sql[i];
    }
  }
  return out;
}

void HandPgStore::exec(std::string_view sql, const char* step) {
  PgResultGuard r{PQexec(conn_, with_schema(sql).c_str())};
  const auto status = PQresultStatus(r.r);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) fail(step);
}

std::string HandPgStore::scalar(std::string_view sql) {
  PgResultGuard r{PQexec(conn_, with_schema(sql).c_str())};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK || PQntuples(r.r) != 1 || PQnfields(r.r) != 1) fail("scalar");
  return PQgetvalue(r.r, 0, 0);
}

void HandPgStore::prepare_all() {
  auto prepare = [&](const char* name, std::string_view sql, int params) {
    PgResultGuard r{PQprepare(conn_, name, with_schema(sql).c_str(), params, nullptr)};
    if (PQresultStatus(r.r) != PGRES_COMMAND_OK) fail(name);
  };
  prepare("read", "SELECT field, sealed FROM @S.fields WHERE customer = $1 AND field IN ($2, $3, $4)", 4);
  prepare(
      "scan",
      "SELECT customer, action, expires_at FROM @S.consent_events WHERE purpose = $1 ORDER BY customer, seq",
      1);
}

std::unique_ptr<HandPgStore> HandPgStore::create(const std::string& url, const std::string& schema) {
  drop_pg_schema(url, schema);
  std::unique_ptr<HandPgStore> h(new HandPgStore(connect(url), schema));
  h->exec("BEGIN", "begin");
  h->exec(kSchema, "schema");
  // A bench schema keeps its master key beside the data; a real deployment would hold it elsewhere.
  randombytes_buf(h->master_.data(), h->master_.size());
  std::string rows = "hand.master\t";
  append_bytea(rows, h->master_.data(), h->master_.size());
  rows += '\n';
  h->copy("COPY @S.meta(key, value) FROM STDIN", rows, "storing the master key");
  h->exec("COMMIT", "commit");
  h->prepare_all();
  return h;
}

std::unique_ptr<HandPgStore> HandPgStore::open(const std::string& url, const std::string& schema) {
  std::unique_ptr<HandPgStore> h(new HandPgStore(connect(url), schema));
  PgResultGuard r{PQexecParams(h->conn_,
                               h->with_schema("SELECT value FROM @S.meta WHERE key = 'hand.master'").c_str(),
                               0, nullptr, nullptr, nullptr, nullptr, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK || PQntuples(r.r) != 1 ||
      PQgetlength(r.r, 0, 0) != static_cast<int>(kHandKeyBytes))
    throw std::runtime_error("hand PostgreSQL store: schema " + schema + " has no master key");
  std::memcpy(h->master_.data(), PQgetvalue(r.r, 0, 0), kHandKeyBytes);
  h->prepare_all();
  return h;
}

std::unique_ptr<HandPgStore> HandPgStore::open_raw(const std::string& url) {
  return std::unique_ptr<HandPgStore>(new HandPgStore(connect(url), std::string()));
}

bool HandPgStore::has_table(const std::string& schema, const std::string& table) {
  return scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = '" + schema +
                "' AND table_name = '" + table + "'") != "0";
}

void HandPgStore::copy(std::string_view sql, const std::string& rows, const char* step) {
  {
    PgResultGuard r{PQexec(conn_, with_schema(sql).c_str())};
    if (PQresultStatus(r.r) != PGRES_COPY_IN) fail(step);
  }
  if (PQputCopyData(conn_, rows.data(), static_cast<int>(rows.size())) != 1 ||
      PQputCopyEnd(conn_, nullptr) != 1)
    fail(step);
  bool ok = true;
  while (PGresult* r = PQgetResult(conn_)) {
    ok = ok && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
  }
  if (!ok) fail(step);
}

void HandPgStore::copy_customers(const std::vector<PgRecord>& records) {
  std::string keys, fields;
  HandKey dek{};
  std::uint8_t wrapped[kWrapped];
  for (const PgRecord& r : records) {
    // Wrap: nonce | ciphertext | tag under the master key, bound to the customer, as HandStore.
    randombytes_buf(dek.data(), dek.size());
    randombytes_buf(wrapped, kNonce);
    ad_.assign("consentry/v1data-key").append(r.customer);
    crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped + kNonce, nullptr, dek.data(), dek.size(),
                                               reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(),
                                               nullptr, wrapped, master_.data());
    keys.append(r.customer).append("\t1\t");
    append_bytea(keys, wrapped, kWrapped);
    keys += '\n';
    const std::string tail = "\t" + r.source + "\t" + std::to_string(r.collected_at) + "\t1\n";
    for (const auto& [field, value] : r.fields) {
      buf_.resize(kNonce + value.size() + kTag);
      randombytes_buf(buf_.data(), kNonce);
      field_ad(r.customer, field, ad_);
      crypto_aead_xchacha20poly1305_ietf_encrypt(
          buf_.data() + kNonce, nullptr, reinterpret_cast<const std::uint8_t*>(value.data()), value.size(),
          reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), nullptr, buf_.data(), dek.data());
      fields.append(r.customer).append("\t").append(field).append("\t");
      append_bytea(fields, buf_.data(), buf_.size());
      fields += tail;
    }
  }
  sodium_memzero(dek.data(), dek.size());
  exec("BEGIN", "begin");
  copy("COPY @S.data_keys(customer, version, wrapped) FROM STDIN", keys, "copying data keys");
  copy("COPY @S.fields(customer, field, sealed, source, collected_at, format) FROM STDIN", fields,
       "copying fields");
  exec("COMMIT", "commit");
}

void HandPgStore::copy_consents(std::size_t customers, const ConsentPlan& plan, std::int64_t at) {
  // Ten years, as the bench policy's consent_valid_for.
  const std::int64_t expires = at + std::int64_t{10} * 36525 * 864;
  std::string rows;
  std::int64_t seq = 0;
  for (std::size_t i = 0; i < customers; ++i) {
    if (!plan.grants(i)) continue;
    const std::string id = customer_id(i);
    rows += id + "\t" + std::to_string(++seq) + "\t" + std::string(kReadPurpose) + "\tgrant\t" +
            std::to_string(at) + "\tweb\tprivacy-bench\t" + std::to_string(expires) + "\t0\n";
    if (plan.withdraws(i))
      rows += id + "\t" + std::to_string(++seq) + "\t" + std::string(kReadPurpose) + "\twithdraw\t" +
              std::to_string(at) + "\tweb\tprivacy-bench\t\\N\t0\n";
  }
  exec("BEGIN", "begin");
  copy(
      "COPY @S.consent_events(customer, seq, purpose, action, at, channel, notice, expires_at, "
      "policy_version) "
      "FROM STDIN",
      rows, "copying consent events");
  exec("COMMIT", "commit");
}

void HandPgStore::load_keys() {
  PgResultGuard r{PQexecParams(conn_, with_schema("SELECT customer, wrapped FROM @S.data_keys").c_str(), 0,
                               nullptr, nullptr, nullptr, nullptr, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK) fail("loading data keys");
  for (int row = 0; row < PQntuples(r.r); ++row) {
    const std::string customer(PQgetvalue(r.r, row, 0), static_cast<std::size_t>(PQgetlength(r.r, row, 0)));
    const auto* wrapped = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.r, row, 1));
    ad_.assign("consentry/v1data-key").append(customer);
    HandKey& key = keys_[customer];
    if (PQgetlength(r.r, row, 1) != static_cast<int>(kWrapped) ||
        crypto_aead_xchacha20poly1305_ietf_decrypt(
            key.data(), nullptr, nullptr, wrapped + kNonce, kHandKeyBytes + kTag,
            reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), wrapped, master_.data()) != 0)
      throw std::runtime_error("hand PostgreSQL store: a data key failed to unwrap");
  }
}

std::size_t HandPgStore::read(const std::string& customer, const std::array<std::string_view, 3>& fields,
                              std::array<std::string, 3>& out) {
  auto it = keys_.find(customer);
  if (it == keys_.end()) throw std::runtime_error("hand PostgreSQL store: no data key for a read customer");
  const HandKey& dek = it->second;
  const char* values[4] = {customer.c_str(), fields[0].data(), fields[1].data(), fields[2].data()};
  const int lengths[4] = {static_cast<int>(customer.size()), static_cast<int>(fields[0].size()),
                          static_cast<int>(fields[1].size()), static_cast<int>(fields[2].size())};
  const int formats[4] = {1, 1, 1, 1};
  PgResultGuard r{PQexecPrepared(conn_, "read", 4, values, lengths, formats, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK) fail("read");
  const std::size_t n = std::min<std::size_t>(static_cast<std::size_t>(PQntuples(r.r)), out.size());
  for (std::size_t i = 0; i < n; ++i) {
    const int row = static_cast<int>(i);
    const std::string_view field(PQgetvalue(r.r, row, 0), static_cast<std::size_t>(PQgetlength(r.r, row, 0)));
    const auto* sealed = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.r, row, 1));
    const auto sealed_size = static_cast<std::size_t>(PQgetlength(r.r, row, 1));
    const std::size_t plain_size = sealed_size >= kNonce + kTag ? sealed_size - kNonce - kTag : 0;
    buf_.resize(plain_size + 1);
    field_ad(customer, field, ad_);
    if (sealed_size < kNonce + kTag ||
        crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
            buf_.data(), nullptr, sealed + kNonce, plain_size, sealed + kNonce + plain_size,
            reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), sealed, dek.data()) != 0)
      throw std::runtime_error("hand PostgreSQL store: a value failed to open");
    out[i].assign(reinterpret_cast<const char*>(buf_.data()), plain_size);
  }
  return n;
}

void HandPgStore::ensure_read_log() {
  if (read_log_ready_) return;
  exec(
      "CREATE TABLE IF NOT EXISTS @S.read_log(customer text COLLATE \"C\" NOT NULL, at bigint NOT NULL, "
      "entry bytea NOT NULL)",
      "creating read_log");
  PgResultGuard r{PQprepare(conn_, "log", with_schema("INSERT INTO @S.read_log VALUES ($1, $2, $3)").c_str(),
                            3, nullptr)};
  if (PQresultStatus(r.r) != PGRES_COMMAND_OK) fail("log");
  read_log_ready_ = true;
}

void HandPgStore::log_read(const std::string& customer, std::size_t entry_bytes) {
  ensure_read_log();
  entry_.resize(entry_bytes);
  randombytes_buf(entry_.data(), entry_.size());
  const auto at = static_cast<std::int64_t>(std::time(nullptr));
  char at_be[8];
  for (int i = 0; i < 8; ++i) at_be[i] = static_cast<char>(static_cast<std::uint64_t>(at) >> (56 - 8 * i));
  const char* values[3] = {customer.c_str(), at_be, reinterpret_cast<const char*>(entry_.data())};
  const int lengths[3] = {static_cast<int>(customer.size()), 8, static_cast<int>(entry_.size())};
  const int formats[3] = {1, 1, 1};
  PgResultGuard r{PQexecPrepared(conn_, "log", 3, values, lengths, formats, 1)};
  if (PQresultStatus(r.r) != PGRES_COMMAND_OK) fail("log");
}

std::size_t HandPgStore::release_scan(const std::array<std::string_view, 4>& fields, std::size_t entry_bytes,
                                      std::size_t batch) {
  if (batch == 0)
    throw std::runtime_error("hand PostgreSQL store: release_scan needs a batch of at least one");
  ensure_read_log();
  const std::string page_sql = with_schema(
      "SELECT k.customer, k.wrapped, f.field, f.sealed FROM "
      "(SELECT customer, wrapped FROM @S.data_keys WHERE customer > $1 ORDER BY customer LIMIT $2) k "
      "JOIN @S.fields f ON f.customer = k.customer AND f.field IN ($3, $4, $5, $6) ORDER BY k.customer");
  // The log rows' bytes are drawn once: what each row holds costs nothing beyond its write.
  entry_.resize(entry_bytes);
  randombytes_buf(entry_.data(), entry_.size());
  const auto at = static_cast<std::int64_t>(std::time(nullptr));
  char at_be[8];
  for (int i = 0; i < 8; ++i) at_be[i] = static_cast<char>(static_cast<std::uint64_t>(at) >> (56 - 8 * i));
  const std::string limit = std::to_string(batch);
  std::string after;  // every id sorts after the empty string
  std::vector<std::string> page;
  HandKey dek{};
  std::size_t opened = 0;
  for (;;) {
    page.clear();
    const char* values[6] = {after.c_str(),    limit.c_str(),    fields[0].data(),
                             fields[1].data(), fields[2].data(), fields[3].data()};
    const int lengths[6] = {static_cast<int>(after.size()),     static_cast<int>(limit.size()),
                            static_cast<int>(fields[0].size()), static_cast<int>(fields[1].size()),
                            static_cast<int>(fields[2].size()), static_cast<int>(fields[3].size())};
    const int formats[6] = {1, 0, 1, 1, 1, 1};
    PgResultGuard r{PQexecParams(conn_, page_sql.c_str(), 6, nullptr, values, lengths, formats, 1)};
    if (PQresultStatus(r.r) != PGRES_TUPLES_OK) fail("release scan");
    for (int row = 0; row < PQntuples(r.r); ++row) {
      const std::string_view customer(PQgetvalue(r.r, row, 0),
                                      static_cast<std::size_t>(PQgetlength(r.r, row, 0)));
      // A customer's rows come together (ordered by customer): its data key is unwrapped once.
      if (page.empty() || page.back() != customer) {
        page.emplace_back(customer);
        const auto* wrapped = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.r, row, 1));
        ad_.assign("consentry/v1data-key").append(customer);
        if (PQgetlength(r.r, row, 1) != static_cast<int>(kWrapped) ||
            crypto_aead_xchacha20poly1305_ietf_decrypt(dek.data(), nullptr, nullptr, wrapped + kNonce,
                                                       kHandKeyBytes + kTag,
                                                       reinterpret_cast<const std::uint8_t*>(ad_.data()),
                                                       ad_.size(), wrapped, master_.data()) != 0) {
          sodium_memzero(dek.data(), dek.size());
          throw std::runtime_error("hand PostgreSQL store: a data key failed to unwrap in the release scan");
        }
      }
      const std::string_view field(PQgetvalue(r.r, row, 2),
                                   static_cast<std::size_t>(PQgetlength(r.r, row, 2)));
      const auto* sealed = reinterpret_cast<const std::uint8_t*>(PQgetvalue(r.r, row, 3));
      const auto sealed_size = static_cast<std::size_t>(PQgetlength(r.r, row, 3));
      const std::size_t plain_size = sealed_size >= kNonce + kTag ? sealed_size - kNonce - kTag : 0;
      buf_.resize(plain_size + 1);
      field_ad(page.back(), field, ad_);
      if (sealed_size < kNonce + kTag ||
          crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
              buf_.data(), nullptr, sealed + kNonce, plain_size, sealed + kNonce + plain_size,
              reinterpret_cast<const std::uint8_t*>(ad_.data()), ad_.size(), sealed, dek.data()) != 0) {
        sodium_memzero(dek.data(), dek.size());
        throw std::runtime_error("hand PostgreSQL store: a value failed to open in the release scan");
      }
      ++opened;
    }
    if (page.empty()) break;
    // One log row per customer read, the page's rows in one INSERT, committed together.
    std::string insert = with_schema("INSERT INTO @S.read_log VALUES ");
    std::vector<const char*> log_values;
    std::vector<int> log_lengths;
    for (std::size_t i = 0; i < page.size(); ++i) {
      insert += (i ? ", ($" : "($") + std::to_string(3 * i + 1) + ", $" + std::to_string(3 * i + 2) + ", $" +
                std::to_string(3 * i + 3) + ")";
      log_values.insert(log_values.end(),
                        {page[i].c_str(), at_be, reinterpret_cast<const char*>(entry_.data())});
      log_lengths.insert(log_lengths.end(),
                         {static_cast<int>(page[i].size()), 8, static_cast<int>(entry_.size())});
    }
    const std::vector<int> log_formats(log_values.size(), 1);
    exec("BEGIN", "begin");
    PgResultGuard logged{PQexecParams(conn_, insert.c_str(), static_cast<int>(log_values.size()), nullptr,
                                      log_values.data(), log_lengths.data(), log_formats.data(), 1)};
    if (PQresultStatus(logged.r) != PGRES_COMMAND_OK) fail("logging the release");
    exec("COMMIT", "commit");
    after = page.back();
  }
  sodium_memzero(dek.data(), dek.size());
  return opened;
}

std::vector<std::string> HandPgStore::eligible(std::string_view purpose, std::int64_t now) {
  const std::string p(purpose);
  const char* values[1] = {p.c_str()};
  const int lengths[1] = {static_cast<int>(p.size())};
  const int formats[1] = {1};
  PgResultGuard r{PQexecPrepared(conn_, "scan", 1, values, lengths, formats, 1)};
  if (PQresultStatus(r.r) != PGRES_TUPLES_OK) fail("scan");
  std::vector<std::string> out;
  std::string_view current;
  bool granted = false;
  auto settle = [&] {
    if (granted) out.emplace_back(current);
  };
  for (int row = 0; row < PQntuples(r.r); ++row) {
    const std::string_view c(PQgetvalue(r.r, row, 0), static_cast<std::size_t>(PQgetlength(r.r, row, 0)));
    if (c != current) {
      settle();
      current = c;
    }
    const std::string_view action(PQgetvalue(r.r, row, 1),
                                  static_cast<std::size_t>(PQgetlength(r.r, row, 1)));
    granted = action == "grant" && (PQgetisnull(r.r, row, 2) || be64(PQgetvalue(r.r, row, 2)) > now);
  }
  settle();
  return out;
}

void drop_pg_schema(const std::string& url, const std::string& schema) {
  PGconn* conn = connect(url);
  // Notices (the cascade's list of dropped objects) are not wanted on stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  PgResultGuard r{PQexec(conn, ("DROP SCHEMA IF EXISTS " + schema + " CASCADE").c_str())};
  const bool ok = PQresultStatus(r.r) == PGRES_COMMAND_OK;
  const std::string msg = PQerrorMessage(conn);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("dropping schema " + schema + ": " + msg);
}

std::string cached_hand_pg_store(const std::string& url, std::string_view name, std::size_t customers,
                                 const ConsentPlan& plan) {
  const std::string schema = "bench_" + std::string(kDataFormat) + "_hand_" + std::string(name);
  // A schema whose build completed holds the table bench_built, created last.
  if (HandPgStore::open_raw(url)->has_table(schema, "bench_built")) return schema;
  auto h = HandPgStore::create(url, schema);
  // Building is not measured: commits need not wait for the disk.
  h->exec("SET synchronous_commit = off", "building");
  const std::int64_t at = static_cast<std::int64_t>(std::time(nullptr));
  std::vector<PgRecord> batch;
  for (std::size_t first = 0; first < customers; first += 1000) {
    batch.clear();
    for (std::size_t i = first; i < std::min(customers, first + 1000); ++i) {
      PgRecord r{customer_id(i), {}, std::string(kSource), at};
      for (std::size_t f = 0; f < kFields.size(); ++f)
        r.fields.emplace_back(std::string(kFields[f]), field_value(i, f));
      batch.push_back(std::move(r));
    }
    h->copy_customers(batch);
  }
  h->copy_consents(customers, plan, at);
  // Vacuumed as the vault's schema is (postgres_bench.cpp, cached_pg_vault).
  h->exec("VACUUM (ANALYZE)", "vacuuming");
  h->exec("CREATE TABLE @S.bench_built()", "building");
  return schema;
}

}  // namespace consentry::bench
