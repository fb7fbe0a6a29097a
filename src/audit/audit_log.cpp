// audit_log.cpp: the canonical encoding of audit entries, their BLAKE2b hash chain, Ed25519
// checkpoints over the chain head, one-pass verification of a stored log, and checkpoints as JSON.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <future>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "consentry/audit.hpp"
#include "consentry/records.hpp"
#include "encoding/framing.hpp"
#include "json/json_reader.hpp"
#include "text/hex.hpp"

namespace consentry {

static_assert(kAuditHashBytes >= crypto_generichash_BYTES_MIN &&
                  kAuditHashBytes <= crypto_generichash_BYTES_MAX,
              "the chain hash is a BLAKE2b output");
static_assert(kAuditPublicKeyBytes == crypto_sign_ed25519_PUBLICKEYBYTES);
static_assert(kAuditSecretKeyBytes == crypto_sign_ed25519_SECRETKEYBYTES);
static_assert(kAuditSignatureBytes == crypto_sign_ed25519_BYTES);

namespace {

using Json = nlohmann::ordered_json;

// kEntryVersion is the first byte of every encoded entry; a new layout gets a new number, so
// old entries keep verifying under the layout they were hashed with.
constexpr std::uint8_t kEntryVersion = 1;
// kEntryWithActorVersion is the first byte of an entry that names an actor: version 1's members,
// then the actor. Entries without one stay version 1, so the bytes of every entry written before
// actors were recorded are what they always were.
constexpr std::uint8_t kEntryWithActorVersion = 2;
// kCheckpointDomain separates checkpoint signatures from anything else the key could sign.
constexpr std::string_view kCheckpointDomain = "consentry/v1/audit-checkpoint";
// kReceiptDomain separates consent receipts' signatures from checkpoints' (AuditSigner::sign_receipt).
constexpr std::string_view kReceiptDomain = "consentry/v1/consent-receipt";
// kCheckpointHeadsDomain separates checkpoints over many chains' heads from one-chain ones.
constexpr std::string_view kCheckpointHeadsDomain = "consentry/v2/audit-checkpoint";
// kChainGenesisDomain starts the hash that binds a writer's chain to its vault and its id.
constexpr std::string_view kChainGenesisDomain = "consentry audit chain";
// kLengthBytes is the size of every length and count prefix (big-endian).
constexpr std::size_t kLengthBytes = 4;

// kActionSpellings pairs every action with its spelling, as to_string gives it.
constexpr std::pair<std::string_view, AuditAction> kActionSpellings[] = {
    {"view_opened", AuditAction::view_opened},
    {"field_read", AuditAction::field_read},
    {"access_denied", AuditAction::access_denied},
    {"value_written", AuditAction::value_written},
    {"consent_recorded", AuditAction::consent_recorded},
    {"export_made", AuditAction::export_made},
    {"erasure", AuditAction::erasure},
    {"key_rotation", AuditAction::key_rotation},
    {"policy_change", AuditAction::policy_change},
    {"purge", AuditAction::purge},
    {"contact_made", AuditAction::contact_made},
    {"aggregate_made", AuditAction::aggregate_made},
    {"detokenised", AuditAction::detokenised},
    {"staff_read", AuditAction::staff_read},
    {"lookup", AuditAction::lookup},
};

using Hash = std::array<std::uint8_t, kAuditHashBytes>;

// ---- encoding ----

// Writer appends big-endian integers and length-prefixed strings.
class Writer {
 public:
  explicit Writer(bytes& out) noexcept : out_(out) {}

  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v) { detail::put_be32(out_, v); }
  void u64(std::uint64_t v) { detail::put_be64(out_, v); }
  void i64(std::int64_t v) { u64(static_cast<std::uint64_t>(v)); }
  // A length that does not fit the 4-byte prefix has no encoding; truncating it would let two
  // different entries encode alike, so these refuse it like an allocation that cannot be made.
  void count(std::size_t n) { u32(detail::frame_length(n, kTooLong)); }
  void str(std::string_view s) { detail::put_framed(out_, as_bytes(s), kTooLong); }
  void blob(byte_view b) { detail::put_framed(out_, b, kTooLong); }

 private:
  static constexpr const char* kTooLong = "audit entry member longer than 4 GiB";
  bytes& out_;
};

using detail::load_be32;
using detail::load_be64;

// Reader takes big-endian integers and length-prefixed strings off the front of a byte range,
// viewing strings in place. Every read returns false when too few bytes remain; a reader that
// has failed once is not read again.
class Reader {
 public:
  explicit Reader(byte_view in) noexcept : p_(in.data()), end_(in.data() + in.size()) {}

