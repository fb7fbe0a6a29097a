// command_ff1.cpp: `consentry ff1 encrypt|decrypt`, FF1 format-preserving encryption of one value
// per line of stdin. Needs no vault.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../src/text/hex.hpp"
#include "commands.hpp"
#include "consentry/anonymise/ff1.hpp"
#include "exit.hpp"
#include "verbose.hpp"

namespace consentry::cli {

namespace {

struct Ff1Options {
  std::string key_hex;
  std::string key_file;
  std::string tweak_hex;
  std::uint32_t radix = 0;
  std::string alphabet;
  CLI::Option* radix_option = nullptr;
  CLI::Option* alphabet_option = nullptr;
};

/// wipe overwrites the characters of `s` (hex of a key) before the string is released.
void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

/// trim_space drops leading and trailing white space (a key file usually ends in a newline).
std::string_view trim_space(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

/// kMaxKeyFileBytes bounds a key file: 64 hex digits and white space need far less.
constexpr std::size_t kMaxKeyFileBytes = 4096;

/// read_key_file returns the text of `file`, a regular file of at most kMaxKeyFileBytes; anything
/// else (a directory, a device, a pipe, a larger file) is bad input naming the file.
std::string read_key_file(const std::string& file) {
  // O_NONBLOCK: opening a pipe with no writer must not hang before it can be refused.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) fail(errc::io, "cannot read the key file " + file);
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail(errc::io, "cannot read the key file " + file);
  if (!S_ISREG(st.st_mode)) fail(errc::bad_input, "the key file " + file + " is not a regular file");
  std::string text;
  text.reserve(kMaxKeyFileBytes + 1);  // one buffer: no stray copy of the key is left by a reallocation
  char buf[512];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() + static_cast<std::size_t>(n) > kMaxKeyFileBytes) {
      volatile char* p = buf;
      for (std::size_t i = 0; i < sizeof buf; ++i) p[i] = 0;
      if (n == 0) break;
      wipe(text);
      if (n < 0) fail(errc::io, "cannot read the key file " + file);
      fail(errc::bad_input, "the key file " + file + " is larger than 4 KiB: it should hold one key as hex");
    }
    text.append(buf, static_cast<std::size_t>(n));
  }
  return text;
}

SecretBytes read_key(Ff1Options& options) {
  std::string hex;
  std::string what = "--key";
  if (!options.key_file.empty()) {
    what = "--key-file " + options.key_file;
    hex = read_key_file(options.key_file);
  } else {
    hex = std::move(options.key_hex);
  }
  const std::string_view trimmed = trim_space(hex);
  SecretBytes key(trimmed.size() / 2);
  auto decoded = detail::hex_decode(trimmed, key.reveal(), what);
  wipe(hex);
  wipe(options.key_hex);
  if (!decoded) fail(decoded.err());
  if (key.size() != 16 && key.size() != 24 && key.size() != 32)
    fail(errc::bad_input, what + " is " + std::to_string(key.size()) +
                              " bytes; an AES key is 16, 24 or 32 bytes (32, 48 or 64 hex digits)");
  return key;
}

/// kPlainDigits are the characters of a plain value, numeral 0 first; radix R uses the first R.
constexpr std::string_view kPlainDigits = "0123456789abcdefghijklmnopqrstuvwxyz";
/// kMaxPlainRadix is the largest radix whose values may be written plainly.
constexpr std::uint32_t kMaxPlainRadix = 36;

/// parse_numerals reads "3 0 17" (decimal numerals separated by single spaces) into digits.
result<std::vector<std::uint32_t>> parse_numerals(std::string_view line) {
  std::vector<std::uint32_t> digits;
  if (line.empty()) return digits;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = std::min(line.find(' ', start), line.size());
    const std::string_view token = line.substr(start, end - start);
    std::uint32_t value = 0;
    const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    const bool digits_only =
        !token.empty() && token.find_first_not_of("0123456789") == std::string_view::npos;
    if (!digits_only || ptr != token.data() + token.size())
      return make_error(errc::bad_input,
                        "numeral " + std::to_string(digits.size() + 1) +
                            " is not a decimal number (numerals are separated by single spaces)");
    if (ec != std::errc{})
      return make_error(errc::bad_input, "numeral " + std::to_string(digits.size() + 1) + " is out of range");
    digits.push_back(value);
    if (end == line.size()) break;
    start = end + 1;
  }
  return digits;
}

