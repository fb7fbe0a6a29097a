#!/usr/bin/env bash
# run.sh: checks consentry's TC and GPP string codec against the IAB's reference packages
# (@iabtechlabtcf/core and @iabgpp/cmpapi, the versions pinned in package-lock.json here):
#
#   tests/conformance/run.sh SIGNALS_CONFORMANCE_BINARY WORK_DIR
#
# installs the pinned packages with `npm ci` into a copy of this folder under WORK_DIR (from the
# npm registry, or npm's cache when it has them), then
#   1. generate.mjs: the reference encodes random consent choices, decodes its own strings, and
#      `consentry_signals_conformance check` decodes the same strings with consentry, which must
#      read every field as the reference did;
#   2. `consentry_signals_conformance emit`: consentry encodes random models, and decode.mjs
#      decodes them with the reference, which must read every field as consentry wrote it.
# CONSENTRY_CONFORMANCE_COUNT strings of each kind each way (500 by default), from the seed
# CONSENTRY_CONFORMANCE_SEED (fixed by default). Needs Node.js and npm (Debian's nodejs and npm,
# scripts/install-deps.sh) and the npm registry: fails without Node.js or npm, and exits 77 (ctest
# reports the test skipped) when the registry cannot be reached.
set -euo pipefail

if [ "$#" -ne 2 ]; then
  echo "usage: $0 SIGNALS_CONFORMANCE_BINARY WORK_DIR" >&2
  exit 2
fi
mkdir -p "$2"
work=$(cd "$2" && pwd)
binary=$1
case "$binary" in /*) ;; *) binary="$PWD/$binary" ;; esac
here=$(cd "$(dirname "$0")" && pwd)
count=${CONSENTRY_CONFORMANCE_COUNT:-500}
seed=${CONSENTRY_CONFORMANCE_SEED:-20250601}

if [ ! -x "$binary" ]; then
  echo "run.sh: $binary is not an executable (build consentry_signals_conformance)" >&2
  exit 1
fi
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "run.sh: '$tool' is not installed: the conformance test needs Node.js and npm" \
      "(Debian's nodejs and npm; scripts/install-deps.sh installs them)" >&2
    exit 1
  fi
done

SECONDS=0
pkg="$work/reference"
mkdir -p "$pkg"
cp "$here/package.json" "$here/package-lock.json" "$here"/*.mjs "$pkg/"

# Node.js trusts only the CA list it ships with, not the system's: a host that reaches the registry
# through a TLS-inspecting proxy trusts that proxy in its system store, so Node is given it too.
if [ -z "${NODE_EXTRA_CA_CERTS:-}" ] && [ -r /etc/ssl/certs/ca-certificates.crt ]; then
  export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
fi
echo "run.sh: node $(node --version), npm $(npm --version); installing the reference packages"
if ! (cd "$pkg" && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error) 2>"$work/npm-ci.err"; then
  cat "$work/npm-ci.err" >&2
  # A registry this host cannot reach (no route, no name, a certificate it cannot check) says
  # nothing of the codec: the test is then skipped (exit 77, ctest's SKIP_RETURN_CODE), never
  # passed. Any other failure of npm ci fails it.
  if grep -qE "ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|CERT|certificate" "$work/npm-ci.err"; then
    echo "run.sh: the npm registry cannot be reached from this host: signals.conformance is skipped, not passed" >&2
    exit 77
  fi
  echo "run.sh: npm ci failed: the reference packages could not be installed" >&2
  exit 1
fi
versions=$(cd "$pkg" && node -e '
  const fs = require("fs");
  const names = ["@iabtechlabtcf/core", "@iabgpp/cmpapi"];
  const version = (n) => JSON.parse(fs.readFileSync("node_modules/" + n + "/package.json", "utf8")).version;
  console.log(names.map((n) => n + "@" + version(n)).join(" "));
')
echo "run.sh: reference versions: $versions"

failed=0

echo "run.sh: 1. the reference encodes $count TC and $count GPP strings (seed $seed); consentry decodes them"
(cd "$pkg" && node generate.mjs "$seed" "$count") >"$work/reference.jsonl"
if ! "$binary" check "$work/reference.jsonl"; then
  failed=1
fi

echo "run.sh: 2. consentry encodes $count TC and $count GPP strings (seed $seed); the reference decodes them"
"$binary" emit "$seed" "$count" >"$work/consentry.jsonl"
if ! (cd "$pkg" && node decode.mjs "$work/consentry.jsonl"); then
  failed=1
fi

if [ "$failed" -ne 0 ]; then
  echo "run.sh: FAILED against $versions (${SECONDS}s; the strings are in" \
    "$work/reference.jsonl and $work/consentry.jsonl)" >&2
  exit 1
fi
echo "run.sh: consentry agrees with $versions both ways (${SECONDS}s)"
