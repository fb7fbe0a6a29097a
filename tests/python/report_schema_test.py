#!/usr/bin/env python3
"""Checks docs/export.schema.json against what export_json writes.

The exports come from consentry_report_sample (a hand-built report with hostile and non-ASCII
values); each must validate, and broken variants of them (a required member missing, a member
of the wrong type, an unknown member, a malformed timestamp) must not.

Usage: report_schema_test.py PROJECT_SOURCE_DIR PATH_TO_consentry_report_sample
Exits 0 when every check passes, 1 otherwise.
"""
import copy
import json
import pathlib
import subprocess
import sys

import jsonschema


def sample(tool, what):
    run = subprocess.run([tool, what], capture_output=True, timeout=60, check=False)
    if run.returncode != 0:
        raise SystemExit(f"FAIL {tool} {what}: exit {run.returncode}: {run.stderr.decode(errors='replace')}")
    return json.loads(run.stdout.decode("utf-8"))


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(sys.argv[1])
    tool = sys.argv[2]
    schema = json.loads((root / "docs" / "export.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    def accepted(name, doc):
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        if errors:
            failures.append(f"{name}: refused: {errors[0].json_path}: {errors[0].message}")

    def refused(name, doc):
        if validator.is_valid(doc):
            failures.append(f"{name}: accepted, but it is broken")

    full = sample(tool, "json")
    accepted("sample export", full)
    accepted("empty export", sample(tool, "json-empty"))
    accepted("export without values", sample(tool, "json-novalues"))
    labelled = sample(tool, "json-labelled")
    accepted("export with labels", labelled)
    if not any(a["action"] == "staff_read" for a in labelled["accesses"]):
        failures.append("labelled export: needs a staff_read access")
    if not any("refusal" in a for a in labelled["accesses"]):
        failures.append("labelled export: needs a refused access")

    # The sample exercises both branches of every nullable member, or the schema's null
    # alternatives would go untested.
    fields = full["fields"]
    if not any(f["retention"] is None for f in fields) or not any(f["retention"] for f in fields):
        failures.append("sample export: needs fields with and without retention")
    if not any(f["inferred"] for f in fields) or not any(f["third_party"] for f in fields):
        failures.append("sample export: needs an inferred and a third-party field")
    if not any(p["expires_at"] for p in full["purposes"]) or not any(p["since"] is None for p in full["purposes"]):
        failures.append("sample export: needs purposes with and without dates")
    if "<script>alert(1)</script>" not in [f["value"] for f in fields]:
        failures.append("sample export: the hostile value did not survive as data")
    kinds = [p["kind"] for p in full["contact_preferences"]]
    if sorted(set(kinds)) != ["limit", "opt_in", "opt_out"]:
        failures.append(f"sample export: needs a contact preference of every kind, has {kinds}")
    if "<b>sms</b>" not in [c["channel"] for c in full["contacts"]]:
        failures.append("sample export: the hostile contact channel did not survive as data")

    def variant(change):
        doc = copy.deepcopy(full)
        change(doc)
        return doc

    refused("customer missing", variant(lambda d: d.pop("customer")))
    refused("fields missing", variant(lambda d: d.pop("fields")))
    refused("your_rights.erasure missing", variant(lambda d: d["your_rights"].pop("erasure")))
    refused("field value missing", variant(lambda d: d["fields"][0].pop("value")))
    refused("field collected_at missing", variant(lambda d: d["fields"][0].pop("collected_at")))
    refused("use without form", variant(lambda d: d["fields"][0]["uses"][0].pop("form")))
    refused("customer a number", variant(lambda d: d.__setitem__("customer", 1001)))
    refused("value a number", variant(lambda d: d["fields"][0].__setitem__("value", 42)))
    refused("past_retention a string", variant(lambda d: d["fields"][0].__setitem__("past_retention", "no")))
    refused("fields an object", variant(lambda d: d.__setitem__("fields", {})))
    refused("seq a string", variant(lambda d: d["accesses"][0].__setitem__("seq", "11")))
    refused("unknown top-level member", variant(lambda d: d.__setitem__("extra", True)))
    refused("unknown field member", variant(lambda d: d["fields"][0].__setitem__("secret", "x")))
    refused("format version 2", variant(lambda d: d.__setitem__("consentry_export", 2)))
    refused("timestamp with offset",
            variant(lambda d: d.__setitem__("generated_at", "2026-01-01T00:00:00+01:00")))
    refused("retention not a duration", variant(lambda d: d["fields"][0].__setitem__("retention", "3 years")))
    refused("unknown form", variant(lambda d: d["fields"][0]["uses"][0].__setitem__("form", "blur")))
    refused("unknown status", variant(lambda d: d["purposes"][0].__setitem__("status", "maybe")))
    refused("unknown audit action", variant(lambda d: d["accesses"][0].__setitem__("action", "peek")))
    limit = next(i for i, p in enumerate(full["contact_preferences"]) if p["kind"] == "limit")
    opt_out = next(i for i, p in enumerate(full["contact_preferences"]) if p["kind"] == "opt_out")
    refused("contacts missing", variant(lambda d: d.pop("contacts")))
    refused("contact_preferences missing", variant(lambda d: d.pop("contact_preferences")))
    refused("contact without channel", variant(lambda d: d["contacts"][0].pop("channel")))
    refused("contact seq a string", variant(lambda d: d["contacts"][0].__setitem__("seq", "21")))
    refused("unknown preference kind",
            variant(lambda d: d["contact_preferences"][opt_out].__setitem__("kind", "snooze")))
    refused("preference max a string",
            variant(lambda d: d["contact_preferences"][limit].__setitem__("max", "1")))
    refused("preference max negative", variant(lambda d: d["contact_preferences"][limit].__setitem__("max", -1)))
    refused("preference per not a duration",
            variant(lambda d: d["contact_preferences"][limit].__setitem__("per", "weekly")))
    refused("limit without per", variant(lambda d: d["contact_preferences"][limit].__setitem__("per", None)))
    refused("limit with a channel",
            variant(lambda d: d["contact_preferences"][limit].__setitem__("channel", "email")))
    refused("opt_out with a max", variant(lambda d: d["contact_preferences"][opt_out].__setitem__("max", 1)))
    refused("opt_out without channel",
            variant(lambda d: d["contact_preferences"][opt_out].__setitem__("channel", None)))
    refused("unknown preference member",
            variant(lambda d: d["contact_preferences"][0].__setitem__("note", "x")))
    refused("root not an object", [])

    for failure in failures:
        print("FAIL", failure, file=sys.stderr)
    if failures:
        return 1
    print(f"export schema: 3 exports valid ({len(fields)} fields, {len(full['contacts'])} contacts and "
          f"{len(full['contact_preferences'])} contact preferences in the sample), broken variants refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
