// cli_read_eligible_test.cpp: `read --eligible` reads every customer eligible for a purpose, one
// JSON line each in the shape `read CUSTOMER --json` prints, audited one read per customer; it
// is refused whole, printing nothing, for an accessor or purpose a view would refuse.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/cli_vault_dir.hpp"

namespace {

using ojson = nlohmann::ordered_json;
using consentry::test::CliOutput;

/// Cli is a VaultDir holding the fixture customers, with a run that requires an exit code.
class Cli : public consentry::test::VaultDir {
 public:
  Cli() {
    init();
    import();
  }
  CliOutput must(const std::vector<std::string>& args, int code = 0) const {
    CliOutput o = run(args);
    INFO("command: " << args[0] << (args.size() > 1 ? " " + args[1] : std::string()));
    INFO("stderr: " << o.err);
    REQUIRE(o.code == code);
    return o;
  }
  /// entries is the number of the audit log's entries with `action`.
  std::size_t entries(const std::string& action) const {
    return ojson::parse(must({"log", "show", "--json", "--action", action}).out).size();
  }
};

std::vector<ojson> json_lines(const std::string& text) {
  std::vector<ojson> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(ojson::parse(line));
  return lines;
}

}  // namespace

TEST_CASE("cli: read --eligible prints each eligible customer as read --json does, one read logged each") {
  Cli cli;
  const std::vector<std::string> service{"--purpose", "service", "--as", "support-desk"};
  auto args = [](std::vector<std::string> head, const std::vector<std::string>& tail) {
    head.insert(head.end(), tail.begin(), tail.end());
    return head;
  };
  const std::size_t reads_before = cli.entries("field_read");
  const std::vector<ojson> lines = json_lines(cli.must(args({"read", "--eligible"}, service)).out);
  // Both customers (a contract purpose), in order; C-1002 has no phone: absent, as read says.
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].at("customer") == "C-1001");
  CHECK(lines[1].at("fields").at("phone") == ojson{{"absent", true}});
  CHECK(cli.entries("field_read") == reads_before + 2);
  // No view is opened: one entry per customer, where read CUSTOMER logs a view and a read.
  CHECK(cli.entries("view_opened") == 0);
  for (const ojson& line : lines) {
    const std::string customer = line.at("customer");
    CAPTURE(customer);
    CHECK(line == ojson::parse(cli.must(args({"read", customer, "--json"}, service)).out));
  }

  // Consent: only the customer who granted is eligible, and a withdrawal takes them out.
  const std::vector<std::string> mail{"--purpose",       "marketing.email", "--as",
                                      "email-campaigns", "--fields",        "email"};
  CHECK(cli.must(args({"read", "--eligible"}, mail)).out.empty());
  cli.must({"consent", "grant", "C-1002", "marketing.email"});
  const std::vector<ojson> granted = json_lines(cli.must(args({"read", "--eligible"}, mail)).out);
  REQUIRE(granted.size() == 1);
  CHECK(granted[0].at("customer") == "C-1002");
  CHECK(granted[0].at("fields").at("email") == ojson{{"value", "bob.stone@example.org"}, {"form", "clear"}});
  cli.must({"consent", "withdraw", "C-1002", "marketing.email"});
  CHECK(cli.must(args({"read", "--eligible"}, mail)).out.empty());
}

TEST_CASE("cli: read --eligible exits 3 for a denied field, and refuses a view's refusals whole") {
  Cli cli;
  // Analytics has no form for the phone: every line says so, and the command exits 3.
  const CliOutput denied = cli.must(
      {"read", "--eligible", "--purpose", "analytics", "--as", "bi-dashboard", "--fields", "email,phone"}, 3);
  const std::vector<ojson> lines = json_lines(denied.out);
  REQUIRE(lines.size() == 2);
  for (const ojson& line : lines) {
    CHECK(line.at("fields").at("phone") == ojson{{"denied", "purpose_not_allowed_for_field"}});
    CHECK(line.at("fields").at("email").at("form") == "pseudonym");
  }
  CHECK(denied.out.find("ann@example.com") == std::string::npos);

  const std::size_t before = cli.entries("field_read");
  const CliOutput unregistered =
      cli.must({"read", "--eligible", "--purpose", "service", "--as", "bi-dashboard"}, 3);
  CHECK(unregistered.out.empty());
  CHECK(unregistered.err.find("not registered") != std::string::npos);
  const CliOutput unknown = cli.must({"read", "--eligible", "--purpose", "nope", "--as", "bi-dashboard"}, 3);
  CHECK(unknown.out.empty());
  CHECK(cli.entries("field_read") == before);
  // A customer and --eligible, or neither, is a usage error.
  cli.must({"read", "C-1001", "--eligible", "--purpose", "service", "--as", "support-desk"}, 1);
  cli.must({"read", "--purpose", "service", "--as", "support-desk"}, 1);
}
