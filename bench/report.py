#!/usr/bin/env python3
"""report.py: turns the JSON of consentry_bench (and of consentry_bench_sqlcipher, when it ran)
into the workload table of issue 4: each workload beside its baseline, the ratio, the goal.

    report.py RESULTS_DIR

reads RESULTS_DIR/consentry.json, RESULTS_DIR/sqlcipher.json and RESULTS_DIR/python.json, prints the table (Markdown) and
writes RESULTS_DIR/summary.json. Ratios are baseline time / consentry time, so 0.5x means half as
fast as the baseline, except W7 and W9's scaling row (time at the large size / time at the small
size; goal <= 1.5),
PGR, PGT, PGA and PGC (the operations per second of p processes, or PGT's threads / those of one; PGA beside PGC
at the same p: audit appends per second / raw durable commits per second)
and W2, R1, F1 and K1 (absolute times). It reports goals and never fails because one is missed; it exits 2
when a benchmark itself failed (an error, or no benchmark ran at all).
"""

import json
import os
import platform
import re
import shutil
import subprocess
import sys

UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}
SUFFIX = re.compile(r"/(real_time|iterations:\d+|repeats:\d+|min_time:[^/]+|manual_time)$")


def base_name(name):
    while True:
        stripped = SUFFIX.sub("", name)
        if stripped == name:
            return name
        name = stripped


def load(path):
    """Returns ({name: {"ns": time, "counters": {...}, "error": msg}}, context) from one JSON file."""
    # A filter that matches nothing in one binary leaves its output file empty.
    if not os.path.exists(path) or os.path.getsize(path) == 0:
        return {}, {}
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    runs, medians = {}, {}
    for b in doc.get("benchmarks", []):
        name = base_name(b.get("run_name", b["name"]))
        entry = {"ns": b.get("real_time", 0.0) * UNIT_NS.get(b.get("time_unit", "ns"), 1.0),
                 "counters": {k: v for k, v in b.items()
                              if k.endswith("_mib") or k.endswith("_per_s") or k.endswith("_cpu_s")
                              or k == "eligible"},
                 "error": b.get("error_message") if b.get("error_occurred") else None}
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = entry
        else:
            runs.setdefault(name, []).append(entry)
    out = {}
    for name, entries in runs.items():
        if name in medians:
            m = dict(medians[name])
            # Memory is not aggregated by Google Benchmark: take the largest peak of the repetitions.
            for key in ("peak_rss_mib", "peak_growth_mib"):
                values = [e["counters"][key] for e in entries if key in e["counters"]]
                if values:
                    m["counters"][key] = max(values)
            out[name] = m
        else:
            out[name] = entries[-1]
    return out, doc.get("context", {})


def fmt_time(ns):
    if ns is None:
        return "—"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def fmt_ratio(r):
    return "—" if r is None else f"{r:.3g}×"


