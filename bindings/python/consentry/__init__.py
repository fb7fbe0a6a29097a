"""consentry: consent-gated, encrypted customer data for CRM backends.

Open a vault, get an accessor for a CRM feature, open a view of a customer for a purpose and
read fields: every read is decided against the policy and the customer's consent and audited.
A refusal raises ``Denied`` with its ``reason``. See docs/python.md.

    import consentry

    policy = consentry.Policy.from_file("policy.json")
    with consentry.Vault.open("crm.vault", passphrase) as vault:
        view = vault.accessor("newsletter").view("C-1", "marketing")
        try:
            email = view.get("email")
        except consentry.Denied as denied:
            print("not sent:", denied.reason)
"""

import atexit

from ._errors import (
    AlreadyExists,
    Denied,
    Erased,
    Error,
    IntegrityError,
    InvalidInput,
    NotFound,
    StoreError,
    VaultClosed,
)
from ._consentry import _close_all
from ._consentry import (
    Accessor,
    AuditEntry,
    ConsentEvent,
    Ff1,
    FieldValue,
    Policy,
    ReadEach,
    Tokeniser,
    Vault,
    View,
    anonymise,
    apply_form,
    hmac_pseudonym,
    pseudonym,
    verify_consent_receipt,
)

from . import _consentry
from ._scrub import scrub_module as _scrub_module

_scrub_module(
    _consentry,
    [Accessor, AuditEntry, ConsentEvent, Ff1, FieldValue, Policy, ReadEach, Tokeniser, Vault, View],
    ["anonymise", "apply_form", "hmac_pseudonym", "pseudonym"],
)
anonymise = _consentry.anonymise
apply_form = _consentry.apply_form
hmac_pseudonym = _consentry.hmac_pseudonym
pseudonym = _consentry.pseudonym

__version__ = "0.1.0"

# A vault left open when the interpreter exits is closed then: its held-back audit entries are
# committed and a checkpoint signed.
atexit.register(_close_all)

__all__ = [
    "Accessor",
    "AlreadyExists",
    "AuditEntry",
    "ConsentEvent",
    "Denied",
    "Erased",
    "Error",
    "Ff1",
    "FieldValue",
    "IntegrityError",
    "InvalidInput",
    "NotFound",
    "Policy",
    "ReadEach",
    "StoreError",
    "Tokeniser",
    "Vault",
    "VaultClosed",
    "View",
    "anonymise",
    "apply_form",
    "hmac_pseudonym",
    "pseudonym",
    "verify_consent_receipt",
]
