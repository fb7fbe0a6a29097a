// command_receipt.cpp: `consentry receipt issue|verify|public-key`: signed consent receipts, the
// customer's proof of a grant, withdrawal or objection, checked offline with the vault's public
// key (docs/consent-signals.md#receipts).
#include <iostream>
#include <memory>
#include <string>

#include "../src/io/staged_file.hpp"
#include "../src/text/hex.hpp"
#include "commands.hpp"
#include "consentry/receipt.hpp"
#include "exit.hpp"
#include "open_vault.hpp"
#include "small_file.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

/// kMaxReceiptBytes bounds a receipt file: one is under 2 KiB.
constexpr std::size_t kMaxReceiptBytes = 64 * 1024;

struct IssueOptions {
  std::string customer;
  std::int64_t seq = 0;
  std::string output;
};

struct VerifyOptions {
  std::string file;
  std::string public_key;
};

int run_issue(const GlobalOptions& global, const IssueOptions& options) {
  Vault vault = open_vault(global);
  std::string receipt = unwrap(vault.consent_receipt(options.customer, options.seq));
  verbose_audit(vault, options.customer);
  receipt += '\n';
  if (options.output.empty()) {
    std::cout << receipt;
    return kExitOk;
  }
  // 0600: a receipt names the customer and what they agreed to.
  auto staged = detail::StagedFile::create(options.output, 0600);
  if (!staged) fail(errc::io, options.output + ": cannot create the file");
  auto written = staged->write(receipt);
  if (written) written = staged->commit(/*replace=*/false);
  if (!written && written.err().code == errc::already_exists)
    fail(errc::already_exists, options.output + " already exists");
  if (!written) fail(errc::io, options.output + ": cannot write the file");
  std::cout << "wrote the receipt of ledger event " << options.seq << " to " << options.output << '\n';
  return kExitOk;
}

int run_verify(const VerifyOptions& options) {
  const std::string text = read_small_file(options.file, kMaxReceiptBytes, "receipt");
  bytes key(kAuditPublicKeyBytes);
  if (!detail::hex_decode(options.public_key, key, "--public-key"))
    fail(errc::invalid_argument, "--public-key must be the vault's public key: " +
                                     std::to_string(2 * kAuditPublicKeyBytes) + " hex digits");
  auto checked = verify_consent_receipt(text, key);
  if (!checked) fail(checked.err().code, options.file + ": " + checked.err().message);
  std::cout << "valid: receipt " << checked->receipt_id << ", a " << checked->action << " of "
            << checked->purpose << " by " << checked->subject << " at " << checked->consent_time
            << " (ledger event " << checked->ledger_seq << ", policy version " << checked->policy_version
            << "), signed for " << checked->controller << '\n';
  return kExitOk;
}

}  // namespace

void add_receipt_commands(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  CLI::App* receipt =
      root.add_subcommand("receipt", "Signed consent receipts: issue one, or check one offline");
  receipt->require_subcommand(1);
  receipt->fallthrough();

  auto issue = std::make_shared<IssueOptions>();
  CLI::App* issue_app = receipt->add_subcommand(
      "issue", "Print the signed receipt of one of the customer's consent events (audited as a staff read)");
  issue_app->add_option("CUSTOMER", issue->customer, "The customer id")->required();
  issue_app->add_option("SEQ", issue->seq, "The ledger event's seq (consent show lists them)")->required();
  issue_app->add_option("-o,--output", issue->output, "Write the receipt to this new file (mode 0600)");
  commands.push_back({issue_app, [&global, issue] { return run_issue(global, *issue); }});

  auto verify = std::make_shared<VerifyOptions>();
  CLI::App* verify_app = receipt->add_subcommand(
      "verify",
      "Check a receipt's signature offline, with only the vault's public key (exit 4 when it fails)");
  verify_app->add_option("FILE", verify->file, "The receipt (JSON)")->required();
  verify_app
      ->add_option("--public-key", verify->public_key,
                   "The vault's public key, in hex (receipt public-key prints it)")
      ->required();
  commands.push_back({verify_app, [verify] { return run_verify(*verify); }});

  CLI::App* key_app = receipt->add_subcommand(
      "public-key", "Print the vault's public key, which checks its receipts and audit checkpoints");
  commands.push_back({key_app, [&global] {
                        Vault vault = open_vault(global);
                        std::cout << detail::hex_encode(vault.audit_public_key()) << '\n';
                        return kExitOk;
                      }});
}

}  // namespace consentry::cli
