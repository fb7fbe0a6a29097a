"""Denials, withdrawals, erasure and tampering behave as in C++, as exceptions."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

import consentry
from conftest import EMAIL, PASSPHRASE, POLICY


def test_no_consent_is_denied_with_its_reason(vault: consentry.Vault) -> None:
    view = vault.accessor("newsletter").view("C-1", "marketing")
    with pytest.raises(consentry.Denied) as info:
        view.get("email")
    assert info.value.reason == "no_consent"
    assert info.value.errc == "denied"
    assert EMAIL not in str(info.value)


def test_an_unregistered_accessor_is_denied(vault: consentry.Vault) -> None:
    with pytest.raises(consentry.Denied) as info:
        vault.accessor("newsletter").view("C-1", "service")
    assert info.value.reason == "accessor_not_registered"


def test_a_field_the_purpose_may_not_see_is_denied(vault: consentry.Vault) -> None:
    vault.record_consent("C-1", "marketing", "grant", channel="web")
    view = vault.accessor("newsletter").view("C-1", "marketing")
    with pytest.raises(consentry.Denied) as info:
        view.get("phone")
    assert info.value.reason == "purpose_not_allowed_for_field"
    # read: strict by default; strict=False gives the exception objects in the dict.
    with pytest.raises(consentry.Denied):
        view.read(["email", "phone"])
    out = view.read(["email", "phone", "name"], strict=False)
    assert out["email"] == EMAIL
    assert out["name"] == "A"
    assert isinstance(out["phone"], consentry.Denied)
    assert out["phone"].reason == "purpose_not_allowed_for_field"


def test_accessor_read_is_a_view_and_a_read_in_one_call(vault: consentry.Vault) -> None:
    newsletter = vault.accessor("newsletter")
    with pytest.raises(consentry.Denied) as info:
        newsletter.read("C-1", "service", ["email"])
    assert info.value.reason == "accessor_not_registered"
    vault.record_consent("C-1", "marketing", "grant", channel="web")
    out = newsletter.read("C-1", "marketing", ["email", "phone"], strict=False)
    assert out["email"] == EMAIL
    assert isinstance(out["phone"], consentry.Denied)
    assert newsletter.read("C-1", "marketing", ["email"]) == {"email": EMAIL}
    vault.record_consent("C-1", "marketing", "withdraw", channel="web")
    with pytest.raises(consentry.Denied) as withdrawn:
        newsletter.read("C-1", "marketing", ["email"])
    assert withdrawn.value.reason == "withdrawn"


def test_find_searches_by_email_for_a_purpose_the_customer_allows(vault: consentry.Vault) -> None:
    vault.put("C-2", "email", "grace@example.com")
    desk = vault.accessor("support-desk")
    assert desk.find("service", "email", EMAIL.upper()) == ["C-1"]
    assert desk.find("service", "email", "nobody@example.com") == []
    newsletter = vault.accessor("newsletter")
    assert newsletter.find("marketing", "email", EMAIL) == []  # no consent yet
    vault.record_consent("C-1", "marketing", "grant", channel="web")
    assert newsletter.find("marketing", "email", EMAIL) == ["C-1"]
    with pytest.raises(consentry.Denied) as refused:
        vault.accessor("bi-dashboard").find("analytics", "email", EMAIL)
    assert refused.value.reason == "lookup_not_allowed"
    with pytest.raises(consentry.InvalidInput):
        desk.find("service", "email", "not an address")


def test_a_withdrawal_between_two_reads_denies_the_second(vault: consentry.Vault) -> None:
    event = vault.record_consent("C-1", "marketing", "grant", channel="web", notice="privacy-2025")
    assert event.action == "grant" and event.expires_at is not None
    view = vault.accessor("newsletter").view("C-1", "marketing")
    assert view.get("email") == EMAIL
    vault.record_consent("C-1", "marketing", "withdraw", channel="phone")
    with pytest.raises(consentry.Denied) as info:
        view.get("email")
    assert info.value.reason == "withdrawn"
    assert vault.consent_state("C-1") == {"service": "none", "marketing": "withdrawn", "analytics": "none"}
    history = vault.consent_history("C-1")
    assert [(e.purpose, e.action, e.channel) for e in history] == [("marketing", "grant", "web"),
                                                                    ("marketing", "withdraw", "phone")]


def test_an_objection_to_legitimate_interest(vault: consentry.Vault) -> None:
    assert list(vault.eligible_customers("analytics")) == ["C-1"]
    vault.record_consent("C-1", "analytics", "object")
    with pytest.raises(consentry.Denied) as info:
        vault.accessor("bi-dashboard").view("C-1", "analytics").get("age")
    assert info.value.reason == "objected"
    assert list(vault.eligible_customers("analytics")) == []


def test_eligible_customers_is_an_iterator(vault: consentry.Vault) -> None:
    vault.put("C-2", "email", "b@example.com")
    vault.record_consent("C-2", "marketing", "grant")
    it = vault.eligible_customers("marketing")
    assert iter(it) is it
    assert next(it) == "C-2"
    with pytest.raises(StopIteration):
        next(it)
    assert list(vault.eligible_customers("service")) == ["C-1", "C-2"]
    with pytest.raises(consentry.InvalidInput):
        vault.eligible_customers("nope")


def test_an_erased_customer_raises_erased(vault: consentry.Vault) -> None:
    view = vault.accessor("support-desk").view("C-1", "service")
    report = vault.erase("C-1", reason="the customer asked by e-mail", request="T-100")
    assert report["values"] == 4 and report["dry_run"] is False
    assert sorted(report["fields"]) == ["age", "email", "name", "phone"]
    with pytest.raises(consentry.Erased) as info:
        view.get("email")
    assert isinstance(info.value, consentry.NotFound)
    assert info.value.errc == "erased"
    with pytest.raises(consentry.Erased):
        vault.accessor("support-desk").view("C-1", "service")
    with pytest.raises(consentry.Erased):
        vault.put("C-1", "email", EMAIL)
    with pytest.raises(consentry.Erased):
        vault.export("C-1")
    assert vault.erased_at("C-1") is not None
    assert vault.erased_at("C-2") is None
    with pytest.raises(consentry.NotFound):
        vault.erase("C-2")


def test_a_tampered_value_is_an_integrity_error(vault: consentry.Vault, vault_path: pathlib.Path) -> None:
    vault.close()
    db = sqlite3.connect(vault_path)
    try:
        (sealed,) = db.execute("SELECT sealed FROM fields WHERE customer = 'C-1' AND field = 'email'").fetchone()
        flipped = bytearray(sealed)
        flipped[len(flipped) // 2] ^= 0x01
        db.execute("UPDATE fields SET sealed = ? WHERE customer = 'C-1' AND field = 'email'", (bytes(flipped),))
        db.commit()
    finally:
        db.close()
    with consentry.Vault.open(vault_path, PASSPHRASE) as v:
        view = v.accessor("support-desk").view("C-1", "service")
        with pytest.raises(consentry.IntegrityError) as info:
            view.get("email")
        assert info.value.errc == "integrity"
        assert view.get("age") == "36"
        out = view.read(["email", "age"], strict=False)
        assert isinstance(out["email"], consentry.IntegrityError) and out["age"] == "36"


def test_a_missing_value_is_not_found(vault: consentry.Vault) -> None:
    vault.put("C-2", "email", "b@example.com")
    with pytest.raises(consentry.NotFound):
        vault.accessor("support-desk").view("C-2", "service").get("age")


def test_read_each_answers_each_customer_as_read_does(vault: consentry.Vault) -> None:
    vault.put("C-2", "email", "grace@example.com")
    vault.put("C-3", "email", "alan@example.com")
    for customer in ("C-1", "C-3"):
        vault.record_consent(customer, "marketing", "grant", channel="web")
    vault.erase("C-3", reason="the customer asked")
    before = vault.verify_audit()["entries"]
    newsletter = vault.accessor("newsletter")
    it = newsletter.read_each(["C-1", "C-2", "C-3", ""], "marketing", ["email", "phone"])
    assert iter(it) is it
    answers = list(it)
    assert [customer for customer, _ in answers] == ["C-1", "C-2", "C-3", ""]
    first = answers[0][1]
    assert isinstance(first, dict) and first["email"] == EMAIL
    assert isinstance(first["phone"], consentry.Denied)
    second = answers[1][1]
    assert isinstance(second, dict) and isinstance(second["email"], consentry.Denied)
    assert second["email"].reason == "no_consent"
    assert isinstance(answers[2][1], consentry.Erased)
    assert isinstance(answers[3][1], consentry.InvalidInput)
    # Entries as read() logs them: C-1 a read and a refusal (phone), C-2 a refusal per reason
    # (no consent, no form), C-3 one refusal (erased); none for the invalid id.
    assert vault.verify_audit()["entries"] == before + 5
    assert all(EMAIL not in str(a) for _, a in answers[1:])


def test_read_each_reads_a_batch_at_a_time(vault: consentry.Vault) -> None:
    ids = [f"C-{i}" for i in range(2, 8)]
    for i, customer in enumerate(ids):
        vault.put(customer, "email", f"p{i}@example.com")
        vault.record_consent(customer, "marketing", "grant")
    it = vault.accessor("newsletter").read_each(ids, "marketing", ["email"], batch=2)
    assert next(it) == ("C-2", {"email": "p0@example.com"})
    # Withdrawn after the first batch was read: its second customer is answered as read, the
    # batches read after it are decided by the withdrawal.
    vault.record_consent("C-3", "marketing", "withdraw")
    vault.record_consent("C-5", "marketing", "withdraw")
    assert next(it) == ("C-3", {"email": "p1@example.com"})
    rest = dict(it)
    assert rest["C-4"] == {"email": "p2@example.com"}
    withdrawn = rest["C-5"]
    assert isinstance(withdrawn, dict) and isinstance(withdrawn["email"], consentry.Denied)
    assert withdrawn["email"].reason == "withdrawn"
    with pytest.raises(StopIteration):
        next(it)


def test_read_each_refuses_bad_arguments_and_a_closed_vault(vault: consentry.Vault) -> None:
    newsletter = vault.accessor("newsletter")
    with pytest.raises(consentry.InvalidInput):
        newsletter.read_each(["C-1"], "marketing", [])
    with pytest.raises(consentry.InvalidInput):
        newsletter.read_each(["C-1"], "marketing", ["email"], batch=0)
    with pytest.raises(TypeError):
        newsletter.read_each([1], "marketing", ["email"])  # type: ignore[list-item]
    assert list(newsletter.read_each([], "marketing", ["email"])) == []
    it = newsletter.read_each(iter(["C-1"]), "marketing", ["email"])
    vault.close()
    with pytest.raises(consentry.VaultClosed):
        next(it)


SIGNAL_POLICY = POLICY.rstrip().rstrip("}") + ',\n  "signals": {"gpc": ["marketing", "analytics"]}\n}\n'


def test_gpc_withdraws_and_objects_and_a_receipt_verifies_offline(tmp_path: pathlib.Path) -> None:
    policy = consentry.Policy.from_json(SIGNAL_POLICY, "signal-policy.json")
    vault = consentry.Vault.create(tmp_path / "s.vault", policy, PASSPHRASE, kdf="minimum")
    grant = vault.record_consent("C-1", "marketing", "grant", channel="web")
    report = vault.record_signal("C-1", "gpc")
    assert report["signal"]["kind"] == "gpc"
    recorded = {p["purpose"]: p["recorded"].action for p in report["purposes"]}
    assert recorded == {"marketing": "withdraw", "analytics": "object"}
    history = vault.consent_history("C-1")
    assert history[0].signal is None
    signal = history[1].signal
    assert signal is not None and signal["kind"] == "gpc"
    again = vault.record_signal("C-1", "gpc")
    assert [p["kept"] for p in again["purposes"]] == ["unchanged", "unchanged"]
    with pytest.raises(consentry.InvalidInput):
        vault.record_signal("C-1", "tcf", "not a tc string")
    with pytest.raises(consentry.InvalidInput):
        vault.record_signal("C-1", "iab")

    receipt = vault.consent_receipt("C-1", grant.seq)
    key = vault.public_key()
    assert len(key) == 32
    checked = consentry.verify_consent_receipt(receipt, key)
    assert (checked["subject"], checked["purpose"], checked["action"]) == ("C-1", "marketing", "grant")
    with pytest.raises(consentry.IntegrityError):
        consentry.verify_consent_receipt(receipt.replace('"grant"', '"object"'), key)
    with pytest.raises(consentry.InvalidInput):
        consentry.verify_consent_receipt("{", key)
    with pytest.raises(consentry.NotFound):
        vault.consent_receipt("C-1", 999)
    vault.close()
