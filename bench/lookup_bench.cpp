// lookup_bench.cpp: W9, finding one customer by email (Accessor::find, docs/lookup.md) in a warm
// SQLite vault whose email field has a blind index, at W7's two sizes.
//
//   W9_find/<n>/consentry  support-desk searching for service, audit batched: the index entry's
//                          candidates, each decided, its email opened and compared, the search
//                          audited
//   W9_find/<n>/baseline   the same rows in a hand-written SQLite file with the same kind of
//                          index: one prepared SELECT of the entry's customers, each candidate's
//                          email read with a prepared SELECT and opened, compared; data keys in
//                          memory
//
// Both index the email with lookup_bits(n) bits, so that about four customers share an entry at
// either size. The emails searched for are those of W3's customers, in W3's order. bench/report.py
// gives baseline / consentry at each size, and the large size's time over the small one's.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "bench_vaults.hpp"
#include "hand_store.hpp"
#include "suite.hpp"

namespace consentry::bench {
namespace {

constexpr std::size_t kWarmFinds = 1000;
constexpr std::string_view kFindAccessor = "support-desk";
constexpr std::string_view kFindPurpose = "service";

// lookup_bits gives the index length that puts about four customers in each entry.
int lookup_bits(std::size_t customers) {
  const double bits = std::round(std::log2(static_cast<double>(customers) / 4.0));
  return static_cast<int>(std::clamp(bits, 1.0, 32.0));
}

// lookup_policy is the bench policy with email searchable for service, `bits` long.
Policy lookup_policy(int bits) {
  std::string text(kPolicy);
  const std::string email = R"({"name": "email", "type": "email", "category": "contact",)";
  const auto at = text.find(email);
  if (at == std::string::npos) throw std::runtime_error("the bench policy has no email field");
  text.insert(at + email.size(), R"( "lookup": ["service"], "lookup_bits": )" + std::to_string(bits) + ",");
  auto p = Policy::parse(text, "bench lookup policy");
  if (!p) throw std::runtime_error(p.err().message);
  return std::move(*p);
}

// find_vault is W3's read vault of `customers` with the policy above put in force, which indexes
// every email; built once and cached beside it.
std::filesystem::path find_vault(std::size_t customers) {
  const int bits = lookup_bits(customers);
  const std::filesystem::path file =
      data_dir() / ("find-" + std::to_string(customers) + "." + std::string(kDataFormat) + ".b" +
                    std::to_string(bits) + ".vault");
  if (std::filesystem::exists(file)) return file;
  const std::filesystem::path source =
      cached_vault("read-" + std::to_string(customers), customers, kReadPlan);
  const std::filesystem::path building = file.string() + ".building";
  copy_vault(source, building);
  {
    Vault v = open_bench_vault(building, AuditMode::off);
    PolicyUpdateOptions o;
    o.batch = 5000;
    auto updated = v.update_policy(lookup_policy(bits), o);
    if (!updated) throw std::runtime_error("indexing " + building.string() + ": " + updated.err().message);
  }
  std::filesystem::rename(building, file);
  return file;
}

struct OpenVault {
  std::string key;
  std::unique_ptr<Vault> vault;
};
struct OpenHand {
  std::string key;
  std::unique_ptr<HandStore> hand;
};
OpenVault& open_vault_slot() {
  static OpenVault slot;
  return slot;
}
OpenHand& open_hand_slot() {
  static OpenHand slot;
  return slot;
}

// searched_emails gives the email of each customer `order` visits, by position, made before the
// measured loop (kept for the process: both sides search for the same ones).
const std::vector<std::string>& searched_emails(const ReadOrder& order) {
  static std::map<std::size_t, std::vector<std::string>> made;
  std::vector<std::string>& emails = made[order.ids().size()];
  if (emails.empty())
    for (const std::size_t i : order.indices()) emails.push_back(field_value(i, 0));
  return emails;
}

void find_one(const Accessor& accessor, const std::string& email, const std::string& customer) {
  auto found = accessor.find(kFindPurpose, "email", email);
  if (!found) throw std::runtime_error("find: " + found.err().message);
  if (found->size() != 1 || found->front() != customer) throw std::runtime_error("find: a wrong answer");
}

void find_consentry(benchmark::State& state, std::size_t customers) {
  const std::filesystem::path file = working_copy(find_vault(customers), "work");
  OpenVault& slot = open_vault_slot();
  ReadOrder order(customers);
  if (slot.key != file.string()) {
    slot.vault.reset();
    warm_file(file);
    slot.vault = std::make_unique<Vault>(open_bench_vault(file, AuditMode::batched));
    slot.key = file.string();
    auto accessor = slot.vault->accessor(kFindAccessor);
    if (!accessor) throw std::runtime_error(accessor.err().message);
    for (std::size_t i = 0; i < std::min(kWarmFinds, order.ids().size()); ++i)
      find_one(*accessor, field_value(order.indices()[i], 0), order.ids()[i]);
  }
  auto accessor = slot.vault->accessor(kFindAccessor);
  if (!accessor) throw std::runtime_error(accessor.err().message);
  const std::vector<std::string>& emails = searched_emails(order);
  for (auto _ : state) {
    const std::size_t at = order.next();
    find_one(*accessor, emails[at], order.ids()[at]);
  }
  state.SetItemsProcessed(state.iterations());
}

void find_baseline(benchmark::State& state, std::size_t customers) {
  const int bits = lookup_bits(customers);
  const auto file =
      cached_hand_store("find-" + std::to_string(customers) + ".b" + std::to_string(bits) + ".hand",
                        Sealing::aead, {}, customers, kReadPlan, bits);
  OpenHand& slot = open_hand_slot();
  if (slot.key != file.string()) {
    slot.hand.reset();
    warm_file(file);
    slot.hand = HandStore::open(file, Sealing::aead);
    slot.hand->load_keys();
    slot.key = file.string();
  }
  HandStore& hand = *slot.hand;
  ReadOrder order(customers);
  const std::vector<std::string>& emails = searched_emails(order);
  for (auto _ : state) {
    const std::size_t at = order.next();
    const auto found = hand.find_email(emails[at]);
    if (found.size() != 1 || found.front() != order.ids()[at])
      throw std::runtime_error("baseline: a wrong answer");
    benchmark::DoNotOptimize(found.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void release_lookup_vaults() {
  open_vault_slot() = OpenVault{};
  open_hand_slot() = OpenHand{};
}

void register_lookup_benchmarks(const Sizes& sizes) {
  const int repetitions = scale() == Scale::tiny ? 1 : 3;
  for (std::size_t customers : {sizes.read_small, sizes.read_large}) {
    const std::string w9 = "W9_find/" + std::to_string(customers) + "/";
    benchmark::RegisterBenchmark((w9 + "consentry").c_str(),
                                 [customers](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { find_consentry(s, customers); });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
    benchmark::RegisterBenchmark((w9 + "baseline").c_str(),
                                 [customers](benchmark::State& st) {
                                   guarded(st, [&](benchmark::State& s) { find_baseline(s, customers); });
                                 })
        ->UseRealTime()
        ->Repetitions(repetitions);
  }
}

}  // namespace consentry::bench
