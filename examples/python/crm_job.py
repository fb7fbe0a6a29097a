#!/usr/bin/env python3
"""A small CRM job with consentry's Python module.

It makes a vault from examples/policies/retail.json, imports customers, records what each one
agreed to, sends the newsletter to those whose consent lets the newsletter tool read their email
(a denial is an exception, handled per customer), and prints "who accessed my data" for one of
them. Prints only ids, counts and reasons: never a value.

    PYTHONPATH=build/bindings/python/package python3 examples/python/crm_job.py [VAULT]
"""

from __future__ import annotations

import pathlib
import sys
import tempfile

import consentry

HERE = pathlib.Path(__file__).resolve().parent
POLICY = HERE.parent / "policies" / "retail.json"

CUSTOMERS = [
    {"id": "C-1001", "source": "web-signup", "fields": {"email": "ada@example.com", "birth_date": "1985-12-10"}},
    {"id": "C-1002", "source": "web-signup", "fields": {"email": "grace@example.com", "phone": "+1 202 555 0143"}},
    {"id": "C-1003", "source": "store", "fields": {"email": "alan@example.com"}},
]


def send_newsletter(vault: consentry.Vault) -> None:
    newsletter = vault.accessor("email-campaigns")
    for customer in vault.customers():
        view = newsletter.view(customer, "marketing.email")
        try:
            address = view.get("email")
        except consentry.Denied as denied:
            print(f"{customer}: not sent ({denied.reason})")
            continue
        # A real job would hand `address` to the mail system here.
        print(f"{customer}: sent ({len(address)} characters of address read)")


def who_accessed(vault: consentry.Vault, customer: str) -> None:
    print(f"who accessed the data of {customer}:")
    for entry in vault.audit_entries(customer):
        verdict = "allowed" if entry.allowed else f"refused: {entry.reason}"
        what = ", ".join(entry.fields)
        print(f"  {entry.at:%Y-%m-%d %H:%M} {entry.action:<16} {entry.accessor or '-':<16} "
              f"{entry.purpose or '-':<16} {what} ({verdict})")


def main(vault_file: pathlib.Path) -> int:
    policy = consentry.Policy.from_file(POLICY)
    with consentry.Vault.create(vault_file, policy, "an example passphrase", kdf="minimum",
                                actor="crm-job") as vault:
        print(f"imported {vault.write(CUSTOMERS, origin='crm-export')} customers")
        vault.record_consent("C-1001", "marketing.email", "grant", channel="web", notice="privacy-2025-03")
        vault.record_consent("C-1002", "marketing.email", "grant", channel="web")
        vault.record_consent("C-1002", "marketing.email", "withdraw", channel="phone")
        print("eligible for marketing:", ", ".join(vault.eligible_customers("marketing.email")))

        send_newsletter(vault)

        support = vault.accessor("support-desk").view("C-1002", "service")
        fields = support.read(["email", "phone"], strict=False)
        for field, value in fields.items():
            print(f"support desk, {field}: {'refused' if isinstance(value, consentry.Error) else 'read'}")

        who_accessed(vault, "C-1002")
        export = vault.export("C-1002")
        print(f"export of C-1002: {len(export['fields'])} fields, {len(export['accesses'])} accesses")
        print("audit log verifies:", vault.verify_audit()["ok"])
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(pathlib.Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as scratch:
        sys.exit(main(pathlib.Path(scratch) / "crm.vault"))
