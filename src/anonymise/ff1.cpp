// ff1.cpp: FF1 (NIST SP 800-38G Rev. 1, section 5.2) with AES from OpenSSL, and FF1 alphabets.
//
// The PRF is CBC-MAC done by hand with single-block AES-ECB calls on a context keyed once. Its
// input is P || Q, where P and the whole blocks of Q made of the tweak and its zero padding are
// the same in all ten rounds: their CBC-MAC state is computed once per call, and each round only
// encrypts the blocks holding the round number and NUM_radix of the half.
#include "consentry/anonymise/ff1.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <mutex>
#include <string>
#include <utility>

#include "anonymise/ff1_numeral.hpp"
#include "text/utf8.hpp"

namespace consentry {
namespace {

using ff1_detail::Natural;
using ff1_detail::u128;

constexpr std::size_t kBlock = 16;
constexpr std::size_t kRounds = 10;
/// kMaxIdleContexts is how many spare cipher contexts an Ff1 keeps for concurrent callers.
constexpr std::size_t kMaxIdleContexts = 8;

/// Ff1State is what an Ff1 holds: the radix and the keyed AES-ECB contexts.
struct Ff1State {
  std::uint32_t radix = 0;
  std::size_t min_length = 0;
  /// powers[k] = radix^k for every k with radix^k <= 2^96 (the fast path's range).
  std::vector<u128> powers;
  /// prototype is keyed and never encrypts: new contexts are copies of it.
  EVP_CIPHER_CTX* prototype = nullptr;
  mutable std::mutex mu;
  mutable std::vector<EVP_CIPHER_CTX*> idle;

  Ff1State() = default;
  Ff1State(const Ff1State&) = delete;
  Ff1State& operator=(const Ff1State&) = delete;
  ~Ff1State() {
    // EVP_CIPHER_CTX_free cleanses the key schedule before it frees the memory.
    for (EVP_CIPHER_CTX* ctx : idle) EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_CTX_free(prototype);
  }
};

/// ContextLease takes a cipher context of the pool (or a new copy of the prototype) for one call
/// and gives it back after, so that concurrent calls never share one.
class ContextLease {
 public:
  explicit ContextLease(const Ff1State& state) : state_(state) {
    std::lock_guard lock(state_.mu);
    if (!state_.idle.empty()) {
      ctx_ = state_.idle.back();
      state_.idle.pop_back();
      return;
    }
    ctx_ = EVP_CIPHER_CTX_new();
    if (ctx_ && EVP_CIPHER_CTX_copy(ctx_, state_.prototype) != 1) {
      EVP_CIPHER_CTX_free(ctx_);
      ctx_ = nullptr;
    }
  }
  ~ContextLease() {
    if (!ctx_) return;
    std::lock_guard lock(state_.mu);
    if (state_.idle.size() < kMaxIdleContexts) {
      state_.idle.push_back(ctx_);
    } else {
      EVP_CIPHER_CTX_free(ctx_);
    }
  }
  ContextLease(const ContextLease&) = delete;
  ContextLease& operator=(const ContextLease&) = delete;
  EVP_CIPHER_CTX* get() const noexcept { return ctx_; }

