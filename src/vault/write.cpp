// write.cpp: Vault::write and Vault::write_batches, how values enter the vault: every record
// validated and decided (decide_write) before anything is written, then sealed under the
// customer's data key, listed in their manifest, indexed when the field has a blind index, and
// audited, all in one transaction.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <iterator>
#include <memory>
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
#include "vault/loop_queue.hpp"
#include "vault/manifest.hpp"
#include "vault/vault_impl.hpp"

namespace consentry {
namespace {

// The source recorded for a value written without one.
constexpr std::string_view kDefaultSource = "import";

// A write's records are checked and sealed on up to kMaxThreads cores (its own thread among
// them), when it has at least twice kRecordsPerThread of them: below that, starting a thread
// costs more than it saves.
constexpr std::size_t kMaxThreads = 4;
constexpr std::size_t kRecordsPerThread = 64;
// Records are checked and sealed, and then written, kWriteChunk at a time: the writing thread
// writes one chunk while the others seal the next, so that neither the cores nor a store that
// sends writes while the next are sealed (PostgreSQL's pipeline) wait for the other long.
constexpr std::size_t kWriteChunk = 128;

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

// Sealed is one value sealed for its row, with its digest for the manifest.
struct Sealed {
  result<bytes> sealed;
  Manifest::Digest digest{};
};

// Checked is what the checks of one record found, and what was sealed of it.
struct Checked {
  std::optional<error> bad;      // the record is not one that may be written
  std::optional<error> refused;  // an inferred field without consent to profiling
  std::string tag;               // the customer's audit pseudonym, when QueuedBatch::ahead
  std::string_view source;       // the record's, or kDefaultSource
  std::vector<std::pair<const FieldSpec*, std::string>> values;  // normalised
  std::vector<Sealed> sealed;
  result<bytes> wrapped = bytes{};      // RecordCustomer::new_key, wrapped
  std::optional<StoredField> manifest;  // sealed, when RecordCustomer::sole
};

// RecordCustomer is what the store says of one record's customer, read on the writing thread.
struct RecordCustomer {
  std::string tag;      // the customer's audit pseudonym; empty when the customer id is not one
  bool erased = false;  // an erased customer stays erased: new data would bring back what they
                        // asked to be rid of
  std::optional<ConsentStatus> profiling;  // when the record holds an inferred field
  const SecretBytes* dek = nullptr;        // when writing
  const SecretBytes* new_key = nullptr;    // the data key this record gives its customer
  bool sole = false;  // new_key, and no other record of the batch is the customer's: the record
                      // makes their whole manifest
};

// QueuedBatch is a batch of records on its way into a write transaction: its checks and its
// sealing run as loops of a LoopQueue, and it waits for them before it goes, so that nothing they
// touch is gone while they run.
struct QueuedBatch {
  explicit QueuedBatch(std::span<const Record> r) : records(r), checked(r.size()) {}
  explicit QueuedBatch(std::vector<Record> r) : owned(std::move(r)), records(owned), checked(owned.size()) {}
  QueuedBatch(const QueuedBatch&) = delete;
  QueuedBatch& operator=(const QueuedBatch&) = delete;
  ~QueuedBatch() {
    abandoned.store(true, std::memory_order_relaxed);
    if (!queue) return;
    std::vector<std::size_t> loops = seals;
    if (checks) loops.push_back(*checks);
    for (std::size_t loop : loops) {
      try {
        queue->wait(loop);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the write has failed already
      }
    }
  }

