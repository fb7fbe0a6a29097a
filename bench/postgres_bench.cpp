// postgres_bench.cpp: W3, W4 and W5 on a PostgreSQL vault, each beside raw libpq on the same rows
// (hand_pg_store.hpp), and the vault's throughput with several client processes. Built with
// CONSENTRY_BUILD_POSTGRESQL; run against the server CONSENTRY_PG_URL names (bench/run.sh starts
// a throwaway cluster with fsync on), each dataset in a schema of its own. Without
// CONSENTRY_PG_URL these workloads are left out, with a message.
//
//   PG3_read/<n>/audit:<mode>   W3's read (3 fields, view + read) on PostgreSQL, audit durable,
//                               batched or off
//   PG3_read/<n>/one_call/audit:<mode>  the same read in one call (Accessor::read)
//   PG3_read/<n>/baseline       one prepared SELECT of the three sealed values, three AEAD opens,
//                               data keys unwrapped in memory
//   PG3_read/<n>/baseline_durable  the same, then one INSERT of a row the size of an audit entry
//                               committed with synchronous_commit on: the fair baseline of a
//                               durable audit
//   PG4_import/<n>/consentry    W4's import, Vault::write() per Sizes::import_batch customers
//   PG4_import/<n>/baseline     the same batches, each one transaction of two COPYs (data keys,
//                               sealed values)
//   PG5_scan/<n>/consentry      W5, Vault::eligible_customers("marketing.email")
//   PG5_scan/<n>/baseline       one prepared scan of consent_events for the purpose, folded
//   PGB3R_release/<n>/consentry B3R on PostgreSQL: Vault::purpose_dataset as B3's accessor for
//                               its purpose and four fields over PG5's vault, audit durable, the
//                               vault opened afresh before each run (no data key cached)
//   PGB3R_release/<n>/baseline  its floor by hand (HandPgStore::release_scan): the customers a page
//                               of kBulkReadBatch at a time, keys and values in one SELECT, every
//                               key unwrapped and value opened, one log row per customer inserted
//                               in one statement and committed per page
//   PGR_readers/<p>             W3's read (audit batched) from p processes at once, each with its
//                               own vault; time is wall time per read of all processes together.
//                               PGR and PGA read a vault built like PG3's but apart from it
//                               (processes_<n>), so that their entries leave PG3's log alone
//   PGT_threads/<t>             W3's read (audit batched) from t threads of one process through one
//                               vault (its reads on reader connections of their own); time is
//                               wall time per read of all threads together
//   PGA_appenders/<p>           p processes reading with audit durable; time is wall time per audit
//                               entry appended (counted in the log) by all of them together
//   PGC_commits/<p>             PGA's physical limit: p processes, each committing one row at a
//                               time (BEGIN; a compare-and-set of its own head that inserts the
//                               row, as an audit append does; COMMIT), synchronous_commit on; time
//                               is wall time per commit of all of them together
//
// The datasets are built through the public API (and by hand for the baselines) once per server
// and kept in their schemas; building commits without waiting for the disk. Reads append to the
// read vault's log, which grows from run to run (reads do not scan it).
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "hand_pg_store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kWarmReads = 1000;

/// pg_url is the server the workloads run on: CONSENTRY_PG_URL, or empty.
std::string pg_url() {
  const char* u = std::getenv("CONSENTRY_PG_URL");
  return (u && *u) ? std::string(u) : std::string();
}

/// with_param adds `param` to the query of a libpq URI.
std::string with_param(const std::string& url, std::string_view param) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + std::string(param);
}

/// vault_schema names the schema of the bench vault `name`.
std::string vault_schema(std::string_view name) {
  return "bench_" + std::string(kDataFormat) + "_" + std::string(name);
}

/// vault_location is the vault location of `schema` on the bench server.
std::string vault_location(const std::string& schema) {
  return with_param(pg_url(), "consentry_schema=" + schema);
}

// check_ok throws a failed result's message.
void check_ok(const result<void>& r, std::string_view what) {
  if (!r) throw std::runtime_error(std::string(what) + ": " + r.err().message);
}

