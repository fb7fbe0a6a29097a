// vault_keys_test.cpp: the vault's master key: wrong secrets refused without writing, passphrase
// changes that leave data keys alone, key-file vaults, rotation that survives SIGKILL, and
// retirement closing the erasure window of backups.
#include <doctest/doctest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "consentry/extension/store.hpp"
#include "consentry/vault.hpp"
#include "support/files.hpp"
#include "support/retail_policy.hpp"
#include "support/temp_dir.hpp"
#include "support/vault_options.hpp"

using namespace consentry;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kNewPass = "a new passphrase nobody wrote down";  // a second one, for changes

using consentry::test::TempDir;

std::shared_ptr<KeyProvider> passphrase(std::string_view p = test::kTestPassphrase) {
  return std::make_shared<PassphraseKeyProvider>(p, KdfStrength::minimum);
}

std::shared_ptr<KeyProvider> key_file(const fs::path& file) {
  auto p = KeyFileKeyProvider::open(file);
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  return std::move(p).value();
}

std::shared_ptr<KeyProvider> new_key_file(const fs::path& file) {
  auto p = KeyFileKeyProvider::create(file);
  REQUIRE_MESSAGE(p.ok(), p.err().message);
  return std::move(p).value();
}

Vault must(result<Vault> v) {
  REQUIRE_MESSAGE(v.ok(), v.err().message);
  return std::move(v).value();
}

std::string email_of(const std::string& customer) {
  return customer + "@example.com";
}

std::string customer_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "C-%05d", i);
  return id;
}

void put_customers(Vault& v, int n) {
  std::vector<Record> records;
  for (int i = 0; i < n; ++i) {
    Record r;
    r.customer = customer_id(i);
    r.fields.emplace_back("email", email_of(r.customer));
    records.push_back(std::move(r));
  }
  auto w = v.write(records);
  REQUIRE_MESSAGE(w.ok(), w.err().message);
}

/// read_email reads through the support desk; the error code's name when refused.
std::string read_email(const Vault& v, const std::string& customer) {
  auto a = v.accessor("support-desk");
  REQUIRE(a.ok());
  auto view = a->view(customer, "service");
  if (!view) return std::string(to_string(view.err().code));
  auto r = view->get("email");
  if (!r) return std::string(to_string(r.err().code));
  return r->value;
}

void check_all_readable(const Vault& v, int n) {
  int bad = 0;
  for (int i = 0; i < n; ++i) {
    const std::string c = customer_id(i);
    if (read_email(v, c) != email_of(c)) ++bad;
  }
  CHECK(bad == 0);
}

using consentry::test::file_bytes;

/// query runs `sql` on a vault file and returns the rows, columns joined by '|'.
std::vector<std::string> query(const fs::path& file, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  std::vector<std::string> rows;
  char* err = nullptr;
  auto collect = [](void* out, int n, char** values, char**) {
    std::string row;
    for (int i = 0; i < n; ++i) row += std::string(i ? "|" : "") + (values[i] ? values[i] : "NULL");
    static_cast<std::vector<std::string>*>(out)->push_back(row);
    return 0;
  };
  const int rc = sqlite3_exec(db, sql.c_str(), collect, &rows, &err);
  const std::string message = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE_MESSAGE(rc == SQLITE_OK, message);
  return rows;
}

std::vector<std::string> data_key_rows(const fs::path& file) {
  return query(file, "SELECT customer, version, hex(wrapped) FROM data_keys ORDER BY customer");
}

int key_rotation_entries(const Vault& v) {
  auto entries = v.audit_entries();
  REQUIRE(entries.ok());
  int n = 0;
  for (const AuditEntry& e : *entries) n += e.action == AuditAction::key_rotation;
  return n;
}

