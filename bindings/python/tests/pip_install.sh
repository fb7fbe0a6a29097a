#!/usr/bin/env bash
# pip_install.sh PYTHON SOURCE_DIR SCRATCH: `pip install ./bindings/python`, run in a copy of the
# checkout, into a new venv (with Debian's site packages, offline: --no-index); then import the
# installed module and use it.
set -euo pipefail
python=$1
source_dir=$2
scratch=$3
rm -rf "$scratch"
mkdir -p "$scratch"
"$python" -m venv --system-site-packages "$scratch/venv"
# A copy of the checkout (the files git tracks, or would), so that the build pip runs in place
# leaves nothing in the source tree and sees no earlier build.
mkdir -p "$scratch/checkout"
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$source_dir" && git ls-files -z --cached --others --exclude-standard |
    xargs -0 cp --parents -t "$scratch/checkout" 2>/dev/null || true)
else
  cp -a "$source_dir/." "$scratch/checkout"
fi
start=$(date +%s)
cd "$scratch/checkout"
# PYTHONPATH must not point at a build tree: the import below has to find the installed package.
# What is tested is the packaging, not the optimiser: the library is compiled without optimisation
# (a quarter less CPU than Release's -O3), unless the caller's CMAKE_ARGS say otherwise.
env -u PYTHONPATH CMAKE_ARGS="${CMAKE_ARGS-"-DCMAKE_CXX_FLAGS_RELEASE='-O0 -DNDEBUG'"}" \
  "$scratch/venv/bin/pip" install --no-index --no-cache-dir ./bindings/python
echo "pip install took $(($(date +%s) - start)) s"
cd "$scratch"
env -u PYTHONPATH "$scratch/venv/bin/python" - <<'PY'
import pathlib
import tempfile

import consentry

where = pathlib.Path(consentry.__file__).resolve()
assert "venv" in where.parts, where
assert where.with_name("_consentry.pyi").is_file() and where.with_name("py.typed").is_file()
key = bytes(range(16))
ff1 = consentry.Ff1(key)
assert ff1.decrypt(ff1.encrypt("0123456789")) == "0123456789"
policy = consentry.Policy.from_json("""{"consentry_policy": 1,
  "controller": {"name": "Shop", "contact": "privacy@shop.example"},
  "purposes": [{"id": "service", "basis": "contract", "description": "Run the account"}],
  "accessors": [{"id": "desk", "purposes": ["service"]}],
  "fields": [{"name": "email", "type": "email", "category": "contact", "access": {"service": "clear"}}]}""")
with tempfile.TemporaryDirectory() as scratch:
    with consentry.Vault.create(pathlib.Path(scratch) / "v.vault", policy, "pass", kdf="minimum") as vault:
        vault.put("C-1", "email", "a@example.com")
        assert vault.accessor("desk").view("C-1", "service").get("email") == "a@example.com"
print("installed consentry works:", where.parent)
PY
rm -rf "$scratch"
