// bit_field.hpp: the bit-level plumbing of the IAB signal strings (TC strings and GPP strings):
// base64url without padding, a bit reader and a bit writer (most significant bit first), the
// Fibonacci integers and ranges of GPP, and the vendor lists of the TCF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "consentry/result.hpp"

namespace consentry::signals::detail {

/// kBase64UrlAlphabet is the URL-safe base64 alphabet (RFC 4648, section 5), value 0 first.
inline constexpr std::string_view kBase64UrlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// kMaxVendorId is the largest vendor id a 16-bit field holds.
inline constexpr int kMaxVendorId = 65535;
/// kMaxNumEntries is the largest count a 12-bit NumEntries (or NumPubRestrictions) field holds.
inline constexpr int kMaxNumEntries = 4095;

/// base64url_value gives the 6-bit value of `c` in the URL-safe alphabet, or -1 for any other
/// character (padding '=' included: neither reference library accepts it).
constexpr int base64url_value(char c) noexcept {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

/// Bits is what a base64url text decodes to: the bytes, and how many of their bits the text
/// held (six per character; the rest of the last byte is zero and not part of the text).
struct Bits {
  std::vector<std::uint8_t> bytes;
  std::size_t size = 0;
};

/// base64url_decode reads `text`, six bits a character, without padding. `what` names the text
/// in errors and `offset` is where `text` starts in the string the caller was given, so that an
/// error names the offset of the bad character in that string. errc::bad_input for an empty text
/// or a character outside the URL-safe alphabet (a '=' or a '.' included).
inline result<Bits> base64url_decode(std::string_view text, std::string_view what, std::size_t offset = 0) {
  if (text.empty()) return make_error(errc::bad_input, std::string(what) + " is empty");
  Bits bits;
  bits.size = text.size() * 6;
  bits.bytes.assign((bits.size + 7) / 8, 0);
  std::size_t bit = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const int v = base64url_value(text[i]);
    if (v < 0)
      return make_error(errc::bad_input, std::string(what) + ": the character at offset " +
                                             std::to_string(offset + i) + " is not base64url");
    for (int k = 5; k >= 0; --k, ++bit)
      if ((v >> k) & 1)
        bits.bytes[bit / 8] = static_cast<std::uint8_t>(bits.bytes[bit / 8] | (0x80u >> (bit % 8)));
  }
  return bits;
}

/// base64url_encode writes the first `bit_count` bits of `bytes` as base64url without padding:
/// one character for every six bits, the last one filled up with zero bits.
inline std::string base64url_encode(const std::vector<std::uint8_t>& bytes, std::size_t bit_count) {
  std::string out;
  out.reserve((bit_count + 5) / 6);
  for (std::size_t start = 0; start < bit_count; start += 6) {
    unsigned v = 0;
    for (std::size_t bit = start; bit < start + 6; ++bit) {
      const bool set = bit < bit_count && ((bytes[bit / 8] >> (7 - bit % 8)) & 1) != 0;
      v = (v << 1) | (set ? 1u : 0u);
    }
    out.push_back(kBase64UrlAlphabet[v]);
  }
  return out;
}

/// BitReader reads fields from Bits, most significant bit first. `context` names what is read
/// ("TC string core segment"); every error it makes names the context, the field and the bit
/// offset.
class BitReader {
 public:
  BitReader(const Bits& bits, std::string context) : bits_(bits), context_(std::move(context)) {}

  /// position is the offset of the next bit to read.
  std::size_t position() const noexcept { return pos_; }
  /// remaining is how many bits are left.
  std::size_t remaining() const noexcept { return bits_.size - pos_; }
  /// context names what is read.
  const std::string& context() const noexcept { return context_; }
  /// set_context renames what is read, for the errors that follow (once a segment's type is
  /// known, say).
  void set_context(std::string context) { context_ = std::move(context); }

