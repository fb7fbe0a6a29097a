// bulk_read.cpp: Accessor::read_each, reads of many customers whose audit entries are committed
// a batch at a time, before the batch's answers are handed out.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "consentry/vault.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

/// kSnapshotCustomers is how many customers read_each reads in one read snapshot.
constexpr std::size_t kSnapshotCustomers = 32;

}  // namespace

result<std::int64_t> Accessor::read_each(
    std::span<const std::string> customers, std::string_view purpose,
    std::span<const std::string_view> fields,
    const std::function<result<void>(const std::string& customer, CustomerAnswer& answer)>& each,
    const BulkReadOptions& options) const {
  if (fields.empty()) return make_error(errc::bad_input, "read: no fields named");
  if (options.batch == 0) return make_error(errc::invalid_argument, "read_each: a batch of 0 customers");
  const Vault::Impl& v = *vault_;
  const std::string purpose_name(purpose);
  std::int64_t done = 0;
  std::vector<CustomerAnswer> answers;
  std::vector<AuditEntry> entries;
  for (std::size_t first = 0; first < customers.size(); first += options.batch) {
    const std::size_t end = std::min(customers.size(), first + options.batch);
    answers.clear();
    entries.clear();
    // The batch is read kSnapshotCustomers at a time, each run of customers in one read snapshot:
    // one read lock of the store for them all, and the store's lock held only that long.
    for (std::size_t run = first; run < end; run += kSnapshotCustomers) {
      std::lock_guard lock(v.store_mu);
      auto snapshot = ReadSnapshot::open(*v.store);
      if (!snapshot) return std::move(snapshot).err();
      for (std::size_t i = run; i < std::min(end, run + kSnapshotCustomers); ++i) {
        const std::string& customer = customers[i];
        if (auto c = check_identifier("customer id", customer, kMaxCustomerIdBytes); !c) {
          answers.emplace_back(std::move(c).err());
          continue;
        }
        Vault::Impl::DecidedRead decided = v.decide_read_locked(
            id_, customer, purpose_name, v.audit_pseudonym(customer), fields, true, true);
        // A read that failed before deciding anything (the store's error) fails the walk; the
        // batch's reads are dropped unlogged, for none of their values left the library.
        if (!decided.answer && decided.entries.empty()) return std::move(decided.answer).err();
        for (AuditEntry& e : decided.entries) entries.push_back(std::move(e));
        answers.push_back(std::move(decided.answer));
      }
    }
    // The batch's entries are committed (or queued, in batched mode) before any of its values
    // leaves the library.
    if (!entries.empty()) CONSENTRY_TRY(v.audit().record(std::move(entries)));
    for (std::size_t i = first; i < end; ++i) {
      CONSENTRY_TRY(each(customers[i], answers[i - first]));
      ++done;
    }
    if (options.on_batch) options.on_batch(done, static_cast<std::int64_t>(customers.size()));
  }
  return done;
}

}  // namespace consentry
