// vault_postgres_processes_test.cpp: one PostgreSQL vault shared by several processes at once, as
// CRM backends on several hosts share it. Four processes, each with two vaults (two connections)
// and four threads, read, write, grant and withdraw on a few customers for a bounded time; one
// process is killed with SIGKILL half-way. Each call is logged by its process as it returns, with
// its start and end on the system-wide monotonic clock, one write(2) per line so that a kill
// loses no finished line. Afterwards: the audit log verifies; every read a surviving process
// made has its entries (none lost); no read that started after a withdrawal had committed was
// allowed unless a grant may have committed in between; the ledger holds exactly the consent
// events that returned (plus, for the killed process, at most one in flight per thread); every
// stored value opens (nothing half-written); and the survivors went on after the kill.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "consentry/vault.hpp"
#include "support/each_store.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
using test::must;
using test::TempDir;

namespace {

constexpr int kProcesses = 4;
constexpr int kVaultsPerProcess = 2;
constexpr int kThreadsPerProcess = 4;
constexpr int kCustomers = 6;
constexpr int kVictim = kProcesses - 1;  // the process that is killed
constexpr auto kRunFor = std::chrono::milliseconds(4000);
constexpr auto kKillAfter = std::chrono::milliseconds(1500);
constexpr const char* kPurpose = "marketing.email";

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string customer(int i) {
  return "C-" + std::to_string(i);
}

std::string actor_of(int process, int vault) {
  return "worker-" + std::to_string(process) + "-" + std::to_string(vault);
}

/// Line is one finished call, as a process logged it.
struct Line {
  char op = '?';  ///< R read, G grant, W withdraw, P put, E error
  int process = 0;
  int vault = 0;
  int thread = 0;
  int customer = 0;
  std::int64_t start = 0;
  std::int64_t end = 0;
  int view_ok = 0;  ///< reads: the view opened
  int allowed = 0;  ///< reads: the value was revealed
};

/// log_line appends one line with one write(2): whole lines survive a SIGKILL.
void log_line(int fd, const Line& l) {
  const std::string s =
      std::string(1, l.op) + " " + std::to_string(l.process) + " " + std::to_string(l.vault) + " " +
      std::to_string(l.thread) + " " + std::to_string(l.customer) + " " + std::to_string(l.start) + " " +
      std::to_string(l.end) + " " + std::to_string(l.view_ok) + " " + std::to_string(l.allowed) + "\n";
  (void)!::write(fd, s.data(), s.size());
}

/// work is one child process: two vaults, four threads, random calls until the deadline.
[[noreturn]] void work(const std::string& location, int process, const std::string& log_file,
                       std::int64_t deadline_ns) {
  const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  if (fd < 0) ::_exit(20);
  std::vector<std::optional<Vault>> vaults(kVaultsPerProcess);
  for (int v = 0; v < kVaultsPerProcess; ++v) {
    auto opened = Vault::open(location, test::kTestPassphrase,
                              test::test_vault_options(AuditMode::durable, actor_of(process, v)));
    if (!opened) ::_exit(21);
    vaults[static_cast<std::size_t>(v)].emplace(std::move(*opened));
  }
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadsPerProcess; ++t) {
    threads.emplace_back([&, t] {
      const int v = t % kVaultsPerProcess;
      Vault& vault = *vaults[static_cast<std::size_t>(v)];
      std::mt19937 rng(static_cast<unsigned>(process * 100 + t));
      auto campaigns = vault.accessor("email-campaigns");
      if (!campaigns) {
        ++failures;
        return;
      }
      int n = 0;
      while (now_ns() < deadline_ns) {
        Line l;
        l.process = process;
        l.vault = v;
        l.thread = t;
        l.customer = static_cast<int>(rng() % kCustomers);
        const std::string c = customer(l.customer);
        const unsigned pick = rng() % 10;
        l.start = now_ns();
        bool ok = true;
        if (pick < 5) {
          l.op = 'R';
          auto view = campaigns->view(c, kPurpose);
          if (view) {
            l.view_ok = 1;
            auto got = view->get("email");
            if (got) {
              l.allowed = 1;
            } else if (got.err().code != errc::denied) {
              ok = false;
            }
          } else if (view.err().code != errc::denied) {
            ok = false;
          }
        } else if (pick < 7) {
          l.op = 'G';
          ok = vault.record_consent(c, kPurpose, ConsentAction::grant).ok();
        } else if (pick < 9) {
          l.op = 'W';
          ok = vault.record_consent(c, kPurpose, ConsentAction::withdraw).ok();
        } else {
          l.op = 'P';
          const std::string value = c + "." + std::to_string(process) + "." + std::to_string(t) + "." +
                                    std::to_string(n++) + "@example.com";
          ok = vault.put(c, "email", value).ok();
        }
        l.end = now_ns();
        if (!ok) {
          l.op = 'E';
          ++failures;
        }
        log_line(fd, l);
      }
    });
  }
  for (auto& th : threads) th.join();
  vaults.clear();
  ::close(fd);
  ::_exit(failures.load() == 0 ? 0 : 22);
}

