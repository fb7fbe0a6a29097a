// cli_canary_test.cpp: every consentry subcommand, succeeding and failing, run with --verbose on
// a vault whose every value, consent notice and passphrase carries a canary; no stdout or stderr
// may hold a canary, a passphrase, or the bytes of any key the vault holds, except the values a
// consented read or a consent history is there to show. A subcommand that `consentry --help`
// lists and this test does not run (succeeding and failing) fails the test.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sodium.h>
#include <spawn.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../src/crypto/keyring.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/key_provider.hpp"
#include "support/cli_runner.hpp"
#include "support/files.hpp"

namespace {

namespace fs = std::filesystem;
using namespace consentry;

/// kMarker is in every text canary (values, notices, passphrases); scans for it ignore case.
/// Neither hex nor base64 nor a temporary path contains a '.', so it cannot turn up by chance.
constexpr std::string_view kMarker = "qx.41";

// Canary passphrases, not the shared test one: each must be recognisable in any output it leaks to.
constexpr const char* kPassphrase = "Qx.41 passphrase canary horse";
constexpr const char* kNewPassphrase = "Qx.41 new passphrase canary";
constexpr const char* kRetirePassphrase = "Qx.41 passphrase after retiring";
constexpr const char* kWrongPassphrase = "qx.41 wrong passphrase";
constexpr const char* kNotice = "privacy-notice-qx.41-v3";

/// Person is one imported customer's values.
struct Person {
  std::string id, name, email, phone, birth_date, notes;
  std::vector<std::string> digits;  ///< how the phone number may be printed (no marker in digits)
};

const Person kZelda{"C-2001",
                    "Zelda Qx.41 Canarysson",
                    "zelda.qx.41@example.org",
                    "+44 7700 913 579",
                    "1931-02-17",
                    "Qx.41 notes: prefers calls after six",
                    {"7700913579", "7700 913 579"}};
const Person kYorick{
    "C-2002",     "Yorick Qx.41 Second",         "yorick.qx.41@example.net",      "+1 (555) 014-7723",
    "1947-08-29", "qx.41 second customer notes", {"5550147723", "(555) 014-7723"}};
const Person kXavier{
    "C-2003",     "Xavier Qx.41 Erased",         "xavier.qx.41@example.com",      "+33 6 71 94 28 53",
    "1958-12-03", "QX.41 erased customer notes", {"33671942853", "6 71 94 28 53"}};
const Person kWanda{"C-2004",     "Wanda Qx.41 Csv",         "wanda.qx.41@example.com",    "+49 30 901820 77",
                    "1966-05-21", "qx.41 imported from CSV", {"493090182077", "901820 77"}};

/// kPolicy gives each form a chance to show or hide a canary: clear, mask, pseudonym,
/// generalisation, redaction and no form at all; email and phone have blind indexes.
constexpr std::string_view kPolicy = R"({
  "consentry_policy": 1,
  "controller": {"name": "Canary Retail Ltd", "contact": "privacy@canary.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account"},
    {"id": "marketing.email", "basis": "consent", "description": "Offers by email",
     "consent_valid_for": "P24M"},
    {"id": "analytics", "basis": "legitimate_interest", "description": "Aggregate reports"},
    {"id": "profiling", "basis": "consent", "description": "Predictions about you"}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"]},
    {"id": "email-campaigns", "purposes": ["marketing.email"]},
    {"id": "bi-dashboard", "purposes": ["analytics"]}
  ],
  "fields": [
    {"name": "name", "type": "string", "category": "identity",
     "access": {"service": "clear", "analytics": "pseudonym"}},
    {"name": "email", "type": "email", "category": "contact", "lookup": ["service"],
     "access": {"service": "clear", "marketing.email": "clear", "analytics": "pseudonym"}},
    {"name": "phone", "type": "phone", "category": "contact", "lookup": ["service"],
     "access": {"service": "mask:last4"}},
    {"name": "birth_date", "type": "date", "category": "identity",
     "access": {"service": "clear", "analytics": "generalise:year"}},
    {"name": "notes", "type": "string", "category": "service", "access": {"service": "redact"}},
    {"name": "segment", "type": "string", "category": "inferred", "derived_from": ["birth_date"],
     "access": {"profiling": "clear"}}
  ],
  "signals": {"gpc": ["analytics"]}
}
)";

/// kPurposes are the purposes of kPolicy, for the keys derived per purpose.
const std::vector<std::string> kPurposes = {"service", "marketing.email", "analytics", "profiling"};

/// kSegment is the inferred value `derive` writes for Zelda.
constexpr const char* kSegment = "qx.41 inferred segment";

using consentry::test::file_bytes;

using consentry::test::write_file;

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string jsonl_line(const Person& p) {
  return R"({"id": ")" + p.id + R"(", "source": "web-signup", "fields": {"name": ")" + p.name +
         R"(", "email": ")" + p.email + R"(", "phone": ")" + p.phone + R"(", "birth_date": ")" +
         p.birth_date + R"(", "notes": ")" + p.notes + "\"}}\n";
}

/// Scanner knows every secret of the test and finds them in text.
class Scanner {
 public:
  /// add_text adds a string that must not appear verbatim.
  void add_text(const std::string& label, const std::string& text) {
    if (!text.empty() && seen_.insert(text).second) secrets_.emplace_back(label, text);
  }

  /// add_key adds key material: its raw bytes, lower- and upper-case hex, and base64 (standard
  /// and URL-safe), each of a 16-byte prefix (15 for base64, which lines up with the encoding of
  /// the whole key) and, for raw and hex, a 16-byte suffix, so a printed part is caught too.
  void add_key(const std::string& label, std::span<const std::uint8_t> key) {
    REQUIRE(key.size() >= 16);
    for (auto part : {key.first(16), key.last(16)}) {
      add_text(label + " (raw)", std::string(part.begin(), part.end()));
      add_text(label + " (hex)", hex(part));
      add_text(label + " (HEX)", upper(hex(part)));
    }
    for (int variant : {sodium_base64_VARIANT_ORIGINAL, sodium_base64_VARIANT_URLSAFE}) {
      std::string b64(sodium_base64_encoded_len(15, variant), '\0');
      sodium_bin2base64(b64.data(), b64.size(), key.data(), 15, variant);
      b64.resize(std::strlen(b64.c_str()));
      add_text(label + " (base64)", b64);
    }
  }

