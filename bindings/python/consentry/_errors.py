"""The exceptions consentry raises. Every one is a ``consentry.Error``.

Messages come from the library, which names fields, purposes, files and lines but never a value
or a key byte; so does every exception here.
"""

from __future__ import annotations

from typing import Optional


class Error(Exception):
    """Base of every consentry exception.

    ``errc`` is the library's error code ("denied", "integrity", "not_found", "erased",
    "invalid_argument", "bad_input", "already_exists", "io", "internal"), or "closed" for a call
    on a closed vault. ``reason`` is the deny reason's spelling for a denial, else None.
    """

    errc: str
    reason: Optional[str]

    def __init__(self, message: str, errc: str = "internal", reason: Optional[str] = None) -> None:
        super().__init__(message)
        self.errc = errc
        self.reason = reason

    @property
    def message(self) -> str:
        """The library's message (never a value)."""
        return str(self.args[0]) if self.args else ""


class Denied(Error):
    """Refused by the policy or the customer's consent; ``reason`` says why ("no_consent",
    "withdrawn", "accessor_not_registered", ...)."""

    reason: str

    def __init__(self, message: str, errc: str = "denied", reason: Optional[str] = None) -> None:
        super().__init__(message, errc, reason if reason is not None else "none")


class NotFound(Error):
    """No such customer, field value, accessor or vault file."""


class Erased(NotFound):
    """The customer was erased."""


class IntegrityError(Error):
    """Tampering, a wrong passphrase or key, or corrupt data."""


class InvalidInput(Error):
    """A malformed argument, record, policy or value (errc "invalid_argument" or "bad_input")."""


class AlreadyExists(Error):
    """Refusing to overwrite (a vault file that exists)."""


class StoreError(Error):
    """The operating system or the database failed (errc "io")."""


class VaultClosed(Error):
    """The vault was closed (errc "closed")."""


_BY_CODE = {
    "denied": Denied,
    "not_found": NotFound,
    "erased": Erased,
    "integrity": IntegrityError,
    "invalid_argument": InvalidInput,
    "bad_input": InvalidInput,
    "already_exists": AlreadyExists,
    "io": StoreError,
    "closed": VaultClosed,
}


def _from_code(errc: str, message: str, reason: Optional[str]) -> Error:
    """Build the exception for a library error (used by the compiled module)."""
    cls = _BY_CODE.get(errc, Error)
    return cls(message, errc, reason)

# Show the classes as consentry.Denied, ... in tracebacks, as they are imported.
for _cls in (Error, Denied, NotFound, Erased, IntegrityError, InvalidInput, AlreadyExists, StoreError, VaultClosed):
    _cls.__module__ = "consentry"
del _cls
