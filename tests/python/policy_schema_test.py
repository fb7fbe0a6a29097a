#!/usr/bin/env python3
"""Checks docs/policy.schema.json: every example policy validates, malformed ones do not.

Usage: policy_schema_test.py PROJECT_SOURCE_DIR
Exits 0 when every check passes, 1 otherwise.
"""
import copy
import json
import pathlib
import sys

import jsonschema


def main() -> int:
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parents[2])
    schema = json.loads((root / "docs" / "policy.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    failures = []

    def accepted(name, policy):
        errors = sorted(validator.iter_errors(policy), key=lambda e: list(e.path))
        if errors:
            failures.append(f"{name}: refused: {errors[0].json_path}: {errors[0].message}")

    def refused(name, policy):
        if validator.is_valid(policy):
            failures.append(f"{name}: accepted, but it is malformed")

    examples = sorted((root / "examples" / "policies").glob("*.json"))
    if len(examples) < 2:
        failures.append("examples/policies: fewer than two example policies")
    for path in examples:
        accepted(str(path.relative_to(root)), json.loads(path.read_text(encoding="utf-8")))

    data = root / "tests" / "data" / "policies"
    for path in sorted(data.glob("valid_*.json")):
        accepted(str(path.relative_to(root)), json.loads(path.read_text(encoding="utf-8")))
    bad_files = sorted(data.glob("bad_*.json"))
    if len(bad_files) < 5:
        failures.append("tests/data/policies: fewer than five malformed policies")
    for path in bad_files:
        refused(str(path.relative_to(root)), json.loads(path.read_text(encoding="utf-8")))

    # Variants of the retail policy probe the duration and form patterns and the conditional rules.
    base = json.loads((data / "valid_retail.json").read_text(encoding="utf-8"))

    def variant(change):
        policy = copy.deepcopy(base)
        change(policy)
        return policy

    def set_retention(value):
        return lambda p: p["fields"][0].__setitem__("retention", value)

    for good in ["P3Y", "P24M", "P2W", "P7D", "PT36H", "P1Y2M10DT2H30M", "PT1S", "P1Y0M"]:
        accepted(f"retention {good}", variant(set_retention(good)))
    for bad in ["", "P", "PT", "P1.5Y", "-P1D", "P1H", "P1DT", "P0D", "PT0S", "P1D1Y", "p1d", "P1234567890Y", "P\u0661D"]:
        refused(f"retention {bad!r}", variant(set_retention(bad)))

    def set_form(field, purpose, form):
        return lambda p: p["fields"][field]["access"].__setitem__(purpose, form)

    for good in ["clear", "redact", "pseudonym", "token", "mask:last1", "mask:last1000", "generalise:prefix:3",
                 "mask:first1", "mask:first1000", "mask:email", "replace:REDACTED", "replace:n/a \u00e9",
                 "replace:" + "x" * 64]:
        accepted(f"form {good}", variant(set_form(0, "service", good)))
    accepted("bucket on an integer", variant(set_form(3, "service", "generalise:bucket:50")))
    accepted("decade on an integer", variant(set_form(3, "service", "generalise:decade")))
    accepted("month on a date", variant(set_form(1, "service", "generalise:month")))
    for bad in ["blur", "mask:last0", "mask:last1001", "mask:last04", "mask:last", "generalise:week", "Clear",
                "mask:first0", "mask:first", "mask:emails", "replace:", "replace:" + "x" * 65, "replace:a\tb",
                "replace:a\u0085b"]:
        refused(f"form {bad!r}", variant(set_form(0, "service", bad)))
    refused("mask:email of a phone", variant(set_form(2, "service", "mask:email")))
    refused("year of an email", variant(set_form(0, "analytics", "generalise:year")))
    refused("bucket of a date", variant(set_form(1, "analytics", "generalise:bucket:10")))
    refused("decade of a phone", variant(set_form(2, "service", "generalise:decade")))

    refused("automated decision on legitimate interest",
            variant(lambda p: p["purposes"][2].__setitem__("automated_decision", True)))
    accepted("automated decision on consent",
             variant(lambda p: p["purposes"][1].__setitem__("automated_decision", True)))
    refused("inferred without derived_from", variant(lambda p: p["fields"][4].pop("derived_from")))
    refused("derived_from on a collected field",
            variant(lambda p: p["fields"][0].__setitem__("derived_from", ["phone"])))
    refused("duplicate source", variant(lambda p: p["fields"][3]["sources"].append("credit-bureau")))
    refused("accessor without purposes", variant(lambda p: p["accessors"][0].__setitem__("purposes", [])))
    refused("purpose id with capitals", variant(lambda p: p["purposes"][0].__setitem__("id", "Service")))
    refused("field name with a dash", variant(lambda p: p["fields"][0].__setitem__("name", "e-mail")))
    refused("access key not an id", variant(set_form(0, "Marketing", "clear")))
    refused("contact_limit unknown key",
            variant(lambda p: p["purposes"][1]["contact_limit"].__setitem__("window", "P1D")))
    refused("controller unknown key", variant(lambda p: p["controller"].__setitem__("phone", "0")))
    refused("format version 2", variant(lambda p: p.__setitem__("consentry_policy", 2)))
    refused("root not an object", [])

    # Labels, descriptions, translations, the default language and declared sources.
    def set_key(where, key, value):
        def change(p):
            target = p if where is None else p[where[0]][where[1]]
            target[key] = value
        return change

    accepted("label as a string", variant(set_key(("fields", 0), "label", "Email address")))
    accepted("label as translations",
             variant(set_key(("purposes", 0), "label", {"en": "Your account", "de": "Ihr Konto", "pt-BR": "Conta"})))
    accepted("description with a newline", variant(set_key(("accessors", 0), "description", "One\ntwo")))
    accepted("default_language", variant(set_key(None, "default_language", "de-AT")))
    accepted("declared sources", variant(set_key(None, "sources", [
        {"id": "credit-bureau", "label": {"en": "Credit agency", "de": "Auskunftei"}, "description": "Asked once"}])))
    refused("empty label", variant(set_key(("fields", 0), "label", "")))
    refused("empty translations", variant(set_key(("fields", 0), "label", {})))
    refused("label a number", variant(set_key(("fields", 0), "label", 3)))
    refused("bad language tag", variant(set_key(("fields", 0), "label", {"e n": "x"})))
    refused("newline in a label", variant(set_key(("fields", 0), "label", "a\nb")))
    refused("tab in a description", variant(set_key(("fields", 0), "description", "a\tb")))
    refused("label too long", variant(set_key(("purposes", 0), "label", "x" * 201)))
    refused("description too long", variant(set_key(("purposes", 0), "description", "x" * 4001)))
    refused("bad default_language", variant(set_key(None, "default_language", "english")))
    refused("source without label", variant(set_key(None, "sources", [{"id": "credit-bureau"}])))
    refused("source id with a space", variant(set_key(None, "sources", [{"id": "credit bureau", "label": "x"}])))
    refused("source unknown key", variant(set_key(None, "sources", [{"id": "web", "label": "x", "url": "y"}])))

    # The consent signals mapping (docs/consent-signals.md).
    signals = {"tcf": {"vendor_id": 755, "purposes": {"marketing.email": [1, 4]}},
               "gpp_usnat": {"sale_opt_out": ["marketing.email"]}, "gpc": ["marketing.email"]}
    accepted("signals", variant(set_key(None, "signals", signals)))
    refused("signals unknown key", variant(set_key(None, "signals", {"iab": {}})))
    refused("tcf without vendor_id", variant(set_key(None, "signals", {"tcf": {"purposes": {"x": [1]}}})))
    refused("tcf vendor_id 0", variant(set_key(None, "signals", {"tcf": {"vendor_id": 0, "purposes": {"x": [1]}}})))
    refused("tcf purpose 25", variant(set_key(None, "signals", {"tcf": {"vendor_id": 1, "purposes": {"x": [25]}}})))
    refused("usnat unknown opt-out", variant(set_key(None, "signals", {"gpp_usnat": {"sale": ["x"]}})))
    refused("gpc empty", variant(set_key(None, "signals", {"gpc": []})))

    for failure in failures:
        print("FAIL", failure, file=sys.stderr)
    if failures:
        return 1
    print(f"policy schema: {len(examples)} examples valid, {len(bad_files)} malformed files refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
