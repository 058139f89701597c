"""Botocore values <-> JSON, guided by the service model: timestamps as ISO strings, blobs as base64."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

from botocore.model import Shape

# Response metadata a replay needs: the status, and what ClientError prints ("reached max retries: N").
KEPT_METADATA = ("HTTPStatusCode", "MaxAttemptsReached", "RetryAttempts")


_NON_JSON_TYPES = (datetime, bytes, bytearray, Decimal, set, frozenset)


def to_json(value: Any) -> Any:
    """A botocore value as plain JSON data (datetimes ISO, bytes base64, Decimals as numbers)."""
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, _NON_JSON_TYPES):
        return json_default(value)
    return value


def json_default(value: Any) -> Any:
    """`json.dumps` fallback giving the same JSON as `to_json` for botocore's non-JSON types."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(to_json(item) for item in value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def trim_metadata(parsed: dict[str, Any]) -> dict[str, Any]:
    """A parsed response with ResponseMetadata cut to what replay needs (no request ids, dates or headers)."""
    trimmed = dict(parsed)
    metadata = parsed.get("ResponseMetadata")
    if isinstance(metadata, dict):
        trimmed["ResponseMetadata"] = {key: metadata[key] for key in KEPT_METADATA if key in metadata}
    return trimmed


def from_json(value: Any, shape: Shape | None) -> Any:
    """A fresh copy of JSON data with botocore's parsed types rebuilt where `shape` says (timestamps, blobs)."""
    fresh = json.loads(json.dumps(value))  # a deep copy at C speed: the code under test may mutate what it gets
    if shape is None or fresh is None:
        return fresh
    return _convert(fresh, shape)


def _convert(value: Any, shape: Shape) -> Any:
    """Rebuild timestamps and blobs in place, walking only into shapes that contain any."""
    if not _has_typed_members(shape):
        return value
    type_name = shape.type_name
    if type_name == "structure" and isinstance(value, dict):
        members = shape.members
        for key, item in value.items():
            member = members.get(key)
            if member is not None and item is not None:
                value[key] = _convert(item, member)
    elif type_name == "list" and isinstance(value, list):
        value[:] = [_convert(item, shape.member) for item in value]
    elif type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            value[key] = _convert(item, shape.value)
    elif type_name == "timestamp" and isinstance(value, str):
        return datetime.fromisoformat(value)
    elif type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


_TYPED_ATTRIBUTE = "_harness_has_typed_members"


def _has_typed_members(shape: Shape) -> bool:
    """Whether a shape is, or contains, a timestamp or blob (memoized on the shape; recursion ends the search)."""
    known: bool | None = getattr(shape, _TYPED_ATTRIBUTE, None)
    if known is not None:
        return known
    setattr(shape, _TYPED_ATTRIBUTE, False)  # while in progress: a recursive reference adds nothing new
    type_name = shape.type_name
    if type_name in ("timestamp", "blob"):
        result = True
    elif type_name == "structure":
        result = any(_has_typed_members(member) for member in shape.members.values())
    elif type_name == "list":
        result = _has_typed_members(shape.member)
    elif type_name == "map":
        result = _has_typed_members(shape.value)
    else:
        result = False
    setattr(shape, _TYPED_ATTRIBUTE, result)
    return result
