// stored_audit.hpp: an audit entry as a store keeps it, built by hand for tests that write a log
// through the store API or tamper with one.
#pragma once

#include <cstdint>

#include "consentry/audit.hpp"
#include "consentry/records.hpp"

namespace consentry::test {

/// stored_of is `e` encoded and hashed after `previous` on chain `chain`, with its lookup columns.
inline StoredAuditEntry stored_of(const AuditEntry& e, byte_view previous, std::int64_t chain = 0) {
  StoredAuditEntry s;
  s.seq = e.seq;
  s.at = e.at;
  s.customer = e.customer;
  s.encoded = encode_audit_entry(e);
  s.hash = audit_chain_hash(previous, s.encoded);
  s.chain = chain;
  return s;
}

}  // namespace consentry::test
