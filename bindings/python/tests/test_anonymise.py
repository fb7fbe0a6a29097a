"""FF1, tokens, pseudonyms, forms, k-anonymity and private aggregates."""

from __future__ import annotations

import pytest

import consentry

KEY = bytes(range(32))


def test_ff1_round_trip() -> None:
    ff1 = consentry.Ff1(KEY)
    assert ff1.radix == 10
    token = ff1.encrypt("4111111111111111", b"card")
    assert token != "4111111111111111" and len(token) == 16 and token.isdigit()
    assert ff1.decrypt(token, b"card") == "4111111111111111"
    assert ff1.encrypt("4111111111111111", b"other") != token
    letters = consentry.Ff1(KEY[:16], "abcdefghijklmnopqrstuvwxyz")
    assert letters.decrypt(letters.encrypt("consentry"), b"") == "consentry"


def test_ff1_refuses_bad_keys_and_input() -> None:
    with pytest.raises(consentry.InvalidInput):
        consentry.Ff1(b"short")
    with pytest.raises(consentry.InvalidInput):
        consentry.Ff1(KEY).encrypt("12ab34")
    with pytest.raises(consentry.InvalidInput):
        consentry.Ff1(KEY).encrypt("12")


def test_tokeniser_keeps_the_shape() -> None:
    t = consentry.Tokeniser(KEY)
    token = t.tokenise("phone", "+44 20 7946 0958", b"phone")
    assert token.startswith("+44 ") or token[0] == "+"
    assert len(token) == len("+44 20 7946 0958")
    assert t.detokenise("phone", token, b"phone") == "+44 20 7946 0958"
    with pytest.raises(consentry.Denied) as info:
        t.tokenise("date", "2020-01-01")
    assert info.value.reason == "form_unavailable"


def test_pseudonyms_are_stable_and_keyed() -> None:
    a = consentry.pseudonym(KEY, "C-1")
    assert a == consentry.pseudonym(KEY, "C-1")
    assert a != consentry.pseudonym(KEY, "C-2")
    assert a != consentry.pseudonym(bytes(32), "C-1")
    assert len(consentry.hmac_pseudonym(KEY, "C-1")) == 64
    with pytest.raises(consentry.InvalidInput):
        consentry.pseudonym(b"short", "C-1")
    with pytest.raises(consentry.InvalidInput):
        consentry.hmac_pseudonym(b"short", "C-1")


def test_apply_form() -> None:
    assert consentry.apply_form("mask:last4", "phone", "+442079460958") == "*********0958"
    assert consentry.apply_form("generalise:year", "date", "1990-05-17") == "1990"
    assert consentry.apply_form("pseudonym", "string", "x", KEY) == consentry.pseudonym(KEY, "x")
    with pytest.raises(consentry.Denied):
        consentry.apply_form("generalise:year", "phone", "+442079460958")
    with pytest.raises(consentry.InvalidInput):
        consentry.apply_form("blur", "string", "x")


ROWS = [
    {"age": "31", "zip": "10115", "disease": "flu"},
    {"age": "33", "zip": "10117", "disease": "cold"},
    {"age": "35", "zip": "10119", "disease": "flu"},
    {"age": "47", "zip": "20095", "disease": "asthma"},
    {"age": "42", "zip": "20097", "disease": "flu"},
    {"age": "44", "zip": "20099", "disease": "cold"},
]


def test_k_anonymity_with_mondrian() -> None:
    out = consentry.anonymise(ROWS, quasi_identifiers=["age"], k=3, method="mondrian")
    assert out["columns"] == ["age", "zip", "disease"]
    assert out["report"]["min_class_size"] >= 3
    ages = [r["age"] for r in out["rows"]]
    assert all("-" in a for a in ages)
    assert [r["disease"] for r in out["rows"]] == [r["disease"] for r in ROWS]


def test_k_anonymity_with_a_lattice_from_csv() -> None:
    csv = "zip,disease\n" + "".join(f"{r['zip']},{r['disease']}\n" for r in ROWS)
    hierarchy = [[z, z[:4] + "*", z[:2] + "***", "*"] for z in ("10115", "10117", "10119", "20095", "20097", "20099")]
    out = consentry.anonymise(csv, quasi_identifiers=["zip"], k=3, hierarchies={"zip": hierarchy})
    assert out["report"]["method"] == "lattice"
    assert out["report"]["classes"] == 2
    assert sorted({r["zip"] for r in out["rows"]}) == ["1011*", "2009*"]
    with pytest.raises(consentry.InvalidInput):
        consentry.anonymise(csv, quasi_identifiers=["zip"], k=3)  # no hierarchy
    with pytest.raises(consentry.InvalidInput):
        consentry.anonymise(csv, quasi_identifiers=["zip"], k=7, hierarchies={"zip": hierarchy})


def test_metrics_and_models_of_the_lattice() -> None:
    csv = "zip,disease\n" + "".join(f"{r['zip']},{r['disease']}\n" for r in ROWS)
    hierarchy = [[z, z[:4] + "*", z[:2] + "***", "*"] for z in ("10115", "10117", "10119", "20095", "20097", "20099")]
    out = consentry.anonymise(csv, quasi_identifiers=["zip"], k=3, hierarchies={"zip": hierarchy}, metric="loss")
    report = out["report"]
    assert report["metric"] == "loss"
    # Two classes of three out of six ZIP codes: a share of 3/6 per row, (3 - 1) / (6 - 1) = 0.4.
    assert abs(report["loss"] - 0.4) < 1e-12
    assert report["aecs"] == 3.0
    assert report["highest_risk"] == report["average_risk"] == 1 / 3
    # Each class holds flu twice and one other value: not recursive (2,2)-diverse with c = 1.
    with pytest.raises(consentry.InvalidInput):
        consentry.anonymise(
            csv, quasi_identifiers=["zip"], k=3, hierarchies={"zip": hierarchy},
            l=2, sensitive="disease", diversity="recursive", c=1.0,
        )
    out = consentry.anonymise(
        csv, quasi_identifiers=["zip"], k=1, hierarchies={"zip": hierarchy}, sensitive="disease", t=0.5
    )
    assert out["report"]["suppressed"] == 0
    with pytest.raises(consentry.InvalidInput):
        consentry.anonymise(csv, quasi_identifiers=["zip"], k=3, hierarchies={"zip": hierarchy}, metric="height")


def test_private_aggregate_charges_the_budget(vault: consentry.Vault) -> None:
    for i in range(2, 12):
        vault.put(f"C-{i}", "age", str(20 + i))
    count = vault.private_aggregate("analytics", "age", "count", epsilon=1.0)
    assert count["kind"] == "count" and isinstance(count["count"], int)
    mean = vault.private_aggregate("analytics", "age", "mean", epsilon=1.0, lo=0, hi=100)
    assert mean["mean"] is not None and 0 <= mean["mean"] <= 100 and mean["clamp"] == (0, 100)
    budget = vault.privacy_budget("analytics")
    assert budget["total"] == 5.0 and budget["spent"] == pytest.approx(2.0)
    with pytest.raises(consentry.Denied) as info:
        vault.private_aggregate("analytics", "age", "count", epsilon=4.0)
    assert info.value.reason == "privacy_budget_spent"
    with pytest.raises(consentry.InvalidInput):
        vault.private_aggregate("analytics", "age", "median")
    with pytest.raises(consentry.Denied):
        vault.private_aggregate("analytics", "phone", "count")
