"""Reading an AWS request off the wire: service, region, signing key, operation and parameters."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# The services the world emulates, with the wire protocol each speaks.
PROTOCOLS: dict[str, str] = {"drs": "rest-json", "dynamodb": "json", "ec2": "ec2", "sts": "query", "iam": "query"}
JSON_ERROR_PREFIX = {"dynamodb": "com.amazonaws.dynamodb.v20120810"}

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")

# Headers the world itself understands. INTERNAL marks the world's own seeding and state reads, which bypass
# faults and latency; ACCOUNT pins the identity of such a request.
INTERNAL_HEADER = "x-world-internal"
ACCOUNT_HEADER = "x-world-account"
# On an internal request: answer with moto's result object (World.take_result) instead of serializing it.
RESULT_HEADER = "x-world-result"


class WireError(Exception):
    """A request the world cannot read: unsigned, or for a service it does not emulate."""


@dataclass
class WireRequest:
    """One AWS request as the world sees it, whichever adapter (in-process or HTTP) delivered it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    service: str
    region: str
    access_key: str
    operation: str
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        """The wire protocol of the request's service."""
        return PROTOCOLS[self.service]

    @property
    def internal(self) -> bool:
        """True for the world's own seeding and dump requests."""
        return self.headers.get(INTERNAL_HEADER) == "1"

    def aws_url(self) -> str:
        """The URL this request would have had against AWS, which moto routes on."""
        host = f"{self.service}.{self.region}.amazonaws.com"
        suffix = f"?{self.query}" if self.query else ""
        return f"https://{host}{self.path}{suffix}"


def read_request(method: str, path: str, query: str, headers: dict[str, Any], body: bytes) -> WireRequest:
    """Parse a raw request; raise WireError when it is unsigned or for a service the world does not emulate."""
    lowered = {str(key).lower(): _text(value) for key, value in headers.items()}
    match = _CREDENTIAL.search(lowered.get("authorization", ""))
    if not match:
        raise WireError(f"{method} {path}: the request is not SigV4-signed, so the world cannot tell who sent it")
    access_key, region, service = match.groups()
    if service not in PROTOCOLS:
        raise WireError(f"{method} {path}: service {service!r} is not emulated (the world speaks {sorted(PROTOCOLS)})")
    operation, params = _operation_and_params(service, path, lowered, body)
    return WireRequest(method, path, query, lowered, body, service, region, access_key, operation, params)


def _text(value: str | bytes) -> str:
    """A header value as text (botocore keeps some as bytes)."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _operation_and_params(service: str, path: str, headers: dict[str, str], body: bytes) -> tuple[str, dict[str, Any]]:
    """Find the operation name and decoded parameters the way each protocol carries them."""
    protocol = PROTOCOLS[service]
    if protocol == "json":
        target = headers.get("x-amz-target", "")
        return target.rsplit(".", 1)[-1], _json_body(body)
    if protocol in ("query", "ec2"):
        form = {key: values[0] for key, values in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
        return form.get("Action", ""), dict(form)
    return path.rstrip("/").rsplit("/", 1)[-1], _json_body(body)


def _json_body(body: bytes) -> dict[str, Any]:
    """Decode a JSON request body, tolerating an empty or unreadable one (the service will reject it)."""
    if not body:
        return {}
    try:
        decoded = json.loads(body)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}