  bool u8(std::uint8_t& v) noexcept {
    if (p_ == end_) return false;
    v = *p_++;
    return true;
  }
  bool u32(std::uint32_t& v) noexcept {
    if (remaining() < 4) return false;
    v = load_be32(p_);
    p_ += 4;
    return true;
  }
  bool i64(std::int64_t& v) noexcept {
    if (remaining() < 8) return false;
    v = static_cast<std::int64_t>(load_be64(p_));
    p_ += 8;
    return true;
  }
  bool str(std::string_view& out) noexcept {
    if (remaining() < 4) return false;
    const std::uint32_t n = load_be32(p_);
    if (remaining() - 4 < n) return false;
    out = std::string_view(reinterpret_cast<const char*>(p_ + 4), n);
    p_ += 4 + std::size_t{n};
    return true;
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - p_); }
  // rest is what has not been read yet.
  byte_view rest() const noexcept { return byte_view(p_, end_); }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

std::size_t encoded_size(const AuditEntry& e) {
  std::size_t n = 1 + 8 + 8 + 1 + kLengthBytes;
  for (std::string_view s : {std::string_view(e.customer), std::string_view(e.accessor),
                             std::string_view(e.purpose), to_string(e.action), std::string_view(e.reason)})
    n += kLengthBytes + s.size();
  for (const auto& f : e.fields) n += kLengthBytes + f.size();
  if (!e.actor.empty()) n += kLengthBytes + e.actor.size();
  return n;
}

error malformed(std::string_view what) {
  return make_error(errc::integrity, "audit entry is malformed: " + std::string(what));
}

// EntryParts are the members of an encoded entry, viewed in the encoded bytes. `fields` are the
// bytes of the `field_count` length-prefixed field names, already checked.
struct EntryParts {
  std::int64_t seq = 0;
  std::int64_t at = 0;
  std::string_view customer;
  std::string_view accessor;
  std::string_view purpose;
  AuditAction action = AuditAction::field_read;
  bool allowed = true;
  std::string_view reason;
  std::uint32_t field_count = 0;
  byte_view fields;
  std::string_view actor;  // "" in a version 1 entry
};

// Malformation is the first rule of the encoding that an entry breaks.
enum class Malformation { none, empty, version, truncated, action, decision, trailing, empty_actor };

// parse_entry checks every rule of the encoding and views the members of `encoded` without
// copying any. decode_audit_entry and check_audit_entry both go through it, so they refuse
// exactly the same bytes. It builds no error itself: verification calls it once per entry.
Malformation parse_entry(byte_view encoded, EntryParts& out) noexcept {
  Reader r(encoded);
  std::uint8_t version = 0;
  if (!r.u8(version)) return Malformation::empty;
  if (version != kEntryVersion && version != kEntryWithActorVersion) return Malformation::version;
  std::string_view action;
  if (!r.i64(out.seq) || !r.i64(out.at) || !r.str(out.customer) || !r.str(out.accessor) ||
      !r.str(out.purpose) || !r.str(action))
    return Malformation::truncated;
  auto parsed = parse_audit_action(action);
  if (!parsed) return Malformation::action;
  out.action = *parsed;
  std::uint8_t allowed = 0;
  if (!r.u8(allowed)) return Malformation::truncated;
  if (allowed > 1) return Malformation::decision;
  out.allowed = allowed == 1;
  if (!r.str(out.reason) || !r.u32(out.field_count)) return Malformation::truncated;
  // Each field takes at least its length prefix, which bounds the count before the fields are
  // walked (and before decode_audit_entry allocates for them).
  if (out.field_count > r.remaining() / kLengthBytes) return Malformation::truncated;
  out.fields = r.rest();
  std::string_view field;
  for (std::uint32_t i = 0; i < out.field_count; ++i)
    if (!r.str(field)) return Malformation::truncated;
  if (version == kEntryWithActorVersion) {
    if (!r.str(out.actor)) return Malformation::truncated;
    // Without an actor the entry is version 1: one entry, one spelling.
    if (out.actor.empty()) return Malformation::empty_actor;
  }
  if (r.remaining() != 0) return Malformation::trailing;
  return Malformation::none;
}

// malformed_entry is the error for `encoded`, which parse_entry found to break rule `m`.
error malformed_entry(Malformation m, byte_view encoded) {
  switch (m) {
    case Malformation::empty: return malformed("it is empty");
    case Malformation::version: return malformed("unknown version " + std::to_string(encoded[0]));
    case Malformation::action: return malformed("unknown action");
    case Malformation::decision: return malformed("the decision byte is neither 0 nor 1");
    case Malformation::trailing: return malformed("bytes follow its end");
    case Malformation::empty_actor: return malformed("a version 2 entry names no actor");
    case Malformation::truncated:
    case Malformation::none: break;
  }
  return malformed("it is truncated");
}

// ---- chain ----

// chain_hash_into streams previous and encoded into BLAKE2b, so that no concatenation is built.
void chain_hash_into(byte_view previous, byte_view encoded, std::uint8_t* out) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kAuditHashBytes);
  crypto_generichash_update(&state, previous.data(), previous.size());
  crypto_generichash_update(&state, encoded.data(), encoded.size());
  crypto_generichash_final(&state, out, kAuditHashBytes);
}

