// meeting_readers.hpp: a vault whose reader connections each hold a read until another reader is
// inside one too, to show that reads from several threads run side by side.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/hooked_store.hpp"
#include "support/must.hpp"
#include "support/passphrase.hpp"
#include "support/vault_options.hpp"

namespace consentry::test {

/// MeetingReaders opens a vault on `store` whose readers (the store's own open_reader) each
/// hold a read, of a customer or of a meta row, until another reader is inside one too, or five
/// seconds have passed: reads that took turns never meet there. It counts the readers opened
/// and the same reads made through the store's own connection.
struct MeetingReaders {
  enum class Hold { customer_reads, meta_reads };

  MeetingReaders(std::unique_ptr<Store> store, Hold hold, VaultOptions options = test_vault_options()) {
    Store& own = *store;
    auto main_store = std::make_unique<HookedStore>(std::move(store));
    HookedStore& hooks = *main_store;
    hooks.offer_reader([this, &own, hold]() -> result<std::unique_ptr<Store>> {
      auto inner = own.open_reader();
      if (!inner) return std::move(inner).err();
      if (!*inner) return std::unique_ptr<Store>();
      auto reader = std::make_unique<HookedStore>(std::move(*inner));
      if (hold == Hold::customer_reads)
        reader->on_read_customer([this] { meet(); });
      else
        reader->on_get_meta([this] { meet(); });
      std::lock_guard lk(mu);
      ++readers_opened;
      return std::unique_ptr<Store>(std::move(reader));
    });
    vault.emplace(must(Vault::open_in(
        std::move(main_store), std::make_shared<PassphraseKeyProvider>(kTestPassphrase, KdfStrength::minimum),
        std::move(options))));
    if (hold == Hold::customer_reads)
      hooks.on_read_customer([this] { ++main_reads; });
    else
      hooks.on_get_meta([this] { ++main_reads; });
  }

  /// meet holds the calling reader until another is inside too (or five seconds have passed).
  void meet() {
    std::unique_lock lk(mu);
    ++inside;
    most_inside = std::max(most_inside, inside);
    cv.notify_all();
    cv.wait_for(lk, std::chrono::seconds(5), [&] { return most_inside >= 2; });
    --inside;
  }

  std::mutex mu;
  std::condition_variable cv;
  int inside = 0, most_inside = 0, readers_opened = 0;  // mu held
  std::atomic<int> main_reads{0};
  std::optional<Vault> vault;
};

}  // namespace consentry::test
