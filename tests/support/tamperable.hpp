// tamperable.hpp: a vault on each store with a second handle on the same store, for tests that
// play an administrator who changes rows behind the vault's back.
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "consentry/extension/store.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/vault.hpp"
#include "support/fake_clock.hpp"
#include "support/must.hpp"
#include "support/shared_store.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

namespace consentry::test {

/// StoreKind names the stores a Tamperable vault can sit on.
enum class StoreKind { memory, sqlite };
/// kStoreKinds lists them all, for a test to loop over. (A loop, not doctest subcases: a test
/// with subcases of its own could not nest them inside subcases opened by a helper.)
inline constexpr StoreKind kStoreKinds[] = {StoreKind::memory, StoreKind::sqlite};
/// store_name names a StoreKind for test messages.
inline const char* store_name(StoreKind kind) {
  return kind == StoreKind::memory ? "the memory store" : "the SQLite store";
}

/// Tamperable is a vault on the memory store or on an SQLite file, with a second handle on the
/// same store that goes around the vault, as an administrator with SQL access would. The vault's
/// clock is `clock`; `provider` (a passphrase provider unless the test gives one) seals its
/// master key.
class Tamperable {
 public:
  Tamperable(StoreKind kind, const Policy& policy, std::shared_ptr<KeyProvider> provider = nullptr)
      : provider_(provider ? std::move(provider)
                           : std::make_shared<PassphraseKeyProvider>("tamper test passphrase",
                                                                     KdfStrength::minimum)) {
    result<Vault> v = make_error(errc::internal, "no store chosen");
    if (kind == StoreKind::memory) {
      memory_ = std::shared_ptr<Store>(make_memory_store());
      v = Vault::create_in(std::make_unique<SharedStore>(memory_), policy, provider_, options());
    } else {
      file_ = dir_.path() / "crm.vault";
      v = Vault::create(file_, policy, provider_, options());
    }
    REQUIRE_MESSAGE(v.ok(), v.err().message);
    vault_.emplace(std::move(*v));
  }

  /// vault is the open vault; the test fails when it is closed.
  Vault& vault() {
    REQUIRE(vault_.has_value());
    return *vault_;
  }
  /// on_sqlite is true in the SQLite subcase; file is then the vault file.
  bool on_sqlite() const { return !memory_; }
  const std::filesystem::path& file() const { return file_; }

  /// close closes the vault; reopen opens it again (through `provider` when given), and fails
  /// the test when it does not open.
  void close() { vault_.reset(); }
  void reopen(std::shared_ptr<KeyProvider> provider = nullptr) {
    vault_.reset();
    auto v = try_open(std::move(provider));
    REQUIRE_MESSAGE(v.ok(), v.err().message);
    vault_.emplace(std::move(*v));
  }
  /// try_open opens the store as a second vault, without touching the one held.
  result<Vault> try_open(std::shared_ptr<KeyProvider> provider = nullptr) {
    if (!provider) provider = provider_;
    if (memory_) return Vault::open_in(std::make_unique<SharedStore>(memory_), provider, options());
    return Vault::open(file_, provider, options());
  }

  /// under runs `fn` on the store itself: the memory store the vault uses, or a connection of
  /// its own to the SQLite file, closed again afterwards.
  template <class Fn>
  void under(Fn fn) {
    if (memory_) {
      fn(*memory_);
      return;
    }
    auto raw = open_sqlite_store(file_, StoreMode::open);
    REQUIRE_MESSAGE(raw.ok(), raw.err().message);
    fn(**raw);
  }

  /// row reads a stored row straight from the store; the test fails when there is none.
  StoredField row(std::string_view customer, std::string_view field) {
    std::optional<StoredField> out;
    under([&](Store& s) { out = must(s.get_field(customer, field)); });
    REQUIRE(out.has_value());
    return *out;
  }
  /// has_row is true when the store holds a row for the customer's field.
  bool has_row(std::string_view customer, std::string_view field) {
    bool found = false;
    under([&](Store& s) { found = must(s.get_field(customer, field)).has_value(); });
    return found;
  }
  /// put_row writes `f` straight to the store, replacing the row of its customer and field.
  void put_row(const StoredField& f) {
    under([&](Store& s) { must(s.put_field(f)); });
  }
  /// delete_row deletes a row straight from the store.
  void delete_row(std::string_view customer, std::string_view field) {
    under([&](Store& s) { must(s.delete_field(customer, field)); });
  }

  FakeClock clock;

 private:
  VaultOptions options() const { return test_vault_options(clock, AuditMode::durable, "tamper-test"); }

  TempDir dir_;
  std::filesystem::path file_;
  std::shared_ptr<Store> memory_;
  std::shared_ptr<KeyProvider> provider_;
  std::optional<Vault> vault_;
};

}  // namespace consentry::test
