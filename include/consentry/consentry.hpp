// consentry.hpp: the whole public API.
#pragma once

#include "consentry/aead.hpp"
#include "consentry/bytes.hpp"
#include "consentry/consent.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/import.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/keyring.hpp"
#include "consentry/policy.hpp"
#include "consentry/report.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/store.hpp"
#include "consentry/time.hpp"
#include "consentry/vault.hpp"
