#!/usr/bin/env bash
# demo.sh: installs the build dependencies, builds consentry with the `default` preset, then walks
# through a small retail CRM: a fresh vault under examples/policies/retail.json, 300 synthetic
# customers, a mix of consents, and reads that are allowed, denied, masked, generalised and
# stopped by a withdrawal; then the staff audit, the customer's export, a private count, a
# k-anonymous release and the inventory. Every command is printed before it runs, with its exit code after.
#
# CONSENTRY_DEMO_VAULT puts the vault elsewhere than a fresh file, e.g. on PostgreSQL:
#   CONSENTRY_DEMO_VAULT='postgresql:///crm?host=/var/run/postgresql&consentry_schema=demo' bash scripts/demo.sh
# (a schema that holds no vault yet). CONSENTRY_DEMO_BUILD_DIR=DIR skips the set-up and the build
# and runs the command and examples already built in DIR (the tests run the demo that way).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

if [ -z "${CONSENTRY_DEMO_BUILD_DIR:-}" ]; then
  bash scripts/install-deps.sh
  # The command and the examples, whatever an earlier configure of build/ left in its cache.
  cmake --preset default -DCONSENTRY_BUILD_CLI=ON -DCONSENTRY_BUILD_EXAMPLES=ON
  cmake --build --preset default -j2
fi

build="${CONSENTRY_DEMO_BUILD_DIR:-$root/build}"
cli="$build/cli/consentry"
policy="examples/policies/retail.json"
work="${TMPDIR:-/tmp}/consentry-demo"
customer_count=300

rm -rf "$work"
mkdir -p "$work"
export CONSENTRY_VAULT="${CONSENTRY_DEMO_VAULT:-$work/retail.vault}"
export CONSENTRY_PASSPHRASE="consentry-demo-passphrase"

step() { printf '\n== %s\n' "$*"; }

# run EXPECTED NAME ARGS... prints `NAME ARGS...`, runs the program NAME stands for and checks its
# exit code: a refusal the demo expects (exit 3) is shown, anything unexpected stops the demo.
run() {
  local expected="$1" name="$2"
  shift 2
  local program
  case "$name" in
    consentry) program="$cli" ;;
    *) program="$build/examples/$name" ;;
  esac
  printf '$ %s %s\n' "$name" "$*"
  local rc=0
  "$program" "$@" || rc=$?
  if [ "$rc" -ne "$expected" ]; then
    echo "demo: '$name $*' exited with $rc, expected $expected" >&2
    exit 1
  fi
  if [ "$rc" -ne 0 ]; then echo "(exit $rc, as expected)"; fi
}

# Shown without a password a PostgreSQL URI may carry.
shown_vault="$(printf '%s' "$CONSENTRY_VAULT" | sed -E 's#(://[^:/@?]*:)[^@/?]*@#\1***@#; s#([?&]password=)[^&]*#\1***#')"
step "A fresh vault at $shown_vault under $policy"
echo "CONSENTRY_VAULT=$shown_vault"
echo "CONSENTRY_PASSPHRASE=$CONSENTRY_PASSPHRASE   (a fixed passphrase for this demo only)"
run 0 consentry init --policy "$policy"

step "$customer_count synthetic customers as JSON Lines (examples/generate_customers)"
"$build/examples/generate_customers" --count "$customer_count" --seed 7 >"$work/customers.jsonl"
echo "$(wc -l <"$work/customers.jsonl") lines in $work/customers.jsonl; the first two:"
head -n 2 "$work/customers.jsonl"

step "Import them: every value is sealed with its customer's data key"
run 0 consentry import "$work/customers.jsonl"

step "A mix of consents, recorded through the C++ API in one process (examples/seed_consents)"
run 0 seed_consents --seed 7 | tee "$work/consents.txt"
quiet="$(awk '/no consent event/ {print $NF}' "$work/consents.txt")"
objector="$(awk '/analytics objected/ {print $NF}' "$work/consents.txt")"
if [ -z "$quiet" ]; then
  echo "demo: seed_consents named no customer without consent events" >&2
  exit 1
fi
echo "customer $quiet has given no consent at all; the reads below use them"

step "A consented read: support-desk reads email and birth date for service (a contract)"
run 0 consentry read "$quiet" --purpose service --as support-desk --fields email,birth_date

step "A denied read: email-campaigns asks for $quiet's email for marketing.email, never consented"
run 3 consentry read "$quiet" --purpose marketing.email --as email-campaigns --fields email

step "A masked field: under service the phone is shown as mask:last4"
run 0 consentry read "$quiet" --purpose service --as support-desk --fields phone

step "Analytics: bi-dashboard gets a pseudonym for the email and only the year of birth"
run 0 consentry read "$quiet" --purpose analytics --as bi-dashboard --fields email,birth_date
if [ -n "$objector" ]; then
  echo "... and nothing for $objector, who objected to analytics:"
  run 3 consentry read "$objector" --purpose analytics --as bi-dashboard --fields email
fi

step "A withdrawal takes effect: grant, read, withdraw, the same read is denied"
run 0 consentry consent grant "$quiet" marketing.email --channel web --notice privacy-2025-03
run 0 consentry read "$quiet" --purpose marketing.email --as email-campaigns --fields email
run 0 consentry consent withdraw "$quiet" marketing.email --channel web
run 3 consentry read "$quiet" --purpose marketing.email --as email-campaigns --fields email
run 0 consentry consent show "$quiet"

step "The CRM backend example: the support desk's card, then an e-mail campaign over everyone"
run 0 crm_backend support "$quiet"
run 0 crm_backend campaign

step "What we hold on $quiet, for staff: metadata only, never a value"
run 0 consentry audit "$quiet" --last 5

step "The customer's own copy: everything held, who looked at it, and their rights"
run 0 consentry export "$quiet" --format html -o "$work/$quiet.html"
run 0 consentry export "$quiet" --format json -o "$work/$quiet.json"
echo "open $work/$quiet.html in a browser; the JSON begins:"
head -c 400 "$work/$quiet.json"
echo

step "Analytics in aggregate: a private count paid from the analytics privacy budget (1.0), then a 5-anonymous table"
run 0 consentry stats count birth_date --purpose analytics --epsilon 0.5
run 3 consentry stats count birth_date --purpose analytics --epsilon 0.75
run 0 consentry anonymise --from-vault --purpose analytics --as bi-dashboard --fields birth_date --k 5 \
  -o "$work/birth_years.csv"
echo "the release begins:"
head -n 4 "$work/birth_years.csv"

step "The record of processing, with fields no purpose read in 90 days"
run 0 consentry inventory --unused P90D

printf '\ndemo finished\n'
