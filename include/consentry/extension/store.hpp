// extension/store.hpp: the Store interface, the union of a store's roles (extension/store/*.hpp:
// transactions, keys and fields, the ledger, the audit log, maintenance), and its
// implementations: SQLite (the embedded default) and memory (tests). The records the roles pass
// are in records.hpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/extension/store/audit_log.hpp"
#include "consentry/extension/store/keys_and_fields.hpp"
#include "consentry/extension/store/ledger.hpp"
#include "consentry/extension/store/maintenance.hpp"
#include "consentry/extension/store/transactions.hpp"
#include "consentry/records.hpp"
#include "consentry/result.hpp"

namespace consentry {

/// Store keeps sealed data; it never sees a key or a plaintext value. It is every role at once,
/// which is what a vault needs: a backend implements the roles one by one (each header says what
/// its calls do and how they fail) and derives from Store to be opened as a vault.
/// Implementations are not thread-safe: one Store per thread, or external locking. Every call
/// returns errc::io when the backend fails.
class Store : public StoreTransactions,
              public KeyFieldStore,
              public LedgerStore,
              public AuditLogStore,
              public MaintenanceStore {
 public:
  ~Store() override = default;

  /// scan_purpose_positions (LedgerStore): the default merges customers() with
  /// purpose_history(), which are sorted alike.
  result<void> scan_purpose_positions(std::string_view purpose, bool only_with_events,
                                      const std::function<bool(const PurposePosition&)>& visit) override;
  /// field_counts (MaintenanceStore): the default reads every customer's fields.
  result<std::vector<std::pair<std::string, std::int64_t>>> field_counts() override;
};

/// StoreMode says whether opening a store may create it.
enum class StoreMode { create, open };

/// open_sqlite_store opens an SQLite vault file (WAL, secure_delete=ON, foreign keys, prepared
/// statements). StoreMode::create refuses an existing file (errc::already_exists);
/// StoreMode::open refuses a missing one (errc::not_found) and a file that is not a vault
/// (errc::bad_input).
result<std::unique_ptr<Store>> open_sqlite_store(const std::filesystem::path& file, StoreMode mode);

/// make_memory_store makes an empty in-memory store (for tests); transactions roll back for real.
std::unique_ptr<Store> make_memory_store();

}  // namespace consentry
