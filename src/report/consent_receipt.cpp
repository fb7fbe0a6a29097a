// consent_receipt.cpp: issuing and verifying signed consent receipts. The signature covers the
// receipt's canonical body: every member but "signature", keys sorted, no whitespace (nlohmann's
// compact dump of a sorted object), so that a receipt reformatted by a reader still verifies and
// any change to a member does not.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <set>

#include "consentry/receipt.hpp"
#include "json/json_reader.hpp"
#include "text/hex.hpp"

namespace consentry {

namespace {

using Json = nlohmann::json;

// kReceiptIdDomain starts the hash that names a receipt: one name per vault key, customer and
// ledger event, however often it is issued.
constexpr std::string_view kReceiptIdDomain = "consentry/v1/consent-receipt-id";

std::string receipt_id(byte_view public_key, const ConsentEvent& e) {
  std::array<std::uint8_t, 16> id{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, id.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(kReceiptIdDomain.data()),
                            kReceiptIdDomain.size());
  crypto_generichash_update(&state, public_key.data(), public_key.size());
  const std::string seq = std::to_string(e.seq);
  for (std::string_view part : {std::string_view(e.customer), std::string_view(seq)}) {
    const std::uint64_t n = part.size();
    std::array<std::uint8_t, 8> length{};
    for (int i = 0; i < 8; ++i) length[i] = static_cast<std::uint8_t>(n >> (56 - 8 * i));
    crypto_generichash_update(&state, length.data(), length.size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()), part.size());
  }
  crypto_generichash_final(&state, id.data(), id.size());
  return detail::hex_encode(id);
}

error not_a_receipt(const std::string& path, std::string_view what) {
  return make_error(errc::bad_input, "consent receipt: " + path + ": " + std::string(what));
}

// member gives root[key] when it has `type`, else the error naming its path.
result<const Json*> member(const Json& root, const char* key, Json::value_t type, std::string_view want) {
  const std::string path = std::string("$.") + key;
  if (!root.contains(key)) return not_a_receipt(path, "missing");
  const Json& j = root[key];
  const bool ok = j.type() == type || (type == Json::value_t::number_integer && j.is_number_integer());
  if (!ok) return not_a_receipt(path, "must be " + std::string(want));
  return &j;
}

}  // namespace

result<std::string> issue_consent_receipt(const ConsentEvent& event, const Policy& policy,
                                          const AuditSigner& signer, timestamp issued_at) {
  const Purpose* p = policy.purpose(event.purpose);
  if (!p)
    return make_error(errc::invalid_argument, "consent receipt: purpose '" + event.purpose +
                                                  "' is not declared in the event's policy");
  std::set<std::string> categories;
  std::set<std::string> fields;
  for (const FieldSpec& f : policy.fields()) {
    if (!f.form_for(p->id)) continue;
    categories.insert(f.category);
    fields.insert(f.name);
  }
  const std::string language = policy.default_language();
  Json purpose = {
      {"id", p->id},
      {"label", std::string(p->label.empty() ? std::string_view(p->id) : p->label.in(language))},
      {"basis", std::string(to_string(p->basis))},
      {"expires_at", event.expires_at ? Json(format_timestamp(*event.expires_at)) : Json(nullptr)}};
  Json body = {{"receipt_version", std::string(kReceiptVersion)},
               {"receipt_id", receipt_id(signer.public_key(), event)},
               {"issued_at", format_timestamp(issued_at)},
               {"controller", {{"name", policy.controller().name}, {"contact", policy.controller().contact}}},
               {"subject", event.customer},
               {"ledger_seq", event.seq},
               {"action", std::string(to_string(event.action))},
               {"consent_time", format_timestamp(event.at)},
               {"collection_method", event.channel},
               {"notice", event.notice},
               {"policy_version", std::max<std::int64_t>(event.policy_version, 1)},
               {"purpose", std::move(purpose)},
               {"data_categories", std::vector<std::string>(categories.begin(), categories.end())},
               {"fields", std::vector<std::string>(fields.begin(), fields.end())},
               {"public_key", detail::hex_encode(signer.public_key())}};
  if (event.signal)
    body["signal"] = {{"kind", event.signal->kind},
                      {"cmp_id", event.signal->cmp_id},
                      {"created", format_timestamp(event.signal->created)}};
  const std::string canonical = body.dump();
  body["signature"] = detail::hex_encode(signer.sign_receipt(canonical));
  return body.dump();
}

result<ConsentReceipt> verify_consent_receipt(std::string_view text, byte_view public_key) {
  nlohmann::ordered_json ordered;
  if (auto problem = read_json(text, ordered))
    return make_error(errc::bad_input, "consent receipt: " + problem->message());
  if (!ordered.is_object()) return not_a_receipt("$", "must be an object");
  Json root = Json::parse(ordered.dump());
  auto version = member(root, "receipt_version", Json::value_t::string, "a string");
  if (!version) return std::move(version).err();
  if ((*version)->get<std::string>() != kReceiptVersion)
    return not_a_receipt("$.receipt_version", "must be " + std::string(kReceiptVersion));
  auto signature_hex = member(root, "signature", Json::value_t::string, "a string");
  if (!signature_hex) return std::move(signature_hex).err();
  bytes signature(kAuditSignatureBytes);
  if (auto d = detail::hex_decode((*signature_hex)->get<std::string>(), signature, "$.signature"); !d)
    return not_a_receipt("$.signature",
                         "must be " + std::to_string(2 * kAuditSignatureBytes) + " hex digits");
  auto key_hex = member(root, "public_key", Json::value_t::string, "a string");
  if (!key_hex) return std::move(key_hex).err();
  ConsentReceipt out;
  const std::pair<const char*, std::string*> strings[] = {{"receipt_id", &out.receipt_id},
                                                          {"subject", &out.subject},
                                                          {"action", &out.action},
                                                          {"consent_time", &out.consent_time}};
  for (const auto& [key, into] : strings) {
    auto j = member(root, key, Json::value_t::string, "a string");
    if (!j) return std::move(j).err();
    *into = (*j)->get<std::string>();
  }
  const std::pair<const char*, std::int64_t*> numbers[] = {{"policy_version", &out.policy_version},
                                                           {"ledger_seq", &out.ledger_seq}};
  for (const auto& [key, into] : numbers) {
    auto j = member(root, key, Json::value_t::number_integer, "an integer");
    if (!j) return std::move(j).err();
    *into = (*j)->get<std::int64_t>();
  }
  auto controller = member(root, "controller", Json::value_t::object, "an object");
  if (!controller) return std::move(controller).err();
  if (!(*controller)->contains("name") || !(**controller)["name"].is_string())
    return not_a_receipt("$.controller.name", "must be a string");
  out.controller = (**controller)["name"].get<std::string>();
  auto purpose = member(root, "purpose", Json::value_t::object, "an object");
  if (!purpose) return std::move(purpose).err();
  if (!(*purpose)->contains("id") || !(**purpose)["id"].is_string())
    return not_a_receipt("$.purpose.id", "must be a string");
  out.purpose = (**purpose)["id"].get<std::string>();

  if ((*key_hex)->get<std::string>() != detail::hex_encode(public_key))
    return make_error(errc::integrity, "consent receipt: signed by another key than the one given");
  root.erase("signature");
  if (!verify_receipt_signature(root.dump(), signature, public_key))
    return make_error(errc::integrity,
                      "consent receipt: the signature does not verify (the receipt was changed)");
  return out;
}

}  // namespace consentry