/// check_consistent checks what must hold at every moment: each of the `total` data key rows
/// names a live version, and the value of each of the first `n` customers opens.
void check_consistent(const Vault& v, int n, std::int64_t total_keys) {
  auto status = v.master_key_status();
  REQUIRE(status.ok());
  std::int64_t total = 0;
  for (const auto& [held_version, count] : status->data_keys) {
    const auto version = held_version;  // CAPTURE cannot name a structured binding in clang 14
    CAPTURE(version);
    CHECK(std::find(status->versions.begin(), status->versions.end(), version) != status->versions.end());
    total += count;
  }
  CHECK(total == total_keys);
  check_all_readable(v, n);
}

}  // namespace

TEST_CASE("a wrong passphrase is refused with integrity and the vault file is left as it was") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    Vault v =
        must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    put_customers(v, 3);
    // Three live versions: a wrong passphrase must still be refused at the first.
    REQUIRE(v.rotate_master_key().ok());
    REQUIRE(v.rotate_master_key().ok());
  }
  const std::string main_before = file_bytes(file);
  const std::string wal_before = file_bytes(file.string() + "-wal");
  const auto started = std::chrono::steady_clock::now();
  auto r = Vault::open(file, "correct horse battery stapler", test::test_vault_options());
  const auto took = std::chrono::steady_clock::now() - started;
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().code == errc::integrity);
  CHECK(r.err().message == "wrong passphrase or damaged master key");
  CHECK(r.err().message.find(test::kTestPassphrase) == std::string::npos);
  // One Argon2id run at minimum strength, not one per version: far below a second.
  CHECK(took < std::chrono::seconds(1));
  CHECK(file_bytes(file) == main_before);
  CHECK(file_bytes(file.string() + "-wal") == wal_before);
  CHECK(Vault::open(file, "", test::test_vault_options()).err().code == errc::invalid_argument);

  Vault v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
  check_all_readable(v, 3);
  // The refused open left no audit entry and no checkpoint: the log is what the writes made.
  CHECK(key_rotation_entries(v) == 2);
}

TEST_CASE("changing the passphrase re-seals the master key and leaves every data key row as it was") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    Vault v =
        must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    put_customers(v, 20);
  }
  const auto keys_before = data_key_rows(file);
  const auto sealed_before = query(file, "SELECT hex(value) FROM meta WHERE key = 'master.sealed.1'");
  REQUIRE(keys_before.size() == 20);
  {
    Vault v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
    CHECK(v.change_passphrase("").err().code == errc::invalid_argument);
    REQUIRE(v.change_passphrase(kNewPass).ok());
    check_all_readable(v, 20);
    CHECK(key_rotation_entries(v) == 1);
  }
  CHECK(data_key_rows(file) == keys_before);
  CHECK(query(file, "SELECT hex(value) FROM meta WHERE key = 'master.sealed.1'") != sealed_before);
  auto old = Vault::open(file, test::kTestPassphrase, test::test_vault_options());
  REQUIRE_FALSE(old.ok());
  CHECK(old.err().code == errc::integrity);
  Vault v = must(Vault::open(file, kNewPass, test::test_vault_options()));
  check_all_readable(v, 20);
}

TEST_CASE("a tampered sealed master key, root or key metadata is refused at open") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  {
    Vault v =
        must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    put_customers(v, 2);
    REQUIRE(v.rotate_master_key().ok());
  }
  const fs::path pristine = dir.path() / "pristine.vault";
  fs::copy_file(file, pristine);
  const std::pair<const char*, const char*> tamperings[] = {
      {"sealed version 2", "UPDATE meta SET value = zeroblob(length(value)) WHERE key = 'master.sealed.2'"},
      {"sealed version 1",
       "UPDATE meta SET value = substr(value, 1, length(value) - 1) WHERE key = 'master.sealed.1'"},
      {"swapped versions",
       "UPDATE meta SET value = (SELECT value FROM meta WHERE key = 'master.sealed.1') "
       "WHERE key = 'master.sealed.2'"},
      {"missing version", "DELETE FROM meta WHERE key = 'master.sealed.1'"},
      {"root", "UPDATE meta SET value = zeroblob(length(value)) WHERE key = 'root.sealed'"},
      {"root version", "UPDATE meta SET value = CAST('1' AS BLOB) WHERE key = 'root.version'"},
      {"current", "UPDATE meta SET value = CAST('1' AS BLOB) WHERE key = 'master.current'"},
      {"versions list", "UPDATE meta SET value = CAST('2,1' AS BLOB) WHERE key = 'master.versions'"},
      {"provider kind", "UPDATE meta SET value = CAST('key-file' AS BLOB) WHERE key = 'keys.provider'"},
  };
  for (const auto& [tampering, sql] : tamperings) {
    const auto& what = tampering;  // CAPTURE cannot name a structured binding in clang 14
    CAPTURE(what);
    fs::remove(file);
    fs::copy_file(pristine, file);
    query(file, sql);
    auto r = Vault::open(file, test::kTestPassphrase, test::test_vault_options());
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().code == errc::integrity);
  }
}

