// consentry.hpp: the user tier, everything an application that opens a vault needs: the vault and
// its views, policies, consent, decisions, reports, import, results, and anonymisation.
//
// Headers come in two tiers. This one includes the user tier. The extension tier,
// consentry/extension.hpp, is for a host that brings its own store (extension/store.hpp and its
// roles in extension/store/) or its own key provider (extension/key_provider.hpp); a user needs
// it only to hand a vault a store of its choice (Vault::create_in, open_in). Plumbing (sealing,
// the keyring, framing, text) is not installed.
#pragma once

#include "consentry/anonymise/column_operators.hpp"
#include "consentry/anonymise/dataset.hpp"
#include "consentry/anonymise/ff1.hpp"
#include "consentry/anonymise/k_anonymity.hpp"
#include "consentry/anonymise/private_aggregate.hpp"
#include "consentry/anonymise/risk.hpp"
#include "consentry/anonymise/token.hpp"
#include "consentry/anonymise/transform.hpp"
#include "consentry/audit.hpp"
#include "consentry/bytes.hpp"
#include "consentry/consent.hpp"
#include "consentry/contact.hpp"
#include "consentry/customer_record.hpp"
#include "consentry/decision.hpp"
#include "consentry/field_type.hpp"
#include "consentry/form.hpp"
#include "consentry/import.hpp"
#include "consentry/key_provider.hpp"
#include "consentry/policy.hpp"
#include "consentry/records.hpp"
#include "consentry/report.hpp"
#include "consentry/result.hpp"
#include "consentry/secret_bytes.hpp"
#include "consentry/time.hpp"
#include "consentry/vault.hpp"