  /// find names the first secret found in `text` ("" when none): the marker in any case, then
  /// each secret verbatim.
  std::string find(const std::string& text) const {
    if (lower(text).find(kMarker) != std::string::npos) return "the canary marker";
    for (const auto& [label, secret] : secrets_) {
      if (text.find(secret) != std::string::npos) return label;
    }
    return "";
  }

  std::size_t size() const { return secrets_.size(); }

 private:
  static std::string hex(std::span<const std::uint8_t> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (std::uint8_t b : bytes) {
      out += kDigits[b >> 4];
      out += kDigits[b & 0xf];
    }
    return out;
  }
  static std::string upper(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
  }
  std::vector<std::pair<std::string, std::string>> secrets_;
  std::set<std::string> seen_;
};

/// date_in_words writes "1931-02-17" as the customer's export shows it: "17 February 1931".
std::string date_in_words(const std::string& iso) {
  static const char* const months[] = {"January", "February", "March",     "April",   "May",      "June",
                                       "July",    "August",   "September", "October", "November", "December"};
  return std::to_string(std::stoi(iso.substr(8, 2))) + " " + months[std::stoi(iso.substr(5, 2)) - 1] + " " +
         iso.substr(0, 4);
}

void add_person(Scanner& scanner, const Person& p) {
  scanner.add_text(p.id + " name", p.name);
  scanner.add_text(p.id + " email", p.email);
  scanner.add_text(p.id + " phone", p.phone);
  for (const std::string& d : p.digits) scanner.add_text(p.id + " phone digits", d);
  scanner.add_text(p.id + " birth date", p.birth_date);
  scanner.add_text(p.id + " birth date in words", date_in_words(p.birth_date));
  scanner.add_text(p.id + " notes", p.notes);
}

std::string meta_text(Store& store, std::string_view key) {
  auto value = store.get_meta(key);
  REQUIRE(value.ok());
  REQUIRE(value->has_value());
  return std::string((*value)->begin(), (*value)->end());
}

/// collect_keys opens the vault file's key material the way its owner can, with `provider`,
/// and adds all of it to `scanner`: every master key version and its sealed form, the sealed
/// derivation root, the derived keys, and each customer's data key, wrapped and unwrapped.
void collect_keys(Scanner& scanner, const fs::path& vault, KeyProvider& provider, const std::string& label) {
  auto opened = open_sqlite_store(vault, StoreMode::open);
  REQUIRE(opened.ok());
  Store& store = **opened;
  const auto current = static_cast<std::uint32_t>(std::stoul(meta_text(store, "master.current")));
  std::vector<Keyring::MasterKey> masters;
  std::istringstream versions(meta_text(store, "master.versions"));
  for (std::string v; std::getline(versions, v, ',');) {
    const auto version = static_cast<std::uint32_t>(std::stoul(v));
    auto sealed = store.get_meta("master.sealed." + v);
    REQUIRE(sealed.ok());
    REQUIRE(sealed->has_value());
    scanner.add_key(label + " sealed master key " + v, **sealed);
    auto key = provider.open(version, **sealed);
    REQUIRE_MESSAGE(key.ok(), key.err().message);
    scanner.add_key(label + " master key " + v, key->reveal());
    masters.push_back({version, std::move(*key)});
  }
  REQUIRE(!masters.empty());
  auto root = store.get_meta("root.sealed");
  REQUIRE(root.ok());
  REQUIRE(root->has_value());
  scanner.add_key(label + " sealed root", **root);
  const auto root_version = static_cast<std::uint32_t>(std::stoul(meta_text(store, "root.version")));
  auto keyring = Keyring::assemble(std::move(masters), current, root_version, **root);
  REQUIRE_MESSAGE(keyring.ok(), keyring.err().message);
  std::vector<std::string> labels = {"audit/customer", "audit/signing"};
  for (const std::string& p : kPurposes) labels.push_back("pseudonym/" + p);
  for (const std::string& l : labels)
    scanner.add_key(label + " derived key " + l, keyring->derive_key(l).reveal());
  auto customers = store.customers();
  REQUIRE(customers.ok());
  REQUIRE(!customers->empty());
  for (const std::string& c : *customers) {
    auto row = store.get_key(c);
    REQUIRE(row.ok());
    REQUIRE(row->has_value());
    scanner.add_key(label + " wrapped data key of " + c, (*row)->wrapped);
    auto dek = keyring->unwrap_data_key(c, (*row)->version, (*row)->wrapped);
    REQUIRE_MESSAGE(dek.ok(), dek.err().message);
    scanner.add_key(label + " data key of " + c, dek->reveal());
  }
}

/// collect_key_file adds the key material a key file holds, as written and as bytes.
void collect_key_file(Scanner& scanner, const fs::path& file) {
  std::istringstream in(file_bytes(file));
  std::string line;
  REQUIRE(std::getline(in, line));  // the header
  int keys = 0;
  while (std::getline(in, line)) {
    const auto space = line.find(' ');
    REQUIRE(space != std::string::npos);
    const std::string hex = line.substr(space + 1);
    REQUIRE(hex.size() == 64);
    scanner.add_text("key file line", hex);
    std::vector<std::uint8_t> key(32);
    std::size_t n = 0;
    REQUIRE(sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &n, nullptr) == 0);
    REQUIRE(n == 32);
    scanner.add_key("key file key " + line.substr(0, space), key);
    ++keys;
  }
  REQUIRE(keys > 0);
}

/// Env holds the CONSENTRY_ variables of one run; every other CONSENTRY_ variable is dropped.
using Env = std::map<std::string, std::string>;

/// Run is one invocation and what it printed.
struct Run {
  std::string command;            ///< the subcommand path ("keys rotate"), "" for none
  std::vector<std::string> args;  ///< the arguments after it
  int code = -1;
  std::string out, err;
  std::vector<std::string> shown;  ///< values this run exists to print on stdout
};

