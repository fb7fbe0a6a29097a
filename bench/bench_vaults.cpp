// bench_vaults.cpp: building and caching the bench vaults through the public API.
#include "bench_vaults.hpp"

#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

namespace consentry::bench {

const Policy& bench_policy() {
  static const Policy policy = [] {
    auto p = Policy::parse(kPolicy, "bench policy");
    if (!p) throw std::runtime_error(p.err().message);
    return std::move(*p);
  }();
  return policy;
}

std::vector<Record> make_records(std::size_t first, std::size_t last, timestamp at) {
  std::vector<Record> records;
  records.reserve(last - first);
  for (std::size_t i = first; i < last; ++i) {
    Record r;
    r.customer = customer_id(i);
    r.source = std::string(kSource);
    r.collected_at = at;
    r.fields.reserve(kFields.size());
    for (std::size_t f = 0; f < kFields.size(); ++f)
      r.fields.emplace_back(std::string(kFields[f]), field_value(i, f));
    records.push_back(std::move(r));
  }
  return records;
}

VaultOptions bench_options(AuditMode audit) {
  VaultOptions o;
  o.kdf = KdfStrength::minimum;
  o.audit = audit;
  o.actor = "bench";
  return o;
}

std::string_view to_string(AuditMode mode) {
  switch (mode) {
    case AuditMode::durable: return "durable";
    case AuditMode::batched: return "batched";
    case AuditMode::off: return "off";
  }
  return "durable";
}

namespace {

void check(const result<void>& r, std::string_view what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.err().message);
}

// Progress reports what a long build is doing, at most every few seconds.
class Progress {
 public:
  Progress(std::string_view name, std::size_t total) : name_(name), total_(total) {}
  void step(std::string_view phase, std::size_t done) {
    const auto now = std::chrono::steady_clock::now();
    if (total_ < 50'000 || now - last_ < std::chrono::seconds(10)) return;
    last_ = now;
    const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(now - start_).count();
    std::fprintf(stderr, "building %s: %s %zu/%zu (%llds)\n", name_.c_str(), std::string(phase).c_str(), done,
                 total_, static_cast<long long>(elapsed));
  }

 private:
  std::string name_;
  std::size_t total_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

void build_vault(const std::filesystem::path& file, std::string_view name, std::size_t customers,
                 const ConsentPlan& plan) {
  remove_db(file);
  // Building is not measured, so it leaves the audit log out.
  auto vault = Vault::create(file, bench_policy(), kPassphrase, bench_options(AuditMode::off));
  if (!vault) throw std::runtime_error("create " + file.string() + ": " + vault.err().message);
  Progress progress(name, customers);
  const timestamp at = vault->now();
  constexpr std::size_t kBatch = 1000;
  for (std::size_t first = 0; first < customers; first += kBatch) {
    check(vault->write(make_records(first, std::min(customers, first + kBatch), at)), "write");
    progress.step("customers", first + kBatch);
  }
  record_planned_consents(*vault, customers, plan, at, [&](std::size_t i) { progress.step("consents", i); });
}

}  // namespace

void record_planned_consents(Vault& vault, std::size_t customers, const ConsentPlan& plan, timestamp at,
                             const std::function<void(std::size_t)>& after_each) {
  ConsentDetails details{"web", "privacy-bench", at};
  for (std::size_t i = 0; i < customers; ++i) {
    if (!plan.grants(i)) continue;
    const std::string id = customer_id(i);
    auto granted = vault.record_consent(id, kReadPurpose, ConsentAction::grant, details);
    if (!granted) throw std::runtime_error("grant: " + granted.err().message);
    if (plan.withdraws(i)) {
      auto withdrawn = vault.record_consent(id, kReadPurpose, ConsentAction::withdraw, details);
      if (!withdrawn) throw std::runtime_error("withdraw: " + withdrawn.err().message);
    }
    if (after_each) after_each(i);
  }
}

std::filesystem::path cached_vault(std::string_view name, std::size_t customers, const ConsentPlan& plan) {
  const std::filesystem::path file =
      data_dir() / (std::string(name) + "." + std::string(kDataFormat) + ".vault");
  if (std::filesystem::exists(file)) {
    // A vault of an older format (or damaged) is rebuilt rather than failing every run; a failure
    // of the disk or a lock is reported instead.
    auto cached = Vault::open(file, kPassphrase, bench_options(AuditMode::off));
    if (cached) return file;
    if (cached.err().code == errc::io || cached.err().code == errc::internal)
      throw std::runtime_error("open " + file.string() + ": " + cached.err().message);
    std::fprintf(stderr, "rebuilding %s: the cached vault does not open (%s)\n", file.string().c_str(),
                 cached.err().message.c_str());
  }
  const std::filesystem::path building = file.string() + ".building";
  const auto start = std::chrono::steady_clock::now();
  build_vault(building, name, customers, plan);
  remove_db(file);
  std::filesystem::rename(building, file);
  remove_db(building);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start);
  if (customers >= 50'000)
    std::fprintf(stderr, "built %s in %llds\n", file.string().c_str(),
                 static_cast<long long>(seconds.count()));
  return file;
}

void copy_vault(const std::filesystem::path& from, const std::filesystem::path& to) {
  remove_db(to);
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  // The copy goes to disk now, so that no measured fsync later writes it back (a 1M-customer
  // copy is over a gigabyte of dirty pages).
  const int fd = ::open(to.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    throw std::runtime_error("cannot sync the copy " + to.string());
  }
  ::close(fd);
}

namespace {
std::set<std::string>& working_copies() {
  static std::set<std::string> copies;
  return copies;
}
}  // namespace

std::filesystem::path working_copy(const std::filesystem::path& pristine, std::string_view tag) {
  std::filesystem::path copy = pristine;
  copy.replace_extension(std::string(tag) + ".vault");
  if (working_copies().insert(copy.string()).second) copy_vault(pristine, copy);
  return copy;
}

void remove_working_copies() {
  for (const std::string& copy : working_copies()) remove_db(copy);
  working_copies().clear();
}

Vault open_bench_vault(const std::filesystem::path& file, AuditMode audit) {
  auto vault = Vault::open(file, kPassphrase, bench_options(audit));
  if (!vault) throw std::runtime_error("open " + file.string() + ": " + vault.err().message);
  return std::move(*vault);
}

void read_three(const Accessor& accessor, const std::string& customer) {
  auto view = accessor.view(customer, kReadPurpose);
  if (!view) throw std::runtime_error("view: " + view.err().message);
  auto values = view->read(kReadFields);
  if (!values) throw std::runtime_error("read: " + values.err().message);
  for (const auto& value : *values) {
    if (!value) throw std::runtime_error("read: " + value.err().message);
    benchmark::DoNotOptimize(value->value.data());
  }
}

void read_three_at_once(const Accessor& accessor, const std::string& customer) {
  auto values = accessor.read(customer, kReadPurpose, kReadFields);
  if (!values) throw std::runtime_error("read: " + values.err().message);
  for (const auto& value : *values) {
    if (!value) throw std::runtime_error("read: " + value.err().message);
    benchmark::DoNotOptimize(value->value.data());
  }
}

double on_reading_threads(const Vault& vault, std::size_t threads,
                          const std::function<void(std::size_t, const Accessor&)>& work) {
  std::vector<std::string> failures(threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> running;
  for (std::size_t t = 0; t < threads; ++t)
    running.emplace_back([&, t] {
      try {
        auto accessor = vault.accessor(kReadAccessor);
        if (!accessor) throw std::runtime_error(accessor.err().message);
        work(t, *accessor);
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  for (auto& thread : running) thread.join();
  const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
  for (const std::string& failure : failures)
    if (!failure.empty()) throw std::runtime_error(failure);
  return took.count();
}

}  // namespace consentry::bench