  /// read reads `width` bits (at most 63) as an unsigned integer. errc::bad_input, naming
  /// `field`, when fewer bits are left.
  result<std::uint64_t> read(unsigned width, std::string_view field) {
    if (width > remaining()) return past_end(field);
    std::uint64_t v = 0;
    for (unsigned k = 0; k < width; ++k) v = (v << 1) | (bit_at(pos_ + k) ? 1u : 0u);
    pos_ += width;
    return v;
  }

  /// read_int reads `width` bits (at most 31) as an int. errc::bad_input, naming `field`, when
  /// fewer bits are left.
  result<int> read_int(unsigned width, std::string_view field) {
    auto v = read(width, field);
    if (!v) return std::move(v).err();
    return static_cast<int>(*v);
  }

  /// read_bool reads one bit. errc::bad_input, naming `field`, at the end.
  result<bool> read_bool(std::string_view field) {
    if (remaining() == 0) return past_end(field);
    return bit_at(pos_++);
  }

  /// read_bit_field reads `width` bits as the set of the ids (1 for the first bit) whose bit is
  /// 1. errc::bad_input, naming `field`, when fewer bits are left.
  result<std::set<int>> read_bit_field(std::size_t width, std::string_view field) {
    if (width > remaining()) return past_end(field);
    std::set<int> ids;
    for (std::size_t k = 0; k < width; ++k)
      if (bit_at(pos_ + k)) ids.insert(ids.end(), static_cast<int>(k + 1));
    pos_ += width;
    return ids;
  }

  /// past_end is the error for `field` running past the end at the current position.
  error past_end(std::string_view field) const {
    return make_error(errc::bad_input, context_ + ": field " + std::string(field) +
                                           " runs past the end at bit " + std::to_string(pos_));
  }

  /// invalid is the error for `field`, which starts at bit `bit`, holding what `problem` says.
  error invalid(std::string_view field, std::size_t bit, std::string_view problem) const {
    return make_error(errc::bad_input, context_ + ": field " + std::string(field) + " at bit " +
                                           std::to_string(bit) + ": " + std::string(problem));
  }

 private:
  bool bit_at(std::size_t i) const noexcept { return ((bits_.bytes[i / 8] >> (7 - i % 8)) & 1) != 0; }

  const Bits& bits_;
  std::string context_;
  std::size_t pos_ = 0;
};

/// BitWriter appends fields to a growing run of bits, most significant bit first.
class BitWriter {
 public:
  /// write appends `value` as a `width`-bit integer (zero bits above the 64th); the caller has
  /// checked that `value` fits.
  void write(std::uint64_t value, unsigned width) {
    for (unsigned k = width; k-- > 0;) write_bool(k < 64 && ((value >> k) & 1) != 0);
  }
  /// write_bool appends one bit.
  void write_bool(bool bit) {
    if (size_ % 8 == 0) bytes_.push_back(0);
    if (bit) bytes_.back() = static_cast<std::uint8_t>(bytes_.back() | (0x80u >> (size_ % 8)));
    ++size_;
  }
  /// write_bit_field appends `width` bits, bit k (from 1) set when `ids` holds k; the caller
  /// has checked that every id is within 1..width.
  void write_bit_field(const std::set<int>& ids, std::size_t width) {
    for (std::size_t k = 1; k <= width; ++k) write_bool(ids.count(static_cast<int>(k)) != 0);
  }
  /// pad_to appends zero bits until the size is a multiple of `multiple`.
  void pad_to(std::size_t multiple) {
    while (size_ % multiple != 0) write_bool(false);
  }
  /// size is how many bits were written.
  std::size_t size() const noexcept { return size_; }
  /// base64url gives the bits written as base64url without padding (see base64url_encode).
  std::string base64url() const { return base64url_encode(bytes_, size_); }

