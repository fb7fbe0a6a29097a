// manifest.cpp: customers' manifests (the authenticated list of their values) and the re-sealing
// of values written before their source and collection time were bound.
#include "vault/manifest.hpp"

#include <algorithm>
#include <cstring>

#include "encoding/framing.hpp"

namespace consentry {
namespace {

// An encoded manifest: kFormat (1 byte), the number of entries (4 bytes, big-endian), then per
// entry, by field name: the name's length (2 bytes, big-endian), the name, the value's digest
// (kValueDigestBytes). The row's sealed bytes are the body followed by its manifest_tag. The
// row's source, collected_at and format columns are not used: nothing vouches for them.
constexpr std::size_t kHeaderBytes = 1 + 4;

// kListBatch is how many customers list_values brings up to date per transaction: short enough
// that other processes wait for the write lock briefly, long enough that the commits' syncs are
// not the cost.
constexpr std::size_t kListBatch = 256;

error value_failed(std::string_view field, std::string_view why) {
  return make_error(errc::integrity, "field '" + std::string(field) + "' " + std::string(why));
}

}  // namespace

error manifest_failed() {
  return make_error(errc::integrity,
                    "the customer's list of stored values is missing or failed authentication");
}

result<Manifest> Manifest::open(const SecretBytes& dek, std::string_view customer,
                                const std::optional<StoredField>& row) {
  if (!row || row->sealed.size() < kHeaderBytes + kManifestTagBytes) return manifest_failed();
  const byte_view all(row->sealed);
  const byte_view body = all.first(all.size() - kManifestTagBytes);
  if (!manifest_tag_matches(dek, customer, body, all.last(kManifestTagBytes))) return manifest_failed();
  // Authentic from here on; the checks below catch a body this code did not write.
  if (body[0] != kFormat) return manifest_failed();
  const std::uint32_t count = detail::load_be32(body.data() + 1);
  Manifest out;
  std::size_t at = kHeaderBytes;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (body.size() - at < 2) return manifest_failed();
    const std::size_t length = detail::load_be16(body.data() + at);
    at += 2;
    if (body.size() - at < length + kValueDigestBytes) return manifest_failed();
    Entry e;
    e.field.assign(reinterpret_cast<const char*>(body.data() + at), length);
    at += length;
    std::memcpy(e.digest.data(), body.data() + at, kValueDigestBytes);
    at += kValueDigestBytes;
    if (!out.entries_.empty() && !(out.entries_.back().field < e.field)) return manifest_failed();
    out.entries_.push_back(std::move(e));
  }
  if (at != body.size()) return manifest_failed();
  return out;
}

StoredField Manifest::seal(const SecretBytes& dek, const std::string& customer) const {
  StoredField row;
  row.customer = customer;
  row.field = std::string(kManifestField);
  bytes& out = row.sealed;
  out.reserve(kHeaderBytes + entries_.size() * (2 + 16 + kValueDigestBytes) + kManifestTagBytes);
  out.push_back(kFormat);
  detail::put_be32(out, static_cast<std::uint32_t>(entries_.size()));
  for (const Entry& e : entries_) {
    // Field names are policy ids (at most 64 bytes), far below the 2-byte length's limit.
    const auto length = static_cast<std::uint16_t>(std::min<std::size_t>(e.field.size(), 0xffff));
    detail::put_be16(out, length);
    out.insert(out.end(), e.field.begin(), e.field.begin() + length);
    out.insert(out.end(), e.digest.begin(), e.digest.end());
  }
  const auto tag = manifest_tag(dek, customer, out);
  out.insert(out.end(), tag.begin(), tag.end());
  row.format = 0;  // not a sealed value
  return row;
}

void Manifest::note(const StoredField& value) {
  note(value.field, value_digest(value.format, value.source, value.collected_at, value.sealed));
}

void Manifest::note(const std::string& field, const Digest& digest) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), field,
                             [](const Entry& e, const std::string& f) { return e.field < f; });
  if (it != entries_.end() && it->field == field)
    it->digest = digest;
  else
    entries_.insert(it, Entry{field, digest});
}

bool Manifest::drop(std::string_view field) {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), field,
                             [](const Entry& e, std::string_view f) { return e.field < f; });
  if (it == entries_.end() || it->field != field) return false;
  entries_.erase(it);
  return true;
}

