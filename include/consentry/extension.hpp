// extension.hpp: the extension tier, for a host that brings its own store or key provider: the
// Store (the union of its roles) with the stores consentry comes with, each role a backend
// implements (transactions, keys and fields, the ledger, the audit log, maintenance), the records
// they pass, and the KeyProvider interface. The user tier is consentry.hpp.
#pragma once

#include "consentry/extension/key_provider.hpp"
#include "consentry/extension/store.hpp"
#include "consentry/extension/store/audit_log.hpp"
#include "consentry/extension/store/keys_and_fields.hpp"
#include "consentry/extension/store/ledger.hpp"
#include "consentry/extension/store/maintenance.hpp"
#include "consentry/extension/store/transactions.hpp"
#include "consentry/records.hpp"
