// bench_vaults.hpp: the consentry side's datasets: the bench policy, import records, and vaults
// built once and cached under data_dir() for the read and scan workloads; and B3's read, timed
// on any of them.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "bench_data.hpp"
#include "consentry/consentry.hpp"

namespace consentry::bench {

/// bench_policy is kPolicy, parsed once. Throws std::runtime_error if it does not parse.
const Policy& bench_policy();

/// make_records builds the import records of customers [first, last): all ten fields, source
/// kSource, collected at `at`.
std::vector<Record> make_records(std::size_t first, std::size_t last, timestamp at);

/// bench_options are the options every bench vault is opened with: KdfStrength::minimum and
/// the given audit mode.
VaultOptions bench_options(AuditMode audit);

/// record_planned_consents records, at `at`, the consent events `plan` gives customers
/// [0, customers) on kReadPurpose, calling `after_each` (when set) after each granted customer.
/// Throws std::runtime_error when recording fails.
void record_planned_consents(Vault& vault, std::size_t customers, const ConsentPlan& plan, timestamp at,
                             const std::function<void(std::size_t)>& after_each = {});

/// cached_vault returns the path of the SQLite vault `name` under data_dir() holding customers
/// [0, customers) with all ten fields and the consent events of `plan`, building it first when
/// it is not there (into a temporary name, renamed when complete; progress on stderr). Throws
/// std::runtime_error when building fails.
std::filesystem::path cached_vault(std::string_view name, std::size_t customers, const ConsentPlan& plan);

/// working_copy copies the cached vault `pristine` to "<name>.<tag>.vault" beside it, once per
/// process, and returns the copy's path. Workloads that write (reads write audit entries) use a
/// copy, so the cached vault stays as built and every run starts from the same files.
std::filesystem::path working_copy(const std::filesystem::path& pristine, std::string_view tag);
/// remove_working_copies deletes the copies working_copy made (they are made again next run).
void remove_working_copies();

/// copy_vault copies a closed vault file to `to`, replacing what was there, and syncs the copy.
void copy_vault(const std::filesystem::path& from, const std::filesystem::path& to);

/// time_release times B3's read, Vault::purpose_dataset as kReleaseAccessor for kReleasePurpose
/// of kReleaseFields over `customers` customers, on the vault `open` gives, opened before each run
/// and closed after it outside the timing, so that no data key is cached (release_bench.cpp: B3R,
/// and PGB3R on PostgreSQL). Throws when the read fails or releases other than four values each.
void time_release(benchmark::State& state, std::size_t customers, const std::function<Vault()>& open);

/// open_bench_vault opens a bench vault; throws std::runtime_error when it cannot.
Vault open_bench_vault(const std::filesystem::path& file, AuditMode audit);

/// read_three is W3's read of kReadFields as kReadPurpose: a view of `customer`, then one read
/// of the three fields. Throws std::runtime_error when either is refused or a value fails.
void read_three(const Accessor& accessor, const std::string& customer);

/// read_three_at_once is read_three in one call (Accessor::read): one decision and one
/// snapshot where a view and its read take one each. Throws as read_three does.
void read_three_at_once(const Accessor& accessor, const std::string& customer);

/// on_reading_threads runs `work(t, accessor)` on `threads` threads at once, each with an
/// accessor of its own (kReadAccessor of `vault`), as a CRM's request threads read, and returns
/// the wall time they took together, in seconds. Throws std::runtime_error with the first
/// error a thread met.
double on_reading_threads(const Vault& vault, std::size_t threads,
                          const std::function<void(std::size_t, const Accessor&)>& work);

/// to_string names an audit mode as the benchmark names spell it.
std::string_view to_string(AuditMode mode);

}  // namespace consentry::bench