/// cached_pg_vault returns the location of the PostgreSQL vault `name` holding customers
/// [0, customers) with all ten fields and the consent events of `plan`, building it first when
/// its schema is not there or was left half-built (the table bench_built is created last).
std::string cached_pg_vault(std::string_view name, std::size_t customers, const ConsentPlan& plan) {
  const std::string schema = vault_schema(name);
  const std::string location = vault_location(schema);
  auto probe = HandPgStore::open_raw(pg_url());
  if (probe->has_table(schema, "bench_built")) return location;
  probe.reset();
  drop_pg_schema(pg_url(), schema);
  const auto start = std::chrono::steady_clock::now();
  {
    // Building is not measured: its commits need not wait for the disk.
    const std::string building = with_param(location, "options=-c%20synchronous_commit%3Doff");
    auto vault = Vault::create(building, bench_policy(), kPassphrase, bench_options(AuditMode::off));
    if (!vault) throw std::runtime_error("create " + schema + ": " + vault.err().message);
    const timestamp at = vault->now();
    for (std::size_t first = 0; first < customers; first += 1000)
      check_ok(vault->write(make_records(first, std::min(customers, first + 1000), at)), "write");
    record_planned_consents(*vault, customers, plan, at);
  }
  auto marker = HandPgStore::open_raw(pg_url());
  // Vacuumed, as autovacuum would do in time: the tables' visibility maps are empty just after
  // they were filled, and until then an index-only scan reads a heap page for every row.
  marker->exec("VACUUM (ANALYZE)", "vacuuming the built vault");
  marker->exec("CREATE TABLE " + schema + ".bench_built()", "marking the vault built");
  if (customers >= 50'000)
    std::fprintf(stderr, "built PostgreSQL vault %s in %llds\n", schema.c_str(),
                 static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count()));
  return location;
}

Vault open_pg_vault(const std::string& location, AuditMode audit) {
  auto vault = Vault::open(location, kPassphrase, bench_options(audit));
  if (!vault) throw std::runtime_error("open PostgreSQL vault: " + vault.err().message);
  return std::move(*vault);
}

// The vault and hand store of the workload being measured, kept open between its runs.
struct OpenPgVault {
  std::string key;
  std::unique_ptr<Vault> vault;
};
struct OpenPgHand {
  std::string key;
  std::unique_ptr<HandPgStore> hand;
};
OpenPgVault& vault_slot() {
  static OpenPgVault slot;
  return slot;
}
OpenPgHand& hand_slot() {
  static OpenPgHand slot;
  return slot;
}

std::string read_location(std::size_t customers) {
  return cached_pg_vault("read_" + std::to_string(customers), customers, kReadPlan);
}

/// processes_name is the vault PGR and PGA read from: W3's read vault, built apart, so that the
/// many entries they append do not lengthen the log of the vault PG3 measures.
std::string processes_name(std::size_t customers) {
  return "processes_" + std::to_string(customers);
}

/// processes_location is the location of that vault, built on first use.
std::string processes_location(std::size_t customers) {
  return cached_pg_vault(processes_name(customers), customers, kReadPlan);
}

void read_consentry(benchmark::State& state, std::size_t customers, AuditMode mode, bool one_call) {
  const auto read = one_call ? read_three_at_once : read_three;
  const std::string location = read_location(customers);
  OpenPgVault& slot = vault_slot();
  const std::string key = location + "#" + std::string(to_string(mode));
  if (slot.key != key) {
    slot.vault.reset();
    slot.key.clear();
    slot.vault = std::make_unique<Vault>(open_pg_vault(location, mode));
    slot.key = key;
    auto accessor = slot.vault->accessor(kReadAccessor);
    if (!accessor) throw std::runtime_error(accessor.err().message);
    ReadOrder order(customers);
    const std::size_t warm = std::min(kWarmReads, order.ids().size());
    for (std::size_t i = 0; i < warm; ++i) read(*accessor, order.ids()[i]);
  }
  auto accessor = slot.vault->accessor(kReadAccessor);
  if (!accessor) throw std::runtime_error(accessor.err().message);
  ReadOrder order(customers);
  for (auto _ : state) read(*accessor, order.ids()[order.next()]);
  state.SetItemsProcessed(state.iterations());
}