/// Session runs consentry in a fresh directory and keeps every run for the final scan.
class Session {
 public:
  Session() {
    std::string pattern = (fs::temp_directory_path() / "consentry-canary-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    dir_ = pattern;
  }
  ~Session() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  fs::path path(const std::string& name) const { return dir_ / name; }
  const std::vector<Run>& runs() const { return runs_; }

  /// run starts `consentry <command> <args> --verbose` (the flag alternately before the
  /// command, as a global option, and after the arguments), checks the exit code and keeps the
  /// run. `shown` lists the values the run must print.
  const Run& run(const std::string& command, const std::vector<std::string>& args, const Env& env,
                 int expected, std::vector<std::string> shown = {}) {
    std::vector<std::string> argv;
    const bool flag_first = runs_.size() % 2 == 0;
    if (flag_first) argv.push_back("--verbose");
    std::istringstream words(command);
    for (std::string w; words >> w;) argv.push_back(w);
    argv.insert(argv.end(), args.begin(), args.end());
    if (!flag_first) argv.push_back("--verbose");
    Run r = spawn(argv, env);
    r.command = command;
    r.args = args;
    r.shown = std::move(shown);
    INFO("consentry " << command << " " << joined(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.code == expected);
    runs_.push_back(std::move(r));
    return runs_.back();
  }

  /// spawn runs the binary with exactly `argv` and `env`, stdin from /dev/null.
  Run spawn(const std::vector<std::string>& args, const Env& env) {
    const consentry::test::CliOutput o =
        consentry::test::run_consentry(dir_, args, consentry::test::CliEnv(env.begin(), env.end()));
    Run r;
    r.code = o.code;
    r.out = o.out;
    r.err = o.err;
    return r;
  }

  static std::string joined(const std::vector<std::string>& args) {
    std::string out;
    for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
    return out;
  }

 private:
  fs::path dir_;
  std::vector<Run> runs_;
};

/// subcommands_in_help lists the subcommands a CLI11 help text names in its subcommand section.
std::vector<std::string> subcommands_in_help(const std::string& help) {
  std::vector<std::string> names;
  std::istringstream in(help);
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (lower(line).rfind("subcommands:", 0) == 0) {
      in_section = true;
      continue;
    }
    if (!in_section) continue;
    if (line.empty() || line[0] != ' ') {
      in_section = false;
      continue;
    }
    std::istringstream words(line);
    std::string name;
    if (words >> name) names.push_back(name);
  }
  return names;
}

/// kCovered lists every leaf subcommand this test runs; `consentry --help` must list no other.
const std::set<std::string> kCovered = {
    "init",           "policy check",   "policy show",
    "policy update",  "policy diff",    "policy versions",
    "import",         "consent grant",  "consent withdraw",
    "consent object", "consent show",   "read",
    "find",           "policy reindex", "log verify",
    "log checkpoint", "log show",       "erase",
    "backup",         "keys status",    "keys passphrase",
    "keys rotate",    "export",         "audit",
    "inventory",      "purge",          "derive",
    "contact",        "consent limit",  "consent opt-out",
    "consent opt-in", "stats",          "anonymise",
    "ff1 encrypt",    "ff1 decrypt",    "consent signal",
    "receipt issue",  "receipt verify", "receipt public-key",
    "risk",
};

}  // namespace