 private:
  std::vector<std::uint8_t> bytes_;
  std::size_t size_ = 0;
};

/// read_fibonacci reads a Fibonacci-coded positive integer as GPP writes it: the Zeckendorf
/// representation, the bit for 1 first, then the bits for 2, 3, 5, 8..., ended by the first
/// two consecutive 1 bits. `max` is below 2^62. errc::bad_input, naming `field` and the bit
/// offset, when the code runs past the end or its value would exceed `max`.
inline result<std::uint64_t> read_fibonacci(BitReader& in, std::string_view field, std::uint64_t max) {
  const std::size_t start = in.position();
  std::uint64_t value = 0;
  std::uint64_t fib = 1, next = 2;  // the weights of the current and the next bit
  bool previous = false;
  for (;;) {
    auto bit = in.read_bool(field);
    if (!bit) return std::move(bit).err();
    if (*bit && previous) return value;
    if (*bit) {
      if (fib > max - value)
        return in.invalid(field, start, "the Fibonacci-coded value exceeds " + std::to_string(max));
      value += fib;
    } else if (fib > max) {
      // A 0 whose weight already exceeds max: the next weights do too, so any further 1 that is
      // not the terminator exceeds max, and the terminator needs a 1 just before it.
      return in.invalid(field, start, "the Fibonacci-coded value exceeds " + std::to_string(max));
    }
    previous = *bit;
    const std::uint64_t after = fib + next;
    fib = next;
    next = after > max ? max + 1 : after;  // saturate: only comparisons with max matter from here
  }
}

/// write_fibonacci appends the Fibonacci code of `value` (at least 1), as read_fibonacci reads it.
inline void write_fibonacci(BitWriter& out, std::uint64_t value) {
  std::vector<std::uint64_t> fibs{1};
  for (std::uint64_t a = 1, b = 2; b <= value;) {
    fibs.push_back(b);
    const std::uint64_t c = a + b;
    a = b;
    b = c;
  }
  std::vector<bool> bits(fibs.size(), false);
  for (std::size_t k = fibs.size(); k-- > 0;) {
    if (fibs[k] <= value) {
      bits[k] = true;
      value -= fibs[k];
    }
  }
  std::size_t used = bits.size();
  while (used > 0 && !bits[used - 1]) --used;
  for (std::size_t k = 0; k < used; ++k) out.write_bool(bits[k]);
  out.write_bool(true);
}

/// read_fibonacci_range reads a GPP Fibonacci range: a 12-bit count of groups, then each group
/// as a flag bit (0 one id, 1 a range) and Fibonacci-coded offsets: an id is written as its
/// distance from the id before it (from 0 for the first), a range's end as its distance from
/// its start. The ids therefore come out strictly ascending. errc::bad_input, naming `field`
/// and the bit offset, when the range runs past the end, names an id above `max_id`, or names
/// more than `max_count` ids.
inline result<std::vector<int>> read_fibonacci_range(BitReader& in, std::string_view field, int max_id,
                                                     std::size_t max_count) {
  const std::string name(field);
  auto count = in.read_int(12, name + ".NumEntries");
  if (!count) return std::move(count).err();
  std::vector<int> ids;
  std::uint64_t last = 0;
  const auto limit = static_cast<std::uint64_t>(max_id);
  for (int g = 0; g < *count; ++g) {
    const std::string entry = name + "[" + std::to_string(g) + "]";
    const std::size_t at = in.position();
    auto is_range = in.read_bool(entry + ".IsRange");
    if (!is_range) return std::move(is_range).err();
    if (last >= limit) return in.invalid(entry, at, "an id exceeds " + std::to_string(max_id));
    auto first = read_fibonacci(in, entry + (*is_range ? ".StartId" : ".Id"), limit - last);
    if (!first) return std::move(first).err();
    std::uint64_t end = last + *first;
    const std::uint64_t begin = end;
    if (*is_range) {
      if (end >= limit) return in.invalid(entry, at, "the range's end exceeds " + std::to_string(max_id));
      auto span = read_fibonacci(in, entry + ".EndId", limit - end);
      if (!span) return std::move(span).err();
      end += *span;
    }
    if (end - begin + 1 > max_count - ids.size())
      return in.invalid(name, at, "names more than " + std::to_string(max_count) + " ids");
    for (std::uint64_t id = begin; id <= end; ++id) ids.push_back(static_cast<int>(id));
    last = end;
  }
  return ids;
}

/// runs_of splits `ids` (ascending) into runs of consecutive ids, as (first, last) pairs in
/// ascending order.
template <class Ids>
std::vector<std::pair<int, int>> runs_of(const Ids& ids) {
  std::vector<std::pair<int, int>> runs;
  for (int id : ids) {
    if (!runs.empty() && runs.back().second + 1 == id) {
      runs.back().second = id;
    } else {
      runs.emplace_back(id, id);
    }
  }
  return runs;
}

/// write_fibonacci_range appends `ids` (strictly ascending, each at least 1, in at most 4095
/// runs of consecutive ids) as a GPP Fibonacci range: each run of two or more consecutive ids
/// as a range, any other id alone, as @iabgpp/cmpapi's FibonacciIntegerRangeEncoder does.
inline void write_fibonacci_range(BitWriter& out, const std::vector<int>& ids) {
  const std::vector<std::pair<int, int>> runs = runs_of(ids);
  out.write(runs.size(), 12);
  int last = 0;
  for (const auto& [first, end] : runs) {
    out.write_bool(first != end);
    write_fibonacci(out, static_cast<std::uint64_t>(first - last));
    if (first != end) write_fibonacci(out, static_cast<std::uint64_t>(end - first));
    last = end;
  }
}

/// IdBudget bounds how many vendor ids the ranges of one decoded string may name in all, so that
/// a short hostile string cannot make the decoder build huge sets (a range of 65535 ids costs
/// 33 bits).
class IdBudget {
 public:
  explicit IdBudget(std::size_t ids) : left_(ids) {}
  /// take spends `n` ids; false, spending nothing, when fewer are left.
  bool take(std::size_t n) noexcept {
    if (n > left_) return false;
    left_ -= n;
    return true;
  }
  /// left is how many ids may still be named.
  std::size_t left() const noexcept { return left_; }

