"""Records (dicts) to JSON Lines, the form Vault.write hands to the library's import."""

from __future__ import annotations

import datetime
import json
import typing


def _default(value: typing.Any) -> typing.Any:
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return value.replace(microsecond=0).isoformat() + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    raise TypeError(f"a record cannot hold a {type(value).__name__}")


def to_jsonl(records: typing.Iterable[typing.Mapping[str, typing.Any]]) -> str:
    """One JSON object per line, as `consentry import` reads them."""
    lines = []
    for record in records:
        if not isinstance(record, typing.Mapping):
            raise TypeError("each record must be a dict")
        lines.append(json.dumps(dict(record), ensure_ascii=False, default=_default))
    return "\n".join(lines) + "\n"