TEST_CASE("a key-file vault opens only with its own key file, which must be 0600") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path key = dir.path() / "crm.key";
  {
    Vault v = must(Vault::create(file, test::retail_policy(), new_key_file(key), test::test_vault_options()));
    put_customers(v, 3);
  }
  // The vault file alone holds nothing that opens it.
  CHECK(file_bytes(file).find(file_bytes(key).substr(23, 64)) == std::string::npos);
  {
    Vault v = must(Vault::open(file, key_file(key), test::test_vault_options()));
    check_all_readable(v, 3);
    auto status = v.master_key_status();
    REQUIRE(status.ok());
    CHECK(status->provider == "key-file");
  }
  const fs::path other_key = dir.path() / "other.key";
  {
    Vault other = must(Vault::create(dir.path() / "other.vault", test::retail_policy(),
                                     new_key_file(other_key), test::test_vault_options()));
  }
  auto wrong = Vault::open(file, key_file(other_key), test::test_vault_options());
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.err().code == errc::integrity);

  auto with_passphrase = Vault::open(file, test::kTestPassphrase, test::test_vault_options());
  REQUIRE_FALSE(with_passphrase.ok());
  CHECK(with_passphrase.err().code == errc::integrity);
  CHECK(with_passphrase.err().message.find("'key-file'") != std::string::npos);

  fs::permissions(key, fs::perms::group_read, fs::perm_options::add);
  auto loose = KeyFileKeyProvider::open(key);
  REQUIRE_FALSE(loose.ok());
  CHECK(loose.err().code == errc::invalid_argument);
}

TEST_CASE("rotation re-wraps every data key under a new version and is audited") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  Vault v =
      must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
  put_customers(v, 50);
  const auto keys_before = data_key_rows(file);
  RotationOptions options;
  options.batch = 7;
  std::vector<std::int64_t> progress;
  options.on_batch = [&](std::int64_t n) { progress.push_back(n); };
  auto report = v.rotate_master_key(options);
  REQUIRE_MESSAGE(report.ok(), report.err().message);
  CHECK(report->version == 2);
  CHECK(report->rewrapped == 50);
  CHECK(report->complete);
  CHECK_FALSE(report->resumed);
  CHECK(progress.size() == 8);  // ceil(50 / 7)
  auto status = v.master_key_status();
  REQUIRE(status.ok());
  CHECK(status->current == 2);
  CHECK(status->versions == std::vector<std::uint32_t>{1, 2});
  CHECK(status->data_keys == std::vector<std::pair<std::uint32_t, std::int64_t>>{{2, 50}});
  CHECK_FALSE(status->rotating);
  check_all_readable(v, 50);
  const auto keys_after = data_key_rows(file);
  for (std::size_t i = 0; i < keys_after.size(); ++i) CHECK(keys_after[i] != keys_before[i]);

  auto entries = v.audit_entries();
  REQUIRE(entries.ok());
  auto rotation = std::find_if(entries->begin(), entries->end(),
                               [](const AuditEntry& e) { return e.action == AuditAction::key_rotation; });
  REQUIRE(rotation != entries->end());
  CHECK(rotation->accessor == "library");
  CHECK(rotation->customer.empty());
  CHECK(rotation->reason.find("version 2") != std::string::npos);
  CHECK(key_rotation_entries(v) == 1);
  CHECK(v.verify_audit().ok());

  // New writes go under the new version.
  REQUIRE(v.put("C-NEW", "email", "new@example.com").ok());
  CHECK(query(file, "SELECT version FROM data_keys WHERE customer = 'C-NEW'") ==
        std::vector<std::string>{"2"});
  CHECK(v.rotate_master_key(RotationOptions{0, 0, {}}).err().code == errc::invalid_argument);
}

