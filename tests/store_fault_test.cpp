// store_fault_test.cpp: every write path of the vault, run with the store's file operations
// failing one at a time (an I/O error at each read, write, sync or truncation; a disk that fills
// up; a failed fsync), fails cleanly: the call reports the failure, the vault holds the state
// from before the call or from after it and never a mix, and it opens again without injection
// with its audit log verifying and every customer readable.
//
// Each case runs its operation once without faults to count its file operations and to learn the
// states before and after it, then once per injected fault at the N-th operation: every N when
// there are few, a seeded sample when there are many (CONSENTRY_FAULTS=all runs every N).
#include <doctest/doctest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/report.hpp"
#include "consentry/vault.hpp"
#include "support/fake_clock.hpp"
#include "support/injected_faults.hpp"
#include "support/must.hpp"
#include "support/retail_policy.hpp"
#include "support/seeded_random.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;
using consentry::test::FaultPlan;
using consentry::test::InjectedFaults;
using consentry::test::must;

namespace {

constexpr std::string_view kPass = test::kTestPassphrase;
constexpr std::string_view kNewPass = "tr0ub4dor&3 but longer";
constexpr std::string_view kActor = "privacy-team";
// Every customer a case can touch: C-5 exists once the write case has written it, C-8 once a
// vault that saw a fault has written again.
const std::vector<std::string> kCustomers = {"C-1", "C-2", "C-3", "C-4", "C-5", "C-8"};

// How many injected faults a case tries at most per kind, unless CONSENTRY_FAULTS=all.
constexpr std::size_t kSampledOperations = 12;
constexpr std::size_t kSampledDiskFull = 6;

// ScratchDir is a fresh directory removed with everything in it, on /dev/shm when there is one:
// the faults are injected rather than suffered, so no disk is needed, and the thousands of
// fsyncs of a case's runs then cost nothing.
class ScratchDir {
 public:
  explicit ScratchDir(std::string_view prefix) {
    static std::atomic<int> n{0};
    std::error_code ec;
    const fs::path shm = "/dev/shm";
    const fs::path base =
        fs::is_directory(shm, ec) && ::access(shm.c_str(), W_OK) == 0 ? shm : fs::temp_directory_path();
    path_ = base / (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    fs::remove_all(path_, ec);
    REQUIRE(fs::create_directories(path_));
  }
  ~ScratchDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::shared_ptr<timestamp> fixed_time() {
  static test::FakeClock clock;
  return clock.t;
}

VaultOptions options(AuditMode audit) {
  VaultOptions o = test::test_vault_options(audit, kActor);
  o.clock = [t = fixed_time()] { return *t; };
  o.random = std::make_shared<test::SeededRandom>(std::uint64_t{14});
  return o;
}

result<Vault> open_either(const fs::path& file, AuditMode audit, std::string* which = nullptr) {
  auto v = Vault::open(file, kPass, options(audit));
  if (which) *which = "the first passphrase";
  if (v || v.err().code != errc::integrity) return v;
  if (which) *which = "the new passphrase";
  return Vault::open(file, kNewPass, options(audit));
}

// ---- the vaults the cases start from ----

Record record(std::string customer, std::vector<std::pair<std::string, std::string>> fields,
              std::string source = "", std::optional<timestamp> collected_at = {}) {
  Record r;
  r.customer = std::move(customer);
  r.fields = std::move(fields);
  r.source = std::move(source);
  r.collected_at = collected_at;
  return r;
}

void fill(Vault& v) {
  const timestamp long_ago = *fixed_time() - std::chrono::days(4 * 366);
  must(v.write(
      {record("C-1",
              {{"email", "c1@example.com"}, {"birth_date", "1990-04-02"}, {"phone", "+44 7700 900123"}}),
       record("C-1", {{"credit_score", "712"}}, "credit-bureau"),
       record("C-2", {{"email", "c2@example.com"}, {"phone", "+44 7700 900456"}, {"notes", "prefers post"}}),
       record("C-3", {{"email", "c3@example.com"}, {"birth_date", "1971-11-30"}}, "", long_ago),
       record("C-4", {{"email", "c4@example.com"}, {"phone", "+44 7700 900789"}}, "", long_ago)}));
  for (const char* c : {"C-1", "C-2"}) must(v.record_consent(c, "marketing.email", ConsentAction::grant));
  must(v.record_consent("C-1", "profiling", ConsentAction::grant));
  must(v.derive("C-1", "expecting_child", "true"));
}

// template_vault returns a vault file to copy, made once per process: "base" holds four
// customers; "rotated" is base after a complete key rotation.
fs::path template_vault(std::string_view name) {
  static ScratchDir dir("consentry-fault-templates");
  const fs::path base = dir.path() / "base.vault";
  if (!fs::exists(base)) {
    Vault v = must(Vault::create(base, test::retail_policy(), kPass, options(AuditMode::durable)));
    fill(v);
  }
  if (name == "base") return base;
  const fs::path rotated = dir.path() / "rotated.vault";
  if (!fs::exists(rotated)) {
    fs::copy_file(base, rotated);
    Vault v = must(Vault::open(rotated, kPass, options(AuditMode::durable)));
    must(v.rotate_master_key());
  }
  return rotated;
}

// ---- what the vault holds ----

// Snapshot is a vault's state as a second connection reads it without writing (audit off):
// which passphrase opens it, its master keys, every customer's export (values, sources,
// consent, contacts, the accesses the log records), the privacy spent, the audit log's length
// and its verification. The checkpoints are counted apart: closing a vault adds one.
struct Snapshot {
  std::string data;
  std::int64_t checkpoints = 0;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const fs::path& file, bool probe_write = false) {
  Snapshot s;
  std::string which;
  auto v = open_either(file, AuditMode::off, &which);
  REQUIRE_MESSAGE(v.ok(), "the vault does not open: " << v.err().message);
  s.data = "opens with " + which + "\n";
  const MasterKeyStatus keys = must(v->master_key_status());
  s.data += "master key version " + std::to_string(keys.current) + " of";
  for (std::uint32_t k : keys.versions) s.data += " " + std::to_string(k);
  s.data += keys.rotating ? ", rotating;" : ";";
  for (const auto& [version, count] : keys.data_keys)
    s.data += " " + std::to_string(count) + " data keys under " + std::to_string(version);
  s.data += "\n";
  for (const std::string& c : kCustomers) {
    if (must(v->erased_at(c))) {
      s.data += c + " erased\n";
      continue;
    }
    auto report = v->export_subject(c);
    if (!report && report.err().code == errc::not_found) {
      s.data += c + " unknown\n";
      continue;
    }
    REQUIRE_MESSAGE(report.ok(), c << " cannot be read: " << report.err().message);
    s.data += export_json(*report) + "\n";
  }
  s.data += "privacy spent on service: " + std::to_string(must(v->privacy_budget("service")).spent) + "\n";
  s.data += "audit entries: " + std::to_string(must(v->audit_entries()).size()) + "\n";
  const AuditVerification verified = must(v->verify_audit());
  REQUIRE_MESSAGE(verified.ok,
                  "the audit log does not verify at " << verified.first_bad_seq << ": " << verified.problem);
  s.checkpoints = verified.checkpoints;
  if (probe_write) {
    // The vault takes writes again.
    must(v->put("C-9", "email", "probe@example.com"));
    CHECK(must(v->customers()).back() == "C-9");
  }
  return s;
}

// difference names the first line where two snapshots' data differ, for failure messages.
std::string difference(const std::string& got, const std::string& want) {
  std::size_t line = 1, start = 0;
  while (start < got.size() && start < want.size()) {
    const std::size_t g = got.find('\n', start), w = want.find('\n', start);
    if (got.compare(start, g - start, want, start, w - start) != 0)
      return "line " + std::to_string(line) + " is\n  " + got.substr(start, g - start) + "\nnot\n  " +
             want.substr(start, w - start);
    if (g == std::string::npos || w == std::string::npos) break;
    start = g + 1;
    ++line;
  }
  return got.size() == want.size() ? "no difference"
                                   : "one ends before the other at line " + std::to_string(line);
}

// without_seqs drops the exports' "seq" lines: the log numbers entries in the order they were
// made, which a resumed operation and a write made in between interleave differently.
std::string without_seqs(const std::string& data) {
  std::string out;
  std::size_t start = 0;
  while (start < data.size()) {
    const std::size_t end = std::min(data.find('\n', start), data.size());
    const std::string_view line(data.data() + start, end - start);
    if (line.find("\"seq\": ") == std::string_view::npos) out.append(line).append("\n");
    start = end + 1;
  }
  return out;
}

// audit_head_checkpointed is true when the last stored checkpoint signs the last audit entry,
// as closing a vault leaves it; read straight from the file with no vault open.
bool audit_head_checkpointed(const fs::path& file) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT (SELECT coalesce(max(seq), 0) FROM audit) = "
                             "(SELECT coalesce(max(seq), 0) FROM audit_checkpoints)",
                             -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const bool covered = sqlite3_column_int(st, 0) == 1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return covered;
}

bool vault_files_exist(const fs::path& file) {
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    if (fs::exists(file.string() + suffix)) return true;
  return false;
}

// ---- the cases ----

// WritePath is one write path of the vault and what failing it may leave.
struct WritePath {
  std::string_view base = "base";        ///< the template vault it starts from
  AuditMode audit = AuditMode::durable;  ///< the mode the vault is opened in
  std::function<void(Vault&)> prepare;   ///< done before the operation, without faults
  /// op is the operation under test; `dir` is the case's scratch directory.
  std::function<result<void>(Vault&, const fs::path& dir)> op;
  /// resumable: the operation commits in several transactions and a failure may stop it between
  /// two (any state that verifies and reads is fine then); once the vault is reopened, `resume`
  /// (when set) finishes it, and the state must then be the one after the operation.
  bool resumable = false;
  std::function<result<void>(Vault&)> resume;
  /// check_files checks the files the operation made in `dir`, given how it ended.
  std::function<void(const result<void>&, const fs::path& dir, const Snapshot& now)> check_files;
};

// Outcome is how an operation ended: std::nullopt for success, else the error's code.
using Outcome = std::optional<errc>;

std::string describe(const Outcome& o) {
  if (!o) return "success";
  switch (*o) {
    case errc::io: return "errc::io";
    case errc::integrity: return "errc::integrity";
    case errc::denied: return "errc::denied";
    case errc::internal: return "errc::internal";
    case errc::not_found: return "errc::not_found";
    case errc::erased: return "errc::erased";
    default: return "another error";
  }
}

// Expected is what a fault-free run of a case found.
struct Expected {
  Snapshot before, after;
  Snapshot settled;          ///< after, once the vault was closed and reopened
  Snapshot settled_written;  ///< the same with a later write before closing
  Outcome outcome;
  std::int64_t operations = 0, writes = 0, syncs = 0;
};

// Ran is how one run went: the outcome, the states before and after the operation, and the
// state once the vault was closed and reopened.
struct Ran {
  Outcome outcome;
  Snapshot before, after, settled;
};

// Then says what follows the operation: closing the vault at once (which must sign the log's
// head), or a write first (the vault that saw the fault goes on working), closed without faults
// or while the disk is still full.
enum class Then { close, write_and_close, write_and_close_under_fault };

// run_case runs `path` once in a fresh copy of its template under `plan` (nullptr: no faults),
// then does what `then` says, reopens the vault and checks it against `expected`, the fault-free
// run's findings (null for that run itself, which only records them).
Ran run_case(const WritePath& path, const fs::path& dir, FaultPlan* plan, const Expected* expected,
             Then then = Then::close) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const fs::path file = dir / "crm.vault";
  fs::copy_file(template_vault(path.base), file);
  Ran ran;
  std::optional<Vault> a;
  a.emplace(must(Vault::open(file, kPass, options(path.audit))));
  if (path.prepare) path.prepare(*a);
  if (!expected) ran.before = snapshot(file);
  result<void> r = ok();
  {
    std::optional<InjectedFaults> faults;
    if (plan) faults.emplace(*plan);
    r = path.op(*a, dir);
  }
  if (!r) ran.outcome = r.err().code;
  INFO("the operation ended with " << describe(ran.outcome) << (r ? "" : ": " + r.err().message));
  ran.after = snapshot(file);

