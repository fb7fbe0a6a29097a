#!/usr/bin/env bash
# check-layers.sh: fails when a file of the library or a front end includes a project header
# from a layer above its own (HACKING.md, "Layers and folders"). Dependencies point down:
#
#   7 front ends   cli/ examples/ bindings/ bench/ fuzz/
#   6 vault        src/vault/ src/import/, vault.hpp import.hpp consentry.hpp
#   5 policy, anonymise, report, audit, signals (peers)
#                  src/policy/ src/anonymise/ src/report/ src/audit/ src/signals/, their headers
#   4 crypto, store (peers)
#                  src/crypto/ src/store/, secret_bytes.hpp key_provider.hpp, extension/
#   3 base         result, bytes, time, records (the stored record types); src/json/, src/text/,
#                  src/io/, src/encoding/ (plumbing below every layer)
#
# Headers under include/ are installed (the user tier, consentry.hpp, and the extension tier,
# consentry/extension/): none of them may include a header from src/, which is not.
#
# A file the table below does not place is an error too: a new folder or public header takes a
# row here. Usage: bash scripts/check-layers.sh [ROOT]; exit 1 with one line per upward include.
set -euo pipefail
root="$(cd "${1:-$(dirname "$0")/..}" && pwd)"
cd "$root"

# layer_of PATH prints the layer of a file (relative to the root), or nothing when unplaced.
layer_of() {
  case "$1" in
    cli/* | examples/* | bindings/* | bench/* | fuzz/*) echo 7 ;;
    src/vault/* | src/import/*) echo 6 ;;
    include/consentry/vault.hpp | include/consentry/import.hpp | include/consentry/consentry.hpp) echo 6 ;;
    include/consentry/customer_record.hpp) echo 6 ;;
    src/policy/* | src/anonymise/* | src/report/* | src/audit/*) echo 5 ;;
    src/signals/* | include/consentry/signals/*) echo 5 ;;
    include/consentry/anonymise/*) echo 5 ;;
    include/consentry/policy.hpp | include/consentry/consent.hpp | include/consentry/contact.hpp) echo 5 ;;
    include/consentry/policy_diff.hpp) echo 5 ;;
    include/consentry/wording.hpp) echo 5 ;;
    include/consentry/decision.hpp | include/consentry/form.hpp | include/consentry/field_type.hpp) echo 5 ;;
    include/consentry/report.hpp | include/consentry/audit.hpp | include/consentry/receipt.hpp) echo 5 ;;
    src/crypto/* | src/store/*) echo 4 ;;
    include/consentry/secret_bytes.hpp | include/consentry/key_provider.hpp) echo 4 ;;
    include/consentry/extension.hpp | include/consentry/extension/*) echo 4 ;;
    src/json/* | src/text/* | src/io/* | src/encoding/*) echo 3 ;;
    include/consentry/result.hpp | include/consentry/bytes.hpp | include/consentry/time.hpp) echo 3 ;;
    include/consentry/records.hpp) echo 3 ;;
  esac
}

# resolve FILE INCLUDE prints the project file a quoted include names, or nothing for one outside
# the project: beside the including file first, then under include/ and src/ (the include path).
resolve() {
  local dir candidate
  dir="$(dirname "$1")"
  for candidate in "$dir/$2" "include/$2" "src/$2"; do
    if [ -f "$candidate" ]; then
      realpath -m --relative-to="$root" "$candidate"
      return
    fi
  done
}

failures=0
while IFS= read -r file; do
  from="$(layer_of "$file")"
  if [ -z "$from" ]; then
    echo "check-layers: $file is in no layer; place it in scripts/check-layers.sh" >&2
    failures=$((failures + 1))
    continue
  fi
  while IFS= read -r included; do
    target="$(resolve "$file" "$included")"
    [ -n "$target" ] || continue
    to="$(layer_of "$target")"
    if [ -z "$to" ]; then
      echo "check-layers: $target (included by $file) is in no layer; place it in scripts/check-layers.sh" >&2
      failures=$((failures + 1))
    elif [[ "$file" == include/* && "$target" != include/* ]]; then
      echo "check-layers: $file is installed but includes $target, which is not" >&2
      failures=$((failures + 1))
    elif [ "$to" -gt "$from" ]; then
      echo "check-layers: $file (layer $from) includes $target (layer $to), a layer above it" >&2
      failures=$((failures + 1))
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$file")
done < <(find src include cli examples bindings bench fuzz -type f \( -name '*.hpp' -o -name '*.cpp' -o -name '*.h' -o -name '*.c' \) 2>/dev/null | sort)

if [ "$failures" -gt 0 ]; then
  echo "check-layers: $failures problem(s)" >&2
  exit 1
fi
echo "check-layers: every include points down or across its layer"
