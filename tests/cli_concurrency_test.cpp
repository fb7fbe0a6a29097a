// cli_concurrency_test.cpp: the consentry command run as several processes at once on one vault:
// imports racing `keys rotate --retire`, `derive` racing `consent withdraw … profiling`, `keys
// passphrase` killed at random moments, and erasures and a rotation inside a mixed load. Each
// race runs many times with its processes started together; afterwards every customer written
// reads back, no data key is wrapped under a destroyed version, and the audit log verifies.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/cli_process.hpp"
#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

const fs::path kPolicy = fs::path(CONSENTRY_TEST_DATA) / "cli" / "policy.json";
constexpr const char* kMasterKeyChanged = "master key changed while this command ran";

using test::CliEnv;
using test::CliOutput;
using test::StartedCli;

std::string email_of(const std::string& customer) {
  return customer + "@example.com";
}

// jsonl is an import file of customers `prefix`0 .. `prefix`(n-1), each with an email.
std::string jsonl(const std::string& prefix, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    const std::string id = prefix + std::to_string(i);
    out +=
        R"({"id": ")" + id + R"(", "source": "web-signup", "fields": {"email": ")" + email_of(id) + "\"}}\n";
  }
  return out;
}

std::vector<std::string> ids(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

/// Bench is one vault in a scratch directory, and the passphrase that opens it now.
class Bench {
 public:
  Bench() : dir_("consentry-cli-concurrency") {}

  fs::path path(const std::string& name) const { return dir_.path() / name; }
  fs::path vault() const { return path("crm.vault"); }

  CliEnv env(const std::string& passphrase, const std::string& new_passphrase = "") const {
    CliEnv e{{"CONSENTRY_VAULT", vault().string()}, {"CONSENTRY_PASSPHRASE", passphrase}};
    if (!new_passphrase.empty()) e.emplace_back("CONSENTRY_NEW_PASSPHRASE", new_passphrase);
    return e;
  }

  CliOutput run(const std::vector<std::string>& args, const CliEnv& env) const {
    return test::run_consentry(dir_.path(), args, env);
  }
  StartedCli start(const std::vector<std::string>& args, const CliEnv& env) const {
    return test::start_cli(dir_.path(), args, env);
  }

  // must_run runs a command that has to succeed.
  CliOutput must_run(const std::vector<std::string>& args, const CliEnv& env) const {
    CliOutput o = run(args, env);
    INFO("consentry " << args.front() << ": " << o.err);
    REQUIRE(o.code == 0);
    return o;
  }

  void init(const std::string& passphrase) const {
    must_run({"init", "--policy", kPolicy.string(), "--kdf", "minimum"}, env(passphrase));
  }

  void import(const std::string& name, const std::string& text, const std::string& passphrase) const {
    test::write_file(path(name), text);
    must_run({"import", path(name).string()}, env(passphrase));
  }

 private:
  test::TempDir dir_;
};

// check_readable opens the vault in this process and reads every customer's email back.
void check_readable(const Bench& b, const std::string& passphrase,
                    const std::vector<std::string>& customers) {
  VaultOptions o;
  o.audit = AuditMode::off;  // the check leaves no trace in the log it verifies
  auto v = Vault::open(b.vault(), passphrase, o);
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  auto desk = v->accessor("support-desk");
  REQUIRE(desk.ok());
  for (const std::string& c : customers) {
    INFO("customer " << c);
    auto view = desk->view(c, "service");
    REQUIRE_MESSAGE(view.ok(), view.err().message);
    auto got = view->get("email");
    REQUIRE_MESSAGE(got.ok(), got.err().message);
    CHECK(got->value == email_of(c));
  }
}

// check_keys_live: `keys status` lists no data key under a version that is not live.
void check_keys_live(const Bench& b, const std::string& passphrase) {
  CliOutput o = b.must_run({"keys", "status", "--json"}, b.env(passphrase));
  const auto status = nlohmann::json::parse(o.out);
  std::vector<std::string> live;
  for (const auto& v : status["versions"]) live.push_back(std::to_string(v.get<int>()));
  for (const auto& entry : status["data_keys"].items()) {
    const std::string& version = entry.key();
    INFO(entry.value() << " data keys under version " << version << "; live: " << o.out);
    CHECK(std::find(live.begin(), live.end(), version) != live.end());
  }
}

void check_log_verifies(const Bench& b, const std::string& passphrase) {
  CliOutput o = b.run({"log", "verify"}, b.env(passphrase));
  INFO("log verify: " << o.out << o.err);
  CHECK(o.code == 0);
}

bool opens_with(const Bench& b, const std::string& passphrase) {
  CliOutput o = b.run({"keys", "status"}, b.env(passphrase));
  if (o.code != 0) {
    INFO("keys status: " << o.err);
    CHECK(o.code == 4);
  }
  return o.code == 0;
}

std::string describe(const StartedCli& p, const CliOutput& o) {
  return test::command_line(p) + " exited " + std::to_string(o.code) + ": " + o.err;
}

}  // namespace