  if (expected) {
    // The call reports the fault, or succeeds only with its whole effect.
    if (ran.outcome != expected->outcome) CHECK(ran.outcome == errc::io);
    if (!ran.outcome)
      CHECK_MESSAGE(ran.after == expected->after,
                    "succeeded without its whole effect: " << difference(ran.after.data, expected->after.data)
                                                           << "\ncheckpoints " << ran.after.checkpoints
                                                           << ", not " << expected->after.checkpoints);
    if (!path.resumable)
      CHECK_MESSAGE((ran.after == expected->before || ran.after == expected->after),
                    "the vault holds neither the state before the operation nor the state after it: against "
                    "before, "
                        << difference(ran.after.data, expected->before.data) << "\nagainst after, "
                        << difference(ran.after.data, expected->after.data));
  }
  if (path.check_files) path.check_files(r, dir, ran.after);

  Snapshot written = ran.after;
  if (then != Then::close) {
    must(a->put("C-8", "email", "c8@example.com"));
    written = snapshot(file);
  }

  if (then == Then::write_and_close_under_fault) {
    // The disk is still full when the vault closes: closing cannot commit or checkpoint
    // anything, and the next open recovers from what the files hold.
    InjectedFaults faults(*plan);
    a.reset();
  } else {
    // Closing commits and signs a checkpoint of the log's head.
    a.reset();
    CHECK_MESSAGE(audit_head_checkpointed(file),
                  "closing the vault left the log's tail without a checkpoint");
  }
  if (path.resume) {
    Vault b = must(open_either(file, path.audit));
    auto resumed = path.resume(b);
    REQUIRE_MESSAGE(resumed.ok(), "resuming failed: " << resumed.err().message);
  }
  ran.settled = snapshot(file, true);
  if (expected) {
    const Snapshot& want = then == Then::close ? expected->settled : expected->settled_written;
    if (path.resumable)
      CHECK_MESSAGE(without_seqs(ran.settled.data) == without_seqs(want.data),
                    "the resumed operation did not reach its end state: " << difference(
                        without_seqs(ran.settled.data), without_seqs(want.data)));
    else
      CHECK_MESSAGE(ran.settled.data == written.data, "reopening the vault changed what it holds: "
                                                          << difference(ran.settled.data, written.data));
  }
  return ran;
}

bool every_fault() {
  const char* all = std::getenv("CONSENTRY_FAULTS");
  return all != nullptr && std::string_view(all) == "all";
}

// sample picks which of the operations 1..count to fail: all of them when there are at most
// `cap` (or CONSENTRY_FAULTS=all), else the first, the last and a seeded choice in between.
std::vector<std::int64_t> sample(std::int64_t count, std::size_t cap, std::uint32_t seed) {
  std::vector<std::int64_t> all;
  for (std::int64_t n = 1; n <= count; ++n) all.push_back(n);
  if (all.size() <= cap || every_fault()) return all;
  std::vector<std::int64_t> middle(all.begin() + 1, all.end() - 1);
  std::mt19937 rng(seed);
  std::shuffle(middle.begin(), middle.end(), rng);
  middle.resize(cap - 2);
  middle.push_back(1);
  middle.push_back(count);
  std::sort(middle.begin(), middle.end());
  return middle;
}

std::uint32_t seed_of(std::string_view name) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (unsigned char c : name) h = (h ^ c) * 16777619u;
  return h;
}