void read_baseline(benchmark::State& state, std::size_t customers, bool durable) {
  const std::string schema =
      cached_hand_pg_store(pg_url(), "read_" + std::to_string(customers), customers, kReadPlan);
  OpenPgHand& slot = hand_slot();
  if (slot.key != schema) {
    slot.hand.reset();
    slot.hand = HandPgStore::open(pg_url(), schema);
    slot.hand->load_keys();
    slot.key = schema;
    std::array<std::string, 3> out;
    ReadOrder order(customers);
    const std::size_t warm = std::min(kWarmReads, order.ids().size());
    for (std::size_t i = 0; i < warm; ++i) slot.hand->read(order.ids()[i], kReadFields, out);
  }
  HandPgStore& hand = *slot.hand;
  ReadOrder order(customers);
  std::array<std::string, 3> out;
  for (auto _ : state) {
    const std::string& customer = order.ids()[order.next()];
    if (hand.read(customer, kReadFields, out) != kReadFields.size())
      throw std::runtime_error("baseline read found too few fields");
    benchmark::DoNotOptimize(out.data());
    if (durable) hand.log_read(customer, kLoggedEntryBytes);
  }
  state.SetItemsProcessed(state.iterations());
}

/// release_pg_slots closes the vault and hand store kept open between runs.
void release_pg_slots() {
  vault_slot() = OpenPgVault{};
  hand_slot() = OpenPgHand{};
}

const std::vector<std::vector<Record>>& import_batches(const Sizes& sizes) {
  static std::vector<std::vector<Record>> batches;
  if (batches.empty()) {
    const timestamp at = consentry::now();
    for (std::size_t first = 0; first < sizes.import_customers; first += sizes.import_batch)
      batches.push_back(
          make_records(first, std::min(sizes.import_customers, first + sizes.import_batch), at));
  }
  return batches;
}

void import_consentry(benchmark::State& state, const Sizes& sizes) {
  release_pg_slots();
  const auto& batches = import_batches(sizes);
  const std::string schema = vault_schema("import");
  for (auto _ : state) {
    state.PauseTiming();
    drop_pg_schema(pg_url(), schema);
    std::unique_ptr<Vault> vault;
    {
      auto created = Vault::create(vault_location(schema), bench_policy(), kPassphrase,
                                   bench_options(AuditMode::durable));
      if (!created) throw std::runtime_error("create: " + created.err().message);
      vault = std::make_unique<Vault>(std::move(*created));
    }
    state.ResumeTiming();
    for (const auto& batch : batches) check_ok(vault->write(batch, "bench"), "write");
    state.PauseTiming();
    vault.reset();
    drop_pg_schema(pg_url(), schema);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sizes.import_customers));
}

void import_baseline(benchmark::State& state, const Sizes& sizes) {
  release_pg_slots();
  const auto& batches = import_batches(sizes);
  // The same records, as the baseline takes them.
  std::vector<std::vector<PgRecord>> rows;
  for (const auto& batch : batches) {
    auto& out = rows.emplace_back();
    for (const Record& r : batch)
      out.push_back(PgRecord{r.customer, r.fields, r.source, r.collected_at->time_since_epoch().count()});
  }
  const std::string schema = vault_schema("import_hand");
  for (auto _ : state) {
    state.PauseTiming();
    auto hand = HandPgStore::create(pg_url(), schema);
    state.ResumeTiming();
    for (const auto& batch : rows) hand->copy_customers(batch);
    state.PauseTiming();
    hand.reset();
    drop_pg_schema(pg_url(), schema);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * sizes.import_customers));
}

std::size_t expected_eligible(std::size_t customers) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < customers; ++i) n += kScanPlan.grants(i) && !kScanPlan.withdraws(i);
  return n;
}

void report_scan(benchmark::State& state, std::size_t found, std::size_t customers) {
  state.counters["eligible"] = static_cast<double>(found);
  if (found != expected_eligible(customers))
    throw std::runtime_error("found " + std::to_string(found) + " eligible customers, expected " +
                             std::to_string(expected_eligible(customers)));
}

