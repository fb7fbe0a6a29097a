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

# layer_of PATH sets `layer` to the layer of a file (relative to the root), or to nothing when
# unplaced. (It and resolve set variables rather than print, so that no subshell is forked per
# include.)
layer_of() {
  layer=
  case "$1" in
    cli/* | examples/* | bindings/* | bench/* | fuzz/*) layer=7 ;;
    src/vault/* | src/import/*) layer=6 ;;
    include/consentry/vault.hpp | include/consentry/import.hpp | include/consentry/consentry.hpp) layer=6 ;;
    include/consentry/customer_record.hpp) layer=6 ;;
    src/policy/* | src/anonymise/* | src/report/* | src/audit/*) layer=5 ;;
    src/signals/* | include/consentry/signals/*) layer=5 ;;
    include/consentry/anonymise/*) layer=5 ;;
    include/consentry/policy.hpp | include/consentry/consent.hpp | include/consentry/contact.hpp) layer=5 ;;
    include/consentry/policy_diff.hpp) layer=5 ;;
    include/consentry/wording.hpp) layer=5 ;;
    include/consentry/decision.hpp | include/consentry/form.hpp | include/consentry/field_type.hpp) layer=5 ;;
    include/consentry/report.hpp | include/consentry/audit.hpp | include/consentry/receipt.hpp) layer=5 ;;
    src/crypto/* | src/store/*) layer=4 ;;
    include/consentry/secret_bytes.hpp | include/consentry/key_provider.hpp) layer=4 ;;
    include/consentry/extension.hpp | include/consentry/extension/*) layer=4 ;;
    src/json/* | src/text/* | src/io/* | src/encoding/*) layer=3 ;;
    include/consentry/result.hpp | include/consentry/bytes.hpp | include/consentry/time.hpp) layer=3 ;;
    include/consentry/records.hpp) layer=3 ;;
  esac
}

# normalise PATH sets `normal` to PATH without its "." and "dir/.." parts.
normalise() {
  local part
  local -a given parts=()
  local IFS=/
  read -ra given <<<"$1"
  for part in "${given[@]}"; do
    case "$part" in
      "" | .) ;;
      ..) if [ "${#parts[@]}" -gt 0 ] && [ "${parts[-1]}" != .. ]; then unset 'parts[-1]'; else parts+=(..); fi ;;
      *) parts+=("$part") ;;
    esac
  done
  normal="${parts[*]}"
}

# resolve FILE INCLUDE sets `target` to the project file a quoted include names, or to nothing for
# one outside the project: beside the including file first, then under include/ and src/ (the
# include path).
resolve() {
  local dir candidate
  target=
  dir="${1%/*}"
  [ "$dir" != "$1" ] || dir=.
  for candidate in "$dir/$2" "include/$2" "src/$2"; do
    if [ -f "$candidate" ]; then
      normalise "$candidate"
      target="$normal"
      return
    fi
  done
}

failures=0
while IFS= read -r file; do
  layer_of "$file"
  from="$layer"
  if [ -z "$from" ]; then
    echo "check-layers: $file is in no layer; place it in scripts/check-layers.sh" >&2
    failures=$((failures + 1))
    continue
  fi
  while IFS= read -r included; do
    resolve "$file" "$included"
    [ -n "$target" ] || continue
    layer_of "$target"
    to="$layer"
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
