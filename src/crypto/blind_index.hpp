// blind_index.hpp: the truncated keyed hash a blind index stores for a value (docs/lookup.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "consentry/secret_bytes.hpp"

namespace consentry {

/// blind_index_label is the label ("lookup/<field>") of the key, derived from a master key
/// version (Keyring::derive_version_key), that makes the blind index of `field`.
std::string blind_index_label(std::string_view field);

/// blind_index gives the first `bits` bits (1 to 32) of BLAKE2b keyed with `key` over `field` and
/// `normalised` (each length-prefixed, after a domain label), as a number in [0, 2^bits). The
/// same value always gives the same number under the same key; values that differ share one
/// with probability 2^-bits, which is what makes a short index hide the value.
std::int64_t blind_index(const SecretBytes& key, std::string_view field, std::string_view normalised,
                         int bits);

}  // namespace consentry
