// bench_data.hpp: the data every benchmark uses (customers, ten field values, consent pattern,
// the bench policy), the dataset sizes per scale, and process memory figures. Standard library
// only, so that the SQLCipher executable, which must not link consentry, shares it too.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/resource.h>
#endif
#include <string>
#include <string_view>
#include <vector>

namespace consentry::bench {

/// Scale is the size class of the datasets: full (the sizes of issue 4) or tiny (a CI smoke run).
enum class Scale { full, tiny };

/// scale reads CONSENTRY_BENCH_SCALE: "tiny" shrinks every dataset; anything else is full.
inline Scale scale() {
  const char* s = std::getenv("CONSENTRY_BENCH_SCALE");
  return (s && std::string_view(s) == "tiny") ? Scale::tiny : Scale::full;
}

inline std::string_view to_string(Scale s) {
  return s == Scale::tiny ? "tiny" : "full";
}

/// Sizes are the dataset sizes of one scale.
struct Sizes {
  std::size_t import_customers;  ///< W4
  std::size_t import_batch;      ///< W4: customers per transaction, both sides
  std::size_t scan_customers;    ///< W5
  std::size_t read_small;        ///< W3, W7 (small vault), W8
  std::size_t read_large;        ///< W7 (large vault)
};

inline Sizes sizes(Scale s) {
  if (s == Scale::tiny) return {200, 50, 200, 100, 1000};
  return {100'000, 1000, 100'000, 10'000, 1'000'000};
}

/// kReadGrantEvery: in the read vaults (W3, W7, W8) every tenth customer consents to
/// marketing.email, and reads go to those customers only.
inline constexpr std::size_t kReadGrantEvery = 10;

/// data_dir is where built datasets are cached between runs: CONSENTRY_BENCH_DATA, or
/// "bench-data" in the working directory.
inline std::filesystem::path data_dir() {
  const char* d = std::getenv("CONSENTRY_BENCH_DATA");
  std::filesystem::path p = (d && *d) ? std::filesystem::path(d) : std::filesystem::path("bench-data");
  std::filesystem::create_directories(p);
  return p;
}

/// kDataFormat names the generator below; cached datasets carry it in their file names, so a
/// change to the data makes the suite build new ones instead of reusing stale ones. d2: vaults
/// whose pages were all written through the store's scrubbing VFS (meta pages_scrubbed).
inline constexpr std::string_view kDataFormat = "d2";

/// kPassphrase unlocks every bench vault (created with KdfStrength::minimum).
inline constexpr std::string_view kPassphrase = "bench passphrase";
inline constexpr std::string_view kSource = "bench-import";
inline constexpr std::string_view kReadPurpose = "marketing.email";
inline constexpr std::string_view kReadAccessor = "email-campaigns";
/// kLoggedEntryBytes is the size of the row a durable read baseline (W3, PG3) commits per read: a
/// round figure of the order of the vault's audit entry for a read of W3's three fields (its
/// encoding, the previous hash and its own).
inline constexpr std::size_t kLoggedEntryBytes = 256;

/// kReadFields are the three fields a consented read (W3, W7, W8) reveals.
inline constexpr std::array<std::string_view, 3> kReadFields = {"email", "first_name", "city"};

/// B3's accessor, purpose and fields (bench/bulk_cli.py), from the bench policy: B3R and PGB3R
/// release them. The purpose is a legitimate interest, so every customer is eligible.
inline constexpr std::string_view kReleaseAccessor = "bi-dashboard";
inline constexpr std::string_view kReleasePurpose = "analytics";
inline constexpr std::array<std::string_view, 4> kReleaseFields = {"birth_date", "city", "country",
                                                                   "loyalty_points"};

/// check_released throws unless a release of `customers` opened four values each (B3R, PGB3R:
/// both sides must agree).
inline void check_released(std::size_t values, std::size_t customers) {
  if (values != customers * kReleaseFields.size())
    throw std::runtime_error("released " + std::to_string(values) + " values, expected " +
                             std::to_string(customers * kReleaseFields.size()));
}

/// kFields are the ten fields of every customer, in the order they are written.
inline constexpr std::array<std::string_view, 10> kFields = {
    "email",  "first_name", "last_name", "birth_date", "phone",
    "street", "city",       "postcode",  "country",    "loyalty_points"};

/// kPolicy declares the ten fields. marketing.email reveals the three read fields in clear.
inline constexpr std::string_view kPolicy = R"({
  "consentry_policy": 1,
  "controller": {"name": "Bench Retail Ltd", "contact": "privacy@bench.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account"},
    {"id": "marketing.email", "basis": "consent", "description": "Offers by email",
     "consent_valid_for": "P10Y"},
    {"id": "analytics", "basis": "legitimate_interest", "description": "Aggregate reports"},
    {"id": "profiling", "basis": "consent", "description": "Predictions"}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"]},
    {"id": "email-campaigns", "purposes": ["marketing.email"]},
    {"id": "bi-dashboard", "purposes": ["analytics"]}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact", "retention": "P10Y",
     "access": {"service": "clear", "marketing.email": "clear", "analytics": "pseudonym"}},
    {"name": "first_name", "type": "string", "category": "identity",
     "access": {"service": "clear", "marketing.email": "clear"}},
    {"name": "last_name", "type": "string", "category": "identity", "access": {"service": "clear"}},
    {"name": "birth_date", "type": "date", "category": "identity",
     "access": {"service": "clear", "analytics": "generalise:year"}},
    {"name": "phone", "type": "phone", "category": "contact", "access": {"service": "mask:last4"}},
    {"name": "street", "type": "string", "category": "contact", "access": {"service": "clear"}},
    {"name": "city", "type": "string", "category": "contact",
     "access": {"service": "clear", "marketing.email": "clear", "analytics": "clear"}},
    {"name": "postcode", "type": "string", "category": "contact", "access": {"service": "clear"}},
    {"name": "country", "type": "string", "category": "contact",
     "access": {"service": "clear", "analytics": "clear"}},
    {"name": "loyalty_points", "type": "integer", "category": "commercial",
     "access": {"service": "clear", "analytics": "clear"}}
  ]
})";

