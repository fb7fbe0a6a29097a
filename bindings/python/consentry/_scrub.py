"""Keeps argument values out of the TypeError a wrongly typed call raises.

pybind11 answers a call whose arguments do not fit with a TypeError that ends "Invoked with: "
and the repr of every argument, which would put a passphrase, a key or a field value into an
exception text. Each public function and method of the compiled module is wrapped so that the
TypeError keeps the expected signatures and drops that part.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

_MARKERS = ("incompatible function arguments", "incompatible constructor arguments")


def _scrubbed(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except TypeError as e:
            text = str(e)
            if any(marker in text for marker in _MARKERS):
                raise TypeError(text.split("\nInvoked with")[0].rstrip()) from None
            raise

    return call


def scrub_module(module: Any, classes: list[type], functions: list[str]) -> None:
    """Wrap `functions` of `module` and every public method (and __init__) of `classes`."""
    for name in functions:
        setattr(module, name, _scrubbed(getattr(module, name)))
    for cls in classes:
        for name, member in list(vars(cls).items()):
            if name.startswith("__") and name != "__init__":
                continue
            if isinstance(member, staticmethod):
                setattr(cls, name, staticmethod(_scrubbed(member.__func__)))
            elif type(member).__name__ == "instancemethod" or name == "__init__":
                setattr(cls, name, _scrubbed(getattr(cls, name)))