TEST_CASE("cli: imports racing keys rotate --retire land under a live version or fail whole") {
  std::mt19937 rng(1234);
  int failed_whole = 0;
  for (int round = 0; round < 6; ++round) {
    CAPTURE(round);
    Bench b;
    b.init("old passphrase");
    b.import("pre.jsonl", jsonl("P-", 20), "old passphrase");
    // Importers of different sizes, so that one of them is likely to have opened the vault before
    // the rotation and to write after the retirement.
    const std::vector<std::pair<std::string, int>> files{{"A-", 100}, {"B-", 600}, {"C-", 2000}};
    for (const auto& [prefix, n] : files) test::write_file(b.path(prefix + ".jsonl"), jsonl(prefix, n));
    std::vector<StartedCli> importers;
    for (const auto& [prefix, n] : files)
      importers.push_back(b.start({"import", b.path(prefix + ".jsonl").string()}, b.env("old passphrase")));
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
    StartedCli rotate = b.start({"keys", "rotate", "--retire", "--kdf", "minimum"},
                                b.env("old passphrase", "new passphrase"));

    std::vector<std::string> written = ids("P-", 20);
    for (std::size_t i = 0; i < importers.size(); ++i) {
      CliOutput o = test::finish(importers[i]);
      INFO(describe(importers[i], o));
      if (o.code == 0) {
        const auto more = ids(files[i].first, files[i].second);
        written.insert(written.end(), more.begin(), more.end());
      } else if (o.code == 4) {
        // Started late: the retirement had re-sealed the vault under the new passphrase already.
        CHECK(o.err.find("wrong passphrase") != std::string::npos);
      } else {
        // Opened under the old passphrase, which no longer opens the version now current.
        CHECK(o.code == 2);
        CHECK(o.err.find(kMasterKeyChanged) != std::string::npos);
        ++failed_whole;
      }
    }
    CliOutput r = test::finish(rotate);
    INFO(describe(rotate, r));
    // Retirement compacts the files; an importer still holding the WAL may delay that (exit 2, the
    // retirement committed), and the next erase, purge or retirement compacts them.
    CHECK((r.code == 0 || (r.code == 2 && r.err.find("compact") != std::string::npos)));

    CHECK_FALSE(opens_with(b, "old passphrase"));
    check_keys_live(b, "new passphrase");
    check_readable(b, "new passphrase", written);
    check_log_verifies(b, "new passphrase");
    if (round == 0) {
      // Nothing blocks the next retirement.
      b.must_run({"keys", "rotate", "--retire", "--kdf", "minimum"},
                 b.env("new passphrase", "third passphrase"));
      check_readable(b, "third passphrase", written);
    }
  }
  MESSAGE(failed_whole << " imports failed whole because the master key changed under them");
}

