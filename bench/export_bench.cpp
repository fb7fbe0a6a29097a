// export_bench.cpp: R1, the customer's export of a customer with 50 fields and 1,000 audit
// entries (issue goal: under 10 ms), beside what the same work costs by hand.
//
//   R1_export/50x1000/consentry       Vault::export_subject then export_json, audit durable
//                                     (the export's own entry is committed and synced before
//                                     the export is returned, as in production)
//   R1_export/50x1000/consentry_html  the same, rendered as the HTML page
//   R1_export/50x1000/baseline        by hand on the same vault file: one prepared SELECT of
//                                     the customer's 50 sealed rows and one of their audit rows
//                                     (by the log's customer column), and 50 raw AEAD opens of
//                                     values of the same sizes sealed under a key in memory
//
// Each export adds one entry to the log, so the log grows by one entry per iteration from 1,000.
#include <sodium.h>
#include <sqlite3.h>

#include <array>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kExportFields = 50;
constexpr std::size_t kExportEntries = 1000;
constexpr const char* kExportCustomer = "C-export";

std::string field_name(std::size_t i) {
  return "f" + std::to_string(100 + i).substr(1);
}

std::string field_value(std::size_t i) {
  return "value " + std::to_string(i) + " of the exported customer, " + std::string(i % 24, 'x');
}

// export_policy declares kExportFields string fields, all readable in clear for service.
const Policy& export_policy() {
  static const Policy policy = [] {
    std::string fields;
    for (std::size_t i = 0; i < kExportFields; ++i) {
      if (i) fields += ",";
      fields +=
          R"({"name": ")" + field_name(i) + R"(", "type": "string", "category": "contact", "retention": "P3Y",
                  "access": {"service": "clear"}})";
    }
    const std::string text = R"({"consentry_policy": 1,
      "controller": {"name": "Bench Retail", "contact": "privacy@bench.example"},
      "purposes": [{"id": "service", "basis": "contract", "description": "Run the account"}],
      "accessors": [{"id": "support-desk", "purposes": ["service"]}],
      "fields": [)" + fields +
                             "]}";
    auto p = Policy::parse(text, "export bench policy");
    if (!p) throw std::runtime_error(p.err().message);
    return std::move(*p);
  }();
  return policy;
}

// export_vault builds, once per process, a vault holding one customer with every field and
// kExportEntries audit entries about them (one view opened, then single-field reads).
std::filesystem::path export_vault() {
  static const std::filesystem::path file = [] {
    const auto f = data_dir() / "export-50x1000.vault";
    remove_db(f);
    auto v = Vault::create(f, export_policy(), kPassphrase, bench_options(AuditMode::batched));
    if (!v) throw std::runtime_error(v.err().message);
    std::vector<Record> records(1);
    records[0].customer = kExportCustomer;
    records[0].source = "bench-import";
    for (std::size_t i = 0; i < kExportFields; ++i)
      records[0].fields.emplace_back(field_name(i), field_value(i));
    if (auto w = v->write(records); !w) throw std::runtime_error(w.err().message);
    auto desk = v->accessor("support-desk");
    if (!desk) throw std::runtime_error(desk.err().message);
    auto view = desk->view(kExportCustomer, "service");
    if (!view) throw std::runtime_error(view.err().message);
    // value_written and view_opened are two entries; the reads make up the rest.
    for (std::size_t i = 2; i < kExportEntries; ++i) {
      const std::string name = field_name(i % kExportFields);
      const std::string_view one[] = {name};
      if (auto r = view->read(one); !r) throw std::runtime_error(r.err().message);
    }
    return f;
  }();
  return file;
}

void export_consentry(benchmark::State& state, AuditMode mode, bool html) {
  const auto file = export_vault();
  warm_file(file);
  Vault vault = open_bench_vault(file, mode);
  std::size_t bytes_out = 0;
  for (auto _ : state) {
    auto report = vault.export_subject(kExportCustomer);
    if (!report) throw std::runtime_error(report.err().message);
    if (report->fields.size() != kExportFields || report->accesses.size() < kExportEntries)
      throw std::runtime_error("the export misses fields or accesses");
    const std::string text = html ? export_html(*report) : export_json(*report);
    bytes_out = text.size();
    benchmark::DoNotOptimize(text.data());
  }
  state.counters["export_bytes"] = static_cast<double>(bytes_out);
}

