// seed_consents: records a deterministic mix of consent events for every customer in a vault,
// in one process, through the C++ API (the command line would derive the passphrase key once per
// event).
//
//   CONSENTRY_VAULT=demo.vault CONSENTRY_PASSPHRASE=... seed_consents [--seed S]
//
// Per customer, from a hash of the seed and the customer id:
//   ~40% grant marketing.email, and a quarter of those withdraw it again later;
//   ~10% grant profiling;
//   ~5%  object to analytics (legitimate interest, so an objection is what stops it).
// It prints, per kind, how many customers it recorded and one of them ("e.g. C-1004").

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <string_view>

#include "consentry/consentry.hpp"

namespace {

constexpr std::string_view kChannel = "web";
constexpr std::string_view kNotice = "privacy-2025-03";

/// mix hashes a customer id with the seed (FNV-1a, then a SplitMix64 finaliser).
std::uint64_t mix(std::string_view customer, std::uint64_t seed) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;
  for (char c : customer) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  return h ^ (h >> 31);
}

const char* env(const char* name) {
  const char* v = std::getenv(name);
  return (v && *v) ? v : nullptr;
}

int fail(std::string_view what, const consentry::error& e) {
  std::cerr << "seed_consents: " << what << ": " << e.message << '\n';
  return consentry::exit_code(e.code);
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t seed = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--seed" && i + 1 < argc) {
      std::string_view v = argv[++i];
      auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
      if (ec != std::errc{} || end != v.data() + v.size()) {
        std::cerr << "seed_consents: --seed needs a non-negative integer\n";
        return 1;
      }
    } else {
      std::cerr << "usage: seed_consents [--seed S]   (vault and passphrase from CONSENTRY_VAULT and "
                   "CONSENTRY_PASSPHRASE)\n";
      return arg == "--help" || arg == "-h" ? 0 : 1;
    }
  }
  const char* vault_path = env("CONSENTRY_VAULT");
  const char* passphrase = env("CONSENTRY_PASSPHRASE");
  if (!vault_path || !passphrase) {
    std::cerr << "seed_consents: set CONSENTRY_VAULT and CONSENTRY_PASSPHRASE\n";
    return 1;
  }

  auto vault = consentry::Vault::open(vault_path, passphrase);
  if (!vault) return fail("cannot open the vault", vault.err());
  auto customers = vault->customers();
  if (!customers) return fail("cannot list customers", customers.err());

  // The events are dated in the past, withdrawals after grants, so that the ledger reads in order.
  const consentry::timestamp granted_at = vault->now() - std::chrono::days(30);
  const consentry::timestamp withdrawn_at = granted_at + std::chrono::days(10);

  std::map<std::string, int> counts;
  std::map<std::string, std::string> examples;
  auto record = [&](const std::string& customer, std::string_view purpose, consentry::ConsentAction action,
                    consentry::timestamp at) -> consentry::result<void> {
    consentry::ConsentDetails details{std::string(kChannel), std::string(kNotice), at};
    CONSENTRY_TRY(vault->record_consent(customer, purpose, action, details));
    return consentry::ok();
  };
  auto note = [&](const std::string& kind, const std::string& customer) {
    ++counts[kind];
    examples.emplace(kind, customer);
  };

  for (const std::string& customer : *customers) {
    const std::uint64_t h = mix(customer, seed);
    const auto marketing = h % 100;
    const auto profiling = (h >> 8) % 100;
    const auto analytics = (h >> 16) % 100;
    bool any = false;

    if (marketing < 40) {
      if (auto r = record(customer, "marketing.email", consentry::ConsentAction::grant, granted_at); !r)
        return fail("grant marketing.email", r.err());
      any = true;
      if (marketing < 10) {
        if (auto r = record(customer, "marketing.email", consentry::ConsentAction::withdraw, withdrawn_at);
            !r)
          return fail("withdraw marketing.email", r.err());
        note("marketing.email withdrawn", customer);
      } else {
        note("marketing.email granted", customer);
      }
    }
    if (profiling < 10) {
      if (auto r = record(customer, "profiling", consentry::ConsentAction::grant, granted_at); !r)
        return fail("grant profiling", r.err());
      note("profiling granted", customer);
      any = true;
    }
    if (analytics < 5) {
      if (auto r = record(customer, "analytics", consentry::ConsentAction::object, granted_at); !r)
        return fail("object to analytics", r.err());
      note("analytics objected", customer);
      any = true;
    }
    if (!any) note("no consent event", customer);
  }

  std::cout << "consent events for " << customers->size() << " customers:\n";
  for (const auto& [kind, n] : counts) {
    std::cout << "  " << std::left << std::setw(28) << kind << std::right << std::setw(6) << n << "   e.g. "
              << examples[kind] << '\n';
  }
  return 0;
}