void scan_consentry(benchmark::State& state, std::size_t customers) {
  release_pg_slots();
  const std::string location = cached_pg_vault("scan_" + std::to_string(customers), customers, kScanPlan);
  Vault vault = open_pg_vault(location, AuditMode::durable);
  std::size_t found = 0;
  for (auto _ : state) {
    auto eligible = vault.eligible_customers(kReadPurpose);
    if (!eligible) throw std::runtime_error("eligible_customers: " + eligible.err().message);
    found = eligible->size();
    benchmark::DoNotOptimize(eligible->data());
  }
  report_scan(state, found, customers);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

void scan_baseline(benchmark::State& state, std::size_t customers) {
  release_pg_slots();
  const std::string schema =
      cached_hand_pg_store(pg_url(), "scan_" + std::to_string(customers), customers, kScanPlan);
  auto hand = HandPgStore::open(pg_url(), schema);
  const auto now = static_cast<std::int64_t>(consentry::now().time_since_epoch().count());
  std::size_t found = 0;
  for (auto _ : state) {
    auto eligible = hand->eligible(kReadPurpose, now);
    found = eligible.size();
    benchmark::DoNotOptimize(eligible.data());
  }
  report_scan(state, found, customers);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

void release_consentry(benchmark::State& state, std::size_t customers) {
  release_pg_slots();
  const std::string location = cached_pg_vault("scan_" + std::to_string(customers), customers, kScanPlan);
  time_release(state, customers, [&] { return open_pg_vault(location, AuditMode::durable); });
}

void release_baseline(benchmark::State& state, std::size_t customers) {
  release_pg_slots();
  const std::string schema =
      cached_hand_pg_store(pg_url(), "scan_" + std::to_string(customers), customers, kScanPlan);
  auto hand = HandPgStore::open(pg_url(), schema);
  std::size_t values = 0;
  for (auto _ : state) values = hand->release_scan(kReleaseFields, kLoggedEntryBytes, kBulkReadBatch);
  check_released(values, customers);
  state.counters["values"] = static_cast<double>(values);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * customers));
}

/// ProcessCount is what one client process reports: operations done, and in how long.
struct ProcessCount {
  std::uint64_t ops = 0;
  std::int64_t ns = 0;
};

/// Worker is one client process's work: set up (open, warm) when made, then one step per call.
using Worker = std::function<void()>;
using MakeWorker = std::function<Worker(std::size_t index)>;

void write_all(int fd, const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n <= 0) return;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

bool read_all(int fd, void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, p, size);
    if (n <= 0) return false;
    p += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

/// run_child is a client process: it makes its worker, says it is ready, waits for the start,
/// steps for `seconds`, reports its count and leaves with _exit, so that nothing the parent
/// opened (a libpq connection above all) is closed or flushed from here.
[[noreturn]] void run_child(const MakeWorker& make, std::size_t index, double seconds, int report_fd,
                            int go_fd) {
  int status = 0;
  try {
    Worker step = make(index);
    const char ready = 'r';
    write_all(report_fd, &ready, 1);
    char go = 0;
    if (!read_all(go_fd, &go, 1)) ::_exit(3);
    const auto start = std::chrono::steady_clock::now();
    const auto end = start + std::chrono::duration<double>(seconds);
    ProcessCount count;
    auto now = start;
    while (now < end) {
      step();
      ++count.ops;
      now = std::chrono::steady_clock::now();
    }
    count.ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start).count();
    write_all(report_fd, &count, sizeof count);
    step = nullptr;  // closes the vault: commits held-back entries, signs a checkpoint
  } catch (const std::exception& e) {
    std::fprintf(stderr, "client process %zu: %s\n", index, e.what());
    status = 2;
  }
  std::fflush(stderr);
  ::_exit(status);
}