const Manifest::Entry* Manifest::find(std::string_view field) const {
  auto it = std::lower_bound(entries_.begin(), entries_.end(), field,
                             [](const Entry& e, std::string_view f) { return e.field < f; });
  return it != entries_.end() && it->field == field ? &*it : nullptr;
}

result<void> Manifest::check(std::string_view field, const StoredField* value) const {
  const Entry* listed = find(field);
  if (!listed && !value) return ok();
  if (!listed) return value_failed(field, "is stored but not listed among the customer's values");
  if (!value) return value_failed(field, "is listed among the customer's values but missing");
  const Digest digest = value_digest(value->format, value->source, value->collected_at, value->sealed);
  // Not secret, so no constant-time compare is needed: the digest is of bytes anyone with the
  // store can read.
  if (digest != listed->digest)
    return value_failed(field, "differs from the value listed for the customer (its row was changed)");
  return ok();
}

result<void> Manifest::check_all(const std::vector<StoredField>& values) const {
  for (const StoredField& v : values) CONSENTRY_TRY(check(v.field, &v));
  // Every row is listed (and distinct: the store keys rows by field), so equal counts mean every
  // listed field has its row.
  if (values.size() != entries_.size()) {
    for (const Entry& e : entries_) {
      const bool held =
          std::any_of(values.begin(), values.end(), [&](const StoredField& v) { return v.field == e.field; });
      if (!held) return value_failed(e.field, "is listed among the customer's values but missing");
    }
  }
  return ok();
}

bool VouchedRows::holds(const StoredField& row) const {
  return std::any_of(rows.begin(), rows.end(), [&](const StoredField& r) {
    return r.field == row.field && r.format == row.format && r.collected_at == row.collected_at &&
           r.source == row.source && r.sealed == row.sealed;
  });
}

std::optional<StoredField> take_manifest(std::vector<StoredField>& rows) {
  auto it =
      std::find_if(rows.begin(), rows.end(), [](const StoredField& f) { return f.field == kManifestField; });
  if (it == rows.end()) return std::nullopt;
  std::optional<StoredField> out(std::move(*it));
  rows.erase(it);
  return out;
}

result<std::optional<Manifest>> vouching_manifest(const SecretBytes* key, std::string_view customer,
                                                  const std::optional<StoredField>& row, bool holds_values) {
  if (key) {
    auto opened = Manifest::open(*key, customer, row);
    if (!opened) return std::move(opened).err();
    return std::optional<Manifest>(std::move(*opened));
  }
  if (row || holds_values)
    return make_error(errc::integrity, "the customer's values are stored without a data key");
  return std::optional<Manifest>();
}

RowVoucher::RowVoucher(const SecretBytes* key, std::string_view customer,
                       std::optional<StoredField> manifest_row, bool holds_values,
                       std::shared_ptr<const VouchedRows> before)
    : manifest_row_(std::move(manifest_row)) {
  if (key && before && manifest_row_ && before->manifest_row == manifest_row_->sealed) {
    before_ = std::move(before);
    listed_ = &before_->manifest;
  } else if (auto o = vouching_manifest(key, customer, manifest_row_, holds_values); !o) {
    unvouched_ = std::move(o).err();
  } else if (*o) {
    opened_ = std::move(**o);
    listed_ = &*opened_;
  }
}

result<void> RowVoucher::check(std::string_view field, const StoredField* row) {
  if (unvouched_) return *unvouched_;
  if (!listed_ || (before_ && row && before_->holds(*row))) return ok();
  CONSENTRY_TRY(listed_->check(field, row));
  if (row) newly_vouched_.push_back(row);
  return ok();
}

std::shared_ptr<const VouchedRows> RowVoucher::kept() {
  // listed_ is set only from a manifest row that was read: manifest_row_ is there.
  if (!listed_ || (before_ && newly_vouched_.empty())) return nullptr;
  auto keep = std::make_shared<VouchedRows>();
  keep->manifest_row = std::move(manifest_row_->sealed);
  keep->manifest = before_ ? before_->manifest : std::move(*opened_);
  // What vouched is given away: a check() after this fails rather than pass on nothing.
  listed_ = nullptr;
  unvouched_ = make_error(errc::internal, "a row checked after its manifest was kept");
  // The rows this read vouched for first, then those of before, as many as are kept.
  for (const StoredField* row : newly_vouched_)
    if (keep->rows.size() < kMaxVouchedRows && !keep->holds(*row)) keep->rows.push_back(*row);
  if (before_)
    for (const StoredField& row : before_->rows)
      if (keep->rows.size() < kMaxVouchedRows && !keep->holds(row)) keep->rows.push_back(row);
  return keep;
}