TEST_CASE("cli: derive racing consent withdraw profiling never leaves an inference stored") {
  Bench b;
  b.init("pass");
  // Five customers per round, each with its derive and its withdrawal started together.
  constexpr int kRounds = 6;
  constexpr int kPerRound = 5;
  constexpr int kCustomers = kRounds * kPerRound;
  b.import("people.jsonl", jsonl("D-", kCustomers), "pass");
  {
    auto v = Vault::open(b.vault(), "pass");
    REQUIRE(v.ok());
    for (const std::string& c : ids("D-", kCustomers))
      REQUIRE(v->record_consent(c, "profiling", ConsentAction::grant).ok());
  }
  std::map<int, int> derive_codes;
  for (int round = 0; round < kRounds; ++round) {
    std::vector<std::pair<StartedCli, StartedCli>> pairs;
    for (int i = 0; i < kPerRound; ++i) {
      const std::string c = "D-" + std::to_string(round * kPerRound + i);
      StartedCli derive = b.start({"derive", c, "expecting_child", "true"}, b.env("pass"));
      StartedCli withdraw = b.start({"consent", "withdraw", c, "profiling"}, b.env("pass"));
      pairs.emplace_back(std::move(derive), std::move(withdraw));
    }
    for (auto& [derive, withdraw] : pairs) {
      CliOutput d = test::finish(derive);
      CliOutput w = test::finish(withdraw);
      const std::string outcome = describe(derive, d) + "; " + describe(withdraw, w);
      INFO(outcome);
      CHECK(w.code == 0);
      CHECK((d.code == 0 || (d.code == 3 && d.err.find("consent to profiling") != std::string::npos)));
      ++derive_codes[d.code];
    }
  }
  // Whichever committed first, the withdrawal is the customer's last event: nothing inferred stays.
  auto store = open_sqlite_store(b.vault(), StoreMode::open);
  REQUIRE(store.ok());
  for (const std::string& c : ids("D-", kCustomers)) {
    INFO("customer " << c);
    auto held = (*store)->get_field(c, "expecting_child");
    REQUIRE(held.ok());
    CHECK_FALSE(held->has_value());
  }
  check_log_verifies(b, "pass");
  MESSAGE("derive exits: 0 x" << derive_codes[0] << ", 3 x" << derive_codes[3]);
}

TEST_CASE(
    "cli: keys passphrase killed at a random moment leaves the vault opening with the old or the new one") {
  Bench b;
  const std::vector<std::string> passphrases{"first passphrase", "second passphrase", "third passphrase"};
  b.init(passphrases[0]);
  b.import("people.jsonl", jsonl("K-", 10), passphrases[0]);
  std::size_t current = 0;
  // How long an uninterrupted change takes: the kills land from the start to a little past it.
  const auto t0 = std::chrono::steady_clock::now();
  b.must_run({"keys", "passphrase", "--kdf", "minimum"}, b.env(passphrases[0], passphrases[1]));
  const auto full =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
  current = 1;
  std::mt19937 rng(99);
  constexpr int kKills = 20;
  int changed = 0;
  for (int round = 0; round < kKills; ++round) {
    CAPTURE(round);
    const std::size_t next = (current + 1) % passphrases.size();
    StartedCli p =
        b.start({"keys", "passphrase", "--kdf", "minimum"}, b.env(passphrases[current], passphrases[next]));
    const auto delay = std::uniform_int_distribution<long>(0, full.count() * 5 / 4)(rng);
    std::this_thread::sleep_for(std::chrono::microseconds(delay));
    test::kill_now(p);
    CliOutput o = test::finish(p);
    CHECK((o.code == test::kKilled || o.code == 0));
    // Never neither (two passphrases cannot both open one sealed version).
    const bool old_opens = opens_with(b, passphrases[current]);
    INFO("after a kill " << delay << " us in, the old passphrase opens: " << old_opens);
    if (!old_opens) {
      REQUIRE(opens_with(b, passphrases[next]));
      current = next;
      ++changed;
    }
  }
  // Every change and every kill left the log whole.
  check_log_verifies(b, passphrases[current]);
  check_readable(b, passphrases[current], ids("K-", 10));
  MESSAGE(changed << " of " << kKills << " killed changes had committed");
}

