"""Reading a job's payload: a value that does not fit raises InvalidPayload, which fails the job at once."""

from __future__ import annotations

from typing import Any


class InvalidPayload(ValueError):
    """The job's input is wrong: retrying cannot help."""


def require(payload: Any, key: str, kind: type, default: Any = ...) -> Any:
    """payload[key] as `kind` (an int is accepted as a float); `default` when the key is absent, if given."""
    if not isinstance(payload, dict):
        raise InvalidPayload(f"payload must be a JSON object, got {type(payload).__name__}")
    if key not in payload:
        if default is ...:
            raise InvalidPayload(f"payload.{key} is missing")
        return default
    value = payload[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise InvalidPayload(f"payload.{key} must be {kind.__name__}, got {type(value).__name__}")
    return value
