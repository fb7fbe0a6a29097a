"""Fixtures shared by the consentry Python tests: a small retail policy and vaults in tmp_path."""

from __future__ import annotations

import pathlib
from typing import Iterator

import pytest

import consentry

POLICY = r"""
{
  "consentry_policy": 1,
  "controller": {"name": "Example Shop Ltd", "contact": "privacy@shop.example"},
  "purposes": [
    {"id": "service", "basis": "contract", "description": "Run the account you opened"},
    {"id": "marketing", "basis": "consent", "description": "Offers by email",
     "consent_valid_for": "P24M"},
    {"id": "analytics", "basis": "legitimate_interest", "description": "Aggregate reports",
     "privacy_budget": 5.0}
  ],
  "accessors": [
    {"id": "support-desk", "purposes": ["service"]},
    {"id": "newsletter", "purposes": ["marketing"]},
    {"id": "bi-dashboard", "purposes": ["analytics"]}
  ],
  "fields": [
    {"name": "email", "type": "email", "category": "contact", "lookup": ["service", "marketing"],
     "access": {"service": "clear", "marketing": "clear", "analytics": "pseudonym"}},
    {"name": "name", "type": "string", "category": "identity",
     "access": {"service": "clear", "marketing": "generalise:prefix:1"}},
    {"name": "phone", "type": "phone", "category": "contact",
     "access": {"service": "mask:last4"}},
    {"name": "age", "type": "integer", "category": "identity",
     "access": {"service": "clear", "analytics": "clear"}},
    {"name": "account", "type": "string", "category": "financial",
     "access": {"service": "clear", "analytics": "token"}}
  ]
}
"""

PASSPHRASE = "correct horse battery staple"

# Values planted in the vault; no repr or exception text may contain one.
EMAIL = "ada.lovelace@example.com"
NAME = "Ada Lovelace"
PHONE = "+44 20 7946 0958"


@pytest.fixture
def policy() -> consentry.Policy:
    return consentry.Policy.from_json(POLICY, "test-policy.json")


@pytest.fixture
def vault_path(tmp_path: pathlib.Path) -> pathlib.Path:
    return tmp_path / "crm.vault"


@pytest.fixture
def vault(vault_path: pathlib.Path, policy: consentry.Policy) -> Iterator[consentry.Vault]:
    """A vault holding customer C-1 (email, name, phone, age) with no consent yet."""
    with consentry.Vault.create(vault_path, policy, PASSPHRASE, kdf="minimum") as v:
        v.put("C-1", "email", EMAIL, source="web")
        v.put("C-1", "name", NAME)
        v.put("C-1", "phone", PHONE)
        v.put("C-1", "age", "36")
        yield v
