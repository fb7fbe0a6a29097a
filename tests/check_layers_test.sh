#!/usr/bin/env bash
# check_layers_test.sh ROOT: scripts/check-layers.sh passes on the tree at ROOT, and fails on a
# copy of a part of it where a store header includes the vault's (an upward include), where an
# installed header includes one from src/ (which is not installed), and where a file sits in no
# layer.
set -euo pipefail
root="$1"
script="$root/scripts/check-layers.sh"
bash "$script" "$root"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/include/consentry" "$scratch/src/store" "$scratch/scripts"
cp "$root/include/consentry/vault.hpp" "$root/include/consentry/result.hpp" "$scratch/include/consentry/"
printf '#include "consentry/result.hpp"\n' >"$scratch/src/store/down.cpp"
printf '#include "consentry/vault.hpp"\n' >"$scratch/src/store/up.cpp"
if out="$(bash "$script" "$scratch" 2>&1)"; then
  echo "check_layers_test: an upward include passed" >&2
  exit 1
fi
grep -q 'src/store/up.cpp (layer 4) includes include/consentry/vault.hpp (layer 6)' <<<"$out" ||
  { echo "check_layers_test: the upward include was not named: $out" >&2; exit 1; }
rm "$scratch/src/store/up.cpp"
mkdir -p "$scratch/src/crypto"
printf '\n' >"$scratch/src/crypto/aead.hpp"
printf '#include "crypto/aead.hpp"\n' >"$scratch/include/consentry/form.hpp"
if out="$(bash "$script" "$scratch" 2>&1)"; then
  echo "check_layers_test: an installed header including one from src/ passed" >&2
  exit 1
fi
grep -q 'include/consentry/form.hpp is installed but includes src/crypto/aead.hpp' <<<"$out" ||
  { echo "check_layers_test: the installed header was not named: $out" >&2; exit 1; }
rm "$scratch/include/consentry/form.hpp"
mkdir -p "$scratch/src/newfolder"
printf '\n' >"$scratch/src/newfolder/thing.cpp"
if out="$(bash "$script" "$scratch" 2>&1)"; then
  echo "check_layers_test: a file in no layer passed" >&2
  exit 1
fi
grep -q 'src/newfolder/thing.cpp is in no layer' <<<"$out" ||
  { echo "check_layers_test: the unplaced file was not named: $out" >&2; exit 1; }
echo "check_layers_test: passed"
