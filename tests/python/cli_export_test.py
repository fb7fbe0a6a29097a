#!/usr/bin/env python3
"""End to end through the consentry command: a real vault's export validates against
docs/export.schema.json, lists the accesses made, is audited, carries the customer's values into
a fresh vault (import --format export), and the staff audit and inventory hold no value.

Usage: cli_export_test.py PROJECT_SOURCE_DIR PATH_TO_consentry
Exits 0 when every check passes, 1 otherwise.
"""
import csv
import io
import json
import os
import pathlib
import stat
import subprocess
import sys
import tempfile

import jsonschema

PASSPHRASE = "cli export test passphrase"
CUSTOMERS = [
    {"id": "C-1001", "source": "web-signup", "collected_at": "2025-05-01T10:00:00Z",
     "fields": {"email": "ann.zq9@example.com", "birth_date": "1990-04-02", "phone": "+44 7700 900123"}},
    {"id": "C-1002", "source": "store", "collected_at": "2025-06-01T09:30:00Z",
     "fields": {"email": "bob.zq9@example.com", "phone": "+44 7700 900456"}},
    {"id": "C-1001", "source": "credit-bureau", "collected_at": "2025-07-01T00:00:00Z",
     "fields": {"credit_score": 712}},
]


class Cli:
    def __init__(self, binary, vault):
        self.binary = binary
        self.vault = vault

    def __call__(self, *args, expect=0):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CONSENTRY_")}
        env["CONSENTRY_VAULT"] = str(self.vault)
        env["CONSENTRY_PASSPHRASE"] = PASSPHRASE
        run = subprocess.run([self.binary, *args], capture_output=True, timeout=120, env=env, check=False)
        if run.returncode != expect:
            raise AssertionError(f"consentry {' '.join(args)}: exit {run.returncode}, expected {expect}\n"
                                 f"stdout: {run.stdout.decode(errors='replace')}\n"
                                 f"stderr: {run.stderr.decode(errors='replace')}")
        return run.stdout.decode("utf-8")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    binary = sys.argv[2]
    schema = json.loads((root / "docs" / "export.schema.json").read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    policy = root / "examples" / "policies" / "retail.json"
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    with tempfile.TemporaryDirectory(prefix="consentry-export-test-") as tmp:
        tmp = pathlib.Path(tmp)
        cli = Cli(binary, tmp / "crm.vault")
        cli("init", "--policy", str(policy), "--kdf", "minimum")
        lines = tmp / "customers.jsonl"
        lines.write_text("\n".join(json.dumps(c) for c in CUSTOMERS) + "\n", encoding="utf-8")
        cli("import", str(lines))
        cli("consent", "grant", "C-1001", "marketing.email", "--channel", "web", "--notice", "privacy-2025-03")
        cli("read", "C-1001", "--purpose", "service", "--as", "support-desk", "--fields", "email,phone")

        # JSON: valid, complete, and it lists the read and the consent.
        export = json.loads(cli("export", "C-1001"))
        for error in validator.iter_errors(export):
            failures.append(f"export refused by the schema: {error.json_path}: {error.message}")
        values = {f["name"]: f["value"] for f in export["fields"]}
        check(values.get("email") == "ann.zq9@example.com", "export: email value")
        check(values.get("credit_score") == "712", "export: credit_score value")
        sources = {f["name"]: f["source"] for f in export["fields"]}
        check(sources.get("credit_score") == "credit-bureau", "export: credit_score source")
        third = {f["name"]: f["third_party"] for f in export["fields"]}
        check(third.get("credit_score") is True and third.get("email") is False, "export: third-party flags")
        check(any(e["action"] == "field_read" and e["accessor"] == "support-desk" and "email:clear" in e["fields"]
                  for e in export["accesses"]), "export: the support desk's read is listed")
        check([h["notice"] for h in export["consent_history"]] == ["privacy-2025-03"], "export: consent history")
        check(export["controller"]["contact"] in export["your_rights"]["erasure"], "export: how to ask for erasure")
        check("bob.zq9" not in json.dumps(export), "export: another customer's value")

        # The export is audited: the next one lists it.
        again = json.loads(cli("export", "C-1001"))
        check(sum(e["action"] == "export_made" for e in again["accesses"]) == 1, "export: audited once")

        # To a file: mode 0600, the same document; an erased or unknown customer writes nothing.
        out = tmp / "ann.json"
        cli("export", "C-1001", "-o", str(out))
        check(stat.S_IMODE(out.stat().st_mode) == 0o600, "export -o: mode 0600")
        check(json.loads(out.read_text(encoding="utf-8"))["customer"] == "C-1001", "export -o: content")
        cli("export", "C-9999", "-o", str(tmp / "nobody.json"), expect=5)
        check(not (tmp / "nobody.json").exists() and not list(tmp.glob(".nobody.json.partial-*")),
              "export of an unknown customer left a file")

        # CSV: one row per field, the header first.
        rows = list(csv.reader(io.StringIO(cli("export", "C-1001", "--format", "csv"), newline="")))
        check(rows[0][:2] == ["field", "value"], "csv: header")
        check(sorted(r[0] for r in rows[1:]) == sorted(values), "csv: one row per field")

        # HTML: one page holding the values and the rights.
        html = cli("export", "C-1001", "--format", "html")
        check(html.lstrip().lower().startswith("<!doctype html>"), "html: doctype")
        check("ann.zq9@example.com" in html and "<script" not in html.lower(), "html: values, no script")

        # Portability: the export carries the values, sources and times into a fresh vault.
        fresh = Cli(binary, tmp / "other.vault")
        fresh("init", "--policy", str(policy), "--kdf", "minimum")
        fresh("import", str(out), "--format", "export")
        carried = json.loads(fresh("export", "C-1001"))
        key = lambda doc: sorted((f["name"], f["value"], f["source"], f["collected_at"]) for f in doc["fields"])
        check(key(carried) == key(export), "portability: the fresh vault's export differs")
        broken = tmp / "broken.json"
        doc = json.loads(out.read_text(encoding="utf-8"))
        doc["fields"][1]["value"] = 5
        broken.write_text(json.dumps(doc), encoding="utf-8")
        fresh("import", str(broken), "--format", "export", expect=2)

        # Staff audit and inventory: metadata, never a value.
        staff = cli("audit", "C-1001") + cli("audit", "C-1001", "--json")
        for value in values.values():
            if len(value) > 4:
                check(value not in staff, "staff audit shows a value")
        check("credit-bureau" in staff and "web-signup" in staff, "staff audit: sources")
        inventory = json.loads(cli("inventory", "--json", "--unused", "P90D"))
        text = json.dumps(inventory)
        check("zq9" not in text, "inventory shows a value")
        by_name = {f["name"] if "name" in f else f.get("field"): f for f in inventory["fields"]}
        check(by_name["email"]["customers"] == 2, "inventory: two customers hold an email")
        check("expecting_child" in inventory["unused"], "inventory: expecting_child unused")
        check("email" not in inventory["unused"], "inventory: email was read")

        # Erased: no export.
        cli("erase", "C-1002", "--reason", "customer request")
        cli("export", "C-1002", expect=5)
        cli("audit", "C-1002", expect=5)

    for f in failures:
        print("FAIL", f)
    print(f"{'ok' if not failures else 'FAILED'}: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