TEST_CASE("the canary scanner finds canaries, passphrases and key bytes in any of their forms") {
  Scanner scanner;
  add_person(scanner, kZelda);
  std::vector<std::uint8_t> key(32);
  randombytes_buf(key.data(), key.size());
  scanner.add_key("a key", key);

  CHECK(scanner.find("consentry: opening vault /tmp/x/crm.vault (53248 bytes)") == "");
  CHECK(scanner.find("name  clear  " + kZelda.name) != "");
  CHECK(scanner.find(std::string("the passphrase was ") + kPassphrase) != "");
  CHECK(scanner.find("email: ZELDA.QX.41@EXAMPLE.ORG") != "");  // the marker in any case
  CHECK(scanner.find("born " + kZelda.birth_date) == "C-2001 birth date");
  CHECK(scanner.find("phone 447700913579") == "C-2001 phone digits");
  CHECK(scanner.find("phone *********3579") == "");
  std::string hex(65, '\0');
  sodium_bin2hex(hex.data(), hex.size(), key.data(), key.size());
  hex.resize(64);
  CHECK(scanner.find("key " + hex) == "a key (hex)");
  CHECK(scanner.find("key " + hex.substr(32)) == "a key (hex)");
  std::string b64(sodium_base64_encoded_len(key.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(b64.data(), b64.size(), key.data(), key.size(), sodium_base64_VARIANT_ORIGINAL);
  CHECK(scanner.find("key=" + std::string(b64.c_str())) == "a key (base64)");
  CHECK(scanner.find("raw " + std::string(key.begin(), key.end())) == "a key (raw)");
}

TEST_CASE("no command prints a canary value, notice, passphrase or key byte, even with --verbose") {
  Session s;
  Scanner scanner;
  for (const Person* p : {&kZelda, &kYorick, &kXavier, &kWanda}) add_person(scanner, *p);
  scanner.add_text("inferred segment", kSegment);
  for (const char* text : {kPassphrase, kNewPassphrase, kRetirePassphrase, kWrongPassphrase, kNotice})
    scanner.add_text("passphrase or notice", text);

  // ---- files ----
  const std::string policy = s.path("policy.json").string();
  write_file(policy, kPolicy);
  const std::string bad_policy = s.path("bad_policy.json").string();
  {
    std::string text(kPolicy);
    text.replace(text.find("mask:last4"), 10, "blur");
    write_file(bad_policy, text);
  }
  const std::string truncated_policy = s.path("truncated_policy.json").string();
  write_file(truncated_policy, kPolicy.substr(0, kPolicy.size() / 2));
  const std::string customers = s.path("customers.jsonl").string();
  write_file(customers, jsonl_line(kZelda) + jsonl_line(kYorick) + jsonl_line(kXavier));
  const std::string csv = s.path("more.csv").string();
  write_file(csv, "id,source,name,email,phone,birth_date,notes\n" + kWanda.id + ",store," + kWanda.name +
                      "," + kWanda.email + "," + kWanda.phone + "," + kWanda.birth_date + "," + kWanda.notes +
                      "\n");
  // Malformed imports, each with a canary on the line that is refused.
  const std::string bad_email = s.path("bad_email.jsonl").string();
  write_file(bad_email, jsonl_line(kZelda) + R"({"id": "C-2090", "fields": {"email": "qx.41-at-nowhere"}})"
                                             "\n");
  const std::string bad_date = s.path("bad_date.jsonl").string();
  write_file(bad_date, R"({"id": "C-2091", "fields": {"birth_date": "qx.41 of March"}})"
                       "\n");
  const std::string bad_phone = s.path("bad_phone.jsonl").string();
  write_file(bad_phone, R"({"id": "C-2092", "fields": {"phone": "call qx.41 maybe"}})"
                        "\n");
  const std::string bad_json = s.path("bad_json.jsonl").string();
  write_file(bad_json, R"({"id": "C-2093", "fields": {"notes": "qx.41 never closed)"
                       "\n");
  const std::string bad_field = s.path("bad_field.jsonl").string();
  write_file(bad_field, R"({"id": "C-2094", "fields": {"shoe_size": "qx.41 and a half"}})"
                        "\n");
  const std::string bad_type = s.path("bad_type.jsonl").string();
  write_file(bad_type, R"({"id": "C-2095", "fields": {"notes": {"nested": "qx.41 nested"}}})"
                       "\n");
  const std::string bad_csv = s.path("bad.csv").string();
  write_file(bad_csv, "id,name,notes\nC-2096,\"qx.41 unterminated,notes\n");
  const std::string bad_csv_quote = s.path("bad_quote.csv").string();
  write_file(bad_csv_quote, "id,name,notes\nC-2097,qx.41 \"quoted\" inside,x\n");
  const std::string bad_csv_cells = s.path("bad_cells.csv").string();
  write_file(bad_csv_cells, "id,name\nC-2098,qx.41 one,qx.41 two,qx.41 three\n");

  const std::string vault = s.path("crm.vault").string();
  auto env = [&](const char* passphrase) {
    return Env{{"CONSENTRY_VAULT", vault}, {"CONSENTRY_PASSPHRASE", passphrase}};
  };
  Env ok = env(kPassphrase);
  const Env wrong = env(kWrongPassphrase);
  const Env no_passphrase{{"CONSENTRY_VAULT", vault}};

  // ---- no subcommand, unknown subcommand ----
  s.run("", {}, ok, 1);
  s.run("frobnicate", {"C-2001"}, ok, 1);

  // ---- policy check ----
  s.run("policy check", {policy}, {}, 0);
  s.run("policy check", {bad_policy}, {}, 2);
  s.run("policy check", {truncated_policy}, {}, 2);
  s.run("policy check", {s.path("missing.json").string()}, {}, 2);
  s.run("policy check", {}, {}, 1);

  // ---- init ----
  s.run("init", {"--policy", bad_policy, "--kdf", "minimum"}, ok, 2);
  s.run("init", {"--policy", policy, "--kdf", "bogus"}, ok, 1);
  s.run("init", {"--policy", policy, "--kdf", "minimum"}, no_passphrase, 1);
  s.run("init", {"--policy", policy, "--kdf", "minimum"}, ok, 0);
  s.run("init", {"--policy", policy, "--kdf", "minimum"}, ok, 2);

  // ---- policy show ----
  s.run("policy show", {}, ok, 0);
  s.run("policy show", {"--json"}, ok, 0);
  s.run("policy show", {}, wrong, 4);
  s.run("policy show", {"--bogus"}, ok, 1);
  s.run("policy show", {"--version", "1"}, ok, 0);
  s.run("policy show", {"--version", "9"}, ok, 5);

  // ---- policy update, diff, versions ----
  s.run("policy update", {policy}, ok, 0);  // the same policy: unchanged
  s.run("policy update", {policy}, wrong, 4);
  s.run("policy diff", {}, ok, 0);
  s.run("policy diff", {"1", policy}, ok, 0);
  s.run("policy diff", {"9"}, ok, 5);
  s.run("policy versions", {}, ok, 0);
  s.run("policy versions", {}, wrong, 4);

  // ---- import ----
  s.run("import", {customers}, wrong, 4);
  s.run("import", {customers}, ok, 0);
  s.run("import", {csv}, ok, 0);
  for (const std::string& file :
       {bad_email, bad_date, bad_phone, bad_json, bad_field, bad_type, bad_csv, bad_csv_quote, bad_csv_cells})
    s.run("import", {file}, ok, 2);
  s.run("import", {customers, "--format", "xml"}, ok, 1);
  s.run("import", {s.path("missing.jsonl").string()}, ok, 2);
  s.run("import", {s.path("notes.txt").string()}, ok, 1);

  PassphraseKeyProvider first_passphrase(kPassphrase, KdfStrength::minimum);
  collect_keys(scanner, vault, first_passphrase, "passphrase vault");

  // ---- consent ----
  s.run("consent grant", {kZelda.id, "marketing.email", "--notice", kNotice, "--channel", "web"}, ok, 0);
  s.run("consent grant", {kZelda.id, "no.such.purpose", "--notice", kNotice}, ok, 2);
  s.run("consent grant", {kZelda.id, "analytics", "--notice", kNotice}, ok, 2);
  s.run("consent grant", {kZelda.id, "marketing.email", "--notice", kNotice, "--bogus"}, ok, 1);
  s.run("consent grant", {kZelda.id, "marketing.email", "--notice", kNotice}, wrong, 4);
  s.run("consent withdraw", {kYorick.id, "marketing.email", "--notice", kNotice}, ok, 0);
  s.run("consent withdraw", {kYorick.id, "analytics", "--notice", kNotice}, ok, 2);
  s.run("consent object", {kZelda.id, "analytics", "--notice", kNotice}, ok, 0);
  s.run("consent object", {kZelda.id, "marketing.email", "--notice", kNotice}, ok, 2);
  // A consent history shows the notice it was given with: that is what it is for.
  s.run("consent show", {kZelda.id}, ok, 0, {kNotice});
  s.run("consent show", {kZelda.id, "--json"}, ok, 0, {kNotice});
  s.run("consent show", {kYorick.id}, ok, 0, {kNotice});
  s.run("consent show", {kXavier.id}, ok, 0);
  s.run("consent show", {"C-9999"}, ok, 5);
  s.run("consent show", {}, ok, 1);

  // ---- consent signals and receipts ----
  s.run("consent signal", {"C-2099", "--gpc", "--create", "--notice", kNotice}, ok, 0);
  s.run("consent signal", {"C-2099", "--gpc", "--json"}, ok, 0);
  s.run("consent signal", {kZelda.id, "--tcf", "qx.41-not-a-tc-string"}, ok, 2);
  s.run("consent signal", {kZelda.id, "--gpp", "DBABMA~qx.41"}, ok, 2);
  s.run("consent signal", {"C-9999", "--gpc"}, ok, 5);
  s.run("consent signal", {kZelda.id}, ok, 1);
  // A receipt shows the notice the choice was made with, as the consent history does.
  s.run("receipt issue", {kZelda.id, "1"}, ok, 0, {kNotice});
  s.run("receipt issue", {kZelda.id, "1", "-o", s.path("receipt.json").string()}, ok, 0);
  s.run("receipt issue", {kZelda.id, "9999"}, ok, 5);
  s.run("receipt issue", {kZelda.id, "1"}, wrong, 4);
  std::string vault_key = s.run("receipt public-key", {}, ok, 0).out;
  while (!vault_key.empty() && vault_key.back() == '\n') vault_key.pop_back();
  s.run("receipt public-key", {}, wrong, 4);
  s.run("receipt verify", {s.path("receipt.json").string(), "--public-key", vault_key}, ok, 0);
  s.run("receipt verify", {bad_json, "--public-key", vault_key}, ok, 2);
  s.run("receipt verify", {s.path("receipt.json").string(), "--public-key", "qx.41"}, ok, 2);

  // ---- read ----
  // Consented reads show exactly the values they were allowed: these prove the scan sees values.
  s.run("read", {kZelda.id, "--purpose", "marketing.email", "--as", "email-campaigns"}, ok, 0,
        {kZelda.email});
  s.run("read", {kZelda.id, "--purpose", "service", "--as", "support-desk"}, ok, 0,
        {kZelda.name, kZelda.email, kZelda.birth_date});
  s.run("read", {kWanda.id, "--purpose", "service", "--as", "support-desk", "--fields", "name", "--json"}, ok,
        0, {kWanda.name});
  // Masked, pseudonymised, generalised, redacted, denied: no value may show.
  s.run("read", {kZelda.id, "--purpose", "service", "--as", "support-desk", "--fields", "phone,notes"}, ok,
        0);
  s.run("read",
        {kYorick.id, "--purpose", "service", "--as", "support-desk", "--fields", "phone,notes", "--json"}, ok,
        0);
  s.run("read", {kYorick.id, "--purpose", "analytics", "--as", "bi-dashboard"}, ok, 0);
  s.run("read", {kXavier.id, "--purpose", "analytics", "--as", "bi-dashboard", "--json"}, ok, 0);
  s.run("read", {kZelda.id, "--purpose", "analytics", "--as", "bi-dashboard"}, ok, 3);
  s.run("read", {kYorick.id, "--purpose", "marketing.email", "--as", "email-campaigns"}, ok, 3);
  s.run("read", {kXavier.id, "--purpose", "marketing.email", "--as", "email-campaigns", "--json"}, ok, 3);
  s.run("read", {kXavier.id, "--purpose", "service", "--as", "email-campaigns"}, ok, 3);
  s.run("read", {"--eligible", "--purpose", "marketing.email", "--as", "email-campaigns"}, ok, 0,
        {kZelda.email});
  s.run("read", {"--eligible", "--purpose", "service", "--as", "email-campaigns"}, ok, 3);
  s.run("read", {kXavier.id, "--purpose", "service", "--as", "support-desk", "--fields", "shoe_size"}, ok, 3);
  s.run("read", {"C-9999", "--purpose", "service", "--as", "support-desk"}, ok, 5);
  s.run("read", {kZelda.id, "--purpose", "service", "--as", "nobody"}, ok, 5);
  s.run("read", {kZelda.id, "--purpose", "service", "--as", "support-desk"}, wrong, 4);
  s.run("read", {kZelda.id, "--purpose", "service"}, ok, 1);

  // ---- find, policy reindex ----
  // A search prints customer ids, never the value searched for, found or not, refused or not.
  s.run("find", {"--by", "email", kZelda.email, "--purpose", "service", "--as", "support-desk"}, ok, 0);
  s.run("find", {"--by", "phone", kYorick.phone, "--purpose", "service", "--as", "support-desk", "--json"},
        ok, 0);
  s.run("find", {"--by", "email", "nobody.qx.41@example.org", "--purpose", "service", "--as", "support-desk"},
        ok, 5);
  s.run("find", {"--by", "email", kZelda.email, "--purpose", "analytics", "--as", "bi-dashboard"}, ok, 3);
  s.run("find", {"--by", "phone", "qx.41 call me", "--purpose", "service", "--as", "support-desk"}, ok, 2);
  s.run("find", {"--by", "email", kZelda.email, "--purpose", "service", "--as", "support-desk"}, wrong, 4);
  s.run("find", {"--by", "email", kZelda.email}, ok, 1);
  s.run("policy reindex", {}, ok, 0);
  s.run("policy reindex", {"--json"}, wrong, 4);
  {
    // The index holds numbers, never a value.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(s.path("crm.vault").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT count(*), sum(typeof(value) <> 'integer') FROM lookups", -1, &q,
                               nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int(q, 0) >= 6);
    CHECK(sqlite3_column_int(q, 1) == 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
  }

  // ---- log ----
  const std::string checkpoint = s.path("checkpoint.json").string();
  s.run("log verify", {}, ok, 0);
  s.run("log verify", {"--json"}, ok, 0);
  s.run("log checkpoint", {}, ok, 0);
  s.run("log checkpoint", {"-o", checkpoint}, ok, 0);
  s.run("log checkpoint", {"-o", checkpoint}, ok, 2);
  s.run("log verify", {"--against", checkpoint}, ok, 0);
  s.run("log verify", {"--against", customers}, ok, 2);
  s.run("log verify", {}, wrong, 4);
  s.run("log show", {}, ok, 0);
  s.run("log show", {"--json"}, ok, 0);
  s.run("log show", {"--customer", kZelda.id, "--since", "2020-01-01"}, ok, 0);
  s.run("log show", {"--since", "yesterday"}, ok, 2);
  s.run("log show", {"--customer", "C-8888"}, ok, 5);
  s.run("log checkpoint", {"--bogus"}, ok, 1);

  // ---- backup, and a tampered copy ----
  const std::string backup = s.path("backup.vault").string();
  s.run("backup", {backup}, ok, 0);
  s.run("backup", {backup}, ok, 2);
  s.run("backup", {s.path("backup2.vault").string()}, wrong, 4);
  s.run("backup", {}, ok, 1);
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(backup.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit'",
                               -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::string> triggers;
    while (sqlite3_step(st) == SQLITE_ROW)
      triggers.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    for (const std::string& t : triggers)
      REQUIRE(sqlite3_exec(db, ("DROP TRIGGER \"" + t + "\"").c_str(), nullptr, nullptr, nullptr) ==
              SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM audit WHERE seq = 3", nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_changes(db) == 1);
    // One sealed value altered: the read that meets it prints none of the customer's values.
    REQUIRE(
        sqlite3_exec(db,
                     "UPDATE fields SET sealed = randomblob(length(sealed)) WHERE customer = 'C-2001' AND "
                     "field = 'email'",
                     nullptr, nullptr, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_changes(db) == 1);
    sqlite3_close(db);
  }
  const Env tampered{{"CONSENTRY_VAULT", backup}, {"CONSENTRY_PASSPHRASE", kPassphrase}};
  s.run("log verify", {}, tampered, 4);
  s.run("log verify", {"--json"}, tampered, 4);
  s.run("read", {kZelda.id, "--purpose", "service", "--as", "support-desk"}, tampered, 4);

  // ---- keys ----
  s.run("keys status", {}, ok, 0);
  s.run("keys status", {"--json"}, ok, 0);
  s.run("keys status", {}, wrong, 4);
  s.run("keys rotate", {"--batch", "0"}, ok, 1);
  s.run("keys rotate", {"--batch", "many"}, ok, 1);
  s.run("keys rotate", {"--batch", "2"}, ok, 0);
  s.run("keys rotate", {"--json"}, wrong, 4);
  collect_keys(scanner, vault, first_passphrase, "passphrase vault, rotated");

  s.run("keys passphrase", {"--kdf", "minimum"}, ok, 1);  // no CONSENTRY_NEW_PASSPHRASE
  Env same = ok;
  same["CONSENTRY_NEW_PASSPHRASE"] = kPassphrase;
  s.run("keys passphrase", {"--kdf", "minimum"}, same, 1);
  Env change = ok;
  change["CONSENTRY_NEW_PASSPHRASE"] = kNewPassphrase;
  s.run("keys passphrase", {"--kdf", "minimum"}, change, 0);
  ok = env(kNewPassphrase);
  s.run("keys passphrase", {"--kdf", "minimum"}, change, 4);  // the old passphrase no longer opens it
  PassphraseKeyProvider second_passphrase(kNewPassphrase, KdfStrength::minimum);
  collect_keys(scanner, vault, second_passphrase, "passphrase vault, new passphrase");

  s.run("keys rotate", {"--retire", "--kdf", "minimum"}, ok, 1);  // a passphrase needs a successor
  Env retire = ok;
  retire["CONSENTRY_NEW_PASSPHRASE"] = kRetirePassphrase;
  s.run("keys rotate", {"--retire", "--kdf", "minimum", "--batch", "3"}, retire, 0);
  ok = env(kRetirePassphrase);
  PassphraseKeyProvider third_passphrase(kRetirePassphrase, KdfStrength::minimum);
  collect_keys(scanner, vault, third_passphrase, "passphrase vault, retired");
  s.run("keys status", {}, ok, 0);

  // ---- export, audit, inventory ----
  // The customer's export shows them every value held and the notices they consented under;
  // written to a file, nothing reaches stdout.
  const std::string zelda_phone = "+447700913579";  // as stored: phone numbers are normalised
  const std::vector<std::string> zelda_all = {kZelda.name,       kZelda.email, zelda_phone,
                                              kZelda.birth_date, kZelda.notes, kNotice};
  s.run("export", {kZelda.id}, ok, 0, zelda_all);
  // The page writes a date of birth in words.
  s.run("export", {kZelda.id, "--format", "html"}, ok, 0,
        {kZelda.name, kZelda.email, zelda_phone, date_in_words(kZelda.birth_date), kZelda.notes, kNotice});
  s.run("export", {kZelda.id, "--format", "csv"}, ok, 0,
        {kZelda.name, kZelda.email, zelda_phone, kZelda.birth_date, kZelda.notes});
  s.run("export", {kZelda.id, "--format", "json", "-o", s.path("zelda.json").string()}, ok, 0);
  s.run("export", {kZelda.id, "--format", "pdf"}, ok, 1);
  s.run("export", {"C-9999"}, ok, 5);
  s.run("export", {kZelda.id}, wrong, 4);
  s.run("export", {kZelda.id, "-o", s.path("no-such-dir/zelda.json").string()}, ok, 2);
  // Staff see metadata only.
  s.run("audit", {kZelda.id}, ok, 0);
  s.run("audit", {kZelda.id, "--json"}, ok, 0);
  s.run("audit", {kWanda.id, "--last", "2"}, ok, 0);
  s.run("audit", {"C-9999"}, ok, 5);
  s.run("audit", {kZelda.id}, wrong, 4);
  s.run("inventory", {}, ok, 0);
  s.run("inventory", {"--json", "--unused", "P90D"}, ok, 0);
  s.run("inventory", {"--window", "thirty days"}, ok, 1);
  s.run("inventory", {}, wrong, 4);
  // An inference needs consent to profiling; the value never shows in any output.
  s.run("derive", {kZelda.id, "segment", kSegment}, ok, 3);
  s.run("consent grant", {kZelda.id, "profiling", "--notice", kNotice}, ok, 0);
  s.run("derive", {kZelda.id, "segment", kSegment}, ok, 0);
  s.run("derive", {kZelda.id, "name", kSegment}, ok, 2);
  s.run("derive", {"C-9999", "segment", kSegment}, ok, 5);
  s.run("derive", {kZelda.id, "segment", kSegment}, wrong, 4);
  s.run("derive", {kZelda.id, "segment"}, ok, 1);
  s.run("consent withdraw", {kZelda.id, "profiling", "--notice", kNotice}, ok, 0);
  // Contacts: refused without consent, recorded with it, stopped by the customer's own limit
  // and by an opt-out of the channel.
  s.run("contact", {kYorick.id, "--channel", "email", "--purpose", "marketing.email"}, ok, 3);
  s.run("contact", {kZelda.id, "--channel", "email", "--purpose", "marketing.email"}, ok, 0);
  s.run("consent limit", {kZelda.id, "marketing.email", "--max", "1", "--per", "P30D"}, ok, 0);
  s.run("contact", {kZelda.id, "--channel", "email", "--purpose", "marketing.email"}, ok, 3);
  s.run("consent limit", {kZelda.id, "marketing.email", "--max", "1", "--per", "a month"}, ok, 1);
  s.run("consent limit", {kZelda.id, "no.such.purpose", "--max", "1", "--per", "P7D"}, ok, 2);
  s.run("consent limit", {"C-9999", "marketing.email", "--max", "1", "--per", "P7D"}, ok, 5);
  s.run("consent opt-out", {kZelda.id, "--channel", "sms"}, ok, 0);
  s.run("contact", {kZelda.id, "--channel", "sms", "--purpose", "service"}, ok, 3);
  s.run("consent opt-out", {"C-9999", "--channel", "sms"}, ok, 5);
  s.run("consent opt-in", {kZelda.id, "--channel", "sms"}, ok, 0);
  s.run("consent opt-in", {kZelda.id}, ok, 1);
  s.run("contact", {kZelda.id, "--channel", "sms", "--purpose", "service"}, ok, 0);
  s.run("contact", {kZelda.id, "--channel", "sms", "--purpose", "no.such.purpose"}, ok, 2);
  s.run("contact", {kZelda.id, "--channel", "sms", "--purpose", "service"}, wrong, 4);
  s.run("purge", {"--dry-run"}, ok, 0);
  s.run("purge", {"--json"}, ok, 0);
  s.run("purge", {"--batch", "0"}, ok, 1);
  s.run("purge", {}, wrong, 4);

  // ---- anonymisation: private aggregates, datasets, FF1 ----
  s.run("stats", {"count", "email", "--purpose", "analytics", "--epsilon", "0.5"}, ok, 0);
  s.run("stats", {"count", "email", "--purpose", "analytics", "--epsilon", "0.5", "--json"}, ok, 0);
  s.run("stats", {"sum", "email", "--purpose", "analytics", "--epsilon", "0.5", "--bounds", "0,10"}, ok, 3);
  s.run("stats", {"count", "email", "--purpose", "analytics", "--epsilon", "100"}, ok, 3);
  s.run("stats", {"sum", "email", "--purpose", "analytics", "--epsilon", "0.5"}, ok, 1);
  s.run("stats", {"count", "phone", "--purpose", "analytics", "--epsilon", "0.5"}, wrong, 4);
  const std::string hand = std::string(CONSENTRY_TEST_DATA) + "/anonymise/hand.csv";
  s.run("anonymise",
        {"--input", hand, "--quasi", "age,zip", "--k", "2", "--hierarchies",
         std::string(CONSENTRY_TEST_DATA) + "/anonymise"},
        ok, 0);
  s.run("anonymise", {"--input", hand, "--quasi", "age,zip", "--k", "9"}, ok, 2);
  s.run("anonymise",
        {"--input", hand, "--quasi", "age,zip", "--k", "2", "--hierarchies",
         std::string(CONSENTRY_TEST_DATA) + "/anonymise", "--metric", "loss", "--local-recoding", "--json"},
        ok, 0);
  s.run("anonymise", {"--input", hand, "--column", "note=redact", "--column", "zip=mask:first2"}, ok, 0);
  s.run("anonymise", {"--input", hand, "--column", "note=pseudonym"}, ok, 2);
  s.run("risk", {"--input", hand, "--quasi", "age,zip", "--sampling-fraction", "0.05"}, ok, 0);
  s.run("risk", {"--input", hand, "--quasi", "age,postcode"}, ok, 2);
  s.run("anonymise",
        {"--from-vault", "--purpose", "analytics", "--as", "bi-dashboard", "--fields", "phone", "--k", "2"},
        ok, 3);
  const std::string ff1_key(32, 'a');
  s.run("ff1 encrypt", {"--key", ff1_key, "--radix", "10"}, {}, 0);
  s.run("ff1 encrypt", {"--key", "zz", "--radix", "10"}, {}, 2);
  s.run("ff1 decrypt", {"--key", ff1_key, "--alphabet", "0123456789"}, {}, 0);
  s.run("ff1 decrypt", {"--key", ff1_key}, {}, 1);

  // ---- erase ----
  s.run("erase", {kXavier.id, "--reason", "customer request"}, wrong, 4);
  s.run("erase", {kXavier.id}, ok, 2);  // no --reason
  s.run("erase", {kXavier.id, "--reason", "customer request"}, ok, 0);
  s.run("erase", {kXavier.id, "--reason", "customer request"}, ok, 5);
  s.run("erase", {"C-9999", "--reason", "customer request"}, ok, 5);
  s.run("erase", {}, ok, 1);
  write_file(s.path("erase-ids.txt"), kXavier.id + "\nC-9999\n");
  s.run("erase", {"--from", s.path("erase-ids.txt").string(), "--reason", "customer request"}, ok, 5);
  s.run("erase", {"--from", s.path("erase-ids.txt").string(), "--dry-run", "--json"}, ok, 5);
  s.run("read", {kXavier.id, "--purpose", "service", "--as", "support-desk"}, ok, 5);
  s.run("consent show", {kXavier.id}, ok, 5);
  s.run("export", {kXavier.id, "--format", "html"}, ok, 5);
  s.run("audit", {kXavier.id}, ok, 5);
  s.run("consent grant", {kXavier.id, "marketing.email", "--notice", kNotice}, ok, 5);
  s.run("log show", {"--customer", kXavier.id}, ok, 0);
  s.run("log verify", {}, ok, 0);

  // ---- a vault sealed by a key file ----
  const std::string kf_vault = s.path("kf.vault").string();
  const std::string key_file = s.path("kf.key").string();
  const Env kf{{"CONSENTRY_VAULT", kf_vault}, {"CONSENTRY_KEY_FILE", key_file}};
  s.run("init", {"--policy", policy}, kf, 0);
  s.run("import", {customers}, kf, 0);
  s.run("read", {kYorick.id, "--purpose", "service", "--as", "support-desk", "--fields", "phone"}, kf, 0);
  auto kf_provider = KeyFileKeyProvider::open(key_file);
  REQUIRE(kf_provider.ok());
  collect_keys(scanner, kf_vault, **kf_provider, "key-file vault");
  collect_key_file(scanner, key_file);
  s.run("keys rotate", {"--retire"}, kf, 0);
  kf_provider = KeyFileKeyProvider::open(key_file);
  REQUIRE(kf_provider.ok());
  collect_keys(scanner, kf_vault, **kf_provider, "key-file vault, retired");
  collect_key_file(scanner, key_file);
  s.run("keys status", {"--json"}, kf, 0);
  // Another vault's key file, a missing one, one others may read.
  const std::string other_vault = s.path("other.vault").string();
  const std::string other_key = s.path("other.key").string();
  s.run("init", {"--policy", policy}, {{"CONSENTRY_VAULT", other_vault}, {"CONSENTRY_KEY_FILE", other_key}},
        0);
  collect_key_file(scanner, other_key);
  s.run("keys status", {}, {{"CONSENTRY_VAULT", kf_vault}, {"CONSENTRY_KEY_FILE", other_key}}, 4);
  s.run("read", {kYorick.id, "--purpose", "service", "--as", "support-desk"},
        {{"CONSENTRY_VAULT", kf_vault}, {"CONSENTRY_KEY_FILE", other_key}}, 4);
  s.run("log verify", {},
        {{"CONSENTRY_VAULT", kf_vault}, {"CONSENTRY_KEY_FILE", s.path("none.key").string()}}, 5);
  const std::string loose_key = s.path("loose.key").string();
  fs::copy_file(key_file, loose_key);
  REQUIRE(::chmod(loose_key.c_str(), 0644) == 0);
  s.run("keys status", {}, {{"CONSENTRY_VAULT", kf_vault}, {"CONSENTRY_KEY_FILE", loose_key}}, 2);
  s.run("log verify", {}, kf, 0);

  // ---- the scan ----
  INFO("secrets scanned for: " << scanner.size());
  REQUIRE(scanner.size() > 100);
  std::map<std::string, std::pair<int, int>> outcomes;  // command -> (successes, failures)
  for (const Run& r : s.runs()) {
    CAPTURE(r.command);
    CAPTURE(Session::joined(r.args));
    CAPTURE(r.code);
    if (r.code == 0) {
      ++outcomes[r.command].first;
    } else {
      ++outcomes[r.command].second;
    }
    std::string out = r.out;
    for (const std::string& value : r.shown) {
      // The value the run exists to show must be there (the scan would see it) ...
      CHECK_MESSAGE(out.find(value) != std::string::npos, "a consented value is missing from stdout");
      // ... and is the only one let through, on stdout only.
      for (std::size_t at; (at = out.find(value)) != std::string::npos;)
        out.replace(at, value.size(), "<shown>");
    }
    CHECK_MESSAGE(scanner.find(out) == "", "stdout holds " << scanner.find(out));
    CHECK_MESSAGE(scanner.find(r.err) == "", "stderr holds " << scanner.find(r.err));
    // --verbose took effect: every command that ran says so.
    if (!r.command.empty() && r.err.find("run 'consentry --help' for usage") == std::string::npos) {
      CHECK(r.err.find("consentry: running '" + r.command + "'") != std::string::npos);
      CHECK(r.err.find("' finished in ") != std::string::npos);
    }
  }

  // ---- every subcommand was run, succeeding and failing ----
  Run help = s.spawn({"--help"}, {});
  REQUIRE(help.code == 0);
  std::vector<std::string> listed;
  for (const std::string& top : subcommands_in_help(help.out)) {
    Run sub = s.spawn({top, "--help"}, {});
    REQUIRE(sub.code == 0);
    std::vector<std::string> leaves = subcommands_in_help(sub.out);
    if (leaves.empty()) listed.push_back(top);
    for (const std::string& leaf : leaves) listed.push_back(top + " " + leaf);
  }
  REQUIRE(listed.size() >= kCovered.size());
  for (const std::string& command : listed) {
    CAPTURE(command);
    CHECK_MESSAGE(kCovered.count(command) == 1, "a subcommand this test does not cover: add it to kCovered");
    CHECK_MESSAGE(outcomes[command].first > 0, "never run successfully");
    CHECK_MESSAGE(outcomes[command].second > 0, "never run failing");
  }
  for (const std::string& command : kCovered) {
    CAPTURE(command);
    CHECK_MESSAGE(std::find(listed.begin(), listed.end(), command) != listed.end(),
                  "kCovered names a subcommand --help does not list");
  }
  CHECK(help.out.find("--verbose") != std::string::npos);
}

TEST_CASE("--verbose says what a command does, without it a command that succeeds is quiet") {
  Session s;
  const std::string policy = s.path("policy.json").string();
  write_file(policy, kPolicy);
  const std::string customers = s.path("customers.jsonl").string();
  write_file(customers, jsonl_line(kZelda) + jsonl_line(kYorick));
  const Env env{{"CONSENTRY_VAULT", s.path("crm.vault").string()}, {"CONSENTRY_PASSPHRASE", kPassphrase}};

  Run quiet = s.spawn({"policy", "check", policy}, {});
  CHECK(quiet.code == 0);
  CHECK(quiet.err.empty());

  const Run& init = s.run("init", {"--policy", policy, "--kdf", "minimum"}, env, 0);
  CHECK(init.err.find("policy format 1: 4 purposes, 3 accessors, 6 fields") != std::string::npos);
  CHECK(init.err.find("Argon2id, strength 'minimum'") != std::string::npos);
  const Run& import = s.run("import", {customers}, env, 0);
  CHECK(import.err.find("parsed 2 records (10 values)") != std::string::npos);
  CHECK(import.err.find("passphrase from CONSENTRY_PASSPHRASE") != std::string::npos);
  CHECK(import.err.find("unlocked and opened in") != std::string::npos);
  const Run& read = s.run("read", {kZelda.id, "--purpose", "service", "--as", "support-desk"}, env, 0,
                          {kZelda.name, kZelda.email, kZelda.birth_date});
  CHECK(read.err.find("field phone: allowed, form mask:last4") != std::string::npos);
  CHECK(read.err.find("field notes: allowed, form redact") != std::string::npos);
  CHECK(read.err.find("audit log: ") != std::string::npos);
  const Run& denied =
      s.run("read", {kZelda.id, "--purpose", "marketing.email", "--as", "email-campaigns"}, env, 3);
  CHECK(denied.err.find("field email: denied, no_consent") != std::string::npos);
  CHECK(denied.err.find("with exit code 3") != std::string::npos);
  const Run& rotate = s.run("keys rotate", {"--batch", "1"}, env, 0);
  CHECK(rotate.err.find("batch committed: 2 data keys re-wrapped so far") != std::string::npos);
}