TEST_CASE(
    "cli: erasures and a rotation inside a mixed concurrent load keep erased customers erased and the "
    "others") {
  std::mt19937 rng(7);
  for (int round = 0; round < 2; ++round) {
    CAPTURE(round);
    Bench b;
    b.init("pass");
    constexpr int kBase = 40;
    b.import("base.jsonl", jsonl("M-", kBase), "pass");
    const std::vector<std::string> erased{"M-3", "M-17", "M-29"};
    const auto env = b.env("pass");

    std::vector<StartedCli> load;
    for (int i = 0; i < 2; ++i) {
      const std::string file = b.path("new-" + std::to_string(i) + ".jsonl").string();
      test::write_file(file, jsonl("N" + std::to_string(i) + "-", 300));
      load.push_back(b.start({"import", file}, env));
    }
    for (int i = 0; i < 3; ++i) {
      const std::string c = "M-" + std::to_string(std::uniform_int_distribution<int>(0, kBase - 1)(rng));
      load.push_back(
          b.start({"read", c, "--purpose", "service", "--as", "support-desk", "--fields", "email"}, env));
    }
    for (int i = 0; i < 4; ++i) {
      const std::string c = "M-" + std::to_string(std::uniform_int_distribution<int>(0, kBase - 1)(rng));
      load.push_back(b.start({"consent", i % 2 == 0 ? "grant" : "withdraw", c, "marketing.email"}, env));
    }
    std::vector<StartedCli> erasers;
    for (const std::string& c : erased) erasers.push_back(b.start({"erase", c, "--reason", "test"}, env));
    StartedCli rotate = b.start({"keys", "rotate", "--batch", "7"}, env);

    for (StartedCli& p : load) {
      CliOutput o = test::finish(p);
      INFO(describe(p, o));
      // A read or consent event about a customer erased meanwhile answers erased or unknown (5).
      const bool about_erased = std::any_of(erased.begin(), erased.end(), [&](const std::string& c) {
        return std::find(p.args.begin(), p.args.end(), c) != p.args.end();
      });
      CHECK((o.code == 0 || (o.code == 5 && about_erased)));
    }
    for (std::size_t i = 0; i < erasers.size(); ++i) {
      CliOutput o = test::finish(erasers[i]);
      INFO(describe(erasers[i], o));
      if (o.code == 2) {
        // Committed, but a reader held the WAL: erasing again completes the compaction.
        CHECK(o.err.find("erase the customer again") != std::string::npos);
        CliOutput again = b.run({"erase", erased[i], "--reason", "test"}, env);
        CHECK(again.code == 5);
      } else {
        CHECK(o.code == 0);
      }
    }
    CliOutput r = test::finish(rotate);
    INFO(describe(rotate, r));
    CHECK(r.code == 0);

    check_log_verifies(b, "pass");
    check_keys_live(b, "pass");
    for (const std::string& c : erased) {
      CliOutput o = b.run({"read", c, "--purpose", "service", "--as", "support-desk"}, env);
      INFO("read " << c << ": " << o.err);
      CHECK(o.code == 5);
    }
    std::vector<std::string> kept;
    for (const std::string& c : ids("M-", kBase))
      if (std::find(erased.begin(), erased.end(), c) == erased.end()) kept.push_back(c);
    for (int i = 0; i < 2; ++i) {
      const auto more = ids("N" + std::to_string(i) + "-", 300);
      kept.insert(kept.end(), more.begin(), more.end());
    }
    check_readable(b, "pass", kept);
  }
}