TEST_CASE("a rotation stopped part-way keeps every key readable and resumes where it stopped") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path key = dir.path() / "crm.key";
  {
    Vault v = must(Vault::create(file, test::retail_policy(), new_key_file(key), test::test_vault_options()));
    put_customers(v, 40);
    RotationOptions options;
    options.batch = 10;
    options.max_batches = 2;
    auto report = v.rotate_master_key(options);
    REQUIRE(report.ok());
    CHECK_FALSE(report->complete);
    CHECK(report->rewrapped == 20);
    auto status = v.master_key_status();
    REQUIRE(status.ok());
    CHECK(status->rotating);
    CHECK(status->data_keys == std::vector<std::pair<std::uint32_t, std::int64_t>>{{1, 20}, {2, 20}});
    check_all_readable(v, 40);
    // A key written mid-rotation is wrapped under the new version.
    REQUIRE(v.put("C-00000a", "email", "mid@example.com").ok());
    CHECK(v.retire_master_keys().err().code == errc::invalid_argument);
  }
  Vault v = must(Vault::open(file, key_file(key), test::test_vault_options()));
  check_consistent(v, 40, 41);
  CHECK(read_email(v, "C-00000a") == "mid@example.com");
  auto report = v.rotate_master_key();
  REQUIRE(report.ok());
  CHECK(report->resumed);
  CHECK(report->complete);
  CHECK(report->version == 2);
  CHECK(report->rewrapped == 20);
  auto status = v.master_key_status();
  REQUIRE(status.ok());
  CHECK(status->data_keys == std::vector<std::pair<std::uint32_t, std::int64_t>>{{2, 41}});
  CHECK_FALSE(status->rotating);
  CHECK(key_rotation_entries(v) == 1);
}