/// fan_out runs `processes` client processes at once for `seconds` after all are ready, and
/// returns their counts. `between` runs in the parent just before the start and just after the
/// last count arrives (for counting in the database). Throws when a process fails.
std::vector<ProcessCount> fan_out(std::size_t processes, double seconds, const MakeWorker& make,
                                  const std::function<void(bool started)>& between, double& wall_seconds) {
  int go[2];
  if (::pipe2(go, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<pid_t> pids;
  std::vector<int> reports;
  // A pipe or fork that fails stops the forking; the processes already started then see the
  // start pipe close without a start and leave.
  bool failed = false;
  for (std::size_t i = 0; i < processes && !failed; ++i) {
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0) {
      failed = true;
      break;
    }
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(report[0]);
      ::close(report[1]);
      failed = true;
      break;
    }
    if (pid == 0) {
      ::close(report[0]);
      ::close(go[1]);
      for (int fd : reports) ::close(fd);
      run_child(make, i, seconds, report[1], go[0]);
    }
    ::close(report[1]);
    pids.push_back(pid);
    reports.push_back(report[0]);
  }
  ::close(go[0]);
  for (int fd : reports) {
    char ready = 0;
    failed = failed || !read_all(fd, &ready, 1);
  }
  std::vector<ProcessCount> counts(processes);
  std::chrono::steady_clock::time_point start{}, end{};
  // between's failure must not leave the processes waiting for a start: it is kept for after.
  std::string between_error;
  auto call_between = [&](bool started) {
    try {
      between(started);
    } catch (const std::exception& e) {
      between_error = e.what();
      failed = true;
    }
  };
  if (!failed) call_between(true);
  if (!failed) {
    start = std::chrono::steady_clock::now();
    const std::string bytes(processes, 'g');
    write_all(go[1], bytes.data(), bytes.size());
    for (std::size_t i = 0; i < processes; ++i)
      failed = failed || !read_all(reports[i], &counts[i], sizeof(ProcessCount));
    end = std::chrono::steady_clock::now();
    if (!failed) call_between(false);
  }
  ::close(go[1]);
  for (int fd : reports) ::close(fd);
  for (pid_t pid : pids) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    failed = failed || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
  }
  if (!between_error.empty()) throw std::runtime_error(between_error);
  if (failed) throw std::runtime_error("a client process failed (see its message above), or could not start");
  wall_seconds = std::chrono::duration<double>(end - start).count();
  return counts;
}

/// client_seconds is how long each client process reads.
double client_seconds() {
  return scale() == Scale::tiny ? 0.25 : 5.0;
}

/// ReaderState is a client process's own vault, accessor and place in ReadOrder; members are
/// destroyed in reverse order, so the accessor goes before the vault it borrows.
struct ReaderState {
  Vault vault;
  std::optional<Accessor> accessor;
  ReadOrder order;
};

/// reader makes a client process's read worker: its own vault on the read vault's schema, warmed,
/// reading from a place in ReadOrder of its own.
MakeWorker reader(std::string location, std::size_t customers, AuditMode mode) {
  return [location, customers, mode](std::size_t index) -> Worker {
    auto st = std::make_shared<ReaderState>(
        ReaderState{open_pg_vault(location, mode), std::nullopt, ReadOrder(customers)});
    for (std::size_t i = 0; i < index * 7919; ++i) st->order.next();
    auto accessor = st->vault.accessor(kReadAccessor);
    if (!accessor) throw std::runtime_error(accessor.err().message);
    st->accessor.emplace(std::move(*accessor));
    const std::size_t warm = std::min<std::size_t>(100, st->order.ids().size());
    for (std::size_t i = 0; i < warm; ++i) read_three(*st->accessor, st->order.ids()[st->order.next()]);
    return [st] { read_three(*st->accessor, st->order.ids()[st->order.next()]); };
  };
}

void readers(benchmark::State& state, std::size_t customers, std::size_t processes) {
  release_pg_slots();
  const std::string location = processes_location(customers);
  double ops_per_s = 0, wall = 0;
  for (auto _ : state) {
    const auto counts = fan_out(
        processes, client_seconds(), reader(location, customers, AuditMode::batched), [](bool) {}, wall);
    ops_per_s = 0;
    for (const ProcessCount& c : counts)
      ops_per_s += static_cast<double>(c.ops) * 1e9 / static_cast<double>(c.ns);
    state.SetIterationTime(1.0 / ops_per_s);
  }
  state.counters["reads_per_s"] = ops_per_s;
}

/// read_from_threads reads as PGR's clients do, from `threads` threads of this process through
/// `vault`, each with its own accessor and place in ReadOrder, for `seconds`; reads per second.
double read_from_threads(const Vault& vault, std::size_t customers, std::size_t threads, double seconds) {
  std::vector<std::size_t> done(threads, 0);
  const auto until =
      std::chrono::steady_clock::now() +
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
  const double took = on_reading_threads(vault, threads, [&](std::size_t t, const Accessor& accessor) {
    ReadOrder order(customers);
    for (std::size_t i = 0; i < t * 7919; ++i) order.next();
    while (std::chrono::steady_clock::now() < until) {
      read_three(accessor, order.ids()[order.next()]);
      ++done[t];
    }
  });
  std::size_t total = 0;
  for (std::size_t n : done) total += n;
  return static_cast<double>(total) / took;
}