  std::vector<Record> owned;  // the records, when the batch holds them
  std::span<const Record> records;
  std::vector<Checked> checked;
  std::vector<RecordCustomer> customers;  // when deciding
  // Data keys made for this batch, and keys read from the store, are held here, not cached until
  // the end: caching one may empty the cache, and the records before it hold pointers into it.
  // The maps' nodes stay where they are as they grow, so the pointers hold.
  struct NewKey {
    SecretBytes key;
    std::size_t maker;  // the record that makes it
  };
  std::unordered_map<std::string, NewKey> new_keys;
  std::unordered_map<std::string, SecretBytes> loaded_keys;
  std::unordered_set<std::string_view> keyless;  // customers with no data key before this write
  detail::LoopQueue* queue = nullptr;
  bool ahead = false;  // checked while the batch before was written: the checks make the pseudonyms
  std::optional<std::size_t> checks;   // the loop checking every record
  std::vector<std::size_t> seals;      // the loops sealing each chunk
  std::atomic<bool> abandoned{false};  // the write failed: the loops skip what is left
  std::atomic<bool> sealing{false};    // cleared once a record is found bad
};

}  // namespace

/// BatchWriter is one write transaction that takes its records a batch at a time: each batch is
/// validated, decided and written in the transaction, with its audit entries; once any record
/// is bad, the batches after it are only checked, so that every bad record is reported, and the
/// transaction is rolled back. Data keys made in it are cached only as it goes, and every cached
/// data key is dropped should it not commit, so the cache never holds a key the store lacks.
/// Records are checked and sealed on other threads (a LoopQueue) while this one reads and writes
/// the store.
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
  result<void> add(std::span<const Record> records) {
    QueuedBatch batch(records);
    return write(batch, nullptr);
  }
  /// write is add for `batch`; `next`, when given, is the batch after it, whose checks are queued
  /// behind this batch's sealing, so that they run while this batch is written.
  result<void> write(QueuedBatch& batch, QueuedBatch* next);
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
  /// queue_checks queues the checks of every record of `batch`; `ahead` while the batch before
  /// is written.
  void queue_checks(QueuedBatch& batch, bool ahead);
  /// look_up reads what the store says of every record's customer into batch.customers, and,
  /// when `writing`, which of them have no data key yet; `checked` when the batch's checks are
  /// done and found every record well formed. Fails with the store's error.
  result<void> look_up(QueuedBatch& batch, bool writing, bool checked);
  /// give_keys finds the data key of every record's customer (cached, or read from the store),
  /// or makes one. Fails with the store's error, or errc::integrity for a key that does not open.
  result<void> give_keys(QueuedBatch& batch);
  /// check checks record `i` of `batch` (it reads only the record and the policy).
  void check(QueuedBatch& batch, std::size_t i) const;
  /// seal decides record `i`'s inferred fields, seals its values and wraps its new data key.
  void seal(QueuedBatch& batch, std::size_t i) const;
  /// write_record writes record `i` of `batch`: its new data key, rows, manifest and index
  /// entries, and its audit entry into `entries`. Fails with the store's error.
  result<void> write_record(QueuedBatch& batch, std::size_t i, ManifestEdits& manifests,
                            std::vector<AuditEntry>& entries);

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
  // Small batches are checked and sealed on this thread, large ones on helper threads too,
  // started for the first large batch and kept for the transaction.
  detail::LoopQueue own_thread_{0};
  std::optional<detail::LoopQueue> helpers_;
};

void Vault::Impl::BatchWriter::queue_checks(QueuedBatch& batch, bool ahead) {
  const std::size_t n = batch.records.size();
  batch.ahead = ahead;
  if (n >= 2 * kRecordsPerThread) {
    if (!helpers_) helpers_.emplace(kMaxThreads - 1);
    batch.queue = &*helpers_;
  } else {
    batch.queue = &own_thread_;
  }
  batch.checks = batch.queue->push(n, [this, &batch](std::size_t i) {
    if (!batch.abandoned.load(std::memory_order_relaxed)) check(batch, i);
  });
}

void Vault::Impl::BatchWriter::check(QueuedBatch& batch, std::size_t i) const {
  const Policy& policy = *policy_;
  const Record& r = batch.records[i];
  Checked& out = batch.checked[i];
  const std::string at = located(origin_, r.line);
  if (auto c = check_identifier("customer id", r.customer, kMaxCustomerIdBytes); !c) {
    out.bad = make_error(errc::bad_input, at + c.err().message);
    return;
  }
  if (batch.ahead) out.tag = impl_.audit_pseudonym(r.customer);
  out.source = r.source.empty() ? kDefaultSource : std::string_view(r.source);
  if (auto c = check_identifier("source", out.source, kMaxDetailBytes); !c) {
    out.bad = make_error(errc::bad_input, at + c.err().message);
    return;
  }
  if (r.collected_at && *r.collected_at > now_ + std::chrono::days(1)) {
    out.bad = make_error(errc::bad_input, at + "collected_at is in the future");
    return;
  }
  for (const auto& [name, value] : r.fields) {
    const FieldSpec* f = policy.field(name);
    if (!f) {
      out.bad = make_error(errc::bad_input, at + "field '" + name + "' is not declared in the policy");
      return;
    }
    auto v = normalise_value(f->type, name, value, policy.default_region());
    if (!v) {
      out.bad = make_error(errc::bad_input, at + v.err().message);
      return;
    }
    // Granted stands in for consent to profiling here, so only the source can refuse; seal()
    // decides with the customer's consent.
    if (auto d = decide_write(policy, name, out.source, ConsentStatus::granted); !d.allowed) {
      out.bad = write_refusal(d, at, name, out.source);
      return;
    }
    out.values.emplace_back(f, std::move(*v));
  }
}

