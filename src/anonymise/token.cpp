// token.cpp: FF1 tokens that keep a value's shape: the enciphered characters are replaced in
// place, everything else stays.
#include "consentry/anonymise/token.hpp"

#include <vector>

#include "consentry/anonymise/ff1.hpp"

namespace consentry {

namespace {

// The smallest number of characters whose domain reaches FF1's 1,000,000 (SP 800-38G Rev. 1).
constexpr std::size_t kMinDecimal = 6;  // 10^6
constexpr std::size_t kMinBase62 = 4;   // 62^4 = 14,776,336; 62^3 = 238,328 is too few

int digit_of(char c, bool base62) {
  if (c >= '0' && c <= '9') return c - '0';
  if (!base62) return -1;
  if (c >= 'a' && c <= 'z') return 10 + (c - 'a');
  if (c >= 'A' && c <= 'Z') return 36 + (c - 'A');
  return -1;
}

error unavailable(FieldType type, std::string_view why) {
  return make_error(errc::denied,
                    "form token cannot be produced for this value of type " + std::string(to_string(type)) +
                        ": " + std::string(why),
                    deny_reason::form_unavailable);
}

}  // namespace

struct Tokeniser::Ciphers {
  Ff1 decimal;
  Ff1 base62;
};

Tokeniser::Tokeniser(std::unique_ptr<Ciphers> c) : ciphers_(std::move(c)) {}
Tokeniser::Tokeniser(Tokeniser&&) noexcept = default;
Tokeniser& Tokeniser::operator=(Tokeniser&&) noexcept = default;
Tokeniser::~Tokeniser() = default;

result<Tokeniser> Tokeniser::create(const SecretBytes& key) {
  auto decimal = Ff1::create(key, 10);
  if (!decimal) return std::move(decimal).err();
  auto base62 = Ff1::create(key, 62);
  if (!base62) return std::move(base62).err();
  return Tokeniser(std::make_unique<Ciphers>(Ciphers{std::move(*decimal), std::move(*base62)}));
}

namespace {

// Replaces the enciphered characters of `text` in place with `cipher` run forwards or backwards.
result<std::string> replace_digits(const Ff1& cipher, bool base62, FieldType type, std::string_view text,
                                   std::span<const std::uint8_t> tweak, bool forwards) {
  std::vector<std::size_t> positions;
  std::vector<std::uint32_t> digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int d = digit_of(text[i], base62);
    if (d < 0) continue;
    positions.push_back(i);
    digits.push_back(static_cast<std::uint32_t>(d));
  }
  const std::size_t minimum = base62 ? kMinBase62 : kMinDecimal;
  if (digits.size() < minimum)
    return unavailable(
        type, "fewer than " + std::to_string(minimum) + (base62 ? " letters and digits" : " digits"));
  if (digits.size() > kMaxTokenCharacters)
    return unavailable(type, "more than " + std::to_string(kMaxTokenCharacters) + " characters to replace");
  auto out = forwards ? cipher.encrypt(digits, tweak) : cipher.decrypt(digits, tweak);
  if (!out) return unavailable(type, "FF1 refused the domain");
  const std::string_view alphabet = base62 ? kFf1Base62Alphabet : kFf1DecimalAlphabet;
  std::string result(text);
  for (std::size_t k = 0; k < positions.size(); ++k) result[positions[k]] = alphabet[(*out)[k]];
  return result;
}

}  // namespace

result<std::string> Tokeniser::tokenise(FieldType type, std::string_view value,
                                        std::span<const std::uint8_t> tweak) const {
  switch (type) {
    case FieldType::integer:
    case FieldType::phone: return replace_digits(ciphers_->decimal, false, type, value, tweak, true);
    case FieldType::string:
    case FieldType::email: return replace_digits(ciphers_->base62, true, type, value, tweak, true);
    case FieldType::date:
    case FieldType::boolean: break;
  }
  return unavailable(type, "the type has too few values");
}

result<std::string> Tokeniser::detokenise(FieldType type, std::string_view token,
                                          std::span<const std::uint8_t> tweak) const {
  result<std::string> back =
      make_error(errc::bad_input, "no tokens exist for type " + std::string(to_string(type)));
  switch (type) {
    case FieldType::integer:
    case FieldType::phone: back = replace_digits(ciphers_->decimal, false, type, token, tweak, false); break;
    case FieldType::string:
    case FieldType::email: back = replace_digits(ciphers_->base62, true, type, token, tweak, false); break;
    case FieldType::date:
    case FieldType::boolean: break;
  }
  if (!back && back.err().code == errc::denied)
    return make_error(errc::bad_input,
                      "the text is not a token of a " + std::string(to_string(type)) + " value");
  return back;
}

}  // namespace consentry