bool same_bytes(byte_view a, byte_view b) noexcept {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

// ---- verification ----

// Position is where in the log a problem lies: a chain, then a seq within it.
struct Position {
  std::int64_t chain = 0;
  std::int64_t seq = 0;
  friend bool operator<(const Position& a, const Position& b) noexcept {
    return a.chain != b.chain ? a.chain < b.chain : a.seq < b.seq;
  }
};

// Finding keeps the first problem seen so far, in (chain, seq) order; the report names it.
class Finding {
 public:
  void note(Position at, std::string problem) {
    if (!any_ || at < at_) {
      any_ = true;
      at_ = at;
      problem_ = std::move(problem);
    }
  }
  void note(std::int64_t seq, std::string problem) { note(Position{0, seq}, std::move(problem)); }
  bool any() const noexcept { return any_; }
  // before is true when `at` lies after the problem found, so nothing there can be first.
  bool past(Position at) const noexcept { return any_ && at_ < at; }
  Position at() const noexcept { return at_; }
  std::string& problem() noexcept { return problem_; }

 private:
  bool any_ = false;
  Position at_;
  std::string problem_;
};

// Link is one entry's link in a chain, copied out of the store's row: where it is, the counts
// the report had reached before it, the hash it follows (the stored hash of the entry before it
// in its chain, or the chain's genesis), its stored hash, and where its encoding lies in its
// LinkChunk's bytes. Each link is checked on its own, so links can be checked in any order and
// on any thread: when every link holds, the stored hashes are the chain recomputed from the
// genesis (by induction), and the first link that does not hold is where the recomputed chain
// first departs from the stored one, as a pass that carried the recomputed hash along finds.
struct Link {
  Position at;
  std::int64_t entries_before = 0;
  std::int64_t checkpoints_before = 0;
  Hash previous{};
  Hash stored{};
  std::size_t offset = 0;
  std::size_t size = 0;
};

// LinkChunk is a run of links and the encodings they point into.
struct LinkChunk {
  std::vector<Link> links;
  bytes encodings;
};

// link_holds is true when `link`'s stored hash is BLAKE2b(previous || encoding).
bool link_holds(const Link& link, byte_view encoding) {
  Hash hash;
  chain_hash_into(link.previous, encoding, hash.data());
  return hash == link.stored;
}

// first_broken_link is the first link of `chunk` that does not hold, or nullopt.
std::optional<Link> first_broken_link(const LinkChunk& chunk) {
  for (const Link& link : chunk.links)
    if (!link_holds(link, byte_view(chunk.encodings).subspan(link.offset, link.size))) return link;
  return std::nullopt;
}

// LinkChecker checks the links of a verification beside the scan that finds them: a full chunk
// of kLinksPerChunk links goes to a thread of its own while the scan reads the next, one chunk
// at a time; what remains at the end is checked on the calling thread (so a log shorter than a
// chunk starts no thread). Hashing is about half of a verification's work, reading the log out
// of the store the other half.
class LinkChecker {
 public:
  static constexpr std::size_t kLinksPerChunk = 8192;

  LinkChecker() { chunk_.links.reserve(kLinksPerChunk); }
  LinkChecker(const LinkChecker&) = delete;
  LinkChecker& operator=(const LinkChecker&) = delete;
  // The chunk still being checked, if any, is waited for (std::future's destructor).
  ~LinkChecker() = default;

  // add copies a link and its encoding in; false once a chunk checked so far has a broken link,
  // after which the scan may stop.
  bool add(Link link, byte_view encoding) {
    link.offset = chunk_.encodings.size();
    link.size = encoding.size();
    chunk_.encodings.insert(chunk_.encodings.end(), encoding.begin(), encoding.end());
    chunk_.links.push_back(link);
    if (chunk_.links.size() == kLinksPerChunk) hand_off();
    return !broken_;
  }
  // finish waits for the chunk being checked and checks the rest: the first broken link of all
  // those added, or nullopt.
  std::optional<Link> finish() {
    settle();
    if (!broken_ && !chunk_.links.empty()) broken_ = first_broken_link(chunk_);
    chunk_ = {};
    return std::move(broken_);
  }

 private:
  // settle takes the result of the chunk being checked, if any.
  void settle() {
    if (!checking_.valid()) return;
    std::optional<Link> found = checking_.get();
    if (!broken_) broken_ = std::move(found);
  }
  void hand_off() {
    settle();
    auto full = std::make_shared<const LinkChunk>(std::move(chunk_));
    chunk_ = {};
    chunk_.links.reserve(kLinksPerChunk);
    if (broken_) return;  // a link before these is broken: these are not reported
    try {
      checking_ = std::async(std::launch::async, [full] { return first_broken_link(*full); });
    } catch (const std::system_error&) {
      // No thread to be had: checked here instead.
      broken_ = first_broken_link(*full);
    }
  }

  LinkChunk chunk_;
  std::future<std::optional<Link>> checking_;
  std::optional<Link> broken_;
};

// kModifiedEntry is what is said of an entry whose stored hash is not its link in the chain.
constexpr const char* kModifiedEntry = ": its hash does not match the chain (modified entry)";

// Expected is a head that a checkpoint with a good signature vouches for.
struct Expected {
  std::int64_t chain;
  std::int64_t seq;
  const bytes* head;
  bool external;
};

std::string checkpoint_name(bool external, std::int64_t seq) {
  return std::string(external ? "the external checkpoint" : "checkpoint") + " at seq " + std::to_string(seq);
}

// chain_name prefixes what is said about an entry of a writer's chain; nothing for chain 0, so
// a one-chain log's findings read as they always have.
std::string chain_name(std::int64_t chain) {
  return chain == 0 ? std::string() : "chain " + std::to_string(chain) + ": ";
}

// ---- JSON ----

error json_error(std::string_view path, std::string_view what) {
  return make_error(errc::bad_input, std::string(path) + ": " + std::string(what));
}

// member_path names a member of the root object; keys that are not plain words are quoted the
// way JSON writes them, so that control characters do not reach a terminal.
std::string member_path(std::string_view key) {
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (plain) return "$." + std::string(key);
  return "$[" + Json(std::string(key)).dump(-1, ' ', true, Json::error_handler_t::replace) + "]";
}

// hex_value reads `size` bytes written as hex at `path`.
result<bytes> hex_value(const Json& v, const std::string& path, std::size_t size) {
  const std::string want =
      "must be " + std::to_string(size * 2) + " hex digits (" + std::to_string(size) + " bytes)";
  if (!v.is_string()) return json_error(path, want);
  const auto& hex = v.get_ref<const std::string&>();
  bytes out(size);
  if (!detail::hex_decode(hex, out, path)) return json_error(path, want);
  return out;
}

result<bytes> hex_member(const Json& root, std::string_view key, std::size_t size) {
  return hex_value(root.at(std::string(key)), member_path(key), size);
}

// positive_int64 reads a positive integer that fits std::int64_t; nullopt otherwise.
std::optional<std::int64_t> positive_int64(const Json& v) {
  const bool fits =
      v.is_number_integer() &&
      (!v.is_number_unsigned() ||
       v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()));
  if (!fits || v.get<std::int64_t>() < 1) return std::nullopt;
  return v.get<std::int64_t>();
}

}  // namespace