// HandExport is the baseline's connection, statements and sealed values.
class HandExport {
 public:
  HandExport(const std::filesystem::path& file, std::string pseudonym) : pseudonym_(std::move(pseudonym)) {
    if (sqlite3_open_v2(file.c_str(), &db_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "SELECT field, sealed, source, collected_at FROM fields WHERE customer = ?1",
                           -1, &fields_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db_, "SELECT seq, at, entry FROM audit WHERE customer = ?1 ORDER BY seq", -1,
                           &audit_, nullptr) != SQLITE_OK)
      throw std::runtime_error(std::string("hand export: ") + sqlite3_errmsg(db_));
    crypto_aead_xchacha20poly1305_ietf_keygen(key_.data());
    for (std::size_t i = 0; i < kExportFields; ++i) {
      const std::string plain = field_value(i);
      std::vector<unsigned char> sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + plain.size() +
                                        crypto_aead_xchacha20poly1305_ietf_ABYTES);
      randombytes_buf(sealed.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
      unsigned long long n = 0;
      crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 &n, reinterpret_cast<const unsigned char*>(plain.data()),
                                                 plain.size(), nullptr, 0, nullptr, sealed.data(),
                                                 key_.data());
      sealed_.push_back(std::move(sealed));
    }
  }
  HandExport(const HandExport&) = delete;
  HandExport& operator=(const HandExport&) = delete;
  ~HandExport() {
    sqlite3_finalize(fields_);
    sqlite3_finalize(audit_);
    sqlite3_close(db_);
  }

  // run reads the rows and opens the values; returns the bytes it read and decrypted.
  std::size_t run() {
    std::size_t total = 0;
    sqlite3_bind_text(fields_, 1, kExportCustomer, -1, SQLITE_STATIC);
    while (sqlite3_step(fields_) == SQLITE_ROW)
      total += static_cast<std::size_t>(sqlite3_column_bytes(fields_, 1));
    sqlite3_reset(fields_);
    sqlite3_bind_text(audit_, 1, pseudonym_.c_str(), -1, SQLITE_STATIC);
    std::size_t entries = 0;
    while (sqlite3_step(audit_) == SQLITE_ROW) {
      total += static_cast<std::size_t>(sqlite3_column_bytes(audit_, 2));
      ++entries;
    }
    sqlite3_reset(audit_);
    if (entries < kExportEntries) throw std::runtime_error("the baseline found too few audit rows");
    std::array<unsigned char, 256> plain{};
    for (const auto& sealed : sealed_) {
      unsigned long long n = 0;
      if (crypto_aead_xchacha20poly1305_ietf_decrypt(
              plain.data(), &n, nullptr, sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
              sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, nullptr, 0, sealed.data(),
              key_.data()) != 0)
        throw std::runtime_error("the baseline failed to open its own value");
      total += n;
    }
    return total;
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* fields_ = nullptr;
  sqlite3_stmt* audit_ = nullptr;
  std::string pseudonym_;
  std::array<unsigned char, crypto_aead_xchacha20poly1305_ietf_KEYBYTES> key_{};
  std::vector<std::vector<unsigned char>> sealed_;
};

void export_baseline(benchmark::State& state) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  const auto file = export_vault();
  std::string pseudonym;
  {
    Vault vault = open_bench_vault(file, AuditMode::off);
    pseudonym = vault.audit_pseudonym(kExportCustomer);
  }
  warm_file(file);
  HandExport hand(file, pseudonym);
  for (auto _ : state) benchmark::DoNotOptimize(hand.run());
}

}  // namespace

void register_export_benchmarks(const Sizes&) {
  const std::string name =
      "R1_export/" + std::to_string(kExportFields) + "x" + std::to_string(kExportEntries);
  auto add = [&](const std::string& side, auto body) {
    benchmark::RegisterBenchmark((name + "/" + side).c_str(),
                                 [body](benchmark::State& st) { guarded(st, body); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  };
  add("consentry", [](benchmark::State& s) { export_consentry(s, AuditMode::durable, false); });
  add("consentry_html", [](benchmark::State& s) { export_consentry(s, AuditMode::durable, true); });
  add("baseline", [](benchmark::State& s) { export_baseline(s); });
}

}  // namespace consentry::bench