void Vault::Impl::BatchWriter::seal(QueuedBatch& batch, std::size_t i) const {
  Checked& out = batch.checked[i];
  if (out.bad) return;
  const Record& r = batch.records[i];
  const RecordCustomer& c = batch.customers[i];
  if (c.profiling) {
    for (const auto& [spec, value] : out.values) {
      if (auto d = decide_write(*policy_, spec->name, out.source, *c.profiling); !d.allowed) {
        out.refused = write_refusal(d, located(origin_, r.line), spec->name, out.source);
        return;
      }
    }
  }
  // After a bad record nothing more will be written.
  if (!c.dek || !batch.sealing.load(std::memory_order_relaxed)) return;
  if (c.new_key) out.wrapped = impl_.keyring().wrap_data_key(r.customer, *c.new_key);
  const FieldMetadata metadata{out.source, r.collected_at.value_or(now_)};
  out.sealed.reserve(out.values.size());
  for (const auto& [spec, value] : out.values) {
    Sealed& s =
        out.sealed.emplace_back(Sealed{seal_field(*c.dek, r.customer, spec->name, value, metadata), {}});
    if (s.sealed)
      s.digest = value_digest(kFieldSealMetadataVersion, metadata.source, metadata.collected_at, *s.sealed);
  }
  if (!c.sole) return;
  Manifest manifest;
  for (std::size_t j = 0; j < out.values.size(); ++j)
    if (out.sealed[j].sealed) manifest.note(out.values[j].first->name, out.sealed[j].digest);
  out.manifest = manifest.seal(*c.dek, r.customer);
}

result<void> Vault::Impl::BatchWriter::look_up(QueuedBatch& batch, bool writing, bool checked) {
  // Everything is asked for before anything of the batch is written (a store that sends writes
  // in batches, PostgreSQL, sends no read between them), inside the write transaction, against
  // the ledger as committed: an erasure or a withdrawal of consent to profiling committed by
  // another process is either seen here, or commits after this write and takes what it wrote
  // with it.
  Vault::Impl& impl = impl_;
  const Policy& policy = *policy_;
  const std::span<const Record> records = batch.records;
  std::vector<RecordCustomer>& customers = batch.customers;
  customers.resize(records.size());
  // The customers' audit pseudonyms: the checks' when they are done, else made here meanwhile
  // (for the records whose customer id is one; the checks report the others).
  std::vector<std::size_t> named;
  named.reserve(records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (checked) {
      customers[i].tag = std::move(batch.checked[i].tag);
    } else if (check_identifier("customer id", records[i].customer, kMaxCustomerIdBytes)) {
      customers[i].tag = impl.audit_pseudonym(records[i].customer);
    } else {
      continue;
    }
    named.push_back(i);
  }
  {
    std::vector<std::string_view> tags;
    tags.reserve(named.size());
    for (std::size_t i : named) tags.push_back(customers[i].tag);
    auto found = store_.erased_among(tags);
    if (!found) return std::move(found).err();
    const std::unordered_set<std::string> erased(std::make_move_iterator(found->begin()),
                                                 std::make_move_iterator(found->end()));
    for (std::size_t i : named) customers[i].erased = erased.count(customers[i].tag) != 0;
  }
  for (std::size_t i : named) {
    RecordCustomer& c = customers[i];
    if (c.erased) continue;
    const bool inferred = std::any_of(records[i].fields.begin(), records[i].fields.end(), [&](const auto& f) {
      const FieldSpec* spec = policy.field(f.first);
      return spec && spec->is_inferred();
    });
    if (!inferred) continue;
    auto state = impl.consent_state(records[i].customer);
    if (!state) return std::move(state).err();
    c.profiling = state->status(Policy::kProfilingPurpose, now_);
  }
  if (!writing) return ok();
  std::vector<std::string_view> asked;
  for (std::size_t i : named)
    if (!customers[i].erased && !impl.keys().find_data_key(records[i].customer))
      asked.push_back(records[i].customer);
  auto keyed = store_.with_data_keys(asked);
  if (!keyed) return std::move(keyed).err();
  const std::unordered_set<std::string> has_key(keyed->begin(), keyed->end());
  for (std::string_view customer : asked)
    if (has_key.count(std::string(customer)) == 0) batch.keyless.insert(customer);
  return ok();
}