std::string_view to_string(AuditAction a) noexcept {
  switch (a) {
    case AuditAction::view_opened: return "view_opened";
    case AuditAction::field_read: return "field_read";
    case AuditAction::access_denied: return "access_denied";
    case AuditAction::value_written: return "value_written";
    case AuditAction::consent_recorded: return "consent_recorded";
    case AuditAction::export_made: return "export_made";
    case AuditAction::erasure: return "erasure";
    case AuditAction::key_rotation: return "key_rotation";
    case AuditAction::policy_change: return "policy_change";
    case AuditAction::purge: return "purge";
    case AuditAction::contact_made: return "contact_made";
    case AuditAction::aggregate_made: return "aggregate_made";
    case AuditAction::detokenised: return "detokenised";
    case AuditAction::staff_read: return "staff_read";
    case AuditAction::lookup: return "lookup";
  }
  return "field_read";
}

std::optional<AuditAction> parse_audit_action(std::string_view text) {
  for (const auto& [spelling, action] : kActionSpellings)
    if (spelling == text) return action;
  return std::nullopt;
}

bytes encode_audit_entry(const AuditEntry& e) {
  bytes out;
  out.reserve(encoded_size(e));
  Writer w(out);
  w.u8(e.actor.empty() ? kEntryVersion : kEntryWithActorVersion);
  w.i64(e.seq);
  w.i64(e.at.time_since_epoch().count());
  w.str(e.customer);
  w.str(e.accessor);
  w.str(e.purpose);
  w.str(to_string(e.action));
  w.u8(e.allowed ? 1 : 0);
  w.str(e.reason);
  w.count(e.fields.size());
  for (const auto& f : e.fields) w.str(f);
  if (!e.actor.empty()) w.str(e.actor);
  return out;
}

result<AuditEntry> decode_audit_entry(byte_view encoded) {
  EntryParts parts;
  if (const Malformation m = parse_entry(encoded, parts); m != Malformation::none)
    return malformed_entry(m, encoded);
  AuditEntry e;
  e.seq = parts.seq;
  e.at = timestamp{std::chrono::seconds{parts.at}};
  e.customer = parts.customer;
  e.accessor = parts.accessor;
  e.purpose = parts.purpose;
  e.action = parts.action;
  e.allowed = parts.allowed;
  e.reason = parts.reason;
  e.fields.resize(parts.field_count);
  // parse_entry has checked every field's length against the bytes.
  Reader fields(parts.fields);
  std::string_view field;
  for (auto& f : e.fields) {
    (void)fields.str(field);
    f = field;
  }
  e.actor = parts.actor;
  return e;
}

result<AuditEntryLookup> check_audit_entry(byte_view encoded) {
  EntryParts parts;
  if (const Malformation m = parse_entry(encoded, parts); m != Malformation::none)
    return malformed_entry(m, encoded);
  return AuditEntryLookup{parts.seq, timestamp{std::chrono::seconds{parts.at}}, parts.customer};
}

bytes audit_chain_hash(byte_view previous, byte_view encoded) {
  // BLAKE2b needs no entropy: sodium_init only picks the fastest implementation, so its answer
  // cannot change this result.
  (void)sodium_ready();
  bytes out(kAuditHashBytes);
  chain_hash_into(previous, encoded, out.data());
  return out;
}