/// customer_id is the id of customer `i` ("C-0000042"): fixed width, so ids sort like numbers.
inline std::string customer_id(std::size_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "C-%07zu", i);
  return buf;
}

/// field_value is the value of field `f` (an index into kFields) of customer `i`, already in
/// the canonical form the vault stores, so both sides of a comparison seal identical text.
inline std::string field_value(std::size_t i, std::size_t f) {
  static constexpr std::array<std::string_view, 16> kFirst = {
      "ann",  "bob", "carla", "dev",  "eve",    "farid", "greta", "hugo",
      "ines", "jon", "kemal", "lena", "moritz", "nadia", "oscar", "priya"};
  static constexpr std::array<std::string_view, 16> kLast = {
      "smith", "jones",  "taylor",   "brown",    "williams", "wilson", "johnson", "davies",
      "patel", "wright", "robinson", "thompson", "evans",    "walker", "white",   "roberts"};
  static constexpr std::array<std::string_view, 12> kCities = {
      "London",    "Manchester", "Birmingham", "Leeds",   "Glasgow", "Bristol",
      "Liverpool", "Sheffield",  "Edinburgh",  "Cardiff", "Belfast", "Nottingham"};
  static constexpr std::array<std::string_view, 8> kStreets = {"High Street", "Station Road", "Church Lane",
                                                               "Park Avenue", "Mill Lane",    "Victoria Road",
                                                               "Green Lane",  "Queens Road"};
  const std::string_view first = kFirst[i % kFirst.size()];
  const std::string_view last = kLast[(i / kFirst.size()) % kLast.size()];
  char buf[96];
  switch (f) {
    case 0:
      std::snprintf(buf, sizeof buf, "%.*s.%.*s%zu@example.com", static_cast<int>(first.size()), first.data(),
                    static_cast<int>(last.size()), last.data(), i);
      return buf;
    case 1: return std::string(first);
    case 2: return std::string(last);
    case 3:
      std::snprintf(buf, sizeof buf, "%04zu-%02zu-%02zu", 1940 + i % 60, 1 + (i / 60) % 12,
                    1 + (i / 720) % 28);
      return buf;
    case 4: std::snprintf(buf, sizeof buf, "+4420%08zu", (i * 7919) % 100'000'000); return buf;
    case 5:
      std::snprintf(buf, sizeof buf, "%zu %s", 1 + i % 200, kStreets[i % kStreets.size()].data());
      return buf;
    case 6: return std::string(kCities[(i / 3) % kCities.size()]);
    case 7:
      std::snprintf(buf, sizeof buf, "SW%zu %zu%c%c", 1 + i % 20, i % 10, 'A' + static_cast<char>(i % 26),
                    'A' + static_cast<char>((i / 26) % 26));
      return buf;
    case 8: return "GB";
    default: return std::to_string((i * 7919) % 100'000);
  }
}

/// ConsentPlan says which customers consent to kReadPurpose, and which of them withdraw again.
struct ConsentPlan {
  std::size_t grant_every = 1;     ///< customer i grants when i % grant_every == 0
  std::size_t withdraw_every = 0;  ///< and withdraws again when also i % withdraw_every == 0 (0: never)
  bool grants(std::size_t i) const { return i % grant_every == 0; }
  bool withdraws(std::size_t i) const { return grants(i) && withdraw_every != 0 && i % withdraw_every == 0; }
};

/// kReadPlan is the consent of the read vaults; kScanPlan that of the scan vault (W5): half
/// of the customers grant, a fifth of those withdraw again, so 40% are eligible.
inline constexpr ConsentPlan kReadPlan{kReadGrantEvery, 0};
inline constexpr ConsentPlan kScanPlan{2, 10};

/// ReadOrder yields the customers a read benchmark visits: the granted customers of a read
/// vault, in a fixed pseudo-random order (xorshift64*), the same for every side of a comparison.
class ReadOrder {
 public:
  explicit ReadOrder(std::size_t customers) {
    for (std::size_t i = 0; i < customers; i += kReadGrantEvery) {
      ids_.push_back(customer_id(i));
      index_.push_back(i);
    }
  }
  /// next returns the position (into ids() and indices()) of the next customer to read.
  std::size_t next() {
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return static_cast<std::size_t>((state_ * 0x2545F4914F6CDD1DULL) % ids_.size());
  }
  const std::vector<std::string>& ids() const { return ids_; }
  const std::vector<std::size_t>& indices() const { return index_; }

 private:
  std::vector<std::string> ids_;
  std::vector<std::size_t> index_;
  std::uint64_t state_ = 0x9E3779B97F4A7C15ULL;
};

/// field_ad builds the associated data of a sealed field the way consentry does
/// ("consentry/v1", then "field", customer, field and the seal version, each with a 4-byte
/// big-endian length), so that the hand-written baselines authenticate as many bytes.
inline void field_ad(std::string_view customer, std::string_view field, std::string& out) {
  out.assign("consentry/v1");
  auto put = [&](std::string_view part) {
    const auto n = static_cast<std::uint32_t>(part.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
    out.append(part);
  };
  put("field");
  put(customer);
  put(field);
  put("1");
}

/// status_kib reads one "Name:   123 kB" line of /proc/self/status; 0 when it is not there.
inline std::size_t status_kib(std::string_view name) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.compare(0, name.size(), name) == 0 && line.size() > name.size() && line[name.size()] == ':')
      return static_cast<std::size_t>(std::strtoull(line.c_str() + name.size() + 1, nullptr, 10));
  }
  return 0;
}