result<void> Vault::Impl::BatchWriter::give_keys(QueuedBatch& batch) {
  Vault::Impl& impl = impl_;
  for (std::size_t i = 0; i < batch.records.size(); ++i) {
    RecordCustomer& c = batch.customers[i];
    const std::string& customer = batch.records[i].customer;
    if (c.erased) continue;
    if (auto it = batch.new_keys.find(customer); it != batch.new_keys.end()) {
      c.dek = &it->second.key;
      batch.customers[it->second.maker].sole = false;
    } else if (auto loaded = batch.loaded_keys.find(customer); loaded != batch.loaded_keys.end()) {
      c.dek = &loaded->second;
    } else if (batch.keyless.count(customer) == 0) {
      c.dek = impl.keys().find_data_key(customer);
      if (!c.dek) {
        auto stored = impl.load_data_key(customer);
        if (!stored) return std::move(stored).err();
        if (*stored) c.dek = &batch.loaded_keys.emplace(customer, std::move(**stored)).first->second;
      }
    }
    if (c.dek) continue;
    // Wrapped under the version current as this transaction commits: another process may have
    // rotated, and retired the version this vault opened with, since it opened. Asked here,
    // before any record is sealed, so that the keyring does not change under the threads that
    // wrap the new keys.
    if (!version_checked_) CONSENTRY_TRY(impl.follow_current_version());
    version_checked_ = true;
    c.dek = c.new_key =
        &batch.new_keys.emplace(customer, QueuedBatch::NewKey{Keyring::new_data_key(), i}).first->second.key;
    c.sole = true;
  }
  return ok();
}

result<void> Vault::Impl::BatchWriter::write_record(QueuedBatch& batch, std::size_t i,
                                                    ManifestEdits& manifests,
                                                    std::vector<AuditEntry>& entries) {
  Vault::Impl& impl = impl_;
  Checked& p = batch.checked[i];
  const Record& r = batch.records[i];
  const RecordCustomer& c = batch.customers[i];
  const SecretBytes& dek = *c.dek;
  // A customer given a first data key here has no rows yet: each value's first put inserts.
  const bool first_write = c.new_key != nullptr;
  if (first_write) {
    if (!p.wrapped) return std::move(p.wrapped).err();
    CONSENTRY_TRY(store_.put_new_key(StoredKey{r.customer, impl.keyring().version(), std::move(*p.wrapped)}));
    keys_made_ = true;
  }
  StoredField sf;
  sf.customer = r.customer;
  sf.source = std::string(p.source);
  sf.collected_at = r.collected_at.value_or(now_);
  // Format 2 binds the source and collection time; the manifest lists the new rows.
  sf.format = kFieldSealMetadataVersion;
  Manifest* listed = nullptr;  // the manifest to change, unless the record's own was sealed
  if (!c.sole) {
    auto opened = manifests.open(r.customer, dek, batch.new_keys.count(r.customer) != 0);
    if (!opened) return std::move(opened).err();
    listed = *opened;
  }
  std::unordered_set<std::string_view> put;  // the names put so far, when first_write
  for (std::size_t j = 0; j < p.values.size(); ++j) {
    const auto& [spec, value] = p.values[j];
    Sealed& s = p.sealed[j];
    if (!s.sealed) return std::move(s.sealed).err();
    sf.field = spec->name;
    sf.sealed = std::move(*s.sealed);
    // A name given twice in one record: its second value replaces the first.
    if (first_write && put.insert(spec->name).second) {
      CONSENTRY_TRY(store_.put_new_field(sf));
    } else {
      CONSENTRY_TRY(store_.put_field(sf));
    }
    if (listed) listed->note(sf.field, s.digest);
    if (spec->is_indexed()) {
      // The index entry is made under the version current as this transaction commits, like a
      // new data key, so that a retirement never leaves it under a version that is gone. (With
      // a new key in the batch, look_up asked for it before any was wrapped.)
      if (!version_checked_) CONSENTRY_TRY(impl.follow_current_version());
      version_checked_ = true;
      auto entry = impl.lookup_entry(*spec, r.customer, value, impl.keyring().version());
      if (!entry) return std::move(entry).err();
      CONSENTRY_TRY(store_.put_lookup(*entry));
    }
  }
  if (listed) {
    CONSENTRY_TRY(manifests.store(r.customer, dek, first_write));
  } else {
    if (!p.manifest) return make_error(errc::internal, "a new customer's manifest was not sealed");
    CONSENTRY_TRY(store_.put_new_field(*p.manifest));
  }
  if (impl.audit().enabled()) {
    AuditEntry e = impl.entry_for_pseudonym(AuditAction::value_written, c.tag, impl.options.actor, "");
    for (const auto& [spec, value] : p.values) e.fields.push_back(spec->name);
    e.reason = sf.source;
    entries.push_back(std::move(e));
  }
  return ok();
}