// fails_cleanly runs the whole check for one write path: a fault-free run, then every injected
// fault chosen.
void fails_cleanly(std::string_view name, const WritePath& path) {
  ScratchDir dir("consentry-fault");
  Expected expected;
  {
    FaultPlan count_all;
    const Ran clean = run_case(path, dir.path() / "clean", &count_all, nullptr);
    expected.before = clean.before;
    expected.after = clean.after;
    expected.settled = clean.settled;
    expected.outcome = clean.outcome;
    expected.operations = count_all.seen;
  }
  REQUIRE_MESSAGE(expected.operations > 0, "the operation did no file operation");
  {
    FaultPlan count_writes;
    count_writes.ops = test::FileOp::file_write;
    expected.settled_written =
        run_case(path, dir.path() / "count", &count_writes, nullptr, Then::write_and_close).settled;
    expected.writes = count_writes.seen;
    FaultPlan count_syncs;
    count_syncs.ops = test::FileOp::file_sync;
    (void)run_case(path, dir.path() / "count", &count_syncs, &expected, Then::write_and_close);
    expected.syncs = count_syncs.seen;
  }
  MESSAGE(name << ": " << expected.operations << " file operations (" << expected.writes << " writes, "
               << expected.syncs << " syncs), fault-free outcome " << describe(expected.outcome));

  const std::uint32_t seed = seed_of(name);
  for (std::int64_t n : sample(expected.operations, kSampledOperations, seed)) {
    INFO("an I/O error at file operation " << n << " of " << expected.operations);
    FaultPlan plan;
    plan.fail_at = n;
    (void)run_case(path, dir.path() / "fault", &plan, &expected);
    CHECK_MESSAGE(plan.failed > 0, "the fault was never injected");
  }
  for (std::int64_t n : sample(expected.writes, kSampledDiskFull, seed + 1)) {
    INFO("the disk full from write " << n << " of " << expected.writes << " on");
    FaultPlan plan;
    plan.ops = test::FileOp::file_write;
    plan.fail_at = n;
    plan.persistent = true;
    plan.code = SQLITE_FULL;
    (void)run_case(path, dir.path() / "fault", &plan, &expected, Then::write_and_close_under_fault);
    CHECK_MESSAGE(plan.failed > 0, "the fault was never injected");
  }
  for (std::int64_t n : sample(expected.syncs, kSampledOperations, seed + 2)) {
    INFO("a failed fsync at sync " << n << " of " << expected.syncs);
    FaultPlan plan;
    plan.ops = test::FileOp::file_sync;
    plan.fail_at = n;
    (void)run_case(path, dir.path() / "fault", &plan, &expected, Then::write_and_close);
    CHECK_MESSAGE(plan.failed > 0, "the fault was never injected");
  }
}

