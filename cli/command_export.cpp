// command_export.cpp: `consentry export`, the customer's "show my data" in JSON, HTML or CSV.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include "options.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct ExportOptions {
  std::string customer;
  std::string format = "json";
  std::string output;  ///< empty = stdout
};

/// PrivateFile is an export on its way to `file`, readable by its owner only (mode 0600): it
/// is the customer's data in clear. It is written to `file`.partial, which exists before the
/// export is gathered (so an unwritable place fails before anything is read or audited), and
/// renamed over `file` once complete; a failure removes it and leaves any earlier file as it was.
class PrivateFile {
 public:
  explicit PrivateFile(std::filesystem::path file)
      : file_(std::move(file)), partial_(file_.string() + ".partial") {
    fd_ = ::open(partial_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_ < 0) fail(errc::io, "cannot create " + partial_.string() + ": " + std::strerror(errno));
  }
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;
  ~PrivateFile() {
    if (fd_ >= 0) ::close(fd_);
    std::error_code ec;
    if (!done_) std::filesystem::remove(partial_, ec);
  }

  /// finish writes `text`, syncs it and renames it into place; a failure ends the command.
  void finish(const std::string& text) {
    std::size_t written = 0;
    while (written < text.size()) {
      const ssize_t n = ::write(fd_, text.data() + written, text.size() - written);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      written += static_cast<std::size_t>(n);
    }
    const bool synced = written == text.size() && ::fsync(fd_) == 0;
    const bool closed = ::close(fd_) == 0;
    fd_ = -1;
    std::error_code ec;
    if (!synced || !closed) fail(errc::io, "cannot write " + file_.string());
    std::filesystem::rename(partial_, file_, ec);
    if (ec) fail(errc::io, "cannot write " + file_.string());
    done_ = true;
  }

 private:
  std::filesystem::path file_, partial_;
  int fd_ = -1;
  bool done_ = false;
};

int run_export(const GlobalOptions& global, const ExportOptions& options) {
  std::optional<PrivateFile> file;
  if (!options.output.empty()) file.emplace(options.output);
  Vault vault = open_vault(global);
  verbose("gathering the export of " + options.customer + " as " + options.format);
  Stopwatch clock;
  // Unknown and erased customers both exit 5, with nothing written.
  SubjectReport report = unwrap(vault.export_subject(options.customer));
  const std::string text = options.format == "html"  ? export_html(report)
                           : options.format == "csv" ? export_csv(report)
                                                     : export_json(report);
  verbose(
      "exported " + counted(static_cast<std::int64_t>(report.fields.size()), "field", "fields") + ", " +
      counted(static_cast<std::int64_t>(report.consent_history.size()), "consent event", "consent events") +
      " and " + counted(static_cast<std::int64_t>(report.accesses.size()), "access", "accesses") + " in " +
      clock.elapsed());
  verbose_audit(vault, options.customer);
  if (options.output.empty()) {
    std::cout << text;
    std::cout.flush();
    if (!std::cout) fail(errc::io, "cannot write the export to stdout");
  } else {
    file->finish(text);
    std::cerr << "wrote the export of " << options.customer << " to " << options.output << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_export_command(CLI::App& root, const GlobalOptions& global, Commands& commands) {
  auto options = std::make_shared<ExportOptions>();
  CLI::App* app = root.add_subcommand(
      "export",
      "The customer's own copy of everything held about them: values, sources, purposes, consents and "
      "who accessed what (audited)");
  app->add_option("CUSTOMER", options->customer, "The customer id")->required();
  app->add_option("--format", options->format, "json (default), html (one self-contained page) or csv")
      ->check(CLI::IsMember({"json", "html", "csv"}));
  app->add_option("-o,--output", options->output,
                  "Write to this file (created with mode 0600) instead of stdout");
  commands.push_back({app, [&global, options] { return run_export(global, *options); }});
}

}  // namespace consentry::cli
