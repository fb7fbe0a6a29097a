// options.cpp: vault and passphrase resolution, diagnostics, tables and JSON output.
#include "options.hpp"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <system_error>

#include "../src/report/text_table.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

/// wipe overwrites a string that held a secret before its memory is released.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = '\0';
  s.clear();
}

/// EchoOff turns terminal echo off for its lifetime.
class EchoOff {
 public:
  EchoOff() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
  }
  ~EchoOff() {
    if (active_) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios saved_{};
  bool active_ = false;
};

/// prompt_secret asks on stderr and reads one line from the terminal without echo.
SecretBytes prompt_secret(std::string_view prompt) {
  std::cerr << prompt << std::flush;
  std::string line;
  line.reserve(1024);  // one buffer, so no stray copy of the passphrase is left by a reallocation
  {
    EchoOff quiet;
    std::getline(std::cin, line);
  }
  std::cerr << '\n';
  if (!std::cin) {
    wipe(line);
    usage_failure("no passphrase: the terminal closed before one was entered");
  }
  SecretBytes secret = SecretBytes::copy_of(std::string_view(line));
  wipe(line);
  return secret;
}

}  // namespace

void print_error(std::string_view message) {
  std::cerr << "consentry: error: " << message << '\n' << std::flush;
}

void fail(const error& e) {
  print_error(e.message.empty() ? std::string(to_string(e.code)) : e.message);
  throw ExitRequest{exit_code(e.code)};
}

void fail(errc code, std::string message) {
  fail(make_error(code, std::move(message)));
}

void usage_failure(std::string_view message) {
  print_error(message);
  throw ExitRequest{kExitUsage};
}

std::filesystem::path vault_path(const GlobalOptions& global) {
  if (global.vault.empty()) usage_failure("no vault: pass --vault PATH or set CONSENTRY_VAULT");
  return global.vault;
}

SecretBytes read_passphrase(std::string_view prompt, bool confirm) {
  return read_secret("CONSENTRY_PASSPHRASE", prompt, confirm);
}

SecretBytes read_secret(const char* env, std::string_view prompt, bool confirm) {
  if (const char* value = std::getenv(env)) {
    verbose(std::string("passphrase from ") + env);
    return SecretBytes::copy_of(std::string_view(value));
  }
  if (!isatty(STDIN_FILENO)) usage_failure(std::string("no passphrase: set ") + env);
  verbose(std::string("passphrase from the terminal (") + env + " is not set)");
  SecretBytes first = prompt_secret(prompt);
  if (confirm) {
    SecretBytes again = prompt_secret("Repeat the passphrase: ");
    if (!first.equals(again)) usage_failure("the passphrases do not match");
  }
  return first;
}

VaultOptions cli_vault_options() {
  VaultOptions options;
  options.actor = "cli";
  return options;
}

std::string kdf_name(KdfStrength strength) {
  for (const auto& [name, s] : kdf_strengths()) {
    if (s == strength) return name;
  }
  return "unknown";
}

const std::map<std::string, KdfStrength>& kdf_strengths() {
  static const std::map<std::string, KdfStrength> strengths = {
      {"minimum", KdfStrength::minimum},
      {"interactive", KdfStrength::interactive},
      {"moderate", KdfStrength::moderate},
      {"sensitive", KdfStrength::sensitive},
  };
  return strengths;
}

std::shared_ptr<KeyProvider> key_provider(const GlobalOptions& global, bool create, KdfStrength strength) {
  if (!global.key_file.empty()) {
    verbose((create ? "creating key file " : "reading key file ") + global.key_file);
    auto provider = unwrap(create ? KeyFileKeyProvider::create(global.key_file)
                                  : KeyFileKeyProvider::open(global.key_file));
    verbose(
        (create ? "the master key will be sealed by key file " : "the master key is sealed by key file ") +
        global.key_file);
    return provider;
  }
  const std::string path = vault_path(global).string();
  if (create) {
    verbose("the master key will be sealed by a passphrase: Argon2id, strength '" + kdf_name(strength) + "'");
  } else {
    verbose("the master key is sealed by a passphrase: Argon2id, with the limits stored in the vault");
  }
  SecretBytes passphrase = create ? read_passphrase("New passphrase for " + path + ": ", true)
                                  : read_passphrase("Passphrase for " + path + ": ", false);
  return std::make_shared<PassphraseKeyProvider>(passphrase.reveal_string(), strength);
}

Vault open_vault(const GlobalOptions& global) {
  std::filesystem::path path = vault_path(global);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(errc::not_found, "no vault at " + path.string());
  if (verbose_enabled()) {
    const auto size = std::filesystem::file_size(path, ec);
    verbose("opening vault " + path.string() +
            (ec ? std::string() : " (" + std::to_string(size) + " bytes)"));
  }
  auto provider = key_provider(global, false);
  verbose("unlocking the master key");
  Stopwatch clock;
  Vault vault = unwrap(Vault::open(path, std::move(provider), cli_vault_options()));
  verbose("unlocked and opened in " + clock.elapsed() + "; policy format " +
          std::to_string(Policy::kFormatVersion) + ": " + counts_of(vault.policy()));
  return vault;
}

void verbose_audit(const Vault& vault, std::string_view customer) {
  if (!verbose_enabled()) return;
  result<std::vector<AuditEntry>> entries = vault.audit_entries(customer);
  if (!entries) {
    verbose("audit log: entries about " + std::string(customer) +
            " cannot be read: " + entries.err().message);
    return;
  }
  if (entries->empty()) {
    verbose("audit log: no entries about " + std::string(customer));
    return;
  }
  verbose("audit log: " + counted(static_cast<std::int64_t>(entries->size()), "entry", "entries") +
          " about " + std::string(customer) + ", the last at seq " + std::to_string(entries->back().seq));
}

void Table::print(std::ostream& out) const {
  using report_detail::display_width;
  std::vector<std::vector<std::string>> rows;
  rows.reserve(rows_.size());
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    std::vector<std::string>& safe = rows.emplace_back();
    for (const std::string& cell : row) safe.push_back(report_detail::terminal_safe(cell));
    if (widths.size() < safe.size()) widths.resize(safe.size(), 0);
    for (std::size_t i = 0; i < safe.size(); ++i) widths[i] = std::max(widths[i], display_width(safe[i]));
  }
  for (const auto& row : rows) {
    std::string line = indent_;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - display_width(row[i]) + 2, ' ');
    }
    out << line << '\n';
  }
}

void print_json(const nlohmann::ordered_json& j) {
  const std::string text = j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  // The dump is valid UTF-8 with the C0 controls escaped; DEL and the C1 controls (U+0080 to
  // U+009F, which some terminals obey) are escaped too. They occur only inside strings, whose
  // values stay exactly what they were.
  std::string out;
  out.reserve(text.size() + 1);
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c == 0x7f || c1) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c1 ? static_cast<unsigned char>(text[++i]) : c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  std::cout << out << '\n';
}

std::string counts_of(const Policy& policy) {
  return std::to_string(policy.purposes().size()) + " purposes, " +
         std::to_string(policy.accessors().size()) + " accessors, " + std::to_string(policy.fields().size()) +
         " fields";
}

}  // namespace consentry::cli
