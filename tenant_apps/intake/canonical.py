"""Canonical JSON: one byte sequence for one value, so that a hash of it can be recomputed.

Keys sorted, no insignificant whitespace, UTF-8 without escapes. Only JSON types are allowed
(no floats: numbers in form definitions and answers are integers or decimal strings), so the
bytes do not depend on how a float happens to print.
"""

import hashlib
import json
from typing import Any


def _check(value: Any) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return
    if isinstance(value, float):
        raise TypeError("Floats are not allowed in canonical JSON; use an int or a string")
    if isinstance(value, list):
        for item in value:
            _check(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("Canonical JSON object keys must be strings")
            _check(item)
        return
    raise TypeError(f"{type(value).__name__} is not a JSON type")


def canonical_json(value: Any) -> bytes:
    _check(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()
