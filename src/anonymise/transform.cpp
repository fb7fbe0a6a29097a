// transform.cpp: a stored value turned into the form a purpose may see.
#include "consentry/anonymise/transform.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "consentry/anonymise/token.hpp"
#include "text/hex.hpp"

namespace consentry {
namespace {

error unavailable(const Form& form, FieldType type) {
  std::string msg = "form ";
  msg += form.to_string();
  msg += " cannot be produced for a value of type ";
  msg += to_string(type);
  return make_error(errc::denied, std::move(msg), deny_reason::form_unavailable);
}

// Byte offsets where each UTF-8 code point of `s` starts (the value was validated as UTF-8).
std::vector<std::size_t> code_point_starts(std::string_view s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  return starts;
}

std::optional<std::int64_t> read_integer(std::string_view v) {
  std::int64_t out = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || ptr != v.data() + v.size()) return std::nullopt;
  return out;
}

__extension__ typedef __int128 int128;

std::string int128_text(int128 x) {
  const bool negative = x < 0;
  std::string digits;
  do {
    const int d = static_cast<int>(x % 10);
    digits.insert(digits.begin(), static_cast<char>('0' + (negative ? -d : d)));
    x /= 10;
  } while (x != 0);
  return negative ? "-" + digits : digits;
}

// The range [k*width, k*width + width - 1] holding v, with k rounded towards minus infinity.
// Computed in 128 bits: the bucket around a value near the ends of int64 may reach past them.
std::string bucket_of(std::int64_t v, std::int64_t width) {
  const int128 w = width;
  int128 k = static_cast<int128>(v) / w;
  if (static_cast<int128>(v) % w != 0 && v < 0) --k;
  const int128 lo = k * w;
  return int128_text(lo) + "-" + int128_text(lo + w - 1);
}

bool is_date(std::string_view v) {
  const auto r = normalise_value(FieldType::date, "", v);
  return r.ok() && *r == v;
}

}  // namespace

std::string pseudonym(const SecretBytes& key, std::string_view value) {
  // An unkeyed or short-keyed hash of a customer value could be recomputed by anyone, so a key
  // outside BLAKE2b's keyed range is a caller bug, not a value to work around.
  if (key.size() < crypto_generichash_KEYBYTES_MIN || key.size() > crypto_generichash_KEYBYTES_MAX)
    throw std::invalid_argument("pseudonym key must be 16 to 64 bytes");
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, kPseudonymBytes> hash{};
  const auto k = key.reveal();
  crypto_generichash(hash.data(), hash.size(), reinterpret_cast<const unsigned char*>(value.data()),
                     value.size(), k.data(), k.size());
  std::string hex = detail::hex_encode(hash);
  sodium_memzero(hash.data(), hash.size());
  return hex;
}

std::string hmac_pseudonym(const SecretBytes& key, std::string_view value) {
  if (key.size() < 16) throw std::invalid_argument("HMAC pseudonym key must be at least 16 bytes");
  if (!sodium_ready()) throw std::runtime_error("libsodium failed to initialise");
  std::array<unsigned char, kHmacPseudonymBytes> mac{};
  unsigned int length = 0;
  const auto k = key.reveal();
  if (HMAC(EVP_sha256(), k.data(), static_cast<int>(k.size()),
           reinterpret_cast<const unsigned char*>(value.data()), value.size(), mac.data(),
           &length) == nullptr ||
      length != mac.size())
    throw std::runtime_error("HMAC-SHA256 failed");
  std::string hex = detail::hex_encode(mac);
  sodium_memzero(mac.data(), mac.size());
  return hex;
}

result<std::string> apply_form(const Form& form, FieldType type, std::string_view value,
                               const SecretBytes& purpose_key) {
  return apply_form(form, type, value, FormKeys{&purpose_key, nullptr, {}});
}

result<std::string> apply_form(const Form& form, FieldType type, std::string_view value,
                               const FormKeys& keys) {
  // Code-point operations below need valid UTF-8; a value that is not is refused unseen.
  if (!normalise_value(FieldType::string, "", value))
    return make_error(errc::bad_input, "value is not valid UTF-8 text");

  switch (form.kind) {
    case FormKind::clear: return std::string(value);
    case FormKind::redact: return std::string();
    case FormKind::token:
      if (!keys.token_cipher) return make_error(errc::invalid_argument, "token needs the vault's FF1 key");
      return keys.token_cipher->tokenise(type, value, keys.token_tweak);
    case FormKind::pseudonym:
    case FormKind::pseudonym_hmac: {
      const SecretBytes* key = keys.purpose_key;
      if (!key || key->size() < crypto_generichash_KEYBYTES_MIN ||
          key->size() > crypto_generichash_KEYBYTES_MAX)
        return make_error(errc::invalid_argument, "a pseudonym needs a purpose key of 16 to 64 bytes");
      if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
      if (form.kind == FormKind::pseudonym_hmac) return hmac_pseudonym(*key, value);
      return pseudonym(*key, value);
    }
    case FormKind::mask_last: {
      if (form.n < 1) return unavailable(form, type);
      const auto starts = code_point_starts(value);
      const auto keep = static_cast<std::size_t>(form.n);
      // A mask never shows a whole value: one no longer than n is starred completely.
      if (starts.size() <= keep) return std::string(starts.size(), '*');
      const std::size_t hidden = starts.size() - keep;
      return std::string(hidden, '*') + std::string(value.substr(starts[hidden]));
    }
    case FormKind::mask_first: {
      if (form.n < 1) return unavailable(form, type);
      const auto starts = code_point_starts(value);
      const auto keep = static_cast<std::size_t>(form.n);
      // Like mask:lastN, a value no longer than n is starred completely.
      if (starts.size() <= keep) return std::string(starts.size(), '*');
      return std::string(value.substr(0, starts[keep])) + std::string(starts.size() - keep, '*');
    }
    case FormKind::mask_email: {
      // The local part is what the last '@' ends; both it and the domain must be there.
      const std::size_t at = value.rfind('@');
      if (type != FieldType::email || at == std::string_view::npos || at == 0 || at + 1 == value.size())
        return unavailable(form, type);
      return std::string(code_point_starts(value.substr(0, at)).size(), '*') + std::string(value.substr(at));
    }
    case FormKind::replace: return form.text;
    case FormKind::generalise_prefix: {
      if (form.n < 1) return unavailable(form, type);
      const auto starts = code_point_starts(value);
      const auto keep = static_cast<std::size_t>(form.n);
      if (starts.size() <= keep) return std::string(value);
      return std::string(value.substr(0, starts[keep]));
    }
    case FormKind::generalise_year:
      if (type != FieldType::date || !is_date(value)) return unavailable(form, type);
      return std::string(value.substr(0, 4));
    case FormKind::generalise_month:
      if (type != FieldType::date || !is_date(value)) return unavailable(form, type);
      return std::string(value.substr(0, 7));
    case FormKind::generalise_decade:
      if (type == FieldType::date && is_date(value)) return std::string(value.substr(0, 3)) + "0s";
      if (type == FieldType::integer) {
        const auto v = read_integer(value);
        if (!v) return unavailable(form, type);
        return bucket_of(*v, 10);
      }
      return unavailable(form, type);
    case FormKind::generalise_bucket: {
      if (type != FieldType::integer || form.n < 1) return unavailable(form, type);
      const auto v = read_integer(value);
      if (!v) return unavailable(form, type);
      return bucket_of(*v, form.n);
    }
  }
  return unavailable(form, type);
}

}  // namespace consentry
