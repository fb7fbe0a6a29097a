// write.cpp: Vault::write and Vault::write_batches, how values enter the vault: every record
// validated and decided (decide_write) before anything is written, then sealed under the
// customer's data key, listed in their manifest, indexed when the field has a blind index, and
// audited, all in one transaction.
#include <algorithm>
#include <functional>
#include <iterator>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "consentry/vault.hpp"
#include "crypto/aead.hpp"
#include "text/error_list.hpp"
#include "vault/manifest.hpp"
#include "vault/parallel_for.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// The source recorded for a value written without one.
constexpr std::string_view kDefaultSource = "import";

// A write's records are checked and sealed on up to kMaxThreads cores, each taking at least
// kRecordsPerThread of them: below that, starting a thread costs more than it saves.
constexpr std::size_t kMaxThreads = 4;
constexpr std::size_t kRecordsPerThread = 64;
// Values are sealed and written kSealChunk records at a time, so that a store that sends its
// writes while the next are sealed (PostgreSQL's pipeline) keeps its server busy meanwhile: sealed
// all at once, a batch of 1,000 left the server idle while it was sealed (PG4 ten per cent slower).
constexpr std::size_t kSealChunk = 500;

// located gives "origin:line: " (what is known of it) to put before a message.
std::string located(std::string_view origin, std::size_t line) {
  std::string s;
  if (!origin.empty()) s.append(origin).append(":");
  if (line > 0) s.append(std::to_string(line)).append(":");
  if (!s.empty()) s.append(" ");
  return s;
}

// write_refusal is the errc::denied error of a write that decide_write refused, located at `at`.
error write_refusal(const Decision& d, const std::string& at, std::string_view field,
                    std::string_view source) {
  if (d.reason == deny_reason::source_not_permitted)
    return make_error(errc::denied,
                      at + "field '" + std::string(field) + "' does not accept values from source '" +
                          std::string(source) + "'",
                      d.reason);
  if (d.reason == deny_reason::inference_needs_profiling)
    return make_error(errc::denied, at + "inferred fields need the customer's consent to profiling",
                      d.reason);
  return make_error(errc::denied, at + "field '" + std::string(field) + "' cannot be written", d.reason);
}

}  // namespace

/// BatchWriter is one write transaction that takes its records a batch at a time: each batch is
/// validated, decided and written in the transaction, with its audit entries; once any record
/// is bad, the batches after it are only checked, so that every bad record is reported, and the
/// transaction is rolled back. Data keys made in it are cached only as it goes, and every cached
/// data key is dropped should it not commit, so the cache never holds a key the store lacks.
class Vault::Impl::BatchWriter {
 public:
  BatchWriter(Vault::Impl& impl, std::string_view origin, const WriteOptions& options)
      : impl_(impl), store_(*impl.store), origin_(origin), options_(options), errors_(kMaxReportedBadLines) {}
  ~BatchWriter() {
    if (keys_made_ && !committed_) impl_.keys().forget_all_data_keys();
  }

  /// run makes a BatchWriter on `impl` (its store held throughout), gives it to `feed`, and
  /// finishes it: the write's report, or the first error of `feed` or of finish().
  static result<WriteReport> run(Vault::Impl& impl, std::string_view origin, const WriteOptions& options,
                                 const std::function<result<void>(BatchWriter&)>& feed);

  /// begin starts the transaction and follows the policy in force (store_mu held).
  result<void> begin() {
    now_ = impl_.now();
    auto txn = Transaction::start(store_);
    if (!txn) return std::move(txn).err();
    txn_.emplace(std::move(*txn));
    // Checked against the policy in force as this transaction sees it: a version another
    // process put in force is followed.
    auto in_force = impl_.follow_policy();
    if (!in_force) return std::move(in_force).err();
    policy_ = &(*in_force)->policy;
    return ok();
  }
  /// add validates, decides and writes `records`; a bad record is gathered, not returned. Fails
  /// with the store's error.
  result<void> add(std::span<const Record> records);
  /// fail is `input`, the input's own error; for errc::bad_input with the bad records found so
  /// far listed after its message.
  error fail(error input) const {
    if (input.code != errc::bad_input || !errors_.any()) return input;
    input.message += "\n" + errors_.to_error(origin_).message;
    return input;
  }
  /// finish commits, or reports every bad record gathered (the transaction rolls back); a dry
  /// run rolls back after every check.
  result<WriteReport> finish() {
    if (errors_.any()) return errors_.to_error(origin_);
    if (options_.dry_run) return report_;
    CONSENTRY_TRY(txn_->commit());
    committed_ = true;
    return report_;
  }