bytes checkpoint_message(std::int64_t seq, byte_view head, timestamp at) {
  // Sized up front and filled by assignment: GCC 12 misreads insert() into a reserved vector
  // as an overflow (-Wstringop-overflow).
  bytes out(kCheckpointDomain.begin(), kCheckpointDomain.end());
  out.reserve(out.size() + 8 + kLengthBytes + head.size() + 8);
  Writer w(out);
  w.i64(seq);
  w.blob(head);
  w.i64(at.time_since_epoch().count());
  return out;
}

bytes audit_chain_genesis(byte_view public_key, std::int64_t chain) {
  if (chain == 0) return bytes(kAuditHashBytes, 0);
  (void)sodium_ready();
  bytes id;
  Writer(id).i64(chain);
  bytes out(kAuditHashBytes);
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kAuditHashBytes);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kChainGenesisDomain.data()),
                            kChainGenesisDomain.size());
  crypto_generichash_update(&state, public_key.data(), public_key.size());
  crypto_generichash_update(&state, id.data(), id.size());
  crypto_generichash_final(&state, out.data(), kAuditHashBytes);
  return out;
}

bytes checkpoint_message(const AuditCheckpoint& cp) {
  if (cp.heads.empty()) return checkpoint_message(cp.seq, cp.head, cp.at);
  bytes out(kCheckpointHeadsDomain.begin(), kCheckpointHeadsDomain.end());
  Writer w(out);
  w.i64(cp.seq);
  w.i64(cp.at.time_since_epoch().count());
  w.blob(cp.previous);
  w.count(cp.heads.size());
  for (const AuditHead& h : cp.heads) {
    w.i64(h.chain);
    w.i64(h.seq);
    w.blob(h.hash);
  }
  return out;
}

bytes checkpoint_hash(const AuditCheckpoint& cp) {
  const bytes message = checkpoint_message(cp);
  (void)sodium_ready();
  bytes out(kAuditHashBytes);
  chain_hash_into(message, cp.signature, out.data());
  return out;
}

AuditSigner AuditSigner::generate() {
  // SecretBytes throws std::bad_alloc when libsodium cannot initialise, before any key is made.
  SecretBytes sk(kAuditSecretKeyBytes);
  bytes pk(kAuditPublicKeyBytes);
  crypto_sign_ed25519_keypair(pk.data(), sk.reveal().data());
  return AuditSigner(std::move(sk), std::move(pk));
}

result<AuditSigner> AuditSigner::from_secret_key(SecretBytes secret_key) {
  if (secret_key.size() != kAuditSecretKeyBytes)
    return make_error(errc::integrity, "audit signing key has the wrong size");
  if (!sodium_ready()) return make_error(errc::internal, "libsodium failed to initialise");
  // An Ed25519 secret key is seed || public key. Rebuilding the pair from the seed catches a
  // damaged key whose halves disagree, which would sign checkpoints that never verify.
  SecretBytes seed(crypto_sign_ed25519_SEEDBYTES);
  crypto_sign_ed25519_sk_to_seed(seed.reveal().data(), secret_key.reveal().data());
  SecretBytes rebuilt(kAuditSecretKeyBytes);
  bytes pk(kAuditPublicKeyBytes);
  crypto_sign_ed25519_seed_keypair(pk.data(), rebuilt.reveal().data(), seed.reveal().data());
  bytes embedded(kAuditPublicKeyBytes);
  crypto_sign_ed25519_sk_to_pk(embedded.data(), secret_key.reveal().data());
  if (sodium_memcmp(pk.data(), embedded.data(), pk.size()) != 0)
    return make_error(errc::integrity,
                      "audit signing key is damaged (its public half does not match its seed)");
  return AuditSigner(std::move(secret_key), std::move(pk));
}

AuditCheckpoint AuditSigner::sign(std::int64_t seq, byte_view head, timestamp at) const {
  // A moved-from signer has no key; signing with it would read through a null pointer.
  if (secret_key_.size() != kAuditSecretKeyBytes) std::abort();
  const bytes message = checkpoint_message(seq, head, at);
  bytes signature(kAuditSignatureBytes);
  crypto_sign_ed25519_detached(signature.data(), nullptr, message.data(), message.size(),
                               secret_key_.reveal().data());
  return AuditCheckpoint{seq, bytes(head.begin(), head.end()), at, std::move(signature), {}, {}};
}

AuditCheckpoint AuditSigner::sign_heads(std::int64_t number, std::vector<AuditHead> heads, bytes previous,
                                        timestamp at) const {
  if (secret_key_.size() != kAuditSecretKeyBytes) std::abort();
  std::sort(heads.begin(), heads.end(),
            [](const AuditHead& a, const AuditHead& b) { return a.chain < b.chain; });
  AuditCheckpoint cp{number, {}, at, bytes(kAuditSignatureBytes), std::move(heads), std::move(previous)};
  const bytes message = checkpoint_message(cp);
  crypto_sign_ed25519_detached(cp.signature.data(), nullptr, message.data(), message.size(),
                               secret_key_.reveal().data());
  return cp;
}