 private:
  std::size_t left_;
};

/// read_range_entries reads the TCF range entries of a vendor list or a publisher restriction:
/// NumEntries (12 bits), then NumEntries times IsARange (1), StartOrOnlyVendorId (16) and, for a
/// range, EndVendorId (16). `field` prefixes the field names ("VendorConsents"). errc::bad_input
/// for a vendor id 0, an end before its start, an id above `max_id`, ids beyond `budget`, or a
/// field running past the end.
inline result<std::set<int>> read_range_entries(BitReader& in, std::string_view field, int max_id,
                                                IdBudget& budget) {
  const std::string name(field);
  auto count = in.read_int(12, name + ".NumEntries");
  if (!count) return std::move(count).err();
  std::set<int> ids;
  for (int e = 0; e < *count; ++e) {
    const std::string entry = name + "[" + std::to_string(e) + "]";
    auto is_range = in.read_bool(entry + ".IsARange");
    if (!is_range) return std::move(is_range).err();
    const std::size_t start_at = in.position();
    auto start = in.read_int(16, entry + ".StartOrOnlyVendorId");
    if (!start) return std::move(start).err();
    if (*start == 0) return in.invalid(entry + ".StartOrOnlyVendorId", start_at, "vendor id 0");
    if (*start > max_id)
      return in.invalid(entry + ".StartOrOnlyVendorId", start_at,
                        "the vendor id exceeds MaxVendorId " + std::to_string(max_id));
    int end = *start;
    if (*is_range) {
      const std::size_t end_at = in.position();
      auto end_id = in.read_int(16, entry + ".EndVendorId");
      if (!end_id) return std::move(end_id).err();
      if (*end_id < *start)
        return in.invalid(entry + ".EndVendorId", end_at, "the range ends before its start");
      if (*end_id > max_id)
        return in.invalid(entry + ".EndVendorId", end_at,
                          "the vendor id exceeds MaxVendorId " + std::to_string(max_id));
      end = *end_id;
    }
    if (!budget.take(static_cast<std::size_t>(end - *start) + 1))
      return in.invalid(entry, start_at, "the string names more vendor ids than a decoder accepts");
    auto hint = ids.lower_bound(*start);
    for (int id = *start; id <= end; ++id) hint = std::next(ids.insert(hint, id));
  }
  return ids;
}

/// write_range_entries appends `ids` (each within 1..65535, in at most 4095 runs) as TCF range
/// entries: NumEntries, then each run of consecutive ids as a range and any other id alone.
inline void write_range_entries(BitWriter& out, const std::set<int>& ids) {
  const auto runs = runs_of(ids);
  out.write(runs.size(), 12);
  for (const auto& [first, last] : runs) {
    out.write_bool(first != last);
    out.write(static_cast<std::uint64_t>(first), 16);
    if (first != last) out.write(static_cast<std::uint64_t>(last), 16);
  }
}

/// read_vendor_list reads a TCF vendor list: MaxVendorId (16 bits), IsRangeEncoding (1), then a
/// bit field of MaxVendorId bits or range entries (see read_range_entries) whose ids may not
/// exceed MaxVendorId. `field` prefixes the field names. errc::bad_input, naming the field and
/// the bit offset, for a field running past the end or a bad range entry.
inline result<std::set<int>> read_vendor_list(BitReader& in, std::string_view field, IdBudget& budget) {
  const std::string name(field);
  auto max_id = in.read_int(16, name + ".MaxVendorId");
  if (!max_id) return std::move(max_id).err();
  auto is_range = in.read_bool(name + ".IsRangeEncoding");
  if (!is_range) return std::move(is_range).err();
  if (*is_range) return read_range_entries(in, name, *max_id, budget);
  return in.read_bit_field(static_cast<std::size_t>(*max_id), name + ".BitField");
}

/// vendor_list_uses_ranges says whether write_vendor_list writes `ids` as range entries rather
/// than a bit field. It is the choice of @iabtechlabtcf/core's VendorVectorEncoder, so that both
/// write the same bits: never for a MaxVendorId of 45 or less; otherwise ranges when the
/// encoder's running estimate of the range encoding stays below the bit field's 17 + MaxVendorId
/// bits. That estimate starts at 29 bits (MaxVendorId, IsRangeEncoding, NumEntries), adds 17 for
/// the start of a run of two or more ids and 16 for the id that ends a run or stands alone, and is
/// compared before the last id is counted; it is therefore short of the true length by one bit
/// for each id standing alone and by the last entry's closing id, so that ranges can win when
/// they are a few bits longer. A choice of ranges that would need more than 4095 entries (which
/// the reference cannot write) falls back to the bit field.
inline bool vendor_list_uses_ranges(const std::set<int>& ids) {
  if (ids.empty()) return false;
  const int max_id = *ids.rbegin();
  if (max_id <= 45) return false;
  const auto runs = runs_of(ids);
  if (runs.size() > static_cast<std::size_t>(kMaxNumEntries)) return false;
  std::int64_t estimate = 29;
  for (std::size_t k = 0; k + 1 < runs.size(); ++k) estimate += runs[k].first == runs[k].second ? 16 : 33;
  if (runs.back().first != runs.back().second) estimate += 17;  // its start; the end is not counted
  return estimate < 17 + static_cast<std::int64_t>(max_id);
}

/// write_vendor_list appends `ids` (each within 1..65535) as a TCF vendor list: MaxVendorId (the
/// largest id, 0 for none), IsRangeEncoding, and the encoding vendor_list_uses_ranges picks.
inline void write_vendor_list(BitWriter& out, const std::set<int>& ids) {
  const int max_id = ids.empty() ? 0 : *ids.rbegin();
  out.write(static_cast<std::uint64_t>(max_id), 16);
  const bool ranges = vendor_list_uses_ranges(ids);
  out.write_bool(ranges);
  if (ranges) {
    write_range_entries(out, ids);
  } else {
    out.write_bit_field(ids, static_cast<std::size_t>(max_id));
  }
}

}  // namespace consentry::signals::detail
