#!/usr/bin/env bash
# check_symbols.sh NM LIBRARY: fails when the shared library exports a symbol that is not part of
# the C API (consentry_*), e.g. a C++ symbol of the static library linked into it. The version
# node the linker adds (CONSENTRY_C_0, an absolute symbol) is allowed. Also checks the SONAME.
set -euo pipefail
nm="$1"
lib="$2"
symbols="$("$nm" -D --defined-only "$lib" | awk '{print $NF}' | sed 's/@.*//')"
count=0
bad=0
while IFS= read -r name; do
  [ -n "$name" ] || continue
  case "$name" in
    consentry_*) count=$((count + 1)) ;;
    CONSENTRY_C_[0-9]*) ;;
    *) echo "check_symbols: $lib exports $name, which is not part of the C API" >&2; bad=$((bad + 1)) ;;
  esac
done <<< "$symbols"
if [ "$count" -eq 0 ]; then
  echo "check_symbols: $lib exports no consentry_* symbol" >&2
  exit 1
fi
if [ "$bad" -gt 0 ]; then
  echo "check_symbols: $bad symbol(s) exported beyond consentry_*" >&2
  exit 1
fi
soname="$(objdump -p "$lib" | awk '$1 == "SONAME" {print $2}')"
if [ "$soname" != "libconsentry_c.so.0" ]; then
  echo "check_symbols: SONAME is '$soname', expected libconsentry_c.so.0" >&2
  exit 1
fi
echo "check_symbols: $count consentry_* symbols exported, nothing else; SONAME $soname"
