#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages consentry builds and tests with.
# Idempotent: when every package is already installed it does nothing and prints one line.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libsodium-dev libssl-dev libsqlite3-dev nlohmann-json3-dev
  # sqlite3.pc lists -lz in Libs.private, so `pkg-config --static --libs consentry` (the
  # install.pkg_config test) links zlib; libsqlite3-dev does not depend on its headers package.
  zlib1g-dev
  libcli11-dev doctest-dev
  # Phone numbers read and written in E.164.
  libphonenumber-dev
  # Mustache templates for the HTML export (header only).
  libkainjow-mustache-dev
  python3 python3-jsonschema
  # Renders the HTML export in a test (tests/python/export_html_render_test.py).
  chromium
  # The PostgreSQL store and the benchmarks; the server runs the PostgreSQL tests' throwaway
  # cluster (scripts/pg-cluster.sh, the ctest fixture `postgres`), and pg_dirtyread lets the
  # erasure tests look at dead rows.
  libpq-dev postgresql postgresql-15-dirtyread libbenchmark-dev libsqlcipher-dev
  # The Python module (bindings/python): pybind11, Python's headers, pytest for its tests, mypy's
  # stubtest for its type stubs, and pip, venv and setuptools for `pip install ./bindings/python`.
  pybind11-dev python3-pybind11 python3-dev python3-pytest mypy python3-pip python3-venv python3-setuptools
)

# Node.js and npm for the signals conformance test (tests/conformance/run.sh), which installs the
# IAB's reference TCF and GPP packages from the npm registry. Debian's nodejs and npm, unless a
# node and an npm are already there: NodeSource's nodejs bundles npm and conflicts with Debian's
# npm package, so asking apt for npm beside it would fail.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

# ---- CI only: `install-deps.sh --ci` (what .ci/run calls) ----
# clang for the sanitizer builds and the fuzz targets. libclang-rt-14-dev holds clang 14's
# libFuzzer and its ASan, UBSan and TSan runtimes; Debian only recommends it, and this script
# installs without recommends. llvm provides llvm-symbolizer, which turns the addresses of a
# sanitizer's report into source lines.
if [ "${1:-}" = "--ci" ]; then
  packages+=(clang libclang-rt-14-dev llvm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}); run as root or install sudo" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