TEST_CASE("a rotation killed with SIGKILL at any moment leaves every key readable and resumes") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path key = dir.path() / "crm.key";
  constexpr int kCustomers = 2000;
  constexpr std::size_t kBatch = 25;
  {
    Vault v = must(Vault::create(file, test::retail_policy(), new_key_file(key), test::test_vault_options()));
    put_customers(v, kCustomers);
  }
  // kill_after: how many batches the child reports before the parent kills it; the extra delay
  // lets the kill land inside the next batch's transaction rather than between two. 0 batches
  // kills it while it starts the rotation (saving the key file, adding the version).
  const std::pair<int, int> kill_points[] = {{0, 0}, {1, 0}, {3, 300}, {30, 0}, {0, 3000}};
  int completed_rotations = 0;
  std::int64_t rewrapped_by_kills = 0;
  for (const auto& [batches, delay] : kill_points) {
    const int kill_after = batches;  // CAPTURE cannot name a structured binding in clang 14
    const int delay_us = delay;
    CAPTURE(kill_after);
    CAPTURE(delay_us);
    int pipe_fds[2];
    REQUIRE(::pipe(pipe_fds) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(pipe_fds[0]);
      int code = 0;
      {
        auto provider = KeyFileKeyProvider::open(key);
        if (!provider) ::_exit(10);
        auto v = Vault::open(file, std::move(*provider), test::test_vault_options());
        if (!v) ::_exit(11);
        RotationOptions options;
        options.batch = kBatch;
        options.on_batch = [&](std::int64_t) { (void)!::write(pipe_fds[1], "b", 1); };
        auto report = v->rotate_master_key(options);
        code = report ? 0 : 12;
      }
      ::_exit(code);
    }
    ::close(pipe_fds[1]);
    char c = 0;
    int seen = 0;
    while (seen < kill_after && ::read(pipe_fds[0], &c, 1) == 1) ++seen;
    if (delay_us > 0) ::usleep(static_cast<useconds_t>(delay_us));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    ::close(pipe_fds[0]);
    // Either the kill landed, or the child had already finished cleanly.
    CHECK((WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0)));

    Vault v = must(Vault::open(file, key_file(key), test::test_vault_options(AuditMode::off)));
    check_consistent(v, kCustomers, kCustomers);
    auto before = v.master_key_status();
    REQUIRE(before.ok());
    std::int64_t behind = 0;
    for (const auto& [version, count] : before->data_keys)
      if (version != before->current) behind += count;
    if (before->rotating) rewrapped_by_kills += kCustomers - behind;

    auto report = v.rotate_master_key(RotationOptions{kBatch, 0, {}});
    REQUIRE_MESSAGE(report.ok(), report.err().message);
    CHECK(report->complete);
    if (report->resumed) {
      // Resumed, not redone: only the keys still behind were re-wrapped.
      CHECK(report->version == before->current);
      CHECK(report->rewrapped == behind);
    } else {
      CHECK(report->rewrapped == kCustomers);
    }
    ++completed_rotations;
    auto after = v.master_key_status();
    REQUIRE(after.ok());
    CHECK_FALSE(after->rotating);
    CHECK(after->data_keys ==
          std::vector<std::pair<std::uint32_t, std::int64_t>>{{after->current, kCustomers}});
    check_all_readable(v, kCustomers);
  }
  // At least some kills landed mid-way (otherwise the test proved nothing about resuming).
  CHECK(rewrapped_by_kills > 0);

  // After all that, retiring leaves one version, and the key file holds only its material.
  Vault v = must(Vault::open(file, key_file(key), test::test_vault_options()));
  auto retired = v.retire_master_keys();
  REQUIRE_MESSAGE(retired.ok(), retired.err().message);
  auto status = v.master_key_status();
  REQUIRE(status.ok());
  CHECK(status->versions == std::vector<std::uint32_t>{status->current});
  auto provider = KeyFileKeyProvider::open(key);
  REQUIRE(provider.ok());
  CHECK((*provider)->versions() == std::vector<std::uint32_t>{status->current});
  check_all_readable(v, kCustomers);
}

TEST_CASE("after erase and rotate --retire, a backup taken before the erasure opens for nobody") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path key = dir.path() / "crm.key";
  const fs::path backup = dir.path() / "before-erasure.vault";
  Vault v = must(Vault::create(file, test::retail_policy(), new_key_file(key), test::test_vault_options()));
  put_customers(v, 5);
  const std::string erased = customer_id(1);
  const std::string kept = customer_id(2);
  REQUIRE(v.backup(backup).ok());
  REQUIRE(v.erase(erased).ok());
  CHECK(read_email(v, erased) == "erased");

  // The window: until retirement, the backup and today's key file still reveal the erased customer.
  const fs::path window = dir.path() / "window.vault";
  fs::copy_file(backup, window);
  {
    Vault restored = must(Vault::open(window, key_file(key), test::test_vault_options()));
    CHECK(read_email(restored, erased) == email_of(erased));
  }

  REQUIRE(v.rotate_master_key().ok());
  auto retired = v.retire_master_keys();
  REQUIRE_MESSAGE(retired.ok(), retired.err().message);
  CHECK(*retired == std::vector<std::uint32_t>{1});
  CHECK(read_email(v, kept) == email_of(kept));
  CHECK(read_email(v, erased) == "erased");
  CHECK(query(file, "SELECT key FROM meta WHERE key LIKE 'master.sealed.%'") ==
        std::vector<std::string>{"master.sealed.2"});

  // Restoring the backup: it opens for nobody, the erased customer and everyone else alike.
  const fs::path restored_file = dir.path() / "restored.vault";
  fs::copy_file(backup, restored_file);
  auto restored = Vault::open(restored_file, key_file(key), test::test_vault_options());
  REQUIRE_FALSE(restored.ok());
  CHECK(restored.err().code == errc::integrity);
  // The key file holds no material for version 1 any more, which is what the backup needs.
  CHECK(std::static_pointer_cast<KeyFileKeyProvider>(key_file(key))->versions() ==
        std::vector<std::uint32_t>{2});
  CHECK(key_rotation_entries(v) == 2);
}

