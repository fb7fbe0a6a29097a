// cli_consent_signal_test.cpp: `consentry consent signal`, run as a separate process: a TC string
// grants and a later one withdraws, GPC objects, --json, exit codes for bad strings, unmapped
// signals and unknown customers, and the signal named in `consent show`.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "consentry/signals/tcf_string.hpp"
#include "consentry/time.hpp"
#include "support/cli_runner.hpp"
#include "support/cli_vault_dir.hpp"
#include "support/files.hpp"

namespace {

using consentry::test::CliOutput;
using consentry::test::VaultDir;

/// init_with_signals creates the vault under the CLI fixture policy with a "signals" mapping:
/// TCF purposes 1 and 4 with vendor 755 grant marketing.email; GPC objects to analytics.
void init_with_signals(const VaultDir& v) {
  auto policy = nlohmann::json::parse(consentry::test::file_bytes(consentry::test::kCliData / "policy.json"));
  policy["signals"] = {{"tcf", {{"vendor_id", 755}, {"purposes", {{"marketing.email", {1, 4}}}}}},
                       {"gpc", {"analytics"}}};
  consentry::test::write_file(v.path("policy.json"), policy.dump(2));
  v.must({"init", "--policy", v.path("policy.json").string(), "--kdf", "minimum"});
  v.import();
}

/// tc_string encodes a TC string by CMP 31, made `days_ago` days before now, consenting to
/// `purposes` and to vendor 755.
std::string tc_string(std::set<int> purposes, int days_ago) {
  consentry::signals::TcString tc;
  const auto made = consentry::now() - std::chrono::hours(24 * days_ago);
  tc.created_ds = made.time_since_epoch().count() * 10;
  tc.last_updated_ds = tc.created_ds;
  tc.cmp_id = 31;
  tc.purpose_consents = std::move(purposes);
  tc.vendor_consents = {755};
  auto s = consentry::signals::encode_tc_string(tc);
  REQUIRE_MESSAGE(s.ok(), s.err().message);
  return *s;
}

}  // namespace

TEST_CASE("consent signal records a TC string's grant and a later string's withdrawal, and show names it") {
  VaultDir v;
  init_with_signals(v);
  const CliOutput granted = v.must({"consent", "signal", "C-1001", "--tcf", tc_string({1, 4}, 2)});
  CHECK(granted.out.find("TC string from CMP 31") != std::string::npos);
  CHECK(granted.out.find("marketing.email: granted; recorded a grant (ledger event") != std::string::npos);

  const CliOutput withdrawn = v.must({"consent", "signal", "C-1001", "--tcf", tc_string({1}, 1), "--json"});
  const auto j = nlohmann::json::parse(withdrawn.out);
  CHECK(j.at("signal").at("kind") == "tcf");
  CHECK(j.at("signal").at("cmp_id") == 31);
  REQUIRE(j.at("purposes").size() == 1);
  CHECK(j.at("purposes")[0].at("verdict") == "refused");
  CHECK(j.at("purposes")[0].at("recorded").at("action") == "withdraw");

  // A string made before the withdrawal's string does not override it.
  const CliOutput stale = v.must({"consent", "signal", "C-1001", "--tcf", tc_string({1, 4}, 3)});
  CHECK(stale.out.find("marketing.email: granted; nothing recorded: a later event decides it") !=
        std::string::npos);

  const CliOutput gpc = v.must({"consent", "signal", "C-1001", "--gpc", "--channel", "app"});
  CHECK(gpc.out.find("Global Privacy Control") != std::string::npos);
  CHECK(gpc.out.find("analytics: opted out; recorded an objection") != std::string::npos);

  const auto shown = nlohmann::json::parse(v.must({"consent", "show", "C-1001", "--json"}).out);
  const auto& history = shown.at("history");
  REQUIRE(history.size() == 3);
  CHECK(history[0].at("signal").at("kind") == "tcf");
  CHECK(history[0].at("channel") == "web");
  CHECK(history[2].at("signal").at("kind") == "gpc");
  CHECK(history[2].at("channel") == "app");
  CHECK(shown.at("purposes").at("analytics").at("status") == "objected");
}