template <class T>
result<void> done(result<T> r) {
  if (!r) return std::move(r).err();
  return ok();
}

WritePath path(std::function<result<void>(Vault&)> op) {
  WritePath p;
  p.op = [op = std::move(op)](Vault& v, const fs::path&) { return op(v); };
  return p;
}

void read_email(Vault& v, std::string_view customer) {
  auto desk = must(v.accessor("support-desk"));
  auto view = must(desk.view(customer, "service"));
  must(view.get("email"));
}

}  // namespace

TEST_CASE("an import that hits an I/O error writes all of its records or none") {
  fails_cleanly("write", path([](Vault& v) {
                  return v.write({record("C-5", {{"email", "c5@example.com"}, {"phone", "+44 7700 900999"}}),
                                  record("C-2", {{"notes", "prefers email now"}})});
                }));
}

TEST_CASE("a consent grant, withdrawal or objection that hits an I/O error is recorded whole or not at all") {
  SUBCASE("grant") {
    fails_cleanly("grant", path([](Vault& v) {
                    return done(v.record_consent("C-3", "marketing.email", ConsentAction::grant));
                  }));
  }
  SUBCASE("withdrawal") {
    fails_cleanly("withdraw", path([](Vault& v) {
                    return done(v.record_consent("C-2", "marketing.email", ConsentAction::withdraw));
                  }));
  }
  SUBCASE("objection") {
    fails_cleanly("object", path([](Vault& v) {
                    return done(v.record_consent("C-2", "analytics", ConsentAction::object));
                  }));
  }
}

