"""Anonymising a recording: account ids, ExternalIds, host names, FQDNs, IPv4 and MAC addresses, instance ids.

Each real value is mapped to a stable fake of its kind, the same fake wherever it appears in the recording (alone,
inside an ARN, a DNS name or a JSON body), so the anonymised golden still replays: the code under test reads the
fakes from the recorded responses and sends them back in its calls exactly as it did the real values. Fakes are
assigned in the sorted order of the real values, so code that sorts ids or names sorts the fakes the same way.

Host names and ExternalIds are known by the fields that hold them (`hostname`, `fqdn`, `PrivateDnsName`,
`externalId`, ...; plain or in DynamoDB's wire form); the others by their shape. DynamoDB number attributes
(`{"N": "161061273600"}`, a disk size) are numbers, not ids, and stay as they are.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

# Fields whose string value is a host name or FQDN, and fields whose value is an ExternalId.
HOST_FIELDS = frozenset({"hostname", "hostName", "Hostname", "fqdn", "FQDN", "PrivateDnsName", "PublicDnsName"})
EXTERNAL_ID_FIELDS = frozenset({"externalId", "ExternalId", "external_id"})
_DYNAMODB_NUMBERS = frozenset({"N", "NS"})

# Values recognised by their shape, wherever they are: EC2's DNS names (they embed IPv4 addresses), MAC and IPv4
# addresses, instance ids and account ids (alone, or inside ARNs and other strings).
_SHAPES: dict[str, str] = {
    "host": r"(?<![\w.-])(?:ip|ec2)-\d{1,3}(?:-\d{1,3}){3}(?:\.[a-z0-9-]+)*(?![\w-])",
    "mac": r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])",
    "ip": r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)",
    "instance": r"(?<![\w-])i-[0-9a-f]{8,17}(?![\w-])",
    "account": r"(?<!\d)\d{12}(?!\d)",
}
_FOUND_BY_SHAPE = re.compile("|".join(f"(?P<{kind}>{pattern})" for kind, pattern in _SHAPES.items()))
_IDS = re.compile("|".join(pattern for kind, pattern in _SHAPES.items() if kind != "host"))
# Host names and ExternalIds are replaced as whole tokens (a DNS name is one token, dots and dashes included).
_TOKEN = re.compile(r"[\w.-]+")
_NAME_KINDS = frozenset({"host", "external"})


def _fake(kind: str, rank: int, real: str) -> str:
    """The fake value of a kind for the `rank`-th real value (1-based, in sorted order)."""
    if kind == "account":
        return f"{100000000000 + rank:012d}"
    if kind == "instance":
        return f"i-{rank:017x}"
    if kind == "ip":
        return f"10.{rank >> 16 & 255}.{rank >> 8 & 255}.{rank & 255}"
    if kind == "mac":
        return "02:00:" + ":".join(f"{rank >> shift & 255:02x}" for shift in (24, 16, 8, 0))
    if kind == "external":
        return f"external-id-{rank:05d}"
    return f"host-{rank:05d}.example.internal" if "." in real else f"host-{rank:05d}"


def _field_values(data: Any, fields: frozenset[str]) -> Iterator[str]:
    """Every string held by one of `fields`, plain (`"hostname": "x"`) or wire-form (`"hostname": {"S": "x"}`)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key in fields:
                if isinstance(value, str) and value:
                    yield value
                elif isinstance(value, dict) and isinstance(value.get("S"), str) and value["S"]:
                    yield value["S"]
            yield from _field_values(value, fields)
    elif isinstance(data, list):
        for item in data:
            yield from _field_values(item, fields)


def _strings(data: Any) -> Iterator[str]:
    """Every string in `data` (keys included) except DynamoDB number attributes."""
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(key, str):
                yield key
            if key not in _DYNAMODB_NUMBERS:
                yield from _strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from _strings(item)
    elif isinstance(data, str):
        yield data


class Anonymizer:
    """Learns every sensitive value of a recording, then replaces each with its fake wherever it appears."""

    def __init__(self, data: Any) -> None:
        """Collect the real values of `data` by field and by shape, and assign their fakes."""
        found: dict[str, set[str]] = {kind: set() for kind in ("external", "host", *_SHAPES)}
        found["external"].update(_field_values(data, EXTERNAL_ID_FIELDS))
        found["host"].update(_field_values(data, HOST_FIELDS))
        for text in _strings(data):
            for match in _FOUND_BY_SHAPE.finditer(text):
                found[str(match.lastgroup)].add(match.group(0))
        self.names: dict[str, str] = {}
        self.ids: dict[str, str] = {}
        for kind, values in found.items():
            mapping = self.names if kind in _NAME_KINDS else self.ids
            for rank, real in enumerate(sorted(values - set(self.names) - set(self.ids)), start=1):
                mapping[real] = _fake(kind, rank, real)

    @property
    def mapping(self) -> dict[str, str]:
        """Every real value learnt and its fake."""
        return {**self.names, **self.ids}

    def apply(self, data: Any) -> Any:
        """`data` with every learnt value replaced by its fake, keys included; DynamoDB numbers kept."""
        return _rewrite(data, self._replace)

    def _replace(self, text: str) -> str:
        """One string with its host names and ExternalIds (whole tokens), then its ids and addresses, replaced."""
        if self.names:
            text = _TOKEN.sub(lambda match: self.names.get(match.group(0), match.group(0)), text)
        if self.ids:
            text = _IDS.sub(lambda match: self.ids.get(match.group(0), match.group(0)), text)
        return text


def _rewrite(data: Any, replace: Callable[[str], str]) -> Any:
    """`data` with `replace` applied to every string (keys included) but DynamoDB number attributes."""
    if isinstance(data, dict):
        return {
            (replace(key) if isinstance(key, str) else key): (
                value if key in _DYNAMODB_NUMBERS else _rewrite(value, replace)
            )
            for key, value in data.items()
        }
    if isinstance(data, list):
        return [_rewrite(item, replace) for item in data]
    if isinstance(data, str):
        return replace(data)
    return data


def anonymized(data: Any) -> Any:
    """A recording's data with every sensitive value mapped to its stable fake (see the module docstring)."""
    return Anonymizer(data).apply(data)
