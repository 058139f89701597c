"""Botocore values <-> JSON, guided by the service model: timestamps as ISO strings, blobs as base64."""

from __future__ import annotations

import base64
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.model import Shape

# Response metadata a replay needs: the status, and what ClientError prints ("reached max retries: N").
KEPT_METADATA = ("HTTPStatusCode", "MaxAttemptsReached", "RetryAttempts")


def to_json(value: Any) -> Any:
    """A botocore value as plain JSON data (datetimes ISO, bytes base64, Decimals as numbers)."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(to_json(item) for item in value)
    return value


def trim_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    """A parsed response with ResponseMetadata cut to what replay needs (no request ids, dates or headers)."""
    trimmed = dict(parsed)
    metadata = parsed.get("ResponseMetadata")
    if isinstance(metadata, dict):
        trimmed["ResponseMetadata"] = {key: metadata[key] for key in KEPT_METADATA if key in metadata}
    return trimmed


def from_json(value: Any, shape: Shape | None) -> Any:
    """Rebuild botocore's parsed types from JSON data following `shape` (timestamps, blobs)."""
    if shape is None or value is None:
        return _copy(value)
    type_name = shape.type_name
    if type_name == "structure" and isinstance(value, dict):
        members = shape.members
        return {key: from_json(item, members.get(key)) for key, item in value.items()}
    if type_name == "list" and isinstance(value, list):
        return [from_json(item, shape.member) for item in value]
    if type_name == "map" and isinstance(value, dict):
        return {key: from_json(item, shape.value) for key, item in value.items()}
    if type_name == "timestamp" and isinstance(value, str):
        return datetime.fromisoformat(value)
    if type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return _copy(value)


def _copy(value: Any) -> Any:
    """A deep copy of plain JSON data (faster than copy.deepcopy for this shape of data)."""
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value
