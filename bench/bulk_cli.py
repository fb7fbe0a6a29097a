#!/usr/bin/env python3
"""bulk_cli.py: the bulk work of the command line, timed as a user runs it.

B2  `consentry import` of N customers x 10 fields from JSON Lines: wall time and peak RSS, at
    each size asked (the goal: peak RSS the same within 20 % from the smallest to the largest,
    as the import is streamed a batch at a time).
B3  `consentry anonymise --from-vault` over the vault of the smallest size (k = 5, Mondrian on
    the birth year and loyalty points) beside the same release from a CSV of the same rows
    (`anonymise --input`): wall time of each, and the ratio CSV / vault.

Usage: python3 bench/bulk_cli.py [--consentry build/cli/consentry] [--sizes 100000,1000000]
                                 [--dir /tmp/consentry-bulk]
Each figure is one run; the audit log is durable, as the command line keeps it.
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
PASSPHRASE = "bench passphrase"
CITIES = ["London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol"]


def bench_policy() -> str:
    """The bench policy (bench/bench_data.hpp kPolicy), so the rows match the other workloads."""
    text = (ROOT / "bench" / "bench_data.hpp").read_text()
    match = re.search(r'kPolicy = R"\((.*?)\)"', text, re.S)
    if not match:
        sys.exit("bulk_cli.py: kPolicy not found in bench/bench_data.hpp")
    return match.group(1)


def write_customers(path: pathlib.Path, n: int) -> None:
    with path.open("w") as out:
        for i in range(n):
            fields = {
                "email": f"p{i}@example.com",
                "first_name": "ann",
                "last_name": "smith",
                "birth_date": "19%02d-01-%02d" % (40 + i % 60, 1 + i % 28),
                "phone": "+4420794%05d" % (i % 100000),
                "street": f"{i % 200} High Street",
                "city": CITIES[i % len(CITIES)],
                "postcode": "AB1 2CD",
                "country": "GB",
                "loyalty_points": str((i * 7919) % 10000),
            }
            out.write(json.dumps({"id": "C-%07d" % i, "source": "web", "fields": fields}) + "\n")


def run(args: list, env: dict, stdout=subprocess.DEVNULL) -> tuple:
    """Runs one command; returns (wall seconds, peak RSS in MiB)."""
    start = time.monotonic()
    proc = subprocess.Popen(args, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"bulk_cli.py: {' '.join(map(str, args))} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consentry", default=str(ROOT / "build" / "cli" / "consentry"))
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--dir", default="/tmp/consentry-bulk")
    opts = parser.parse_args()
    sizes = sorted(int(s) for s in opts.sizes.split(","))
    work = pathlib.Path(opts.dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    (work / "policy.json").write_text(bench_policy())
    env = dict(os.environ, CONSENTRY_PASSPHRASE=PASSPHRASE)
    env.pop("CONSENTRY_VAULT", None)
    cli = opts.consentry

    imports = []
    for n in sizes:
        rows = work / f"customers-{n}.jsonl"
        write_customers(rows, n)
        vault = work / f"v{n}.vault"
        run([cli, "--vault", vault, "init", "--policy", work / "policy.json", "--kdf", "minimum"], env)
        wall, rss = run([cli, "--quiet", "--vault", vault, "import", rows], env)
        imports.append((n, wall, rss))
        rows.unlink()
        if n != sizes[0]:
            for f in work.glob(f"v{n}.vault*"):
                f.unlink()

    n = sizes[0]
    vault = work / f"v{n}.vault"
    fields = ["--fields", "birth_date,city,country,loyalty_points", "--quasi", "birth_date,loyalty_points"]
    release = ["--k", "5", "--method", "mondrian"]
    from_vault = ["--from-vault", "--purpose", "analytics", "--as", "bi-dashboard"] + fields
    # The same rows as a CSV: a release with k = 1 changes no value.
    csv = work / "rows.csv"
    run([cli, "--quiet", "--vault", vault, "anonymise"] + from_vault + ["--k", "1", "--method", "mondrian",
                                                                       "-o", csv], env)
    vault_wall, vault_rss = run([cli, "--quiet", "--vault", vault, "anonymise"] + from_vault + release +
                                ["-o", work / "from-vault.csv"], env)
    csv_wall, csv_rss = run([cli, "--quiet", "anonymise", "--input", csv, "--quasi",
                             "birth_date,loyalty_points"] + release + ["-o", work / "from-csv.csv"], env)

    print("| workload | consentry | baseline | ratio | goal | met |")
    print("|---|---|---|---|---|---|")
    for size, wall, rss in imports:
        print(f"| B2 `import` of {size:,} customers x 10 fields, wall / peak RSS | {wall:.1f} s / {rss:.0f} MiB |"
              " | | | |")
    if len(imports) > 1:
        low, high = imports[0][2], imports[-1][2]
        print(f"| B2 peak RSS, {imports[-1][0]:,} vs {imports[0][0]:,} customers | {high:.0f} MiB | {low:.0f} MiB |"
              f" {high / low:.2f} | <= 1.2 | {'yes' if high / low <= 1.2 else 'no'} |")
    ratio = csv_wall / vault_wall
    print(f"| B3 `anonymise --from-vault`, {n:,} customers, k = 5 (wall) | {vault_wall:.2f} s | {csv_wall:.2f} s"
          f" (`--input` CSV) | {ratio:.2f}x | >= 0.5x, <= 15 s | {'yes' if ratio >= 0.5 and vault_wall <= 15 else 'no'} |")
    print(f"| B3 peak RSS, from the vault / from the CSV | {vault_rss:.0f} MiB | {csv_rss:.0f} MiB | | report | |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
