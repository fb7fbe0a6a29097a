// bulk_read.cpp: Accessor::read_each, reads of many customers whose audit entries are committed
// a batch at a time, before the batch's answers are handed out.
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
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
    // The batch is read kSnapshotCustomers at a time, each run of customers in one read snapshot
    // and their rows in one request to the store (one round trip to a server): one read lock of
    // the store for them all, and the store's lock held only that long.
    for (std::size_t run = first; run < end; run += kSnapshotCustomers) {
      const std::size_t run_end = std::min(end, run + kSnapshotCustomers);
      // A bad customer id is answered as a refusal of its own; the others are read.
      std::vector<std::optional<error>> bad(run_end - run);
      std::vector<std::string> ids;
      std::vector<std::string> tags;
      for (std::size_t i = run; i < run_end; ++i) {
        if (auto c = check_identifier("customer id", customers[i], kMaxCustomerIdBytes); !c) {
          bad[i - run] = std::move(c).err();
          continue;
        }
        ids.push_back(customers[i]);
        tags.push_back(v.audit_pseudonym(customers[i]));
      }
      std::vector<Vault::Impl::DecidedRead> decided;
      if (!ids.empty()) {
        std::lock_guard lock(v.store_mu);
        auto snapshot = ReadSnapshot::open(*v.store);
        if (!snapshot) return std::move(snapshot).err();
        // The store's error fails the walk; the batch's reads are dropped unlogged, for none of
        // their values left the library (so does a read that failed before deciding anything).
        auto reads = v.decide_reads_locked(id_, ids, tags, purpose_name, fields);
        if (!reads) return std::move(reads).err();
        decided = std::move(*reads);
      }
      std::size_t next = 0;
      for (std::optional<error>& refusal : bad) {
        if (refusal) {
          answers.emplace_back(std::move(*refusal));
          continue;
        }
        Vault::Impl::DecidedRead& read = decided[next++];
        // A read that failed before deciding anything fails the walk, as the store's error does.
        if (!read.answer && read.entries.empty()) return std::move(read.answer).err();
        for (AuditEntry& e : read.entries) entries.push_back(std::move(e));
        answers.push_back(std::move(read.answer));
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