TEST_CASE("a profiling withdrawal that hits an I/O error keeps or drops the inferences with the withdrawal") {
  fails_cleanly("profiling withdrawal", path([](Vault& v) {
                  return done(v.record_consent("C-1", "profiling", ConsentAction::withdraw));
                }));
}

TEST_CASE(
    "a contact, a refused contact or a contact preference that hits an I/O error is recorded whole or not at "
    "all") {
  SUBCASE("contact made") {
    fails_cleanly("contact",
                  path([](Vault& v) { return done(v.record_contact("C-1", "email", "marketing.email")); }));
  }
  SUBCASE("contact refused") {
    fails_cleanly("contact refused",
                  path([](Vault& v) { return done(v.record_contact("C-3", "email", "marketing.email")); }));
  }
  SUBCASE("contact limit") {
    fails_cleanly("contact limit", path([](Vault& v) {
                    return done(v.limit_contacts("C-1", "marketing.email", 1, *parse_iso_duration("P7D")));
                  }));
  }
  SUBCASE("channel opt-out") {
    fails_cleanly("opt-out", path([](Vault& v) { return done(v.opt_out_of_channel("C-2", "sms")); }));
  }
}

TEST_CASE("an erasure that hits an I/O error erases the customer whole or not at all") {
  fails_cleanly("erase", path([](Vault& v) { return v.erase("C-2"); }));
}

TEST_CASE("a key rotation that hits an I/O error in any batch keeps every key readable and resumes") {
  WritePath p = path([](Vault& v) {
    RotationOptions o;
    o.batch = 2;
    return done(v.rotate_master_key(o));
  });
  p.resumable = true;
  // Only a rotation that did not start or did not finish is resumed.
  p.resume = [](Vault& v) -> result<void> {
    auto status = v.master_key_status();
    if (!status) return std::move(status).err();
    if (status->current != 1 && !status->rotating) return ok();
    return done(v.rotate_master_key());
  };
  fails_cleanly("rotation", p);
}