namespace {

// receipt_message is what a receipt's signature covers: the domain, a NUL, then the body.
bytes receipt_message(std::string_view body) {
  bytes out(kReceiptDomain.begin(), kReceiptDomain.end());
  out.push_back(0);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace

bytes AuditSigner::sign_receipt(std::string_view body) const {
  if (secret_key_.size() != kAuditSecretKeyBytes) std::abort();
  const bytes message = receipt_message(body);
  bytes signature(kAuditSignatureBytes);
  crypto_sign_ed25519_detached(signature.data(), nullptr, message.data(), message.size(),
                               secret_key_.reveal().data());
  return signature;
}

bool verify_receipt_signature(std::string_view body, byte_view signature, byte_view public_key) {
  if (public_key.size() != kAuditPublicKeyBytes || signature.size() != kAuditSignatureBytes) return false;
  if (!sodium_ready()) return false;
  const bytes message = receipt_message(body);
  return crypto_sign_ed25519_verify_detached(signature.data(), message.data(), message.size(),
                                             public_key.data()) == 0;
}

bool verify_checkpoint(const AuditCheckpoint& cp, byte_view public_key) {
  if (public_key.size() != kAuditPublicKeyBytes || cp.signature.size() != kAuditSignatureBytes) return false;
  if (cp.heads.empty() ? cp.head.size() != kAuditHashBytes
                       : !cp.head.empty() || cp.previous.size() != kAuditHashBytes)
    return false;
  for (const AuditHead& h : cp.heads)
    if (h.hash.size() != kAuditHashBytes) return false;
  if (!sodium_ready()) return false;
  const bytes message = checkpoint_message(cp);
  return crypto_sign_ed25519_verify_detached(cp.signature.data(), message.data(), message.size(),
                                             public_key.data()) == 0;
}

result<AuditVerification> verify_audit_log(AuditLogReader& log, byte_view public_key,
                                           const std::optional<AuditCheckpoint>& against,
                                           const std::function<void(std::int64_t checked)>& on_progress) {
  AuditVerification report;
  Finding finding;

  // Checkpoints first: they are few, and the scan below compares each head as it passes its seq.
  auto loaded = log.checkpoints();
  if (!loaded) return std::move(loaded).err();
  const std::vector<AuditCheckpoint>& stored = *loaded;
  std::vector<Expected> expected;
  expected.reserve(stored.size() + 1);
  const auto vouch = [&](const AuditCheckpoint& cp, bool external) {
    const std::string name = checkpoint_name(external, cp.seq);
    const Position first = cp.heads.empty() ? Position{0, std::max<std::int64_t>(cp.seq, 1)}
                                            : Position{cp.heads.front().chain, 1};
    if (!verify_checkpoint(cp, public_key)) {
      finding.note(first, name + (external ? ": its signature does not verify under the given key"
                                           : ": its signature does not verify (forged or altered)"));
    } else if (cp.heads.empty()) {
      if (cp.seq < 1)
        finding.note(1, name + " names no entry (seqs start at 1)");
      else
        expected.push_back(Expected{0, cp.seq, &cp.head, external});
    } else {
      for (std::size_t i = 0; i < cp.heads.size(); ++i) {
        const AuditHead& h = cp.heads[i];
        if (h.seq < 1 || (i > 0 && cp.heads[i - 1].chain >= h.chain)) {
          finding.note(first, name + " lists a chain head twice or at no entry");
          return;
        }
      }
      for (const AuditHead& h : cp.heads) expected.push_back(Expected{h.chain, h.seq, &h.hash, external});
    }
  };
  // Checkpoints over many chains form a chain of their own: each names the one stored before it,
  // so none can be removed from the middle or reordered.
  bytes previous_checkpoint(kAuditHashBytes, 0);
  for (const auto& cp : stored) {
    if (!cp.heads.empty() && !same_bytes(cp.previous, previous_checkpoint) &&
        verify_checkpoint(cp, public_key))
      finding.note(Position{cp.heads.front().chain, 1},
                   checkpoint_name(false, cp.seq) +
                       " does not follow the checkpoint stored before it (deleted, inserted or reordered "
                       "checkpoints)");
    previous_checkpoint = checkpoint_hash(cp);
    vouch(cp, false);
  }
  if (against) vouch(*against, true);
  std::stable_sort(expected.begin(), expected.end(), [](const Expected& a, const Expected& b) {
    return Position{a.chain, a.seq} < Position{b.chain, b.seq};
  });

  // One pass over the log in (chain, seq) order, holding only the chain's previous stored hash
  // and the position in `expected`. The entries are viewed where the store keeps them and checked
  // without copying any member; each one's link in the chain (its encoding and the two hashes) is
  // copied to the LinkChecker, which hashes beside the scan.
  std::int64_t chain = 0;
  Hash previous{};
  std::int64_t next = 1;
  LinkChecker links;
  std::size_t pending = 0;
  bool stopped = false;
  bool started = false;
  // end_chain notes a checkpointed head that the chain just scanned (or one that is absent from
  // the log altogether) does not reach; false when the scan must stop there.
  const auto end_chain = [&](std::int64_t up_to_chain) {
    for (; pending < expected.size() && expected[pending].chain <= up_to_chain; ++pending) {
      const Expected& beyond = expected[pending];
      // Chain 0 is the log itself when there is one chain: an empty log "ends at seq 0".
      const bool scanned_it = started && beyond.chain == chain;
      const std::int64_t last = scanned_it ? next - 1 : 0;
      const Position at{beyond.chain, last + 1};
      std::string problem = scanned_it || beyond.chain == 0
                                ? chain_name(beyond.chain) + "the log ends at seq " + std::to_string(last)
                                : "chain " + std::to_string(beyond.chain) + " is missing";
      problem += std::string(" but ") +
                 (beyond.external ? "the external checkpoint covers seq " : "a checkpoint covers seq ") +
                 std::to_string(beyond.seq) + (beyond.external ? " (rolled back)" : " (truncated tail)");
      finding.note(at, std::move(problem));
      return false;
    }
    return true;
  };
  auto scanned = log.scan_audit_views(1, [&](const StoredAuditView& e) {
    const auto fail = [&](Position at, std::string problem) {
      finding.note(at, std::move(problem));
      stopped = true;
      return false;
    };
    if (e.chain < 0) return fail(Position{chain, next}, "an entry names chain " + std::to_string(e.chain));
    if (!started || e.chain != chain) {
      if (started && e.chain < chain)
        return fail(Position{chain, next}, chain_name(e.chain) + "entries are out of chain order");
      if (started && !end_chain(chain)) {
        stopped = true;
        return false;
      }
      // Heads of chains that the log lacks altogether lie between the two.
      if (!end_chain(e.chain - 1)) {
        stopped = true;
        return false;
      }
      started = true;
      chain = e.chain;
      next = 1;
      const bytes genesis = audit_chain_genesis(public_key, chain);
      std::copy(genesis.begin(), genesis.end(), previous.begin());
    }
    const Position here{chain, next};
    // Anything found from here on lies after a problem already found.
    if (finding.past(here)) {
      stopped = true;
      return false;
    }
    const std::string in_chain = chain_name(chain);
    // Built only on failure: this is the hot loop of `log verify`.
    const auto at_seq = [&] { return in_chain + "entry " + std::to_string(e.seq); };
    if (e.seq > next)
      return fail(here, in_chain + "entry " + std::to_string(next) + " is missing: the log goes on at seq " +
                            std::to_string(e.seq) + " (deleted entries)");
    if (e.seq < next)
      return fail(here, in_chain + "seq " + std::to_string(e.seq) + " appears again after seq " +
                            std::to_string(next - 1) + " (duplicated or reordered entries)");
    // Every rule of the encoding is checked, though only seq, at and customer are read back.
    const auto checked = check_audit_entry(e.encoded);
    if (!checked) return fail(here, at_seq() + " does not decode (corrupt entry bytes)");
    const AuditEntryLookup& decoded = *checked;
    if (decoded.seq > e.seq)
      return fail(here, in_chain + "the entry stored at seq " + std::to_string(e.seq) + " is entry " +
                            std::to_string(decoded.seq) + " (reordered or renumbered entries)");
    if (decoded.seq < e.seq)
      return fail(here, in_chain + "the entry stored at seq " + std::to_string(e.seq) + " is entry " +
                            std::to_string(decoded.seq) + " again (inserted or duplicated entry)");
    if (decoded.at != e.at) return fail(here, at_seq() + ": its lookup column 'at' does not match the entry");
    if (decoded.customer != e.customer)
      return fail(here, at_seq() + ": its lookup column 'customer' does not match the entry");
    Link link;
    link.at = here;
    link.entries_before = report.entries;
    link.checkpoints_before = report.checkpoints;
    link.previous = previous;
    // A stored hash of the wrong size holds no link; it fails here, where the hash that a pass
    // carrying the recomputed chain along would compare it with fails too.
    if (e.hash.size() != kAuditHashBytes) return fail(here, at_seq() + kModifiedEntry);
    std::copy(e.hash.begin(), e.hash.end(), link.stored.begin());
    ++report.entries;
    for (; pending < expected.size() && expected[pending].chain == chain && expected[pending].seq == e.seq;
         ++pending) {
      // The stored hash is the recomputed one unless this link or one before it is broken, which
      // is then the problem found first: this one's is checked here, the others' by `links`.
      if (!same_bytes(link.stored, *expected[pending].head)) {
        if (!link_holds(link, e.encoded)) {
          report.entries = link.entries_before;
          report.checkpoints = link.checkpoints_before;
          return fail(here, at_seq() + kModifiedEntry);
        }
        return fail(here, in_chain + checkpoint_name(expected[pending].external, e.seq) +
                              " does not match the chain (the log was rewritten up to it)");
      }
      ++report.checkpoints;
    }
    previous = link.stored;
    ++next;
    if (!links.add(link, e.encoded)) {
      stopped = true;
      return false;
    }
    if (on_progress && report.entries % kAuditProgressEvery == 0) on_progress(report.entries);
    return true;
  });
  if (!scanned) return std::move(scanned).err();
  // The first broken link lies before anything the scan found after it; the counts go back to
  // what they were there.
  if (std::optional<Link> broken = links.finish()) {
    finding.note(broken->at,
                 chain_name(broken->at.chain) + "entry " + std::to_string(broken->at.seq) + kModifiedEntry);
    report.entries = broken->entries_before;
    report.checkpoints = broken->checkpoints_before;
    stopped = true;
  }

  // A checkpoint past the last entry of a chain, or naming a chain the log lacks, vouches for
  // entries that are gone.
  if (!stopped) {
    if (started) (void)end_chain(chain);
    (void)end_chain(std::numeric_limits<std::int64_t>::max());
  }

  if (finding.any()) {
    report.ok = false;
    report.first_bad_seq = finding.at().seq;
    report.first_bad_chain = finding.at().chain;
    report.problem = std::move(finding.problem());
  }
  return report;
}

std::string checkpoint_to_json(const AuditCheckpoint& cp, byte_view public_key) {
  nlohmann::ordered_json j;
  j["seq"] = cp.seq;
  if (cp.heads.empty()) {
    j["head"] = detail::hex_encode(cp.head);
  } else {
    nlohmann::ordered_json heads = nlohmann::ordered_json::array();
    for (const AuditHead& h : cp.heads)
      heads.push_back({{"chain", h.chain}, {"seq", h.seq}, {"head", detail::hex_encode(h.hash)}});
    j["heads"] = std::move(heads);
    j["previous"] = detail::hex_encode(cp.previous);
  }
  j["at"] = format_timestamp(cp.at);
  j["signature"] = detail::hex_encode(cp.signature);
  j["public_key"] = detail::hex_encode(public_key);
  return j.dump();
}

result<AuditCheckpoint> checkpoint_from_json(std::string_view text, bytes& public_key_out) {
  static constexpr std::string_view kOneChain[] = {"seq", "head", "at", "signature", "public_key"};
  static constexpr std::string_view kManyChains[] = {"seq", "heads",     "previous",
                                                     "at",  "signature", "public_key"};
  // A checkpoint that says two things (a key given twice) is refused like any malformed one.
  Json root;
  if (auto problem = read_json(text, root)) {
    if (!problem->path.empty()) return make_error(errc::bad_input, problem->message());
    return json_error("$", problem->message());
  }
  if (!root.is_object()) return json_error("$", "must be an object");
  const bool many = root.contains("heads");
  const auto keys =
      many ? std::span<const std::string_view>(kManyChains) : std::span<const std::string_view>(kOneChain);
  for (const auto& [key, value] : root.items())
    if (std::find(keys.begin(), keys.end(), key) == keys.end())
      return json_error(member_path(key),
                        many ? "unknown key (expected seq, heads, previous, at, signature, public_key)"
                             : "unknown key (expected seq, head, at, signature, public_key)");
  for (std::string_view key : keys)
    if (!root.contains(key)) return json_error(member_path(key), "missing");

  AuditCheckpoint cp;
  const auto seq = positive_int64(root.at("seq"));
  if (!seq) return json_error("$.seq", "must be a positive integer");
  cp.seq = *seq;

  const Json& at = root.at("at");
  std::optional<timestamp> when;
  if (at.is_string()) when = parse_timestamp(at.get_ref<const std::string&>());
  if (!when) return json_error("$.at", "must be a time like 2026-01-01T00:00:00Z");
  cp.at = *when;

  if (many) {
    const Json& heads = root.at("heads");
    if (!heads.is_array() || heads.empty()) return json_error("$.heads", "must be a non-empty array");
    for (std::size_t i = 0; i < heads.size(); ++i) {
      const std::string path = "$.heads[" + std::to_string(i) + "]";
      const Json& h = heads[i];
      if (!h.is_object() || h.size() != 3 || !h.contains("chain") || !h.contains("seq") ||
          !h.contains("head"))
        return json_error(path, "must be an object with chain, seq and head");
      AuditHead head;
      const Json& chain = h.at("chain");
      if (chain.is_number_integer() && !chain.is_number_unsigned() && chain.get<std::int64_t>() == 0) {
        head.chain = 0;
      } else if (const auto c = positive_int64(chain)) {
        head.chain = *c;
      } else {
        return json_error(path + ".chain", "must be a chain id (an integer, 0 or more)");
      }
      if (i > 0 && cp.heads.back().chain >= head.chain)
        return json_error(path + ".chain", "must be greater than the chain before it");
      const auto head_seq = positive_int64(h.at("seq"));
      if (!head_seq) return json_error(path + ".seq", "must be a positive integer");
      head.seq = *head_seq;
      auto hash = hex_value(h.at("head"), path + ".head", kAuditHashBytes);
      if (!hash) return std::move(hash).err();
      head.hash = std::move(hash).value();
      cp.heads.push_back(std::move(head));
    }
    auto previous = hex_member(root, "previous", kAuditHashBytes);
    if (!previous) return std::move(previous).err();
    cp.previous = std::move(previous).value();
  } else {
    auto head = hex_member(root, "head", kAuditHashBytes);
    if (!head) return std::move(head).err();
    cp.head = std::move(head).value();
  }
  auto signature = hex_member(root, "signature", kAuditSignatureBytes);
  if (!signature) return std::move(signature).err();
  cp.signature = std::move(signature).value();
  auto public_key = hex_member(root, "public_key", kAuditPublicKeyBytes);
  if (!public_key) return std::move(public_key).err();
  public_key_out = std::move(public_key).value();
  return cp;
}

}  // namespace consentry