TEST_CASE("retiring under a passphrase needs a new one, the old one still opens old backups") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path backup = dir.path() / "backup.vault";
  Vault v =
      must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
  put_customers(v, 3);
  REQUIRE(v.backup(backup).ok());
  REQUIRE(v.rotate_master_key().ok());
  auto refused = v.retire_master_keys();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.err().code == errc::invalid_argument);
  CHECK(refused.err().message.find("new") != std::string::npos);

  auto retired = v.retire_master_keys(passphrase(kNewPass));
  REQUIRE_MESSAGE(retired.ok(), retired.err().message);
  CHECK(*retired == std::vector<std::uint32_t>{1});
  check_all_readable(v, 3);
  auto status = v.master_key_status();
  REQUIRE(status.ok());
  CHECK(status->versions == std::vector<std::uint32_t>{2});

  // The vault now opens only with the new passphrase; the backup only with the old one, which
  // is why docs/keys.md says the old passphrase must be forgotten.
  const fs::path copy = dir.path() / "copy.vault";
  REQUIRE(v.backup(copy).ok());
  CHECK(Vault::open(copy, test::kTestPassphrase, test::test_vault_options()).err().code == errc::integrity);
  CHECK(Vault::open(copy, kNewPass, test::test_vault_options()).ok());
  CHECK(Vault::open(backup, kNewPass, test::test_vault_options()).err().code == errc::integrity);
  CHECK(Vault::open(backup, test::kTestPassphrase, test::test_vault_options()).ok());
}

TEST_CASE("a vault moves from a passphrase to a key file without touching its data keys") {
  TempDir dir;
  const fs::path file = dir.path() / "crm.vault";
  const fs::path key = dir.path() / "crm.key";
  {
    Vault v =
        must(Vault::create(file, test::retail_policy(), test::kTestPassphrase, test::test_vault_options()));
    put_customers(v, 4);
  }
  const auto keys_before = data_key_rows(file);
  {
    Vault v = must(Vault::open(file, test::kTestPassphrase, test::test_vault_options()));
    REQUIRE(v.reseal_master_keys(new_key_file(key)).ok());
  }
  CHECK(data_key_rows(file) == keys_before);
  CHECK(Vault::open(file, test::kTestPassphrase, test::test_vault_options()).err().code == errc::integrity);
  {
    Vault v = must(Vault::open(file, key_file(key), test::test_vault_options()));
    check_all_readable(v, 4);
    // The vault keeps its provider: a rotation seals the new version into the key file.
    REQUIRE(v.rotate_master_key().ok());
  }
  Vault v = must(Vault::open(file, key_file(key), test::test_vault_options()));
  check_all_readable(v, 4);
  CHECK(std::static_pointer_cast<KeyFileKeyProvider>(key_file(key))->versions() ==
        std::vector<std::uint32_t>{1, 2});
}

TEST_CASE("vaults on the memory store take providers too") {
  auto v =
      Vault::create_in(make_memory_store(), test::retail_policy(), passphrase(), test::test_vault_options());
  REQUIRE(v.ok());
  put_customers(*v, 5);
  RotationOptions options;
  options.batch = 2;
  auto report = v->rotate_master_key(options);
  REQUIRE(report.ok());
  CHECK(report->rewrapped == 5);
  check_all_readable(*v, 5);
  CHECK(Vault::create_in(make_memory_store(), test::retail_policy(), std::shared_ptr<KeyProvider>(),
                         test::test_vault_options())
            .err()
            .code == errc::invalid_argument);
}