/// reset_peak_rss sets the process's peak resident set (VmHWM) back to its current size
/// (Linux: "5" into /proc/self/clear_refs). Returns false where the kernel refuses.
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

/// trim_heap hands the allocator's free memory back to the system (glibc), so that the resident
/// size counts live memory rather than what earlier work freed.
inline void trim_heap() {
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

/// MemoryWindow measures the peak resident memory of a stretch of work: the process's peak
/// (VmHWM) after it, and how far that peak rose above the resident size before it (the heap is
/// trimmed first, so memory freed by earlier work is not reused unseen).
class MemoryWindow {
 public:
  MemoryWindow() : reset_((trim_heap(), reset_peak_rss())), rss_before_kib_(status_kib("VmRSS")) {}
  double peak_mib() const { return static_cast<double>(status_kib("VmHWM")) / 1024.0; }
  double growth_mib() const {
    const std::size_t hwm = status_kib("VmHWM");
    return hwm > rss_before_kib_ ? static_cast<double>(hwm - rss_before_kib_) / 1024.0 : 0.0;
  }
  /// exact is false when the peak could not be reset, so the peak may predate the window.
  bool exact() const { return reset_; }

 private:
  bool reset_;
  std::size_t rss_before_kib_;
};

/// process_cpu_seconds is the CPU time the process has used so far, user and system, on all of
/// its threads: a stretch of work that runs on several cores takes more of it than of wall time.
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/// warm_file reads a file through once so that the operating system caches it ("warm" reads).
inline void warm_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> buf(1 << 20);
  while (in.read(buf.data(), static_cast<std::streamsize>(buf.size())) || in.gcount() > 0) {
  }
}

/// remove_db removes an SQLite file and its -wal, -shm and -journal companions.
inline void remove_db(const std::filesystem::path& file) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(file.string() + suffix, ec);
}

}  // namespace consentry::bench