void thread_readers(benchmark::State& state, std::size_t customers, std::size_t threads) {
  release_pg_slots();
  Vault vault = open_pg_vault(processes_location(customers), AuditMode::batched);
  // Warmed, untimed, as PGR's clients are: the readers connect and prepare their statements.
  (void)read_from_threads(vault, customers, threads, client_seconds() / 10);
  double ops_per_s = 0;
  for (auto _ : state) {
    ops_per_s = read_from_threads(vault, customers, threads, client_seconds());
    state.SetIterationTime(1.0 / ops_per_s);
  }
  state.counters["reads_per_s"] = ops_per_s;
}

void appenders(benchmark::State& state, std::size_t customers, std::size_t processes) {
  release_pg_slots();
  const std::string location = processes_location(customers);
  const std::string schema = vault_schema(processes_name(customers));
  auto counter = HandPgStore::open_raw(pg_url());
  double per_s = 0, wall = 0;
  for (auto _ : state) {
    long long before = 0, after = 0;
    // Every chain's head seq is its number of entries: their sum is the log's length, read from
    // one small table however long the log has grown.
    const auto count_entries = [&](bool started) {
      const long long n =
          std::stoll(counter->scalar("SELECT coalesce(sum(head_seq), 0) FROM " + schema + ".audit_chains"));
      (started ? before : after) = n;
    };
    fan_out(processes, client_seconds(), reader(location, customers, AuditMode::durable), count_entries,
            wall);
    per_s = static_cast<double>(after - before) / wall;
    if (per_s <= 0) throw std::runtime_error("no audit entry was appended");
    state.SetIterationTime(1.0 / per_s);
  }
  state.counters["appends_per_s"] = per_s;
}

/// kCommitsSchema holds PGC's rows: a head per process and the rows appended after it.
constexpr const char* kCommitsSchema = "bench_commits";

/// committer makes a client process's PGC worker: its own connection, committing one row at a
/// time after its own head.
MakeWorker committer() {
  return [](std::size_t index) -> Worker {
    std::shared_ptr<HandPgStore> conn = HandPgStore::open_raw(pg_url());
    const std::string head = std::to_string(index + 1);
    const std::string append =
        std::string("WITH moved AS (UPDATE ") + kCommitsSchema +
        ".heads SET seq = seq + 1 WHERE writer = " + head + " RETURNING writer, seq) INSERT INTO " +
        kCommitsSchema + ".rows SELECT writer, seq, '\\x" + std::string(160, 'a') + "'::bytea FROM moved";
    return [conn, append] {
      conn->exec("BEGIN", "PGC begin");
      conn->exec(append, "PGC append");
      conn->exec("COMMIT", "PGC commit");
    };
  };
}

void commits(benchmark::State& state, std::size_t processes) {
  release_pg_slots();
  {
    auto setup = HandPgStore::open_raw(pg_url());
    setup->exec(std::string("DROP SCHEMA IF EXISTS ") + kCommitsSchema + " CASCADE", "PGC setup");
    setup->exec(std::string("CREATE SCHEMA ") + kCommitsSchema + "; CREATE TABLE " + kCommitsSchema +
                    ".heads(writer integer PRIMARY KEY, seq bigint NOT NULL); CREATE TABLE " +
                    kCommitsSchema +
                    ".rows(writer integer, seq bigint, entry bytea NOT NULL, PRIMARY KEY (writer, seq)); "
                    "INSERT INTO " +
                    kCommitsSchema + ".heads SELECT g, 0 FROM generate_series(1, 64) g",
                "PGC setup");
  }
  double ops_per_s = 0, wall = 0;
  for (auto _ : state) {
    const auto counts = fan_out(
        processes, client_seconds(), committer(), [](bool) {}, wall);
    ops_per_s = 0;
    for (const ProcessCount& c : counts)
      ops_per_s += static_cast<double>(c.ops) * 1e9 / static_cast<double>(c.ns);
    state.SetIterationTime(1.0 / ops_per_s);
  }
  state.counters["commits_per_s"] = ops_per_s;
}

}  // namespace

