"""Scrubbing before anything is persisted: credentials to placeholders, secret-looking data refused, accounts mapped."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

PLACEHOLDER_PREFIX = "REDACTED-"
_SECRET_KEY_NAMES = re.compile(r"secret|password|sessiontoken|securitytoken|accesskeyid|privatekey", re.IGNORECASE)
_SECRET_VALUE = re.compile(
    r"(AKIA|ASIA)[A-Z0-9]{16}"  # IAM access key ids (long-term and temporary)
    r"|(FQoGZXIvYXdz|FwoGZXIvYXdz|IQoJb3JpZ2lu)"  # STS session token prefixes
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


class SecretFound(Exception):
    """Data about to be persisted still holds something key-, secret- or token-like."""


def scrub_credentials(credentials: dict[str, Any], number: int) -> dict[str, Any]:
    """An AssumeRole `Credentials` block with stable placeholders instead of the keys and token."""
    scrubbed = dict(credentials)
    for name in ("AccessKeyId", "SecretAccessKey", "SessionToken"):
        if name in scrubbed:
            scrubbed[name] = f"{PLACEHOLDER_PREFIX}{name}-{number:04d}"
    return scrubbed


# DynamoDB wire-form type tags of string values (`{"S": "..."}`): a secret-named attribute holds its value there.
_DYNAMODB_STRINGS = frozenset({"S", "SS"})


def find_secrets(data: Any, path: str = "$") -> Iterator[str]:
    """Paths of values that look like credentials (by field name or by shape) and are not placeholders.

    A field is secret-named by its own key, by its DynamoDB attribute name (`{"secretAccessKey": {"S": "..."}}`),
    or, in a tag (`{"Key": "aws_secret_access_key", "Value": "..."}`), by the tag's key. Data values that merely
    look like credentials are refused, not scrubbed: a golden must not hold them at all, and a reviewer decides.
    A path is spelt out only for what is found (a fleet's recording has millions of values, nearly all clean).
    """
    found: list[_Where] = []
    _collect(data, None, found)
    return iter([path + _spelt(where) for where in found])


# Where a value is: (where its container is, its key or index); None is the top.
_Where = tuple[Any, str | int] | None


def _collect(data: Any, where: _Where, found: list[_Where]) -> None:
    """Append to `found` where, inside `data` (itself at `where`), a secret-looking value is."""
    if isinstance(data, dict):
        tag_value = _secret_tag_value(data)
        for key, value in data.items():
            if key == "Value" and tag_value:
                found.append((where, key))
            elif _secret_named(str(key)) and _holds_secret(value):
                found.append(((where, key), next(iter(value))) if isinstance(value, dict) else (where, key))
            else:
                _collect(value, (where, key), found)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            _collect(value, (where, index), found)
    elif isinstance(data, str) and _SECRET_VALUE.search(data):
        found.append(where)


def _spelt(where: _Where) -> str:
    """`.key[index]...` from the top down to `where`."""
    parts: list[str] = []
    while where is not None:
        where, part = where
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(reversed(parts))


@functools.lru_cache(maxsize=4096)
def _secret_named(key: str) -> bool:
    """Whether a field name is secret-like (a recording repeats a few dozen names millions of times)."""
    return bool(_SECRET_KEY_NAMES.search(key))


def _holds_secret(value: Any) -> bool:
    """A secret-named field's value that is not a placeholder: a string, or a DynamoDB string attribute."""
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _DYNAMODB_STRINGS:
        value = next(iter(value.values()))
    if isinstance(value, list):
        return any(isinstance(item, str) and not _is_placeholder(item) for item in value)
    return isinstance(value, str) and not _is_placeholder(value)


def _secret_tag_value(data: dict[str, Any]) -> bool:
    """Whether `data` is a tag (`Key`/`Value`) whose key is secret-named and whose value is not a placeholder."""
    key, value = data.get("Key"), data.get("Value")
    return isinstance(key, str) and _secret_named(key) and isinstance(value, str) and not (_is_placeholder(value))


def refuse_secrets(data: Any, what: str) -> None:
    """Raise SecretFound naming every path in `data` that still looks secret."""
    found = list(find_secrets(data))
    if found:
        listed = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        raise SecretFound(f"{what}: refusing to write key-, secret- or token-like data at {listed}")


def _is_placeholder(value: str) -> bool:
    """Whether a credential-named value is already scrubbed (or empty)."""
    return value == "" or value.startswith(PLACEHOLDER_PREFIX)
