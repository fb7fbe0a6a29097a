// crm_backend: two features of a small CRM backend, each reading customer data only through a
// consentry View opened as its own accessor for its own purpose.
//
//   crm_backend support CUSTOMER   the support desk's card for one customer (purpose service)
//   crm_backend campaign           an e-mail campaign over every customer (purpose marketing.email)
//
// The vault comes from CONSENTRY_VAULT and its passphrase from CONSENTRY_PASSPHRASE. Neither
// feature decides anything about consent itself: the policy and the ledger do, on every read.

#include <array>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/consentry.hpp"

namespace {

using consentry::errc;

/// support_card prints what the support desk may see of `customer`, field by field: the value in
/// the form the policy gives the service purpose, or why it is not shown.
consentry::result<void> support_card(const consentry::Vault& vault, std::string_view customer) {
  auto known = vault.contains(customer);
  if (!known) return std::move(known).err();
  if (!*known) return consentry::make_error(errc::not_found, "no customer '" + std::string(customer) + "'");

  auto desk = vault.accessor("support-desk");
  if (!desk) return std::move(desk).err();
  auto view = desk->view(customer, "service");
  if (!view) return std::move(view).err();

  std::cout << "support desk, customer " << view->customer() << " (purpose " << view->purpose() << ")\n";
  constexpr std::array<std::string_view, 4> kCardFields = {"email", "phone", "birth_date", "credit_score"};
  // One read for the whole card: one consent decision pass, one audit entry, a result per field.
  auto card = view->read(kCardFields);
  if (!card) return std::move(card).err();  // erased, or the store or audit log failed
  for (std::size_t i = 0; i < kCardFields.size(); ++i) {
    const std::string_view field = kCardFields[i];
    auto& value = (*card)[i];
    std::cout << "  " << field << ": ";
    if (value) {
      std::cout << value->value << "  [" << value->form.to_string() << "]\n";
    } else if (value.err().code == errc::not_found) {
      std::cout << "(not held)\n";
    } else if (value.err().code == errc::denied) {
      std::cout << "(withheld: " << consentry::to_string(value.err().reason) << ")\n";
    } else {
      return std::move(value).err();  // integrity or I/O: stop, do not guess
    }
  }
  return consentry::ok();
}

/// CampaignReport counts what an e-mail campaign did.
struct CampaignReport {
  std::size_t sent = 0;
  std::map<std::string, std::size_t> skipped;  ///< reason -> customers
};

/// run_campaign walks every customer and queues an offer for each one whose e-mail address the
/// marketing.email purpose may read now. Customers without a live consent are skipped, counted
/// by the reason the vault gives.
consentry::result<CampaignReport> run_campaign(const consentry::Vault& vault,
                                               std::vector<std::string>& outbox) {
  auto sender = vault.accessor("email-campaigns");
  if (!sender) return std::move(sender).err();
  auto customers = vault.customers();
  if (!customers) return std::move(customers).err();

  CampaignReport report;
  for (const std::string& customer : *customers) {
    auto view = sender->view(customer, "marketing.email");
    if (!view) return std::move(view).err();  // the accessor is not registered: a policy problem
    auto email = view->get("email");
    if (email) {
      outbox.push_back(std::move(email->value));
      ++report.sent;
    } else if (email.err().code == errc::denied) {
      ++report.skipped[std::string(consentry::to_string(email.err().reason))];
    } else if (email.err().code == errc::not_found) {
      ++report.skipped["no e-mail address held"];
    } else {
      return std::move(email).err();
    }
  }
  return report;
}

int usage(std::ostream& out, int code) {
  out << "usage: crm_backend support CUSTOMER | crm_backend campaign\n"
         "The vault and passphrase come from CONSENTRY_VAULT and CONSENTRY_PASSPHRASE.\n";
  return code;
}

int fail(const consentry::error& e) {
  std::cerr << "crm_backend: " << e.message << '\n';
  return consentry::exit_code(e.code);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "--help" || args[0] == "-h")) return usage(std::cout, 0);
  const bool support = args.size() == 2 && args[0] == "support";
  const bool campaign = args.size() == 1 && args[0] == "campaign";
  if (!support && !campaign) return usage(std::cerr, 1);

  const char* vault_path = std::getenv("CONSENTRY_VAULT");
  const char* passphrase = std::getenv("CONSENTRY_PASSPHRASE");
  if (!vault_path || !*vault_path || !passphrase || !*passphrase) {
    std::cerr << "crm_backend: set CONSENTRY_VAULT and CONSENTRY_PASSPHRASE\n";
    return 1;
  }
  auto vault = consentry::Vault::open(vault_path, passphrase);
  if (!vault) return fail(vault.err());

  if (support) {
    auto shown = support_card(*vault, args[1]);
    return shown ? 0 : fail(shown.err());
  }

  std::vector<std::string> outbox;
  auto report = run_campaign(*vault, outbox);
  if (!report) return fail(report.err());
  std::cout << "e-mail campaign: " << report->sent << " offers queued\n";
  for (const auto& [reason, n] : report->skipped) std::cout << "  skipped, " << reason << ": " << n << '\n';
  return 0;
}