TEST_CASE("a key retirement that hits an I/O error retires every old version or none") {
  WritePath p = path([](Vault& v) {
    return done(
        v.retire_master_keys(std::make_shared<PassphraseKeyProvider>(kNewPass, KdfStrength::minimum)));
  });
  p.base = "rotated";
  fails_cleanly("retirement", p);
}

TEST_CASE("a passphrase change that hits an I/O error leaves the vault opening with one passphrase") {
  fails_cleanly("passphrase change", path([](Vault& v) { return v.change_passphrase(kNewPass); }));
}

TEST_CASE("a purge that hits an I/O error stops between batches and a later purge finishes it") {
  WritePath p = path([](Vault& v) {
    PurgeOptions o;
    o.batch = 1;
    return done(v.purge(o));
  });
  p.resumable = true;
  p.resume = [](Vault& v) { return done(v.purge()); };
  fails_cleanly("purge", p);
}

TEST_CASE("a private aggregate that hits an I/O error is charged to the budget and audited, or neither") {
  fails_cleanly("private aggregate", path([](Vault& v) {
                  AggregateQuery q;
                  q.kind = AggregateKind::sum;
                  q.epsilon = 0.5;
                  q.lo = 0;
                  q.hi = 1000;
                  return done(v.private_aggregate("service", "credit_score", q));
                }));
}

TEST_CASE("a held-back audit flush that hits an I/O error keeps the entries for the next flush") {
  WritePath p = path([](Vault& v) { return v.flush_audit(); });
  p.audit = AuditMode::batched;
  p.prepare = [](Vault& v) {
    for (const char* c : {"C-1", "C-2", "C-1"}) read_email(v, c);
  };
  // The reads were served: their entries must reach the log, at the latest when the vault closes.
  p.resumable = true;
  fails_cleanly("audit flush", p);
}

TEST_CASE("an audit checkpoint that hits an I/O error is signed whole or not at all, and closing signs it") {
  WritePath p = path([](Vault& v) { return done(v.checkpoint_audit()); });
  p.prepare = [](Vault& v) { must(v.put("C-1", "notes", "asked for a checkpoint")); };
  fails_cleanly("checkpoint", p);
}

TEST_CASE("a backup that hits an I/O error leaves no file, and one that succeeds opens") {
  WritePath p;
  p.op = [](Vault& v, const fs::path& dir) { return v.backup(dir / "copy.vault"); };
  p.check_files = [](const result<void>& r, const fs::path& dir, const Snapshot& now) {
    const fs::path copy = dir / "copy.vault";
    if (!r) {
      CHECK_MESSAGE(!vault_files_exist(copy), "a failed backup left a file behind");
      return;
    }
    CHECK(snapshot(copy).data == now.data);
  };
  fails_cleanly("backup", p);
}

TEST_CASE("a vault creation that hits an I/O error leaves no file, and one that succeeds opens") {
  WritePath p;
  p.op = [](Vault&, const fs::path& dir) -> result<void> {
    auto made = Vault::create(dir / "new.vault", test::retail_policy(), kPass, options(AuditMode::durable));
    if (!made) return std::move(made).err();
    return ok();
  };
  p.check_files = [](const result<void>& r, const fs::path& dir, const Snapshot&) {
    const fs::path made = dir / "new.vault";
    if (!r) {
      CHECK_MESSAGE(!vault_files_exist(made), "a failed creation left a file behind");
      return;
    }
    CHECK(snapshot(made).data.find("audit entries: 0") != std::string::npos);
  };
  fails_cleanly("create", p);
}

TEST_CASE("a compaction that hits an I/O error leaves the vault as it was") {
  WritePath p;
  p.prepare = [](Vault& v) {
    must(v.put("C-1", "notes", "first"));
    must(v.put("C-1", "notes", "second"));
  };
  p.op = [](Vault&, const fs::path& dir) -> result<void> {
    auto store = open_sqlite_store(dir / "crm.vault", StoreMode::open);
    if (!store) return std::move(store).err();
    return (*store)->compact();
  };
  fails_cleanly("compact", p);
}