 private:
  Vault::Impl& impl_;
  Store& store_;
  std::string_view origin_;
  const WriteOptions& options_;
  detail::ErrorList errors_;
  std::optional<Transaction> txn_;
  const Policy* policy_ = nullptr;
  timestamp now_{};
  bool version_checked_ = false;  // follow_current_version() once, at the first new key or index entry
  bool keys_made_ = false;
  bool committed_ = false;
  WriteReport report_;
};

result<void> Vault::Impl::BatchWriter::add(std::span<const Record> records) {
  Vault::Impl& impl = impl_;
  Store& store = store_;
  const Policy& policy = *policy_;
  const timestamp now = now_;
  const std::string_view origin = origin_;
  detail::ErrorList& errors = errors_;
  // Validate everything before writing anything, so a bad record changes nothing.
  struct Pending {
    const Record* record;
    std::string_view source;                                       // the record's, or kDefaultSource
    std::vector<std::pair<const FieldSpec*, std::string>> values;  // normalised
    bool needs_profiling = false;                                  // an inferred field is among them
  };
  auto validate = [&](const Record& r) -> result<Pending> {
    const std::string at = located(origin, r.line);
    if (auto c = check_identifier("customer id", r.customer, kMaxCustomerIdBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    const std::string_view source = r.source.empty() ? kDefaultSource : std::string_view(r.source);
    if (auto c = check_identifier("source", source, kMaxDetailBytes); !c)
      return make_error(errc::bad_input, at + c.err().message);
    if (r.collected_at && *r.collected_at > now + std::chrono::days(1))
      return make_error(errc::bad_input, at + "collected_at is in the future");
    Pending p{&r, source, {}};
    for (const auto& [name, value] : r.fields) {
      const FieldSpec* f = policy.field(name);
      if (!f) return make_error(errc::bad_input, at + "field '" + name + "' is not declared in the policy");
      auto v = normalise_value(f->type, name, value, policy.default_region());
      if (!v) return make_error(errc::bad_input, at + v.err().message);
      // The source is decided here, before anything is read; consent to profiling only inside
      // the transaction below. Granted stands in for it here, so only the source can refuse.
      if (auto d = decide_write(policy, name, source, ConsentStatus::granted); !d.allowed)
        return write_refusal(d, at, name, source);
      p.needs_profiling = p.needs_profiling || f->is_inferred();
      p.values.emplace_back(f, std::move(*v));
    }
    return p;
  };
  // Every record is checked, and every bad one reported (up to kMaxReportedBadLines), in the
  // records' order. The checks read only the record and the policy: they run on several cores.
  std::vector<std::optional<result<Pending>>> checked(records.size());
  detail::parallel_for(records.size(), kRecordsPerThread, kMaxThreads,
                       [&](std::size_t i) { checked[i].emplace(validate(records[i])); });
  std::vector<Pending> pending;
  pending.reserve(records.size());
  for (auto& p : checked) {
    if (!*p) {
      errors.add(std::move(*p).err());
    } else if (!errors.any()) {
      pending.push_back(std::move(**p));
    }
  }
  checked.clear();
  // After a bad record the rest is only checked for the report.
  if (errors.any()) return ok();

  // What the ledger decides is decided inside the write transaction, against the ledger as
  // committed: an erasure or a withdrawal of consent to profiling committed by another process
  // is either seen here, or commits after this write and takes what it wrote with it.
  // The erasure marks and data keys of every record's customer are asked for at once, so a store
  // that sends writes in batches (PostgreSQL) sends no read between them.
  std::vector<std::string> tags;
  tags.reserve(pending.size());
  for (const Pending& p : pending) tags.push_back(impl.audit_pseudonym(p.record->customer));
  std::unordered_set<std::string> erased;
  {
    const std::vector<std::string_view> asked(tags.begin(), tags.end());
    auto found = store.erased_among(asked);
    if (!found) return std::move(found).err();
    erased.insert(std::make_move_iterator(found->begin()), std::make_move_iterator(found->end()));
  }
  std::unordered_set<std::string_view> keyless;  // customers with no data key, before this write
  {
    std::vector<std::string_view> asked;
    for (const Pending& p : pending)
      if (!impl.keys().find_data_key(p.record->customer)) asked.push_back(p.record->customer);
    auto keyed = store.with_data_keys(asked);
    if (!keyed) return std::move(keyed).err();
    const std::unordered_set<std::string> has_key(keyed->begin(), keyed->end());
    for (std::string_view customer : asked)
      if (has_key.count(std::string(customer)) == 0) keyless.insert(customer);
  }
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const Pending& p = pending[i];
    const Record& r = *p.record;
    // An erased customer stays erased: new data would bring back what they asked to be rid of.
    if (erased.count(tags[i]) != 0) {
      errors.add(erased_error(located(origin, r.line)));
      continue;
    }
    if (p.needs_profiling) {
      auto state = impl.consent_state(r.customer);
      if (!state) return std::move(state).err();
      const ConsentStatus profiling = state->status(Policy::kProfilingPurpose, now);
      for (const auto& [spec, value] : p.values) {
        if (auto d = decide_write(policy, spec->name, p.source, profiling); !d.allowed) {
          errors.add(write_refusal(d, located(origin, r.line), spec->name, p.source));
          break;
        }
      }
    }
  }
  if (errors.any()) return ok();
  for (const Pending& p : pending) report_.values += static_cast<std::int64_t>(p.values.size());
  report_.records += static_cast<std::int64_t>(pending.size());
  // A dry run writes nothing: every check is made, and the transaction rolls back.
  if (options_.dry_run) return ok();
  bool& version_checked = version_checked_;
  // Data keys made in this batch, cached at its end (and forgotten if the transaction fails).
  std::unordered_map<std::string, SecretBytes> new_keys;
  std::vector<AuditEntry> entries;
  if (impl.audit().enabled()) entries.reserve(pending.size());
  // First every record's data key, made and stored for a customer who has none yet. Keys read
  // from the store are held here, not cached until the end: caching one may empty the cache,
  // and the records before it hold pointers into it.
  std::unordered_map<std::string, SecretBytes> loaded_keys;
  struct Keyed {
    const SecretBytes* dek = nullptr;
    // A customer given a first data key here has no rows yet: each value's first put inserts.
    bool first_write = false;
  };
  std::vector<Keyed> keyed(pending.size());
  for (std::size_t i = 0; i < pending.size(); ++i) {
    const Record& r = *pending[i].record;
    Keyed& k = keyed[i];
    if (auto it = new_keys.find(r.customer); it != new_keys.end()) {
      k.dek = &it->second;
      continue;
    }
    if (auto it = loaded_keys.find(r.customer); it != loaded_keys.end()) {
      k.dek = &it->second;
      continue;
    }
    if (keyless.count(r.customer) == 0) {
      k.dek = impl.keys().find_data_key(r.customer);
      if (!k.dek) {
        auto stored = impl.load_data_key(r.customer);
        if (!stored) return std::move(stored).err();
        if (*stored) k.dek = &loaded_keys.emplace(r.customer, std::move(**stored)).first->second;
      }
    }
    if (!k.dek) {
      // Under the version current as this transaction commits: another process may have
      // rotated, and retired the version this vault opened with, since it opened.
      if (!version_checked) CONSENTRY_TRY(impl.follow_current_version());
      version_checked = true;
      SecretBytes key = Keyring::new_data_key();
      auto wrapped = impl.keyring().wrap_data_key(r.customer, key);
      if (!wrapped) return std::move(wrapped).err();
      CONSENTRY_TRY(store.put_new_key(StoredKey{r.customer, impl.keyring().version(), std::move(*wrapped)}));
      // The map's nodes stay where they are as it grows, so the pointer holds.
      k.dek = &new_keys.emplace(r.customer, std::move(key)).first->second;
      k.first_write = true;
    }
  }
  // Then, kSealChunk records at a time, every value sealed, and its digest for the manifest
  // taken, on several cores (each record's values under its own key), and the chunk written.
  struct Sealed {
    result<bytes> sealed;
    Manifest::Digest digest{};
  };
  std::vector<std::vector<Sealed>> sealed(pending.size());
  ManifestEdits manifests(store);
  for (std::size_t from = 0; from < pending.size(); from += kSealChunk) {
    const std::size_t to = std::min(pending.size(), from + kSealChunk);
    detail::parallel_for(to - from, kRecordsPerThread, kMaxThreads, [&](std::size_t k) {
      const std::size_t i = from + k;
      const Pending& p = pending[i];
      const Record& r = *p.record;
      const FieldMetadata metadata{p.source, r.collected_at.value_or(now)};
      sealed[i].reserve(p.values.size());
      for (const auto& [spec, value] : p.values) {
        Sealed& s = sealed[i].emplace_back(
            Sealed{seal_field(*keyed[i].dek, r.customer, spec->name, value, metadata), {}});
        if (s.sealed)
          s.digest =
              value_digest(kFieldSealMetadataVersion, metadata.source, metadata.collected_at, *s.sealed);
      }
    });
    // The chunk's rows, manifests, index entries and audit entries, in the records' order.
    for (std::size_t i = from; i < to; ++i) {
      const Pending& p = pending[i];
      const Record& r = *p.record;
      const SecretBytes* dek = keyed[i].dek;
      const bool first_write = keyed[i].first_write;
      StoredField sf;
      sf.customer = r.customer;
      sf.source = std::string(p.source);
      sf.collected_at = r.collected_at.value_or(now);
      // Format 2 binds the source and collection time; the manifest lists the new rows.
      sf.format = kFieldSealMetadataVersion;
      auto listed = manifests.open(r.customer, *dek, new_keys.count(r.customer) != 0);
      if (!listed) return std::move(listed).err();
      std::unordered_set<std::string_view> put;  // the names put so far, when first_write
      for (std::size_t j = 0; j < p.values.size(); ++j) {
        const auto& [spec, value] = p.values[j];
        Sealed& s = sealed[i][j];
        if (!s.sealed) return std::move(s.sealed).err();
        sf.field = spec->name;
        sf.sealed = std::move(*s.sealed);
        // A name given twice in one record: its second value replaces the first.
        if (first_write && put.insert(spec->name).second) {
          CONSENTRY_TRY(store.put_new_field(sf));
        } else {
          CONSENTRY_TRY(store.put_field(sf));
        }
        (*listed)->note(sf.field, s.digest);
        if (spec->is_indexed()) {
          // The index entry is made under the version current as this transaction commits, like
          // a new data key, so that a retirement never leaves it under a version that is gone.
          if (!version_checked) CONSENTRY_TRY(impl.follow_current_version());
          version_checked = true;
          auto entry = impl.lookup_entry(*spec, r.customer, value, impl.keyring().version());
          if (!entry) return std::move(entry).err();
          CONSENTRY_TRY(store.put_lookup(*entry));
        }
      }
      CONSENTRY_TRY(manifests.store(r.customer, *dek, first_write));
      if (impl.audit().enabled()) {
        AuditEntry e = impl.entry(AuditAction::value_written, r.customer, impl.options.actor, "");
        for (const auto& [spec, value] : p.values) e.fields.push_back(spec->name);
        e.reason = sf.source;
        entries.push_back(std::move(e));
      }
    }
  }
  // The values and their audit entries commit together or not at all.
  if (impl.audit().enabled()) CONSENTRY_TRY(impl.audit().append_in_transaction(entries));
  keys_made_ = keys_made_ || !new_keys.empty();
  // From here no pointer into the cache is used.
  for (auto& [customer, key] : loaded_keys) impl.keys().keep_data_key(customer, std::move(key));
  for (auto& [customer, key] : new_keys) impl.keys().keep_data_key(customer, std::move(key));
  return ok();
}

result<WriteReport> Vault::Impl::BatchWriter::run(Vault::Impl& impl, std::string_view origin,
                                                  const WriteOptions& options,
                                                  const std::function<result<void>(BatchWriter&)>& feed) {
  // Entries held back from reads go first, so they keep their place before this write's.
  if (impl.options.audit == AuditMode::batched) CONSENTRY_TRY(impl.audit().flush());
  std::lock_guard lock(impl.store_mu);
  BatchWriter writer(impl, origin, options);
  CONSENTRY_TRY(writer.begin());
  CONSENTRY_TRY(feed(writer));
  return writer.finish();
}

result<WriteReport> Vault::write_batches(const RecordBatches& next, std::string_view origin,
                                         const WriteOptions& options) {
  return Impl::BatchWriter::run(*impl_, origin, options, [&](Impl::BatchWriter& writer) -> result<void> {
    std::vector<Record> batch;
    for (;;) {
      batch.clear();
      auto more = next(batch);
      if (!more) return writer.fail(std::move(more).err());
      if (!batch.empty()) CONSENTRY_TRY(writer.add(batch));
      if (!*more) return ok();
    }
  });
}

result<void> Vault::write(const std::vector<Record>& records, std::string_view origin,
                          const WriteOptions& options) {
  auto report = Impl::BatchWriter::run(*impl_, origin, options,
                                       [&](Impl::BatchWriter& writer) { return writer.add(records); });
  if (!report) return std::move(report).err();
  return ok();
}

}  // namespace consentry
