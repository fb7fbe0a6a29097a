// generate_customers: writes synthetic customers as JSON Lines for `consentry import`.
//
//   generate_customers --count 300 [--seed 7] > customers.jsonl
//
// The output is a pure function of --count and --seed: the same arguments give the same bytes on
// every machine. Every customer has an e-mail address (at example.com or example.org), a birth
// date and a phone number in +44 7700 900000-900999, a range reserved for fiction. About a third
// get a second line with a credit score whose source is "credit-bureau", the only source the
// retail policy accepts for that field.

#include <array>
#include <charconv>
#include <cstdint>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "consentry/time.hpp"

namespace {

constexpr int kFirstCustomerNumber = 1001;
constexpr int kMaxCount = 1'000'000;

constexpr std::array<std::string_view, 24> kFirstNames = {
    "ann",   "bilal", "chen", "dara",  "eve",   "femi", "greta", "hugo",  "ines", "jonas",  "kiri", "lena",
    "malik", "nora",  "omar", "priya", "quinn", "rosa", "sami",  "tomas", "uma",  "viktor", "wren", "yusuf"};

constexpr std::array<std::string_view, 20> kLastNames = {
    "adeyemi", "brennan", "costa",  "dubois",   "evans",     "fischer", "garcia",
    "hughes",  "ivanova", "jensen", "kowalski", "lindqvist", "murphy",  "novak",
    "okafor",  "patel",   "rossi",  "schmidt",  "tanaka",    "walsh"};

constexpr std::array<std::string_view, 3> kSignupSources = {"web-signup", "store", "phone-order"};
constexpr std::array<std::string_view, 2> kDomains = {"example.com", "example.org"};

/// SplitMix64 is a small, fast, well-mixed generator; enough for synthetic data, not for keys.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  /// below returns a number in [0, n).
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  /// chance is true with probability percent / 100.
  bool chance(int percent) { return below(100) < static_cast<std::uint64_t>(percent); }

 private:
  std::uint64_t state_;
};

template <std::size_t N>
std::string_view pick(SplitMix64& rng, const std::array<std::string_view, N>& list) {
  return list[rng.below(N)];
}

std::string two_digits(unsigned v) {
  std::string s = std::to_string(v);
  return v < 10 ? "0" + s : s;
}

/// birth_date draws a date between 1940 and 2006, valid for every month.
std::string birth_date(SplitMix64& rng) {
  auto year = 1940 + static_cast<unsigned>(rng.below(67));
  auto month = 1 + static_cast<unsigned>(rng.below(12));
  auto day = 1 + static_cast<unsigned>(rng.below(28));
  return std::to_string(year) + "-" + two_digits(month) + "-" + two_digits(day);
}

/// collected_at draws an instant in the first half of 2025.
consentry::timestamp collected_at(SplitMix64& rng) {
  using namespace std::chrono;
  const sys_days start = year{2025} / January / 1;
  constexpr std::uint64_t kSpanSeconds = 181ULL * 24 * 3600;
  return time_point_cast<seconds>(start) + seconds(rng.below(kSpanSeconds));
}

bool parse_int(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

void usage(std::ostream& out) {
  out << "usage: generate_customers --count N [--seed S]\n"
         "Writes N synthetic customers (C-1001, C-1002, ...) as JSON Lines to stdout.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 0;
  std::uint64_t seed = 1;
  bool have_count = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(std::cout);
      return 0;
    }
    if ((arg == "--count" || arg == "--seed") && i + 1 < argc) {
      std::uint64_t v = 0;
      if (!parse_int(argv[++i], v)) {
        std::cerr << "generate_customers: " << arg << " needs a non-negative integer\n";
        return 1;
      }
      if (arg == "--count") {
        count = v;
        have_count = true;
      } else {
        seed = v;
      }
      continue;
    }
    std::cerr << "generate_customers: unexpected argument '" << arg << "'\n";
    usage(std::cerr);
    return 1;
  }
  if (!have_count || count > kMaxCount) {
    std::cerr << "generate_customers: --count N is required (at most " << kMaxCount << ")\n";
    usage(std::cerr);
    return 1;
  }

  SplitMix64 rng(seed);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::string id = "C-" + std::to_string(kFirstCustomerNumber + i);
    const std::string_view first = pick(rng, kFirstNames);
    const std::string_view last = pick(rng, kLastNames);
    const consentry::timestamp signed_up = collected_at(rng);

    nlohmann::ordered_json fields;
    fields["email"] = std::string(first) + "." + std::string(last) + "." +
                      std::to_string(kFirstCustomerNumber + i) + "@" + std::string(pick(rng, kDomains));
    fields["birth_date"] = birth_date(rng);
    fields["phone"] = "+44 7700 900" + std::to_string(100 + rng.below(900));

    nlohmann::ordered_json line;
    line["id"] = id;
    line["source"] = pick(rng, kSignupSources);
    line["collected_at"] = consentry::format_timestamp(signed_up);
    line["fields"] = std::move(fields);
    std::cout << line.dump() << '\n';

    if (rng.chance(33)) {
      nlohmann::ordered_json bureau;
      bureau["id"] = id;
      bureau["source"] = "credit-bureau";
      bureau["collected_at"] = consentry::format_timestamp(signed_up + std::chrono::days(1 + rng.below(30)));
      bureau["fields"] = {{"credit_score", 300 + rng.below(551)}};
      std::cout << bureau.dump() << '\n';
    }
  }
  std::cout.flush();
  return std::cout ? 0 : 1;
}
