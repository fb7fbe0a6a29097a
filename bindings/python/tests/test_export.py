"""The customer's export as a dict and as HTML; who accessed my data."""

from __future__ import annotations

import consentry
from conftest import EMAIL


def test_export_is_a_dict_with_fields_and_accesses(vault: consentry.Vault) -> None:
    vault.record_consent("C-1", "marketing", "grant", channel="web")
    vault.accessor("newsletter").view("C-1", "marketing").get("email")
    export = vault.export("C-1")
    assert export["consentry_export"] == 1
    assert export["customer"] == "C-1"
    values = {f["name"]: f["value"] for f in export["fields"]}
    assert values["email"] == EMAIL and values["age"] == "36"
    accessors = {a["accessor"] for a in export["accesses"]}
    assert "newsletter" in accessors
    assert any(e["purpose"] == "marketing" for e in export["consent_history"])


def test_export_html_is_a_page(vault: consentry.Vault) -> None:
    page = vault.export_html("C-1")
    assert "<html" in page and EMAIL in page
    assert "email" in vault.export_csv("C-1")


def test_who_accessed_my_data(vault: consentry.Vault) -> None:
    vault.accessor("support-desk").view("C-1", "service").read(["email", "phone"])
    try:
        vault.accessor("newsletter").view("C-1", "marketing").get("email")
    except consentry.Denied:
        pass
    entries = vault.audit_entries("C-1")
    seen = {(e.accessor, e.action, e.allowed) for e in entries}
    assert ("support-desk", "field_read", True) in seen
    assert ("newsletter", "access_denied", False) in seen
    refused = [e for e in entries if not e.allowed]
    assert refused[-1].reason == "no_consent"
    # Every entry names the customer by the same pseudonym, never by id.
    assert len({e.customer for e in entries}) == 1 and entries[0].customer != "C-1"