result<void> Vault::Impl::BatchWriter::write(QueuedBatch& batch, QueuedBatch* next) {
  const std::size_t n = batch.records.size();
  // Once a record was bad, the records after it are only checked, so that every bad one is
  // reported; a dry run decides every record and writes nothing. Either way the transaction
  // rolls back, so what was written before a bad record is found changes nothing.
  bool deciding = !errors_.any();
  bool writing = deciding && !options_.dry_run;
  if (!batch.checks) queue_checks(batch, false);
  // This thread asks the store about the batch's customers while the records are checked,
  // unless they were checked while the batch before was written.
  const bool checked = batch.ahead && batch.queue->done(*batch.checks);
  if (deciding && !checked) CONSENTRY_TRY(look_up(batch, writing, false));
  batch.queue->wait(*batch.checks);
  // A batch with a record that is not well formed is only checked: an erasure or a refusal is
  // reported once the rest is well formed.
  if (std::any_of(batch.checked.begin(), batch.checked.end(),
                  [](const Checked& c) { return c.bad.has_value(); }))
    deciding = writing = false;
  if (deciding && checked) CONSENTRY_TRY(look_up(batch, writing, true));
  if (writing) CONSENTRY_TRY(give_keys(batch));
  batch.sealing.store(writing, std::memory_order_relaxed);
  // Then each chunk of kWriteChunk records is decided and sealed on other threads while this
  // one writes the chunks before it.
  if (deciding) {
    for (std::size_t from = 0; from < n; from += kWriteChunk)
      batch.seals.push_back(
          batch.queue->push(std::min(n, from + kWriteChunk) - from, [this, &batch, from](std::size_t k) {
            if (!batch.abandoned.load(std::memory_order_relaxed)) seal(batch, from + k);
          }));
  }
  if (next) queue_checks(*next, true);
  std::vector<AuditEntry> entries;
  if (writing && impl_.audit().enabled()) entries.reserve(n);
  ManifestEdits manifests(store_);
  for (std::size_t chunk = 0, from = 0; from < n; ++chunk, from += kWriteChunk) {
    const std::size_t to = std::min(n, from + kWriteChunk);
    if (deciding) batch.queue->wait(batch.seals[chunk]);
    // Every bad record reported (up to kMaxReportedBadLines), in the records' order.
    for (std::size_t i = from; i < to; ++i) {
      Checked& p = batch.checked[i];
      if (p.bad) {
        errors_.add(std::move(*p.bad));
      } else if (deciding && batch.customers[i].erased) {
        errors_.add(erased_error(located(origin_, batch.records[i].line)));
      } else if (deciding && p.refused) {
        errors_.add(std::move(*p.refused));
      }
    }
    if (errors_.any()) {
      batch.sealing.store(false, std::memory_order_relaxed);
      continue;
    }
    for (std::size_t i = from; i < to; ++i)
      report_.values += static_cast<std::int64_t>(batch.checked[i].values.size());
    report_.records += static_cast<std::int64_t>(to - from);
    if (!writing) continue;
    // The chunk's keys, rows, manifests, index entries and audit entries, in the records' order.
    for (std::size_t i = from; i < to; ++i) CONSENTRY_TRY(write_record(batch, i, manifests, entries));
  }
  if (errors_.any() || !writing) return ok();
  // The values and their audit entries commit together or not at all.
  if (impl_.audit().enabled()) CONSENTRY_TRY(impl_.audit().append_in_transaction(entries));
  // From here no pointer into the cache is used.
  for (auto& [customer, key] : batch.loaded_keys) impl_.keys().keep_data_key(customer, std::move(key));
  for (auto& [customer, made] : batch.new_keys) impl_.keys().keep_data_key(customer, std::move(made.key));
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
    // The next batch is taken before the one before it is written, so that its records are
    // checked while that one is written.
    std::unique_ptr<QueuedBatch> waiting;
    for (;;) {
      std::vector<Record> batch;
      auto more = next(batch);
      if (!more) {
        // The batch taken before is gone through first, so that its bad records are listed.
        if (waiting) CONSENTRY_TRY(writer.write(*waiting, nullptr));
        return writer.fail(std::move(more).err());
      }
      std::unique_ptr<QueuedBatch> taken =
          batch.empty() ? nullptr : std::make_unique<QueuedBatch>(std::move(batch));
      if (waiting) CONSENTRY_TRY(writer.write(*waiting, taken.get()));
      waiting = std::move(taken);
      if (!*more) return waiting ? writer.write(*waiting, nullptr) : ok();
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
