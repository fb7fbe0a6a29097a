#!/usr/bin/env bash
# make_vault.sh CONSENTRY OUT.vault: writes the vault that audit_legacy_vault_test reads, with the
# consentry command given. The checked-in v1.vault was written by this script with the command of
# December 2026, before the audit vocabulary moved into audit.hpp; the test proves that a vault
# written then still verifies and that every reason and read field in it parses with today's
# vocabulary. Regenerating it with a newer command would prove nothing: keep the checked-in file.
set -euo pipefail
cli="$1"
out="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -f "$out" "$out-wal" "$out-shm"
export CONSENTRY_VAULT="$out" CONSENTRY_PASSPHRASE="legacy-vault-passphrase"
c() { "$cli" "$@" >/dev/null || true; }
c init --policy "$here/policy.json" --kdf minimum
c import "$here/customers.jsonl"
c read L-1 --purpose service --as support-desk --fields email,birth_date,phone,credit_score
c read L-1 --purpose marketing.email --as email-campaigns --fields email
c read L-2 --purpose analytics --as bi-dashboard --fields email,birth_date
c read L-2 --purpose service --as unknown-tool --fields email
c consent grant L-1 profiling --channel web --notice notice-2026
c derive L-1 expecting_child true
c consent withdraw L-1 profiling --channel web
c consent grant L-2 marketing.email --channel web
c consent object L-3 analytics --channel phone
c consent opt-out L-2 --channel sms
c contact L-2 --channel email --purpose marketing.email
c contact L-2 --channel email --purpose marketing.email
c stats count birth_date --purpose analytics --epsilon 0.5
c stats count birth_date --purpose analytics --epsilon 0.75
c export L-1 --format json -o "$(dirname "$out")/legacy-export.json"
rm -f "$(dirname "$out")/legacy-export.json"
c keys rotate
c erase L-3
c purge
c audit L-1
# The last connection to close folds the write-ahead log into the vault: one file to check in.
if [ -s "$out-wal" ]; then echo "make_vault.sh: $out-wal is not empty" >&2; exit 1; fi
rm -f "$out-wal" "$out-shm"
