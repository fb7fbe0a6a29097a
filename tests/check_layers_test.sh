#!/usr/bin/env bash
# check_layers_test.sh ROOT: scripts/check-layers.sh passes on the tree at ROOT, and fails on a
# copy of a part of it where a store header includes the vault's (an upward include, also written
# with "." and ".."), where an installed header includes one from src/ (which is not installed),
# and where a file sits in no layer.
set -euo pipefail
root="$1"
script="$root/scripts/check-layers.sh"
bash "$script" "$root"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# refused WHAT MESSAGE: the script fails on the scratch tree and prints MESSAGE (WHAT names the
# case in this test's own failure).
refused() {
  local out
  if out="$(bash "$script" "$scratch" 2>&1)"; then
    echo "check_layers_test: $1 passed" >&2
    exit 1
  fi
  grep -qF "$2" <<<"$out" || { echo "check_layers_test: $1 was not named: $out" >&2; exit 1; }
}

mkdir -p "$scratch/include/consentry" "$scratch/src/store" "$scratch/scripts"
cp "$root/include/consentry/vault.hpp" "$root/include/consentry/result.hpp" "$scratch/include/consentry/"
printf '#include "consentry/result.hpp"\n' >"$scratch/src/store/down.cpp"
printf '#include "consentry/vault.hpp"\n' >"$scratch/src/store/up.cpp"
refused "an upward include" 'src/store/up.cpp (layer 4) includes include/consentry/vault.hpp (layer 6)'
# The same include written through "." and ".." is named by the file's own path.
printf '#include "./../../include/consentry/../consentry/vault.hpp"\n' >"$scratch/src/store/up.cpp"
refused "an upward include through .." 'src/store/up.cpp (layer 4) includes include/consentry/vault.hpp (layer 6)'
rm "$scratch/src/store/up.cpp"
mkdir -p "$scratch/src/crypto"
printf '\n' >"$scratch/src/crypto/aead.hpp"
printf '#include "crypto/aead.hpp"\n' >"$scratch/include/consentry/form.hpp"
refused "an installed header including one from src/" \
  'include/consentry/form.hpp is installed but includes src/crypto/aead.hpp'
rm "$scratch/include/consentry/form.hpp"
mkdir -p "$scratch/src/newfolder"
printf '\n' >"$scratch/src/newfolder/thing.cpp"
refused "a file in no layer" 'src/newfolder/thing.cpp is in no layer'
echo "check_layers_test: passed"