std::string format_numerals(const std::vector<std::uint32_t>& digits) {
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out += std::to_string(digits[i]);
  }
  return out;
}

/// kMaxValueLineBytes bounds a line of stdin: a value has at most 4096 numerals, which as decimal
/// numerals of radix 65536 take under 24 KiB and as UTF-8 characters under 16 KiB.
constexpr std::size_t kMaxValueLineBytes = 64 * 1024;

enum class LineRead { line, end, too_long };

/// read_value_line reads one line of `in` into `line` (without its '\n'), holding no more than
/// kMaxValueLineBytes: a longer line is reported as too_long once that many bytes are read, so an
/// endless line (/dev/zero) costs no more memory than the bound.
LineRead read_value_line(std::istream& in, std::string& line) {
  line.clear();
  std::streambuf* buf = in.rdbuf();
  if (buf == nullptr || !in.good()) return LineRead::end;
  for (;;) {
    const int c = buf->sbumpc();
    if (c == std::char_traits<char>::eof()) {
      in.setstate(std::ios::eofbit);
      return line.empty() ? LineRead::end : LineRead::line;
    }
    if (c == '\n') return LineRead::line;
    if (line.size() == kMaxValueLineBytes) return LineRead::too_long;
    line.push_back(static_cast<char>(c));
  }
}