result<Manifest*> ManifestEdits::open(const std::string& customer, const SecretBytes& dek, bool new_key) {
  if (auto it = open_.find(customer); it != open_.end()) return &it->second;
  Manifest manifest;
  if (!new_key) {
    auto row = store_.get_field(customer, kManifestField);
    if (!row) return std::move(row).err();
    auto opened = Manifest::open(dek, customer, *row);
    if (!opened) return std::move(opened).err();
    manifest = std::move(*opened);
  }
  return &open_.insert_or_assign(customer, std::move(manifest)).first->second;
}

result<void> ManifestEdits::store(const std::string& customer, const SecretBytes& dek, bool first_write) {
  auto it = open_.find(customer);
  if (it == open_.end()) return make_error(errc::internal, "manifest stored before it was opened");
  StoredField row = it->second.seal(dek, customer);
  return first_write ? store_.put_new_field(row) : store_.put_field(row);
}

result<void> unlist_values(Store& store, const result<const SecretBytes*>& dek, const std::string& customer,
                           const std::vector<std::string>& fields) {
  if (!dek) return dek.err().code == errc::integrity ? ok() : result<void>(dek.err());
  if (*dek == nullptr) return ok();
  auto row = store.get_field(customer, kManifestField);
  if (!row) return std::move(row).err();
  auto manifest = Manifest::open(**dek, customer, *row);
  if (!manifest) return ok();
  for (const std::string& f : fields) manifest->drop(f);
  return store.put_field(manifest->seal(**dek, customer));
}

result<void> mark_values_listed(Store& store) {
  return store.put_meta(kMetaValuesListed, as_bytes("1"));
}

namespace {

// list_customer brings one customer with an unlisted data key up to date (see list_values),
// inside the caller's transaction.
result<void> list_customer(Store& store, const Keyring& keyring, const StoredKey& key) {
  auto dek = keyring.open_data_key(key.customer, key.version, key.wrapped);
  if (!dek || dek->format == DataKeyFormat::listed) return ok();
  auto rows = store.get_fields(key.customer);
  if (!rows) return std::move(rows).err();
  if (take_manifest(*rows)) return ok();
  if (std::any_of(rows->begin(), rows->end(),
                  [](const StoredField& f) { return f.format != kFieldSealVersion; }))
    return ok();
  Manifest manifest;
  for (StoredField& row : *rows) {
    // A value that does not open stays as it is, in format 1, and fails on every read as before;
    // listing it keeps it from being swapped for another.
    if (auto plain = open_field(dek->key, key.customer, row.field, row.sealed)) {
      auto sealed = seal_field(dek->key, key.customer, row.field, plain->reveal_string(),
                               FieldMetadata{row.source, row.collected_at});
      if (!sealed) return std::move(sealed).err();
      row.sealed = std::move(*sealed);
      row.format = kFieldSealMetadataVersion;
      CONSENTRY_TRY(store.put_field(row));
    }
    manifest.note(row);
  }
  CONSENTRY_TRY(store.put_field(manifest.seal(dek->key, key.customer)));
  auto listed = keyring.list_data_key(key.customer, key.version, key.wrapped);
  if (!listed) return std::move(listed).err();
  return store.put_key(StoredKey{key.customer, key.version, std::move(*listed)});
}

}  // namespace

result<void> list_values(Store& store, const Keyring& keyring) {
  auto marked = store.get_meta(kMetaValuesListed);
  if (!marked) return std::move(marked).err();
  if (*marked) return ok();
  std::string after;
  for (;;) {
    auto txn = Transaction::start(store);
    if (!txn) return std::move(txn).err();
    // Read inside the transaction: a key another process listed meanwhile is seen as listed.
    auto keys = store.data_keys_after(after, kListBatch);
    if (!keys) return std::move(keys).err();
    for (const StoredKey& key : *keys) CONSENTRY_TRY(list_customer(store, keyring, key));
    if (keys->empty()) CONSENTRY_TRY(mark_values_listed(store));
    CONSENTRY_TRY(txn->commit());
    if (keys->empty()) return ok();
    after = keys->back().customer;
  }
}

}  // namespace consentry