void release_postgres_vaults() {
  release_pg_slots();
}

void register_postgres_benchmarks(const Sizes& sizes) {
  if (pg_url().empty()) {
    std::fprintf(
        stderr,
        "consentry_bench: CONSENTRY_PG_URL is not set: the PostgreSQL workloads (PG3, PG4, PG5, PGB3R, "
        "PGR, PGA) are left out\n");
    return;
  }
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  const std::size_t small = sizes.read_small;
  const std::string pg3 = "PG3_read/" + std::to_string(small) + "/";
  for (bool one_call : {false, true}) {
    for (AuditMode mode : {AuditMode::durable, AuditMode::batched, AuditMode::off}) {
      benchmark::RegisterBenchmark(
          (pg3 + (one_call ? "one_call/" : "") + "audit:" + std::string(to_string(mode))).c_str(),
          [small, mode, one_call](benchmark::State& st) {
            guarded(st, [&](benchmark::State& s) { read_consentry(s, small, mode, one_call); });
          })
          ->UseRealTime()
          ->Repetitions(repetitions);
    }
  }
  for (bool durable : {false, true}) {
    benchmark::RegisterBenchmark((pg3 + (durable ? "baseline_durable" : "baseline")).c_str(),
                                 [small, durable](benchmark::State& st) {
                                   guarded(st,
                                           [&](benchmark::State& s) { read_baseline(s, small, durable); });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
  }

  // One import a side: on PostgreSQL each takes far longer than on SQLite.
  const std::string pg4 = "PG4_import/" + std::to_string(sizes.import_customers) + "/";
  benchmark::RegisterBenchmark((pg4 + "consentry").c_str(),
                               [sizes](benchmark::State& st) {
                                 guarded(st, [&](benchmark::State& s) { import_consentry(s, sizes); });
                               })
      ->UseRealTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (pg4 + "baseline").c_str(),
      [sizes](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { import_baseline(s, sizes); }); })
      ->UseRealTime()
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);

  const std::size_t n = sizes.scan_customers;
  const std::string pg5 = "PG5_scan/" + std::to_string(n) + "/";
  benchmark::RegisterBenchmark(
      (pg5 + "consentry").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { scan_consentry(s, n); }); })
      ->UseRealTime()
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (pg5 + "baseline").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { scan_baseline(s, n); }); })
      ->UseRealTime()
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);

  const std::string pgb3r = "PGB3R_release/" + std::to_string(n) + "/";
  benchmark::RegisterBenchmark(
      (pgb3r + "consentry").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { release_consentry(s, n); }); })
      ->UseRealTime()
      ->Iterations(1)
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark(
      (pgb3r + "baseline").c_str(),
      [n](benchmark::State& st) { guarded(st, [&](benchmark::State& s) { release_baseline(s, n); }); })
      ->UseRealTime()
      ->Iterations(1)
      ->Repetitions(repetitions)
      ->Unit(benchmark::kMillisecond);

  for (std::size_t processes : {1, 2, 4, 8}) {
    benchmark::RegisterBenchmark(("PGR_readers/" + std::to_string(processes)).c_str(),
                                 [small, processes](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { readers(s, small, processes); });
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMicrosecond);
  }
  for (std::size_t threads : {1, 2, 4, 8}) {
    benchmark::RegisterBenchmark(("PGT_threads/" + std::to_string(threads)).c_str(),
                                 [small, threads](benchmark::State& st) {
                                   guarded(st,
                                           [&](benchmark::State& s) { thread_readers(s, small, threads); });
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMicrosecond);
  }
  for (std::size_t processes : {1, 2, 4, 8}) {
    benchmark::RegisterBenchmark(("PGA_appenders/" + std::to_string(processes)).c_str(),
                                 [small, processes](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { appenders(s, small, processes); });
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMicrosecond);
  }
  for (std::size_t processes : {1, 2, 4, 8}) {
    benchmark::RegisterBenchmark(("PGC_commits/" + std::to_string(processes)).c_str(),
                                 [processes](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { commits(s, processes); });
                                 })
        ->UseManualTime()
        ->Iterations(1)
        ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace consentry::bench