 private:
  const Ff1State& state_;
  EVP_CIPHER_CTX* ctx_ = nullptr;
};

error openssl_failed() {
  return make_error(errc::internal, "OpenSSL failed to encrypt an AES block for FF1");
}

/// ecb encrypts `blocks` whole blocks from `in` to `out` (which may be the same memory).
bool ecb(EVP_CIPHER_CTX* ctx, const std::uint8_t* in, std::uint8_t* out, std::size_t blocks) {
  int written = 0;
  return EVP_EncryptUpdate(ctx, out, &written, in, static_cast<int>(blocks * kBlock)) == 1 &&
         static_cast<std::size_t>(written) == blocks * kBlock;
}

/// cbc_mac continues the CBC-MAC `state` over `data` (whole blocks).
bool cbc_mac(EVP_CIPHER_CTX* ctx, std::uint8_t* state, const std::uint8_t* data, std::size_t len) {
  for (std::size_t off = 0; off < len; off += kBlock) {
    for (std::size_t k = 0; k < kBlock; ++k) state[k] ^= data[off + k];
    if (!ecb(ctx, state, state, 1)) return false;
  }
  return true;
}

/// Setup holds what one call computes once for its ten rounds.
struct Setup {
  std::size_t n = 0, u = 0, v = 0, b = 0, d = 0;
  /// r is how many bytes of the tweak and its padding start the tail (the part of Q after the
  /// whole constant blocks); the round number follows them, then NUM_radix of the half.
  std::size_t r = 0;
  std::array<std::uint8_t, kBlock> state{};  ///< CBC-MAC state after P and Q's constant blocks
};

result<Setup> prepare(EVP_CIPHER_CTX* ctx, const Ff1State& st, std::size_t n, std::size_t b,
                      std::span<const std::uint8_t> tweak, std::vector<std::uint8_t>& tail) {
  Setup s;
  s.n = n;
  s.u = n / 2;
  s.v = n - s.u;
  s.b = b;
  s.d = 4 * ((b + 3) / 4) + 4;
  const std::size_t t = tweak.size();
  // P = [1]^1 || [2]^1 || [1]^1 || [radix]^3 || [10]^1 || [u mod 256]^1 || [n]^4 || [t]^4
  std::array<std::uint8_t, kBlock> p = {1,
                                        2,
                                        1,
                                        static_cast<std::uint8_t>(st.radix >> 16),
                                        static_cast<std::uint8_t>(st.radix >> 8),
                                        static_cast<std::uint8_t>(st.radix),
                                        10,
                                        static_cast<std::uint8_t>(s.u % 256),
                                        static_cast<std::uint8_t>(n >> 24),
                                        static_cast<std::uint8_t>(n >> 16),
                                        static_cast<std::uint8_t>(n >> 8),
                                        static_cast<std::uint8_t>(n),
                                        static_cast<std::uint8_t>(t >> 24),
                                        static_cast<std::uint8_t>(t >> 16),
                                        static_cast<std::uint8_t>(t >> 8),
                                        static_cast<std::uint8_t>(t)};
  if (!ecb(ctx, p.data(), s.state.data(), 1)) return openssl_failed();
  // Q = T || [0]^((-t-b-1) mod 16) || [i]^1 || [NUM_radix(B)]^b
  const std::size_t pad = (kBlock - (t + b + 1) % kBlock) % kBlock;
  const std::size_t prefix = t + pad;
  const std::size_t whole = prefix / kBlock;
  s.r = prefix % kBlock;
  std::array<std::uint8_t, kBlock> block{};
  for (std::size_t k = 0; k < whole; ++k) {
    for (std::size_t j = 0; j < kBlock; ++j) {
      const std::size_t at = k * kBlock + j;
      block[j] = at < t ? tweak[at] : 0;
    }
    if (!cbc_mac(ctx, s.state.data(), block.data(), kBlock)) return openssl_failed();
  }
  tail.assign(s.r + 1 + b, 0);
  for (std::size_t j = 0; j < s.r; ++j) {
    const std::size_t at = whole * kBlock + j;
    tail[j] = at < t ? tweak[at] : 0;
  }
  return s;
}

/// prf runs the rest of the CBC-MAC over `tail` and writes S (s.d bytes, rounded up to whole blocks)
/// into `out`.
bool prf_s(EVP_CIPHER_CTX* ctx, const Setup& s, const std::vector<std::uint8_t>& tail, std::uint8_t* out) {
  std::array<std::uint8_t, kBlock> r = s.state;
  if (!cbc_mac(ctx, r.data(), tail.data(), tail.size())) return false;
  std::memcpy(out, r.data(), kBlock);
  const std::size_t extra = (s.d + kBlock - 1) / kBlock - 1;
  if (extra == 0) return true;
  // S = R || CIPH(R xor [1]^16) || CIPH(R xor [2]^16) || ...
  std::uint8_t* more = out + kBlock;
  for (std::size_t j = 1; j <= extra; ++j) {
    std::uint8_t* blk = more + (j - 1) * kBlock;
    std::memcpy(blk, r.data(), kBlock);
    for (std::size_t k = 0; k < 8; ++k) blk[kBlock - 1 - k] ^= static_cast<std::uint8_t>(j >> (8 * k));
  }
  return ecb(ctx, more, more, extra);
}

std::size_t bit_length(u128 x) {
  const auto hi = static_cast<std::uint64_t>(x >> 64);
  const auto lo = static_cast<std::uint64_t>(x);
  if (hi != 0) return 128 - static_cast<std::size_t>(__builtin_clzll(hi));
  if (lo != 0) return 64 - static_cast<std::size_t>(__builtin_clzll(lo));
  return 0;
}

void put_u128(u128 x, std::uint8_t* out, std::size_t len) {
  for (std::size_t i = len; i-- > 0; x >>= 8) out[i] = static_cast<std::uint8_t>(x);
}

u128 mod(u128 y, u128 m) {
  if ((y >> 64) == 0 && (m >> 64) == 0) return static_cast<std::uint64_t>(y) % static_cast<std::uint64_t>(m);
  return y % m;
}

result<std::vector<std::uint32_t>> run_fast(EVP_CIPHER_CTX* ctx, const Ff1State& st,
                                            std::span<const std::uint32_t> digits,
                                            std::span<const std::uint8_t> tweak, bool decrypt) {
  const std::size_t n = digits.size();
  const std::size_t v = n - n / 2;
  const std::size_t bits = bit_length(st.powers[v] - 1);
  std::vector<std::uint8_t> tail;
  auto prepared = prepare(ctx, st, n, (bits + 7) / 8, tweak, tail);
  if (!prepared) return std::move(prepared).err();
  const Setup& s = *prepared;
  const u128 mu = st.powers[s.u];
  const u128 mv = st.powers[s.v];
  u128 a = ff1_detail::num_radix_u128(digits.first(s.u), st.radix);
  u128 b = ff1_detail::num_radix_u128(digits.subspan(s.u), st.radix);
  std::array<std::uint8_t, kBlock> sbytes{};
  for (std::size_t round = 0; round < kRounds; ++round) {
    const std::size_t i = decrypt ? kRounds - 1 - round : round;
    tail[s.r] = static_cast<std::uint8_t>(i);
    put_u128(decrypt ? a : b, tail.data() + s.r + 1, s.b);
    if (!prf_s(ctx, s, tail, sbytes.data())) return openssl_failed();
    u128 y = 0;
    for (std::size_t k = 0; k < s.d; ++k) y = (y << 8) | sbytes[k];
    const u128 m = i % 2 == 0 ? mu : mv;
    const u128 ym = mod(y, m);
    if (!decrypt) {
      u128 c = a + ym;
      if (c >= m) c -= m;
      a = b;
      b = c;
    } else {
      const u128 c = b >= ym ? b - ym : b + (m - ym);
      b = a;
      a = c;
    }
  }
  std::vector<std::uint32_t> out(n);
  ff1_detail::str_radix_u128(a, st.radix, std::span(out).first(s.u));
  ff1_detail::str_radix_u128(b, st.radix, std::span(out).subspan(s.u));
  return out;
}

result<std::vector<std::uint32_t>> run_big(EVP_CIPHER_CTX* ctx, const Ff1State& st,
                                           std::span<const std::uint32_t> digits,
                                           std::span<const std::uint8_t> tweak, bool decrypt) {
  const std::size_t n = digits.size();
  std::vector<std::uint8_t> tail;
  auto prepared = prepare(ctx, st, n, ff1_detail::byte_count(st.radix, n - n / 2), tweak, tail);
  if (!prepared) return std::move(prepared).err();
  const Setup& s = *prepared;
  std::vector<std::uint32_t> a(digits.begin(), digits.begin() + static_cast<std::ptrdiff_t>(s.u));
  std::vector<std::uint32_t> b(digits.begin() + static_cast<std::ptrdiff_t>(s.u), digits.end());
  std::vector<std::uint8_t> sbytes((s.d + kBlock - 1) / kBlock * kBlock);
  std::vector<std::uint32_t> y_digits;
  for (std::size_t round = 0; round < kRounds; ++round) {
    const std::size_t i = decrypt ? kRounds - 1 - round : round;
    tail[s.r] = static_cast<std::uint8_t>(i);
    const Natural half = Natural::from_digits(decrypt ? a : b, st.radix);
    if (!half.to_bytes(std::span(tail).subspan(s.r + 1, s.b)))
      return make_error(errc::internal, "FF1 numeral does not fit its byte length");
    if (!prf_s(ctx, s, tail, sbytes.data())) return openssl_failed();
    Natural y = Natural::from_bytes(std::span(sbytes).first(s.d));
    const std::size_t m = i % 2 == 0 ? s.u : s.v;
    y_digits.assign(m, 0);
    y.take_low_digits(st.radix, y_digits);  // y mod radix^m, as m digits
    // c = (NUM_radix(A) + y) mod radix^m, or (NUM_radix(B) - y) mod radix^m, digit by digit.
    std::vector<std::uint32_t>& x = decrypt ? b : a;
    std::vector<std::uint32_t> c(m);
    std::uint32_t carry = 0;
    for (std::size_t k = m; k-- > 0;) {
      if (!decrypt) {
        std::uint32_t sum = x[k] + y_digits[k] + carry;
        carry = sum >= st.radix ? 1 : 0;
        c[k] = sum - carry * st.radix;
      } else {
        const std::uint32_t sub = y_digits[k] + carry;
        carry = x[k] < sub ? 1 : 0;
        c[k] = x[k] + carry * st.radix - sub;
      }
    }
    if (!decrypt) {
      a = std::move(b);
      b = std::move(c);
    } else {
      b = std::move(a);
      a = std::move(c);
    }
  }
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::size_t least_length(std::uint32_t radix) {
  std::size_t n = 1;
  std::uint64_t domain = radix;
  while (n < 2 || domain < kFf1MinDomain) {
    domain *= radix;
    ++n;
  }
  return n;
}

result<void> check_input(const Ff1State& st, std::span<const std::uint32_t> digits,
                         std::span<const std::uint8_t> tweak) {
  if (tweak.size() > kFf1MaxTweakBytes)
    return make_error(errc::invalid_argument, "FF1 tweak is " + std::to_string(tweak.size()) +
                                                  " bytes; at most " + std::to_string(kFf1MaxTweakBytes) +
                                                  " are accepted");
  const std::size_t n = digits.size();
  if (n < 2 || n > kFf1MaxLength)
    return make_error(errc::bad_input, "FF1 input has " + std::to_string(n) + " numerals; it takes 2 to " +
                                           std::to_string(kFf1MaxLength));
  if (n < st.min_length)
    return make_error(errc::bad_input, "FF1 input has " + std::to_string(n) + " numerals; radix " +
                                           std::to_string(st.radix) + " needs at least " +
                                           std::to_string(st.min_length) + " (radix^length >= 1000000)");
  for (std::size_t i = 0; i < n; ++i) {
    if (digits[i] >= st.radix)
      return make_error(errc::bad_input, "FF1 input numeral " + std::to_string(i + 1) +
                                             " is not below the radix " + std::to_string(st.radix));
  }
  return ok();
}

result<std::vector<std::uint32_t>> run_ff1(const Ff1State* st, std::span<const std::uint32_t> digits,
                                           std::span<const std::uint8_t> tweak, bool decrypt, Ff1Path path) {
  if (!st) return make_error(errc::invalid_argument, "FF1 used after it was moved from");
  CONSENTRY_TRY(check_input(*st, digits, tweak));
  ContextLease lease(*st);
  if (!lease.get()) return make_error(errc::internal, "OpenSSL failed to copy an AES context for FF1");
  const std::size_t v = digits.size() - digits.size() / 2;
  if (path == Ff1Path::automatic && v < st->powers.size())
    return run_fast(lease.get(), *st, digits, tweak, decrypt);
  return run_big(lease.get(), *st, digits, tweak, decrypt);
}

}  // namespace

// ---- Ff1 ----

struct Ff1::Impl : Ff1State {};

Ff1::Ff1(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
Ff1::Ff1(Ff1&&) noexcept = default;
Ff1& Ff1::operator=(Ff1&&) noexcept = default;
Ff1::~Ff1() = default;

result<Ff1> Ff1::create(const SecretBytes& key, std::uint32_t radix) {
  if (radix < kFf1MinRadix || radix > kFf1MaxRadix)
    return make_error(errc::invalid_argument, "FF1 radix " + std::to_string(radix) + " is outside 2..65536");
  const EVP_CIPHER* cipher = nullptr;
  switch (key.size()) {
    case 16: cipher = EVP_aes_128_ecb(); break;
    case 24: cipher = EVP_aes_192_ecb(); break;
    case 32: cipher = EVP_aes_256_ecb(); break;
    default:
      return make_error(errc::invalid_argument,
                        "FF1 key is " + std::to_string(key.size()) + " bytes; AES takes 16, 24 or 32");
  }
  auto impl = std::make_unique<Impl>();
  impl->radix = radix;
  impl->min_length = least_length(radix);
  const u128 limit = u128{1} << 96;
  for (u128 p = 1; p <= limit; p *= radix) impl->powers.push_back(p);
  const auto keyed = [&]() -> EVP_CIPHER_CTX* {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    if (!ctx) return nullptr;
    if (EVP_EncryptInit_ex(ctx, cipher, nullptr, key.reveal().data(), nullptr) != 1 ||
        EVP_CIPHER_CTX_set_padding(ctx, 0) != 1) {
      EVP_CIPHER_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  };
  impl->prototype = keyed();
  EVP_CIPHER_CTX* first = keyed();
  if (first) impl->idle.push_back(first);
  if (!impl->prototype || !first) return make_error(errc::internal, "OpenSSL failed to set up AES for FF1");
  return Ff1(std::move(impl));
}

result<std::vector<std::uint32_t>> Ff1::encrypt(std::span<const std::uint32_t> digits,
                                                std::span<const std::uint8_t> tweak) const {
  return run_ff1(impl_.get(), digits, tweak, false, Ff1Path::automatic);
}

result<std::vector<std::uint32_t>> Ff1::decrypt(std::span<const std::uint32_t> digits,
                                                std::span<const std::uint8_t> tweak) const {
  return run_ff1(impl_.get(), digits, tweak, true, Ff1Path::automatic);
}

std::uint32_t Ff1::radix() const noexcept {
  return impl_ ? impl_->radix : 0;
}

std::size_t Ff1::min_length() const noexcept {
  return impl_ ? impl_->min_length : 0;
}

result<std::vector<std::uint32_t>> Ff1Internals::run(const Ff1& ff1, std::span<const std::uint32_t> digits,
                                                     std::span<const std::uint8_t> tweak, bool decrypt,
                                                     Ff1Path path) {
  return run_ff1(ff1.impl_.get(), digits, tweak, decrypt, path);
}

bool Ff1Internals::fast_path_fits(const Ff1& ff1, std::size_t length) {
  return ff1.impl_ && length - length / 2 < ff1.impl_->powers.size();
}

// ---- Ff1Alphabet ----

result<Ff1Alphabet> Ff1Alphabet::parse(std::string_view characters) {
  Ff1Alphabet alphabet;
  alphabet.ascii_.assign(128, -1);
  for (std::size_t i = 0; i < characters.size();) {
    const auto [cp, len] = detail::utf8_decode(characters, i);
    if (len == 0)
      return make_error(errc::invalid_argument,
                        "FF1 alphabet is not valid UTF-8 at byte " + std::to_string(i + 1));
    if (alphabet.code_points_.size() == kFf1MaxRadix)
      return make_error(errc::invalid_argument, "FF1 alphabet has more than 65536 characters");
    alphabet.code_points_.push_back(cp);
    i += len;
  }
  const std::size_t size = alphabet.code_points_.size();
  if (size < kFf1MinRadix)
    return make_error(errc::invalid_argument,
                      "FF1 alphabet has " + std::to_string(size) + " characters; it needs 2 to 65536");
  for (std::size_t digit = 0; digit < size; ++digit) {
    const char32_t cp = alphabet.code_points_[digit];
    if (cp < 128) {
      if (alphabet.ascii_[cp] >= 0)
        return make_error(errc::invalid_argument, "FF1 alphabet repeats its character " +
                                                      std::to_string(alphabet.ascii_[cp] + 1) +
                                                      " at position " + std::to_string(digit + 1));
      alphabet.ascii_[cp] = static_cast<std::int32_t>(digit);
    } else {
      alphabet.non_ascii_.push_back(static_cast<std::uint64_t>(cp) << 32 | digit);
    }
  }
  std::sort(alphabet.non_ascii_.begin(), alphabet.non_ascii_.end());
  for (std::size_t k = 1; k < alphabet.non_ascii_.size(); ++k) {
    const std::uint64_t prev = alphabet.non_ascii_[k - 1];
    const std::uint64_t cur = alphabet.non_ascii_[k];
    if (prev >> 32 == cur >> 32) {
      const auto first = static_cast<std::uint32_t>(prev);
      const auto again = static_cast<std::uint32_t>(cur);
      return make_error(errc::invalid_argument,
                        "FF1 alphabet repeats its character " + std::to_string(std::min(first, again) + 1) +
                            " at position " + std::to_string(std::max(first, again) + 1));
    }
  }
  return alphabet;
}

const Ff1Alphabet& Ff1Alphabet::decimal() {
  static const Ff1Alphabet alphabet = parse(kFf1DecimalAlphabet).value();
  return alphabet;
}

const Ff1Alphabet& Ff1Alphabet::base62() {
  static const Ff1Alphabet alphabet = parse(kFf1Base62Alphabet).value();
  return alphabet;
}

result<std::vector<std::uint32_t>> Ff1Alphabet::digits(std::string_view text) const {
  std::vector<std::uint32_t> out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    std::int64_t digit = -1;
    if (c < 0x80) {
      digit = ascii_[c];
      ++i;
    } else {
      const auto [cp, len] = detail::utf8_decode(text, i);
      if (len == 0)
        return make_error(errc::bad_input, "text is not valid UTF-8 at byte " + std::to_string(i + 1));
      const std::uint64_t key = static_cast<std::uint64_t>(cp) << 32;
      const auto it = std::lower_bound(non_ascii_.begin(), non_ascii_.end(), key);
      if (it != non_ascii_.end() && (*it >> 32) == cp) digit = static_cast<std::uint32_t>(*it);
      i += len;
    }
    if (digit < 0)
      return make_error(errc::bad_input, "character " + std::to_string(out.size() + 1) +
                                             " of the text is not in the FF1 alphabet");
    out.push_back(static_cast<std::uint32_t>(digit));
  }
  return out;
}

std::string Ff1Alphabet::text(std::span<const std::uint32_t> digits) const {
  std::string out;
  out.reserve(digits.size());
  for (std::uint32_t d : digits)
    detail::utf8_encode(d < code_points_.size() ? code_points_[d] : U'\uFFFD', out);
  return out;
}

}  // namespace consentry
