#!/usr/bin/env python3
"""bindings_read.py: B1's Python side, W3's read through the `consentry` Python module.

The same consented read of three fields (email, first_name, city) of one customer as W3 with a
batched audit: open a view as email-campaigns for marketing.email and read the three fields in one
call, on a working copy of the read vault consentry_bench built and cached, warmed by 1000 reads,
visiting the granted customers in W3's order (the same xorshift64* sequence as ReadOrder in
bench_data.hpp).

    bindings_read.py --data DIR --out FILE [--customers N] [--repetitions R] [--min-time S]

writes FILE in Google Benchmark's JSON shape (one run per repetition and their median), named
B1_read/<n>/python, which bench/report.py sets beside W3_read/<n>/audit:batched. Run it with
PYTHONPATH pointing at the built module (bench/run.sh does). Exits 1 when the module or the cached
vault is missing.
"""

import argparse
import glob
import json
import os
import re
import shutil
import statistics
import sys
import time

PASSPHRASE = "bench passphrase"  # kPassphrase
PURPOSE = "marketing.email"  # kReadPurpose
ACCESSOR = "email-campaigns"  # kReadAccessor
FIELDS = ["email", "first_name", "city"]  # kReadFields
GRANT_EVERY = 10  # kReadGrantEvery
WARM_READS = 1000
MASK = (1 << 64) - 1


class ReadOrder:
    """ReadOrder of bench_data.hpp: the granted customers, visited in a fixed pseudo-random order."""

    def __init__(self, customers):
        self.ids = [f"C-{i:07d}" for i in range(0, customers, GRANT_EVERY)]
        self.state = 0x9E3779B97F4A7C15

    def next(self):
        s = self.state
        s ^= s >> 12
        s ^= (s << 25) & MASK
        s ^= s >> 27
        self.state = s
        return ((s * 0x2545F4914F6CDD1D) & MASK) % len(self.ids)


def pristine_vault(data, customers):
    """The cached read vault (read-<n>.<format>.vault), not one of its working copies."""
    pattern = re.compile(rf"read-{customers}\.d\d+\.vault")
    found = sorted(p for p in glob.glob(os.path.join(data, f"read-{customers}.*.vault"))
                   if pattern.fullmatch(os.path.basename(p)))
    if not found:
        sys.exit(f"bindings_read.py: no cached read vault for {customers} customers in {data}; "
                 "run consentry_bench first (bench/run.sh does)")
    return found[-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True)
    parser.add_argument("--out", required=True)
    tiny = os.environ.get("CONSENTRY_BENCH_SCALE") == "tiny"
    parser.add_argument("--customers", type=int, default=100 if tiny else 10_000)
    parser.add_argument("--repetitions", type=int, default=1 if tiny else 3)
    parser.add_argument("--min-time", type=float, default=0.01 if tiny else 1.0)
    args = parser.parse_args()
    try:
        import consentry
    except ImportError as e:
        sys.exit(f"bindings_read.py: the consentry module does not import ({e}); set PYTHONPATH")

    pristine = pristine_vault(args.data, args.customers)
    copy = pristine[: -len(".vault")] + ".python.vault"
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(copy + suffix):
            os.remove(copy + suffix)
    shutil.copyfile(pristine, copy)
    runs = []
    try:
        with consentry.Vault.open(copy, PASSPHRASE, audit="batched") as vault:
            accessor = vault.accessor(ACCESSOR)
            order = ReadOrder(args.customers)

            def read_one(customer):
                values = accessor.view(customer, PURPOSE).read(FIELDS, strict=True)
                if len(values) != len(FIELDS):
                    raise RuntimeError("a read returned too few fields")

            for customer in order.ids[: min(WARM_READS, len(order.ids))]:
                read_one(customer)
            for rep in range(args.repetitions):
                iterations, start = 0, time.perf_counter()
                elapsed = 0.0
                while elapsed < args.min_time or iterations < 10:
                    for _ in range(100):
                        read_one(order.ids[order.next()])
                    iterations += 100
                    elapsed = time.perf_counter() - start
                runs.append({"name": f"B1_read/{args.customers}/python", "run_name": f"B1_read/{args.customers}/python",
                             "run_type": "iteration", "repetitions": args.repetitions, "repetition_index": rep,
                             "iterations": iterations, "real_time": elapsed * 1e9 / iterations, "time_unit": "ns"})
    finally:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(copy + suffix):
                os.remove(copy + suffix)
    benchmarks = list(runs)
    if len(runs) > 1:
        benchmarks.append({"name": f"B1_read/{args.customers}/python_median",
                           "run_name": f"B1_read/{args.customers}/python", "run_type": "aggregate",
                           "aggregate_name": "median", "repetitions": args.repetitions,
                           "real_time": statistics.median(r["real_time"] for r in runs), "time_unit": "ns"})
    doc = {"context": {"executable": "bench/bindings_read.py", "python": sys.version.split()[0],
                       "consentry_bench_scale": "tiny" if tiny else "full"},
           "benchmarks": benchmarks}
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    for r in runs:
        print(f"{r['name']:<40} {r['real_time'] / 1e3:10.1f} us  {r['iterations']} iterations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