TEST_CASE("consent signal refuses bad strings, unmapped signals and unknown customers, recording nothing") {
  VaultDir v;
  init_with_signals(v);
  const CliOutput bad = v.run({"consent", "signal", "C-1001", "--tcf", "C!!!"});
  CHECK(bad.code == 2);
  CHECK(bad.err.find("TC string") != std::string::npos);
  CHECK(bad.out.empty());
  const CliOutput both = v.run({"consent", "signal", "C-1001", "--tcf", tc_string({1}, 0), "--gpc"});
  CHECK(both.code == 1);  // a usage error
  CHECK(both.err.find("excludes") != std::string::npos);
  const CliOutput none = v.run({"consent", "signal", "C-1001"});
  CHECK(none.code == 1);
  CHECK(none.err.find("--tcf STRING, --gpp STRING or --gpc") != std::string::npos);
  const CliOutput unknown = v.run({"consent", "signal", "C-404", "--gpc"});
  CHECK(unknown.code == 5);
  CHECK(unknown.err.find("--create") != std::string::npos);
  v.must({"consent", "signal", "C-404", "--gpc", "--create"});

  VaultDir plain;
  plain.init();
  plain.import();
  const CliOutput unmapped = plain.run({"consent", "signal", "C-1001", "--gpc"});
  CHECK(unmapped.code == 2);
  CHECK(unmapped.err.find("\"gpc\"") != std::string::npos);
  const auto shown = nlohmann::json::parse(v.must({"consent", "show", "C-1001", "--json"}).out);
  CHECK(shown.at("history").empty());
}

TEST_CASE("receipt issue writes a receipt that receipt verify checks offline, and refuses a changed one") {
  VaultDir v;
  init_with_signals(v);
  v.must({"consent", "grant", "C-1001", "marketing.email", "--channel", "web"});
  const CliOutput issued = v.must({"receipt", "issue", "C-1001", "1", "-o", v.path("r.json").string()});
  CHECK(issued.out.find("wrote the receipt of ledger event 1") != std::string::npos);
  CHECK((std::filesystem::status(v.path("r.json")).permissions() & std::filesystem::perms::group_read) ==
        std::filesystem::perms::none);
  std::string key = v.must({"receipt", "public-key"}).out;
  while (!key.empty() && key.back() == '\n') key.pop_back();
  REQUIRE(key.size() == 64);

  // verify needs no vault: only the file and the key.
  const CliOutput ok = consentry::test::run_consentry(
      v.path(""), {"receipt", "verify", v.path("r.json").string(), "--public-key", key},
      consentry::test::CliEnv{});
  CHECK(ok.code == 0);
  CHECK(ok.out.find("valid: receipt") != std::string::npos);
  CHECK(ok.out.find("a grant of marketing.email by C-1001") != std::string::npos);

  auto receipt = nlohmann::json::parse(consentry::test::file_bytes(v.path("r.json")));
  receipt["purpose"]["id"] = "analytics";
  consentry::test::write_file(v.path("forged.json"), receipt.dump());
  const CliOutput forged = v.run({"receipt", "verify", v.path("forged.json").string(), "--public-key", key});
  CHECK(forged.code == 4);
  CHECK(forged.err.find("signature does not verify") != std::string::npos);
  consentry::test::write_file(v.path("bad.json"), "{");
  CHECK(v.run({"receipt", "verify", v.path("bad.json").string(), "--public-key", key}).code == 2);
  CHECK(v.run({"receipt", "verify", v.path("r.json").string(), "--public-key", "abc"}).code == 2);
  CHECK(v.run({"receipt", "issue", "C-1001", "99"}).code == 5);
  // -o never replaces a file.
  CHECK(v.run({"receipt", "issue", "C-1001", "1", "-o", v.path("r.json").string()}).code == 2);
}