def machine(results_dir):
    info = {"platform": platform.platform()}
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        info["cpu"] = models[0] if models else platform.processor()
    except OSError:
        info["cpu"] = platform.processor()
    info["cores"] = os.cpu_count()
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            kib = int(next(l for l in f if l.startswith("MemTotal")).split()[1])
        info["ram_gib"] = round(kib / 1024 / 1024, 1)
    except (OSError, StopIteration, ValueError):
        pass
    if shutil.which("findmnt"):
        try:
            src = subprocess.run(["findmnt", "-no", "SOURCE,FSTYPE", "-T", results_dir], capture_output=True,
                                 text=True, check=False).stdout.split()
            if src:
                info["disk"] = " ".join(src)
                dev = os.path.basename(src[0])
                rot = f"/sys/block/{dev}/queue/rotational"
                if os.path.exists(rot):
                    with open(rot, encoding="utf-8") as f:
                        info["disk"] += f" (queue/rotational={f.read().strip()})"
        except OSError:
            pass
    return info


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 1
    results_dir = sys.argv[1]
    ours, context = load(os.path.join(results_dir, "consentry.json"))
    cipher, cipher_context = load(os.path.join(results_dir, "sqlcipher.json"))
    python, _ = load(os.path.join(results_dir, "python.json"))
    runs = {**ours, **cipher, **python}
    rows = []

    def find(pattern):
        rx = re.compile(pattern)
        return next((n for n in runs if rx.fullmatch(n)), None)

    def t(name):
        return runs[name]["ns"] if name in runs and not runs[name]["error"] else None

    def add(workload, variant, ours_name, base_name_, goal=None, kind="speed", note=""):
        o, b = t(ours_name), t(base_name_)
        ratio = None
        if kind == "speed" and o and b:
            ratio = b / o
        elif kind == "scaling" and o and b:
            ratio = o / b  # large / small
        met = None
        if goal is not None:
            if kind == "absolute":
                met = o is not None and o <= goal
            elif kind == "scaling":
                met = ratio is not None and ratio <= goal
            else:
                met = ratio is not None and ratio >= goal
        errors = [runs[n]["error"] for n in (ours_name, base_name_) if n in runs and runs[n]["error"]]
        counters = {}
        for side, n in (("ours", ours_name), ("baseline", base_name_)):
            if n in runs:
                for k, v in runs[n]["counters"].items():
                    counters[f"{side}_{k}"] = v
        rows.append({"workload": workload, "variant": variant, "ours": ours_name, "baseline": base_name_,
                     "ours_ns": o, "baseline_ns": b, "ratio": ratio, "kind": kind, "goal": goal, "met": met,
                     "note": "; ".join(filter(None, [note] + errors)), "counters": counters})

    for op in ("seal", "open"):
        for n in (16, 64, 256, 1024):
            goal = {64: 0.7, 1024: 0.9}.get(n)
            add("W1", f"{op} {n} B", f"W1_{op}/{n}/consentry", f"W1_{op}/{n}/baseline", goal)
            add("W1", f"{op} {n} B, aead::{op} alone", f"W1_{op}/{n}/aead", f"W1_{op}/{n}/baseline",
                note="diagnostic: no associated-data building")
    add("W2", "decide(), allow", "W2_decide/allow", None, 50.0, kind="absolute")
    add("W2", "decide(), deny", "W2_decide/deny", None, 50.0, kind="absolute")
    w3_base = find(r"W3_read/\d+/baseline")
    # A durable read is also set beside the baseline that commits one row durably per read (the
    # fair comparison for what a durable audit adds; goal 0.8×).
    w3_durable_base = find(r"W3_read/\d+/baseline_durable")
    w3 = {}
    for mode in ("durable", "batched", "off"):
        name = find(rf"W3_read/\d+/audit:{mode}")
        w3[mode] = name
        size = name.split("/")[1] if name else "?"
        add("W3", f"read 3 fields, {size} customers, audit {mode}", name, w3_base, 0.5)
    w3_one = {}
    for mode in ("durable", "batched", "off"):
        name = find(rf"W3_read/\d+/one_call/audit:{mode}")
        w3_one[mode] = name
        if name:
            add("W3", f"read 3 fields in one call (Accessor::read), {name.split('/')[1]} customers, audit {mode}",
                name, w3_base, 0.5)
    if w3_durable_base:
        for label, name in (("view + read", w3["durable"]), ("one call", w3_one["durable"])):
            if name:
                add("W3", f"read 3 fields ({label}), audit durable, vs the baseline plus one durable INSERT", name,
                    w3_durable_base, 0.8)
    # W3T: durable reads from t threads through one vault; time is wall time per read, so the
    # ratio is t threads' throughput over one thread's (goal: 4× at 8, group commit sharing the fsync).
    if "W3T_durable/1" in runs:
        for n in (2, 4, 8):
            if f"W3T_durable/{n}" in runs:
                add("W3T", f"durable reads per second, {n} threads vs 1 (one vault, one call each)",
                    f"W3T_durable/{n}", "W3T_durable/1", 4.0 if n == 8 else None)
    # The same with the audit batched: reads side by side, each on a reader connection; bounded
    # by the processors (on two, 2×).
    if "W3T_batched/1" in runs:
        for n in (2, 4):
            if f"W3T_batched/{n}" in runs:
                add("W3T", f"batched reads per second, {n} threads vs 1 (one vault, one call each)",
                    f"W3T_batched/{n}", "W3T_batched/1", None)
    # B1: the same read through the bindings; the C++ side is W3 with a batched audit.
    b1_c = find(r"B1_read/\d+/c")
    if b1_c:
        add("B1", "W3's read through the C API vs through C++ (audit batched)", b1_c, w3["batched"], 0.909,
            note="same process")
    b1_py = find(r"B1_read/\d+/python")
    if b1_py:
        add("B1", "W3's read from Python vs from C++ (audit batched)", b1_py, w3["batched"], 0.5,
            note="cross-process: Python from python.json")
    w4 = find(r"W4_import/\d+/consentry")
    add("W4", f"import {w4.split('/')[1] if w4 else '?'} customers × 10 fields", w4,
        find(r"W4_import/\d+/baseline"), 0.5)
    w4_one = find(r"W4_import/\d+/one_transaction/consentry")
    if w4_one:
        add("W4", "the same import in one transaction (write_batches, as `consentry import`)", w4_one,
            find(r"W4_import/\d+/one_transaction/baseline"), 0.5)
    w5 = find(r"W5_scan/\d+/consentry")
    add("W5", f"eligible for a purpose, {w5.split('/')[1] if w5 else '?'} customers", w5,
        find(r"W5_scan/\d+/baseline"), 0.5)
    b3r = find(r"B3R_release/\d+/consentry")
    if b3r:
        add("B3R", f"B3's read (purpose_dataset, audit durable) of {b3r.split('/')[1]} customers beside its floor",
            b3r, b3r.replace("/consentry", "/baseline"),
            note="no goal: the floor (unwrap, open, log each customer by hand) bounds B3 against its CSV run")
    # W3, W4 and W5 on PostgreSQL beside raw libpq (postgres_bench.cpp), then the throughput of
    # several client processes: the ratio of p processes is (time per operation of one process) /
    # (wall time per operation of all p together), so 2× means twice the operations per second.
    # A durable read is compared with the baseline that also commits one row durably.
    pg3_base = find(r"PG3_read/\d+/baseline")
    pg3_durable_base = find(r"PG3_read/\d+/baseline_durable") or pg3_base
    for mode in ("durable", "batched", "off"):
        name = find(rf"PG3_read/\d+/audit:{mode}")
        if name:
            add("PG3", f"W3 on PostgreSQL: read 3 fields, {name.split('/')[1]} customers, audit {mode}", name,
                pg3_durable_base if mode == "durable" else pg3_base, 0.5)
    for mode in ("durable", "batched", "off"):
        name = find(rf"PG3_read/\d+/one_call/audit:{mode}")
        if name:
            add("PG3", f"W3 on PostgreSQL in one call (Accessor::read), {name.split('/')[1]} customers, "
                f"audit {mode}", name, pg3_durable_base if mode == "durable" else pg3_base, 0.5)
    pg4 = find(r"PG4_import/\d+/consentry")
    if pg4:
        add("PG4", f"W4 on PostgreSQL: import {pg4.split('/')[1]} customers × 10 fields (baseline: COPY)", pg4,
            pg4.replace("/consentry", "/baseline"), 0.5)
    pg5 = find(r"PG5_scan/\d+/consentry")
    if pg5:
        add("PG5", f"W5 on PostgreSQL: eligible for a purpose, {pg5.split('/')[1]} customers", pg5,
            pg5.replace("/consentry", "/baseline"), 0.5)
    pgb3r = find(r"PGB3R_release/\d+/consentry")
    if pgb3r:
        add("PGB3R", f"B3R on PostgreSQL: B3's read of {pgb3r.split('/')[1]} customers beside its floor", pgb3r,
            pgb3r.replace("/consentry", "/baseline"),
            note="no goal: the floor (one SELECT a page, unwrap, open, log each customer by hand) as B3R's")
    for prefix, what, clients, audit, goal8 in (("PGR_readers", "reads", "processes", "batched", None),
                                                ("PGT_threads", "reads", "threads of one process", "batched", None),
                                                ("PGA_appenders", "audit appends", "processes", "durable", 4.0)):
        one = f"{prefix}/1"
        if one not in runs:
            continue
        single = clients.replace("processes", "process").replace("threads", "thread")
        add(prefix.split("_")[0], f"{what} per second, 1 {single} (audit {audit})", one, None, kind="absolute")
        for p in (2, 4, 8):
            if f"{prefix}/{p}" in runs:
                add(prefix.split("_")[0], f"{what} per second, {p} {clients} vs 1 (audit {audit})",
                    f"{prefix}/{p}", one, goal8 if p == 8 else None)
    # PGA's physical limit: raw libpq processes committing one row each, durably (PGC). Where the
    # machine's own commits scale less than PGA's goal, so can the audit's.
    if "PGC_commits/1" in runs:
        add("PGC", "raw libpq durable commits per second, 1 process (PGA's physical limit)", "PGC_commits/1",
            None, kind="absolute")
        for p in (2, 4, 8):
            if f"PGC_commits/{p}" in runs:
                add("PGC", f"raw libpq durable commits per second, {p} processes vs 1", f"PGC_commits/{p}",
                    "PGC_commits/1")
        for p in (1, 2, 4, 8):
            if f"PGC_commits/{p}" in runs and f"PGA_appenders/{p}" in runs:
                add("PGA", f"audit appends vs raw durable commits, {p} process{'es' if p > 1 else ''}",
                    f"PGA_appenders/{p}", f"PGC_commits/{p}")
    if not any(n.startswith("PG") for n in runs):
        rows.append({"workload": "PG", "variant": "PostgreSQL", "ours": None, "baseline": None, "ours_ns": None,
                     "baseline_ns": None, "ratio": None, "kind": "speed", "goal": None, "met": None,
                     "note": "not run: no PostgreSQL server (CONSENTRY_PG_URL), the store was not built, "
                             "or a filter left them out", "counters": {}})
    w6 = sorted((n for n in runs if n.startswith("W6_erase/")), key=lambda n: int(n.split("/")[1]))
    if len(w6) == 2:
        add("W6", f"erase one customer at {w6[1].split('/')[1]} vs {w6[0].split('/')[1]} customers "
            "(the mean of five erasures in each copy)", w6[1], w6[0],
            1.5, kind="scaling")
    w7 = sorted((n for n in runs if n.startswith("W7_read/") and n.count("/") == 1),
                key=lambda n: int(n.split("/")[1]))
    if len(w7) == 2:
        add("W7", f"read 3 fields at {w7[1].split('/')[1]} vs {w7[0].split('/')[1]} customers (audit batched)",
            w7[1], w7[0], 1.5, kind="scaling")
        if all(f"{n}/baseline" in runs for n in w7):
            add("W7", f"the baseline's read at {w7[1].split('/')[1]} vs {w7[0].split('/')[1]} customers — no goal: "
                "how far the hand-written read itself slows as the file grows", f"{w7[1]}/baseline",
                f"{w7[0]}/baseline", None, kind="scaling")
            add("W7", f"read 3 fields, {w7[1].split('/')[1]} customers (audit batched), beside the baseline at the "
                "same size", w7[1], f"{w7[1]}/baseline", None)
    w9 = sorted({int(n.split("/")[1]) for n in runs if n.startswith("W9_find/")})
    for n in w9:
        add("W9", f"find one customer by email, {n} customers (audit batched)", f"W9_find/{n}/consentry",
            f"W9_find/{n}/baseline", 0.5)
    if len(w9) == 2:
        add("W9", f"find by email at {w9[1]} vs {w9[0]} customers (audit batched)", f"W9_find/{w9[1]}/consentry",
            f"W9_find/{w9[0]}/consentry", 1.5, kind="scaling")
    a1 = find(r"A1_verify/\d+/consentry")
    if a1:
        add("A1", f"log verify, {a1.split('/')[1]}-customer vault", a1, a1.replace("/consentry", "/baseline"), 0.5)
    r1 = find(r"R1_export/[^/]+/consentry")
    if r1:
        shape = r1.split("/")[1]
        add("R1", f"export of one customer ({shape} fields x audit entries), JSON", r1, None, 10e6, kind="absolute")
        add("R1", "export, HTML", r1 + "_html", None, 10e6, kind="absolute")
        add("R1", "export, JSON, beside reading and opening the same rows by hand", r1,
            r1.replace("/consentry", "/baseline"), note="no goal: the export decodes and renders what the baseline only reads")
    f1 = find(r"F1_token/\d+/consentry")
    if f1:
        digits = f1.split("/")[1]
        add("F1", f"FF1 token, {digits} decimal digits", f1, None, 1000.0, kind="absolute")
        add("F1", f"FF1 token, {digits} digits, beside the same single-block AES calls", f1,
            f1.replace("/consentry", "/baseline"), note="no goal: FF1 adds its numeral arithmetic to the AES calls")
    for variant, goal in (("blake2b", 0.8), ("hmac", None)):
        p1 = f"P1_pseudonym/{variant}/consentry"
        if p1 in runs:
            add("P1", f"pseudonym ({variant}) vs raw keyed {'BLAKE2b' if variant == 'blake2b' else 'HMAC-SHA256'}",
                p1, p1.replace("/consentry", "/baseline"), goal)
    k1 = find(r"K1_kanonymity/[^/]+/consentry")
    if k1:
        add("K1", "k-anonymity, Adult, 8 quasi-identifiers, k = 5 (ARX Flash: about 28 ms)", k1, None, kind="absolute",
            note="no goal")
        add("K1", "k-anonymity beside one grouping pass over the same encoded rows", k1,
            k1.replace("/consentry", "/baseline"), note="no goal: the search checks about 150 lattice nodes")
    dp1 = find(r"DP1_sum/\d+/consentry")
    if dp1:
        add("DP1", f"DP sum over {dp1.split('/')[1]} values vs a plain clamped loop", dp1,
            dp1.replace("/consentry", "/baseline"))
    w8 = find(r"W8_read/\d+/sqlcipher")
    w8_base = find(r"W8_read/\d+/sqlite_aead")
    if w8:
        # Goals: consentry's read within 2× of SQLCipher's with the audit batched, within 1.25× off.
        for mode, goal in (("durable", None), ("batched", 0.5), ("off", 0.8)):
            add("W8", f"SQLCipher read vs consentry W3, audit {mode}", w3[mode], w8, goal,
                note="cross-process: W3 from consentry.json, SQLCipher from sqlcipher.json")
        for mode, goal in (("durable", None), ("batched", 0.5), ("off", 0.8)):
            if w3_one[mode]:
                add("W8", f"SQLCipher read vs consentry W3 in one call, audit {mode}", w3_one[mode], w8, goal,
                    note="cross-process: W3 from consentry.json, SQLCipher from sqlcipher.json")
        add("W8", "SQLCipher vs hand-written SQLite + AEAD (same process)", w8_base, w8,
            note="ours column: W3's baseline re-run in the SQLCipher executable")
        add("W8", "W3 baseline: main suite vs SQLCipher executable", w3_base, w8_base,
            note="cross-check of the step between the two executables (ratio near 1 expected)")
    else:
        rows.append({"workload": "W8", "variant": "SQLCipher", "ours": None, "baseline": None, "ours_ns": None,
                     "baseline_ns": None, "ratio": None, "kind": "speed", "goal": None, "met": None,
                     "note": "not run: SQLCipher (libsqlcipher-dev) was not found at build time", "counters": {}})

    print("| workload | variant | consentry | baseline | ratio | goal | met |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        if r["kind"] == "absolute" and r["goal"] is not None:
            goal = f"≤ {fmt_time(r['goal'])}"
        elif r["goal"] is None:
            goal = "report"
        elif r["kind"] == "scaling":
            goal = f"≤ {r['goal']:g}"
        else:
            goal = f"≥ {r['goal']:g}×"
        ratio = ("—" if r["ratio"] is None else f"{r['ratio']:.3g}") if r["kind"] == "scaling" else fmt_ratio(r["ratio"])
        met = {True: "yes", False: "**no**", None: "—"}[r["met"]]
        variant = r["variant"]
        mem = [f"{k.replace('_mib', '')} {v:.0f} MiB" for k, v in r["counters"].items() if k.endswith("_mib")]
        if mem:
            variant += " (" + ", ".join(mem) + ")"
        # CPU time on all threads, beside the wall time in the columns (a side may use several cores).
        cpu = [f"{k.replace('_process_cpu_s', '')} {v:.2f} s" for k, v in r["counters"].items()
               if k.endswith("_process_cpu_s")]
        if cpu:
            variant += " (CPU on all threads: " + ", ".join(cpu) + ")"
        rates = [f"{v:,.0f} {k.replace('_per_s', '')}/s" for k, v in r["counters"].items()
                 if k.endswith("_per_s") and k.startswith("ours_")]
        if rates:
            variant += " (" + ", ".join(rate.replace("ours_", "") for rate in rates) + ")"
        if r["note"]:
            variant += f" — {r['note']}"
        print(f"| {r['workload']} | {variant} | {fmt_time(r['ours_ns'])} | {fmt_time(r['baseline_ns'])} "
              f"| {ratio} | {goal} | {met} |")

    summary = {"machine": machine(results_dir), "context": context, "sqlcipher_context": cipher_context,
               "ratio": "baseline_ns / ours_ns (W7: large / small; PGR, PGA: p processes' throughput / one's; "
                        "PGT: t threads' / one's; W2, R1, F1, K1: absolute ns)", "rows": rows}
    with open(os.path.join(results_dir, "summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2, ensure_ascii=False)
        f.write("\n")
    m = summary["machine"]
    print(f"\nmachine: {m.get('cpu')}, {m.get('cores')} cores, {m.get('ram_gib')} GiB RAM, disk {m.get('disk', '?')}; "
          f"scale {context.get('consentry_bench_scale', '?')}")
    print(f"JSON: {os.path.join(results_dir, 'consentry.json')}"
          + (f", {os.path.join(results_dir, 'sqlcipher.json')}" if cipher else "")
          + f", {os.path.join(results_dir, 'summary.json')}")
    failed = sorted(n for n, r in runs.items() if r["error"])
    if not runs or failed:
        for n in failed:
            print(f"report.py: {n} failed: {runs[n]['error']}", file=sys.stderr)
        if not runs:
            print("report.py: no benchmark ran", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