int run_ff1(Ff1Options& options, bool decrypt) {
  const bool by_radix = options.radix_option->count() > 0;
  if (by_radix == (options.alphabet_option->count() > 0))
    usage_failure("give exactly one of --radix and --alphabet");
  if (options.key_hex.empty() == options.key_file.empty())
    usage_failure("give exactly one of --key and --key-file");

  const SecretBytes key = read_key(options);
  const std::string_view tweak_hex = options.tweak_hex;
  std::vector<std::uint8_t> tweak(tweak_hex.size() / 2);
  unwrap(detail::hex_decode(tweak_hex, tweak, "--tweak"));
  if (tweak.size() > kFf1MaxTweakBytes)
    fail(errc::bad_input, "--tweak is " + std::to_string(tweak.size()) + " bytes; at most " +
                              std::to_string(kFf1MaxTweakBytes) + " are accepted");

  std::optional<Ff1Alphabet> alphabet;
  if (!by_radix) {
    auto parsed = Ff1Alphabet::parse(options.alphabet);
    if (!parsed) fail(errc::bad_input, "--alphabet: " + parsed.err().message);
    alphabet = std::move(parsed).value();
  }
  const std::uint32_t radix = alphabet ? alphabet->radix() : options.radix;
  // Up to radix 36 a value may also be written plainly, one character per numeral: digits, then
  // lower-case letters ("4111111111111111" for radix 10). Such a value needs at least two
  // characters (radix^length >= 1000000), so it is never a single numeral.
  std::optional<Ff1Alphabet> plain;
  if (!alphabet && radix >= 2 && radix <= kMaxPlainRadix) {
    auto parsed = Ff1Alphabet::parse(std::string_view(kPlainDigits).substr(0, radix));
    if (parsed) plain = std::move(parsed).value();
  }
  auto created = Ff1::create(key, radix);
  if (!created) fail(errc::bad_input, created.err().message);
  const Ff1 ff1 = std::move(created).value();
  verbose(std::string(decrypt ? "decrypting" : "encrypting") + " with FF1, radix " + std::to_string(radix) +
          ", AES-" + std::to_string(key.size() * 8) + ", " +
          counted(static_cast<std::int64_t>(tweak.size()), "tweak byte", "tweak bytes"));

  Stopwatch clock;
  std::size_t line_no = 0, rejected = 0;
  std::string line;
  line.reserve(kMaxValueLineBytes + 1);  // one buffer: no stray copy of a value is left behind
  std::string out;
  for (;;) {
    const LineRead got = read_value_line(std::cin, line);
    if (got == LineRead::end) break;
    ++line_no;
    if (got == LineRead::too_long) {
      wipe(line);
      std::cout.flush();
      fail(errc::bad_input, "stdin line " + std::to_string(line_no) +
                                " is longer than 64 KiB: a value has at most 4096 numerals");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const Ff1Alphabet* letters = alphabet ? &*alphabet : nullptr;
    if (!letters && plain && line.size() > 1 && line.find(' ') == std::string::npos) letters = &*plain;
    auto done = letters ? letters->digits(line) : parse_numerals(line);
    if (done) done = decrypt ? ff1.decrypt(*done, tweak) : ff1.encrypt(*done, tweak);
    if (done) {
      out = letters ? letters->text(*done) : format_numerals(*done);
    } else {
      ++rejected;
      out = "error: line " + std::to_string(line_no) + ": " + done.err().message;
    }
    wipe(line);
    out.push_back('\n');
    std::cout << out;
    wipe(out);
  }
  std::cout.flush();
  verbose(counted(static_cast<std::int64_t>(line_no), "value", "values") + " in " + clock.elapsed() + ", " +
          std::to_string(rejected) + " rejected");
  if (rejected > 0) {
    print_error(counted(static_cast<std::int64_t>(rejected), "value was", "values were") +
                " rejected (see the error lines)");
    return exit_code(errc::bad_input);
  }
  return kExitOk;
}

void add_ff1_subcommand(CLI::App& parent, Commands& commands, bool decrypt) {
  auto options = std::make_shared<Ff1Options>();
  CLI::App* app = parent.add_subcommand(
      decrypt ? "decrypt" : "encrypt",
      decrypt ? "Decrypt FF1 tokens, one per line of stdin, to one value per line of stdout"
              : "Encrypt values with FF1, one per line of stdin, to one token per line of stdout");
  app->add_option("--key", options->key_hex,
                  "AES key as hex: 32, 48 or 64 hex digits (AES-128/192/256). A key on the command line is "
                  "visible to other users in the process list: prefer --key-file");
  app->add_option("--key-file", options->key_file,
                  "A regular file holding the AES key as hex (white space around it is ignored)");
  app->add_option("--tweak", options->tweak_hex,
                  "The tweak as hex, 0 to 256 bytes (default: empty). Use the same tweak to decrypt");
  options->radix_option = app->add_option(
      "--radix", options->radix,
      "Values are numerals of this radix (2..65536), written as decimal numbers separated by single "
      "spaces: '0 1 2 3 4 5'. Up to radix 36 a value may also be written plainly, one character per "
      "numeral, digits then lower-case letters: '4111111111111111' (radix 10), '3f9a' (radix 16); the "
      "result is written the way the value was");
  options->alphabet_option = app->add_option(
      "--alphabet", options->alphabet,
      "Values are text over these characters (UTF-8, 2..65536 distinct); the radix is their count. "
      "Example: 0123456789");
  app->footer(
      "Each line of stdin is one value; each line of stdout is its result, or 'error: line N: <reason>' "
      "when the value is refused (the reason never quotes the value). Processing goes on after a refused "
      "value; the exit code is then 2. A value needs radix^length >= 1000000 and at most 4096 numerals; "
      "a line longer than 64 KiB ends the run with exit code 2. "
      "FF1 keeps the format but gives no integrity: a changed token decrypts to another value. "
      "No vault is used.");
  commands.push_back({app, [options, decrypt] { return run_ff1(*options, decrypt); }});
}

}  // namespace

void add_ff1_commands(CLI::App& root, const GlobalOptions&, Commands& commands) {
  CLI::App* ff1 =
      root.add_subcommand("ff1", "FF1 format-preserving encryption (NIST SP 800-38G) of stdin lines");
  ff1->require_subcommand(1);
  add_ff1_subcommand(*ff1, commands, false);
  add_ff1_subcommand(*ff1, commands, true);
}

}  // namespace consentry::cli
