// purge.cpp: deleting the values past their field's retention, in batches, each one audited.
#include <map>
#include <optional>

#include "consentry/audit.hpp"
#include "consentry/vault.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {

namespace {

/// kMonthSlack widens the store query past the calendar cut-off: retention.after(collected) <= now
/// is tested exactly per row, and near a month's end that can hold for values collected up to a
/// few days after retention.before(now).
constexpr auto kMonthSlack = std::chrono::days(4);

}  // namespace

result<PurgeReport> Vault::purge(const PurgeOptions& options) {
  Impl& impl = *impl_;
  if (options.batch == 0) return make_error(errc::invalid_argument, "purge: the batch size is 0");
  // Entries held back from reads go first, so the log stays in the order things happened.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  PurgeReport report;
  std::map<std::string, std::int64_t, std::less<>> per_field;
  std::map<std::string, bool, std::less<>> customers;
  std::size_t batches = 0;
  bool deleted_any = false;
  {
    std::lock_guard lock(impl.store_mu);
    Store& store = *impl.store;
    const timestamp now = impl.now();
    // The retentions of the policy in force now, a version another process put in force included.
    const Policy* policy = nullptr;
    {
      auto snapshot = ReadSnapshot::open(store);
      if (!snapshot) return std::move(snapshot).err();
      auto latest = impl.follow_policy();
      if (!latest) return std::move(latest).err();
      policy = &(*latest)->policy;
    }
    // take checks the value of `spec` that `customer` holds against their manifest before it is
    // counted or deleted, and (unless dry_run) deletes it and takes it off the manifest, inside
    // the caller's transaction. A collected_at moved back to force a purge fails here
    // (errc::integrity), and the batch's transaction deletes nothing. false when the value is no
    // longer there, or was replaced by one not due (another process wrote it meanwhile).
    auto take = [&](const std::string& customer, const FieldSpec& spec, bool by_retention) -> result<bool> {
      const std::string_view wanted[] = {spec.name, kManifestField};
      auto rows = store.get_named_fields(customer, wanted);
      if (!rows) return std::move(rows).err();
      const std::optional<StoredField> manifest = take_manifest(*rows);
      const StoredField* value = rows->empty() ? nullptr : &rows->front();
      auto key = impl.data_key(customer);
      if (!key) return std::move(key).err();
      auto listed = vouching_manifest(*key, customer, manifest, value != nullptr);
      if (!listed) return std::move(listed).err();
      if (*listed) CONSENTRY_TRY((*listed)->check(spec.name, value));
      if (!value) return false;
      if (by_retention && spec.retention->after(value->collected_at) > now) return false;
      if (options.dry_run) return true;
      CONSENTRY_TRY(store.delete_field(customer, spec.name));
      // A value vouched for has a data key and a manifest: without them vouching_manifest refused it.
      (*listed)->drop(spec.name);
      CONSENTRY_TRY(store.put_field((*listed)->seal(**key, customer)));
      return true;
    };
    for (const FieldSpec& spec : policy->fields()) {
      // Inferred values go once consent to profiling has lapsed, whatever their age.
      if (!spec.retention && !spec.is_inferred()) continue;
      const timestamp cutoff =
          spec.is_inferred() ? timestamp::max() : spec.retention->before(now) + kMonthSlack;
      std::string after;
      for (;;) {
        if (options.max_batches != 0 && batches == options.max_batches) {
          report.complete = false;
          break;
        }
        // The batch is chosen and deleted in one write transaction: a value written again, or an
        // inference made under a consent to profiling granted again, by another process since
        // cannot be deleted on the strength of an older row.
        std::optional<Transaction> txn;
        if (!options.dry_run) {
          auto started = Transaction::start(store);
          if (!started) return std::move(started).err();
          txn.emplace(std::move(*started));
        }
        auto rows = store.fields_collected_before(spec.name, cutoff, after, options.batch);
        if (!rows) return std::move(rows).err();
        if (rows->empty()) break;
        after = rows->back().customer;
        std::vector<std::pair<const Store::FieldTime*, PurgeReason>> expired;  // row, reason
        for (const Store::FieldTime& row : *rows) {
          if (spec.retention && spec.retention->after(row.collected_at) <= now) {
            expired.emplace_back(&row, PurgeReason::retention_expired);
          } else if (spec.is_inferred()) {
            auto state = impl.consent_state(row.customer);
            if (!state) return std::move(state).err();
            // Consent to profiling is no longer live: expired, withdrawn before the inference
            // was deleted, or never given.
            if (state->status(Policy::kProfilingPurpose, now) != ConsentStatus::granted)
              expired.emplace_back(&row, PurgeReason::profiling_lapsed);
          }
        }
        if (expired.empty()) continue;
        std::vector<AuditEntry> entries;
        std::size_t kept = 0;
        for (std::size_t i = 0; i < expired.size(); ++i) {
          const auto [row, reason] = expired[i];
          auto taken = take(row->customer, spec, reason != PurgeReason::profiling_lapsed);
          if (!taken) {
            error e = std::move(taken).err();
            if (e.code == errc::integrity) e.message = "customer " + row->customer + ": " + e.message;
            return e;
          }
          if (!*taken) continue;
          expired[kept++] = expired[i];
          if (options.dry_run || !impl.audit().enabled()) continue;
          AuditEntry e = impl.entry(AuditAction::purge, row->customer, impl.options.actor, "");
          e.reason = std::string(to_string(reason));
          e.fields = {spec.name};
          entries.push_back(std::move(e));
        }
        expired.resize(kept);
        if (txn) {
          // The deletions and their entries commit together or not at all.
          CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
          CONSENTRY_TRY(txn->commit());
          deleted_any = deleted_any || !expired.empty();
        }
        per_field[spec.name] += static_cast<std::int64_t>(expired.size());
        report.values += static_cast<std::int64_t>(expired.size());
        for (const auto& [row, reason] : expired) customers.emplace(row->customer, true);
        ++batches;
        if (options.on_batch) options.on_batch(report.values);
      }
      if (!report.complete) break;
    }
    report.customers = static_cast<std::int64_t>(customers.size());
    for (const FieldSpec& spec : policy->fields())
      if (auto it = per_field.find(spec.name); it != per_field.end())
        report.fields.emplace_back(spec.name, it->second);
    // secure_delete zeroed the rows in their pages; compaction takes older copies out of the WAL.
    if (deleted_any) {
      if (auto compacted = store.compact(); !compacted)
        return make_error(errc::io,
                          "the purge is committed, but the vault files may still hold the deleted bytes (" +
                              compacted.err().message + ") until the next erasure or purge compacts them");
    }
  }
  return report;
}

}  // namespace consentry