std::vector<Line> read_lines(const std::string& file) {
  std::vector<Line> out;
  std::ifstream in(file);
  std::string text;
  while (std::getline(in, text)) {
    std::istringstream s(text);
    Line l;
    s >> l.op >> l.process >> l.vault >> l.thread >> l.customer >> l.start >> l.end >> l.view_ok >> l.allowed;
    if (s) out.push_back(l);
  }
  return out;
}

}  // namespace

TEST_CASE("postgres: four processes share one vault, one is killed, and nothing is lost or half-applied") {
  TempDir dir;
  const std::filesystem::path location = test::shared_location(dir);
  REQUIRE(is_postgres_url(location.native()));
  std::int64_t initial_events = 0;
  {
    Vault v = must(Vault::create(location, test::retail_policy(), test::kTestPassphrase,
                                 test::test_vault_options(AuditMode::durable, "setup")));
    for (int i = 0; i < kCustomers; ++i) {
      must(v.put(customer(i), "email", customer(i) + "@example.com"));
      (void)must(v.record_consent(customer(i), kPurpose, ConsentAction::grant));
      ++initial_events;
    }
  }

  const std::int64_t deadline = now_ns() + std::chrono::nanoseconds(kRunFor).count();
  std::vector<pid_t> children;
  std::vector<std::string> logs;
  for (int p = 0; p < kProcesses; ++p) {
    logs.push_back((dir.path() / ("process-" + std::to_string(p) + ".log")).string());
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) work(location.string(), p, logs.back(), deadline);
    children.push_back(pid);
  }
  std::this_thread::sleep_for(kKillAfter);
  const std::int64_t killed_at = now_ns();
  REQUIRE(::kill(children[kVictim], SIGKILL) == 0);
  for (int p = 0; p < kProcesses; ++p) {
    int status = 0;
    REQUIRE(::waitpid(children[static_cast<std::size_t>(p)], &status, 0) ==
            children[static_cast<std::size_t>(p)]);
    INFO("process " << p);
    if (p == kVictim) {
      CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
    } else {
      CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
    }
  }

  std::vector<Line> lines;
  for (const auto& f : logs) {
    auto more = read_lines(f);
    lines.insert(lines.end(), more.begin(), more.end());
  }
  for (const Line& l : lines) CHECK_MESSAGE(l.op != 'E', "process " << l.process << " had a failed call");

  Vault after = must(Vault::open(location, test::kTestPassphrase, test::test_vault_options()));
  const AuditVerification verified = must(after.verify_audit());
  CHECK_MESSAGE(verified.ok, verified.problem);

  // No lost audit entry: a read is a view_opened and a field_read or access_denied entry, or one
  // access_denied entry for a refused view, each naming the vault's actor.
  std::map<std::string, std::int64_t> expected;
  std::map<std::string, std::int64_t> found;
  for (const Line& l : lines)
    if (l.op == 'R') expected[actor_of(l.process, l.vault)] += l.view_ok ? 2 : 1;
  for (const AuditEntry& e : must(after.audit_entries())) {
    const bool read_entry = e.action == AuditAction::view_opened || e.action == AuditAction::field_read ||
                            e.action == AuditAction::access_denied;
    if (read_entry && e.actor.starts_with("worker-")) ++found[e.actor];
  }
  std::int64_t calls_after_kill = 0;
  for (int p = 0; p < kProcesses; ++p) {
    for (int v = 0; v < kVaultsPerProcess; ++v) {
      const std::string a = actor_of(p, v);
      INFO("actor " << a);
      CHECK(expected[a] > 0);
      if (p == kVictim) {
        // Calls in flight at the kill may have committed their entries without returning.
        CHECK(found[a] >= expected[a]);
        CHECK(found[a] <= expected[a] + 2 * kThreadsPerProcess);
      } else {
        CHECK(found[a] == expected[a]);
      }
    }
  }
  for (const Line& l : lines)
    if (l.process != kVictim && l.start > killed_at) ++calls_after_kill;
  CHECK(calls_after_kill > 0);  // the others went on

  // The ledger holds every consent event that returned; the killed process's in-flight calls
  // may have committed too, at most one per thread.
  std::int64_t returned_events = 0;
  std::int64_t victim_events = 0;
  for (const Line& l : lines) {
    if (l.op != 'G' && l.op != 'W') continue;
    ++returned_events;
    if (l.process == kVictim) ++victim_events;
  }
  std::int64_t ledger_events = 0;
  for (int i = 0; i < kCustomers; ++i)
    ledger_events += static_cast<std::int64_t>(must(after.consent_history(customer(i))).size());
  CHECK(ledger_events >= initial_events + returned_events);
  CHECK(ledger_events <= initial_events + returned_events + kThreadsPerProcess);
  CHECK(victim_events > 0);

  // No read that started after a withdrawal had committed (returned) was allowed, unless a grant
  // of the same customer may have committed between the withdrawal and the read's decision,
  // which falls somewhere in the read's call: a grant that ended after the withdrawal began and
  // began before the read ended. A call of the killed process in flight has no line: it began
  // after its thread's last line ended and ended by the kill, and may have been a grant of any
  // customer.
  std::vector<std::int64_t> victim_last_end(kThreadsPerProcess, 0);
  for (const Line& l : lines)
    if (l.process == kVictim && l.end > victim_last_end[static_cast<std::size_t>(l.thread)])
      victim_last_end[static_cast<std::size_t>(l.thread)] = l.end;
  std::int64_t checked_reads = 0;
  for (const Line& r : lines) {
    if (r.op != 'R' || !r.allowed) continue;
    std::optional<Line> last_withdrawal;
    for (const Line& w : lines)
      if (w.op == 'W' && w.customer == r.customer && w.end < r.start &&
          (!last_withdrawal || w.end > last_withdrawal->end))
        last_withdrawal = w;
    if (!last_withdrawal) continue;
    ++checked_reads;
    bool grant_between = false;
    for (const Line& g : lines)
      if (g.op == 'G' && g.customer == r.customer && g.end > last_withdrawal->start && g.start < r.end)
        grant_between = true;
    for (const std::int64_t began : victim_last_end)
      if (killed_at > last_withdrawal->start && began < r.end) grant_between = true;
    INFO("customer " << r.customer << ": read by process " << r.process << " allowed after a withdrawal");
    CHECK(grant_between);
  }
  CHECK(checked_reads > 0);  // the check had reads to judge

  // Nothing half-written: every customer's email opens, and every stored value authenticates.
  auto desk = must(after.accessor("support-desk"));
  for (int i = 0; i < kCustomers; ++i) {
    auto view = must(desk.view(customer(i), "service"));
    auto got = view.get("email");
    INFO("customer " << i);
    CHECK(got.ok());
  }
}
